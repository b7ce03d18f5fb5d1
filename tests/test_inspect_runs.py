"""``inspect`` on the native run path gives the same report as reading every document one by one.

The report of ``inspect(path)`` (common documents counted in runs by ``docrun.tally``) equals the
report of ``inspect(path, runs=False)`` (the general path: a ``Document`` per record) on every real
export, on generated dumps (attachment-heavy, large documents, the other variants) and on
hand-made edge documents, with each twin; and the twins of ``tally`` agree.
"""

from __future__ import annotations

import gzip
import sys
from array import array
from pathlib import Path

import pytest
import twins
from conftest import real
from test_docrun import EDGE_DOCS, twin  # noqa: F401 - the fixture (pure and native docrun), by usefixtures

from ravenmigrate.codecs import jsonsplit
from ravenmigrate.commands.inspect import inspect
from ravenmigrate.convert import docrun
from ravenmigrate.errors import SourceError
from ravenmigrate.records import DocumentRun
from ravenmigrate.sources import open_source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

native = twins.native("docrun")
REAL = sorted(p.name for p in real("README.md").parent.iterdir() if p.name != "README.md")
LM = '"Raven-Last-Modified": "2016-08-22T11:23:36.1861726"'
# What inspect names by the 3.x rules (Raven-Entity-Name case-insensitively, before @collection):
# the lane leaves every such document to the general path, or counts it the same way.
COLLECTION_DOCS = [
    '{"A": 1, "@metadata": {"@id": "c/1", ' + LM + ', "raven-entity-name": "Lower"}}',
    '{"A": 1, "@metadata": {"@id": "c/2", ' + LM + ', "@collection": "Y", "Raven-Entity-Name": "X"}}',
    '{"A": 1, "@metadata": {"@id": "c/3", ' + LM + ', "Raven-Entity-Name": null, "@collection": "Y"}}',
    '{"A": 1, "@metadata": {"@id": "c/4", ' + LM + ', "@Collection": "Z"}}',
    '{"A": 1, "@metadata": {"@id": "c/5", ' + LM + ', "Raven-Entity-Name": "A", "Raven-Entity-Name": "B"}}',
    '{"A": 1, "@metadata": {"@id": "c/6", ' + LM + ', "Raven-Entity-Name": "@empty"}}',
    '{"A": 1, "@metadata": {"@id": "raven/lower", ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "RAVEN/upper", ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "ravenx/1", ' + LM + '}}',
    '{"A": 1, "@metadata": {"@id": "c/7", ' + LM + ', "@collection": null}}',
    '{"A": 1, "@metadata": {"@id": "c/8", ' + LM + ', "Raven-Entity-Name": "Caf\u00e9s"}}',
    '{"Big": "' + "x" * 5000 + '", "@metadata": {"@id": "c/9", ' + LM + ', "Raven-Entity-Name": "Caf\u00e9s"}}',
    '{"A": 1, "@metadata": {"@id": "c/10", ' + LM + '}}',
]


def lane_documents(path: Path) -> int:
    return sum(len(r) for r in open_source(path, runs=True).records() if isinstance(r, DocumentRun))


def assert_same_report(path: Path) -> dict:
    try:
        general = inspect(str(path), runs=False)
    except SourceError as exc:  # what the general path refuses, the lane refuses the same way
        with pytest.raises(SourceError) as err:
            inspect(str(path))
        assert str(err.value) == str(exc)
        return {}
    assert inspect(str(path)) == general
    return general


@pytest.mark.usefixtures("twin")
@pytest.mark.parametrize("name", REAL)
def test_real_dumps_same_report(name):
    report = assert_same_report(real(name))
    if name.startswith("Northwind_3.5"):
        assert report["counts"]["Docs"] == 1059 and lane_documents(real(name)) == 1050


