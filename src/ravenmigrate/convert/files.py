"""RavenFS files -> ``files/{key}`` documents in ``@files`` with one attachment (docs/ravenfs.md).

The document is the one 4.x builds for a legacy attachment (``convert/attachments.py``, the same
``files_body_head`` and tail): ``@collection: @files``, ``@attachments`` with the one entry,
the file's metadata under ``@legacy-attachment-metadata``, flag ``HasAttachments``, last-modified
= the server's "now". The attachment is named *key* and holds the file's bytes, which are read
here once to compute the hash (BLAKE2b-256, as 4.x) and streamed again by the sink.

What is kept follows RavenDB 4.x's RavenFS migration, ``Migrator_V3.MigrateRavenFs`` (fitzchak/ravendb
v4.1, ``src/Raven.Server/Smuggler/Migration/Migrator_V3.cs``): the key is the full path without
its leading ``/``; the metadata loses :data:`DROPPED_METADATA` (``GetCleanMetadata``). Which files
are written follows the offline migration (``Raven.StorageExporter --RavenFS`` then the legacy
attachment import, ``StreamSource``): tombstones (``Raven-Delete-Marker``), ``.deleting`` and
``.downloading`` files are skipped, and a file whose upload never completed (``StorageStream``
refuses to read it: "File is not uploaded yet") too; each is counted as a :class:`Skipped`.
"""

from __future__ import annotations

import base64

from ..records import AttachmentPut4, Document4, File, Skipped
from .attachments import FILES_BODY_TAIL, FILES_COLLECTION, FILES_PREFIX, SKIPPED_SUFFIXES, files_body_head
from .jsonbytes import dumps

try:  # CPython's own BLAKE2 (see convert/attachments.py)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

DELETE_MARKER = "Raven-Delete-Marker"
# Migrator_V3.GetCleanMetadata (v4.1): RavenFS bookkeeping the 4.x migration does not keep.
DROPPED_METADATA = ("Origin", "Raven-Synchronization-Version", "Raven-Synchronization-Source", "Creation-Date",
                    "Raven-Creation-Date", "Raven-Synchronization-History", "RavenFS-Size", "Last-Modified",
                    "Raven-Last-Modified", "Content-MD5", "ETag")


def content_hash(file: File) -> str:
    """Base64 BLAKE2b-256 of the file's bytes, read chunk by chunk."""
    h = blake2b(digest_size=32)
    for chunk in file.content.chunks():
        h.update(chunk)
    return base64.b64encode(h.digest()).decode()


def kept_metadata(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if k not in DROPPED_METADATA}


def skip_reason(file: File) -> str | None:
    """Why 4.x's migration stores nothing for *file*, or ``None``."""
    if file.metadata.get(DELETE_MARKER) is not None:
        return "deleted in 3.x (Raven-Delete-Marker: a tombstone or a .deleting file); docs/ravenfs.md"
    if file.key.endswith(SKIPPED_SUFFIXES):
        return "a temporary .deleting or .downloading file; docs/ravenfs.md"
    if file.content is None:
        return "upload never completed (no total size); docs/ravenfs.md"
    return None


def convert_file(file: File) -> list[Document4 | AttachmentPut4] | Skipped:
    """The ``files/{key}`` document then its attachment (bytes streamed from the source), or why not."""
    reason = skip_reason(file)
    if reason is not None:
        return Skipped("file", file.key, reason, file.position)
    digest = content_hash(file)
    doc_id = FILES_PREFIX + file.key
    size = len(file.content)
    body = files_body_head(file.key, digest, size) + dumps(kept_metadata(file.metadata)) + FILES_BODY_TAIL
    doc = Document4(doc_id, body, FILES_COLLECTION, None, file.position, ("HasAttachments",))
    return [doc, AttachmentPut4(doc_id, file.key, "", file.content, digest, file.position)]
