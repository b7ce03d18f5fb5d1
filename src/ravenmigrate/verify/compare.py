"""Read a 4.x database's full state from a live server and diff two states (docs/formats/import-4x.md §14).

Used by the differential test (server import vs ravenmigrate) and by ``verify``. A state holds
every document with its metadata, every attachment (name, hash, size, content type), every
revision, the identities, the index definitions and index errors, and the ``/stats`` counts.
Change vectors and etag-derived values are never compared (the server assigns them), except the
``RV:`` change vectors of legacy revisions (§4); ``@last-modified`` can be ignored for
transports that cannot set it. Differences that ravenmigrate makes on purpose are matched
against the converter's :class:`~ravenmigrate.convert.deviations.Deviation` list.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..convert.deviations import Deviation
from ..sinks.server.client import RavenClient

PAGE = 1024
IGNORED_METADATA = ("@change-vector", "@etag", "@last-modified", "@index-score")
STAT_COUNTS = ("CountOfDocuments", "CountOfRevisionDocuments", "CountOfAttachments", "CountOfUniqueAttachments",
               "CountOfIndexes")
INDEX_KEYS = ("Name", "Type", "LockMode", "Priority", "Reduce", "Configuration", "AdditionalSources",
              "OutputReduceToCollection")


@dataclass(slots=True)
class DatabaseState:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    revisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    identities: dict[str, int] = field(default_factory=dict)
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    index_errors: dict[str, list[str]] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Difference:
    kind: str
    key: str
    a: Any
    b: Any
    allowed_by: str | None = None

    def __str__(self) -> str:
        tag = f" (deviation {self.allowed_by})" if self.allowed_by else ""
        return f"{self.kind} {self.key!r}: A={_short(self.a)} B={_short(self.b)}{tag}"


@dataclass(slots=True)
class Comparison:
    differences: list[Difference]
    counts: dict[str, int]

    @property
    def failures(self) -> list[Difference]:
        return [d for d in self.differences if d.allowed_by is None]

    @property
    def allowed(self) -> list[Difference]:
        return [d for d in self.differences if d.allowed_by is not None]


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) < 300 else text[:300] + "..."


def _loads(data: bytes) -> Any:
    return json.loads(data, parse_float=Decimal, strict=False)


def _db(database: str) -> str:
    return "/databases/" + urllib.parse.quote(database)


def read_state(client: RavenClient, database: str, *, revision_ids: Iterable[str] = (),
               wait_for_indexing: float = 60.0) -> DatabaseState:
    """Everything a 4.x database holds, read through the endpoints of docs/formats/import-4x.md §10."""
    state = DatabaseState()
    db = _db(database)
    start = 0
    while True:
        _, data = client.request("GET", f"{db}/streams/docs?start={start}&pageSize={PAGE}")
        page = _loads(data)["Results"]
        for doc in page:
            state.documents[doc["@metadata"]["@id"]] = doc
        if len(page) < PAGE:
            break
        start += PAGE
    for doc_id, doc in state.documents.items():
        for att in doc["@metadata"].get("@attachments") or []:
            q = urllib.parse.urlencode({"id": doc_id, "name": att["Name"]})
            conn = client._connection()
            conn.request("GET", f"{db}/attachments?{q}")
            resp = conn.getresponse()
            body = resp.read()
            state.attachments[(doc_id, att["Name"])] = {
                "Hash": resp.getheader("Attachment-Hash"), "Size": int(resp.getheader("Attachment-Size") or -1),
                "ContentType": resp.getheader("Content-Type"), "Read": len(body), "Status": resp.status}
    wanted = {i for i, d in state.documents.items() if "HasRevisions" in (d["@metadata"].get("@flags") or "")}
    for doc_id in sorted(wanted | set(revision_ids)):
        q = urllib.parse.urlencode({"id": doc_id, "start": 0, "pageSize": 4096})
        status, data = client.request("GET", f"{db}/revisions?{q}", ok=(200, 404))
        if status == 200:
            results = _loads(data).get("Results") or []
            if results:
                state.revisions[doc_id] = results
    state.identities = client.json("GET", f"{db}/debug/identities") or {}
    stats = _wait_for_indexing(client, db, wait_for_indexing)
    state.stats = {k: stats.get(k) for k in STAT_COUNTS}
    for definition in client.json("GET", f"{db}/indexes?start=0&pageSize=4096")["Results"]:
        state.indexes[definition["Name"]] = definition
    for entry in client.json("GET", f"{db}/indexes/errors")["Results"]:
        errors = sorted({e.get("Error", "") for e in entry.get("Errors") or []})
        if errors:
            state.index_errors[entry["Name"]] = errors
    return state


def _wait_for_indexing(client: RavenClient, db: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = client.json("GET", f"{db}/stats")
        stale = [i for i in stats.get("Indexes") or [] if i.get("IsStale")]
        if not stale or time.monotonic() > deadline:
            return stats
        time.sleep(0.5)


def normalize_document(doc: dict[str, Any], keep_change_vector: bool = False) -> dict[str, Any]:
    """A document without server-assigned values; ``@attachments`` sorted by name."""
    out = {k: v for k, v in doc.items() if k != "@metadata"}
    meta = {k: v for k, v in doc.get("@metadata", {}).items()
            if k not in IGNORED_METADATA or (keep_change_vector and k == "@change-vector")}
    if "@attachments" in meta:
        meta["@attachments"] = sorted(meta["@attachments"], key=lambda a: a.get("Name", ""))
    out["@metadata"] = meta
    return out


def normalize_index(definition: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of an ``IndexDefinition`` (maps as a set, null field options dropped)."""
    out = {k: definition.get(k) for k in INDEX_KEYS}
    out["Maps"] = sorted(definition.get("Maps") or [])
    out["Fields"] = {f: {k: v for k, v in (opts or {}).items() if v is not None}
                     for f, opts in sorted((definition.get("Fields") or {}).items())}
    return out


