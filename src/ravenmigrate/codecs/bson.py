"""Pure twin of ``ravenmigrate._native.bson``: RavenDB-BSON document bodies → compact JSON bytes.

docs/formats/dumps-3x.md §11.1 and docs/formats/storage-3x.md §2: 1.x/2.x stored bodies and metadata as BSON written by
RavenDB's fork of Json.NET, which adds type 0x13 (.NET ``decimal``, 16 bytes: lo, mid, hi, flags as
int32 LE) and type 0x1E (``RavenDBCustomFloat``, a 4-byte float32); dates are BSON dates in ms with
an unspecified ``DateTimeKind``. The JSON text is what 3.x writes for the same value (Json.NET
rendering; see docs/bundles.md "BSON to JSON"):

- int32/int64/timestamp: the integer; bool, null (undefined → null);
- double: .NET Framework ``"R"`` (15 significant digits if they round-trip, else 17), float32: the
  single-precision ``"R"`` (7 digits if they round-trip to the same float32, else 9), so a stored
  ``3.3f`` gives ``3.3``, not its widened double ``3.299999952316284``; both with Json.NET's
  "ensure a decimal place" (``5`` → ``5.0``); NaN/±Infinity become the strings "NaN", "Infinity",
  "-Infinity" so the output stays valid JSON;
- decimal: exact digits with its scale (``32.380`` keeps its zero), ensure a decimal place;
- date: ``"yyyy-MM-ddTHH:mm:ss.fffffff"`` (no zone suffix: kind unspecified);
- binary and ObjectId: base64 strings; regex: ``"/pattern/options"``; code, symbol: strings;
  code with scope: ``{"$code":…,"$scope":{…}}``; DBPointer: ``{"$ref":…,"$id":base64}``.
Strings are escaped as Json.NET does: ``"``, ``\\``, ``\\b \\t \\n \\f \\r``, other controls and
U+0085, U+2028, U+2029 as ``\\uXXXX`` (lower-case hex); everything else is raw UTF-8.
Invalid UTF-8 in a string decodes with U+FFFD, as .NET's ``Encoding.UTF8`` does.
"""

from __future__ import annotations

import base64
import datetime
import math
import re
import struct

_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r",
    "\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029",
}
for _c in range(0x20):
    _ESCAPES.setdefault(chr(_c), f"\\u{_c:04x}")
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\u0085\u2028\u2029]')
_EPOCH = datetime.datetime(1970, 1, 1)
_F32 = struct.Struct("<f")


def quote(text: str) -> str:
    """A JSON string literal escaped the Json.NET way."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text) + '"'


def _ensure_decimal_place(text: str) -> str:
    return text if ("." in text or "E" in text) else text + ".0"


def _non_finite(v: float) -> str | None:
    if math.isnan(v):
        return '"NaN"'
    if math.isinf(v):
        return '"Infinity"' if v > 0 else '"-Infinity"'
    return None


def format_double(v: float) -> str:
    """.NET Framework ``double.ToString("R")`` + Json.NET's decimal place (see module docstring)."""
    nf = _non_finite(v)
    if nf is not None:
        return nf
    s = f"{v:.15g}"
    if float(s) != v:
        s = f"{v:.17g}"
    return _ensure_decimal_place(s.replace("e", "E"))


def format_float32(v: float) -> str:
    """.NET Framework ``float.ToString("R")`` + Json.NET's decimal place (see module docstring)."""
    nf = _non_finite(v)
    if nf is not None:
        return nf
    s = f"{v:.7g}"
    try:
        same = _F32.unpack(_F32.pack(float(s)))[0] == v
    except OverflowError:
        same = False
    if not same:
        s = f"{v:.9g}"
    return _ensure_decimal_place(s.replace("e", "E"))


def format_decimal(raw: bytes) -> str:
    """A .NET ``decimal`` (lo, mid, hi, flags; int32 LE each) as ``decimal.ToString()`` writes it."""
    lo, mid, hi, flags = struct.unpack("<IIIi", raw)
    scale = (flags >> 16) & 0xFF
    if scale > 28 or flags & 0x7F00FFFF:
        raise ValueError(f"invalid .NET decimal flags 0x{flags & 0xFFFFFFFF:08x}")
    digits = str((hi << 64) | (mid << 32) | lo)
    if scale:
        digits = digits.rjust(scale + 1, "0")
        digits = digits[:-scale] + "." + digits[-scale:]
    if flags < 0 and digits.strip("0.") != "":
        digits = "-" + digits
    return _ensure_decimal_place(digits)


def format_date(ms: int) -> str:
    """BSON date (ms since the Unix epoch) as 3.x writes an unspecified-kind DateTime ("o")."""
    try:
        d = _EPOCH + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        raise ValueError(f"date {ms} ms since 1970 is outside years 1..9999") from None
    return f'"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond * 10:07d}"'


