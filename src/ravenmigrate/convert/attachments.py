"""3.x legacy attachments -> ``files/{Key}`` documents in ``@files`` with one attachment (docs/formats/import-4x.md §6)."""

from __future__ import annotations

import base64
from json.encoder import encode_basestring

from ..records import Attachment, AttachmentPut4, Document4, Skipped
from .jsonbytes import dumps

try:  # CPython's own BLAKE2, which hashlib.blake2b is: importing hashlib loads OpenSSL first (4 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

FILES_PREFIX = "files/"
FILES_COLLECTION = "@files"
SKIPPED_SUFFIXES = (".deleting", ".downloading")


def attachment_hash(data: bytes) -> str:
    """4.x attachment hash: base64 (padded) of unkeyed BLAKE2b-256 (§6 step 3)."""
    return base64.b64encode(blake2b(data, digest_size=32).digest()).decode()


# The body of the ``files/{Key}`` document (§6 step 4) is this head, the 3.x metadata, this tail.
FILES_BODY_TAIL = b',"@flags":"HasAttachments"}}'


def files_body_head(key: str, digest: str, size: int) -> bytes:
    """The ``files/{Key}`` document's body up to its ``@legacy-attachment-metadata`` value: the
    ``@collection`` and the ``@attachments`` entry (``ContentType`` always empty)."""
    entry = f'{{"Name":{encode_basestring(key)},"Hash":{encode_basestring(digest)},"ContentType":"","Size":{size}}}'
    return b'{"@metadata":{"@collection":"@files","@attachments":[' + entry.encode() + b'],"@legacy-attachment-metadata":'


def convert_attachment(att: Attachment) -> list[Document4 | AttachmentPut4] | Skipped:
    """The ``files/{Key}`` document then its attachment stream, or why 4.x skips it (§6 step 2).

    The document body is only metadata: ``@collection: @files``, ``@attachments`` with the one
    entry (``ContentType`` always empty: the 3.x ``Content-Type`` is not used), the 3.x metadata
    verbatim under ``@legacy-attachment-metadata`` and the ``HasAttachments`` flag. Its
    last-modified is the server's "now".
    """
    if att.metadata.get("Raven-Delete-Marker") is True:
        return Skipped("attachment", att.key, "Raven-Delete-Marker is true (docs/formats/import-4x.md §6)", att.position)
    if att.key.endswith(SKIPPED_SUFFIXES):
        return Skipped("attachment", att.key, "key ends with .deleting or .downloading (docs/formats/import-4x.md §6)",
                       att.position)
    digest = attachment_hash(att.data)
    doc_id = FILES_PREFIX + att.key
    body = files_body_head(att.key, digest, len(att.data)) + dumps(att.metadata) + FILES_BODY_TAIL
    doc = Document4(doc_id, body, FILES_COLLECTION, None, att.position, ("HasAttachments",))
    put = AttachmentPut4(doc_id, att.key, "", att.data, digest, att.position)
    return [doc, put]
