"""Transport ``import``: the server's own ``POST /smuggler/import`` (docs/formats/import-4x.md §2) fed with a
stream generated on the fly, one import per operation, over parallel streams.

Each operation is one multipart request whose gzip file parts hold a legacy (3.x-layout) dump:
converted documents in ``Docs`` with ``@id`` and ``@last-modified`` put back into their metadata
(the legacy path keeps ``@last-modified``, sets ``@hilo``, and stores no extra revision for a
document marked ``Raven-Document-Revision-Status: Current``, §3-§4), legacy ``Attachments`` (so
the server builds the ``files/{Key}`` documents itself, §6), ``DocsDeletions`` (§5). Legacy
revisions go in a 4.x-layout part (``BuildVersion`` first, ``RevisionDocuments``), where the
converter's ``RV:`` change vector is kept verbatim (§11, §11.1) whatever stream carries them.
A RavenFS file goes in a 4.x-layout part too: the attachment stream record, the file's bytes read
from the source chunk by chunk, then its ``files/{key}`` document (docs/ravenfs.md).
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

from ... import _twins
from ...codecs import b64
from ...errors import ServerError
from ...records import Attachment, AttachmentPut4, Delete4, Document4, DocumentRun
from ..deflate import TRANSPORT_LEVEL, gzip_compressor
from ..dump4.records import attachment_stream_header, document_parts
from .client import DEFAULT_IMPORT_OPTIONS, RavenClient
from .http import (
    TRANSIENT_MESSAGES,
    TRANSIENT_STATUSES,
    TransientError,
    db_path,
    error_message,
    fault_message,
    interrupted,
    operation_state,
    stream_request,
)
from .jsonout import dumps, member, prepend_metadata
from .streams import Item, Operation, permanent

_twins.register("docrun", "ravenmigrate.convert.docrun")
_docrun = _twins.load("docrun")

V4_BUILD = 41001
SECTION = {"doc": "Docs", "att": "Attachments", "del": "DocsDeletions", "rev": "RevisionDocuments",
           "idx": "Indexes", "ident": "Identities", "file": "Docs"}
V4_KINDS = frozenset({"rev", "file"})
CHUNK = 256 << 10


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def legacy_document(doc: Document4) -> bytes:
    """The converted document as a legacy ``Docs`` element, framed as ``convert`` frames it
    (``sinks.dump4.records.document_parts``, which the import reads the same way): ``@id``,
    ``@last-modified`` (now when the converter says "server now", so the server's carry-over of
    §3.4 never applies) and, for a 3.x document that had revisions,
    ``Raven-Document-Revision-Status: Current`` (§4) close its ``@metadata``."""
    if doc.last_modified is None:
        doc = doc.replace(last_modified=_now())
    return b"".join(document_parts(doc, False))


def run_items(run: DocumentRun) -> Iterator[Item]:
    """The ``Docs`` items of a run: when every document has a last-modified (nearly every run),
    framed natively (``docrun.document_elements``, the bytes :func:`legacy_document` gives; run
    documents have no flags); else document by document."""
    if run.missing_last_modified:
        return (item for doc in run.documents() for item in items_for(doc, doc))
    ids, elements = _docrun.document_elements(run.results)
    return map(Item, repeat("doc"), ids, elements, map(len, elements))


def revision_document(doc: Document4) -> bytes:
    """A legacy revision as a 4.x ``RevisionDocuments`` element (§11.1)."""
    members = [member("@id", doc.revision_of or doc.id), member("@change-vector", doc.change_vector or ""),
               member("@last-modified", (doc.last_modified or _now()).rstrip("Z"))]
    return prepend_metadata(doc.data, b",".join(members))


def legacy_attachment(att: Attachment) -> bytes:
    """``{"Key","Metadata","Data"}`` as in a 3.x export (§6)."""
    return (b'{"Key":' + json.dumps(att.key, ensure_ascii=False).encode() + b',"Metadata":' + dumps(att.metadata)
            + b',"Data":"' + b64.b64encode(att.data) + b'"}')


def items_for(record: Any, converted: Any) -> Iterator[Item]:
    """The stream items of one converted record; *record* is the source record it came from."""
    if isinstance(converted, Document4):
        if converted.revision_of is not None:
            data = revision_document(converted)
            yield Item("rev", converted.revision_of, data, len(data))
        elif not (isinstance(record, Attachment) and converted.collection == "@files"):
            data = legacy_document(converted)
            yield Item("doc", converted.id, data, len(data))
    elif isinstance(converted, AttachmentPut4):
        data = legacy_attachment(record)
        yield Item("att", converted.document_id, data, len(data))
    elif isinstance(converted, Delete4):
        data = b'{"Key":' + json.dumps(converted.id, ensure_ascii=False).encode() + b"}"
        yield Item("del", converted.id, data, len(data), 0)


class FileElements:
    """A RavenFS file as ``Docs`` elements of a 4.x part: the stream record with the bytes (pulled
    from the source each time the item is sent), then the document (§11)."""

    __slots__ = ("doc", "put")

    def __init__(self, doc: Document4, put: AttachmentPut4) -> None:
        self.doc = doc
        self.put = put

    def chunks(self) -> Iterator[bytes]:
        yield attachment_stream_header(self.put)
        yield from self.put.data.chunks()
        yield b"," + b"".join(document_parts(self.doc, False))


def file_items(doc: Document4, put: AttachmentPut4) -> Iterator[Item]:
    """The one item of a converted RavenFS file (its document, then its streamed attachment)."""
    yield Item("file", doc.id, FileElements(doc, put), len(put.data) + len(doc.data))


def multipart(boundary: str, options: dict[str, Any], items: Iterable[Item]) -> Iterator[bytes]:
    """``importOptions`` then the items as gzip dump files (§2): a new file part whenever the layout
    changes (legacy, or 4.x for revisions), a new section whenever the item kind changes (sections
    may repeat)."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"importOptions\"\r\n\r\n"
           f"{json.dumps(options)}\r\n").encode()
    z = None
    v4 = False
    section = None
    parts: list[bytes] = []
    size = 0
    n = 0
    for item in items:
        if z is None or (item.kind in V4_KINDS) != v4:
            if z is not None:
                yield z.compress(b"".join(parts) + b"]}") + z.flush() + b"\r\n"
                parts, size = [], 0
            v4 = item.kind in V4_KINDS
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"part{n}.ravendump\""
                   f"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
            n += 1
            z = gzip_compressor(TRANSPORT_LEVEL)[0]
            parts.append(b'{"BuildVersion":%d,' % V4_BUILD if v4 else b"{")
            section = None
        if item.kind != section:
            parts.append((b"]," if section is not None else b"") + b'"' + SECTION[item.kind].encode() + b'":[')
            section = item.kind
        else:
            parts.append(b",")
        if isinstance(item.payload, FileElements):
            for chunk in item.payload.chunks():
                out = z.compress(b"".join(parts))
                parts, size = [chunk], len(chunk)
                if out:
                    yield out
            continue
        parts.append(item.payload)
        size += item.size
        if size >= CHUNK:
            out = z.compress(b"".join(parts))
            parts, size = [], 0
            if out:
                yield out
    if z is not None:
        yield z.compress(b"".join(parts) + b"]}") + z.flush() + b"\r\n"
    yield f"--{boundary}--\r\n".encode()


