"""``load --dry-run``: everything a load does but the writes.

It pre-flights the target (the server answers, its version, whether the database exists, its
revisions configuration, what it already holds), reads and converts the whole source with the
load's options (:func:`ravenmigrate.plan.plan`), and says what the load would create, change
(documents, indexes and identities that already exist) and delete, and what it would skip or leave
out. Nothing is written: no database, no document, no checkpoint.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from typing import Any

from ...errors import RavenMigrateError, ServerError
from ...plan import plan
from .client import RavenClient
from .http import db_path
from .loader import LoadOptions
from .target import Target

ID_BATCH = 200


def dry_run(source: str, options: LoadOptions) -> dict[str, Any]:
    client = (options.target or Target.parse(options.url)).client()  # TLS for a secured server
    target = preflight(client, options)
    exists = target["database_exists"] and target["documents"] > 0
    pending: list[str] = []
    found: Counter[str] = Counter()
    deletions: list[str] = []
    indexes: list[str] = []
    identities: dict[str, int] = {}

    def check(kind: str) -> None:
        if pending:
            found[kind] += _existing(client, options.database, pending)
            pending.clear()

    def on_item(kind: str, item: Any) -> None:
        if kind == "documents" and exists:
            pending.append(item)
            if len(pending) >= ID_BATCH:
                check("documents")
        elif kind == "deletions":
            deletions.append(item.id)
        elif kind == "indexes":
            indexes.append(item.name)
        elif kind == "identities":
            identities[item.name] = item.value

    result = plan(source, convert=options.convert, selection=options.selection,
                  source_options=options.source_options, on_item=on_item)
    check("documents")
    for i in range(0, len(deletions) if exists else 0, ID_BATCH):
        found["deletions"] += _existing(client, options.database, deletions[i:i + ID_BATCH])
    c = result["counts"]
    existing_indexes = set(target["index_names"])
    result["target"] = target
    result["would"] = {
        "create_database": not target["database_exists"],
        "enable_revisions": c["revisions"] > 0 and not target["revisions_configured"],
        "create_documents": c["documents"] - found["documents"],
        "change_documents": found["documents"],
        "delete_documents": found["deletions"],
        "create_indexes": sum(n not in existing_indexes for n in indexes),
        "change_indexes": sum(n in existing_indexes for n in indexes),
        "set_identities": sum(target["identities"].get(k) != v for k, v in identities.items()),
    }
    result["transport"] = options.transport
    result["status"] = "dry run: nothing was written"
    return result


def preflight(client: RavenClient, options: LoadOptions) -> dict[str, Any]:
    """What the target is: reachable, its version, the database and what it holds."""
    try:
        version = client.json("GET", "/build/version")
        names = client.database_names()
    except ServerError as exc:
        raise RavenMigrateError(f"--dry-run: the target {options.url} does not answer: {exc}") from exc
    out: dict[str, Any] = {"url": options.url, "server_version": version.get("FullVersion") or version.get("ProductVersion"),
                           "database": options.database, "database_exists": options.database in names,
                           "documents": 0, "index_names": [], "identities": {}, "revisions_configured": False}
    if not out["database_exists"]:
        if not options.create:
            raise RavenMigrateError(f"database {options.database!r} does not exist on {options.url} "
                                    f"(pass --create to create it)")
        return out
    stats = client.stats(options.database)
    out["documents"] = stats.get("CountOfDocuments", 0)
    out["index_names"] = [i["Name"] for i in stats.get("Indexes") or []]
    out["identities"] = client.json("GET", db_path(options.database, "debug/identities")) or {}
    record = client.json("GET", "/admin/databases?" + urllib.parse.urlencode({"name": options.database})) or {}
    revisions = (record.get("Revisions") or {}).get("Default") or {}
    out["revisions_configured"] = bool(revisions) and not revisions.get("Disabled", False)
    return out


def _existing(client: RavenClient, database: str, ids: list[str]) -> int:
    """How many of *ids* the database holds (``GET docs?id=..&metadataOnly=true``)."""
    query = urllib.parse.urlencode([("id", i) for i in ids] + [("metadataOnly", "true")])
    status, data = client.request("GET", db_path(database, "docs?" + query), ok=(200, 404))
    if status == 404:
        return 0
    return sum(r is not None for r in json.loads(data).get("Results") or [])
