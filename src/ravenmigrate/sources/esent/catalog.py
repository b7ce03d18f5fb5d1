"""Tables of an ESE database: the catalog (``MSysObjects``) and rows with typed columns.

The catalog is the tree rooted at page 4 (``pgnoFDPMSO``, ``dev/ese/src/inc/daedef.hxx``); its rows
(table, column, index, long-value tree) are decoded with the same record decoder as user rows.
Record decoding (fixed, variable and tagged columns, multi-values, 7-bit/XPRESS compressed values)
is ``dissect.esedb``'s; page access, tree walks and long values go through :class:`EsentFile` so
that replayed pages are seen (docs/esent.md "Table API").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from dissect.esedb import compression
from dissect.esedb.c_esedb import SYSOBJ, JET_coltyp
from dissect.esedb.record import Record
from dissect.esedb.table import Catalog, Column, Table

from ...errors import SourceError
from .database import EsentFile
from .pages import NEW_RECORD_FORMAT
from .record import FALLBACK, ColumnReader

PGNO_CATALOG = 4
_LV_HEADER = struct.Struct("<2I")


class _Shim:
    """What ``dissect.esedb``'s record decoder asks of its database and node objects."""

    __slots__ = ("flags", "page", "tag", "key", "data", "impacket_compat", "has_small_pages", "page_size")


def _engine(file: EsentFile) -> _Shim:
    shim = _Shim()
    shim.impacket_compat = False
    shim.has_small_pages = file.page_size <= 8192
    shim.page_size = file.page_size
    return shim


def _node(key: bytes, data: bytes) -> _Shim:
    node = _Shim()
    node.key, node.data = key, memoryview(data)
    node.tag = _Shim()
    node.tag.page = _Shim()
    node.tag.page.flags = NEW_RECORD_FORMAT
    return node


class EsentTable(Table):
    """One table: its columns (``columns``, ``column(name)``), rows and long values through the file."""

    def __init__(self, file: EsentFile, name: str, root: int, columns: list[Column] | None = None) -> None:
        super().__init__(_engine(file), name, root, columns=columns)
        self.file = file
        self.lv_root: int | None = None
        self._reader: ColumnReader | None = None

    @property
    def reader(self) -> ColumnReader:
        """The fast decoding plan (built once the catalog has added every column)."""
        if self._reader is None:
            self._reader = ColumnReader(self, self.file.page_size <= 8192)
        return self._reader

    def rows(self, *, low: bytes | None = None) -> Iterator[Row]:
        """Every live row in primary-key order (from the first key ``>= low`` when given)."""
        for key, data, pgno in self.file.leaf_lines(self.root_page, low=low):
            yield Row(self, key, data, pgno)

    def get_long_value(self, key: bytes) -> bytes:
        """A separated long value by its LID (the 4 bytes stored in the record, little-endian)."""
        if self.lv_root is None:
            raise SourceError(f"table {self.name!r} refers to a long value but has no long-value tree",
                              path=self.file.shown)
        lid = bytes(key)[::-1]
        size = None
        chunks = []
        got = 0
        for node_key, data, _ in self.file.seek(self.lv_root, lid):
            if not node_key.startswith(lid):
                break
            if node_key == lid:
                if len(data) < 8:
                    raise SourceError(f"table {self.name!r}: long value {lid.hex()} has a short header",
                                      path=self.file.shown)
                size = _LV_HEADER.unpack_from(data)[1]
                continue
            offset = int.from_bytes(node_key[len(lid):], "big")
            chunks.append((offset, bytes(data)))
        if size is None:
            raise SourceError(f"table {self.name!r}: long value {lid.hex()} is missing from the long-value tree",
                              path=self.file.shown)
        out = []
        for i, (offset, chunk) in enumerate(chunks):
            end = chunks[i + 1][0] if i + 1 < len(chunks) else size
            if offset != got:
                raise SourceError(f"table {self.name!r}: long value {lid.hex()} has a gap at byte {got}",
                                  path=self.file.shown)
            if len(chunk) != end - offset:
                chunk = compression.decompress(chunk)
            out.append(chunk)
            got = end
        if got != size:
            raise SourceError(f"table {self.name!r}: long value {lid.hex()} holds {got} of its {size} bytes",
                              path=self.file.shown)
        return b"".join(out)


class Row:
    """One record: ``row[column]`` or ``row.get(column)`` gives the typed value (``None`` when null);
    ``page``: the leaf page it was read from (``-1`` when not known)."""

    __slots__ = ("table", "key", "data", "page", "_dissect")

    def __init__(self, table: EsentTable, key: bytes, data: bytes, page: int = -1) -> None:
        self.table = table
        self.key = key
        self.data = data
        self.page = page
        self._dissect: Record | None = None

    @property
    def _record(self) -> Record:
        if self._dissect is None:
            self._dissect = Record(self.table, _node(self.key, self.data))
        return self._dissect

    def get(self, column: str) -> Any:
        try:
            value = self.table.reader.get(self.data, column)
            if value is not FALLBACK:
                return value
            return self._record.get(column)
        except KeyError:
            raise
        except SourceError:
            raise
        except Exception as exc:  # a damaged record: dissect raises plain errors of any kind
            raise SourceError(f"table {self.table.name!r}, row key {self.key.hex()}: column {column!r} cannot be "
                              f"decoded ({type(exc).__name__}: {exc})", path=self.table.file.shown) from None

    __getitem__ = get


def read_catalog(file: EsentFile) -> dict[str, EsentTable]:
    """Every table of the database by name, with its columns and long-value tree."""
    meta = EsentTable(file, "MSysObjects", PGNO_CATALOG, columns=list(Catalog.CATALOG_COLUMNS))
    tables: dict[str, EsentTable] = {}
    current: EsentTable | None = None
    for row in meta.rows():
        kind = row.get("Type")
        if kind == SYSOBJ.Table:
            current = EsentTable(file, row.get("Name"), row.get("ColtypOrPgnoFDP"))
            tables[current.name] = current
        elif current is None:
            continue
        elif kind == SYSOBJ.Column:
            try:
                coltyp = JET_coltyp(row.get("ColtypOrPgnoFDP"))
            except ValueError:
                raise SourceError(f"table {current.name!r}: column {row.get('Name')!r} has unknown type "
                                  f"{row.get('ColtypOrPgnoFDP')}", path=file.shown) from None
            current._add_column(Column(row.get("Id"), row.get("Name"), coltyp, record=row._record))
        elif kind == SYSOBJ.LongValue:
            current.lv_root = row.get("ColtypOrPgnoFDP")
    return tables
