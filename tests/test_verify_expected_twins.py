"""verify's expected entries of a document run (``expected`` twins): the native twin, reading a
``docrun.Run`` from its packed bytes, fills the same ``documents`` and ``ids`` dicts as the pure
twin does from the run's result tuples, on real dumps, generated variants and damaged runs."""

from __future__ import annotations

import struct
import sys
from array import array
from pathlib import Path

import pytest
import twins
from conftest import real

from ravenmigrate import _twins
from ravenmigrate.verify import expected as verify_expected
from ravenmigrate.verify import stream
from ravenmigrate.verify.digests import Join, digests, raw_digests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

native = twins.native("expected")
pytestmark = pytest.mark.skipif(native is None, reason="native expected twin not built")
pure = _twins.both("expected")["pure"]
LM = "2016-08-22T11:23:36.1861726Z"
RUNS_PACKED = _twins.kind(_twins.load("docrun")) == "native"  # else runs are result tuples (pure docrun)


def _both(monkeypatch, source: Path, bulk: bool) -> tuple:
    """The expected dicts of *source* made with each twin, and how many runs the native one read
    from packed bytes."""
    packed = 0
    real_add = native.add_documents

    def counting(results, docs, ids, bulk, join=None):
        nonlocal packed
        packed += hasattr(results, "packed")
        real_add(results, docs, ids, bulk, join)

    out = []
    for add in (pure.add_documents, counting):
        monkeypatch.setattr(verify_expected, "_expected", type("Twin", (), {"add_documents": staticmethod(add)}))
        out.append(verify_expected.expected_from(str(source), bulk))
    return out[0], out[1], packed


@pytest.mark.parametrize("bulk", [False, True], ids=["import", "bulk"])
@pytest.mark.parametrize("name", ["Northwind_3.5.35168.ravendump", "Periodic_full_3.5.ravendump",
                                  "Sandbox_2.0.ravendump", "MvcMusicStore_2.0.json"])
def test_real_dumps_give_the_same_expected_entries(monkeypatch, name, bulk):
    a, b, packed = _both(monkeypatch, real(name), bulk)
    assert a.documents == b.documents and a.ids == b.ids
    assert len(a.documents) > 0
    if name.startswith("Northwind_3.5"):
        assert len(a.documents) == 1059 and (packed > 0) == RUNS_PACKED  # native read the runs' packed bytes


