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
from collections.abc import Iterator
from typing import Any

from .. import _twins
from ..errors import ServerError
from ..records import AttachmentPut4, Delete4, Document4, DocumentRun, Identity4, Index4
from ..sinks.server.client import RavenClient, answered
from ..sinks.server.http import db_path
from ..sinks.server.loader import convert, make_converter, open_records
from ..sinks.server.target import Target
from ..threads import responsive
from .digests import add_document, digests, raw_digests, server_metadata

_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")
_twins.register("expected", "ravenmigrate.verify.digests")
_expected = _twins.load("expected")

LIST_LIMIT = 1000
READ_SIZE = 1 << 20


def stream_batches(client: RavenClient, database: str) -> Iterator[tuple[bytearray, list, int, str]]:
    """The documents of ``GET /streams/docs`` a read at a time: ``(buffer, spans, offset, where)``,
    the ``(start, end, metadata start, metadata end)`` of each complete document in the buffer
    (valid until the next batch is asked for), the response offset of ``buffer[0]`` and the
    request, for messages. The metadata is not parsed here (:func:`_metadata` does)."""
    conn = client._connection()
    path = db_path(database, "streams/docs")
    where = f"GET {client.url}{path}"
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        if resp.status != 200:
            raise answered("GET", client.url + path, resp.status, resp.read())
        scanner = _split.Scanner()
        buf = bytearray()
        pos = -1  # before the Results array
        read = 0  # bytes of the response before buf[0]
        while True:
            chunk = resp.read(READ_SIZE)
            if pos > 0:
                del buf[:pos]
                read += pos
                pos = 0
            buf += chunk
            if pos < 0:
                start = buf.find(b"[")
                if start < 0:
                    if not chunk:
                        raise ServerError(f"{where}: no Results array")
                    continue
                pos = start + 1
            pos, done = yield from _batches(scanner, buf, pos, where, read)
            if done:
                break
            if not chunk:
                raise ServerError(f"{where}: truncated document stream at byte {read + pos}")
        resp.read()
    except (OSError, ConnectionError) as exc:
        client.close()
        raise client.failure("GET", path, exc) from exc


def _batches(scanner, buf: bytearray, pos: int, where: str, read: int):
    """Yield the spans of the complete documents of *buf* from *pos*, as :func:`stream_batches` does;
    ``(position, whether "]" ended the array)``."""
    n = len(buf)
    while True:
        items, pos = scanner.scan_items(buf, pos, 1 << 30)  # every complete document followed by ","
        if items:
            yield buf, items, read, where
        p = pos
        while p < n and buf[p] in b" \t\r\n":
            p += 1
        if p >= n:
            return pos, False
        if buf[p] == 0x5D:
            return p + 1, True
        if buf[p] != 0x7B:
            raise ServerError(f"{where}: invalid JSON at byte {read + p} of the response")
        scanner.reset(p)  # the last document, or one that continues in the next read
        try:
            end = scanner.scan(buf, False)
        except _split.ScanError as exc:
            raise ServerError(f"{where}: invalid JSON at byte {read + p} of the response ({exc})") from None
        if end < 0:
            return pos, False
        q = end
        while q < n and buf[q] in b" \t\r\n":
            q += 1
        if q >= n:
            return pos, False  # whether "," or "]" follows is in the next read
        if buf[q] not in b",]":
            raise ServerError(f"{where}: invalid JSON at byte {read + q} of the response")
        yield buf, [(p, end, scanner.meta_start, scanner.meta_end)], read, where
        if buf[q] == 0x5D:
            return q + 1, True
        pos = q + 1


def _metadata(buf: bytearray, start: int, ms: int, me: int, where: str, read: int) -> dict[str, Any]:
    """The parsed ``@metadata`` of the server's document at ``buf[start:]`` whose metadata value is
    ``buf[ms:me]`` (``ms`` < 0: none); a located :class:`ServerError` when it is not an object."""
    try:
        metadata = server_metadata(memoryview(buf)[ms:me]) if ms >= 0 else None
    except ValueError as exc:
        raise ServerError(f"{where}: invalid @metadata at byte {read + ms} of the response ({exc})") from None
    if not isinstance(metadata, dict):
        raise ServerError(f"{where}: a document without a @metadata object at byte {read + start} of the response")
    return metadata


