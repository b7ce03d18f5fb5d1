"""Rejected records: ``--rejects FILE`` and ``--max-rejects N`` of ``convert`` and ``load``
(docs/reliability.md).

A bad source record (invalid JSON or UTF-8, a document without ``@metadata.@id``, an item of the
wrong shape) or a document the server refused is *rejected*: counted per reason with its first ids,
and, with a rejects file, written there as one JSON line: the source position, the id when known,
the reason (the server's message for a server rejection) and the record's raw bytes in base64, so
it can be fixed and loaded later. ``N`` rejects are allowed (``0``: none, the first one stops the
run; ``-1``: any number); one more stops the run with the located error. A run that completed with
rejects exits with status 3.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

from .errors import OutputError
from .outputs import partial, publish
from .records import Position

EXAMPLES = 5
EXIT_REJECTS = 3
"""Exit status of a run that completed with rejected records (0: nothing rejected; 1: failed)."""


class Rejects:
    """Counts rejected records and writes them to *path* (JSON lines, ``NAME.partial`` until :meth:`close`)."""

    def __init__(self, path: str | os.PathLike | None = None, limit: int = 0) -> None:
        self.path = Path(path) if path is not None else None
        self.limit = limit
        self.count = 0
        self.reasons: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._file = None
        if self.path is not None:
            try:
                self._file = open(partial(self.path), "w", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot create {partial(self.path)}: {exc.strerror or exc}") from exc

    def allows_one_more(self) -> bool:
        """Whether one more reject stays within ``--max-rejects``."""
        return self.limit < 0 or self.count < self.limit

    def add(self, code: str, reason: str, position: Position | None, doc_id: str | None = None,
            raw: bytes | None = None, ids: list[str] | None = None) -> None:
        """Record one rejected record (*ids*: further ids seen in its bytes, when it swallowed others)."""
        with self._lock:
            self.count += 1
            group = self.reasons.setdefault(code, {"count": 0, "examples": []})
            group["count"] += 1
            shown = doc_id or (position.key if position is not None else None) or _where(position)
            if len(group["examples"]) < EXAMPLES and shown:
                group["examples"].append(shorten(shown))
            if self._file is None:
                return
            line = {"source": None if position is None else _position(position), "id": doc_id, "code": code,
                    "reason": reason, "ids_in_bytes": ids or [],
                    "raw_base64": None if raw is None else base64.b64encode(raw).decode("ascii")}
            try:
                self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
            except OSError as exc:
                raise OutputError(f"cannot write {partial(self.path)}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """Finish the rejects file and give it its name (also after a failed run: what it holds is complete)."""
        if self._file is None:
            return
        try:
            self._file.close()
        except OSError as exc:
            raise OutputError(f"cannot write {partial(self.path)}: {exc.strerror or exc}") from exc
        self._file = None
        publish([self.path])

    def report(self) -> dict[str, Any]:
        """The ``rejects`` entry of a report."""
        return {"count": self.count, "max_rejects": self.limit, "file": None if self.path is None else str(self.path),
                "reasons": {code: dict(g) for code, g in self.reasons.items()}}


def shorten(text: str, limit: int = 80) -> str:
    """*text* cut to *limit* characters for a summary line (the rejects file keeps it whole)."""
    return text if len(text) <= limit else f"{text[:limit - 20]}...({len(text)} characters)"


def _position(pos: Position) -> dict[str, Any]:
    return {"file": pos.source, "section": pos.section, "index": pos.index, "offset": pos.offset, "key": pos.key}


def _where(pos: Position | None) -> str | None:
    if pos is None:
        return None
    return f"{pos.section} record {pos.index} at offset {pos.offset}"


def add_reject_arguments(parser: Any) -> None:
    """``--rejects FILE`` and ``--max-rejects N`` (``convert`` and ``load``)."""
    parser.add_argument("--rejects", metavar="FILE",
                        help="write rejected records here (JSON lines: source position, id, reason, raw bytes "
                             "base64; docs/reliability.md)")
    parser.add_argument("--max-rejects", type=int, default=0, metavar="N",
                        help="go on past N rejected records (default 0: stop at the first; -1: no limit); "
                             f"a run that rejected records exits with status {EXIT_REJECTS}")


def exit_status(rejects: Rejects) -> int:
    """0 when nothing was rejected, :data:`EXIT_REJECTS` otherwise."""
    return EXIT_REJECTS if rejects.count else 0


def rejects_summary(report: dict[str, Any]) -> str:
    """The summary lines of a report's ``rejects`` entry (``""`` when nothing was rejected)."""
    r = report.get("rejects") or {}
    if not r.get("count"):
        return ""
    where = f" (written to {r['file']})" if r.get("file") else " (not written: no --rejects FILE)"
    lines = [f"\nrejected records: {r['count']:,}{where}; exit status {EXIT_REJECTS}"]
    for code, g in r["reasons"].items():
        more = ", ..." if g["count"] > len(g["examples"]) else ""
        examples = f": {', '.join(g['examples'])}{more}" if g["examples"] else ""
        lines.append(f"  {g['count']:>8,}  {code}{examples}")
    return "\n".join(lines)
