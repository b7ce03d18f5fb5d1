"""Read a RavenDB 4.x ``.ravendbdump``: its top-level sections, their elements and their shapes.

Enough of the 4.x format (docs/formats/import-4x.md §11) to check what the dump writer produces against a
real 4.x export: the gzip JSON object, ``BuildVersion`` first (§2), arrays of elements per
section, and the attachment stream framing (an ``@export-type: Attachment`` element followed
immediately by exactly ``Size`` raw bytes, §11). The file is read whole: meant for tests and
inspection of dumps, not for 50 GB imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import SourceError
from ..deflate import gzip_decompressor

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]', re.S)
_SCALAR = re.compile(rb"[^,}\]\s]+")
_WS = re.compile(rb"\s*")
ATTACHMENT_EXPORT_TYPE = "Attachment"
INDEX_DEFINITION_EXPORT_ONLY = frozenset({"Etag"})
"""IndexDefinition members a 4.x export writes that the import does not read."""


@dataclass(slots=True)
class Element:
    """One array element of a section; ``stream`` holds the raw bytes of an attachment stream record."""

    section: str
    index: int
    offset: int
    value: Any
    stream: bytes | None = None


@dataclass(slots=True)
class Dump4:
    """A whole 4.x dump: ``BuildVersion`` (``None`` if absent or not first), sections in file order."""

    path: str
    build_version: int | None
    sections: list[tuple[str, Any]]

    def elements(self) -> Iterator[Element]:
        for _, value in self.sections:
            if isinstance(value, list):
                yield from value


def _value_end(data: bytes, pos: int, path: str) -> int:
    c = data[pos]
    if c == 0x7B or c == 0x5B:
        depth = 0
        for m in _TOKEN.finditer(data, pos):
            b = data[m.start()]
            if b == 0x7B or b == 0x5B:
                depth += 1
            elif b == 0x7D or b == 0x5D:
                depth -= 1
                if depth == 0:
                    return m.end()
        raise SourceError("unterminated object or array", path=path, offset=pos)
    m = _TOKEN.match(data, pos) if c == 0x22 else _SCALAR.match(data, pos)
    if m is None:
        raise SourceError(f"expected a JSON value, found {bytes([c])!r}", path=path, offset=pos)
    return m.end()


def _ws(data: bytes, pos: int) -> int:
    return _WS.match(data, pos).end()  # type: ignore[union-attr]


def _expect(data: bytes, pos: int, chars: bytes, path: str, what: str) -> int:
    pos = _ws(data, pos)
    if pos >= len(data) or data[pos] not in chars:
        found = repr(bytes([data[pos]])) if pos < len(data) else "end of data"
        raise SourceError(f"expected {what}, found {found}", path=path, offset=pos)
    return pos


def _array(data: bytes, pos: int, section: str, path: str) -> tuple[list[Element], int]:
    out: list[Element] = []
    pos = _ws(data, pos + 1)
    if data[pos] == 0x5D:
        return out, pos + 1
    while True:
        pos = _ws(data, pos)
        end = _value_end(data, pos, path)
        try:
            value = json.loads(data[pos:end], strict=False)
        except ValueError as exc:
            raise SourceError(f"invalid JSON element: {exc}", path=path, section=section, index=len(out),
                              offset=pos) from exc
        element = Element(section, len(out), pos, value)
        meta = value.get("@metadata") if isinstance(value, dict) else None
        if isinstance(meta, dict) and meta.get("@export-type") == ATTACHMENT_EXPORT_TYPE:
            size = value.get("Size")
            if not isinstance(size, int) or size < 0 or end + size > len(data):
                raise SourceError(f"attachment stream record with bad Size {size!r}", path=path, section=section,
                                  index=len(out), offset=pos)
            element.stream = data[end:end + size]
            end += size
        out.append(element)
        pos = _expect(data, end, b",]", path, f"',' or ']' after element {len(out) - 1} of {section}")
        if data[pos] == 0x5D:
            return out, pos + 1
        pos += 1


def parse(data: bytes, path: str = "<memory>") -> Dump4:
    """Parse the uncompressed JSON of a 4.x dump."""
    pos = _expect(data, 0, b"{", path, "'{' opening the dump object")
    sections: list[tuple[str, Any]] = []
    build_version = None
    pos = _ws(data, pos + 1)
    if data[pos] == 0x7D:
        return Dump4(path, None, sections)
    while True:
        pos = _expect(data, pos, b'"', path, "a section name")
        kend = _value_end(data, pos, path)
        name = json.loads(data[pos:kend], strict=False)
        pos = _expect(data, kend, b":", path, "':'") + 1
        pos = _ws(data, pos)
        if data[pos] == 0x5B:
            value, pos = _array(data, pos, name, path)
        else:
            end = _value_end(data, pos, path)
            value = json.loads(data[pos:end], strict=False)
            pos = end
            if name == "BuildVersion" and not sections and isinstance(value, int):
                build_version = value
        sections.append((name, value))
        pos = _expect(data, pos, b",}", path, "',' or '}' after a section")
        if data[pos] == 0x7D:
            return Dump4(path, build_version, sections)
        pos += 1


def read(path: str | Path) -> Dump4:
    """Read and parse a gzip 4.x dump file."""
    d = gzip_decompressor()
    with open(path, "rb") as f:
        data = d.decompress(f.read()) + d.flush()
    return parse(data, str(path))


def document_shape(value: dict[str, Any], revision: bool) -> tuple:
    """The structure the V4 reader depends on (§11): an ``@id``, attachments, a revision's change
    vector and ``Revision`` flag. ``@collection`` (absent for ``@empty``), change vectors of
    documents and ``@last-modified`` are optional there (a 4.0 export omits the latter)."""
    meta = value.get("@metadata")
    if not isinstance(meta, dict):
        return ("document without @metadata",)
    flags = [f.strip() for f in meta.get("@flags", "").split(",") if f.strip()]
    shape = ["document", "@id" if isinstance(meta.get("@id"), str) else "no @id"]
    if "@attachments" in meta:
        shape.append("@attachments+HasAttachments" if "HasAttachments" in flags else "@attachments")
    if revision:
        shape.append("@change-vector" if isinstance(meta.get("@change-vector"), str) else "no @change-vector")
        shape.append("Revision" if "Revision" in flags else "no Revision flag")
    return tuple(shape)


def shape(element: Element) -> tuple:
    """A comparable description of one element's structure (not its content)."""
    value = element.value
    if element.stream is not None:
        return ("attachment stream", tuple(sorted(value)), "raw bytes = Size")
    if element.section in ("Docs", "RevisionDocuments") and isinstance(value, dict):
        return document_shape(value, element.section == "RevisionDocuments")
    if element.section == "Indexes" and isinstance(value, dict):
        definition = value.get("IndexDefinition") or {}
        return ("index", tuple(sorted(value)),
                tuple(sorted(k for k in definition if k not in INDEX_DEFINITION_EXPORT_ONLY)))
    if isinstance(value, dict):
        return (element.section, tuple(sorted(value)),
                tuple(sorted(type(v).__name__ for v in value.values())))
    return (element.section, type(value).__name__)


def layout(dump: Dump4) -> list[tuple[str, int]]:
    """``[(section name, element count)]`` in file order (``BuildVersion`` counted as 1)."""
    return [(name, len(value) if isinstance(value, list) else 1) for name, value in dump.sections]
