"""Verify a load: the converted source against what the 4.x server holds, document by document.

Expected values come from ``ravenmigrate.convert`` (what 4.x's legacy import stores, target-4x.md
§3-§8); the server's side is streamed from ``GET /streams/docs`` (§10). Per document the body and
the metadata are compared through digests of a canonical form (numbers compared by value, key
order ignored) leaving out what the server assigns itself (``@id``, ``@change-vector``, ``@flags``,
``@attachments``, ``@counters``, §14 "change vectors and etags of documents are not comparable");
``@last-modified`` is compared on its own, the attachments by name and hash, legacy revisions by
their ``RV:`` change vector (§4), identities by value (§8).

Bulk insert's documented deviations (``docs/deviations.md``) are counted apart, not as differences,
when verifying with ``transport="bulk-insert"``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ..client import RavenClient
from ..errors import ServerError
from ..records import AttachmentPut4, Delete4, Document4, Identity4, Index4
from .http import db_path
from .loader import convert, make_converter, open_records

SERVER_KEYS = frozenset({"@id", "@change-vector", "@flags", "@attachments", "@counters", "@last-modified"})
LEGACY_ATTACHMENT_METADATA = "@legacy-attachment-metadata"
LIST_LIMIT = 1000


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**63:
            return int(value)
        return {"$n": str(value.normalize())}
    return value


def digest(value: Any) -> bytes:
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def split(obj: dict[str, Any], bulk: bool) -> tuple[bytes, bytes, dict[str, Any]]:
    """(body digest, metadata digest, metadata) of a parsed document."""
    meta = obj.pop("@metadata", None) or {}
    kept = {k: v for k, v in meta.items() if k not in SERVER_KEYS}
    if bulk:
        kept.pop(LEGACY_ATTACHMENT_METADATA, None)
    return digest(obj), digest(kept), meta


def stream_documents(client: RavenClient, database: str) -> Iterator[dict[str, Any]]:
    """Every document of *database* from ``GET /streams/docs``, parsed one at a time."""
    conn = client._connection()
    path = db_path(database, "streams/docs")
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        if resp.status != 200:
            raise ServerError(f"GET {client.url}{path} answered {resp.status}: {resp.read()[:500]!r}",
                              status=resp.status)
        decoder = codecs.getincrementaldecoder("utf-8")()
        parser = json.JSONDecoder(parse_float=Decimal, strict=False)
        buf = ""
        pos = 0
        started = False
        done = False
        while not done:
            chunk = resp.read(1 << 20)
            buf = buf[pos:] + decoder.decode(chunk, final=not chunk)
            pos = 0
            if not started:
                start = buf.find("[")
                if start < 0:
                    if not chunk:
                        raise ServerError(f"GET {client.url}{path}: no Results array")
                    continue
                pos, started = start + 1, True
            while True:
                while pos < len(buf) and buf[pos] in " \r\n\t,":
                    pos += 1
                if pos < len(buf) and buf[pos] == "]":
                    done = True
                    break
                try:
                    obj, end = parser.raw_decode(buf, pos)
                except ValueError:
                    if not chunk:
                        raise ServerError(f"GET {client.url}{path}: truncated document stream") from None
                    break
                pos = end
                yield obj
        resp.read()
    except (OSError, ConnectionError) as exc:
        client.close()
        raise ServerError(f"GET {client.url}{path}: {exc}") from exc


class Expected:
    """What the converted source says the database must hold."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[str, bytes, bytes, str | None, str]] = {}
        self.attachments: dict[tuple[str, str], str] = {}
        self.revisions: dict[str, set[str]] = {}
        self.identities: dict[str, int] = {}
        self.indexes: set[str] = set()
        self.skipped = 0

    def add(self, conv: Any, bulk: bool) -> None:
        if isinstance(conv, Document4):
            if conv.revision_of is not None:
                self.revisions.setdefault(conv.revision_of.lower(), set()).add(conv.change_vector or "")
                return
            body, meta, _ = split(json.loads(conv.data, parse_float=Decimal, strict=False), bulk)
            self.documents[conv.id.lower()] = (conv.id, body, meta, conv.last_modified, conv.collection)
        elif isinstance(conv, AttachmentPut4):
            self.attachments[(conv.document_id.lower(), conv.name)] = conv.hash
        elif isinstance(conv, Delete4):
            low = conv.id.lower()
            self.documents.pop(low, None)
            for key in [k for k in self.attachments if k[0] == low]:
                del self.attachments[key]
        elif isinstance(conv, Index4):
            self.indexes.add(conv.name)
        elif isinstance(conv, Identity4):
            self.identities[conv.name.lower()] = max(conv.value, self.identities.get(conv.name.lower(), conv.value))
        else:
            self.skipped += 1


def expected_from(source: str, bulk: bool, **source_options: Any) -> Expected:
    exp = Expected()
    converter = make_converter()
    records, _, close = open_records(source, **source_options)
    try:
        for record in records:
            for conv in convert(converter, record):
                exp.add(conv, bulk)
    finally:
        close()
    return exp


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


def verify(source: str, url: str, database: str, transport: str = "import",
           **source_options: Any) -> dict[str, Any]:
    """Compare *database* at *url* with the converted *source*; a report with ``ok``.
    *source_options* go to ``open_source`` (raw storage: journals path, bundle settings)."""
    bulk = transport == "bulk-insert"
    exp = expected_from(source, bulk, **source_options)
    client = RavenClient(url)
    docs, atts, revs, idents, idxs = _Section(), _Section(), _Section(), _Section(), _Section()
    deviations = {"last_modified": 0, "revisions_not_stored": 0}
    docs.expected = len(exp.documents)
    atts.expected = len(exp.attachments)
    seen: set[str] = set()
    found_atts: set[tuple[str, str]] = set()
    try:
        for obj in stream_documents(client, database):
            meta = obj.get("@metadata") or {}
            doc_id = meta.get("@id", "")
            low = doc_id.lower()
            want = exp.documents.get(low)
            if want is None:
                docs.add("extra", doc_id)
                continue
            seen.add(low)
            docs.found += 1
            body, meta_digest, meta = split(obj, bulk)
            _, want_body, want_meta, want_lm, _ = want
            what = []
            if body != want_body:
                what.append("body")
            if meta_digest != want_meta:
                what.append("metadata")
            if want_lm is not None and meta.get("@last-modified") != want_lm:
                if bulk:
                    deviations["last_modified"] += 1
                else:
                    what.append(f"@last-modified {meta.get('@last-modified')!r} != {want_lm!r}")
            if what:
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
        for low, want in exp.documents.items():
            if low not in seen:
                docs.add("missing", want[0])
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