@pytest.mark.parametrize("opts", [
    {"docs": 3000, "attachments": 300, "attachment_bytes": 20_000},
    {"docs": 400, "large_every": 20, "large_bytes": 300_000},
    {"docs": 3000, "nested_metadata": True, "expiration": True, "unicode_ids": True},
    {"docs": 3000, "revisions": 40, "deletions": 30, "attachments": 5, "last_modified_formats": True},
    {"docs": 12000, "hilo": True, "system_docs": True, "integer_identities": True},
], ids=["attachment-heavy", "large-documents", "nested-expiration-unicode", "revisions-deletions-formats",
        "sampling"])
@pytest.mark.usefixtures("twin")
def test_generated_dumps_same_report(tmp_path, opts):
    path = tmp_path / "gen.ravendump"
    generate.generate(path, **opts, level=1)
    report = assert_same_report(path)
    assert report["counts"]["Docs"] > 0 and lane_documents(path) > 0
    if "large_every" in opts:  # the large documents went through the lane and are the largest
        assert report["sizes"]["largest_document"]["bytes"] > 250_000


@pytest.mark.usefixtures("twin")
def test_edge_documents_same_report(tmp_path):
    docs = (EDGE_DOCS + COLLECTION_DOCS) * 3
    body = "{\r\n  \"Docs\": [\r\n" + ",\r\n".join(docs) + "\r\n  ],\r\n  \"Attachments\": []\r\n}"
    path = tmp_path / "edge.ravendump"
    path.write_bytes(gzip.compress(body.encode("utf-8")))
    report = assert_same_report(path)
    assert lane_documents(path) > 20
    assert report["collections"]["Lower"] == 3 and report["collections"]["X"] == 6  # c/2 and a/26
    warned = next(w for w in report["warnings"] if w["code"] == "document-without-collection")
    assert len(warned["examples"]) == 5 and "raven/lower" not in warned["examples"]


def test_tally_twins_agree():
    if native is None:
        pytest.skip("native docrun twin not built")
    body = ("[" + ",".join(EDGE_DOCS + COLLECTION_DOCS) + ",]").encode("utf-8")
    spans, compacted, _ = jsonsplit.Scanner().scan_compact_items(body, 1, 1000)
    n = len(spans) // jsonsplit.SPAN_FIELDS
    for first in range(n):
        run, stop, _ = native.convert_compact_run(compacted, spans, first, n)
        pure, pure_stop, _ = docrun.convert_compact_run(compacted, spans, first, n)
        assert stop == pure_stop
        own = spans[jsonsplit.SPAN_FIELDS * first:jsonsplit.SPAN_FIELDS * stop]
        assert native.tally(run, own) == docrun.tally(pure, own) == native.tally(pure, own)
    assert native.tally(native.convert_compact_run(compacted, spans, 0, 0)[0], array("q")) == (
        {}, 0, [], 0, -1, -1)
    with pytest.raises(ValueError):
        native.tally(native.convert_compact_run(compacted, spans, 0, n)[0], array("q"))


@pytest.mark.usefixtures("twin")
def test_damaged_dumps_same_report_with_salvage(tmp_path):
    """``inspect --salvage`` of damaged dumps (bytes cut, inserted or replaced, files cut short):
    the same skipped records, findings and counts with and without runs, or the same error."""
    import random

    clean = tmp_path / "clean.ravendump"
    generate.generate(clean, docs=800, attachments=5, level=1)
    raw = gzip.decompress(clean.read_bytes())
    rng = random.Random(21)
    damaged = tmp_path / "damaged.ravendump"
    skipped = 0
    for k in range(8):
        b = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(100, len(b) - 100)
            b[i:i + rng.randrange(1, 30)] = rng.choice([b"", b"}", b"{", b'"', b"\xff", b",,", b"]"])
        if k % 3 == 0:
            b = b[:rng.randrange(len(b) // 2, len(b))]
        damaged.write_bytes(gzip.compress(bytes(b), 1))
        outcomes = []
        for runs in (False, True):
            try:
                outcomes.append(inspect(str(damaged), salvage=True, runs=runs))
            except SourceError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], k
        if isinstance(outcomes[0], dict):
            skipped += sum(w["code"] == "skipped-record" for w in outcomes[0]["warnings"])
    assert skipped > 0  # the damage was seen, not read past
