"""RavenDB 3.x tables in Voron trees: documents, legacy attachments, identities, details.

Tree names and key/value layouts: docs/formats/storage-3x.md §4 "RavenDB 3.x Voron trees and key/value
layout" and docs/formats/dumps-3x.md §11.3. Keys are lower-cased ids (UTF-8); ``documents`` and
``documents_metadata`` share their keys, so both are walked side by side in key order.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Iterator

from ...codecs.errors import BundleDecodeError
from ...codecs.jsonvalue import dumps, loads
from ...errors import SourceError, UnsupportedSource
from ...records import Attachment, Document, Identity, Position
from ...rejects import Rejects
from ..rowrejects import reject_row
from .environment import VoronEnvironment
from .metadata import etag_text, export_metadata, parse_metadata_row

_I64 = struct.Struct("<q")
DOCUMENTS = "documents"
DOCUMENTS_METADATA = "documents_metadata"
# Raven.Database/Storage/Voron/Schema: SchemaCreator.SchemaVersion is "1.3" on v3.0 and "1.5" on v3.5;
# Updates/From10To11 .. From14To15 never touch the tables read here (docs/voron.md "Variations of the tables between 3.0 and 3.5").
SCHEMA_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")

BodyDecoder = Callable[[bytes, str], bytes]


def assemble(body: bytes, metadata: dict) -> tuple[bytes, tuple[int, int]]:
    """The export form of a document: body object with ``"@metadata"`` appended as its last property.

    Returns the bytes and the ``(start, end)`` span of the ``@metadata`` value.
    """
    body = body.strip()
    if body[:1] != b"{" or body[-1:] != b"}":
        raise ValueError(f"body is not a JSON object (starts {body[:20]!r})")
    meta = dumps(metadata)
    head = b'{"@metadata":' if not body[1:-1].strip() else body[:-1] + b',"@metadata":'
    return head + meta + b"}", (len(head), len(head) + len(meta))


def documents(env: VoronEnvironment, decode: BodyDecoder, *, after: bytes | None = None,
              rejects: Rejects | None = None) -> Iterator[Document]:
    """Every document with its metadata, in storage-key order (a merge of the two trees by key).

    With *after* (a storage key, when resuming) the rows up to and including it are only counted,
    so positions keep their original ``index``. A bad row is a reject when *rejects* allow one more
    (``sources.rowrejects``), else its located error.
    """
    shown = env.path
    bodies_tree = env.tree(DOCUMENTS)
    meta_tree = env.tree(DOCUMENTS_METADATA)
    if bodies_tree is None or meta_tree is None:
        raise SourceError(f"no {DOCUMENTS}/{DOCUMENTS_METADATA} tree: not a RavenDB database storage", path=shown)
    metas = meta_tree.items()
    meta_item = next(metas, None)
    index = 0
    last_id = None

    def orphan(meta_key: bytes, value: bytes) -> None:
        """A metadata row whose key has no body: a reject, or the error."""
        shown_key = meta_key.decode("utf-8", "replace")
        exc = SourceError(f"documents_metadata row {shown_key!r} has no document body", path=shown,
                          section="Docs", index=index, last_id=last_id)
        if not reject_row(rejects, exc, Position(shown, "Docs", index, -1, key=shown_key), raw=value):
            raise exc

    for key, stored in bodies_tree.items():
        while meta_item is not None and meta_item[0] < key:
            if after is None or meta_item[0] > after:
                orphan(*meta_item)
            meta_item = next(metas, None)
        meta = None
        if meta_item is not None and meta_item[0] == key:
            meta = meta_item[1]
            meta_item = next(metas, None)
        if after is not None and key <= after:
            index += 1
            continue
        try:
            skey = storage_key(key, shown, "Docs", index, last_id)
            if meta is None:
                found = "none" if meta_item is None else repr(meta_item[0].decode("utf-8", "replace"))
                raise SourceError(f"document {skey!r} has no documents_metadata row (next metadata key: {found})",
                                  path=shown, section="Docs", index=index, last_id=last_id)
            row = parse_metadata_row(meta, skey, shown)
            metadata = export_metadata(row)
            try:
                data, span = assemble(decode(stored, skey), metadata)
            except ValueError as exc:
                raise SourceError(f"document {skey!r}: {exc}", path=shown, section="Docs", index=index,
                                  last_id=last_id) from exc
            except BundleDecodeError as exc:  # the codecs name only the file: add the record
                raise SourceError(exc.reason, path=shown, section="Docs", index=index, last_id=last_id) from exc
        except SourceError as exc:
            pos = Position(source=shown, section="Docs", index=index, offset=-1, key=key.decode("utf-8", "replace"))
            if not reject_row(rejects, exc, pos, raw=stored):
                raise
            index += 1
            continue
        pos = Position(source=shown, section="Docs", index=index, offset=-1, key=skey)
        yield Document(id=row.id, data=data, metadata=metadata, metadata_span=span, position=pos, compact=True)
        last_id = row.id
        index += 1
    while meta_item is not None:
        if after is None or meta_item[0] > after:
            orphan(*meta_item)
        meta_item = next(metas, None)


def storage_key(raw: bytes, shown: str, section: str, index: int, last_id: str | None = None) -> str:
    """A tree key as text (3.x writes keys as UTF-8); damaged bytes are a located error."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"storage key {raw[:80]!r} is not UTF-8 ({exc.reason} at byte {exc.start})",
                          path=shown, section=section, index=index, last_id=last_id) from None


