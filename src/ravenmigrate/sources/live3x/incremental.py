"""Incremental runs and resuming a live load (docs/live3x.md "Incremental state").

Before a load, the etags to start from are read from the target's migration-state document,
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
from .export import Etags
from .source import LiveDatabaseSource


def before_load(src: LiveDatabaseSource, client: Any, database: str, cp: Any, resume: bool,
                log: Callable[[str], None]) -> None:
    """Choose the export's start etags (and whether to export deletions) for this load."""
    state = cp.source_state
    if resume and state.get("start") is not None:
        src.start = Etags.from_json(state["start"])
        src.export_deletions = bool(state.get("deletions"))
        if src.fingerprint() != state.get("fingerprint"):
            log(f"{src.path} changed since the interrupted run: sending its whole export again "
                "(resuming by count would skip the wrong items)")
            cp.acked = [0] * cp.streams
            cp.acked_bytes = [0] * cp.streams
        return
    previous = read_state(client, database, src.state_key)
    src.start = Etags.from_json(previous) if previous else Etags()
    src.export_deletions = previous is not None
    cp.source_state = {"state_key": src.state_key, "start": src.start.to_json(),
                       "deletions": src.export_deletions, "fingerprint": src.fingerprint()}
    cp.save()
    if previous:
        log(f"incremental run: exporting what changed in {src.path} after {src.start.to_json()}")


def after_load(src: LiveDatabaseSource, client: Any, database: str, cp: Any) -> None:
    """Keep the export's last etags, in the target (as Migrator_V3) and in the checkpoint."""
    if src.last_state is None:
        return
    document = {"ServerUrl": src.url.server, "DatabaseName": src.url.name, **src.last_state.to_json(),
                "LastRavenFsEtag": (read_state(client, database, src.state_key) or {}).get("LastRavenFsEtag")
                or "00000000-0000-0000-0000-000000000000"}
    client.json("PUT", f"/databases/{_q(database)}/docs?id={_q(src.state_key)}", document)
    cp.source_state = {**cp.source_state, "last": src.last_state.to_json()}
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