VARIANTS = {
    "unicode-ids": dict(unicode_ids=True),
    "nested-metadata": dict(nested_metadata=True),
    "last-modified-formats": dict(last_modified_formats=True),
    "all": dict(unicode_ids=True, nested_metadata=True, last_modified_formats=True, expiration=True,
                deletions=9, revisions=3, attachments=4),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generated_variants_give_the_same_expected_entries(monkeypatch, tmp_path, variant):
    source = tmp_path / f"{variant}.ravendump"
    generate.generate(source, docs=300, seed=7, level=1, **VARIANTS[variant])
    a, b, packed = _both(monkeypatch, source, False)
    assert len(a.documents) >= 250 and (packed > 0) == RUNS_PACKED
    assert a.documents == b.documents and a.ids == b.ids


FIELDS = 9  # ext/docrun.pyx: seven offsets, the flags, the offset of the @metadata value or -1


def _docrun_layout(data: bytes) -> int:
    """Where the ``@metadata`` value of *data* starts when *data* is laid out as docrun writes a
    document (``{...,"@metadata":{...}}``, the name written once), else -1."""
    at = data.find(b'"@metadata":{') + 12
    if at < 12 or data.count(b"@metadata") != 1 or not data.endswith(b"}}") or data[at - 13] not in b",{":
        return -1
    return at


class PackedRun:
    """A run in ``docrun.Run``'s packed layout (ext/docrun.pyx ``FIELDS``) made from result tuples;
    *tails* bytes after a document's data still inside its span (a document that does not end where
    the run says). *carry*: the offset of each document's ``@metadata`` value is given where the
    document is laid out as docrun writes one (else -1: the native twin scans for it)."""

    def __init__(self, results: list[tuple], tails: dict[int, bytes] | None = None, carry: bool = False) -> None:
        blob, index = bytearray(), []
        for k, (doc_id, data, collection, lm, *_) in enumerate(results):
            x = [len(blob)]
            meta = _docrun_layout(data) if carry else -1
            blob += data + (tails or {}).get(k, b"")
            for part in (doc_id.encode(), collection.encode(), (lm or "").encode(), b"", b""):
                x.append(len(blob))
                blob += part
            x.append(len(blob))
            index += x[:7] + [1 if lm else 0, x[0] + meta if meta >= 0 else -1]
        self.blob, self.index = bytes(blob), struct.pack(f"{len(index)}q", *index)

    def packed(self) -> tuple[bytes, bytes]:
        return self.blob, self.index


DOCS = [
    ("orders/1", b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1"}}', LM),
    ("orders/3", b'{"C":1,"@metadata":{"@collection":"Orders"}}', None),
    ("Orders/2", b'{"@metadata": {"@collection":"Orders"} , "B":[1,{"@metadata":{}}]}', None),
    ("Ünïcode/É", b'{"A":"\\u00e9","@metadata":{"@collection":"X","Raven-Clr-Type":"\xc3\xa9"}}', LM),
    ("x" * 300 + "/Upper", b'{"A":1,"@metadata":{"@collection":"Y"}}', LM),
    ("escaped/1", b'{"A":1,"\\u0040metadata":{"@collection":"Y"}}', LM),  # no literal member: canonical
    ("notobject/1", b'{"A":1,"@metadata":[1]}', None),
    ("nometa/1", b'{"A":{"b":[true,false,null]}}', LM),
    ("lenient/1", b"{'A':1, /* c */ \"@metadata\":{\"@collection\":\"Y\"},}", LM),
    ("spaced/1", b' { "A" : 1 ,\n "@metadata" :\t{ "@collection" : "Y" , "@flags":"x" } } ', LM),
    ("bigmeta/1", b'{"@metadata":{"@collection":"Z","N":1e400,"M":12345678901234567890123},"A":2}', LM),
    ("orders/1", b'{"A":2,"@metadata":{"@collection":"Orders"}}', LM),  # the same id again: replaced
    ("orders/2", b'{"B":3,"@metadata":{}}', None),  # now written in lower case: no cased id kept
    ("ORDERS/3", b'{"C":2,"@metadata":{"@collection":"Orders"}}', None),  # put again, now cased: kept
]


@pytest.mark.parametrize("carry", [False, True], ids=["scanned", "carried"])
@pytest.mark.parametrize("bulk", [False, True], ids=["import", "bulk"])
def test_hand_made_and_damaged_runs_give_the_same_entries(bulk, carry):
    results = [(i, d, "C", lm, None, None) for i, d, lm in DOCS]
    want_docs, want_ids = {}, {}
    pure.add_documents(results, want_docs, want_ids, bulk)
    got_docs, got_ids = {}, {}
    native.add_documents(PackedRun(results, carry=carry), got_docs, got_ids, bulk)
    assert got_docs == want_docs and got_ids == want_ids
    assert want_ids == {"ünïcode/é": "Ünïcode/É", ("x" * 300 + "/upper"): "x" * 300 + "/Upper", "orders/3": "ORDERS/3"}
    d = DOCS[2][1]
    ms = d.index(b"{", 1)
    other: dict = {}
    pure.add_documents(results[2:3], other, {}, bulk)
    assert other["orders/2"] == b"".join(raw_digests(d, 0, len(d), ms, d.index(b"}") + 1, bulk))
    assert want_docs["escaped/1"] == b"".join(digests(DOCS[5][1], bulk)) + LM.encode()
    native.add_documents(results, got_docs, got_ids, bulk)  # tuples: the pure twin's way
    assert got_docs == want_docs and got_ids == want_ids


def test_an_expected_lists_entries_are_stored_alike_and_as_their_documents_were():
    """``store_entries`` (an expected list's document event, ``verify.expected_list``): both twins fill
    the dicts as ``add_documents`` of the same documents does, and tell the join alike of an entry
    replacing a matched one (``recheck``) and of one a server's document waits for (``ready``)."""
    results = [(i, d, "C", lm, None, None) for i, d, lm in DOCS]
    want_docs, want_ids = {}, {}
    pure.add_documents(results, want_docs, want_ids, False)
    entries = []
    for doc_id, data, lm in DOCS:
        one: dict = {}
        pure.add_documents([(doc_id, data, "C", lm, None, None)], one, {}, False)
        entries.append([doc_id.encode("utf-8"), one[doc_id.lower()]])
    outcomes = []
    for twin in (pure, native):
        docs, ids, join = {"orders/1": pure.MATCHED}, {}, Join()
        join.early["nometa/1"] = (b"{}", -1, 0)
        twin.store_entries(entries, docs, ids, join)
        outcomes.append((docs, ids, sorted(join.recheck), join.ready))
        assert docs == want_docs and ids == want_ids
    assert outcomes[0] == outcomes[1] and outcomes[0][2:] == (["orders/1"], ["nometa/1"])


def test_a_document_that_does_not_end_where_the_run_says_is_taken_as_the_pure_twin_takes_it():
    results = [(i, d, "C", lm, None, None) for i, d, lm in DOCS[:3]]
    tails = {0: b'  ', 1: b'{"more":1}', 2: b"}"}
    want_docs, want_ids = {}, {}
    pure.add_documents([(i, d + tails[k], c, lm, e, g) for k, (i, d, c, lm, e, g) in enumerate(results)],
                       want_docs, want_ids, False)
    got_docs, got_ids = {}, {}
    native.add_documents(PackedRun(results, tails), got_docs, got_ids, False)
    assert got_docs == want_docs and got_ids == want_ids


@pytest.mark.skipif(not RUNS_PACKED, reason="runs are result tuples (pure docrun)")
@pytest.mark.parametrize("name", ["Northwind_3.5.35168.ravendump", "Periodic_full_3.5.ravendump", "generated"])
def test_a_run_carries_where_the_scanner_finds_the_metadata(tmp_path, name):
    """docrun's offset of each document's ``@metadata`` value (``METADATA``) is where the ``jsonsplit``
    Scanner finds it in the written document, and the document ends where the run says; -1 only
    for documents whose escapes were unescaped after writing."""
    from ravenmigrate.codecs.jsonsplit import Scanner

    if name == "generated":
        source = tmp_path / "all.ravendump"
        generate.generate(source, docs=300, seed=7, level=1, **VARIANTS["all"])
    else:
        source = real(name)
    runs = []

    class Runs:
        def add(self, conv, bulk):
            if hasattr(getattr(conv, "results", None), "packed"):
                runs.append(conv.results)

    verify_expected.expected_from(str(source), False, into=Runs())
    carried = unescaped = 0
    for run in runs:
        blob, index = run.packed()
        x = struct.unpack(f"{len(index) // 8}q", index)
        for k in range(len(run)):
            start, stop, meta = x[FIELDS * k], x[FIELDS * k + 1], x[FIELDS * k + 8]
            scanner = Scanner()
            scanner.reset(start)
            assert scanner.scan(blob, True) == stop
            if meta < 0:
                unescaped += 1
                continue
            carried += 1
            assert (scanner.meta_start, scanner.meta_end) == (meta, stop - 1)
            assert _docrun_layout(blob[start:stop]) == meta - start
    assert carried >= 10 and unescaped < carried / 10, (carried, unescaped)


@pytest.mark.parametrize("bad", [b'{"A":1,"@metadata":{"@collection":}}', b'{"A":1,"@metadata":{"x":1}', b'{"A":tru}'])
def test_broken_json_fails_alike(bad):
    results = [("ok/1", DOCS[0][1], "C", LM, None, None), ("bad/1", bad, "C", LM, None, None)]
    errors = []
    for add, arg in ((pure.add_documents, results), (native.add_documents, PackedRun(results))):
        docs: dict = {}
        with pytest.raises(ValueError) as exc:
            add(arg, docs, {}, False)
        errors.append((str(exc.value), list(docs)))
    assert errors[0] == errors[1] and errors[0][1] == ["ok/1"]


def _spans(docs: list[bytes]) -> tuple[bytearray, array]:
    """A ``/streams/docs``-like array of *docs* and the spans ``jsonsplit`` gives its items, packed
    (``scan_spans``, as verify reads the stream): the same as ``scan_items`` gives them one by one."""
    from ravenmigrate.codecs.jsonsplit import Scanner

    buf = bytearray(b"[" + b",".join(docs) + b",")
    items, _ = Scanner().scan_items(buf, 1, 1 << 30)
    spans, _ = Scanner().scan_spans(buf, 1, 1 << 30)
    assert len(items) == len(docs) and spans == array("q", [v for item in items for v in item])
    return buf, spans


def _match_both(buf, items, expected: dict, bulk: bool = False, early: dict | None = None) -> tuple:
    """Both twins' match of the packed spans *items* against a copy of *expected* (and of *early*,
    when given: the documents kept there must be the same too)."""
    out = []
    for twin in (pure, native):
        left = dict(expected)
        kept = None if early is None else dict(early)
        out.append((twin.match_documents(buf, items, left, bulk, kept), [k for k, v in left.items() if v], kept))
        assert all(v == (b"" if k not in out[-1][1] else expected[k]) for k, v in left.items())  # matched: MATCHED
    assert out[0] == out[1]
    return out[0][:2] if early is None else out[0]


@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_server_documents_of_a_real_load_match_alike(ravendb, new_database, tmp_path, transport):
    """Northwind loaded into the real 4.1 server, read back from /streams/docs: the same documents
    are taken as expected by both twins, the same left to verify's one-by-one path."""
    from ravenmigrate import cli
    from ravenmigrate.sinks.server.client import RavenClient

    db = new_database("twins")
    source = real("Northwind_3.5.35168.ravendump")
    assert cli.main(["load", str(source), "--url", ravendb.url, "-d", db, "--transport", transport, "-q",
                     "--report", str(tmp_path / "load.json")]) == 0
    bulk = transport == "bulk-insert"
    exp = verify_expected.expected_from(str(source), bulk)
    expected, matched, others = len(exp.documents), 0, 0
    with RavenClient(ravendb.url) as client:
        for buf, items, _, _ in stream.stream_batches(client, db):
            (m, rest, _), left = _match_both(buf, items, exp.documents, bulk)
            matched, others = matched + m, others + len(rest)
            exp.documents = {k: exp.documents[k] for k in left}
    assert matched + others == 1059 and len(exp.documents) == expected - matched
    if bulk:  # bulk insert stores the time of the load as @last-modified (docs/deviations.md): none as is
        assert others > 1000
    else:
        assert matched > 1000


def test_damaged_and_differing_server_documents_are_left_alike():
    originals = [
        ("orders/1", b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1"}}', LM),
        ("Orders/2", b'{"@metadata":{"@collection":"Orders"},"B":2}', None),
        ("Ünï/1", b'{"A":"\xc3\xa9","@metadata":{"@collection":"X"}}', LM),
    ]
    expected: dict = {}
    pure.add_documents([(i, d, "C", lm, None, None) for i, d, lm in originals], expected, {}, False)
    lm = f'"@last-modified":"{LM}"'.encode()
    server = [
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b',"@change-vector":"A:1"}}',
        b'{"@metadata" : {"@id":"Orders/2","@collection":"Orders","@flags":"x"} ,"B":2}',
        b'{"A":"\xc3\xa9","@metadata":{"@id":"\xc3\x9cn\xc3\xaf/1","@collection":"X",' + lm + b"}}",
        b'{"A":2,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b"}}",  # body differs
        b'{"A":1,"@metadata":{"@collection":"Other","@id":"orders/1",' + lm + b"}}",  # metadata differs
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1","@last-modified":"2000"}}',
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1","@last-modified":1}}',
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1"}}',  # no last-modified
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b',"@last-modified":"x"}}',
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1","@id":"orders/1",' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","N":{"@id":"orders/1"},' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders\\/1",' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b',"@attachments":[]}}',
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/9",' + lm + b"}}",  # not expected
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":7,' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"\xff","@id":"orders/1",' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b',"x":01}}',
        b'{"A":1,"@metadata":[1]}',
        b'{"A":1}',
        b'{"A":1,"\\u0040metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","Tag":"@id","@id":"orders/1",' + lm + b"}}",
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b',"Tag":"@last-modified"}}',
        b'{"A":1,"@metadata":{"Tag":"@attachments","@collection":"Orders","@id":"orders/1",' + lm + b"}}",
    ]
    buf, items = _spans(server)
    (matched, others, _), left = _match_both(buf, items, expected)
    assert matched == 3 and others == list(range(3, len(server))) and left == []
    buf, items = _spans(server[3:] + server[:3])  # the differing ones first: none of them taken
    assert _match_both(buf, items, expected)[0] == (3, list(range(len(server) - 3)), 0)


def test_documents_without_an_entry_are_kept_alike():
    """verify's join: with ``early`` given, a server document whose entry has not come is kept there
    (its bytes and where its metadata lies), by both twins alike; one the fast path does not read
    is left to verify's one-by-one path, and one with an entry is matched or left as before."""
    lm = f'"@last-modified":"{LM}"'.encode()
    expected: dict = {}
    pure.add_documents([("orders/1", b'{"A":1,"@metadata":{"@collection":"Orders"}}', "C", LM, None, None)],
                       expected, {}, False)
    server = [
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/1",' + lm + b"}}",  # matched
        b'{"A":2,"@metadata":{"@collection":"Orders","@id":"Orders/2",' + lm + b"}}",  # kept as orders/2
        b'{"@metadata" : {"@id":"\\u00dcn\\u00ef/1","@collection":"X"} ,"B":2}',  # escaped id: one by one
        b'{"B":3 , "@metadata":{"@id":"\xc3\x9cn\xc3\xaf/2"}}',  # kept under its lower-cased id
        b'{"A":1,"@metadata":{"@collection":"Orders","@id":"orders/3",' + lm + b',"@attachments":[]}}',
        b'{"A":1,"\\u0040metadata":{"@id":"orders/4"}}',
        b'{"A":1,"@metadata":{"@id":7}}',
    ]
    buf, items = _spans(server)
    (matched, others, kept), left, early = _match_both(buf, items, expected, early={})
    assert matched == 1 and others == [2, 4, 5, 6] and left == []
    assert sorted(early) == ["orders/2", "ünï/2"] and kept == len(server[1]) + len(server[3])
    for low, i in (("orders/2", 1), ("ünï/2", 3)):
        data, ms, me = early[low]
        assert data == server[i] and data[ms] == 0x7B and data[me - 1] == 0x7D and b'"@id"' in data[ms:me]


