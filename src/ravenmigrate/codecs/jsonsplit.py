"""Split a JSON byte stream into values without building Python objects (pure twin of ``ext/jsonsplit.pyx``).

This is the specification of the splitter; ``ravenmigrate._native.jsonsplit`` must behave
byte-identically (same ends, same ``@metadata`` spans, same compacted bytes, same errors).

:class:`Scanner` finds where one JSON value ends in a growing buffer and validates it against the
lenient grammar 3.x importers accept (docs/formats/dumps-3x.md §5, §15.6): trailing commas, ``//`` and
``/* */`` comments, single-quoted strings, bare ``NaN``/``Infinity``. It can be resumed when the
buffer grows (a 300 MB base64 attachment is scanned once, not once per chunk), and it records the
span of the ``@metadata`` value of a top-level object (docs/formats/dumps-3x.md §3.1: usually, but not
necessarily, the last key).

:func:`compact` drops insignificant whitespace, comments and trailing commas from a value the
scanner accepted (3.x writes ``Formatting.Indented`` with CRLF, docs/formats/dumps-3x.md §1).

:func:`raw_unicode` writes the ``\\uXXXX`` escapes of double-quoted strings as raw UTF-8, the way
RavenDB 4.x's own export writes strings (docs/deviations.md): the 4.1 JSON
parser corrupts an escape that a network read splits, and stores an escaped surrogate pair as two
U+FFFD. ``\\u0022`` and ``\\u005c`` become ``\\"`` and ``\\\\``; a lone surrogate becomes
U+FFFD (what the server stores for it); other escapes stay as they are.
"""

from __future__ import annotations

import re
from array import array

from .jsonvalue import JSONValueError

__all__ = ["Scanner", "ScanError", "compact", "compact_document", "error_message", "raw_unicode", "NEED_MORE"]

ScanError = JSONValueError
NEED_MORE = -1
SPAN_FIELDS = 8  # int64 per item in the spans scan_compact_items packs

# Parser states (shared with the native twin).
VALUE = 0  # after ':' or at the start: a value must follow
VALUE_OR_CLOSE = 1  # after '[' or ',' in an array
KEY_OR_CLOSE = 2  # after '{' or ',' in an object
COLON = 3  # after a property name
COMMA_OR_CLOSE = 4  # after a value inside a container
DONE = 5

_EXPECTED = {
    VALUE: "a value",
    VALUE_OR_CLOSE: "a value or ']'",
    KEY_OR_CLOSE: "a property name or '}'",
    COLON: "':'",
}

_WS = b" \t\r\n\f\v"
_TOKEN = re.compile(rb"[ \t\r\n\f\v]*+(?:([{\[])|([}\]])|(,)|(:)|([\"'])|(/)|([A-Za-z0-9+\-._]++)|(.))", re.S)
_DQ_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)
_SQ_BODY = re.compile(rb"(?:[^'\\]++|\\.)*+", re.S)
_NUMBER = re.compile(rb"-?[0-9]++(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?")
_LITERALS = frozenset((b"true", b"false", b"null", b"NaN", b"Infinity", b"+Infinity", b"-Infinity"))
_META_KEY = b"@metadata"
_ITEM_GAP = re.compile(rb"[ \t\r\n]*+")


def error_message(state: int, top: int, c: int) -> str:
    """The message for an unexpected byte *c* in *state* (*top*: innermost container byte or 0)."""
    if 0x20 <= c < 0x7F:
        what = f"character {chr(c)!r}"
    else:
        what = f"byte 0x{c:02x}"
    if state == COMMA_OR_CLOSE:
        expected = "',' or '}'" if top == 0x7B else "',' or ']'"
    else:
        expected = _EXPECTED.get(state, "the end of the value")
    return f"unexpected {what}, expected {expected}"


def valid_word(word: bytes) -> bool:
    """A bare token is a JSON number or one of the literals Json.NET reads (docs/formats/dumps-3x.md §5)."""
    return word in _LITERALS or _NUMBER.fullmatch(word) is not None


