"""The reader on every real RavenDB-written dump: counts, bodies, metadata, numbers, eras."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from decimal import Decimal

import pytest
from conftest import real
from twins import TWINS, use_twin

from ravenmigrate import cli
from ravenmigrate.codecs.jsonvalue import loads
from ravenmigrate.errors import UnsupportedSource
from ravenmigrate.records import Attachment, Document, Identity, Index, Transformer
from ravenmigrate.sources import open_source

# Expected counts from ../shared/fixtures/real/README.md (and formats-3x.md §13).
EXPECTED = {
    "Northwind_3.5.35168.ravendump": {"Docs": 1059, "Attachments": 0, "Indexes": 4, "Transformers": 1, "Identities": 1},
    "Indexes_And_Transformers_3.5.ravendump": {"Docs": 0, "Attachments": 0, "Indexes": 658, "Transformers": 121,
                                               "Identities": 0},
    "Revisions_3.5.35220.ravendump": {"Docs": 6, "Attachments": 0, "Indexes": 0, "Transformers": 0, "Identities": 1},
    "Periodic_full_3.5.ravendump": {"Docs": 12, "Attachments": 5, "Indexes": 1, "Transformers": 0, "Identities": 0},
    "Northwind_2.5.dump": {"Docs": 1059, "Attachments": 0, "Indexes": 4, "Transformers": 1, "Identities": 0},
    "Sandbox_2.0.ravendump": {"Docs": 7, "Attachments": 0, "Indexes": 2, "Transformers": 0, "Identities": 0},
    "MvcMusicStore_2.0.json": {"Docs": 258, "Attachments": 0, "Indexes": 4, "Transformers": 0, "Identities": 0},
}
ERAS = {
    "Northwind_3.5.35168.ravendump": "3.5",
    "Indexes_And_Transformers_3.5.ravendump": "3.5",
    "Revisions_3.5.35220.ravendump": "3.5",
    "Periodic_full_3.5.ravendump": "3.5",
    "Northwind_2.5.dump": "2.5",
    "Sandbox_2.0.ravendump": "1.x",
    "MvcMusicStore_2.0.json": "1.x",
}


def whole(name: str):
    """The whole file parsed at once by the lenient value parser (fine for these small files)."""
    raw = real(name).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return loads(raw)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_json_counts_match_readme(name, capsys):
    assert cli.main(["inspect", "--json", str(real(name))]) == 0
    report = json.loads(capsys.readouterr().out)
    for section, n in EXPECTED[name].items():
        assert report["counts"][section] == n, section
    assert report["counts"]["DocsDeletions"] == 0 and report["counts"]["AttachmentsDeletions"] == 0
    assert report["era"] == ERAS[name]
    assert sum(report["collections"].values()) == EXPECTED[name]["Docs"]


def test_inspect_json_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "ravenmigrate", "inspect", "--json",
                           str(real("Northwind_3.5.35168.ravendump"))], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["counts"]["Docs"] == 1059 and report["collections"]["Orders"] == 830
    codes = {w["code"] for w in report["warnings"]}
    assert codes == {"index-skipped-by-4x", "transformer-unsupported"}


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_records_equal_whole_file_parse(name, twin, monkeypatch):
    use_twin(twin, monkeypatch)
    expected = whole(name)
    got: dict[str, list] = {}
    small = real(name).stat().st_size < 50_000
    for compact in (False, True) if (twin == "native" or small) else (True,):
        got = {}
        for rec in open_source(real(name), compact=compact).records():
            got.setdefault(rec.position.section, []).append(rec)
        docs = got.get("Docs", [])
        assert len(docs) == len(expected.get("Docs", []))
        for doc, exp in zip(docs, expected.get("Docs", []), strict=True):
            assert isinstance(doc, Document) and doc.compact is compact
            assert loads(doc.data) == exp
            assert doc.metadata == exp["@metadata"]
            assert doc.id == exp["@metadata"]["@id"]
            start, end = doc.metadata_span
            assert loads(doc.data[start:end]) == doc.metadata
            if compact:
                assert b"\r\n" not in doc.data and b'": ' not in doc.data.replace(b'\\"', b"")
    for idx, exp in zip(got.get("Indexes", []), expected.get("Indexes", []), strict=True):
        assert isinstance(idx, Index) and idx.name == exp["name"] and idx.definition == exp["definition"]
    for tr, exp in zip(got.get("Transformers", []), expected.get("Transformers", []), strict=True):
        assert isinstance(tr, Transformer) and tr.name == exp["name"] and tr.lock_mode == exp.get("lockMode")


def test_document_bytes_are_the_source_bytes():
    raw = gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes())
    for doc in open_source(real("Northwind_3.5.35168.ravendump")).records():
        if isinstance(doc, Document):
            off = doc.position.offset
            assert raw[off:off + len(doc.data)] == doc.data


def test_numbers_never_become_floats():
    docs = {d.id: d for d in open_source(real("Northwind_3.5.35168.ravendump")).records() if isinstance(d, Document)}
    order = loads(docs["orders/1"].data)
    assert isinstance(order["Freight"], Decimal)
    assert b'"PricePerUnit": 14.0' in docs["orders/1"].data  # x.0 kept as written
    assert any(isinstance(line["PricePerUnit"], Decimal) and str(line["PricePerUnit"]).endswith(".0")
               for line in order["Lines"])


def test_identity_string_value_and_transformer_lock_mode():
    recs = list(open_source(real("Northwind_3.5.35168.ravendump")).records())
    ident = [r for r in recs if isinstance(r, Identity)]
    assert len(ident) == 1 and ident[0].value_was_string and isinstance(ident[0].value, int)
    (tr,) = [r for r in recs if isinstance(r, Transformer)]
    assert tr.lock_mode is not None


def test_attachments_decode_base64_and_keep_etag():
    atts = [r for r in open_source(real("Periodic_full_3.5.ravendump")).records() if isinstance(r, Attachment)]
    assert len(atts) == 5
    exp = whole("Periodic_full_3.5.ravendump")["Attachments"]
    for att, e in zip(atts, exp, strict=True):
        import base64

        assert att.data == base64.b64decode(e["Data"]) and att.key == e["Key"] and att.etag == e["Etag"]
        assert att.metadata == e["Metadata"]


def test_positions_are_ordered_and_indexed_per_section():
    recs = list(open_source(real("Periodic_full_3.5.ravendump")).records())
    offsets = [r.position.offset for r in recs]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    by = {}
    for r in recs:
        by.setdefault(r.position.section, []).append(r.position.index)
    assert all(v == list(range(len(v))) for v in by.values())


def test_4x_dump_and_zip_are_refused_clearly(tmp_path):
    with pytest.raises(UnsupportedSource, match="4.x export"):
        list(open_source(real("Northwind_4.0.ravendbdump")).records())
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "not RavenDB")
    with pytest.raises(UnsupportedSource, match="ZIP"):
        open_source(other)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_native_and_pure_twins_give_identical_records(name, monkeypatch):
    use_twin("native", monkeypatch)
    native = [list(open_source(real(name), compact=c).records()) for c in (False, True)]
    use_twin("pure", monkeypatch)
    pure = [list(open_source(real(name), compact=c).records()) for c in (False, True)]
    assert native == pure and len(native[0]) == sum(EXPECTED[name].values())