def test_server_metadata_of_one_shape_share_a_digest_only_where_they_hold_the_same_values():
    """The native twin remembers a server metadata's digest under its shape (the metadata without
    its ``@id``, ``@change-vector``, ``@flags`` and ``@last-modified`` string values): documents that
    differ only there are taken as the pure twin takes them, and a document that differs anywhere
    else, holds one of those values with a control character or bytes that are not UTF-8, or ends
    its metadata with a comma (of the same shape as a valid one) is decided on its own, as the pure
    twin decides it, whichever came first."""
    ids = [f"orders/{k}" for k in range(1, 11)]
    expected: dict = {}
    pure.add_documents([(i, b'{"A":1,"@metadata":{"@collection":"Orders"}}', "C", None, None, None) for i in ids],
                       expected, {}, False)

    def doc(meta: bytes) -> bytes:
        return b'{"A":1,"@metadata":{' + meta + b"}}"

    lm = f'"@last-modified":"{LM}"'.encode()
    server = [
        doc(b'"@collection":"Orders","@change-vector":"A:1-x","@id":"orders/1",' + lm),
        doc(b'"@collection":"Orders","@change-vector":"A:22-yz","@id":"orders/2",' + lm),
        doc(b'"@collection":"Orders","@change-vector":"A:3-x","@flags":"HasRevisions","@id":"orders/3",' + lm),
        doc(b'"@collection":"Other","@change-vector":"A:4-x","@id":"orders/4",' + lm),  # differs
        doc(b'"@collection":"Orders","@change-vector":"A:5\x01","@id":"orders/5",' + lm),
        doc(b'"@collection":"Orders","@change-vector":"A:6\xff","@id":"orders/6",' + lm),
        doc(b'"@id":"orders/7","@collection":"Orders","@change-vector":"A:7"'),
        doc(b'"@id":"orders/8","@collection":"Orders",'),  # the shape of orders/7, but not JSON
        doc(b'"@collection":"Orders" , "@change-vector" : "A:9" ,"@id":"orders/9",' + lm),
        doc(b'"@collection":"Orders","@change-vector":"A:10","@id":"orders/10","@counters":"x",' + lm),
    ]
    buf, items = _spans(server)
    (matched, others, _), left = _match_both(buf, items, expected)
    assert others == [3, 5, 7] and matched == 7
    buf, items = _spans(server[::-1])
    assert _match_both(buf, items, expected)[0] == (7, [2, 4, 6], 0)
