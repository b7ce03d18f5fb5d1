"""The target's revisions configuration: legacy revisions are only imported into a database that
has one (docs/formats/import-4x.md §4; 4.1 ``DatabaseDestination`` faults with "Revisions needs to be enabled
before import!"). A configuration the target already has is never replaced: the collections the
source kept revisions for are merged into it, and what changed is said.

``GET /databases/{db}/revisions/config`` (ValidUser) answers the configuration or 404 when there
is none; ``POST /databases/{db}/admin/revisions/config`` (DatabaseAdmin) writes it (4.1
``src/Raven.Server/Documents/Handlers/RevisionsHandler.cs``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ...convert.documents import VERSIONING_PREFIX
from ...records import Document
from .client import RavenClient
from .http import db_path

ENABLED = {"Disabled": False, "MinimumRevisionsToKeep": None, "PurgeOnDelete": False}
DEFAULT_DOCUMENT = "DefaultConfiguration"


def collection_of(record: Any) -> str | None:
    """The collection a revision-needing record asks revisions for: a legacy revision's
    ``Raven-Entity-Name``, or the collection a 3.x ``Raven/Versioning/{Collection}`` document
    configured (``None``: the default configuration, or unknown)."""
    if not isinstance(record, Document):
        return None
    if record.id.startswith(VERSIONING_PREFIX):
        name = record.id[len(VERSIONING_PREFIX):]
        return None if name == DEFAULT_DOCUMENT or not name else name
    name = (record.metadata or {}).get("Raven-Entity-Name")
    return name if isinstance(name, str) and name else None


def merge(existing: dict[str, Any] | None, collections: set[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """(the configuration to write, or ``None`` when *existing* already serves; what changes).

    No configuration: revisions enabled by default (what the import needs, for every collection).
    A configuration: kept; each of *collections* it neither lists nor covers by an enabled
    ``Default`` is added, enabled. A collection it lists (even disabled) is left as the target has it."""
    if existing is None:
        return ({"Default": dict(ENABLED), "Collections": {}},
                ["created a revisions configuration (the target had none): revisions enabled by default"])
    merged = copy.deepcopy(existing)
    listed = {k.lower() for k in (merged.get("Collections") or {})}
    default = merged.get("Default")
    default_on = bool(default) and not default.get("Disabled", False)
    added = sorted(c for c in collections if c.lower() not in listed and not default_on)
    if not added:
        return None, []
    merged.setdefault("Collections", {})
    if merged["Collections"] is None:
        merged["Collections"] = {}
    for c in added:
        merged["Collections"][c] = dict(ENABLED)
    return merged, [f"added collection {c!r} (revisions enabled) to the target's revisions configuration; "
                    f"its Default and other collections are kept" for c in added]


def read(client: RavenClient, database: str) -> dict[str, Any] | None:
    status, data = client.request("GET", db_path(database, "revisions/config"), ok=(200, 404))
    return json.loads(data) if status == 200 and data else None


def ensure(client: RavenClient, database: str, collections: set[str]) -> list[str]:
    """Merge *collections* into the target's configuration (writing only when something changes);
    the changes, in words."""
    config, changes = merge(read(client, database), collections)
    if config is not None:
        client.json("POST", db_path(database, "admin/revisions/config"), config)
    return changes