class _Walker:
    __slots__ = ("data", "out")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.out: list[str] = []

    def fail(self, pos: int, msg: str) -> ValueError:
        return ValueError(f"BSON offset {pos}: {msg}")

    def need(self, pos: int, n: int) -> None:
        if n < 0 or pos + n > len(self.data):
            raise self.fail(pos, f"needs {n} bytes but only {len(self.data) - pos} remain")

    def int32(self, pos: int) -> int:
        self.need(pos, 4)
        return int.from_bytes(self.data[pos : pos + 4], "little", signed=True)

    def cstring(self, pos: int) -> tuple[str, int]:
        end = self.data.find(b"\x00", pos)
        if end < 0:
            raise self.fail(pos, "unterminated name (no NUL byte)")
        return self.data[pos:end].decode("utf-8", "replace"), end + 1

    def string(self, pos: int) -> tuple[str, int]:
        n = self.int32(pos)
        if n < 1:
            raise self.fail(pos, f"string length {n} < 1")
        self.need(pos + 4, n)
        if self.data[pos + 3 + n] != 0:
            raise self.fail(pos + 3 + n, "string is not NUL-terminated")
        return self.data[pos + 4 : pos + 3 + n].decode("utf-8", "replace"), pos + 4 + n

    def document(self, pos: int, array: bool) -> int:
        size = self.int32(pos)
        if size < 5:
            raise self.fail(pos, f"document size {size} < 5")
        self.need(pos, size)
        end = pos + size - 1
        if self.data[end] != 0:
            raise self.fail(end, "document does not end with a NUL byte")
        out = self.out
        out.append("[" if array else "{")
        p = pos + 4
        first = True
        while p < end:
            t = self.data[p]
            name, p = self.cstring(p + 1)
            if p > end:
                raise self.fail(p, "element name runs past the end of its document")
            if not first:
                out.append(",")
            first = False
            if not array:
                out.append(quote(name))
                out.append(":")
            p = self.value(t, p)
            if p > end:
                raise self.fail(p, "element runs past the end of its document")
        if p != end:
            raise self.fail(p, "document content does not end at its declared size")
        out.append("]" if array else "}")
        return pos + size

    def value(self, t: int, p: int) -> int:
        data, out = self.data, self.out
        if t == 0x02 or t == 0x0D or t == 0x0E:
            s, p = self.string(p)
            out.append(quote(s))
            return p
        if t == 0x03 or t == 0x04:
            return self.document(p, t == 0x04)
        if t == 0x10:
            out.append(str(self.int32(p)))
            return p + 4
        if t == 0x12 or t == 0x11:
            self.need(p, 8)
            out.append(str(int.from_bytes(data[p : p + 8], "little", signed=True)))
            return p + 8
        if t == 0x01:
            self.need(p, 8)
            out.append(format_double(struct.unpack_from("<d", data, p)[0]))
            return p + 8
        if t == 0x1E:
            self.need(p, 4)
            out.append(format_float32(_F32.unpack_from(data, p)[0]))
            return p + 4
        if t == 0x13:
            self.need(p, 16)
            try:
                out.append(format_decimal(data[p : p + 16]))
            except ValueError as exc:
                raise self.fail(p, str(exc)) from None
            return p + 16
        if t == 0x08:
            self.need(p, 1)
            out.append("true" if data[p] else "false")
            return p + 1
        if t == 0x0A or t == 0x06:
            out.append("null")
            return p
        if t == 0x09:
            self.need(p, 8)
            try:
                out.append(format_date(int.from_bytes(data[p : p + 8], "little", signed=True)))
            except ValueError as exc:
                raise self.fail(p, str(exc)) from None
            return p + 8
        if t == 0x05:
            n = self.int32(p)
            self.need(p + 5, n)
            start, stop = p + 5, p + 5 + n
            if data[p + 4] == 0x02:  # old binary subtype: an inner int32 length first
                inner = self.int32(start)
                if inner != n - 4:
                    raise self.fail(start, f"old binary inner length {inner} != {n - 4}")
                start += 4
            out.append('"' + base64.b64encode(data[start:stop]).decode("ascii") + '"')
            return stop
        if t == 0x07:
            self.need(p, 12)
            out.append('"' + base64.b64encode(data[p : p + 12]).decode("ascii") + '"')
            return p + 12
        if t == 0x0B:
            pattern, p = self.cstring(p)
            options, p = self.cstring(p)
            out.append(quote(f"/{pattern}/{options}"))
            return p
        if t == 0x0C:
            ref, p = self.string(p)
            self.need(p, 12)
            out.append('{"$ref":' + quote(ref) + ',"$id":"' + base64.b64encode(data[p : p + 12]).decode("ascii") + '"}')
            return p + 12
        if t == 0x0F:
            total = self.int32(p)
            self.need(p, total)
            code, q = self.string(p + 4)
            out.append('{"$code":' + quote(code) + ',"$scope":')
            q = self.document(q, False)
            out.append("}")
            if q != p + total:
                raise self.fail(p, f"code-with-scope size {total} does not match its content")
            return q
        raise self.fail(p - 1, f"unknown BSON element type 0x{t:02x}")


def to_json(data: bytes) -> bytes:
    """Compact JSON (UTF-8, no BOM) for the BSON document at the start of *data*.

    Bytes after the document are ignored, like RavenDB's reader. Malformed input raises
    ``ValueError("BSON offset N: ...")``.
    """
    w = _Walker(bytes(data))
    w.document(0, False)
    return "".join(w.out).encode("utf-8")
