"""RavenDB 3.x RavenFS file systems read as :class:`~ravenmigrate.records.File` records (docs/ravenfs.md).

:mod:`.storage` reads the RavenFS tables of Voron storage (files, usage, pages, config) on top of
:mod:`ravenmigrate.sources.voron` (journal replay, trees); :mod:`.source` is the source;
:mod:`.export` reads smuggler exports; :mod:`.esent` Esent storage through the table API of
:mod:`ravenmigrate.sources.esent`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["open_ravenfs"]


def open_ravenfs(path: Path, **options: Any) -> Any:
    """The ``open_source`` probe: a RavenFS source when *path* is a file system, else ``None``.

    A smuggler export is a zip with a ``.metadata`` entry, an incremental export a folder of
    ``*.ravenfs-incremental-dump`` zips (:mod:`.export`).

    A backup says so by its ``Filesystem.Document``; a data directory (which has none) is recognised
    by its trees when it has no ``IndexDefinitions`` folder (every database data directory has one).
    """
    from ..voron.files import INDEX_DEFINITIONS, is_voron_dir, ravenfs_backup, zip_is_voron

    if (path.is_file() and _is_export(path)) or (path.is_dir() and any(
            p.name.endswith(".ravenfs-incremental-dump") for p in path.iterdir())):
        from .export import RavenFSExportSource

        return RavenFSExportSource(path)
    if not (is_voron_dir(path) or (path.is_file() and zip_is_voron(path))):
        if _esent_ravenfs(path):
            from .esent import RavenFSEsentSource

            return RavenFSEsentSource(path, journals_path=options.get("journals_path"),
                                      encryption=options.get("encryption"), force_dirty=bool(options.get("force_dirty")))
        return None
    if not ravenfs_backup(path):
        if not path.is_dir() or (path / INDEX_DEFINITIONS).is_dir() or (path / "Database.Document").is_file():
            return None
        if not _storage_is_ravenfs(path, options.get("journals_path")):
            return None
    from .source import RavenFSSource

    return RavenFSSource(path, journals_path=options.get("journals_path"), encryption=options.get("encryption"))


def _esent_ravenfs(path: Path) -> bool:
    """Esent storage of a file system: ``Data.ravenfs`` (directly, or in a backup's ``new/``) or a
    ``Filesystem.Document`` beside Esent storage."""
    import zipfile

    from ..esent.files import is_esent_dir, zip_is_esent

    names = ("Data.ravenfs", "Filesystem.Document")
    if path.is_dir():
        return is_esent_dir(path) and any((path / n).is_file() or (path / "new" / n).is_file() for n in names)
    if not zip_is_esent(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.rsplit("/", 1)[-1] in names for n in zf.namelist())


def _is_export(path: Path) -> bool:
    import zipfile

    from .export import is_export

    try:
        with zipfile.ZipFile(path) as zf:
            return is_export(zf)
    except (zipfile.BadZipFile, OSError):
        return False


def _storage_is_ravenfs(path: Path, journals_path: Any) -> bool:
    from ..voron.environment import VoronEnvironment
    from .storage import is_ravenfs

    with VoronEnvironment.open(path, journals_path=journals_path) as env:
        return is_ravenfs(env)
