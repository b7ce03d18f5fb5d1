"""Transport ``bulk-insert``: the 4.x bulk insert protocol (docs/formats/import-4x.md §9) over parallel streams.

An operation is one ``POST bulk_insert?id=`` whose chunked body is the JSON array of PUT commands,
each embedding the converted document bytes as they are (no per-document re-serialisation),
optionally gzip-compressed; then, once the server answered 201, the operation's legacy
attachments (``PUT /attachments``, §10) and deletions (``bulk_docs`` DELETE commands, §10).

What bulk insert cannot do (§1.2, §9): keep ``@last-modified`` (the server stores "now"), store
legacy revisions, or keep nested keys of ``@legacy-attachment-metadata`` that its metadata parser
drops; see ``docs/deviations.md``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator

from ...errors import ServerError
from ...records import AttachmentPut4, Document4, DocumentRun, FileContent
from ..deflate import TRANSPORT_LEVEL, gzip_compressor
from .client import RavenClient
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
from .streams import Item, Operation, permanent

CHUNK = 256 << 10
PUT_HEAD = b'{"Id":'
PUT_MID = b',"Type":"PUT","Document":'
_PLAIN_ID = re.compile(r'[^"\\\x00-\x1f\x7f-\uffff]*\Z')
_LAST_ID = re.compile(r"Last document id: (.*?)(?:\r?\n|$)")
_BAD_ID = re.compile(r"(?:called with|id[: ]+)\s*'?([^'\s]+\|)'?")

DEVIATIONS = (
    "@last-modified is the time of the load, not the 3.x value (bulk insert always stores 'now')",
    "legacy revisions (Raven-Document-Revision-Status: Historical) are not stored: bulk insert is PUT-only",
    "with revisions enabled, every loaded document gets a new revision (the import suppresses it for "
    "documents that had revisions in 3.x)",
    "nested @legacy-attachment-metadata keys the 4.x metadata parser drops (Raven-Replication-*, "
    "Last-Modified, Raven-Last-Modified, ...) are lost",
)


def put_command(doc: Document4) -> bytes:
    """``{"Id":…,"Type":"PUT","Document":<data>}`` around the converted bytes (§9 body)."""
    return _put(doc.id, doc.data)


def _put(doc_id: str, data: bytes) -> bytes:
    quoted = b'"' + doc_id.encode() + b'"' if _PLAIN_ID.match(doc_id) else json.dumps(doc_id, ensure_ascii=False).encode()
    return PUT_HEAD + quoted + PUT_MID + data + b"}"


def run_items(run: DocumentRun) -> Iterator[Item]:
    """The put items of a run's documents (no revisions among them), without a ``Document4`` each."""
    for doc_id, data, *_ in run.results:
        cmd = _put(doc_id, data)
        yield Item("put", doc_id, cmd, len(cmd))


def items_for(converted) -> Iterator[Item]:
    """The stream items of one converted record (revisions and non-document records excluded)."""
    if isinstance(converted, Document4):
        if converted.revision_of is None:
            cmd = put_command(converted)
            yield Item("put", converted.id, cmd, len(cmd))
    elif isinstance(converted, AttachmentPut4):
        yield Item("attachment", converted.document_id, converted, len(converted.data) + 200, 0)
    else:
        yield Item("delete", converted.id, converted.id, 100)


