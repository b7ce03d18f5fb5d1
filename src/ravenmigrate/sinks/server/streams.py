"""Parallel streams: each owns a connection and a queue, groups its items into operations of
bounded size, sends each (re-sending it on transient failures) and checkpoints it once the server
acknowledged it.

Items are routed to streams by document id (:func:`route`), so every item touching one document
goes through the same stream, in source order (a put before its attachment, a delete after the
put it undoes).
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .checkpoint import Checkpoint
from .client import RavenClient
from .http import PermanentError, Retry

END = None


def route(doc_id: str, streams: int) -> int:
    """The stream that carries everything about *doc_id* (ids are case-insensitive in 4.x)."""
    if streams == 1:
        return 0
    return zlib.crc32(doc_id.lower().encode("utf-8", "surrogatepass")) % streams


@dataclass(slots=True)
class Item:
    """One unit of stream work: ``kind`` is transport-specific, ``key`` the document id."""

    kind: str
    key: str
    payload: Any
    size: int
    documents: int = 1


class Operation:
    """One acknowledged unit of a stream. Its items are pulled lazily while the request body is
    being sent (:meth:`iter_items`), so the server works while the source is still being read; once
    an attempt ends (sent, or failed) the operation is closed and a retry re-sends exactly the
    items it holds."""

    def __init__(self, stream: int, number: int, pull: Callable[[Operation], Item | None] | None = None) -> None:
        self.stream = stream
        self.number = number
        self.items: list[Item] = []
        self.size = 0
        self.kinds: set[str] = set()
        self._pull = pull
        self.closed = pull is None

    def add(self, item: Item) -> None:
        self.items.append(item)
        self.size += item.size
        self.kinds.add(item.kind)

    def iter_items(self) -> Iterator[Item]:
        """The items held, then (first attempt only) more from the stream until the operation is full."""
        yield from list(self.items)
        try:
            while not self.closed:
                item = self._pull(self)
                if item is None:
                    break
                self.add(item)
                yield item
        finally:
            self.closed = True


@dataclass(frozen=True)
class Limits:
    """Bounds of one operation: at most ``items`` items and about ``size`` bytes."""

    items: int = 20_000
    size: int = 16 << 20


class Sender(Protocol):
    def fits(self, op: Operation, item: Item) -> bool: ...

    def send(self, client: RavenClient, op: Operation) -> None: ...


class Stats:
    """Counters shared by the streams and read by the progress display (updates under a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.documents = 0
        self.bytes = 0
        self.operations = 0
        self.retries = 0
        self.send_seconds = 0.0

    def acknowledged(self, documents: int, size: int, seconds: float) -> None:
        with self.lock:
            self.documents += documents
            self.bytes += size
            self.operations += 1
            self.send_seconds += seconds


class Stream(threading.Thread):
    """One connection: take item batches from :attr:`queue`, send operations, checkpoint them."""

    def __init__(self, index: int, url: str, sender: Sender, checkpoint: Checkpoint, stats: Stats,
                 limits: Limits, retry_for: float, failed: threading.Event,
                 log: Callable[[str], None], queue_batches: int = 64) -> None:
        super().__init__(name=f"ravenmigrate-stream-{index}", daemon=True)
        self.index = index
        self.client = RavenClient(url)
        self.sender = sender
        self.checkpoint = checkpoint
        self.stats = stats
        self.limits = limits
        self.retry_for = retry_for
        self.failed = failed
        self.log = log
        self.queue: queue.Queue[list[Item] | None] = queue.Queue(queue_batches)
        self.error: BaseException | None = None
        self.operation: Operation | None = None
        self._pending: list[Item] = []
        self._pos = 0
        self._ended = False

    def run(self) -> None:
        number = 0
        try:
            while True:
                first = self._next(None)
                if first is None:
                    break
                op = Operation(self.index, number, self._next)
                op.add(first)
                self.operation = op
                started = time.monotonic()

                def on_retry(err: Exception, delay: float, op: Operation = op) -> None:
                    self.stats.retries += 1
                    self.log(f"stream {self.index}, operation {op.number}: {err}; retrying in {delay:.1f} s")

                Retry(self.retry_for, on_retry).run(lambda op=op: self.sender.send(self.client, op))
                op.closed = True
                self.checkpoint.acknowledge(self.index, len(op.items), op.size)
                self.stats.acknowledged(sum(i.documents for i in op.items), op.size, time.monotonic() - started)
                self.operation = None
                number += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            self.error = exc
            self.failed.set()
        finally:
            self.client.close()

    def _next(self, op: Operation | None) -> Item | None:
        """The next item of this stream for *op* (``None`` when *op* is full or the stream ended)."""
        if self._pos >= len(self._pending):
            if self._ended:
                return None
            batch = self.queue.get()
            if batch is END:
                self._ended = True
                return None
            self._pending, self._pos = batch, 0
        item = self._pending[self._pos]
        if op is not None and op.items and (len(op.items) >= self.limits.items
                                            or op.size + item.size > self.limits.size
                                            or not self.sender.fits(op, item)):
            return None
        self._pos += 1
        return item


def permanent(stream: int, op: Operation, message: str, document_id: str | None = None) -> PermanentError:
    """A PermanentError naming the stream, operation and (when known) the rejected document."""
    where = f"stream {stream}, operation {op.number} ({len(op.items)} items from {op.items[0].key!r})"
    doc = f" at document {document_id!r}" if document_id else ""
    return PermanentError(f"{where}: server rejected the data{doc}: {message}", document_id=document_id)
