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


class RavenFSExportSource:
    """Read a RavenFS smuggler export (``.ravenfsdump`` in 3.5, ``.ravendump`` in 3.0 Studio)."""

    era = "3.x RavenFS (smuggler export)"
    kind = "ravenfs-export"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.files = [self.path]
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

    def _read(self, zf: zipfile.ZipFile, name: str) -> str:
        try:
            return zf.read(name).decode("utf-8-sig")
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceError(f"zip entry {name!r} cannot be read: {exc}", path=self.path) from exc

    def _records(self, after: int) -> Iterator[File]:
        self.counts = {SECTION: 0}
        self.findings = []
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"not a readable zip ({exc})", path=self.path) from exc
        with zf:
            metadata = self._read(zf, METADATA)
            self.configs = []
            if CONFIGURATIONS in zf.NameToInfo:
                for record in objects(self._read(zf, CONFIGURATIONS), CONFIGURATIONS, self.path):
                    self.configs.append((str(record.get("Name")), record.get("Value")))
            else:
                self.findings.append(Finding("ravenfs-export-no-configurations",
                                             "no .configurations entry (a 3.0 export)"))
            if self.configs:
                self.findings.append(Finding("ravenfs-configuration", (
                    f"{len(self.configs)} RavenFS configuration entries are not migrated: 4.x's migration reads "
                    "only files (docs/ravenfs.md)"), extra={"configurations": [n for n, _ in self.configs]}))
            entries = zf.NameToInfo
            for index, record in enumerate(objects(metadata, METADATA, self.path)):
                key, meta = record.get("Key"), record.get("Metadata")
                if not isinstance(key, str) or not isinstance(meta, dict):
                    raise SourceError(f"{METADATA} record {index}: expected a string Key and an object Metadata",
                                      path=self.path, section=SECTION, index=index)
                entry = entries.get(key)
                if entry is None:
                    raise SourceError(f"{METADATA} record {index} names {key!r}, which is not an entry of the zip",
                                      path=self.path, section=SECTION, index=index)
                if index <= after:
                    continue
                self.counts[SECTION] += 1
                pos = Position(source=self.path, section=SECTION, index=index, offset=-1, key=key)
                etag = meta.get("ETag")
                yield File(key.replace("\\", "/").lstrip("/"), ZipEntryContent(self.path, entry), meta,
                           etag if isinstance(etag, str) else None, pos)
