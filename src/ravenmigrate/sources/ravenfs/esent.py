"""RavenFS file systems in Esent storage (``Data.ravenfs`` + ``RFS*.log``), read through the table
API of :mod:`ravenmigrate.sources.esent` (log replay included; docs/esent.md "Table API").

Schema (``Raven.Database/FileSystem/Storage/Esent/SchemaCreator.cs``, ``StorageActionsAccessor.cs``,
v3.0 and v3.5; docs/ravenfs.md §2): ``files`` (``id``, ``name``, ``total_size`` and
``uploaded_size`` as 8-byte little-endian integers, ``total_size`` absent while an upload runs,
``etag`` 16 bytes, ``metadata`` JSON text), ``usage`` (``id``, ``name``, ``file_pos``, ``page_id``,
``page_size``), ``pages`` (``id``, ``data`` the page bytes, hashes, ``usage_count``), ``config``
(``name``, ``metadata``), ``details``. The usage rows are read once into a compact index per file
name (three integers per page); a page is found by seeking the ``pages`` table to its id.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from typing import Any

from ...codecs.encryption import EncryptionSettings, decrypt_ravenfs_page
from ...errors import SourceError
from ...records import File, Position
from ..voron.metadata import etag_text
from .source import SECTION, RavenFSSource
from .storage import FileRow, PagedContent, row

TABLES = ("files", "usage", "pages")


def long_key(value: int) -> bytes:
    """ESE's normalized key of a non-null signed 32-bit ``Long`` column, ascending: ``0x7f`` then the
    value big-endian with its sign bit flipped."""
    return b"\x7f" + ((value + (1 << 31)) & 0xFFFFFFFF).to_bytes(4, "big")


def int64(value: Any) -> int | None:
    return int.from_bytes(value, "little", signed=True) if isinstance(value, bytes) and len(value) == 8 else None


class EsentRavenFS:
    """The open store: files, configuration, and each file's pages in order."""

    def __init__(self, store: Any, encryption: EncryptionSettings | None) -> None:
        self.store = store
        self.shown = store.path
        self.encryption = encryption
        missing = [t for t in TABLES if t not in store.tables]
        if missing:
            raise SourceError(f"no {', '.join(missing)} table: not the storage of a RavenFS file system",
                              path=self.shown)
        self.pages_table = store.table("pages")
        self._usage: dict[str, array] | None = None

    def close(self) -> None:
        self.store.close()

    def files(self) -> Iterator[FileRow]:
        for n, r in enumerate(self.store.table("files").rows()):
            name, metadata = r.get("name"), r.get("metadata")
            where = f"files row {n} ({name!r})"
            raw_etag = r.get("etag")
            value = {"name": name, "total_size": int64(r.get("total_size")), "uploaded_size": int64(r.get("uploaded_size")),
                     "etag": etag_text(raw_etag) if isinstance(raw_etag, bytes) and len(raw_etag) == 16 else None,
                     "metadata": self._json(metadata, where)}
            yield FileRow(str(name).lower().encode("utf-8"), value, self.shown)

    def configs(self) -> Iterator[tuple[str, Any]]:
        if "config" not in self.store.tables:
            return
        for n, r in enumerate(self.store.table("config").rows()):
            yield str(r.get("name")), self._json(r.get("metadata"), f"config row {n}")

    def _json(self, value: Any, where: str) -> dict[str, Any] | None:
        """A JSON column: text (``LongText``), or bytes (JSON or BSON) in the oldest schemas; ``None``
        when the column is empty."""
        if isinstance(value, str):
            value = value.encode("utf-8")
        return row(value, where, self.shown) if isinstance(value, bytes) else None

    def _index(self) -> dict[str, array]:
        """``name`` (lower-cased) -> ``array('q')`` of ``(file_pos, page_id, page_size)`` triples."""
        if self._usage is None:
            usage: dict[str, array] = {}
            for r in self.store.table("usage").rows():
                values = (r.get("file_pos"), r.get("page_id"), r.get("page_size"))
                if not all(isinstance(v, int) for v in values):
                    raise SourceError(f"usage row {r.get('id')!r} of {r.get('name')!r}: file_pos, page_id, page_size "
                                      f"{values}", path=self.shown, section=SECTION)
                usage.setdefault(str(r.get("name")).lower(), array("q")).extend(values)
            self._usage = usage
        return self._usage

    def page_refs(self, file: FileRow) -> Iterator[tuple[int, int, int]]:
        triples = self._index().get(file.name.lower(), array("q"))
        refs = sorted(zip(triples[0::3], triples[1::3], triples[2::3], strict=True))
        for expected, (ordinal, page_id, size) in enumerate(refs):
            if ordinal != expected:
                raise SourceError(f"file {file.name!r}: page {expected} has no usage row (next is page {ordinal}); "
                                  "the storage is corrupt", path=self.shown, section=SECTION)
            yield ordinal, size, page_id

    def page(self, file_name: str, ordinal: int, size: int, page_id: int) -> bytes:
        where = f"file {file_name!r}, page {ordinal} (pages id {page_id})"
        found = next(iter(self.pages_table.rows(low=long_key(page_id))), None)
        if found is None or found.get("id") != page_id:
            raise SourceError(f"{where}: no page data", path=self.shown, section=SECTION)
        data = found.get("data") or b""
        if self.encryption is not None:
            data = decrypt_ravenfs_page(self.encryption, data, path=f"{self.shown}: {where}")
        if len(data) != size:
            raise SourceError(f"{where}: {len(data)} bytes stored, the usage row says {size}"
                              + ("" if self.encryption else " (an encrypted file system needs --encryption-key)"),
                              path=self.shown, section=SECTION)
        return data


class RavenFSEsentSource(RavenFSSource):
    """A RavenFS file system in Esent storage: data directory, backup directory or backup zip."""

    era = "3.x RavenFS (Esent)"
    kind = "ravenfs-esent"

    def __init__(self, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
                 encryption: EncryptionSettings | None = None, force_dirty: bool = False) -> None:
        super().__init__(path, journals_path=journals_path, encryption=encryption)
        self.force_dirty = force_dirty

    def _records(self, after: int) -> Iterator[File]:
        from ..esent import EsentStore

        self.counts = {SECTION: 0}
        self.findings = []
        store = EsentStore.open(self.path, journals_path=self.journals_path, force_dirty=self.force_dirty)
        try:
            fs = EsentRavenFS(store, self.encryption)
        except BaseException:
            store.close()
            raise
        self._storages.append(fs)
        self.configs = list(fs.configs())
        self.info = {"filesystem_document": store.files.side_document, **store.describe()}
        self.findings.extend(store.findings)
        self._total = 0
        self._configuration_finding()
        self._check_encryption()
        for index, file in enumerate(fs.files()):
            if index <= after:
                continue
            self.counts[SECTION] += 1
            pos = Position(source=self.path, section=SECTION, index=index, offset=-1, key=file.name)
            content = PagedContent(fs, file) if file.complete else None
            yield File(file.name.lstrip("/"), content, file.metadata, file.etag, pos)
