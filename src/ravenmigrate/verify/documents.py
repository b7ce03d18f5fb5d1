"""Verify a load: the converted source against what the 4.x server holds, document by document.

Expected values come from ``ravenmigrate.convert`` (what 4.x's legacy import stores, docs/formats/import-4x.md
§3-§8); the server's side is streamed oldest first (``answer.EVERY_DOCUMENT``, §10), side by side with the
source (``feed``). Per document the body is compared
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
from ..threads import on_thread_behind, responsive
from .answer import EVERY_DOCUMENT, Answer, Ranges, ask
from .digests import MATCHED, Join, digests, raw_digests
from .expected import Canonical, Expected, _expected, expected_from
from .feed import EarlyDocuments, SourceFeed
from .stream import batches, metadata, one_document

LIST_LIMIT = 1000
# Everything verify does but reading the server's answer runs this far behind the caller
# (threads.on_thread_behind; the source's threads, started from there, too): on cores shared with
# the server, the server's writing and the reader that drains its answer go first
# (docs/loading.md "Verify").
COMPARE_NICENESS = 19


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
# Bytes of the server's documents kept while their expected entries have not come (past it, verify
# reads on once the source has caught up with half of them), and decisions kept while the source
# may still put a document again (past it, verify waits for the whole source before it reads on);
# docs/loading.md "Verify".
EARLY_LIMIT = 32 << 20
PENDING_LIMIT = 100_000


class _Documents:
    """The documents section: the server's documents joined with the expected entries as both come
    (``digests.Join``), then the attachments, the documents to look at again and the missing ones.

    A difference found while the source is still being read is kept (``pending``) until the source
    is done, since a later put or delete of the same document in the source (an incremental
    export) has the last word; such a document is read again from the server at the end."""

    def __init__(self, exp: Expected, feed: SourceFeed, bulk: bool) -> None:
        self.exp, self.feed, self.bulk = exp, feed, bulk
        self.pace = True  # wait for the source to come as far as each read (else keep what is early)
        self.join = exp.join
        self.early = EarlyDocuments(self.join.early)
        self.section = _Section()
        self.attachments_section = _Section()
        self.deviations = {"last_modified": 0, "revisions_not_stored": 0}
        self.pending: dict[str, tuple[str, list[str], bool]] = {}  # id -> (id as written, what, @last-modified deviation)
        self.suspects: dict[str, tuple[str, bytes, list[str], bool]] = {}  # raw bodies differ: a second pass decides
        self.attachments: dict[tuple[str, str], tuple[str, Any]] = {}  # (id, name) -> (id as written, hash)

    def batch(self, buf: Any, spans: Any, read: int, where: str) -> None:
        """One read of the stream: the documents exactly as expected are matched natively, the others
        one by one; then the early documents whose entries have come since."""
        if self.feed.error is not None:
            self.feed.finish()  # the source's located error, now
        if self.pace and spans and not self.feed.done:  # wait for the source to come this far: none kept
            start, _, ms, me = spans[-4:]
            doc_id = metadata(buf, start, ms, me, where, read).get("@id")
            if isinstance(doc_id, str):
                self.feed.wait_for(doc_id.lower(), len(spans) // 2)
        self.decide(buf, spans, read, where)
        if self.join.ready:
            self.take_ready(where)
        if self.early.size > EARLY_LIMIT:
            self.catch_up(where)
        if len(self.pending) > PENDING_LIMIT:
            self.source_done(where)
            self.settle()

    def take_ready(self, where: str) -> None:
        """The kept documents whose entries the source has put since."""
        with self.feed.lock:
            lows, self.join.ready = self.join.ready, []
        self.rematch(lows, where)

    def source_done(self, where: str) -> None:
        """Wait for the whole source (raising its error, if it failed), then decide every kept document."""
        self.feed.finish()
        self.rematch(list(self.join.early), where)

    def catch_up(self, where: str) -> None:
        """Too many of the server's documents wait for their entries: read no further until the
        source has caught up with half of them, or is done."""
        while self.early.size > EARLY_LIMIT // 2 and not self.feed.done:
            with self.feed.changed:
                self.feed.changed.wait_for(lambda: self.join.ready or self.feed.done)
            self.take_ready(where)
        if self.feed.done:
            self.source_done(where)

    def decide(self, buf: Any, spans: Any, read: int, where: str) -> None:
        """The documents of *spans* (``stream.documents``' packed spans in *buf*): matched natively,
        kept, or looked at one by one."""
        with self.feed.lock:
            early = None if self.feed.done else self.join.early  # else a document without an entry is extra
            matched, others, kept = _expected.match_documents(buf, spans, self.exp.documents, self.bulk, early)
        self.section.found += matched
        self.early.size += kept
        for i in others:
            start, end, ms, me = spans[4 * i:4 * i + 4]
            self.document(buf, start, end, ms, me, metadata(buf, start, ms, me, where, read))

    def rematch(self, lows: list[str], where: str) -> None:
        """The early documents *lows* again, now that their entries may be there."""
        buf, spans = self.early.take(lows)
        if spans:
            self.decide(buf, spans, 0, f"{where} (kept)")

    def document(self, buf: Any, start: int, end: int, ms: int, me: int, meta: dict[str, Any]) -> None:
        """One server document the native match did not take: kept while its entry may still come,
        else extra, or compared."""
        doc_id = meta.get("@id", "")
        low = doc_id.lower()
        with self.feed.lock:
            want = self.exp.documents.get(low)
            if want is None and not self.feed.done:
                self.early.keep(low, buf, start, end, ms, me)
                return
            if want:
                self.exp.documents[low] = MATCHED
        if not want:
            if not low.startswith(MIGRATION_STATE_PREFIX):  # the live-import state (docs/live3x.md), not data
                self.section.add("extra", doc_id)
            return
        self.section.found += 1
        for att in meta.get("@attachments") or []:
            self.attachments[(low, att.get("Name"))] = (doc_id, att.get("Hash"))
        self.compare(doc_id, low, want, buf, start, end, ms, me, meta)

    def compare(self, doc_id: str, low: str, want: bytes, buf: Any, start: int, end: int, ms: int, me: int,
                meta: dict[str, Any]) -> None:
        """The server's document against its entry *want*: the decision now, kept, or left to the
        second pass (``suspects``: the raw bodies differ)."""
        final = self.feed.done  # no later put of the source can change the entry
        try:
            pair = raw_digests(buf, start, end, ms, me, self.bulk)
            suspect = pair is None or pair[0] != want[:16]
            if suspect:
                pair = digests(bytes(memoryview(buf)[start:end]), self.bulk)
                suspect = pair[0] != want[:16]
        except ValueError as exc:
            raise ServerError(f"document {doc_id!r} from the server: {exc}") from None
        body, meta_digest = pair
        want_lm = want[32:].decode("ascii") or None
        what = []
        if meta_digest != want[16:32]:
            what.append("metadata")
        lm_deviation = False
        if want_lm is not None and meta.get("@last-modified") != want_lm:
            if self.bulk:
                lm_deviation = True
            else:
                what.append(f"@last-modified {meta.get('@last-modified')!r} != {want_lm!r}")
        if suspect:
            self.suspects[low] = (doc_id, body, what, lm_deviation)
        elif final:
            self._record(doc_id, what, lm_deviation)
        elif what or lm_deviation:
            self.pending[low] = (doc_id, what, lm_deviation)

    def _record(self, doc_id: str, what: list[str], lm_deviation: bool) -> None:
        if lm_deviation:
            self.deviations["last_modified"] += 1
        if what:
            self.section.add("different", {"id": doc_id, "what": what})

    def settle(self) -> None:
        """The source is read: the kept decisions are final, but for the documents it put again or
        deleted after they matched (``recheck``), decided again by :meth:`again`."""
        for low in self.join.recheck:
            self.pending.pop(low, None)
            self.suspects.pop(low, None)
        for doc_id, what, lm_deviation in self.pending.values():
            self._record(doc_id, what, lm_deviation)
        self.pending.clear()

    def finish(self, client: RavenClient, database: str, where: str) -> None:
        """After the stream and the source: the documents still kept, the kept decisions, the
        documents the source changed after they matched (read again from the server), the
        attachments."""
        self.rematch(list(self.join.early), where)
        self.settle()
        for low in sorted(self.join.recheck):
            self.again(client, database, low)
        self.join.recheck.clear()
        exp, atts = self.exp, self.attachments_section
        atts.expected = len(exp.attachments)
        for key, (doc_id, digest) in self.attachments.items():
            if key in exp.attachments:
                atts.found += 1
                if exp.attachments[key] != digest:
                    atts.add("different", {"document": doc_id, "name": key[1], "hash": digest,
                                           "expected": exp.attachments[key]})
            else:
                atts.add("extra", {"document": doc_id, "name": key[1]})
        for (doc_low, name) in exp.attachments.keys() - self.attachments.keys():
            atts.add("missing", {"document": doc_low, "name": name})

    def again(self, client: RavenClient, database: str, low: str) -> None:
        """A document the source put again or deleted after the server's had matched: the source's
        last word against what the server holds now."""
        want = self.exp.documents.get(low)
        if want == MATCHED:
            return
        doc_id = self.exp.ids.get(low, low)
        got = one_document(client, database, doc_id)
        meta = None
        if got is not None:
            data, start, end, ms, me = got
            meta = metadata(data, start, ms, me, f"GET {client.url} {doc_id}", 0)
            doc_id = meta.get("@id", doc_id)
        if want is None or meta is None:  # deleted by the source at the end, or gone from the server
            self.section.found -= 1
            if meta is not None:
                self.section.add("extra", doc_id)
            for key in [k for k in self.attachments if k[0] == low]:
                del self.attachments[key]
            return
        self.exp.documents[low] = MATCHED
        self.compare(doc_id, low, want, data, start, end, ms, me, meta)

    def conclude(self, source: str, convert_options: Any, selection: Any, source_options: dict[str, Any]) -> None:
        """The documents whose raw bodies differed, by their canonical bodies (a second pass over the
        source for them only), then the missing ones."""
        if self.suspects:
            canonical = expected_from(source, self.bulk, convert_options, selection, into=Canonical(self.suspects),
                                      **source_options).bodies
            for low, (doc_id, body, what, lm_deviation) in self.suspects.items():
                if canonical.get(low) != body:
                    what.insert(0, "body")
                self._record(doc_id, what, lm_deviation)
        self.section.expected = len(self.exp.documents)
        if any(self.exp.documents.values()):  # else every entry is MATCHED (empty): 1 ms, not a 9 ms pass
            for low, entry in self.exp.documents.items():
                if entry:
                    self.section.add("missing", self.exp.ids.get(low, low))


def verify(source: str, url: str, database: str, transport: str = "import", convert_options: Any = None,
           selection: Any = None, *, target: Target | None = None, answer: Answer | Ranges | None = None,
           streams: int = 1, expected_list: str | None = None, **source_options: Any) -> dict[str, Any]:
    """Compare *database* at *url* with the converted *source*; a report with ``ok``. *convert_options*
    and *selection* are the load's (docs/options.md); *target* carries the TLS settings of a secured
    server (docs/security.md); *source_options* go to ``open_source`` (raw storage: journals path,
    bundle settings). *answer*: the database's documents already asked for
    (``answer.ask``; the command line asks first, so the
    server writes them while verify starts); verify then talks to the server through its client, and
    closes both. *streams* > 1 (without *answer*): the documents are read in ranges, that many at once
    (``answer.Ranges``: each range its own connection and read transaction, for a database nobody
    writes to meanwhile). The source is
    converted on its own thread while the server's documents are read (``feed.SourceFeed``); all but
    the reader of the answer runs behind the caller's thread (:data:`COMPARE_NICENESS`).
    *expected_list*: a file ``load --expected-list`` wrote, replayed instead of converting the source
    (``expected_list.check`` first: the same source as it is now, transport and selection); the
    report's ``expected_from`` says which."""
    bulk = transport == "bulk-insert"
    exp = Expected(Join())
    if expected_list is not None:
        from ..sinks.server.loader import selection_fingerprint
        from .expected_list import ListFeed, check

        check(expected_list, source, transport, selection_fingerprint(selection, convert_options))
        feed: SourceFeed = ListFeed(exp, expected_list, source, bulk, source_options)
    else:
        feed = SourceFeed(exp, source, bulk, convert_options, selection, source_options)
    docs = _Documents(exp, feed, bulk)
    tgt = target or Target.parse(url)
    client = answer.client if answer is not None else tgt.client(url)
    revs, idents, idxs = _Section(), _Section(), _Section()

    def compare() -> None:  # behind: only the answer's reader thread, started before, keeps the caller's priority
        where = f"GET {url} {EVERY_DOCUMENT}"
        feed.start()
        for buf, spans, read, where in batches(answer):
            docs.batch(buf, spans, read, where)
        feed.finish()
        docs.finish(client, database, where)
        docs.conclude(source, convert_options, selection, source_options)
        _verify_revisions(client, database, exp, revs, docs.deviations, bulk)
        _verify_identities(client, database, exp, idents)
        _verify_indexes(client, database, exp, idxs)

    try:
        if answer is None:  # asked for first: the server writes while the source thread imports and opens the source
            answer = ask(client, lambda: tgt.client(url), database, streams)
        with responsive(), answer:
            on_thread_behind(compare, COMPARE_NICENESS, "verify-compare")
    except BaseException:
        feed.cancel()
        if feed.error is not None:  # the source's own error first, as when it was read before the server
            raise feed.error from None
        raise
    finally:
        feed.cancel()
        if answer is not None:
            answer.close()
        client.close()
    sections = {"documents": docs.section.to_dict(), "attachments": docs.attachments_section.to_dict(),
                "revisions": revs.to_dict(), "identities": idents.to_dict(), "indexes": idxs.to_dict()}
    bad = sum(s["missing"] + s["different"] + s["extra"] for s in sections.values())
    return {"ok": bad == 0, "source": str(source), "url": url, "database": database, "transport": transport,
            **sections, "deviations": docs.deviations if bulk else {}, "skipped_in_source": exp.skipped,
            "expected_from": str(expected_list) if expected_list is not None else "source"}


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
