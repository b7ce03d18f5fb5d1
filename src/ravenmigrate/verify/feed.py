"""Verify's two sides side by side: the source converted on its own thread (:class:`SourceFeed`)
while the main thread reads the server's stream, and the server's documents that come before
their expected entries (:class:`EarlyDocuments`). docs/loading.md "Verify" has the join and what
it costs.

Everything the two threads share (the expected entries, the ``digests.Join``) changes under the
feed's ``lock`` only: the source thread takes it for each converted record, the main thread for
each read of the stream and each document it decides; the main thread waits on ``changed`` when
it has read too far ahead of the source.
"""

from __future__ import annotations

import threading
from array import array
from typing import Any

from ..threads import run_behind
from .expected import Expected, expected_from

# The source's threads (this one and its inflate thread) run behind the main thread, which reads
# the server's stream, the critical path: where the cores are busy, they yield to it and to the
# server (docs/loading.md "Verify"); where the source is the slower side, the main thread waits
# for it and it has the cores.
SOURCE_NICENESS = 10


class _Cancelled(Exception):
    """Raised in the source thread when verify stops before the source is read."""


class SourceFeed(threading.Thread):
    """``expected_from`` of the source into *expected*, on its own thread. ``done`` once every
    record is in; ``finish`` waits for that and raises what the source raised (its located error)."""

    def __init__(self, expected: Expected, source: str, bulk: bool, convert_options: Any, selection: Any,
                 source_options: dict[str, Any]) -> None:
        super().__init__(name="verify-source", daemon=True)
        self.expected = expected
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)  # notified when documents the stream waits for come
        self.done = False
        self.added = 0  # converted records in so far
        self.error: BaseException | None = None
        self._cancelled = False
        self._args = (source, bulk, convert_options, selection)
        self._source_options = source_options

    def add(self, conv: Any, bulk: bool) -> None:
        """One converted record into the expected entries (``expected_from`` calls it)."""
        if self._cancelled:
            raise _Cancelled
        with self.changed:
            self.expected.add(conv, bulk)
            self.added += len(conv.results) if hasattr(conv, "results") else 1
            self.changed.notify()

    def run(self) -> None:
        if threading.current_thread() is self:  # not when a caller runs the feed on its own thread
            run_behind(SOURCE_NICENESS)
        try:
            self.put_all()
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the main thread by finish()
            self.error = exc
        finally:
            with self.changed:
                self.done = True
                self.changed.notify()

    def put_all(self) -> None:
        """Every record of the source into the expected entries (on this thread: :meth:`run`)."""
        expected_from(*self._args, into=self, **self._source_options)

    def wait_for(self, low: str, count: int) -> None:
        """Wait until the source has put the document *low* (or done it, or put *count* more records
        without it: then the two sides are not in the same order here)."""
        documents = self.expected.documents
        with self.changed:
            target = self.added + count
            self.changed.wait_for(lambda: self.done or low in documents or self.added >= target)

    def finish(self) -> None:
        """Wait until the source is read; raise its error, if any."""
        self.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Stop reading the source (at its next record) and wait for the thread."""
        self._cancelled = True
        if self.is_alive():
            self.join()


class EarlyDocuments:
    """Copies of the server's documents whose expected entries have not come yet. ``spans`` (the
    ``digests.Join``'s ``early``) maps a lower-cased id to ``(data, meta_start, meta_end)``, the
    document's bytes and where its ``@metadata`` value lies in them; ``size`` is their bytes."""

    def __init__(self, spans: dict[str, Any]) -> None:
        self.spans = spans
        self.size = 0

    def keep(self, low: str, buf: Any, start: int, end: int, ms: int, me: int) -> None:
        self.spans[low] = (bytes(memoryview(buf)[start:end]), ms - start if ms >= 0 else ms, me - start)
        self.size += end - start

    def take(self, lows: Any) -> tuple[bytes, array]:
        """The documents of *lows* still waiting, no longer waiting: one buffer and the spans of each
        in it, packed as a read of the stream gives them (``stream.documents``)."""
        parts, spans, at = [], array("q"), 0
        for low in lows:
            kept = self.spans.pop(low, None)
            if kept is not None:
                data, ms, me = kept
                parts.append(data)
                spans.extend((at, at + len(data), ms + at if ms >= 0 else ms, me + at))
                at += len(data)
        self.size -= at
        return b"".join(parts), spans
