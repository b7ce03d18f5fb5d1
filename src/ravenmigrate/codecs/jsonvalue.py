"""Lenient JSON values as RavenDB 1.x-3.5 wrote and read them (docs/formats/dumps-3x.md §5, §15.6-§15.8).

``loads`` accepts everything Json.NET-based 3.x importers accept: trailing commas, ``//`` and
``/* */`` comments, single-quoted strings, bare ``NaN``/``Infinity``/``-Infinity`` (2.5 writes
them bare), a leading BOM, raw control characters inside strings, and duplicate keys (last wins,
like ``RavenJObject.Load``). Strict input takes ``orjson`` (when installed) or the C-accelerated stdlib decoder; numbers
never end up as Python ``float``: integers become
``int``, every other number (and the bare symbols) a ``decimal.Decimal`` that keeps its text, so
``14.0`` stays ``14.0``.

``dumps`` writes compact UTF-8 JSON and keeps ``Decimal`` text exactly; ``NaN``/``Infinity`` are
written quoted, as 3.x writers do (``FloatFormatHandling.String``, docs/formats/dumps-3x.md §5).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

__all__ = ["JSONValueError", "loads", "dumps"]


class JSONValueError(ValueError):
    """Invalid JSON; ``pos`` is the byte offset inside the input where parsing failed."""

    def __init__(self, message: str, pos: int) -> None:
        self.pos = pos
        self.reason = message
        super().__init__(f"{message} at byte {pos}")


# orjson (the optional "fast" extra: strict JSON without floats is taken as is) saves about 0.8 us
# per metadata object, but importing it costs about 12 ms (it imports dataclasses, uuid and
# platform). The lanes of convert and load parse almost nothing in Python, so it is imported only
# once this many values have been parsed here, when it starts to pay back.
ORJSON_AFTER = 10_000


class LazyOrjson:
    """orjson's ``loads``, imported once :meth:`get` was asked *after* times (and the "fast" extra is
    installed). ``loads`` is False until then, afterwards orjson's ``loads`` or None (not installed):
    a caller reads it first and asks :meth:`get` only while it is False."""

    __slots__ = ("after", "asked", "loads")

    def __init__(self, after: int) -> None:
        self.after = after
        self.asked = 0
        self.loads: Any = False

    def get(self) -> Any:
        """orjson's ``loads`` when this is the *after*-th time or later (None: not installed), else None."""
        self.asked += 1
        if self.asked < self.after:
            return None
        try:
            from orjson import loads
        except ImportError:  # pragma: no cover - depends on the installed extras
            loads = None
        self.loads = loads
        return loads


_FAST = LazyOrjson(ORJSON_AFTER)


def _has_float(value: Any) -> bool:
    """Whether a parsed value holds a float (then it is re-parsed so numbers become Decimal)."""
    t = type(value)
    if t is dict:
        values = value.values()
    elif t is list:
        values = value
    else:
        return t is float
    types = set(map(type, values))
    if float in types:
        return True
    if dict in types or list in types:
        return any(_has_float(v) for v in values if type(v) is dict or type(v) is list)
    return False


MAX_DEPTH = 256
"""Deepest nesting read in a parsed value (``@metadata``, index definitions, identities): deeper is
refused with its offset, so no later step (conversion, writing) runs out of Python stack."""
_INT_DIGITS = 4000  # below Python's int() digit limit (4300); longer integers become Decimal, digits kept
_STRICT = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal, strict=False)
_BOMS = (b"\xef\xbb\xbf",)

