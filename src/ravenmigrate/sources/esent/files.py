"""Find the files of a RavenDB 3.x Esent store: data directory, backup directory or backup ``.zip``.

Layouts (docs/esent.md "Inputs"): a database data directory holds ``Data`` with its logs in
``logs/`` (``RVN*.log``, ``RVN.chk`` in ``system/``) unless ``Raven/Esent/LogsPath`` moved them; a
RavenFS one holds ``Data.ravenfs`` and ``RFS*.log``; a backup directory (``RavenDB.Backup``,
``Database.Document`` or ``Filesystem.Document``) holds ``new/Data`` and ``new/RVN0000N.log``
beside ``IndexDefinitions/``. Zipped input is extracted member by member (streamed, never read
whole into memory) into a private temporary directory; the input is only ever read.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import SourceError
from ..backupfiles import extract_member, json_object, read_member
from ..indexdefs import FOLDER, dir_index_definitions, zip_index_definitions

DATA_FILES = ("Data", "Data.ravenfs")
LOG_NAME = re.compile(r"^(?P<base>RVN|RFS|edb|EDB)(?P<gen>[0-9A-Fa-f]{5}|[0-9A-Fa-f]{8})?\.(?:log|jrs)$")
SIDE_DOCUMENTS = ("Database.Document", "Filesystem.Document")


def log_generation(name: str) -> int | None:
    """The generation of an ESE log file name (``RVN0000A.log`` = 10; ``RVN.log``, the current one, = None)."""
    m = LOG_NAME.match(name)
    if m is None or not name.endswith(".log") or m.group("gen") is None:
        return None
    return int(m.group("gen"), 16)


@dataclass
class EsentFiles:
    """Where the database file and its logs are, plus the side files of a backup."""

    path: str
    data_file: Path
    log_dirs: list[Path]
    index_definitions: dict[str, bytes] = field(default_factory=dict)
    side_document: dict | None = None
    side_document_name: str | None = None
    temp_dir: Path | None = None
    members: dict[str, str] = field(default_factory=dict)  # extracted file name -> zip member

    @property
    def ravenfs(self) -> bool:
        return self.data_file.name == "Data.ravenfs" or self.side_document_name == "Filesystem.Document"

    def shown(self, path: Path) -> str:
        """How errors name *path*: the input's own path, or ``input.zip (member new/RVN00001.log)``."""
        member = self.members.get(path.name) if self.temp_dir is not None and path.parent == self.temp_dir else None
        return f"{self.path} (member {member})" if member else str(path)

    def logs(self) -> list[Path]:
        """Every ESE log file (``*.log`` of the log base names) in the log directories, by name.

        A name found in more than one directory is taken from the first; generations are read from
        the files' headers by the log reader (the current log ``RVN.log`` has none in its name).
        """
        out: dict[str, Path] = {}
        for folder in self.log_dirs:
            if not folder.is_dir():
                continue
            for f in sorted(folder.iterdir()):
                if f.name.endswith(".log") and LOG_NAME.match(f.name) and f.is_file():
                    out.setdefault(f.name, f)
        return list(out.values())

    def close(self) -> None:
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def _data_in(folder: Path) -> Path | None:
    for base in (folder, folder / "new"):
        for name in DATA_FILES:
            if (base / name).is_file():
                return base / name
    return None


def is_esent_dir(path: Path) -> bool:
    """A folder holding ``Data``/``Data.ravenfs`` (directly or in ``new/``)."""
    return path.is_dir() and _data_in(path) is not None


def zip_is_esent(path: Path) -> bool:
    """A zip holding an Esent database file (``Data`` or ``Data.ravenfs``, at any depth)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _zip_data_member(zf) is not None
    except (zipfile.BadZipFile, OSError):
        return False


def _zip_data_member(zf: zipfile.ZipFile) -> str | None:
    names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] in DATA_FILES]
    return min(names, key=len) if names else None


def locate(path: str | os.PathLike[str], journals_path: str | os.PathLike[str] | None = None) -> EsentFiles:
    """Resolve *path* to its Esent files; *journals_path* is ``Raven/Esent/LogsPath`` when set."""
    p = Path(path)
    shown = str(path)
    if p.is_dir():
        data = _data_in(p)
        if data is None:
            raise SourceError(f"not an Esent store: no {' or '.join(DATA_FILES)} here or in new/", path=shown)
        folder = data.parent
        files = EsentFiles(shown, data, [folder, folder / "logs", p / "logs"])
        root = p if (p / FOLDER).is_dir() or folder == p else folder.parent
        files.index_definitions = dir_index_definitions(root) or dir_index_definitions(folder)
        for name in SIDE_DOCUMENTS:
            if (root / name).is_file():
                files.side_document = json_object((root / name).read_bytes(), shown, name)
                files.side_document_name = name
    elif p.is_file():
        files = _from_zip(shown, p)
    else:
        raise SourceError("no such file or directory", path=shown)
    if journals_path is not None:
        logs = Path(journals_path)
        if not logs.is_dir():
            files.close()
            raise SourceError("logs path (--journals-path) is not a directory", path=str(journals_path))
        files.log_dirs = [logs]
    return files


def _from_zip(shown: str, path: Path) -> EsentFiles:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"not a readable zip ({exc}); expected a RavenDB 3.x Esent backup", path=shown) from exc
    with zf:
        member = _zip_data_member(zf)
        if member is None:
            raise SourceError(f"zip holds no Esent database file ({' or '.join(DATA_FILES)})", path=shown)
        folder = member[: len(member) - len(member.rsplit("/", 1)[-1])]
        root = folder[:-4] if folder.endswith("new/") else folder
        temp = Path(tempfile.mkdtemp(prefix="ravenmigrate-esent-"))
        members: dict[str, str] = {}
        try:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir() or not name.startswith(folder) or "/" in name[len(folder):]:
                    continue
                base = name[len(folder):]
                if base in DATA_FILES or LOG_NAME.match(base):
                    extract_member(zf, name, temp / base, shown)
                    members[base] = name
            files = EsentFiles(shown, temp / member[len(folder):], [temp], temp_dir=temp, members=members)
            files.index_definitions = zip_index_definitions(zf, root + FOLDER + "/", shown)
            for name in SIDE_DOCUMENTS:
                if root + name in zf.namelist():
                    files.side_document = json_object(read_member(zf, root + name, shown), shown, name)
                    files.side_document_name = name
            return files
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

