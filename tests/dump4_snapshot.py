"""What a database holds after an import, in a form two imports can be compared by (target-4x.md §14).

Documents with their bodies and metadata (change vectors and etags are server-assigned and left
out, except the ``RV:`` change vectors of legacy revisions; a last-modified set by the server
during the test is "now"), revisions, collections, identities, indexes and the counts of
``/stats``.
"""

from __future__ import annotations

import json
import urllib.parse

from ravenmigrate.client import RavenClient

STATS = ("CountOfDocuments", "CountOfRevisionDocuments", "CountOfAttachments", "CountOfUniqueAttachments",
         "CountOfIndexes", "CountOfTombstones", "CountOfConflicts")


def _metadata(meta: dict, since: str) -> dict:
    out = {k: v for k, v in meta.items() if k not in ("@change-vector", "@etag")}
    if out.get("@last-modified", "") >= since:
        out["@last-modified"] = "now"
    return out


def _revision_cv(cv: str) -> str:
    return cv if cv.startswith("RV:") else "server-assigned"


def snapshot(client: RavenClient, database: str, since: str) -> dict:
    """*since*: an ISO time before both imports started; later last-modified values read "now"."""
    db = urllib.parse.quote(database)
    _, raw = client.request("GET", f"/databases/{db}/streams/docs")
    docs = {}
    revisions = {}
    for doc in json.loads(raw)["Results"]:
        meta = doc.pop("@metadata")
        docs[meta["@id"]] = (doc, _metadata(meta, since))
        if "HasRevisions" in meta.get("@flags", ""):
            q = urllib.parse.urlencode({"id": meta["@id"]})
            revs = client.json("GET", f"/databases/{db}/revisions?{q}")["Results"]
            revisions[meta["@id"]] = [
                ({k: v for k, v in r.items() if k != "@metadata"}, _metadata(r["@metadata"], since),
                 _revision_cv(r["@metadata"]["@change-vector"])) for r in revs]
    stats = client.stats(database)
    indexes = client.json("GET", f"/databases/{db}/indexes")["Results"]
    return {
        "documents": docs,
        "revisions": revisions,
        "collections": client.json("GET", f"/databases/{db}/collections/stats")["Collections"],
        "identities": client.json("GET", f"/databases/{db}/debug/identities"),
        "indexes": sorted((i["Name"], i["Type"], sorted(i["Maps"]), i.get("Reduce"), i["LockMode"],
                           json.dumps(i.get("Fields"), sort_keys=True)) for i in indexes),
        "stats": {k: stats.get(k) for k in STATS},
    }


def differences(a: dict, b: dict) -> list[str]:
    """Human-readable differences (empty when the databases are the same)."""
    out = []
    for key in ("collections", "identities", "indexes", "stats"):
        if a[key] != b[key]:
            out.append(f"{key}: {a[key]!r} != {b[key]!r}")
    for what in ("documents", "revisions"):
        da, db = a[what], b[what]
        for doc_id in sorted(set(da) | set(db)):
            if da.get(doc_id) != db.get(doc_id):
                out.append(f"{what} {doc_id!r}: {da.get(doc_id)!r} != {db.get(doc_id)!r}")
    return out