class Scanner:
    """Resumable end-of-value finder; see the module doc.

    Use: ``reset(pos)`` at the first byte of a value, then ``scan(buf, final)`` until it returns
    the end offset (exclusive). It returns ``NEED_MORE`` when *buf* ends inside the value (append
    to the same buffer, never move its contents, and call again); with ``final=True`` the end of
    *buf* is the end of the input. Invalid input raises :class:`ScanError` with the byte offset.
    After a complete value, ``meta_start``/``meta_end`` delimit the value of the last
    ``"@metadata"`` property of the outermost object (``-1`` when there is none).
    """

    __slots__ = ("pos", "state", "stack", "in_string", "token_start", "meta_pending", "meta_candidate",
                 "meta_start", "meta_end")

    def __init__(self) -> None:
        self.reset(0)

    def reset(self, pos: int) -> None:
        self.pos = pos
        self.state = VALUE
        self.stack = bytearray()
        self.in_string = 0
        self.token_start = -1
        self.meta_pending = False
        self.meta_candidate = -1
        self.meta_start = -1
        self.meta_end = -1

    def _value_begin(self, start: int) -> None:
        if self.meta_pending and len(self.stack) == 1:
            self.meta_candidate = start

    def _value_end(self, end: int) -> bool:
        """A value ended at *end*; True when it was the outermost one."""
        depth = len(self.stack)
        if depth == 0:
            self.state = DONE
            self.pos = end
            return True
        if depth == 1 and self.meta_pending:
            self.meta_start = self.meta_candidate
            self.meta_end = end
            self.meta_pending = False
        self.state = COMMA_OR_CLOSE
        return False

    def _string_done(self, buf, start: int, end: int) -> bool:
        state = self.state
        if state == KEY_OR_CLOSE:
            if len(self.stack) == 1:
                self.meta_pending = buf[start + 1:end - 1] == _META_KEY
            self.state = COLON
            return False
        if state == VALUE or state == VALUE_OR_CLOSE:
            self._value_begin(start)
            return self._value_end(end)
        raise ScanError(error_message(state, self.stack[-1] if self.stack else 0, buf[start]), start)

    def scan(self, buf, final: bool = False) -> int:
        n = len(buf)
        pos = self.pos
        stack = self.stack
        if self.in_string:
            if self._resume_string(buf, n):
                return self.pos
            if self.in_string:
                return self._need_more(final, self.token_start)
            pos = self.pos
        token = _TOKEN.match
        while True:
            m = token(buf, pos)
            if m is None:  # only whitespace left
                self.pos = n
                return self._need_more(final, n)
            kind = m.lastindex
            start = m.end() - 1 if kind != 7 else m.start(7)
            state = self.state
            if kind == 1:  # { [
                if state != VALUE and state != VALUE_OR_CLOSE:
                    raise ScanError(error_message(state, stack[-1] if stack else 0, buf[start]), start)
                self._value_begin(start)
                c = buf[start]
                stack.append(c)
                self.state = KEY_OR_CLOSE if c == 0x7B else VALUE_OR_CLOSE
                pos = start + 1
            elif kind == 2:  # } ]
                c = buf[start]
                top = stack[-1] if stack else 0
                if not ((state == COMMA_OR_CLOSE and c == top + 2)
                        or (state == KEY_OR_CLOSE and c == 0x7D) or (state == VALUE_OR_CLOSE and c == 0x5D)):
                    raise ScanError(error_message(state, top, c), start)
                stack.pop()
                pos = start + 1
                if self._value_end(pos):
                    return pos
            elif kind == 3:  # ,
                if state != COMMA_OR_CLOSE:
                    raise ScanError(error_message(state, stack[-1] if stack else 0, 0x2C), start)
                self.state = KEY_OR_CLOSE if stack[-1] == 0x7B else VALUE_OR_CLOSE
                pos = start + 1
            elif kind == 4:  # :
                if state != COLON:
                    raise ScanError(error_message(state, stack[-1] if stack else 0, 0x3A), start)
                self.state = VALUE
                pos = start + 1
            elif kind == 5:  # string
                self.in_string = buf[start]
                self.token_start = start
                self.pos = start + 1
                if self._resume_string(buf, n):
                    return self.pos
                if self.in_string:
                    return self._need_more(final, start)
                pos = self.pos
            elif kind == 6:  # comment
                end = self._comment_end(buf, start, n, final)
                if end < 0:
                    self.pos = start
                    return NEED_MORE
                pos = end
            elif kind == 7:  # bare word: number or literal
                end = m.end()
                if end == n and not final:
                    self.pos = start
                    return NEED_MORE
                if state != VALUE and state != VALUE_OR_CLOSE:
                    raise ScanError(error_message(state, stack[-1] if stack else 0, buf[start]), start)
                word = bytes(buf[start:end])
                if not valid_word(word):
                    raise ScanError(f"invalid literal {word[:40].decode('latin-1')!r}", start)
                self._value_begin(start)
                if self._value_end(end):
                    return end
                pos = end
            else:
                raise ScanError(error_message(state, stack[-1] if stack else 0, buf[start]), start)

    def scan_items(self, buf, pos: int, limit: int) -> tuple[list[tuple[int, int, int, int]], int]:
        """The common case of an array, fast: ``{...}`` items each followed by ``,``.

        From *pos*, repeatedly: skip spaces/tabs/CR/LF, require ``{``, scan the object, skip
        spaces/tabs/CR/LF, require ``,``. Stops (without consuming) at anything else: the end of
        *buf*, ``]``, a comment, an incomplete or invalid item; the caller's general path takes
        over there. Returns ``[(start, end, meta_start, meta_end), ...]`` and the position after
        the last consumed ``,``. The scanner's own fields are unspecified afterwards (the native
        twin scans strict items outside them): :meth:`reset` before :meth:`scan`.
        """
        items: list[tuple[int, int, int, int]] = []
        n = len(buf)
        gap = _ITEM_GAP.match
        while len(items) < limit:
            p = gap(buf, pos).end()
            if p >= n or buf[p] != 0x7B:
                break
            self.reset(p)
            try:
                end = self.scan(buf, False)
            except ScanError:
                break
            if end < 0:
                break
            q = gap(buf, end).end()
            if q >= n or buf[q] != 0x2C:
                break
            items.append((p, end, self.meta_start, self.meta_end))
            pos = q + 1
        return items, pos

    def scan_spans(self, buf, pos: int, limit: int) -> tuple[array, int]:
        """:meth:`scan_items` with the spans packed: ``start, end, meta_start, meta_end`` of each item
        one after the other in an ``array('q')`` (no Python object per item), and the position."""
        items, pos = self.scan_items(buf, pos, limit)
        return array("q", [v for item in items for v in item]), pos

    def scan_compact_items(self, buf, pos: int, limit: int) -> tuple[array, bytes, int]:
        """:meth:`scan_items` and, in the same pass, the items compacted (:func:`compact_document`).

        Returns the spans packed (:data:`SPAN_FIELDS` int64 per item: the item's ``start, end,
        meta_start, meta_end`` in *buf*, then its ``start, end, meta_start, meta_end`` in the
        compact bytes, the items one after the other), the compact bytes, and the position. Packed,
        so that a batch of thousands of documents costs no Python object per document. The compact
        ``meta_start``/``meta_end`` are -1 when the item has no ``@metadata`` value and also when
        it holds lenient JSON (a comment, a single-quoted string or a trailing comma): compaction
        changes those, and the fast lane (``docrun``) must treat them as the raw item.
        """
        items, pos = self.scan_items(buf, pos, limit)
        out = bytearray()
        spans = array("q")
        for start, end, ms, me in items:
            k = len(out)
            if ms >= 0:
                data, cms, cme = compact_document(buf, start, end, ms, me)
                cms, cme = cms + k, cme + k
            else:
                data, cms, cme = compact(buf, start, end), -1, -1
            if _lenient(bytes(memoryview(buf)[start:end])):
                cms = cme = -1
            out += data
            spans.extend((start, end, ms, me, k, len(out), cms, cme))
        return spans, bytes(out), pos

    def _resume_string(self, buf, n: int) -> bool:
        """Continue inside a string; True when that string completed the outermost value."""
        quote = self.in_string
        end = (_DQ_BODY if quote == 0x22 else _SQ_BODY).match(buf, self.pos).end()
        if end >= n or buf[end] != quote:
            self.pos = end  # at the end of buf, or at a backslash whose escaped byte is not here yet
            return False
        self.in_string = 0
        self.pos = end + 1
        return self._string_done(buf, self.token_start, end + 1)

    def _need_more(self, final: bool, at: int) -> int:
        if final:
            what = "a string" if self.in_string else "a value"
            raise ScanError(f"unexpected end of input inside {what}", at)
        return NEED_MORE

    def _comment_end(self, buf, start: int, n: int, final: bool) -> int:
        if start + 1 >= n:
            if final:
                raise ScanError("unexpected character '/', expected a comment", start)
            return -1
        nxt = buf[start + 1]
        if nxt == 0x2F:  # //
            end = buf.find(b"\n", start + 2)
            if end < 0:
                return n if final else -1
            return end + 1
        if nxt == 0x2A:  # /*
            end = buf.find(b"*/", start + 2)
            if end < 0:
                if final:
                    raise ScanError("unterminated comment", start)
                return -1
            return end + 2
        raise ScanError("unexpected character '/', expected a comment", start)


