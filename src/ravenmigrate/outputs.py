"""Outputs written atomically (docs/reliability.md): a file appears under its name only once it is
complete. Whole files (reports, checkpoints) are written to ``NAME.tmp`` and renamed; streamed
outputs (a 4.x dump and its split parts, a rejects file) are written to ``NAME.partial`` and
renamed by :func:`publish` when the run succeeded, or removed by :func:`discard`, so an earlier
output under the same name survives a failed run. A path that exists and is not a regular file (a
device such as ``/dev/null``, a pipe) is written directly: it cannot be replaced by a rename."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import OutputError

PARTIAL = ".partial"


def _direct(p: Path) -> bool:
    """A device or pipe: written in place (a rename would replace it)."""
    return p.exists() and not p.is_file()


def partial(path: str | os.PathLike) -> Path:
    """Where the streamed output *path* is written until :func:`publish`."""
    p = Path(path)
    return p if _direct(p) else p.with_name(p.name + PARTIAL)


def publish(paths: list[Path]) -> None:
    """Rename every ``NAME.partial`` to ``NAME`` (replacing an earlier output)."""
    for final in paths:
        if _direct(final):
            continue
        try:
            os.replace(partial(final), final)
        except OSError as exc:
            raise OutputError(f"cannot rename {partial(final)} to {final}: {exc.strerror or exc}") from exc


def discard(paths: list[Path]) -> None:
    """Remove the ``NAME.partial`` files of a failed run (the outputs under ``NAME`` are untouched)."""
    for final in paths:
        if not _direct(final):
            with contextlib.suppress(OSError):
                partial(final).unlink()


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write *data* to ``path.tmp``, flush it to disk, rename it to *path*."""
    p = Path(path)
    tmp = p if _direct(p) else p.with_name(p.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if tmp != p:
                os.fsync(f.fileno())
        if tmp != p:
            os.replace(tmp, p)
    except OSError as exc:
        if tmp != p:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise OutputError(f"cannot write {p}: {exc.strerror or exc}") from exc


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    """A JSON report (``--report``), written atomically."""
    write_atomic(path, json.dumps(report, indent=2, default=str).encode("utf-8"))
