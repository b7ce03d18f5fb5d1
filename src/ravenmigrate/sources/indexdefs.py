"""Index and transformer definitions from the ``IndexDefinitions/`` folder of raw storage, Voron and Esent
(docs/formats/storage-3x.md §6, docs/formats/dumps-3x.md §11.4).

3.x names the files ``<id>.index`` / ``<id>.transform``; 2.x names them after the URL-escaped index
name. Each is an indented JSON serialization of the definition, with the same keys an export's
``definition`` has; ``indexes.txt`` / ``transformers.txt`` only list id -> name and are not needed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from ..codecs.jsonvalue import JSONValueError, loads
from ..errors import SourceError
from ..records import Index, Position, Transformer
from .backupfiles import read_member


def _order(name: str) -> tuple[int, int | str]:
    stem = name.rsplit(".", 1)[0]
    return (0, int(stem)) if stem.isdigit() else (1, stem)


def _load(name: str, raw: bytes, shown: str, section: str) -> dict:
    try:
        value = loads(raw)
    except JSONValueError as exc:
        raise SourceError(f"IndexDefinitions/{name} is not JSON ({exc})", path=shown, section=section) from exc
    if not isinstance(value, dict):
        raise SourceError(f"IndexDefinitions/{name} is not a JSON object", path=shown, section=section)
    return value


def definitions(files: dict[str, bytes], shown: str) -> Iterator[Index | Transformer]:
    """Every index (in id order), then every transformer, as export records."""
    for suffix, section in ((".index", "Indexes"), (".transform", "Transformers")):
        names = sorted((n for n in files if n.endswith(suffix)), key=_order)
        for i, name in enumerate(names):
            definition = _load(name, files[name], shown, section)
            title = definition.get("Name")
            if not isinstance(title, str) or not title:
                title = unquote(name[: -len(suffix)])
            pos = Position(source=shown, section=section, index=i, offset=-1, key=f"IndexDefinitions/{name}")
            if section == "Indexes":
                yield Index(name=title, definition=definition, position=pos)
            else:
                lock = definition.get("LockMode")
                yield Transformer(name=title, definition=definition, position=pos,
                                  lock_mode=lock if isinstance(lock, str) else None)


FOLDER = "IndexDefinitions"


def dir_index_definitions(base: Path) -> dict[str, bytes]:
    """File name -> bytes of every file in ``base/IndexDefinitions`` (empty when there is none)."""
    folder = base / FOLDER
    if not folder.is_dir():
        return {}
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.is_file()}


def zip_index_definitions(zf: zipfile.ZipFile, folder: str, shown: str) -> dict[str, bytes]:
    """The same for the zip folder *folder* (ending in ``/``)."""
    out = {}
    for name in zf.namelist():
        if name.startswith(folder) and not name.endswith("/") and "/" not in name[len(folder):]:
            out[name[len(folder):]] = read_member(zf, name, shown)
    return dict(sorted(out.items()))
