"""A fast record decoder for the column kinds RavenDB's tables use (docs/esent.md "Table API").

ESE's record layout (``dev/ese/src/ese/rec.cxx``, ``tagfld.hxx``): a 4-byte header (last fixed
column id, last variable column id, end of the fixed data), the fixed columns in id order with a
null bitmap after them, the variable columns' end offsets (high bit: null) and data, then the
tagged columns: an array of 4-byte ``TAGFLD`` entries (column id, offset with the
``fNullSmallPage``/``fExtendedInfo`` bits on pages up to 8 KB) followed by their data, each value
led by a flags byte when it has extended info (separated long value, compressed, multi-valued).

Anything else (multi-values, defaults of columns added after the row was written, GUID and bit
columns) returns :data:`FALLBACK` and the caller asks ``dissect.esedb``'s decoder, which is the
reference this one is tested against on every row of the real file.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial
from typing import Any

from dissect.esedb import compression

FALLBACK = object()
_NUMBERS = {2: "<B", 3: "<h", 4: "<i", 5: "<q", 6: "<f", 7: "<d", 8: "<q", 14: "<I", 15: "<q", 17: "<H"}
_BINARY, _TEXT, _LONG_BINARY, _LONG_TEXT = 9, 10, 11, 12
_CODECS = {1200: "utf-16-le", 1252: "cp1252", 20127: "ascii"}
_SEPARATED, _COMPRESSED, _MULTI, _TWO, _NULL, _ENCRYPTED = 0x04, 0x02, 0x08, 0x10, 0x20, 0x40


def _number(fmt: struct.Struct, raw: Any) -> Any:
    return fmt.unpack_from(raw)[0] if len(raw) >= fmt.size else FALLBACK


def _text(codec: str, raw: Any) -> str:
    return bytes(raw).decode(codec, "backslashreplace").rstrip("\x00")


class ColumnReader:
    """Per-table decoding plan: column name -> (id, fixed offset, fixed size, kind, parse)."""

    def __init__(self, table: Any, small_pages: bool) -> None:
        self.table = table
        self.small = small_pages
        self.plan: dict[str, tuple] = {}
        for column in table.columns:
            coltyp = column.type.value
            parse: Callable[[Any], Any] | None = None
            if coltyp in _NUMBERS:
                parse = partial(_number, struct.Struct(_NUMBERS[coltyp]))
            elif coltyp in (_BINARY, _LONG_BINARY):
                parse = bytes
            elif coltyp in (_TEXT, _LONG_TEXT):
                codec = _CODECS.get(int(column.encoding.value) if column.encoding is not None else 20127)
                if codec is not None:
                    parse = partial(_text, codec)
            offset = getattr(column, "_offset", None)
            size = column.size if column.identifier < 128 else None
            absent = None if column.default is None else FALLBACK
            self.plan[column.name] = (column.identifier, offset, size, parse, absent)

    def get(self, data: memoryview | bytes, name: str) -> Any:
        """The typed value of column *name* in record *data*, ``None`` when null, or :data:`FALLBACK`."""
        ident, offset, size, parse, absent = self.plan[name]
        if parse is None or len(data) < 4:
            return FALLBACK
        last_fixed, last_var, end_fixed = data[0], data[1], data[2] | data[3] << 8
        if ident < 128:
            if ident > last_fixed or offset is None:
                return FALLBACK
            bit = ident - 1
            bitmap = end_fixed - ((last_fixed + 7) // 8)
            if data[bitmap + (bit >> 3)] & (1 << (bit & 7)):
                return None
            return parse(data[4 + offset:4 + offset + size])
        num_var = last_var - 127 if last_var >= 128 else 0
        var_data = end_fixed + 2 * num_var
        if ident < 256:
            if ident > last_var:
                return FALLBACK
            i = ident - 128
            end = data[end_fixed + 2 * i] | data[end_fixed + 2 * i + 1] << 8
            if end & 0x8000:
                return None
            start = 0 if i == 0 else (data[end_fixed + 2 * i - 2] | data[end_fixed + 2 * i - 1] << 8) & 0x7FFF
            return parse(data[var_data + start:var_data + end])
        tagged = var_data
        if num_var:
            tagged += (data[end_fixed + 2 * num_var - 2] | data[end_fixed + 2 * num_var - 1] << 8) & 0x7FFF
        if len(data) < tagged + 4:
            return FALLBACK
        first = int.from_bytes(data[tagged:tagged + 4], "little")
        count = ((first >> 16) & (0x1FFF if self.small else 0x7FFF)) // 4
        for i in range(count):
            entry = int.from_bytes(data[tagged + 4 * i:tagged + 4 * i + 4], "little")
            cid = entry & 0xFFFF
            if cid < ident:
                continue
            if cid > ident:
                return absent
            word = entry >> 16
            if word & 0x8000:  # a derived column of a template table
                return FALLBACK
            start = word & (0x1FFF if self.small else 0x7FFF)
            if i + 1 < count:
                end = (int.from_bytes(data[tagged + 4 * i + 6:tagged + 4 * i + 8], "little")
                       & (0x1FFF if self.small else 0x7FFF))
            else:
                end = len(data) - tagged
            if self.small and word & 0x2000:
                return None
            extended = bool(word & 0x4000) if self.small else True
            value = data[tagged + start:tagged + end]
            flags = 0
            if extended:
                flags = value[0] if len(value) else 0
                value = value[1:]
            if flags & (_MULTI | _TWO | _ENCRYPTED):
                return FALLBACK
            if flags & _NULL:
                return None
            if flags & _SEPARATED:
                value = self.table.get_long_value(bytes(value))
            elif flags & _COMPRESSED:
                value = compression.decompress(value)
            return parse(value)
        return absent
