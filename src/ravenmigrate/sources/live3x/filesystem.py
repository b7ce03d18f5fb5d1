"""A file system of a running 3.x server as a source (docs/live3x.md "File systems").

As Migrator_V3 (fitzchak/ravendb v4.1 ``Migrator_V3.cs`` MigrateRavenFs): the file headers are
paged from ``GET /fs/{name}/streams/files?pageSize=32&etag=E`` (``{"Results": [FileHeader...]}``,
3.5 ``Raven.Database/FileSystem/Controllers/FilesStreamsController.cs``), each page starting after
the last ``Etag`` of the one before, until a page is empty; a file's bytes come from
``GET /fs/{name}/files/{escaped key}`` when a sink reads them (each read downloads them again).
The records are the RavenFS source's :class:`~ravenmigrate.records.File`, converted as in
docs/ravenfs.md.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator

from ...errors import SourceError
from ...records import File, FileContent, Finding, Position
from ..stream import StreamError
from . import etag
from .client import LiveClient, LiveError, LiveOptions
from .export import Build
from .source import LiveSource
from .url import LiveUrl

PAGE_SIZE = 32  # Migrator_V3's RavenFsHeadersPageSize
SECTION = "Files"
CHUNK = 1 << 20


class HttpFileContent(FileContent):
    """A file's bytes, downloaded each time :meth:`chunks` runs."""

    __slots__ = ("client", "path", "key")

    def __init__(self, client: LiveClient, path: str, key: str, size: int) -> None:
        super().__init__(size)
        self.client = client
        self.path = path
        self.key = key

    def chunks(self) -> Iterator[bytes]:
        resp = self.client.request("GET", self.path)
        try:
            if resp.status == 404:
                raise LiveError(f"file {self.key!r} was deleted on the 3.x server while being read; run again",
                                path=self.client.server + self.path)
            if resp.status != 200:
                raise LiveError(f"download of file {self.key!r} failed: {resp.status}", path=self.client.server + self.path)
            received = 0
            while data := resp.read(CHUNK):
                received += len(data)
                yield data
            if received != self.size:
                raise LiveError(f"file {self.key!r}: {received:,} bytes downloaded, its header says {self.size:,}",
                                path=self.client.server + self.path)
        except StreamError as exc:
            raise LiveError(str(exc), path=self.client.server + self.path) from None
        finally:
            resp.close()


class LiveFileSystemSource(LiveSource):
    """``http(s)://HOST:PORT/fs/NAME``; ``start`` is the RavenFS etag to page from."""

    kind = "live 3.x file system"

    def __init__(self, url: LiveUrl, options: LiveOptions, **_ignored) -> None:
        self.url = url
        self.path = url.text
        self.files = [self.path]
        self.client = LiveClient(url.server, options)
        self.findings: list[Finding] = []
        self.counts: dict[str, int] = {SECTION: 0}
        self.start = etag.EMPTY
        self.last_state: str | None = None
        self._build: Build | None = None

    @property
    def era(self) -> str:
        return "3.x RavenFS (live)"

    # -- the incremental protocol (incremental.py) ------------------------------------------------
    def begin(self, state: dict | None) -> None:
        self.start = (state or {}).get("LastRavenFsEtag") or etag.EMPTY

    def start_state(self) -> dict:
        return {"LastRavenFsEtag": self.start}

    def end_state(self) -> dict | None:
        return None if self.last_state is None else {"LastRavenFsEtag": self.last_state}

    def fingerprint(self) -> str:
        """No statistics tell a file system's changes apart: a resumed run sends every file again."""
        return uuid.uuid4().hex

    def fraction(self) -> float | None:
        return None

    def close(self) -> None:
        """Every request closes its own connection."""

    def __iter__(self) -> Iterator[File]:
        return self.records()

    def records(self, after: Position | None = None) -> Iterator[File]:
        if after is not None:
            raise LiveError("a live file system is resumed by the loader's checkpoint, not by position", path=self.path)
        self.findings, self.counts, self.last_state = [], {SECTION: 0}, None
        last = self.start
        index = 0
        while True:
            page = self.client.ok("GET", self.url.path(f"streams/files?pageSize={PAGE_SIZE}&etag={last}"),
                                  what="the file list").json()
            results = page.get("Results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise LiveError(f"expected {{\"Results\": [...]}} from streams/files, got {str(page)[:200]}",
                                path=self.path)
            if not results:
                break
            for header in results:
                try:
                    full, metadata = header["FullPath"], header["Metadata"]
                    size = int(header.get("TotalSize") if header.get("TotalSize") is not None else -1)
                except (KeyError, TypeError, ValueError) as exc:
                    raise SourceError(f"a file header without FullPath, Metadata or TotalSize ({exc})",
                                      path=self.path, section=SECTION, index=index) from None
                key = full.lstrip("/")
                content = (HttpFileContent(self.client, self.url.path("files/" + urllib.parse.quote(key, safe="")),
                                           key, size) if size >= 0 else None)
                self.counts[SECTION] += 1
                yield File(key, content, metadata, header.get("Etag"), Position(self.path, SECTION, index, -1, key=full))
                index += 1
            last = results[-1].get("Etag") or last
        self.last_state = last
