"""A 3.x database export as one source: a single file, its split parts, or an incremental folder.

Split exports (docs/formats/dumps-3x.md §8, §15.17): ``X`` is followed by ``X.part001``, ``X.part002`` ... while
they exist, each a complete export. Incremental folders (§7.1, §15.18): every
``*.ravendb-incremental-dump`` ordered by last-write time (then name), each followed by its
parts; ``Indexes`` and ``Transformers`` only from the last file. A periodic-export folder (§7.2)
replays its ``*.ravendb-full-dump`` first; given the parent folder, the newest
``*-ravendb-backup`` folder is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..records import SECTIONS, Finding, Position, Record
from ..rejects import Rejects
from .era import Evidence
from .reader import DumpFile

INCREMENTAL_SUFFIX = ".ravendb-incremental-dump"
FULL_SUFFIX = ".ravendb-full-dump"
BACKUP_FOLDER_SUFFIX = "-ravendb-backup"
_PART = re.compile(r"\.part(\d{3})$")
_REPLAYED_ONLY_LAST = frozenset(("Indexes", "Transformers"))


def split_parts(path: Path) -> list[Path]:
    """``path`` followed by ``path.part001``, ``path.part002`` ... while they exist."""
    files = [path]
    n = 1
    while (part := path.with_name(f"{path.name}.part{n:03d}")).is_file():
        files.append(part)
        n += 1
    return files


def _by_write_time(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: (p.stat().st_mtime_ns, p.name))


def folder_plan(folder: Path) -> tuple[list[tuple[Path, frozenset[str]]], list[Finding]]:
    """Files to replay from an incremental or periodic-export folder, with the sections to skip."""
    notes: list[Finding] = []
    backups = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.endswith(BACKUP_FOLDER_SUFFIX))
    if backups:
        chosen = _by_write_time(backups)[-1]
        if len(backups) > 1:
            notes.append(Finding("periodic-folder", f"{len(backups)} periodic backup folders; reading the newest, "
                                                    f"{chosen.name}", extra={"folder": str(chosen)}))
        folder = chosen
    entries = [p for p in folder.iterdir() if p.is_file()]
    full = _by_write_time([p for p in entries if p.name.lower().endswith(FULL_SUFFIX)])
    incremental = _by_write_time([p for p in entries if p.name.lower().endswith(INCREMENTAL_SUFFIX)])
    if not full and not incremental:
        raise SourceError(f"no *{INCREMENTAL_SUFFIX} or *{FULL_SUFFIX} files in this folder", path=str(folder))
    if len(full) > 1:
        notes.append(Finding("periodic-full", f"{len(full)} full dumps in one folder; replaying all in write order"))
    plan: list[tuple[Path, frozenset[str]]] = []
    for f in full:
        plan += [(p, frozenset()) for p in split_parts(f)]
    for i, f in enumerate(incremental):
        skip = frozenset() if i == len(incremental) - 1 else _REPLAYED_ONLY_LAST
        plan += [(p, skip) for p in split_parts(f)]
    return plan, notes


class DumpSource:
    """Smuggler/Studio/StorageExporter exports (1.x-3.5); see the module doc for the layouts.

    ``records()`` re-reads the input on every call; ``findings``, ``counts`` and ``era`` describe
    the last (or current) pass. ``counts`` holds the items per section as they appear in the
    source, including items skipped on purpose (incremental replay) or because they were bad.
    """

    def __init__(self, path: str | os.PathLike, *, compact: bool = False, salvage: bool = False,
                 runs: bool = False, rejects: Rejects | None = None, attachment_runs: bool = False) -> None:
        self.path = str(path)
        self.rejects = rejects
        self.compact = compact
        self.runs = runs
        self.attachment_runs = attachment_runs
        self.salvage = salvage
        root = Path(path)
        if root.is_dir():
            self.kind = "incremental"
            self.plan, self._layout_notes = folder_plan(root)
        else:
            parts = split_parts(root)
            self.kind = "split" if len(parts) > 1 else "file"
            self.plan, self._layout_notes = [(p, frozenset()) for p in parts], []
        self.findings: list[Finding] = list(self._layout_notes)
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.evidence = Evidence()
        self._total = sum(p.stat().st_size for p, _ in self.plan) or 1
        self._done = 0
        self._reader: DumpFile | None = None

    @property
    def files(self) -> list[str]:
        return [str(p) for p, _ in self.plan]

    @property
    def era(self) -> str:
        """The writer era (docs/formats/dumps-3x.md §2, §12): final once ``records()`` has been exhausted."""
        return self.evidence.era()

    def fraction(self) -> float:
        """How much of the input (compressed bytes, all files) the current pass has read, 0..1."""
        current = self._reader.stream_position() if self._reader is not None else 0
        return min(1.0, (self._done + current) / self._total)

    def close(self) -> None:
        """Nothing stays open between records; kept for callers that close every source."""

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def records(self, after: Position | None = None) -> Iterator[Record]:
        """Every record in file order; with *after* (a record's ``position``) only the later ones.

        Files before ``after.source`` are not opened; inside it, earlier records are delimited
        but not built.
        """
        self.findings = list(self._layout_notes)
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.evidence = Evidence()
        started = after is None
        self._done = 0
        for path, skip in self.plan:
            offset = -1
            if not started:
                if str(path) != after.source:
                    self._done += path.stat().st_size
                    continue
                started = True
                offset = after.offset
            reader = DumpFile(path, compact=self.compact, salvage=self.salvage, findings=self.findings,
                              evidence=self.evidence, skip_sections=skip, after=offset, runs=self.runs,
                              attachment_runs=self.attachment_runs,
                              rejects=self.rejects)
            self._reader = reader
            try:
                yield from reader.records()
            finally:
                self._reader = None
                self._done += path.stat().st_size
                for section, n in reader.counts.items():
                    self.counts[section] += n
            for section, n in reader.skipped.items():
                if n:
                    self.findings.append(Finding(
                        "replay-skipped", f"{n} {section} item(s) of {path.name} not replayed: only the last "
                                          "incremental export's indexes and transformers count (docs/formats/dumps-3x.md §7.1)",
                        extra={"file": str(path), "section": section, "count": n}))
        if not started:
            raise SourceError(f"resume position {after.source!r} is not a file of this source", path=self.path)
