"""RavenDB 3.x RavenFS file systems read as :class:`~ravenmigrate.records.File` records (docs/ravenfs.md).

:mod:`.storage` reads the RavenFS tables of Voron storage (files, usage, pages, config) on top of
:mod:`ravenmigrate.sources.voron` (journal replay, trees); :mod:`.source` is the source;
:mod:`.export` reads smuggler exports.
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
        return None
    if not ravenfs_backup(path):
        if not path.is_dir() or (path / INDEX_DEFINITIONS).is_dir() or (path / "Database.Document").is_file():
            return None
        if not _storage_is_ravenfs(path, options.get("journals_path")):
            return None
    from .source import RavenFSSource

    return RavenFSSource(path, journals_path=options.get("journals_path"), encryption=options.get("encryption"))


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