class Expected:
    """What the converted source says the database must hold.

    A document is kept as small as it can be, since a large database has millions: under its
    lower-cased id, one bytes object, the body and metadata digests (16 bytes each) and the
    last-modified value when it has one (28 ASCII characters); its id as written only where that
    differs from the lower-cased one (``ids``). About 240 bytes a document in all (docs/loading.md)."""

    def __init__(self) -> None:
        self._scanner = _split.Scanner()
        self.documents: dict[str, bytes] = {}
        self.ids: dict[str, str] = {}
        self.attachments: dict[tuple[str, str], str] = {}
        self.revisions: dict[str, set[str]] = {}
        self.identities: dict[str, int] = {}
        self.indexes: set[str] = set()
        self.skipped = 0

    def add(self, conv: Any, bulk: bool) -> None:
        if isinstance(conv, DocumentRun):  # common documents, converted natively; no revisions among them
            _expected.add_documents(conv.results, self.documents, self.ids, bulk)
        elif isinstance(conv, Document4):
            if conv.revision_of is not None:
                self.revisions.setdefault(conv.revision_of.lower(), set()).add(conv.change_vector or "")
                return
            self.document(conv.id, conv.data, conv.last_modified, bulk)
        elif isinstance(conv, AttachmentPut4):
            self.attachments[(conv.document_id.lower(), conv.name)] = conv.hash
        elif isinstance(conv, Delete4):
            low = conv.id.lower()
            self.documents.pop(low, None)
            self.ids.pop(low, None)
            for key in [k for k in self.attachments if k[0] == low]:
                del self.attachments[key]
        elif isinstance(conv, Index4):
            self.indexes.add(conv.name)
        elif isinstance(conv, Identity4):
            self.identities[conv.name.lower()] = max(conv.value, self.identities.get(conv.name.lower(), conv.value))
        else:
            self.skipped += 1

    def document(self, doc_id: str, data: bytes, last_modified: str | None, bulk: bool) -> None:
        add_document(self.documents, self.ids, doc_id, data, last_modified, bulk, self._scanner)


class Canonical:
    """The canonical body digests (:func:`digests`) of the converted documents *ids*: the second pass
    over the source for the documents whose raw bodies differed from the server's."""

    def __init__(self, ids: Any) -> None:
        self.ids = ids
        self.bodies: dict[str, bytes] = {}

    def add(self, conv: Any, bulk: bool) -> None:
        if isinstance(conv, DocumentRun):
            items = [(r[0], r[1]) for r in conv.results]
        elif isinstance(conv, Document4) and conv.revision_of is None:
            items = [(conv.id, conv.data)]
        else:
            return
        for doc_id, data in items:
            low = doc_id.lower()
            if low in self.ids:
                self.bodies[low] = digests(data, bulk)[0]


def expected_from(source: str, bulk: bool, convert_options: Any = None, selection: Any = None, *,
                  into: Any = None, **source_options: Any) -> Any:
    """What the database should hold: the converted source, with the load's ``ConvertOptions`` and
    selection (``ravenmigrate.convert.selection``; its transform script run here for every transport).
    ``rejects`` in *source_options*: records the load rejected from the source are not expected.
    *into*: what takes the converted records (default a new :class:`Expected`), e.g. a :class:`Canonical`."""
    exp = Expected() if into is None else into
    converter = make_converter(convert_options, source_options.get("rejects"))
    selector = None
    if selection is not None and not selection.everything:
        from ..convert.selection import Selector

        selector = Selector(selection)
    records, _, close = open_records(source, runs=True, **source_options)
    try:
        with responsive():  # the inflate thread's hand-off and buffer reuse, as in convert and load
            for record in records:
                converted = convert(converter, record, keep_runs=True)
                if selector is not None:
                    converted = selector.select(record, converted)
                for conv in converted:
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
                meta = _metadata(buf, start, ms, me, where, read)
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