_C_SKIP = rb"(?:[ \t\r\n\f\v]++|//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+\*/)"
_COMPACT = re.compile(
    rb"(\"(?:[^\"\\]++|\\.)*+\"|'(?:[^'\\]++|\\.)*+')|" + _C_SKIP + rb"|,(?=" + _C_SKIP + rb"*+[\]}])", re.S)


_LENIENT = re.compile(rb'"(?:[^"\\]++|\\.)*+"|([\'/]|,(?=[ \t\r\n\f\v]*+[\]}]))', re.S)


def _lenient(value: bytes) -> bool:
    """A value the scanner accepted holds a comment, a single-quoted string or a trailing comma."""
    return any(m.group(1) is not None for m in _LENIENT.finditer(value))


def utf8_valid(buf, start: int, end: int) -> bool:
    """Whether ``buf[start:end]`` is UTF-8 as Python's strict decoder accepts it (no surrogates,
    overlong forms or code points past U+10FFFF). The native twin checks without decoding."""
    with memoryview(buf) as view, view[start:end] as part:
        try:
            str(part, "utf-8")
        except UnicodeDecodeError:
            return False
    return True


_SIMPLE_ESCAPES = frozenset(b"\"\\/bfnrt'")
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")


def escape_error(buf, start: int, end: int) -> int:
    """The index of the first backslash in ``buf[start:end]`` that does not start an escape 3.x's
    Json.NET reads (``\\b \\t \\n \\f \\r \\\\ \\" \\' \\/ \\uXXXX``; anything else is its "Bad JSON
    escape sequence"), or -1. Backslashes are taken in pairs from the left, inside strings or not
    (the scanner refuses one outside a string). The native twin skips to each backslash with memchr."""
    find = buf.find
    at = find(b"\\", start, end)
    while at >= 0:
        c = buf[at + 1] if at + 1 < end else -1
        if c in _SIMPLE_ESCAPES:
            at = find(b"\\", at + 2, end)
        elif c == 0x75 and _HEX4.fullmatch(buf, at + 2, min(at + 6, end)):  # \uXXXX
            at = find(b"\\", at + 6, end)
        else:
            return at
    return -1

