"""Verify's reading of the server's documents (``answer.every_document``, oldest first): split into
documents as they arrive (the ``jsonsplit`` twin), a read at a time, and the ``@metadata`` of a
document verify looks at one by one (docs/loading.md "Verify"; the endpoints:
docs/formats/import-4x.md §10).
"""

from __future__ import annotations

import urllib.parse
from array import array
from collections.abc import Iterator
from typing import Any

from .. import _twins
from ..errors import ServerError
from ..sinks.server.client import RavenClient
from ..sinks.server.http import db_path
from .answer import Answer, Ranges, every_document
from .digests import server_metadata

_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")


def documents(answer: Answer) -> Iterator[tuple[bytearray, array, int, str]]:
    """The documents of *answer* (a ``{"Results":[...]}`` stream) a read at a time: ``(buffer,
    spans, offset, where)``: ``start, end, metadata start, metadata end`` of each complete document
    in the buffer, one after the other in an ``array('q')`` (``Scanner.scan_spans``: no Python
    object per document; valid until the next batch is asked for), the answer's offset of
    ``buffer[0]`` and the request, for messages. The metadata is not parsed here (:func:`metadata`
    does)."""
    where = answer.where
    scanner = _split.Scanner()
    buf = bytearray()
    pos = -1  # before the Results array
    read = 0  # bytes of the answer before buf[0]
    while True:
        chunk = answer.next()
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
    while answer.next():  # the rest of the answer, so the connection can be used again
        pass


def batches(answer: Answer | Ranges) -> Iterator[tuple[bytearray, array, int, str]]:
    """:func:`documents` of one answer, or of every range of *answer* in turn (:class:`Ranges`: the
    same batches, one range after the other, each range's offsets its own)."""
    if isinstance(answer, Answer):
        yield from documents(answer)
        return
    count = None
    while (one := answer.take(count)) is not None:
        count = 0
        for batch in documents(one):
            count += len(batch[1]) // 4
            yield batch


def stream_batches(client: RavenClient, database: str) -> Iterator[tuple[bytearray, array, int, str]]:
    """:func:`documents` of every document of *database*, asked for when the first batch is."""
    with every_document(client, database) as answer:
        yield from documents(answer)


def _batches(scanner, buf: bytearray, pos: int, where: str, read: int):
    """Yield the spans of the complete documents of *buf* from *pos*, as :func:`stream_batches` does;
    ``(position, whether "]" ended the array)``."""
    n = len(buf)
    while True:
        spans, pos = scanner.scan_spans(buf, pos, 1 << 30)  # every complete document followed by ","
        if spans:
            yield buf, spans, read, where
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
        yield buf, array("q", (p, end, scanner.meta_start, scanner.meta_end)), read, where
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