class ImportSender:
    """Sends one operation of a stream as one ``/smuggler/import`` request."""

    def __init__(self, database: str, options: dict[str, Any] | None = None) -> None:
        self.database = database
        self.options = options or DEFAULT_IMPORT_OPTIONS
        self.results: list[dict[str, Any]] = []

    def fits(self, op: Operation, item: Item) -> bool:
        return True

    def send(self, client: RavenClient, op: Operation) -> None:
        self.results.append(self.run(client, op, op.iter_items()))

    def run(self, client: RavenClient, op: Operation | None, items: Iterable[Item]) -> dict[str, Any]:
        op_id = client.next_operation_id(self.database)
        path = db_path(self.database, f"smuggler/import?operationId={op_id}")
        boundary = "ravenmigrate-" + uuid.uuid4().hex
        body = multipart(boundary, self.options, items)
        try:
            status, data = stream_request(client, "POST", path, body,
                                          {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        except TransientError:
            self._raise_if_faulted(client, op, op_id)
            raise
        text = data.decode("utf-8", "replace")
        if status == 200:
            return json.loads(data) if data else {}
        if status in TRANSIENT_STATUSES or any(m in text for m in TRANSIENT_MESSAGES):
            raise TransientError(f"import answered {status}: {text[:500]}", status=status)
        message = error_message(text)
        if op is None:
            raise ServerError(f"import into {self.database} failed ({status}): {message}", status=status)
        raise permanent(op.stream, op, f"import answered {status}: {message}", _named_id(message, op))

    def _raise_if_faulted(self, client: RavenClient, op: Operation | None, op_id: int) -> None:
        try:
            message = fault_message(operation_state(client, self.database, op_id))
        except ServerError:
            return
        if message is None or op is None or any(m in message for m in TRANSIENT_MESSAGES):
            return
        if interrupted(message):
            return
        raise permanent(op.stream, op, message, _named_id(message, op))


def _named_id(message: str, op: Operation) -> str | None:
    for item in op.items:
        if item.kind in ("doc", "rev") and item.key in message:
            return item.key
    return None