def _revision_key(rev: dict[str, Any]) -> str:
    cv = rev["@metadata"].get("@change-vector") or ""
    return cv if cv.startswith("RV:") else "auto:" + json.dumps(normalize_document(rev), sort_keys=True, default=str)


def diff(a: DatabaseState, b: DatabaseState, *, deviations: Iterable[Deviation] = (),
         ignore_last_modified: bool | Iterable[str] = False) -> Comparison:
    """Every difference between *a* (reference) and *b*; differences a deviation explains are marked allowed.

    *ignore_last_modified*: True for all documents, or the ids whose ``@last-modified`` cannot match.
    """
    devs: dict[tuple[str, str], Deviation] = {(d.code, d.key): d for d in deviations}
    moved = {d.server: d.ours for d in devs.values() if d.code == "nested-metadata-id"}
    skip_lm = ignore_last_modified if isinstance(ignore_last_modified, bool) else set(ignore_last_modified)
    out: list[Difference] = []
    counts = {"documents": 0, "attachments": 0, "revisions": 0, "identities": 0, "indexes": 0, "index_errors": 0}

    def add(kind: str, key: str, va: Any, vb: Any, allowed: str | None = None) -> None:
        out.append(Difference(kind, key, va, vb, allowed))

    for doc_id in sorted(set(a.documents) | set(b.documents)):
        da, db_ = a.documents.get(doc_id), b.documents.get(doc_id)
        if da is not None and db_ is None and doc_id in moved and moved[doc_id] in b.documents:
            add("document-id", doc_id, doc_id, moved[doc_id], "nested-metadata-id")
            db_ = b.documents[moved[doc_id]]
            da = dict(da, **{"@metadata": dict(da["@metadata"], **{"@id": moved[doc_id]})})
            doc_id = moved[doc_id]
        elif da is None and doc_id in moved.values():
            continue
        if da is None or db_ is None:
            add("document-missing" if db_ is None else "document-extra", doc_id, da is not None, db_ is not None)
            continue
        counts["documents"] += 1
        na, nb = normalize_document(da), normalize_document(db_)
        if na != nb:
            for k in sorted(set(na) | set(nb)):
                if k != "@metadata" and na.get(k) != nb.get(k):
                    add("body", f"{doc_id}.{k}", na.get(k), nb.get(k))
            ma, mb = na["@metadata"], nb["@metadata"]
            for k in sorted(set(ma) | set(mb)):
                if ma.get(k) != mb.get(k):
                    add("metadata", f"{doc_id}.{k}", ma.get(k), mb.get(k))
        _last_modified(doc_id, da, db_, skip_lm, devs, add)
    for key in sorted(set(a.attachments) | set(b.attachments)):
        counts["attachments"] += 1
        va, vb = a.attachments.get(key), b.attachments.get(key)
        if (va and {k: va[k] for k in ("Hash", "Size", "ContentType")}) != (vb and {k: vb[k] for k in ("Hash", "Size", "ContentType")}):
            add("attachment", "/".join(key), va, vb)
    for doc_id in sorted(set(a.revisions) | set(b.revisions)):
        ra = {_revision_key(r): r for r in a.revisions.get(doc_id, [])}
        rb = {_revision_key(r): r for r in b.revisions.get(doc_id, [])}
        counts["revisions"] += len(ra)
        for k in sorted(set(ra) | set(rb)):
            if k not in ra or k not in rb:
                add("revision-missing" if k not in rb else "revision-extra", f"{doc_id}@{k[:40]}", k in ra, k in rb)
            elif normalize_document(ra[k]) != normalize_document(rb[k]):
                add("revision", f"{doc_id}@{k[:40]}", normalize_document(ra[k]), normalize_document(rb[k]))
            elif k.startswith("RV:"):
                _last_modified(f"{doc_id}@{k}", ra[k], rb[k], skip_lm, devs, add, lookup=doc_id)
    for key in sorted(set(a.identities) | set(b.identities)):
        counts["identities"] += 1
        va, vb = a.identities.get(key), b.identities.get(key)
        if va != vb:
            dev = devs.get(("identity-integer", key))
            add("identity", key, va, vb, "identity-integer" if dev and va is None and vb == dev.ours else None)
    rewritten = 0
    for name in sorted(set(a.indexes) | set(b.indexes)):
        counts["indexes"] += 1
        va = normalize_index(a.indexes[name]) if name in a.indexes else None
        vb = normalize_index(b.indexes[name]) if name in b.indexes else None
        if va != vb:
            # the server refused the 3.x definition; ours was rewritten into one it creates
            allowed = "index-rewrite" if va is None and ("index-rewrite", name) in devs else None
            rewritten += allowed is not None
            add("index", name, va, vb, allowed)
    for name in sorted(set(a.index_errors) | set(b.index_errors)):
        counts["index_errors"] += 1
        if a.index_errors.get(name) != b.index_errors.get(name):
            add("index-errors", name, a.index_errors.get(name), b.index_errors.get(name))
    for k in STAT_COUNTS:
        if a.stats.get(k) != b.stats.get(k):
            more = k == "CountOfIndexes" and rewritten and b.stats.get(k) == (a.stats.get(k) or 0) + rewritten
            add("stats", k, a.stats.get(k), b.stats.get(k), "index-rewrite" if more else None)
    return Comparison(out, counts)


def _last_modified(key: str, da: dict, db_: dict, skip: bool | set[str], devs: dict, add, lookup: str | None = None) -> None:
    la, lb = da["@metadata"].get("@last-modified"), db_["@metadata"].get("@last-modified")
    doc_id = lookup or da["@metadata"].get("@id")
    if la == lb or skip is True or (skip is not False and doc_id in skip):
        return
    fff = devs.get(("last-modified-fff", doc_id))
    carry = devs.get(("last-modified-carry-over", doc_id))
    if fff and fff.server == la and fff.ours == lb:
        add("last-modified", key, la, lb, "last-modified-fff")
    elif carry and carry.server == la:
        add("last-modified", key, la, lb, "last-modified-carry-over")
    else:
        add("last-modified", key, la, lb)
