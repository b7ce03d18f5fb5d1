"""Document metadata rows of ``documents_metadata`` and the ``@metadata`` a 3.x export would show.

Row layout (docs/formats/storage-3x.md §4 "RavenDB 3.x Voron trees", docs/formats/dumps-3x.md §11.3): etag (16 bytes) ‖
Int32 LE byte length ‖ UTF-8 original-case id ‖ Int64 LE ``DateTime.ToBinary()`` last-modified ‖
metadata, written by the same ``WriteToBinary`` as the bodies (``DocumentsStorageActions.WriteDocumentMetadata``):
JSON text, which some 3.5 writers start with a UTF-8 BOM, or RavenDB-BSON, told apart per value by
the bodies' rule (``codecs.body``, docs/formats/storage-3x.md §2); the JSON is read like any 3.x
JSON (``codecs.jsonvalue``: lenient forms, deep nesting refused, long integers kept). An export adds ``@id``, ``Last-Modified``,
``Raven-Last-Modified``, ``@etag`` and ``Non-Authoritative-Information`` after the stored keys
(docs/formats/dumps-3x.md §6; the real 3.5 Northwind export shows that order).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ...codecs.body import decode_body
from ...codecs.errors import BundleDecodeError
from ...codecs.jsonvalue import loads
from ...errors import SourceError

_LEN = struct.Struct("<i")
_BINARY = struct.Struct("<q")
_TICKS_MASK = (1 << 62) - 1
_EPOCH = datetime(1, 1, 1)
_EXPORT_KEYS = ("@id", "Last-Modified", "Raven-Last-Modified", "@etag", "Non-Authoritative-Information")


@dataclass(slots=True)
class MetadataRow:
    """One parsed ``documents_metadata`` value."""

    etag: str
    id: str
    ticks: int
    metadata: dict[str, Any]


def etag_text(raw: bytes) -> str:
    """16 etag bytes as 3.x writes them: upper-case hex, dashes after 4, 6, 8 and 10 bytes (docs/formats/dumps-3x.md §6)."""
    h = raw.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def parse_metadata_row(value: bytes, key: str, shown: str) -> MetadataRow:
    """Split a ``documents_metadata`` value; *key* (the storage key) only names a bad row."""
    try:
        (length,) = _LEN.unpack_from(value, 16)
        end = 20 + length
        if length < 0 or end + 8 > len(value):
            raise ValueError(f"id length {length} does not fit the {len(value)}-byte row")
        doc_id = value[20:end].decode("utf-8")
        (binary,) = _BINARY.unpack_from(value, end)
        metadata = loads(decode_body(value[end + 8:], what="metadata"))
    except BundleDecodeError as exc:
        raise SourceError(f"documents_metadata row {key!r} is malformed: {exc.reason}", path=shown,
                          section="Docs") from exc
    except (struct.error, ValueError) as exc:
        raise SourceError(f"documents_metadata row {key!r} is malformed: {exc}", path=shown, section="Docs") from exc
    if not isinstance(metadata, dict):
        raise SourceError(f"documents_metadata row {key!r}: metadata is not a JSON object", path=shown,
                          section="Docs")
    return MetadataRow(etag_text(value[:16]), doc_id, binary & _TICKS_MASK, metadata)


def _times(ticks: int) -> tuple[str, str]:
    """``Last-Modified`` (fraction trimmed, ``Z``) and ``Raven-Last-Modified`` (7 digits) from .NET ticks."""
    seconds, fraction = divmod(ticks, 10_000_000)
    base = _second(seconds)
    digits = f"{fraction:07d}"
    trimmed = digits.rstrip("0")
    return (f"{base}.{trimmed}Z" if trimmed else f"{base}Z"), f"{base}.{digits}"


@lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def export_metadata(row: MetadataRow) -> dict[str, Any]:
    """The ``@metadata`` object of the document as a 3.x export writes it."""
    out = {k: v for k, v in row.metadata.items() if k not in _EXPORT_KEYS}
    last_modified, raven_last_modified = _times(row.ticks)
    out["@id"] = row.id
    out["Last-Modified"] = last_modified
    out["Raven-Last-Modified"] = raven_last_modified
    out["@etag"] = row.etag
    out["Non-Authoritative-Information"] = row.metadata.get("Non-Authoritative-Information", False)
    return out
