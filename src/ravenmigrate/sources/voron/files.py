"""Find the Voron files of a RavenDB 3.x data directory, backup directory or backup zip.

Layouts from docs/formats/storage-3x.md §1 and §6: a data directory holds ``headers.one``/``headers.two``,
``Raven.voron`` and ``NNNNNNNNNNNNNNNNNNN.journal`` files, with ``IndexDefinitions/`` beside them;
a full backup directory holds ``Database.Document``, ``IndexDefinitions/`` and the zip
``RavenDB.Voron.Backup`` (headers, data file, journals); a backup ``.zip`` is that directory zipped.
Zipped storage is extracted to a private temporary directory: the input itself is only ever read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import SourceError, UnsupportedSource
from ..backupfiles import extract_member, json_object, read_member
from ..indexdefs import dir_index_definitions, zip_index_definitions

BACKUP_MEMBER = "RavenDB.Voron.Backup"
DATA_FILE = "Raven.voron"
HEADER_FILES = ("headers.one", "headers.two")
INDEX_DEFINITIONS = "IndexDefinitions"
# The resource document beside a backup's storage: a database's, or a RavenFS file system's.
RESOURCE_DOCUMENTS = ("Database.Document", "Filesystem.Document")


def journal_name(number: int) -> str:
    """Journal file name: the number as 19 decimal digits (docs/formats/storage-3x.md §4 "Files")."""
    return f"{number:019d}.journal"


@dataclass
class VoronFiles:
    """Where the storage files are, plus the small side files of a backup.

    ``storage_dir`` holds headers, data file and (unless ``journals_dir`` differs) journals. It is
    the input directory itself, or a private temporary directory for zipped input (removed by
    :meth:`close`). ``index_definitions`` maps file name -> bytes of ``IndexDefinitions/*``.
    """

    path: str
    storage_dir: Path
    journals_dir: Path
    index_definitions: dict[str, bytes] = field(default_factory=dict)
    database_document: dict | None = None
    temp_dir: Path | None = None

    def close(self) -> None:
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def is_voron_dir(path: Path) -> bool:
    """A data directory (``Raven.voron`` or ``headers.one``) or a backup directory (``RavenDB.Voron.Backup``)."""
    return path.is_dir() and any((path / n).is_file() for n in (DATA_FILE, HEADER_FILES[0], BACKUP_MEMBER))


def zip_is_voron(path: Path) -> bool:
    """A zip holding a Voron backup (``RavenDB.Voron.Backup``), Voron storage files or journals."""
    try:
        with zipfile.ZipFile(path) as zf:
            return (_backup_member(zf) is not None or _storage_prefix(zf) is not None
                    or any(n.endswith(".journal") for n in zf.namelist()))
    except (zipfile.BadZipFile, OSError):
        return False


def ravenfs_backup(path: Path) -> bool:
    """A RavenFS backup (``Filesystem.Document`` beside the storage) rather than a database backup."""
    if path.is_dir():
        return (path / "Filesystem.Document").is_file()
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.rsplit("/", 1)[-1] == "Filesystem.Document" for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def locate(path: str | os.PathLike[str], journals_path: str | os.PathLike[str] | None = None) -> VoronFiles:
    """Resolve *path* (data dir, backup dir, backup zip or storage zip) to its Voron files."""
    p = Path(path)
    shown = str(path)
    if p.is_dir():
        if (p / BACKUP_MEMBER).is_file() and not (p / HEADER_FILES[0]).exists():
            files = _from_backup_zip(shown, p / BACKUP_MEMBER)
            files.index_definitions = dir_index_definitions(p)
            files.database_document = _dir_resource_document(p, shown)
        else:
            if not any((p / n).is_file() for n in HEADER_FILES):
                raise SourceError(f"not a Voron data directory: no {' or '.join(HEADER_FILES)} and no {BACKUP_MEMBER}",
                                  path=shown)
            files = VoronFiles(shown, p, p)
            files.index_definitions = dir_index_definitions(p) or dir_index_definitions(p.parent)
            files.database_document = _dir_resource_document(p, shown)
    elif p.is_file():
        files = _from_zip(shown, p)
    else:
        raise SourceError("no such file or directory", path=shown)
    if journals_path is not None:
        files.journals_dir = Path(journals_path)
        if not files.journals_dir.is_dir():
            files.close()
            raise SourceError("journals path is not a directory", path=str(journals_path))
    return files


def _from_zip(shown: str, path: Path) -> VoronFiles:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"not a readable zip ({exc}); expected a RavenDB 3.x Voron backup", path=shown) from exc
    with zf:
        inner = _backup_member(zf)
        if inner is not None:
            temp = _temp_dir()
            try:
                nested = temp / BACKUP_MEMBER
                extract_member(zf, inner, nested, shown)
                files = _from_backup_zip(shown, nested, temp)
                nested.unlink()
                prefix = inner[: -len(BACKUP_MEMBER)]
                files.index_definitions = zip_index_definitions(zf, prefix + INDEX_DEFINITIONS + "/", shown)
                files.database_document = _zip_resource_document(zf, prefix, shown)
                return files
            except BaseException:
                shutil.rmtree(temp, ignore_errors=True)
                raise
        prefix = _storage_prefix(zf)
        if prefix is None:
            _refuse_incremental(zf, shown)
            if any(n.endswith("Filesystem.Document") for n in zf.namelist()):
                raise UnsupportedSource("a RavenFS backup without Voron storage", path=shown)
            raise SourceError(f"zip holds neither {BACKUP_MEMBER} nor Voron storage files ({DATA_FILE}, headers.one)",
                              path=shown)
        temp = _temp_dir()
        try:
            _extract_storage(zf, prefix, temp, shown)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        files = VoronFiles(shown, temp, temp, temp_dir=temp)
        files.index_definitions = zip_index_definitions(zf, prefix + INDEX_DEFINITIONS + "/", shown)
        return files


def _from_backup_zip(shown: str, backup: Path, temp: Path | None = None) -> VoronFiles:
    """Extract the storage members of a ``RavenDB.Voron.Backup`` zip into a temporary directory."""
    temp = temp or _temp_dir()
    try:
        with zipfile.ZipFile(backup) as zf:
            prefix = _storage_prefix(zf)
            if prefix is None:
                _refuse_incremental(zf, shown)
                raise SourceError(f"{BACKUP_MEMBER} holds no Voron headers", path=shown)
            _extract_storage(zf, prefix, temp, shown)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise SourceError(f"{BACKUP_MEMBER} is not a readable zip ({exc})", path=shown) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return VoronFiles(shown, temp, temp, temp_dir=temp)


def _refuse_incremental(zf: zipfile.ZipFile, shown: str) -> None:
    """Journal files without headers: an incremental backup (docs/formats/storage-3x.md §4 "Backups need journal replay")."""
    if any(n.endswith(".journal") for n in zf.namelist()):
        raise UnsupportedSource("an incremental Voron backup (journal files only, no headers or data file): "
                                "restore it over its full backup with RavenDB first; incremental chains are "
                                "not read yet", path=shown)


def _temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ravenmigrate-voron-"))


def _backup_member(zf: zipfile.ZipFile) -> str | None:
    names = [n for n in zf.namelist() if n == BACKUP_MEMBER or n.endswith("/" + BACKUP_MEMBER)]
    return min(names, key=len) if names else None


def _storage_prefix(zf: zipfile.ZipFile) -> str | None:
    for name in zf.namelist():
        base = name.rsplit("/", 1)[-1]
        if base in HEADER_FILES:
            return name[: len(name) - len(base)]
    return None


def _extract_storage(zf: zipfile.ZipFile, prefix: str, dest: Path, shown: str) -> None:
    for info in zf.infolist():
        name = info.filename
        if not name.startswith(prefix) or info.is_dir():
            continue
        base = name[len(prefix):]
        if base in HEADER_FILES or base == DATA_FILE or base.endswith(".journal"):
            extract_member(zf, name, dest / base, shown)


def _dir_resource_document(folder: Path, shown: str) -> dict | None:
    for name in RESOURCE_DOCUMENTS:
        if (folder / name).is_file():
            return json_object((folder / name).read_bytes(), shown, name)
    return None


def _zip_resource_document(zf: zipfile.ZipFile, prefix: str, shown: str) -> dict | None:
    for name in RESOURCE_DOCUMENTS:
        if prefix + name in zf.NameToInfo:
            return json_object(read_member(zf, prefix + name, shown), shown, prefix + name)
    return None

