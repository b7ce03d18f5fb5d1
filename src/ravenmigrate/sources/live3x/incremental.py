"""Incremental runs and resuming a live load (docs/live3x.md "Incremental state").

Before a load, the etags to start from (a database's four, a file system's RavenFS etag) are read
from the target's migration-state document,
``Raven/Migration/Status/{v3.0|v3.5}/{database}/{server}``, the document Migrator_V3 keeps
(fitzchak/ravendb v4.1 ``Migrator.cs``, ``AbstractLegacyMigrator.cs`` GetLastMigrationState,
``LastEtagsInfo.cs``); with one, deletions are exported too (``ExportDeletions``). After a completed
load the export's last etags are written there and into the checkpoint.

``--resume`` asks for the same export again (the checkpoint keeps its start etags). The loader skips
what each stream had acknowledged by count, which is exact only if the 3.x database did not change
in between: its statistics (last etags and counts) are compared, and when they differ every item of
the export is sent again (puts and deletes by id are idempotent).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from ...errors import ServerError
from .etag import EMPTY
from .filesystem import LiveFileSystemSource
from .source import LiveDatabaseSource

LiveSource = LiveDatabaseSource | LiveFileSystemSource
# LastEtagsInfo (Migrator_V3's LastEtagsInfo.cs): every field present, empty etags by default.
EMPTY_STATE = {"ServerUrl": None, "DatabaseName": None, "LastDocsEtag": EMPTY, "LastDocDeleteEtag": EMPTY,
               "LastAttachmentsEtag": EMPTY, "LastAttachmentsDeleteEtag": EMPTY, "LastRavenFsEtag": EMPTY}


def before_load(src: LiveSource, client: Any, database: str, cp: Any, resume: bool,
                log: Callable[[str], None]) -> None:
    """Choose where the export starts (and, for a database, whether deletions are exported)."""
    state = cp.source_state
    if resume and state.get("start") is not None:
        src.begin(state["start"])
        if src.fingerprint() != state.get("fingerprint"):
            log(f"{src.path} may have changed since the interrupted run: sending all of it again "
                "(resuming by count could skip the wrong items)")
            cp.acked = [0] * cp.streams
            cp.acked_bytes = [0] * cp.streams
        return
    previous = read_state(client, database, src.state_key)
    src.begin(previous)
    cp.source_state = {"state_key": src.state_key, "start": src.start_state(), "fingerprint": src.fingerprint()}
    cp.save()
    if previous:
        log(f"incremental run: reading what changed in {src.path} after {src.start_state()}")


def after_load(src: LiveSource, client: Any, database: str, cp: Any) -> None:
    """Keep where the export ended, in the target (as Migrator_V3) and in the checkpoint."""
    end = src.end_state()
    if end is None:
        return
    document = {**EMPTY_STATE, **(read_state(client, database, src.state_key) or {}),
                "ServerUrl": src.url.server, "DatabaseName": src.url.name, **end}
    document.pop("@metadata", None)
    client.json("PUT", f"/databases/{_q(database)}/docs?id={_q(src.state_key)}", document)
    cp.source_state = {**cp.source_state, "last": end}
    cp.save()


def read_state(client: Any, database: str, key: str) -> dict[str, Any] | None:
    """The migration-state document of *key* in the 4.x database, or None."""
    try:
        result = client.json("GET", f"/databases/{_q(database)}/docs?id={_q(key)}")
    except ServerError as exc:
        if exc.status == 404:
            return None
        raise
    results = (result or {}).get("Results") or []
    return results[0] if results and isinstance(results[0], dict) else None


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")