def document_body(env: VoronEnvironment, key: str) -> bytes | None:
    """The stored (still encoded) body under storage key *key*, or ``None``."""
    tree = env.tree(DOCUMENTS)
    return None if tree is None else tree.get(key.encode("utf-8"))


def attachments(env: VoronEnvironment, rejects: Rejects | None = None) -> Iterator[Attachment]:
    """Legacy attachments in storage-key order: bytes from ``attachments``, etag and headers JSON from
    ``attachments_metadata`` (same keys, walked side by side), original-case key from
    ``attachments_key_by_etag`` looked up by that etag (so no id is ever re-lower-cased here). A bad
    row is a reject when *rejects* allow one more."""
    shown = env.path
    data_tree = env.tree("attachments")
    if data_tree is None:
        return
    meta_tree = env.tree("attachments_metadata")
    by_etag = env.tree("attachments_key_by_etag")
    metas = meta_tree.items() if meta_tree is not None else iter(())
    meta_item = next(metas, None)
    for index, (lower, data) in enumerate(data_tree.items()):
        while meta_item is not None and meta_item[0] < lower:
            meta_item = next(metas, None)
        meta = None
        if meta_item is not None and meta_item[0] == lower:
            meta = meta_item[1]
            meta_item = next(metas, None)
        try:
            skey = storage_key(lower, shown, "Attachments", index)
            if meta is None or len(meta) < 16:
                raise SourceError(f"attachment {skey!r} has no attachments_metadata row", path=shown,
                                  section="Attachments", index=index)
            etag = etag_text(meta[:16])
            original = by_etag.get(etag.encode("ascii")) if by_etag is not None else None
            try:
                headers = loads(meta[16:]) if meta[16:] else {}
            except ValueError as exc:
                raise SourceError(f"attachment {skey!r}: metadata is not JSON ({exc})", path=shown,
                                  section="Attachments", index=index) from exc
            key = storage_key(original, shown, "Attachments", index) if original is not None else skey
        except SourceError as exc:
            pos = Position(source=shown, section="Attachments", index=index, offset=-1,
                           key=lower.decode("utf-8", "replace"))
            if not reject_row(rejects, exc, pos, raw=data):
                raise
            continue
        pos = Position(source=shown, section="Attachments", index=index, offset=-1, key=skey)
        yield Attachment(key=key, data=data, metadata=headers, etag=etag, position=pos)


def identities(env: VoronEnvironment, rejects: Rejects | None = None) -> Iterator[Identity]:
    """Every row of ``general``: an Int64 LE per lower-cased identity name (docs/formats/dumps-3x.md §11.3).

    Unfiltered (``raven/etag``, ``indexid``, ``transformerid`` included), like pre-3.0 exports; the
    import-side filter of docs/formats/dumps-3x.md §3.6 belongs to conversion. Storage has no text form, so
    ``value_was_string`` is set as a 3.5 export of this database would write it (the multi-part tail
    path writes ``Value`` as a string, docs/formats/dumps-3x.md §3.6), which is the form 4.x imports.
    A bad row is a reject when *rejects* allow one more.
    """
    tree = env.tree("general")
    if tree is None:
        return
    for index, (key, value) in enumerate(tree.items()):
        try:
            skey = storage_key(key, env.path, "Identities", index)
            if len(value) != 8:
                raise SourceError(f"identity {skey!r}: expected an 8-byte Int64, found {len(value)} bytes",
                                  path=env.path, section="Identities", index=index)
        except SourceError as exc:
            pos = Position(source=env.path, section="Identities", index=index, offset=-1,
                           key=key.decode("utf-8", "replace"))
            if not reject_row(rejects, exc, pos, raw=value):
                raise
            continue
        pos = Position(source=env.path, section="Identities", index=index, offset=-1, key=skey)
        yield Identity(key=skey, value=_I64.unpack(value)[0], position=pos, value_was_string=True)


def details(env: VoronEnvironment) -> dict[str, str]:
    """``details``: database id (GUID) and storage schema version."""
    tree = env.tree("details")
    out: dict[str, str] = {}
    if tree is None:
        return out
    for key, value in tree.items():
        name = key.decode("utf-8", "replace")
        out[name] = str(uuid.UUID(bytes_le=value)) if name == "id" and len(value) == 16 else value.decode(
            "utf-8", "replace")
    return out


def check_schema_version(env: VoronEnvironment) -> str | None:
    """The ``details`` tree's ``schema_version`` when it is one a 3.0-3.5 server writes, ``None`` when
    the row is missing; any other version is refused (docs/voron.md "Variations of the tables between 3.0 and 3.5")."""
    version = details(env).get("schema_version")
    if version is not None and version not in SCHEMA_VERSIONS:
        raise UnsupportedSource(
            f"Voron storage schema version {version!r} (tree details, key schema_version) is not one RavenDB "
            f"3.0-3.5 writes ({', '.join(SCHEMA_VERSIONS)}): its tables may differ from the ones this reader "
            "knows (docs/voron.md \"Variations of the tables between 3.0 and 3.5\")", path=env.path, section="details")
    return version