class BulkInsertSender:
    """Sends one operation of a stream (see module docstring)."""

    def __init__(self, database: str, compress: bool = False) -> None:
        self.database = database
        self.compress = compress

    def fits(self, op: Operation, item: Item) -> bool:
        """A put joins only an operation of puts: attachments and deletes are sent after the bulk
        insert, so a put after one would run before it (and an operation that starts with one
        sends no bulk insert at all)."""
        return item.kind != "put" or op.kinds == {"put"}

    def send(self, client: RavenClient, op: Operation) -> None:
        deferred: list[Item] = []
        if op.items[0].kind == "put":
            self._bulk_insert(client, op, self._body(op.iter_items(), deferred))
        else:
            deferred.extend(op.iter_items())
        deletes: list[str] = []
        for item in deferred:
            if item.kind == "attachment":
                if deletes:
                    self._delete(client, deletes)
                    deletes = []
                self._attachment(client, item.payload)
            else:
                deletes.append(item.payload)
        if deletes:
            self._delete(client, deletes)

    @staticmethod
    def _body(items: Iterator[Item], deferred: list[Item]) -> Iterator[bytes]:
        """The JSON array of the PUT commands; the other items are kept for after the response."""
        parts: list[bytes] = [b"["]
        size = 1
        sep = b""
        for item in items:
            if item.kind != "put":
                deferred.append(item)
                continue
            parts.append(sep)
            parts.append(item.payload)
            sep = b","
            size += item.size + 1
            if size >= CHUNK:
                yield b"".join(parts)
                parts, size = [], 0
        parts.append(b"]")
        yield b"".join(parts)

    def _gzip(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        z = gzip_compressor(TRANSPORT_LEVEL)[0]
        for chunk in chunks:
            out = z.compress(chunk)
            if out:
                yield out
        yield z.flush()

    def _bulk_insert(self, client: RavenClient, op: Operation, body: Iterator[bytes]) -> None:
        op_id = client.next_operation_id(self.database)
        path = db_path(self.database, f"bulk_insert?id={op_id}")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.compress:
            headers["Content-Encoding"] = "gzip"
            body = self._gzip(body)
        try:
            status, data = stream_request(client, "POST", path, body, headers)
        except TransientError:
            self._raise_if_faulted(client, op, op_id, None)
            raise
        if status == 201:
            return
        text = data.decode("utf-8", "replace")
        if status in TRANSIENT_STATUSES or any(m in text for m in TRANSIENT_MESSAGES):
            raise TransientError(f"bulk insert answered {status}: {text[:500]}", status=status)
        self._raise_if_faulted(client, op, op_id, text)
        raise permanent(op.stream, op, f"bulk insert answered {status}: {error_message(text)}", _rejected_id(text, op))

    def _raise_if_faulted(self, client: RavenClient, op: Operation, op_id: int, text: str | None) -> None:
        """A faulted bulk insert names the reason (§9 "the client reports errors by querying the state")."""
        try:
            state = operation_state(client, self.database, op_id)
        except ServerError:
            return
        message = fault_message(state)
        if message is None or any(m in message for m in TRANSIENT_MESSAGES) or interrupted(message):
            return
        raise permanent(op.stream, op, message, _rejected_id(message + (text or ""), op))

    def _attachment(self, client: RavenClient, att: AttachmentPut4) -> None:
        q = urllib.parse.urlencode({"id": att.document_id, "name": att.name, "contentType": att.content_type})
        path = db_path(self.database, f"attachments?{q}")
        headers = {"Content-Type": "application/octet-stream"}
        if not isinstance(att.data, FileContent):
            client.request("PUT", path, att.data, headers, ok=(201,))
            return
        status, data = stream_request(client, "PUT", path, att.data.chunks(), headers)  # a RavenFS file, streamed
        if status != 201:
            text = data.decode("utf-8", "replace")
            if status in TRANSIENT_STATUSES or any(m in text for m in TRANSIENT_MESSAGES):
                raise TransientError(f"attachment PUT answered {status}: {text[:500]}", status=status)
            raise ServerError(f"PUT attachment {att.name!r} of {att.document_id!r} answered {status}: "
                              f"{error_message(text)}", status=status)

    def _delete(self, client: RavenClient, ids: list[str]) -> None:
        commands = [{"Id": i, "Type": "DELETE", "ChangeVector": None} for i in ids]
        client.json("POST", db_path(self.database, "bulk_docs"), {"Commands": commands}, ok=(201,))


def _rejected_id(text: str, op: Operation) -> str | None:
    """The document the server rejected: named in its message, else the one after the last stored."""
    keys = [i.key for i in op.items if i.kind == "put"]
    for key in keys:
        if key.endswith("|") and key in text:
            return key
    m = _LAST_ID.search(text)
    if m:
        last = m.group(1).strip().rstrip(".")
        if last in keys and keys.index(last) + 1 < len(keys):
            return keys[keys.index(last) + 1]
    m = _BAD_ID.search(text)
    return m.group(1) if m else None
