"""The side files of raw-storage backups (Voron, Esent): zip members and small JSON documents. A
damaged member or document is a located error, never a ``zipfile.BadZipFile``, ``zlib.error`` or
``RecursionError`` traceback (docs/reliability.md)."""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path

from ..codecs.jsonvalue import JSONValueError, loads
from ..errors import SourceError

DAMAGED = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError)
"""What reading a damaged member raises: bad CRC or header, corrupt deflate data, a cut file, an
unsupported compression method."""


def read_member(zf: zipfile.ZipFile, member: str, shown: str) -> bytes:
    """A (small) member's bytes."""
    try:
        return zf.read(member)
    except DAMAGED as exc:
        raise SourceError(f"cannot read zip member {member!r}: {exc}", path=shown) from exc


def extract_member(zf: zipfile.ZipFile, member: str, dest: Path, shown: str) -> None:
    """Copy a (large) member to *dest*."""
    try:
        with zf.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except DAMAGED as exc:
        raise SourceError(f"cannot extract zip member {member!r}: {exc}", path=shown) from exc


def json_object(raw: bytes, shown: str, name: str) -> dict:
    """A side document (``Database.Document``, ``IndexDefinitions/*``...) read as 3.x JSON (BOM, lenient forms)."""
    try:
        value = loads(raw)
    except JSONValueError as exc:
        raise SourceError(f"{name} is not JSON ({exc})", path=shown) from exc
    if not isinstance(value, dict):
        raise SourceError(f"{name} is not a JSON object", path=shown)
    return value