def compact(buf, start: int, end: int) -> bytes:
    """``buf[start:end]`` without whitespace, comments and trailing commas outside strings."""
    return _COMPACT.sub(rb"\1", bytes(memoryview(buf)[start:end]))


def compact_document(buf, start: int, end: int, meta_start: int, meta_end: int) -> tuple[bytes, int, int]:
    """:func:`compact` of ``buf[start:end]`` and where ``buf[meta_start:meta_end]`` ended up in it.

    ``meta_start``/``meta_end`` must be token boundaries inside the value (what the scanner
    reports); the three pieces compact independently because a comma never precedes a value.
    """
    head = compact(buf, start, meta_start)
    meta = compact(buf, meta_start, meta_end)
    return head + meta + compact(buf, meta_end, end), len(head), len(head) + len(meta)


_STRING_WITH_U = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_ESCAPE = re.compile(rb"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|.)", re.S)
_REPLACEMENT = "\ufffd".encode()


def _unescape(m: re.Match) -> bytes:
    if m.group(1) is not None:
        hi, lo = int(m.group(1), 16), int(m.group(2), 16)
        return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).encode()
    if m.group(3) is None:
        return m.group(0)
    code = int(m.group(3), 16)
    if code == 0x22:
        return b'\\"'
    if code == 0x5C:
        return b"\\\\"
    if 0xD800 <= code < 0xE000:
        return _REPLACEMENT
    return chr(code).encode()


def _string(m: re.Match) -> bytes:
    token = m.group(0)
    return _ESCAPE.sub(_unescape, token) if b"\\u" in token else token


def raw_unicode(data: bytes) -> bytes:
    """*data* (compact JSON) with every ``\\uXXXX`` escape of its double-quoted strings written raw
    (see the module docstring); *data* itself when it has none."""
    if b"\\u" not in data:
        return data
    return _STRING_WITH_U.sub(_string, data)
