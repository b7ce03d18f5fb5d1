"""A database of a running 3.x server as a source: its export, streamed into the dump reader.

The export answer is read as it arrives (``sources.stream.ByteStream`` over the response body),
never held whole. ``start``/``export_deletions`` select an incremental export (``incremental.py``);
after the records, ``last_state`` holds the etags the next run starts from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from ...records import SECTIONS, Attachment, Document, Finding, Position, Record
from ...rejects import Rejects
from ..era import Evidence
from ..reader import DumpFile
from ..stream import ByteStream
from . import etag
from .client import LiveClient, LiveError, LiveOptions
from .export import Build, Etags, build_version, next_operation_id, operation_state, request_body
from .url import LiveUrl

STATE_KEY_PREFIX = "Raven/Migration/Status/"


class LiveSource:
    """What a live 3.x database and a live file system source share: the server's build, asked once,
    and the key Migrator_V3 keeps the last etags under (the subclasses set ``client``, ``url`` and
    ``_build = None``)."""

    client: LiveClient
    url: LiveUrl
    _build: Build | None

    @property
    def build(self) -> Build:
        if self._build is None:
            self._build = build_version(self.client)
        return self._build

    @property
    def state_key(self) -> str:
        """Where Migrator_V3 keeps the last etags in the target (Migrator.cs MigrationStateKeyBase)."""
        return f"{STATE_KEY_PREFIX}{self.build.major}/{self.url.name}/{self.url.server}"


class LiveDatabaseSource(LiveSource):
    """``http(s)://HOST:PORT/databases/NAME``; iterate ``records()`` once per export wanted."""

    def __init__(self, url: LiveUrl, options: LiveOptions, *, compact: bool = False, salvage: bool = False,
                 runs: bool = False, rejects: Rejects | None = None) -> None:
        self.url = url
        self.path = url.text
        self.kind = "live 3.x database"
        self.files = [self.path]
        self.client = LiveClient(url.server, options)
        self.compact = compact
        self.salvage = salvage
        self.runs = runs
        self.rejects = rejects
        self.findings: list[Finding] = []
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.evidence = Evidence()
        self.start = Etags()
        self.export_deletions = False
        self.last_state: Etags | None = None
        self.received = 0
        self._build: Build | None = None
        self._response = None

    @property
    def era(self) -> str:
        return self.evidence.era()

    # -- the incremental protocol (incremental.py) ------------------------------------------------
    def begin(self, state: dict | None) -> None:
        """Start after *state* (a migration-state document, or a checkpoint's start); with one,
        deletions are exported too (Migrator_V3: ``ExportDeletions = originalState != null``)."""
        self.start = Etags.from_json(state) if state else Etags()
        self.export_deletions = bool(state) and state.get("ExportDeletions", True) is not False

    def start_state(self) -> dict:
        return {**self.start.to_json(), "ExportDeletions": self.export_deletions}

    def end_state(self) -> dict | None:
        return None if self.last_state is None else self.last_state.to_json()

    def fingerprint(self) -> str:
        """What changes whenever a document or attachment is put or deleted (``stats``)."""
        stats = self.client.ok("GET", self.url.path("stats"), what="database statistics").json()
        return "|".join(str(stats.get(k)) for k in ("LastDocEtag", "LastAttachmentEtag", "CountOfDocuments",
                                                     "CountOfAttachments"))

    def fraction(self) -> float | None:
        return None

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def records(self, after: Position | None = None) -> Iterator[Record]:
        if after is not None:
            raise LiveError("a live export is resumed by the loader's checkpoint, not by position", path=self.path)
        build = self.build
        self.findings, self.counts, self.evidence = [], dict.fromkeys(SECTIONS, 0), Evidence()
        self.last_state = None
        operation = 0 if build.major == "v3.0" else next_operation_id(self.client, self.url)
        body = request_body(build, self.start, self.export_deletions, operation)
        resp = self.client.ok("POST", self.url.path("studio-tasks/exportDatabase"), body,
                              {"Content-Type": "application/json; charset=utf-8"}, what="the export")
        self._response = resp
        seen = dataclasses.replace(self.start)
        # Before 35215 the etags come from the stream (Migrator_V3 GenerateLastEtagsInfo), so documents
        # are read one by one (a DocumentRun does not keep them).
        reader = DumpFile(Path(self.path), compact=self.compact, salvage=self.salvage, findings=self.findings,
                          evidence=self.evidence, runs=self.runs and build.has_operation_state, rejects=self.rejects,
                          open_stream=lambda: ByteStream(Path(self.path), fileobj=resp))
        reader.name = self.path  # errors name the URL (a Path would fold its "//")
        try:
            for record in reader.records():
                if isinstance(record, Document):
                    seen.docs = _later(seen.docs, record.metadata.get("@etag"))
                elif isinstance(record, Attachment):
                    seen.attachments = _later(seen.attachments, record.etag)
                yield record
        finally:
            self.received = resp.received
            self.counts = dict(reader.counts)
            self.close()
        if build.has_operation_state:
            self.last_state = operation_state(self.client, self.url, operation)
            if self.last_state is None:
                self.findings.append(Finding("no-export-state", "the 3.x server did not report the export's last "
                                             "etags; the next run exports everything again"))
        else:
            # Migrator_V3 (GenerateLastEtagsInfo) takes the deletion etags from the last document and
            # attachment etags too.
            self.last_state = Etags(seen.docs, seen.docs, seen.attachments, seen.attachments)


def _later(current: str, candidate: object) -> str:
    if not isinstance(candidate, str):
        return current
    try:
        return candidate if etag.to_int(candidate) > etag.to_int(current) else current
    except ValueError:
        return current
