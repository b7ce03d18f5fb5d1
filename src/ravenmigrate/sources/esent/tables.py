"""RavenDB 3.x (and 2.x) tables of an Esent store as export records (docs/esent.md "RavenDB tables").

Tables and columns from ``Raven.Database/Storage/Esent/SchemaCreator.cs`` (mynkow/ravendb, branches
2.0 to 3.5): ``documents`` (key = original-case id in UTF-16, etag Binary(16), last_modified
Binary(8) = ``DateTime.ToBinary()``, data and metadata LongBinary: JSON in 3.x, BSON in 2.x),
``files`` (legacy attachments: name, data, metadata JSON text, etag), ``identity_table`` (key, val)
and ``details`` (id, document_count, attachment_count, schema_version).
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from ...codecs.body import decode_body
from ...codecs.errors import BundleDecodeError
from ...errors import RavenMigrateError, SourceError
from ...records import Attachment, Document, Identity, Position
from ...rejects import Rejects
from ..rowrejects import reject_row
from ..voron.metadata import MetadataRow, etag_text, export_metadata
from ..voron.tables import assemble
from .catalog import EsentTable

_TICKS_MASK = (1 << 62) - 1
_DECODER = json.JSONDecoder(parse_float=Decimal)
DOCUMENT_COLUMNS = ("key", "etag", "last_modified", "data", "metadata")

BodyDecoder = Callable[[bytes, str], bytes]


def require_columns(table: EsentTable, columns: tuple[str, ...], shown: str) -> None:
    """Refuse a table that lacks a column this reader needs (an unknown schema)."""
    missing = [c for c in columns if c not in table._column_name_map]
    if missing:
        raise SourceError(f"table {table.name!r} has no column {', '.join(map(repr, missing))}: not a RavenDB "
                          "2.x/3.x Esent schema this reader knows", path=shown)


def _metadata(raw: bytes | None, key: str, shown: str, index: int) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = _DECODER.decode(decode_body(raw, what=f"metadata of {key!r}", path=shown).decode("utf-8"))
    except (ValueError, RavenMigrateError) as exc:
        raise SourceError(f"document {key!r}: metadata is neither JSON nor BSON ({exc})", path=shown,
                          section="Docs", index=index) from None
    if not isinstance(value, dict):
        raise SourceError(f"document {key!r}: metadata is not an object", path=shown, section="Docs", index=index)
    return value


_OA_EPOCH_TICKS = 599_264_352_000_000_000  # 1899-12-30 in .NET ticks
_TICKS_PER_DAY = 864_000_000_000


def last_modified_ticks(raw: bytes | None, oadate: bool) -> int:
    """.NET ticks of a ``last_modified`` value: ``ToBinary()`` (schema 4.3+) or an OLE date (older)."""
    if not isinstance(raw, bytes) or len(raw) != 8:
        return 0
    if oadate:
        return _OA_EPOCH_TICKS + round(struct.unpack("<d", raw)[0] * _TICKS_PER_DAY)
    return struct.unpack("<q", raw)[0] & _TICKS_MASK


def schema_before(version: Any, major: int, minor: int) -> bool:
    """``details.schema_version`` (``"4.5"``) is older than *major*.*minor*."""
    try:
        a, b = (int(x) for x in str(version).split(".")[:2])
    except ValueError:
        return False
    return (a, b) < (major, minor)


def documents(table: EsentTable, decode: BodyDecoder, shown: str, *, skip: int = 0,
              oadate: bool = False, rejects: Rejects | None = None) -> Iterator[Document]:
    """Every document of ``documents`` in primary-key order; the first *skip* rows are only counted.

    *oadate*: ``last_modified`` is an OLE Automation date (schemas before 4.3, ``From42To43.cs``).
    A bad row is a reject naming its leaf page when *rejects* allow one more (``sources.rowrejects``).
    """
    require_columns(table, DOCUMENT_COLUMNS, shown)
    last_id = None
    for index, row in enumerate(table.rows()):
        if index < skip:
            continue
        key = None
        try:
            key = row.get("key")
            etag = row.get("etag")
            if not isinstance(key, str) or not isinstance(etag, bytes) or len(etag) != 16:
                raise SourceError(f"documents row {index}: no key or a {len(etag or b'')}-byte etag", path=shown,
                                  section="Docs", index=index, last_id=last_id)
            ticks = last_modified_ticks(row.get("last_modified"), oadate)
            metadata = export_metadata(MetadataRow(etag_text(etag), key, ticks,
                                                   _metadata(row.get("metadata"), key, shown, index)))
            stored = row.get("data") or b""
            try:
                data, span = assemble(decode(stored, key), metadata)
            except ValueError as exc:
                raise SourceError(f"document {key!r}: {exc}", path=shown, section="Docs", index=index,
                                  last_id=last_id) from exc
            except BundleDecodeError as exc:  # the codecs name only the file: add the record
                raise SourceError(exc.reason, path=shown, section="Docs", index=index, last_id=last_id) from exc
        except SourceError as exc:
            known = key if isinstance(key, str) else None
            pos = Position(source=shown, section="Docs", index=index, offset=-1, key=known or row.key.hex())
            if not reject_row(rejects, exc, pos, doc_id=known, raw=bytes(row.data), page=row.page):
                raise
            continue
        pos = Position(source=shown, section="Docs", index=index, offset=-1, key=key)
        yield Document(id=key, data=data, metadata=metadata, metadata_span=span, position=pos, compact=True)
        last_id = key


def stored_body(table: EsentTable, key: str) -> bytes | None:
    """The stored (still encoded) body of document *key* (exact id, any case), or ``None``."""
    wanted = key.lower()
    for row in table.rows():
        found = row.get("key")
        if isinstance(found, str) and found.lower() == wanted:
            return row.get("data")
    return None


def attachments(table: EsentTable | None, shown: str, rejects: Rejects | None = None) -> Iterator[Attachment]:
    """Legacy attachments (``files``): name, bytes, headers JSON and etag; a bad row is a reject
    when *rejects* allow one more."""
    if table is None:
        return
    require_columns(table, ("name", "data", "metadata", "etag"), shown)
    for index, row in enumerate(table.rows()):
        name = None
        try:
            name = row.get("name")
            raw = row.get("metadata") or "{}"
            try:
                headers = _DECODER.decode(raw) if isinstance(raw, str) else _DECODER.decode(
                    decode_body(raw, what=f"attachment {name!r}", path=shown).decode("utf-8"))
            except (ValueError, RavenMigrateError) as exc:
                raise SourceError(f"attachment {name!r}: metadata is not JSON ({exc})", path=shown,
                                  section="Attachments", index=index) from None
            etag = row.get("etag")
            content = row.get("data") or b""
        except SourceError as exc:
            known = name if isinstance(name, str) else None
            pos = Position(source=shown, section="Attachments", index=index, offset=-1, key=known or row.key.hex())
            if not reject_row(rejects, exc, pos, doc_id=known, raw=bytes(row.data), page=row.page):
                raise
            continue
        pos = Position(source=shown, section="Attachments", index=index, offset=-1, key=name)
        yield Attachment(key=name, data=content, metadata=headers,
                         etag=etag_text(etag) if isinstance(etag, bytes) and len(etag) == 16 else None,
                         position=pos)


def identities(table: EsentTable | None, shown: str, rejects: Rejects | None = None) -> Iterator[Identity]:
    """Every row of ``identity_table`` (unfiltered, as for Voron: ``raven/etag``, ``indexid`` included);
    a bad row is a reject when *rejects* allow one more."""
    if table is None:
        return
    for index, row in enumerate(table.rows()):
        key = None
        try:
            key, value = row.get("key"), row.get("val")
            if not isinstance(key, str) or not isinstance(value, int):
                raise SourceError(f"identity_table row {index}: key {key!r}, value {value!r}", path=shown,
                                  section="Identities", index=index)
        except SourceError as exc:
            known = key if isinstance(key, str) else None
            pos = Position(source=shown, section="Identities", index=index, offset=-1, key=known or row.key.hex())
            if not reject_row(rejects, exc, pos, raw=bytes(row.data), page=row.page):
                raise
            continue
        pos = Position(source=shown, section="Identities", index=index, offset=-1, key=key)
        yield Identity(key=key, value=value, position=pos, value_was_string=True)


def details(table: EsentTable | None) -> dict[str, Any]:
    """``details``: database id, counters and schema version."""
    out: dict[str, Any] = {}
    if table is None:
        return out
    for row in table.rows():
        for column in ("id", "document_count", "attachment_count", "schema_version"):
            if column not in table._column_name_map:
                continue
            value = row.get(column)
            out[column] = str(uuid.UUID(bytes_le=value)) if column == "id" and isinstance(value, bytes) and len(
                value) == 16 else value
        break
    return out
