"""The export Migrator_V3 asks a 3.x server for (docs/live3x.md "Export").

fitzchak/ravendb v4.1 ``src/Raven.Server/Smuggler/Migration/Migrator_V3.cs``: ``GET
/build/version`` decides 3.0 or 3.5 (``Migrator.cs`` GetBuildInfo); 3.5 takes an operation id from
``studio-tasks/next-operation-id``; ``POST studio-tasks/exportDatabase`` with
``{"DownloadOptions": "<options JSON>", "ProgressTaskId": id}`` (3.5) or
``{"SmugglerOptions": "<options JSON>"}`` (3.0), the options being ``DatabaseMigrationOptions``
(``SmugglerDatabaseOptions.cs``, ``ItemType.cs``); the answer is the gzip legacy export. From
build 35215 the last etags come from ``operation/status?id=`` (polled once a second, 15 tries),
earlier builds from the last etags seen in the stream.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from . import etag
from .client import LiveClient, LiveError
from .url import LiveUrl

# ItemType (Migrator_V3's ItemType.cs): Documents=1, Indexes=2, Attachments=4.
DOCUMENTS, INDEXES, ATTACHMENTS = 1, 2, 4
BATCH_SIZE = 1024
STATUS_FIRST_BUILD = 35215
STATUS_TRIES = 15
STATUS_INTERVAL = 1.0
ETAG_FIELDS = ("LastDocsEtag", "LastDocDeleteEtag", "LastAttachmentsEtag", "LastAttachmentsDeleteEtag")


@dataclass
class Build:
    version: int
    product: str

    @property
    def major(self) -> str:
        """``v3.0`` or ``v3.5``, Migrator_V3's MajorVersion descriptions (used in the state key)."""
        return "v3.5" if self.version >= 35000 else "v3.0"

    @property
    def has_operation_state(self) -> bool:
        return self.version >= STATUS_FIRST_BUILD


@dataclass
class Etags:
    """LastEtagsInfo (Migrator_V3's LastEtagsInfo.cs): where an export starts or ended."""

    docs: str = etag.EMPTY
    doc_deletes: str = etag.EMPTY
    attachments: str = etag.EMPTY
    attachment_deletes: str = etag.EMPTY

    def to_json(self) -> dict[str, str]:
        return {"LastDocsEtag": self.docs, "LastDocDeleteEtag": self.doc_deletes,
                "LastAttachmentsEtag": self.attachments, "LastAttachmentsDeleteEtag": self.attachment_deletes}

    @classmethod
    def from_json(cls, data: dict) -> Etags:
        return cls(*(data.get(k) or etag.EMPTY for k in ETAG_FIELDS))


def build_version(client: LiveClient) -> Build:
    """``GET /build/version``; refuses what Migrator_V3 would not treat as 3.0 or 3.5."""
    info = client.ok("GET", "/build/version", what="the build version probe").json()
    try:
        version = int(info.get("BuildVersion"))
    except (TypeError, ValueError):
        raise LiveError(f"unexpected /build/version answer {info!r}", path=client.server) from None
    product = str(info.get("ProductVersion") or "")
    if 40 <= version <= 49 or version > 40000:
        raise LiveError(f"a RavenDB 4.x server (build {version}): use 4.x's own export", path=client.server)
    if not (version >= 35000 or 3000 <= version < 20000):
        raise LiveError(f"build {version} ({product}) is not RavenDB 3.0 or 3.5; export it with its own smuggler "
                        "and give ravenmigrate the dump", path=client.server)
    return Build(version, product)


def request_body(build: Build, start: Etags, deletions: bool, operation_id: int) -> bytes:
    options = {"OperateOnTypes": DOCUMENTS | INDEXES | ATTACHMENTS, "BatchSize": BATCH_SIZE,
               "ExportDeletions": deletions, "StartDocsEtag": start.docs,
               "StartAttachmentsEtag": start.attachments, "StartDocsDeletionEtag": start.doc_deletes,
               "StartAttachmentsDeletionEtag": start.attachment_deletes}
    inner = json.dumps(options)
    if build.major == "v3.0":
        return json.dumps({"SmugglerOptions": inner}).encode()
    return json.dumps({"DownloadOptions": inner, "ProgressTaskId": operation_id}).encode()


def next_operation_id(client: LiveClient, url: LiveUrl) -> int:
    text = client.ok("GET", url.path("studio-tasks/next-operation-id"), what="the operation id").text()
    try:
        return int(text.strip())
    except ValueError:
        raise LiveError(f"expected an operation id, got {text[:100]!r}", path=client.server) from None


def operation_state(client: LiveClient, url: LiveUrl, operation_id: int) -> Etags | None:
    """The export's OperationState, or None when the server no longer has it or never completes."""
    for _ in range(STATUS_TRIES):
        resp = client.request("GET", url.path(f"operation/status?id={operation_id}"))
        if resp.status == 404:
            resp.close()
            return None
        if resp.status != 200:
            raise LiveError(f"operation status failed: {resp.status} {resp.text()[:300]}", path=client.server)
        status = resp.json()
        if not status.get("Completed"):
            time.sleep(STATUS_INTERVAL)
            continue
        if status.get("Faulted"):
            error = (status.get("State") or {}).get("Error") or status.get("ExceptionDetails")
            raise LiveError(f"the 3.x export failed on the server: {str(error)[:1000]}", path=client.server)
        state = status.get("OperationState")
        return Etags.from_json(state) if isinstance(state, dict) else None
    return None
