"""Verify a load: the converted source against what the 4.x server holds, document by document.

Expected values come from ``ravenmigrate.convert`` (what 4.x's legacy import stores, docs/formats/import-4x.md
§3-§8); the server's side is streamed from ``GET /streams/docs`` (§10). Per document the body is compared
by a digest of its raw bytes (``raw_digests``; the server returns a body as it was sent), and where
those differ by the digests of the canonical texts (``codecs.canonical``: numbers compared exactly
by value, key order and escaping ignored; a second pass over the source for those documents). The
metadata is compared through its canonical text, leaving out what the server assigns itself (``@id``, ``@change-vector``, ``@flags``,
``@attachments``, ``@counters``, §14 "change vectors and etags of documents are not comparable");
``@last-modified`` is compared on its own, the attachments by name and hash, legacy revisions by
their ``RV:`` change vector (§4), identities by value (§8).

Bulk insert's documented deviations (``docs/deviations.md``) are counted apart, not as differences,
when verifying with ``transport="bulk-insert"``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..errors import ServerError
from ..sinks.server.client import RavenClient
from ..sinks.server.http import db_path
from ..sinks.server.target import Target
from .digests import digests, raw_digests
from .expected import Canonical, Expected, _expected, expected_from
from .stream import metadata, stream_batches

LIST_LIMIT = 1000


class _Section:
    def __init__(self) -> None:
        self.expected = 0
        self.found = 0
        self.missing: list[Any] = []
        self.extra: list[Any] = []
        self.different: list[Any] = []
        self.counts = {"missing": 0, "extra": 0, "different": 0}

    def add(self, what: str, item: Any) -> None:
        self.counts[what] += 1
        lst = getattr(self, what)
        if len(lst) < LIST_LIMIT:
            lst.append(item)

    def to_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "found": self.found, **self.counts,
                "missing_items": self.missing, "extra_items": self.extra, "different_items": self.different}


# Where a live import from a 3.x server keeps its last etags (sources/live3x/incremental.py).
MIGRATION_STATE_PREFIX = "raven/migration/status/"


def verify(source: str, url: str, database: str, transport: str = "import", convert_options: Any = None,
           selection: Any = None, *, target: Target | None = None, **source_options: Any) -> dict[str, Any]:
    """Compare *database* at *url* with the converted *source*; a report with ``ok``. *convert_options*
    and *selection* are the load's (docs/options.md); *target* carries the TLS settings of a secured
    server (docs/security.md); *source_options* go to ``open_source`` (raw storage: journals path,
    bundle settings)."""
    bulk = transport == "bulk-insert"
    exp = expected_from(source, bulk, convert_options, selection, **source_options)
    client = (target or Target.parse(url)).client(url)
    docs, atts, revs, idents, idxs = _Section(), _Section(), _Section(), _Section(), _Section()
    deviations = {"last_modified": 0, "revisions_not_stored": 0}
    docs.expected = len(exp.documents)
    atts.expected = len(exp.attachments)
    found_atts: set[tuple[str, str]] = set()
    try:
        suspects: dict[str, tuple[str, bytes, list[str]]] = {}  # raw bodies differ: decided by a second pass
        for buf, items, read, where in stream_batches(client, database):
            matched, others = _expected.match_documents(buf, items, exp.documents, bulk)  # as expected: done
            docs.found += matched
            for i in others:  # the rest one by one
                start, end, ms, me = items[i]
                meta = metadata(buf, start, ms, me, where, read)
                doc_id = meta.get("@id", "")
                low = doc_id.lower()
                want = exp.documents.pop(low, None)  # what is left at the end is missing
                if want is None and low.startswith(MIGRATION_STATE_PREFIX):
                    continue  # the live-import state (docs/live3x.md), not data
                if want is None:
                    docs.add("extra", doc_id)
                    continue
                docs.found += 1
                try:
                    pair = raw_digests(buf, start, end, ms, me, bulk)
                    recheck = pair is None or pair[0] != want[:16]
                    if recheck:
                        pair = digests(bytes(memoryview(buf)[start:end]), bulk)
                        recheck = pair[0] != want[:16]
                except ValueError as exc:
                    raise ServerError(f"document {doc_id!r} from the server: {exc}") from None
                body, meta_digest = pair
                want_lm = want[32:].decode("ascii") or None
                what = []
                if meta_digest != want[16:32]:
                    what.append("metadata")
                if want_lm is not None and meta.get("@last-modified") != want_lm:
                    if bulk:
                        deviations["last_modified"] += 1
                    else:
                        what.append(f"@last-modified {meta.get('@last-modified')!r} != {want_lm!r}")
                if recheck:
                    suspects[low] = (doc_id, body, what)
                elif what:
                    docs.add("different", {"id": doc_id, "what": what})
                for att in meta.get("@attachments") or []:
                    key = (low, att.get("Name"))
                    if key in exp.attachments:
                        atts.found += 1
                        found_atts.add(key)
                        if exp.attachments[key] != att.get("Hash"):
                            atts.add("different", {"document": doc_id, "name": key[1], "hash": att.get("Hash"),
                                                   "expected": exp.attachments[key]})
                    else:
                        atts.add("extra", {"document": doc_id, "name": key[1]})
        if suspects:
            canonical = expected_from(source, bulk, convert_options, selection, into=Canonical(suspects),
                                      **source_options).bodies
            for low, (doc_id, body, what) in suspects.items():
                if canonical.get(low) != body:
                    what.insert(0, "body")
                if what:
                    docs.add("different", {"id": doc_id, "what": what})
        for low in exp.documents:
            docs.add("missing", exp.ids.get(low, low))
        for (doc_low, name) in exp.attachments.keys() - found_atts:
            atts.add("missing", {"document": doc_low, "name": name})
        _verify_revisions(client, database, exp, revs, deviations, bulk)
        _verify_identities(client, database, exp, idents)
        _verify_indexes(client, database, exp, idxs)
    finally:
        client.close()
    sections = {"documents": docs.to_dict(), "attachments": atts.to_dict(), "revisions": revs.to_dict(),
                "identities": idents.to_dict(), "indexes": idxs.to_dict()}
    bad = sum(s["missing"] + s["different"] + s["extra"] for s in sections.values())
    return {"ok": bad == 0, "source": str(source), "url": url, "database": database, "transport": transport,
            **sections, "deviations": deviations if bulk else {}, "skipped_in_source": exp.skipped}


def _verify_revisions(client: RavenClient, database: str, exp: Expected, revs: _Section,
                      deviations: dict[str, int], bulk: bool) -> None:
    revs.expected = sum(len(v) for v in exp.revisions.values())
    if bulk:
        deviations["revisions_not_stored"] = revs.expected
        return
    for parent, vectors in exp.revisions.items():
        q = urllib.parse.urlencode({"id": parent})
        got = client.json("GET", db_path(database, f"revisions?{q}&start=0&pageSize=1024")) or {}
        have = {r.get("@metadata", {}).get("@change-vector") for r in got.get("Results", [])}
        for cv in vectors:
            if cv in have:
                revs.found += 1
            else:
                revs.add("missing", {"document": parent, "change_vector": cv})


def _verify_identities(client: RavenClient, database: str, exp: Expected, idents: _Section) -> None:
    have = {k.lower(): v for k, v in (client.json("GET", db_path(database, "debug/identities")) or {}).items()}
    idents.expected = len(exp.identities)
    for key, value in exp.identities.items():
        if key not in have:
            idents.add("missing", key)
        else:
            idents.found += 1
            if int(have[key]) != value:
                idents.add("different", {"key": key, "value": have[key], "expected": value})
    for key in have.keys() - exp.identities.keys():
        idents.add("extra", key)


def _verify_indexes(client: RavenClient, database: str, exp: Expected, idxs: _Section) -> None:
    """Every converted index exists (§7.2: a definition the server cannot compile is missing)."""
    have = {i["Name"] for i in client.json("GET", db_path(database, "indexes?start=0&pageSize=4096"))["Results"]}
    idxs.expected = len(exp.indexes)
    for name in sorted(exp.indexes):
        if name in have:
            idxs.found += 1
        else:
            idxs.add("missing", name)
