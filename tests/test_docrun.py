"""The ``docrun`` lane (common documents read and converted in one pass) changes nothing.

For every real dump, generated variants and a dump of hand-made edge documents: the 4.x dump
written from ``DocumentRun`` records equals, byte for byte, the one written through the general
path (reader ``Document`` -> converter ``Document4``), with the same deviations, counts, era and
findings. Both twins, and native == pure on the same spans.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from pathlib import Path

import pytest
import twins
from conftest import real
from twins import TWINS, use_twin

from ravenmigrate import _twins
from ravenmigrate.codecs import jsonsplit
from ravenmigrate.convert import Converter, ConvertOptions, docrun
from ravenmigrate.errors import SourceError
from ravenmigrate.records import DocumentRun
from ravenmigrate.sinks.dump4.writer import Dump4Writer
from ravenmigrate.sources import open_source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

native = twins.native("docrun")

REAL = ["Northwind_3.5.35168.ravendump", "Periodic_full_3.5.ravendump", "Revisions_3.5.35220.ravendump",
        "Sandbox_2.0.ravendump", "Indexes_And_Transformers_3.5.ravendump", "Northwind_2.5.dump",
        "MvcMusicStore_2.0.json"]
LM = '"Raven-Last-Modified": "2016-08-22T11:23:36.1861726"'
# Each line one document; the lane must either convert it exactly like the general path or leave it.
EDGE_DOCS = [
    '{"A": 1, "@metadata": {"@id": "a/1", ' + LM + '}}',
    '{"@metadata": {"@id": "a/2", ' + LM + ', "Raven-Entity-Name": "As", "@etag": "01000000-0000-0001-0000-00000000000A"}}',
    '{"A": [1, {"b": null}], "@metadata": {"Raven-Entity-Name": null, "@id": "a/3", ' + LM + '}}',
    '{"A": "x", "@metadata": {"@id": "a/4", "Raven-Last-Modified": "2016-08-22T11:23:36.186"}}',
    '{"A": "x", "@metadata": {"@id": "a/6", "Raven-Last-Modified": "2016-02-29T11:23:36Z"}}',
    '{"A": "x", "@metadata": {"@id": "a/8"}}',
    '{"A": "x", "@metadata": {"@id": "Raven/Hilo/as", ' + LM + '}}',
    '{"A": "x", "@metadata": {"@id": "Raven/Backup/Status", ' + LM + '}}',
    '{"A": "x", "@metadata": {"@id": "a/9", ' + LM + ', "@flags": "HasRevisions"}}',
    '{"A": "x", "@metadata": {"@id": "a/10", ' + LM + ', "Raven-Document-Revision-Status": "Current"}}',
    '{"A": "x", "@metadata": {"@id": "a/11", ' + LM + ', "Raven-Expiration-Date": "2000-01-01T00:00:00.0000000Z"}}',
    '{"A": "x", "@metadata": {"@id": "a/12", ' + LM + ', "Nested": {"Raven-Entity-Name": "n"}}}',
    '{"A": "x", "@metadata": {"@id": "a/13", ' + LM + ', "Raven-Replication-History": [{"a": "b"}]}}',
    '{"A": "x\\u00e9", "@metadata": {"@id": "a/14", ' + LM + '}}',
    '{"A": "x", "@metadata": {"@id": "a\\"15", ' + LM + '}}',
    '{"C": {"@metadata": {"@id": "nested"}}, "@metadata": {"@id": "a/16", ' + LM + '}}',
    '{"@metadata": {"@id": "a/17", ' + LM + '}, "After": 1}',
    "{'A': 'single', \"@metadata\": {\"@id\": \"a/18\", " + LM + "}}",
    '{"A": 1, /* c */ "@metadata": {"@id": "a/19", ' + LM + '}}',
    '{"A": [1, 2, ], "@metadata": {"@id": "a/20", ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "a/21", ' + LM + ', }}',
    '{"A": 1, "@metadata": {"@id": "a/23", "@last-modified": "2016-08-22T11:23:36.1861726Z", ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "a/24", ' + LM + ', "@id": "a/24b"}}',
    '{"A": 1, "@metadata": {"@id": "a/26", ' + LM + ', "Raven-Entity-Name": "X", "@collection": "Y"}}',
    '{"A": 1, "@metadata": {"@id": "a/27", ' + LM + ', "Raven-Read-Only": true, "Last-Modified": "2016-08-22T11:23:36", '
    '"Non-Authoritative-Information": false, "Raven-Replication-History": [], "Raven-Clr-Type": "T, A", "N": 1.50}}',
    '{"A": 1, "@metadata": {"@id": "\u00e9t\u00e9/31", ' + LM + ', "K\u00e9": "v"}}',
    '{"A": 1, "@metadata": {"@id": "a/36", ' + LM + ', "@expires": "2000-01-01T00:00:00.0000000Z"}}',
    '{"A": 1, "@metadata": {"@id": "a/37", ' + LM + ', "@change-vector": "A:1"}}',
    '{"A": 1, "@metadata": {"@id": "a/38", ' + LM + ', "@etag": 5, "Last-Modified": null}}',
    '{"A": 1, "@metadata": {"@id": "a/39", ' + LM + ', "Empty": "", "Raven-Entity-Name": ""}}',
    '{"A": 1,\r\n\t"B": "a  b",\r\n  "@metadata": {\r\n    "@id": "a/40",\r\n    ' + LM + '\r\n  }\r\n}',
]
# Documents the general path rejects: the same error with and without runs.
ERROR_DOCS = [
    '{"A": "x", "@metadata": {"@id": "a/5", "Raven-Last-Modified": "2016-02-30T11:23:36"}}',
    '{"A": "x", "@metadata": {"@id": "a/7", "Raven-Last-Modified": "2015-02-29T11:23:36Z"}}',
    '{"A": 1, "@metadata": {"@id": "a/22", "Raven-Last-Modified": 5}}',
    '{"A": 1, "@metadata": {"@id": "a/25", ' + LM + ', "Raven-Entity-Name": 5}}',
    '{"A": 1, "@metadata": {"@id": "a/28", ' + LM + ', "Raven-Read-Only": {}}}',
    '{"A": 1, "@metadata": {"@id": "a/29", ' + LM + ', "Raven-Replication-History": "x"}}',
    '{"A": 1, "@metadata": {"@id": "a/30", "@etag": {"x": 1}, ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "a/32", "Raven-Last-Modified": "2016-08-22 11:23:36.1861726"}}',
    '{"A": 1, "@metadata": {"@id": "a/33", "Raven-Last-Modified": "2016-08-22T24:23:36.1861726"}}',
    '{"A": 1, "@metadata": {"@id": "a/34", "Raven-Last-Modified": "2016-08-22T11:23:36.1861726X"}}',
    '{"A": 1, "@metadata": {"@id": "a/35", "Raven-Last-Modified": "2016-08-22T11:23:36.18617\u00e96"}}',
]


def edge_dump(path: Path, docs: list[str]) -> Path:
    body = "{\r\n  \"Docs\": [\r\n" + ",\r\n".join(docs) + "\r\n  ],\r\n  \"Attachments\": [],\r\n" \
           '  "Indexes": [],\r\n  "Transformers": [],\r\n  "Identities": []\r\n}'
    path.write_bytes(gzip.compress(body.encode("utf-8")))
    return path


def dump_of(path: Path, runs: bool, quirks: bool = False) -> tuple:
    src = open_source(path, compact=True, runs=runs)
    converter = Converter(ConvertOptions(server_quirks=quirks))
    out = io.BytesIO()
    writer = Dump4Writer(out, level=1)
    lane = 0
    for record in src.records():
        lane += len(record) if isinstance(record, DocumentRun) else 0
        for converted in converter.convert(record):
            writer.write(converted)
    writer.close()
    return (zlib.decompress(out.getvalue(), 31), dict(converter.deviation_counts), src.counts, src.era,
            [(f.code, f.message) for f in src.findings]), lane


def assert_same(path: Path, quirks: bool = False) -> int:
    general, none = dump_of(path, False, quirks)
    laned, lane = dump_of(path, True, quirks)
    assert none == 0
    assert laned[1:] == general[1:]
    if laned[0] != general[0]:
        at = next(i for i in range(min(len(laned[0]), len(general[0]))) if laned[0][i] != general[0][i])
        pytest.fail(f"dump bytes differ at {at}: {general[0][at - 150:at + 80]!r} != {laned[0][at - 150:at + 80]!r}")
    assert_same.deviations = general[1]
    return lane


@pytest.fixture(params=TWINS)
def twin(request, monkeypatch):
    use_twin(request.param, monkeypatch)
    if request.param == "native" and native is None:
        pytest.skip("native docrun twin not built")
    import ravenmigrate.sources.reader  # noqa: F401 - registers docrun

    assert _twins.kind(_twins.load("docrun")) == request.param
    return request.param


@pytest.mark.parametrize("name", REAL)
def test_real_dumps_same_with_and_without_runs(twin, name):
    lane = assert_same(real(name))
    if name.startswith("Northwind_3.5"):
        # 1059 documents: all but the 8 Raven/ ones (system, @hilo, configuration) and the last one
        # (scanned alone: no comma follows it); none at a chunk edge (the reader fills ahead)
        assert lane == 1050


@pytest.mark.parametrize("quirks", [False, True], ids=["ours", "server-quirks"])
def test_edge_documents_same_with_and_without_runs(twin, tmp_path, quirks):
    """Includes documents without last-modified after ones with it: the carry-over (§3.4) is
    reported as a deviation, or applied with ``server_quirks``, exactly as the general path does."""
    lane = assert_same(edge_dump(tmp_path / "edge.ravendump", EDGE_DOCS * 3), quirks)
    assert 3 * 8 <= lane < 3 * len(EDGE_DOCS)
    assert ("last-modified-carry-over" in assert_same.deviations) is not quirks


@pytest.mark.parametrize("bad", ERROR_DOCS)
def test_rejected_documents_same_error_with_and_without_runs(twin, tmp_path, bad):
    path = edge_dump(tmp_path / "bad.ravendump", [EDGE_DOCS[0], bad, EDGE_DOCS[1]])
    errors = []
    for runs in (False, True):
        with pytest.raises(SourceError) as err:
            dump_of(path, runs)
        errors.append(str(err.value))
    assert errors[0] == errors[1] and "record 1" in errors[0]


@pytest.mark.parametrize("opts", [
    {"docs": 3000, "nested_metadata": True, "expiration": True, "unicode_ids": True},
    {"docs": 3000, "revisions": 40, "deletions": 30, "attachments": 5, "last_modified_formats": True},
    {"docs": 12000, "hilo": True, "system_docs": True},
], ids=["nested-expiration-unicode", "revisions-deletions-formats", "sampling"])
def test_generated_variants_same_with_and_without_runs(twin, tmp_path, opts):
    path = tmp_path / "gen.ravendump"
    generate.generate(path, **opts, level=1)
    assert assert_same(path) > 0


def test_twins_agree_on_spans():
    if native is None:
        pytest.skip("native docrun twin not built")
    body = ("[" + ",".join(EDGE_DOCS + ERROR_DOCS) + ",]").encode("utf-8")
    scanner = jsonsplit.Scanner()
    items, _ = scanner.scan_items(body, 1, 1000)
    assert len(items) == len(EDGE_DOCS) + len(ERROR_DOCS)
    for first in range(len(items)):
        assert native.convert_run(body, items, first, len(items)) == docrun.convert_run(body, items, first, len(items))
        one = docrun.convert_run(body, items, first, first + 1)
        assert native.convert_run(bytearray(body), items, first, first + 1) == one
    spans, compacted, _ = scanner.scan_compact_items(body, 1, 1000)
    for first in range(len(items)):  # what the reader gives the lane: the splitter's compact bytes
        raw = docrun.convert_run(body, items, first, len(items))
        assert docrun.convert_compact_run(compacted, spans, first, len(items)) == raw
        assert native.convert_compact_run(compacted, spans, first, len(items)) == raw
        assert native.convert_compact_run(compacted, spans, first, 10 ** 6) == raw  # stop past the end
        assert native.convert_compact_run(compacted, spans, first, first) == docrun.convert_compact_run(
            compacted, spans, first, first) == ([], first, 0)
    results, _, missing = docrun.convert_run(body, items, 0, len(items))
    assert missing == sum(r[3] is None for r in results)
    run = native.convert_run(body, items, 0, len(items))[0]  # a packed sequence of the same tuples
    assert len(run) == len(results) and run[-1] == results[-1] and run[1:3] == results[1:3] and list(run) == results
    with pytest.raises(IndexError):
        run[len(results)]
    for start, stop, step in ((0, len(results), 1), (1, len(results), 3), (2, 2, 1), (len(results) - 1, 99, 64)):
        values = docrun.era_values(results, start, stop, step)  # what the era evidence samples
        assert native.era_values(run, start, stop, step) == native.era_values(results, start, stop, step) == values
        assert values == ([r[4] for r in results[start:stop:step]], [r[5] for r in results[start:stop:step]])
    if missing:  # the writer takes such a run document by document; never read garbage for it
        with pytest.raises(ValueError, match="document by document"):
            native.dump4_elements(run)
        with pytest.raises(ValueError, match="document by document"):
            native.document_elements(run)
    assert results and native.dump4_elements(results) == docrun.dump4_elements(results)
    ids, elements = docrun.document_elements(results)  # what load's import transport sends one by one
    assert ids == [r[0] for r in results] and b",".join(elements) == docrun.dump4_elements(results)
    assert native.document_elements(results) == (ids, elements)
    complete, _, _ = native.convert_run(body, items, 0, len(items) - 1 if missing else len(items))
    if not any(r[3] is None for r in complete):
        assert native.document_elements(complete) == docrun.document_elements(list(complete))
    assert native.dump4_elements([]) == docrun.dump4_elements([]) == b""


def test_loader_takes_the_run_the_converter_returns(tmp_path):
    """With ``server_quirks`` the converter fills a missing last-modified from the document before
    (§3.4); the loader must send those values, not the run as the reader made it."""
    from ravenmigrate.sinks.server.loader import convert

    docs = [EDGE_DOCS[0], '{"A": 2, "@metadata": {"@id": "b/1"}}', EDGE_DOCS[1]]  # the last one: alone
    runs = [r for r in open_source(edge_dump(tmp_path / "q.ravendump", docs), compact=True, runs=True).records()
            if isinstance(r, DocumentRun)]
    assert len(runs) == 1 and len(runs[0]) == 2
    converted = convert(Converter(ConvertOptions(server_quirks=True)), runs[0])
    assert [d.last_modified for d in converted] == ["2016-08-22T11:23:36.1861726Z"] * 2
    assert [d.last_modified for d in convert(Converter(), runs[0])] == ["2016-08-22T11:23:36.1861726Z", None]


def test_transports_take_a_run_as_its_documents(tmp_path):
    """load keeps runs whole: each transport gives one item per document of a run, with the keys,
    kinds and order its documents would give. A complete run's import elements are framed natively
    and hold the same JSON as the legacy elements built document by document (only the place of
    ``@id`` and ``@last-modified`` in ``@metadata`` differs); a run with a document that has no
    last-modified goes document by document."""
    import json

    from ravenmigrate.sinks.server import bulk_insert, smuggler
    from ravenmigrate.sinks.server.loader import convert

    docs = [EDGE_DOCS[0], '{"A": 2, "@metadata": {"@id": "b/1"}}', EDGE_DOCS[1]]
    source = [r for r in open_source(edge_dump(tmp_path / "q.ravendump", docs), compact=True, runs=True).records()
              if isinstance(r, DocumentRun)][0]
    partial = convert(Converter(), source, keep_runs=True)[0]
    complete = convert(Converter(ConvertOptions(server_quirks=True)), source, keep_runs=True)[0]
    assert isinstance(partial, DocumentRun) and partial.missing_last_modified == 1
    assert complete.missing_last_modified == 0

    def shape(items):
        return [(i.kind, i.key, i.size) for i in items]

    def body(item, doc):  # a document without a last-modified is sent with the time of sending
        value = json.loads(item.payload)
        if doc.last_modified is None:
            value["@metadata"].pop("@last-modified")
        return value

    for run in (partial, complete):
        documents = run.documents()
        assert shape(bulk_insert.run_items(run)) == shape(i for d in documents for i in bulk_insert.items_for(d))
        by_document = [i for d in documents for i in smuggler.items_for(d, d)]
        native = list(smuggler.run_items(run))
        assert [(i.kind, i.key) for i in native] == [(i.kind, i.key) for i in by_document]
        assert list(map(body, native, documents)) == list(map(body, by_document, documents))
    assert [i.payload for i in smuggler.run_items(complete)] == docrun.document_elements(list(complete.results))[1]
    assert [i.payload for i in smuggler.run_items(complete)] == [  # one framing, natively or not
        i.payload for d in complete.documents() for i in smuggler.items_for(d, d)]


def test_twins_agree_on_values_that_are_not_utf8():
    """A run stops (general path) at an id, collection or etag Python's strict UTF-8 decoder rejects:
    the native twin validates the bytes itself, byte class by byte class."""
    if native is None:
        pytest.skip("native docrun twin not built")
    values = [b"plain", "\u00e9\u4e2d\U0001f600".encode(), b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80",
              b"\xef\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf",
              b"\xc0\x80", b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xf0\x8f\xbf\xbf",
              b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\x80", b"\xbf", b"\xe2\x82", b"a\xf0\x90\x80", b"\xff"]
    for value in values:
        for template in (b'{"A": 1, "@metadata": {"@id": "i/%s", "Raven-Last-Modified": "2016-08-22T11:23:36"}}',
                         b'{"@metadata": {"@id": "i/1", "Raven-Entity-Name": "%s"}}',
                         b'{"@metadata": {"@id": "i/1", "@etag": "%s", "Last-Modified": "x%s"}}'):
            doc = template.replace(b"%s", value)
            body = b"[" + doc + b"," + doc + b",]"
            items, _ = jsonsplit.Scanner().scan_items(body, 1, 10)
            expected = docrun.convert_run(body, items, 0, 2)
            assert native.convert_run(body, items, 0, 2) == expected, doc
            try:
                value.decode("utf-8")
                assert expected[1] == 2, doc
            except UnicodeDecodeError:
                assert expected[1] == 0, doc
