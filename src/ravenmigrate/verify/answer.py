"""The server's documents as verify asks for them: every one, oldest first (``GET /docs?etag=0``,
the order a load or import wrote them; ``/streams/docs`` gives them newest first), one streamed
answer read on its own thread ahead of the reader (docs/loading.md "Verify"; the endpoint:
docs/formats/import-4x.md §10).

This module imports only the HTTP client: the command line asks for the documents first, so the
server writes them while the rest of verify is imported and the source is opened.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections import deque
from typing import Any

from ..errors import ServerError
from ..sinks.server.client import RavenClient, answered
from ..sinks.server.http import db_path

READ_SIZE = 1 << 20
EVERY_DOCUMENT = "docs?etag=0&start=0&pageSize=2147483647"  # oldest first, streamed (§10)
AHEAD = 32 << 20  # bytes of the answer read ahead of the reader, at most


class Answer:
    """One streamed answer: asked for at once, read on its own thread (``verify-stream``) up to
    :data:`AHEAD` bytes ahead of :meth:`next`, which gives it a read at a time, then b"". A transport
    failure (a cut connection, a truncated chunked answer) is raised by :meth:`next` as the client's
    located ServerError. :meth:`close` (or leaving the ``with`` block) before the end closes the
    client's connection, which a half-read answer leaves unusable."""

    def __init__(self, client: RavenClient, path: str) -> None:
        self.client, self.path = client, path
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
                    while self._size > AHEAD and not self._stopped:
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
