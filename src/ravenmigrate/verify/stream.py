"""Verify's reading of the server's documents: all of them in the order they were stored (``GET
/docs?etag=0``, oldest first, which is the order a load or import wrote them: verify joins them with
the source as both come; ``/streams/docs`` gives them newest first), split into documents as they
arrive (the ``jsonsplit`` twin), a read at a time, and the ``@metadata`` of a document verify looks
at one by one (docs/loading.md "Verify"; the endpoints: docs/formats/import-4x.md §10).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from typing import Any

from .. import _twins
from ..errors import ServerError
from ..sinks.server.client import RavenClient, answered
from ..sinks.server.http import db_path
from .digests import server_metadata

_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")

READ_SIZE = 1 << 20
EVERY_DOCUMENT = "docs?etag=0&start=0&pageSize=2147483647"  # oldest first, streamed (§10)
AHEAD = 32 << 20  # bytes of the response read ahead of the caller, at most


class DocumentStream:
    """``GET /docs?etag=0`` (every document, oldest first), asked for at once and read on its own
    thread (``verify-stream``) up to :data:`AHEAD` bytes ahead of the caller, so the server writes
    it while the caller starts up or waits for the source (docs/loading.md "Verify"). Iterated, the
    documents a read at a time: ``(buffer, spans, offset, where)``, the ``(start, end, metadata
    start, metadata end)`` of each complete document in the buffer (valid until the next batch is
    asked for), the response offset of ``buffer[0]`` and the request, for messages. The metadata is
    not parsed here (:func:`metadata` does). :meth:`close` (or leaving the ``with`` block) before
    the end closes the client's connection, which a half-read response leaves unusable."""

    def __init__(self, client: RavenClient, database: str) -> None:
        self.client = client
        self.path = db_path(database, EVERY_DOCUMENT)
        self.where = f"GET {client.url}{self.path}"
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._ended = self._stopped = False  # the response's end was taken; close() was called
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        try:
            self._conn = conn = client._connection()
            conn.request("GET", self.path)
            self._resp = conn.getresponse()
        except (OSError, ConnectionError, http.client.HTTPException) as exc:
            client.close()
            raise client.failure("GET", self.path, exc) from exc
        if self._resp.status != 200:
            raise answered("GET", client.url + self.path, self._resp.status, self._resp.read())
        self._reader = threading.Thread(target=self._read, name="verify-stream", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """The reader thread: the response's chunks in order, then b"" (or the error that stopped it)."""
        try:
            while True:
                chunk = self._resp.read(READ_SIZE)
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
        except BaseException as exc:  # handed to the caller by _next
            with self._changed:
                self._error = exc
                self._changed.notify_all()

    def _next(self) -> bytes:
        with self._changed:
            if self._ended:
                return b""
            self._changed.wait_for(lambda: self._chunks or self._error is not None)
            if not self._chunks:
                error = self._error
                self.client.close()
                if isinstance(error, (OSError, ConnectionError, http.client.HTTPException)):
                    raise self.client.failure("GET", self.path, error) from error
                raise error
            chunk = self._chunks.popleft()
            self._ended = not chunk
            self._size -= len(chunk)
            self._changed.notify_all()
            return chunk

    def __iter__(self) -> Iterator[tuple[bytearray, list, int, str]]:
        where = self.where
        scanner = _split.Scanner()
        buf = bytearray()
        pos = -1  # before the Results array
        read = 0  # bytes of the response before buf[0]
        while True:
            chunk = self._next()
            if pos > 0:
                del buf[:pos]
                read += pos
                pos = 0
            buf += chunk
            if pos < 0:
                start = buf.find(b"[")
                if start < 0:
                    if not chunk:
                        raise ServerError(f"{where}: no Results array")
                    continue
                pos = start + 1
            pos, done = yield from _batches(scanner, buf, pos, where, read)
            if done:
                break
            if not chunk:
                raise ServerError(f"{where}: truncated document stream at byte {read + pos}")
        while self._next():  # the rest of the response, so the connection can be used again
            pass
        self._reader.join()

    def close(self) -> None:
        """Stop reading; a response not read to its end closes the client's connection."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._reader.is_alive():
            sock = getattr(self._conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a read in progress (closing alone does not)
            self.client.close()
            self._reader.join()

    def __enter__(self) -> DocumentStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def stream_batches(client: RavenClient, database: str) -> Iterator[tuple[bytearray, list, int, str]]:
    """The batches of a :class:`DocumentStream`, asked for when the first one is."""
    with DocumentStream(client, database) as stream:
        yield from stream


def _batches(scanner, buf: bytearray, pos: int, where: str, read: int):
    """Yield the spans of the complete documents of *buf* from *pos*, as :func:`stream_batches` does;
    ``(position, whether "]" ended the array)``."""
    n = len(buf)
    while True:
        items, pos = scanner.scan_items(buf, pos, 1 << 30)  # every complete document followed by ","
        if items:
            yield buf, items, read, where
        p = pos
        while p < n and buf[p] in b" \t\r\n":
            p += 1
        if p >= n:
            return pos, False
        if buf[p] == 0x5D:
            return p + 1, True
        if buf[p] != 0x7B:
            raise ServerError(f"{where}: invalid JSON at byte {read + p} of the response")
        scanner.reset(p)  # the last document, or one that continues in the next read
        try:
            end = scanner.scan(buf, False)
        except _split.ScanError as exc:
            raise ServerError(f"{where}: invalid JSON at byte {read + p} of the response ({exc})") from None
        if end < 0:
            return pos, False
        q = end
        while q < n and buf[q] in b" \t\r\n":
            q += 1
        if q >= n:
            return pos, False  # whether "," or "]" follows is in the next read
        if buf[q] not in b",]":
            raise ServerError(f"{where}: invalid JSON at byte {read + q} of the response")
        yield buf, [(p, end, scanner.meta_start, scanner.meta_end)], read, where
        if buf[q] == 0x5D:
            return q + 1, True
        pos = q + 1


def metadata(buf: bytearray, start: int, ms: int, me: int, where: str, read: int) -> dict[str, Any]:
    """The parsed ``@metadata`` of the server's document at ``buf[start:]`` whose metadata value is
    ``buf[ms:me]`` (``ms`` < 0: none); a located :class:`ServerError` when it is not an object."""
    try:
        metadata = server_metadata(memoryview(buf)[ms:me]) if ms >= 0 else None
    except ValueError as exc:
        raise ServerError(f"{where}: invalid @metadata at byte {read + ms} of the response ({exc})") from None
    if not isinstance(metadata, dict):
        raise ServerError(f"{where}: a document without a @metadata object at byte {read + start} of the response")
    return metadata


def one_document(client: RavenClient, database: str, doc_id: str) -> tuple[bytes, int, int, int, int] | None:
    """The server's document *doc_id* as it stores it (``GET /docs?id=``; the raw bytes, as the stream
    gives them): ``(data, start, end, meta_start, meta_end)`` as :func:`stream_batches` spans it, or
    None when the server does not hold it."""
    q = urllib.parse.urlencode({"id": doc_id})
    path = db_path(database, f"docs?{q}")
    status, data = client.request("GET", path, ok=(200, 404))
    where = f"GET {client.url}{path}"
    if status == 404:
        return None
    start = data.find(b"[")
    p = start + 1
    while 0 < p < len(data) and data[p] in b" \t\r\n":
        p += 1
    if start < 0 or p >= len(data) or data[p] not in b"{]":
        raise ServerError(f"{where}: no Results array")
    if data[p] == 0x5D:
        return None
    scanner = _split.Scanner()
    scanner.reset(p)
    try:
        end = scanner.scan(data, True)
    except _split.ScanError as exc:
        raise ServerError(f"{where}: invalid JSON at byte {p} of the response ({exc})") from None
    if end < 0:
        raise ServerError(f"{where}: truncated document at byte {p} of the response")
    return data, p, end, scanner.meta_start, scanner.meta_end
