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

from ...rejects import Rejects, shorten
from .checkpoint import Checkpoint
from .client import RavenClient
from .http import PermanentError, Retry
from .target import Target
from .topology import Topology

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
    """One connection: take item batches from :attr:`queue`, send operations, checkpoint them.

    The connection goes to the node :attr:`topology` gives this stream; after a transient failure
    the stream asks the topology for a node again (another member when the cluster has one)
    before re-sending. Acknowledgements count items of the stream whatever node took them: every
    member holds the same database."""

    def __init__(self, index: int, target: Target | str, sender: Sender, checkpoint: Checkpoint, stats: Stats,
                 limits: Limits, retry_for: float, failed: threading.Event,
                 log: Callable[[str], None], queue_batches: int = 64, topology: Topology | None = None,
                 rejects: Rejects | None = None) -> None:
        super().__init__(name=f"ravenmigrate-stream-{index}", daemon=True)
        self.index = index
        self.rejects = rejects
        self.target = target if isinstance(target, Target) else Target.parse(target)
        self.topology = topology
        self.url = topology.node_for(index) if topology else self.target.url
        self.nodes_used = [self.url]
        self.client: RavenClient = self.target.client(self.url)
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
                    self._failover()

                items, size = self._send(op, Retry(self.retry_for, on_retry))
                self.checkpoint.acknowledge(self.index, items, size)
                self.stats.acknowledged(sum(i.documents for i in op.items), size, time.monotonic() - started)
                self.operation = None
                number += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            self.error = exc
            self.failed.set()
        finally:
            self.client.close()

    def _send(self, op: Operation, retry: Retry) -> tuple[int, int]:
        """Send *op* until the server acknowledged it. When the server rejects it and ``--max-rejects``
        allows, the rejected document is written to the rejects with the server's message and the
        rest is sent again: the document the server named, else the one document of a part found by
        halving the operation (puts and deletes by id are idempotent, so re-sent items do no harm).
        Returns the items and bytes the operation stands for, rejected ones included (the
        checkpoint counts them as done)."""
        try:
            retry.run(lambda: self.sender.send(self.client, op))
        except PermanentError as exc:
            op.closed = True
            if not self._may_reject():
                raise
            self._isolate(op.items, exc, retry, op.number)
        op.closed = True
        return len(op.items), op.size

    def _may_reject(self) -> bool:
        return self.rejects is not None and self.rejects.allows_one_more()

    def _isolate(self, items: list[Item], exc: PermanentError, retry: Retry, number: int) -> None:
        """*items* were refused with *exc*: reject the culprit, send the others (recursively)."""
        keys = list(dict.fromkeys(i.key for i in items))
        if exc.document_id in keys or len(keys) == 1:
            culprit = exc.document_id if exc.document_id in keys else keys[0]
            self._reject([i for i in items if i.key == culprit], exc)
            self.log(f"stream {self.index}, operation {number}: the server rejected {shorten(culprit)!r}; written "
                     "to the rejects, sending the rest again")
            parts = [[i for i in items if i.key != culprit]]
        else:
            half = set(keys[: len(keys) // 2])
            parts = [[i for i in items if i.key in half], [i for i in items if i.key not in half]]
        for part in parts:
            if not part:
                continue
            sub = Operation(self.index, number)
            for item in part:
                sub.add(item)
            try:
                retry.run(lambda sub=sub: self.sender.send(self.client, sub))
            except PermanentError as again:
                if not self._may_reject():
                    raise
                self._isolate(part, again, retry, number)

    def _reject(self, items: list[Item], exc: PermanentError) -> None:
        for item in items:
            payload = item.payload
            raw = payload if isinstance(payload, bytes) else getattr(payload, "data", None)
            self.rejects.add("server-rejected", str(exc), None, item.key, raw if isinstance(raw, bytes) else None)
    def _failover(self) -> None:
        """Move to the node the refreshed topology gives (the same one on a one-node cluster)."""
        if self.topology is None:
            return
        url = self.topology.failover(self.index, self.url)
        if url != self.url:
            self.log(f"stream {self.index}: {self.url} failed; continuing on {url}")
            self.client.close()
            self.url = url
            self.client = self.target.client(url)
            self.nodes_used.append(url)

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
