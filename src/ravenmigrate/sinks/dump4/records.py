"""The bytes of one element of each 4.x dump section (docs/formats/import-4x.md §11, §11.1).

Documents keep the converter's compact bytes: only the members the V4 reader takes from the
document's own ``@metadata`` (``@id``, ``@last-modified``, a revision's ``@change-vector``) are
spliced in front of its closing brace; nothing is re-serialised.
"""

from __future__ import annotations

import re
from json.encoder import encode_basestring

from ... import _twins
from ...convert.attachments import FILES_BODY_TAIL, FILES_PREFIX, files_body_head
from ...convert.jsonbytes import decode_key, dumps, iter_object
from ...records import AttachmentPut4, Delete4, Document4, Identity4, Index4

_twins.register("dump4_metadata", "ravenmigrate.sinks.dump4.metadata")
_metadata = _twins.load("dump4_metadata")
_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")

LEGACY_METADATA = "@legacy-attachment-metadata"
# The members of the document the 4.x legacy import builds for a 3.x attachment (§6 step 4).
LEGACY_FILES_MEMBERS = frozenset({"@collection", "@attachments", LEGACY_METADATA, "@flags"})
CURRENT_REVISION_STATUS = b'"Raven-Document-Revision-Status":"Current"'
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _json_string(value: str) -> bytes:
    if _NEEDS_ESCAPE.search(value) is None:
        return b'"' + value.encode("utf-8") + b'"'
    return encode_basestring(value).encode("utf-8")


def document_parts(doc: Document4, revision: bool) -> tuple[bytes, bytes, bytes]:
    """``(head, injected, tail)``: the document is ``head + injected + tail``.

    *injected* carries ``@id`` (for a revision: the document it belongs to, §11.1), the
    converter's ``@last-modified`` when known (§3.4) and a revision's ``@change-vector`` (§4).
    ``@flags`` are already in the converter's metadata. A document with ``HasRevisions`` (a 3.x
    ``Current`` document) also gets the legacy ``Raven-Document-Revision-Status: Current``: the
    metadata modifier, which the V4 reader runs too, consumes it and marks the document as
    already having revisions, so the import does not add a revision the legacy import would not
    create (§4; LIVE on 4.1.0, see docs/dump4.md).
    """
    data = doc.data
    members = [b'"@id":' + _json_string(doc.revision_of if revision else doc.id)]
    if revision and doc.change_vector is not None:
        members.append(b'"@change-vector":' + _json_string(doc.change_vector))
    if not revision and "HasRevisions" in doc.flags:
        members.append(CURRENT_REVISION_STATUS)
    if doc.last_modified is not None:
        members.append(b'"@last-modified":"' + doc.last_modified.encode("ascii") + b'"')
    injected = b",".join(members)
    close, empty = _metadata.metadata_close(data)
    if close < 0:
        last = data.rstrip().rfind(b"}")
        body_empty = not data[data.index(b"{") + 1:last].strip()
        return data[:last], (b"" if body_empty else b",") + b'"@metadata":{' + injected + b"}", data[last:]
    return data[:close], (injected if empty else b"," + injected), data[close:]


def attachment_stream_header(put: AttachmentPut4) -> bytes:
    """The record announcing an attachment stream; exactly ``Size`` raw bytes follow its ``}`` (§11)."""
    tag = f"{put.document_id.lower()}|d|{put.name}|{put.hash}|"
    return (b'{"@metadata":{"@export-type":"Attachment"},"Hash":' + _json_string(put.hash)
            + b',"Size":' + str(len(put.data)).encode() + b',"Tag":' + _json_string(tag) + b"}")


def legacy_attachment_metadata(doc: Document4, put: AttachmentPut4) -> bytes | None:
    """The 3.x metadata bytes when *doc* is exactly what the legacy import builds for *put* (§6).

    Then the pair can be written as a legacy ``Attachments`` element and the server rebuilds the
    same document, keeping the 3.x metadata verbatim (§11.1). ``None`` otherwise.
    """
    if (doc.id != put.document_id or doc.id != FILES_PREFIX + put.name or put.content_type
            or doc.collection != "@files" or doc.revision_of is not None):
        return None
    data = doc.data
    head = files_body_head(put.name, put.hash, len(put.data))
    end = len(data) - len(FILES_BODY_TAIL)
    if end > len(head) and data.startswith(head) and data.endswith(FILES_BODY_TAIL) and data[len(head)] == 0x7B:
        # the bytes convert_attachment writes: only check that one value lies between head and tail
        scanner = _split.Scanner()
        scanner.reset(len(head))
        try:
            return data[len(head):end] if scanner.scan(data, True) == end else None
        except _split.ScanError:
            return None
    top = list(iter_object(doc.data, doc.data.index(b"{")))
    if len(top) != 1 or decode_key(doc.data[top[0][0]:top[0][1]]) != "@metadata":
        return None
    found = None
    names = set()
    meta_start = top[0][2]
    for ks, ke, vs, ve in iter_object(doc.data, meta_start):
        name = decode_key(doc.data[ks:ke])
        names.add(name)
        if name == LEGACY_METADATA and doc.data[vs] == 0x7B:
            found = doc.data[vs:ve]
    return found if names == LEGACY_FILES_MEMBERS else None


def legacy_attachment(put: AttachmentPut4, metadata: bytes) -> list[bytes]:
    """A 3.x ``Attachments`` element ``{"Key","Metadata","Data"}`` (§6), as pieces to write."""
    from ...codecs import b64  # here: pybase64 is imported only when a dump has attachments

    return [b'{"Key":' + _json_string(put.name) + b',"Metadata":', metadata, b',"Data":"',
            b64.b64encode(put.data), b'"}']


def deletion(record: Delete4) -> bytes:
    """A ``DocsDeletions`` element: only ``Key`` is read (§5)."""
    return b'{"Key":' + _json_string(record.id) + b"}"


def index_type(definition: dict) -> str:
    return definition.get("Type") or ("MapReduce" if definition.get("Reduce") else "Map")


def index(record: Index4) -> bytes:
    """An ``Indexes`` element ``{"Type", "IndexDefinition"}`` (§11)."""
    return b'{"Type":' + _json_string(index_type(record.definition)) + b',"IndexDefinition":' + dumps(
        record.definition) + b"}"


def identity(record: Identity4) -> bytes:
    """An ``Identities`` element; the value is a decimal string (§8, §11)."""
    return b'{"Key":' + _json_string(record.name) + b',"Value":"' + str(record.value).encode() + b'"}'
