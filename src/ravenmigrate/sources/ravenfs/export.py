"""A RavenFS smuggler export (a zip: one entry per file, ``.metadata``, ``.configurations``) read as files.

Layout (``Raven.Abstractions/Smuggler/SmugglerFilesApiBase.cs``, v3.0 and v3.5; docs/ravenfs.md §7):
one entry per file named by its key (the full path without the leading ``/``, joined with
``Path.Combine``: on Windows a ``\\`` may separate the directory from the name), holding the raw
bytes; ``.metadata``: one ``{"Key", "Metadata"}`` JSON object per file, indented, each followed by
CRLF; ``.configurations`` (3.5, optional): ``{"Name", "Value"}`` objects the same way. Deleted files
are never exported. The records are split with a real incremental JSON decoder (3.x's own importer
counts braces and breaks on a brace inside a string).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...errors import SourceError
from ...records import File, FileContent, Finding, Position
from .source import SECTION

METADATA = ".metadata"
CONFIGURATIONS = ".configurations"
CHUNK = 1 << 20
_DECODER = json.JSONDecoder(parse_float=Decimal)


def is_export(zf: zipfile.ZipFile) -> bool:
    return METADATA in zf.NameToInfo


def objects(text: str, what: str, shown: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a ``.metadata`` / ``.configurations`` entry, in order."""
    pos, end = 0, len(text)
    index = 0
    while True:
        while pos < end and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if pos >= end:
            return
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            raise SourceError(f"{what}: record {index} is not JSON ({exc})", path=shown, section=SECTION,
                              index=index) from exc
        if not isinstance(value, dict):
            raise SourceError(f"{what}: record {index} is not a JSON object", path=shown, section=SECTION, index=index)
        yield value
        index += 1


class ZipEntryContent(FileContent):
    """A file's bytes: a zip entry, inflated chunk by chunk each time :meth:`chunks` runs."""

    __slots__ = ("path", "entry")

    def __init__(self, path: str, entry: zipfile.ZipInfo) -> None:
        super().__init__(entry.file_size)
        self.path = path
        self.entry = entry

    def chunks(self) -> Iterator[bytes]:
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.entry) as src:
                while chunk := src.read(CHUNK):
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise SourceError(f"zip entry {self.entry.filename!r} cannot be read: {exc}", path=self.path,
                              section=SECTION) from exc


INCREMENTAL_SUFFIX = ".ravenfs-incremental-dump"


def incremental_parts(folder: Path) -> list[Path]:
    """The parts of an incremental export folder in the order 3.x replays them: by last write time
    (``SmugglerFilesApiBase.ImportData``), then by name."""
    parts = [p for p in folder.iterdir() if p.is_file() and p.name.endswith(INCREMENTAL_SUFFIX)]
    return sorted(parts, key=lambda p: (p.stat().st_mtime, p.name))


class RavenFSExportSource:
    """Read a RavenFS smuggler export (``.ravenfsdump`` in 3.5, ``.ravendump`` in 3.0 Studio), or a
    folder of incremental exports (``*.ravenfs-incremental-dump``, each such a zip): a file exported
    again by a later part replaces the earlier one."""

    era = "3.x RavenFS (smuggler export)"
    kind = "ravenfs-export"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        folder = Path(path)
        self.files = [str(p) for p in incremental_parts(folder)] if folder.is_dir() else [self.path]
        self.findings: list[Finding] = []
        self.counts: dict[str, int] = {SECTION: 0}
        self.configs: list[tuple[str, Any]] = []
        self.info: dict[str, Any] = {}

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.code.startswith("warn")]

    def close(self) -> None:
        """Nothing stays open: every content read opens the zip again."""

    def records(self, after: Position | None = None) -> Iterator[File]:
        return self._records(-1 if after is None else after.index)

    def _records(self, after: int) -> Iterator[File]:
        self.counts = {SECTION: 0}
        self.findings = []
        configs: dict[str, Any] = {}
        latest: dict[str, tuple[str, zipfile.ZipInfo, dict]] = {}
        superseded = 0
        for part in self.files:
            for key, entry, meta in self._part(part, configs):
                superseded += latest.pop(key, None) is not None
                latest[key] = (part, entry, meta)
        self.configs = list(configs.items())
        if superseded:
            self.findings.append(Finding("ravenfs-incremental", f"{superseded} files exported again by a later "
                                         "part: the latest export of each is read"))
        if self.configs:
            self.findings.append(Finding("ravenfs-configuration", (
                f"{len(self.configs)} RavenFS configuration entries are not migrated: 4.x's migration reads "
                "only files (docs/ravenfs.md)"), extra={"configurations": list(configs)}))
        for index, (key, (part, entry, meta)) in enumerate(latest.items()):
            if index <= after:
                continue
            self.counts[SECTION] += 1
            etag = meta.get("ETag")
            yield File(key.replace("\\", "/").lstrip("/"), ZipEntryContent(part, entry), meta,
                       etag if isinstance(etag, str) else None,
                       Position(source=part, section=SECTION, index=index, offset=-1, key=key))

    def _part(self, path: str, configs: dict[str, Any]) -> Iterator[tuple[str, zipfile.ZipInfo, dict]]:
        """``(key, zip entry, metadata)`` of every file of one export zip; its configurations into *configs*."""
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"not a readable zip ({exc})", path=path) from exc
        with zf:
            if METADATA not in zf.NameToInfo:
                raise SourceError(f"no {METADATA} entry: not a RavenFS export", path=path)
            if CONFIGURATIONS in zf.NameToInfo:
                for record in objects(_read(zf, CONFIGURATIONS, path), CONFIGURATIONS, path):
                    configs[str(record.get("Name"))] = record.get("Value")
            else:
                self.findings.append(Finding("ravenfs-export-no-configurations",
                                             f"{Path(path).name}: no .configurations entry (a 3.0 export)"))
            for index, record in enumerate(objects(_read(zf, METADATA, path), METADATA, path)):
                key, meta = record.get("Key"), record.get("Metadata")
                if not isinstance(key, str) or not isinstance(meta, dict):
                    raise SourceError(f"{METADATA} record {index}: expected a string Key and an object Metadata",
                                      path=path, section=SECTION, index=index)
                entry = zf.NameToInfo.get(key)
                if entry is None:
                    raise SourceError(f"{METADATA} record {index} names {key!r}, which is not an entry of the zip",
                                      path=path, section=SECTION, index=index)
                yield key, entry, meta


def _read(zf: zipfile.ZipFile, name: str, path: str) -> str:
    try:
        return zf.read(name).decode("utf-8-sig")
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
        raise SourceError(f"zip entry {name!r} cannot be read: {exc}", path=path) from exc
