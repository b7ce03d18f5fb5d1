"""Just enough C# lexing to edit 3.x index functions: skip string and character literals, find
the closing bracket of a group, split a call's top-level arguments, find the anonymous-object
member a position belongs to. Index functions are the server-normalised text a 3.x export holds
(``docs/indexes.md``), not arbitrary C#."""

from __future__ import annotations

import re
from collections.abc import Iterator

OPEN = "([{"
CLOSE = ")]}"
_MEMBER = re.compile(r"([{,]\s*)(@?\w+)(\s*)=(?![=>])")
_STRING = re.compile(r'^@?"(?:[^"\\]|\\.|"")*"$', re.S)


def skip_literal(text: str, i: int) -> int:
    """Index just past the string or character literal starting at *i* (``"``, ``@"``, ``'``)."""
    if text.startswith('@"', i):
        i += 2
        while i < len(text):
            if text[i] == '"':
                if text.startswith('""', i):
                    i += 2
                    continue
                return i + 1
            i += 1
        return i
    quote = text[i]
    i += 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def is_literal_start(text: str, i: int) -> bool:
    return text[i] in "\"'" or text.startswith('@"', i)


def scan(text: str, i: int = 0, end: int | None = None) -> Iterator[tuple[int, str, int]]:
    """(index, character, nesting depth before it) of the code characters of *text* from *i*,
    string and character literals skipped."""
    depth = 0
    stop = len(text) if end is None else end
    while i < stop:
        if is_literal_start(text, i):
            i = skip_literal(text, i)
            continue
        c = text[i]
        yield i, c, depth
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth -= 1
        i += 1


def matching(text: str, i: int) -> int:
    """Index of the bracket closing the one at *i* (-1 when unbalanced)."""
    for j, c, depth in scan(text, i):
        if c in CLOSE and depth == 1:
            return j
    return -1


def split_top(text: str, separator: str, start: int = 0, end: int | None = None) -> list[str]:
    """*text* (from *start* to *end*) split at *separator* outside brackets and literals."""
    out = []
    for j, c, depth in scan(text, start, end):
        if c == separator and depth == 0:
            out.append(text[start:j])
            start = j + 1
    out.append(text[start:end])
    return out


def arguments(text: str, open_paren: int) -> tuple[list[str], int]:
    """The top-level arguments (stripped) of the call whose ``(`` is at *open_paren*, and the index
    of its ``)``; ``([], -1)`` when unbalanced."""
    end = matching(text, open_paren)
    if end < 0:
        return [], -1
    out = [a.strip() for a in split_top(text, ",", open_paren + 1, end)]
    return ([] if out == [""] else out), end


def string_value(expr: str) -> str | None:
    """The value of a plain C# string literal (``"orders/1"``), else None."""
    expr = expr.strip()
    if not _STRING.match(expr):
        return None
    if expr.startswith("@"):
        return expr[2:-1].replace('""', '"')
    return re.sub(r"\\(.)", r"\1", expr[1:-1])


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def member_at(text: str, pos: int) -> tuple[int, int, str] | None:
    """The innermost anonymous-object member ``Name = value`` whose value contains *pos*:
    (start of the name, end of the name, the name)."""
    best = None
    for m in _MEMBER.finditer(text, 0, pos):
        value_start = m.end()
        if value_start > pos:
            break
        if _value_end(text, value_start) > pos:
            best = (m.start(2), m.end(2), m.group(2))
    return best


def _value_end(text: str, i: int) -> int:
    for j, c, depth in scan(text, i):
        if (c in CLOSE and depth == 0) or (c == "," and depth == 0):
            return j
    return len(text)


def code_positions(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Matches of *pattern* outside string and character literals."""
    spans = literal_spans(text)
    return [m for m in pattern.finditer(text) if not any(s <= m.start() < e for s, e in spans)]


def literal_spans(text: str) -> list[tuple[int, int]]:
    out = []
    i = 0
    while i < len(text):
        if is_literal_start(text, i):
            end = skip_literal(text, i)
            out.append((i, end))
            i = end
        else:
            i += 1
    return out
