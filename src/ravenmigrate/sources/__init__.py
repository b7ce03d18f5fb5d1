"""Sources: every form 3.x data comes in, read as a stream of typed records (``ravenmigrate.records``).

``open_source(path)`` decides by content, not by extension (docs/formats/dumps-3x.md §15.1): gzip or plain
JSON exports (with their split parts), incremental/periodic export folders, and (through
registered openers) raw storage and RavenFS file systems (docs/ravenfs.md). A ZIP no opener
takes is refused with a clear message. An ``http(s)://`` URL is a running 3.x server
(``sources.live3x``, docs/live3x.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError, UnsupportedSource
from .live3x import is_live

if TYPE_CHECKING:
    from ..rejects import Rejects
    from .base import Source

__all__ = ["open_source", "register_opener", "Source", "DumpSource"]


def __getattr__(name: str) -> object:
    """``DumpSource`` and ``Source``, imported when first asked for: the options modules of the
    sources are imported by the command line before it needs to read anything (docs/loading.md
    "Verify")."""
    if name == "DumpSource":
        from .ravendump import DumpSource

        return DumpSource
    if name == "Source":
        from .base import Source

        return Source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

Opener = Callable[..., "Source | None"]
_OPENERS: list[Opener] = []


def register_opener(opener: Opener) -> None:
    """Add a probe ``opener(path, compact=, salvage=) -> Source | None`` tried before the built-ins.

    Other source kinds (raw Voron/Esent storage, RavenFS) register here; return ``None`` when
    the path is not yours.
    """
    if opener not in _OPENERS:
        _OPENERS.append(opener)


def open_source(path: str | os.PathLike, *, compact: bool = False, salvage: bool = False, runs: bool = False,
                rejects: Rejects | None = None, attachment_runs: bool = False, **options) -> Source:
    """Open *path* by its content: see the module doc. Raises :class:`SourceError` when unreadable.

    ``runs``: exports yield their common documents as already converted
    ``DocumentRun`` records (``ravenmigrate.convert.docrun``); raw storage ignores it.
    ``attachment_runs``: exports yield their common attachments as ``AttachmentRun`` records, already
    legacy dump elements (``ravenmigrate.convert.attachrun``); other sources ignore it. ``rejects``:
    bad records of an export, and bad rows of raw Voron and Esent storage, within its ``--max-rejects``
    are written there and skipped (docs/reliability.md).

    *options* go to the registered openers (raw Voron and Esent storage: ``journals_path``,
    ``compression``, ``encryption``, ``force_dirty``; see ``ravenmigrate.sources.voron.options``) and
    to a live 3.x source (``api_key``, ``user``, ``password``, ``domain``, ``verify``;
    ``ravenmigrate.sources.live3x.options``).
    """
    if is_live(path):
        from .live3x import open_live

        return open_live(str(path), compact=compact, salvage=salvage, runs=runs, rejects=rejects, **options)
    p = Path(path)
    if not p.exists():
        raise SourceError("no such file or folder", path=str(path))
    from .ravendump import DumpSource

    for opener in _OPENERS:
        source = opener(p, compact=compact, salvage=salvage, rejects=rejects, **options)
        if source is not None:
            return source
    if p.is_dir():
        return DumpSource(p, compact=compact, salvage=salvage, runs=runs, rejects=rejects,
                      attachment_runs=attachment_runs)
    if _sniff(p) == "zip":
        raise UnsupportedSource(_zip_message(p), path=str(path))
    return DumpSource(p, compact=compact, salvage=salvage, runs=runs, rejects=rejects,
                      attachment_runs=attachment_runs)


def _sniff(path: Path) -> str:
    """``stream.sniff``: what the file's first bytes say it is."""
    from .stream import sniff

    return sniff(path)


def _zip_message(path: Path) -> str:
    """A ZIP no opener took: neither a RavenFS export (docs/ravenfs.md) nor a storage backup."""
    import zipfile  # only for ZIP input: 4 ms of start-up otherwise

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except zipfile.BadZipFile as exc:
        return f"a ZIP file that cannot be read ({exc})"
    return (f"a ZIP archive ({len(names)} entries) that is neither a RavenFS export (no .metadata entry) nor a "
            "Voron or Esent backup")


def _voron(path: Path, **options) -> Source | None:
    """Raw 3.x Voron storage (data dir, backup dir, backup zip); a plain file is never opened as one,
    so reading an export does not import the storage engine."""
    if path.is_file() and _sniff(path) != "zip":
        return None
    from .voron import open_voron

    return open_voron(path, **options)


def _esent(path: Path, **options) -> Source | None:
    """Raw 2.x/3.x Esent storage (data dir, backup dir, backup zip): docs/esent.md."""
    if path.is_file() and _sniff(path) != "zip":
        return None
    from .esent import open_esent

    return open_esent(path, **options)


def _ravenfs(path: Path, **options) -> Source | None:
    """A RavenFS file system in raw Voron storage (before :func:`_voron`, which reads databases)."""
    if path.is_file() and _sniff(path) != "zip":
        return None
    from .ravenfs import open_ravenfs

    return open_ravenfs(path, **options)


register_opener(_ravenfs)
register_opener(_voron)
register_opener(_esent)
