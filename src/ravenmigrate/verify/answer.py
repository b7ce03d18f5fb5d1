"""The server's documents as verify asks for them: every one, oldest first (``GET /docs?etag=0``,
the order a load or import wrote them; ``/streams/docs`` gives them newest first), one streamed
answer read on its own thread ahead of the reader, or consecutive ranges of that order read
several at once (:class:`Ranges`; docs/loading.md "Verify"; the endpoint:
docs/formats/import-4x.md §10).

This module imports only the HTTP client: the command line asks for the documents first, so the
server writes them while the rest of verify is imported and the source is opened.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import ServerError
from ..sinks.server.client import RavenClient, answered
from ..sinks.server.http import db_path

READ_SIZE = 1 << 20
EVERY_DOCUMENT = "docs?etag=0&start=0&pageSize=2147483647"  # oldest first, streamed (§10)
AHEAD = 32 << 20  # bytes of the answer read ahead of the reader, at most
RANGE_BYTES = 32 << 20  # about what a range of Ranges holds (its documents' size from the server's stats)
MAX_RANGES = 256  # at most this many ranges: each skips the documents before it (cheap, but not free)
MIN_RANGE = 1000  # documents
MAX_AHEAD = 256 << 20  # a range read ahead holds at most this much


class Answer:
    """One streamed answer: asked for at once, read on its own thread (``verify-stream``) up to
    *ahead* bytes (:data:`AHEAD`) ahead of :meth:`next`, which gives it a read at a time, then b"". A transport
    failure (a cut connection, a truncated chunked answer) is raised by :meth:`next` as the client's
    located ServerError. :meth:`close` (or leaving the ``with`` block) before the end closes the
    client's connection, which a half-read answer leaves unusable."""

    def __init__(self, client: RavenClient, path: str, ahead: int | None = None) -> None:
        self.client, self.path = client, path
        self.ahead = AHEAD if ahead is None else ahead
        self.where = f"GET {client.url}{path}"
        self._chunks: deque[memoryview | bytes] = deque()
        self._free: list[bytearray] = []  # buffers the caller is done with
        self._given: memoryview | None = None  # the read the caller has
        self._received = 0  # bytes of the answer's body read so far
        self._size = 0
        self._ended = self._stopped = False  # the answer's end was taken; close() was called
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        try:
            self._conn = conn = client._connection()
            conn.request("GET", path)
            self._resp = conn.getresponse()
        except (OSError, ConnectionError, http.client.HTTPException) as exc:
            client.close()
            raise client.failure("GET", path, exc) from exc
        if self._resp.status != 200:
            raise answered("GET", client.url + path, self._resp.status, self._resp.read())
        self._reader = threading.Thread(target=self._read, name="verify-stream", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """The reader thread: the answer's chunks in order, then b"" (or the error that stopped it).
        Each read goes straight into a buffer of :data:`READ_SIZE` bytes (``readinto``: no joining of
        the answer's 64 KB HTTP chunks into a new object), one the caller is done with when there is."""
        size = READ_SIZE
        try:
            while True:
                with self._changed:
                    block = self._free.pop() if self._free else bytearray(size)
                n = self._resp.readinto(block)
                self._received += n
                chunk = memoryview(block)[:n] if n else b""
                with self._changed:
                    while self._size > self.ahead and not self._stopped:
                        self._changed.wait()
                    if self._stopped:
                        return
                    self._chunks.append(chunk)
                    self._size += len(chunk)
                    self._changed.notify_all()
                if not chunk:
                    return
        except BaseException as exc:  # handed to the reader by next()
            with self._changed:
                self._error = exc
                self._changed.notify_all()

    def next(self) -> bytes | memoryview:
        """The next read of the answer (valid until the next call); b"" at its end."""
        with self._changed:
            if self._given is not None:  # the caller is done with the last one: its buffer is read into again
                self._free.append(self._given.obj)
                self._given.release()
                self._given = None
            if self._ended:
                return b""
            self._changed.wait_for(lambda: self._chunks or self._error is not None)
            if not self._chunks:
                error = self._error
                self.client.close()
                if isinstance(error, http.client.IncompleteRead):
                    raise ServerError(f"{self.where}: the connection ended inside the answer, after about "
                                      f"{self._received + len(error.partial):,} bytes of it ({error!r})",
                                      url=self.client.url + self.path) from error
                if isinstance(error, (OSError, ConnectionError, http.client.HTTPException)):
                    raise self.client.failure("GET", self.path, error) from error
                raise error
            chunk = self._chunks.popleft()
            self._ended = not chunk
            self._size -= len(chunk)
            if chunk:
                self._given = chunk
            self._changed.notify_all()
            return chunk

    def close(self) -> None:
        """Stop reading; an answer not read to its end closes the client's connection."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._reader.is_alive() or not self._ended:
            sock = getattr(self._conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a read in progress (closing alone does not)
            self.client.close()
        self._reader.join()

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def every_document(client: RavenClient, database: str) -> Answer:
    """Every document of *database*, oldest first, asked for now."""
    return Answer(client, db_path(database, EVERY_DOCUMENT))


def range_path(database: str, start: int, size: int) -> str:
    """The documents ``start`` to ``start + size`` of the oldest-first order (``start`` skips entries of
    the server's etag index, next to no cost: docs/loading.md "Verify")."""
    return db_path(database, f"docs?etag=0&start={start}&pageSize={size}")


class Ranges:
    """Every document of *database*, oldest first, as consecutive ranges of *size* documents, up to
    *streams* of them asked for at once, each an :class:`Answer` on its own connection (*connect*
    gives a new client) read ahead up to *ahead* bytes. :meth:`take` gives the ranges in order and
    asks for the one *streams* further; the range after one with fewer than *size* documents is the
    end. Each range is read in its own transaction of the server: for a database nobody writes to
    while verify runs (one answer is one snapshot). *client*: verify's own client, for its other
    requests; no range uses it."""

    def __init__(self, client: RavenClient, connect: Callable[[], RavenClient], database: str, streams: int,
                 size: int, ahead: int | None = None) -> None:
        if streams < 1 or size < 1:
            raise ValueError(f"ranges need streams >= 1 and size >= 1, not {streams} and {size}")
        self.client, self.connect, self.database = client, connect, database
        self.streams, self.size, self.ahead = streams, size, ahead
        self._open: deque[Answer] = deque()
        self._next = 0  # the start of the next range to ask for
        self._ended = False
        try:
            self._fill()
        except BaseException:
            self.close()
            raise

    def _fill(self) -> None:
        while len(self._open) < self.streams:
            client = self.connect()
            try:
                self._open.append(Answer(client, range_path(self.database, self._next, self.size), self.ahead))
            except BaseException:
                client.close()
                raise
            self._next += self.size

    def take(self, last_count: int | None) -> Answer | None:
        """The next range's answer (None at the end); *last_count*: the documents of the range taken
        before (None for the first)."""
        if last_count is not None:
            done = self._open.popleft()
            done.close()
            done.client.close()
            if last_count < self.size:
                self._ended = True
        if self._ended:
            self.close()
            return None
        self._fill()
        return self._open[0]

    def close(self) -> None:
        """Stop every range still asked for and close their connections."""
        while self._open:
            answer = self._open.popleft()
            answer.close()
            answer.client.close()

    def __enter__(self) -> Ranges:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def ask(client: RavenClient, connect: Callable[[], RavenClient], database: str, streams: int) -> Answer | Ranges:
    """Every document of *database*, asked for now: one answer on *client* (:func:`every_document`), or
    with *streams* > 1 ranges read that many at once (:func:`every_document_in_ranges`)."""
    if streams > 1:
        return every_document_in_ranges(client, connect, database, streams)
    return every_document(client, database)


def every_document_in_ranges(client: RavenClient, connect: Callable[[], RavenClient], database: str,
                             streams: int, size: int | None = None) -> Ranges:
    """Every document of *database* in :class:`Ranges` of *size* documents (default: about
    :data:`RANGE_BYTES` each by the server's stats, at least :data:`MIN_RANGE` and at most
    :data:`MAX_RANGES` ranges), *streams* read at once."""
    ahead = None
    if size is None:
        stats = client.stats(database)
        count = max(int(stats.get("CountOfDocuments") or 0), 1)
        on_disk = int((stats.get("SizeOnDisk") or {}).get("SizeInBytes") or 0)
        per_document = max(on_disk // count, 1)  # more than a document's JSON: the database's whole size
        size = max(MIN_RANGE, math.ceil(count / MAX_RANGES), RANGE_BYTES // per_document)
        ahead = min(max(AHEAD, size * per_document), MAX_AHEAD)
    return Ranges(client, connect, database, streams, size, ahead)