# Whitespace and comments between tokens.
_SKIP = re.compile(rb"(?:[ \t\r\n\f\v]++|//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+\*/)*+")
_BARE = re.compile(rb"[A-Za-z0-9+\-._]++")
_NUMBER = re.compile(rb"-?[0-9]++(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?")
_INTEGER = re.compile(rb"-?[0-9]++")
_LITERALS: dict[bytes, Any] = {
    b"true": True,
    b"false": False,
    b"null": None,
    b"NaN": Decimal("NaN"),
    b"Infinity": Decimal("Infinity"),
    b"+Infinity": Decimal("Infinity"),
    b"-Infinity": Decimal("-Infinity"),
}
_DQ_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)
_SQ_BODY = re.compile(rb"(?:[^'\\]++|\\.)*+", re.S)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\", "/": "/"}


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse one JSON value (lenient, see module doc); raises :class:`JSONValueError`."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    elif not isinstance(data, bytes):
        data = bytes(data)
    if data.count(b"{") + data.count(b"[") > MAX_DEPTH:  # maybe deeper than allowed: the parser checks
        return _lenient(data)
    fast = _FAST.loads if _FAST.loads is not False else _FAST.get()
    if fast is not None:
        try:
            value = fast(data)
        except ValueError:
            pass
        else:
            if not _has_float(value):
                return value
    shift = 3 if data.startswith(_BOMS[0]) else 0
    try:
        text = data[shift:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONValueError(f"invalid UTF-8 ({exc.reason})", exc.start + shift) from None
    try:
        value, end = _STRICT.raw_decode(text, len(text) - len(text.lstrip(" \t\r\n")))
        if not text[end:].strip(" \t\r\n"):
            return value
    except (ValueError, RecursionError):  # lenient JSON, a long integer, deep nesting: the parser below says
        pass
    return _lenient(data)


def _lenient(data: bytes) -> Any:
    """The lenient parser over *data* (a leading BOM skipped, error offsets counted with it)."""
    shift = 3 if data.startswith(_BOMS[0]) else 0
    try:
        return _Lenient(data[shift:]).parse()
    except JSONValueError as exc:
        exc.pos += shift
        raise


class _Lenient:
    """Parser over bytes for the Json.NET dialect (the slow, rare path). Iterative: nesting costs
    no Python stack; past :data:`MAX_DEPTH` levels the value is refused with its offset."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def parse(self) -> Any:
        self.skip()
        value = self.value()
        self.skip()
        if self.pos != len(self.data):
            raise JSONValueError("unexpected data after the JSON value", self.pos)
        return value

    def skip(self) -> None:
        self.pos = _SKIP.match(self.data, self.pos).end()

    def value(self) -> Any:
        """One value at ``pos``; containers are kept on an explicit stack of ``[container, key]``."""
        data = self.data
        stack: list[list[Any]] = []
        while True:
            pos = self.pos
            if pos >= len(data):
                raise JSONValueError(_END_INSIDE[type(stack[-1][0])] if stack else
                                     "unexpected end of input, expected a value", pos)
            c = data[pos]
            if c == 0x7B or c == 0x5B:  # { [
                if len(stack) >= MAX_DEPTH:
                    raise JSONValueError(f"nested deeper than {MAX_DEPTH} levels (docs/reliability.md)", pos)
                self.pos = pos + 1
                self.skip()
                container: dict[str, Any] | list[Any] = {} if c == 0x7B else []
                if self.pos < len(data) and data[self.pos] == c + 2:  # } or ]: empty
                    self.pos += 1
                    value: Any = container
                else:
                    stack.append([container, self.key() if c == 0x7B else None])
                    self.skip()
                    continue
            elif c == 0x22 or c == 0x27:  # " '
                value = self.string()
            else:
                value = self.scalar(pos)
            while True:  # place the value, closing every container it completes
                if not stack:
                    return value
                top = stack[-1]
                container = top[0]
                if type(container) is dict:
                    container[top[1]] = value
                    close = 0x7D
                else:
                    container.append(value)
                    close = 0x5D
                self.skip()
                if self.pos >= len(data):
                    raise JSONValueError(_END_INSIDE[type(container)], self.pos)
                c = data[self.pos]
                if c == 0x2C:  # ,
                    self.pos += 1
                    self.skip()
                    if self.pos < len(data) and data[self.pos] == close:  # trailing comma
                        self.pos += 1
                        value = stack.pop()[0]
                        continue
                    if close == 0x7D:
                        top[1] = self.key()
                        self.skip()
                    break
                if c == close:
                    self.pos += 1
                    value = stack.pop()[0]
                    continue
                raise JSONValueError(f"unexpected character {chr(c)!r}, expected ',' or "
                                     f"'{chr(close)}'", self.pos)

    def key(self) -> str:
        """A property name and its ``:``."""
        data = self.data
        if self.pos >= len(data):
            raise JSONValueError("unexpected end of input inside an object", self.pos)
        c = data[self.pos]
        if c not in (0x22, 0x27):
            raise JSONValueError(f"unexpected character {chr(c)!r}, expected a property name", self.pos)
        key = self.string()
        self.skip()
        if self.pos >= len(data) or data[self.pos] != 0x3A:  # :
            raise JSONValueError("expected ':' after a property name", self.pos)
        self.pos += 1
        self.skip()
        return key

    def scalar(self, pos: int) -> Any:
        m = _BARE.match(self.data, pos)
        if not m:
            raise JSONValueError(f"unexpected character {chr(self.data[pos])!r}, expected a value", pos)
        word = m.group()
        self.pos = m.end()
        if word in _LITERALS:
            return _LITERALS[word]
        if _NUMBER.fullmatch(word):
            if _INTEGER.fullmatch(word) and len(word) <= _INT_DIGITS:
                return int(word)
            return Decimal(word.decode("ascii"))  # a long integer keeps its digits (no int() digit limit)
        raise JSONValueError(f"invalid literal {word[:40].decode('ascii', 'replace')!r}", pos)

    def string(self) -> str:
        data, start = self.data, self.pos
        quote = data[start]
        m = (_DQ_BODY if quote == 0x22 else _SQ_BODY).match(data, start + 1)
        end = m.end()
        if end >= len(data) or data[end] != quote:
            raise JSONValueError("unterminated string", start)
        self.pos = end + 1
        raw = data[start + 1:end]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONValueError(f"invalid UTF-8 in string ({exc.reason})", start + 1 + exc.start) from None
        if "\\" not in text:
            return text
        return _unescape(text, start)


_END_INSIDE = {dict: "unexpected end of input inside an object", list: "unexpected end of input inside an array"}


def _unescape(text: str, pos: int) -> str:
    def repl(m: re.Match) -> str:
        esc = m.group(1)
        if len(esc) == 5:
            return chr(int(esc[1:], 16))
        try:
            return _SIMPLE_ESCAPES[esc]
        except KeyError:
            raise JSONValueError(f"invalid escape '\\{esc}' in string", pos) from None

    if text.endswith("\\") and (len(text) - len(text.rstrip("\\"))) % 2:
        raise JSONValueError("unterminated escape in string", pos)
    return _join_surrogates(_ESCAPE.sub(repl, text))


_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_surrogates(text: str) -> str:
    return _SURROGATE_PAIR.sub(lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"), text)


# ---------------------------------------------------------------------------------------------
# dumps
# ---------------------------------------------------------------------------------------------

_SPECIAL_DECIMALS = {"NaN": b'"NaN"', "Infinity": b'"Infinity"', "-Infinity": b'"-Infinity"', "sNaN": b'"NaN"'}


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON for *obj*; ``Decimal`` text is kept as is (``14.0`` stays ``14.0``)."""
    out: list[bytes] = []
    _dump(obj, out.append)
    return b"".join(out)


def _string(s: str) -> bytes:
    try:
        return encode_basestring(s).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: keep it as an escape
        return encode_basestring_ascii(s).encode("ascii")


def _dump(obj: Any, w) -> None:
    if isinstance(obj, str):
        w(_string(obj))
    elif obj is None:
        w(b"null")
    elif obj is True:
        w(b"true")
    elif obj is False:
        w(b"false")
    elif isinstance(obj, int):
        w(int.__repr__(obj).encode("ascii"))
    elif isinstance(obj, Decimal):
        text = str(obj)
        w(_SPECIAL_DECIMALS.get(text) or text.encode("ascii"))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            w(b'"NaN"' if obj != obj else (b'"Infinity"' if obj > 0 else b'"-Infinity"'))
        else:
            w(float.__repr__(obj).encode("ascii"))
    elif isinstance(obj, dict):
        w(b"{")
        first = True
        for k, v in obj.items():
            if not first:
                w(b",")
            first = False
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            w(_string(k))
            w(b":")
            _dump(v, w)
        w(b"}")
    elif isinstance(obj, (list, tuple)):
        w(b"[")
        for i, v in enumerate(obj):
            if i:
                w(b",")
            _dump(v, w)
        w(b"]")
    else:
        raise TypeError(f"cannot write {type(obj).__name__} as JSON")
