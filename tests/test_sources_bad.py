"""Bad input: truncated or corrupt gzip, invalid JSON, cut records; strict errors and --salvage."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import pytest
from conftest import real
from twins import TWINS, use_twin

from ravenmigrate.errors import SourceError
from ravenmigrate.records import Document
from ravenmigrate.rejects import Rejects
from ravenmigrate.sources import open_source

NORTHWIND = "Northwind_3.5.35168.ravendump"


@pytest.fixture(scope="module")
def northwind() -> bytes:
    return gzip.decompress(real(NORTHWIND).read_bytes())


@pytest.fixture(scope="module")
def northwind_ids(northwind) -> list[str]:
    return [r.id for r in open_source(real(NORTHWIND)).records() if isinstance(r, Document)]


def write(tmp_path, name: str, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def doc_ids(source) -> list[str]:
    return [r.id for r in source.records() if isinstance(r, Document)]


def records_of(source) -> list:
    return [(type(r).__name__, r.position.offset) for r in source.records()]


def test_truncated_gzip_at_many_offsets(tmp_path):
    name = "Periodic_full_3.5.ravendump"  # docs, attachments and an index in 1.2 KB of gzip
    packed = real(name).read_bytes()
    full = records_of(open_source(real(name)))
    for cut in range(2, len(packed) - 1, 7):
        p = write(tmp_path, "cut.ravendump", packed[:cut])
        with pytest.raises(SourceError) as info:
            list(open_source(p).records())
        msg = str(info.value)
        assert str(p) in msg and info.value.offset is not None, msg
        assert "truncated gzip" in msg or "end of input" in msg or "ends" in msg, msg
        salvaged = open_source(p, salvage=True)
        got = records_of(salvaged)
        assert got == full[:len(got)], cut  # nothing read before the cut is lost
        assert salvaged.findings, cut


def test_truncated_plain_json_at_many_offsets(tmp_path):
    name = "Periodic_full_3.5.ravendump"
    raw = gzip.decompress(real(name).read_bytes())
    full = records_of(open_source(real(name)))
    ids = [r.id for r in open_source(real(name)).records() if isinstance(r, Document)]
    for cut in range(1, len(raw) - 3, 13):
        p = write(tmp_path, "cut.json", raw[:cut])
        with pytest.raises(SourceError) as info:
            list(open_source(p).records())
        err = info.value
        assert str(p) in str(err) and err.offset is not None and err.offset <= cut
        if err.section == "Docs" and err.index:
            assert err.last_id == ids[err.index - 1]
        salvaged = open_source(p, salvage=True)
        got = records_of(salvaged)
        assert got == full[:len(got)], cut
        assert any(f.code in ("truncated", "skipped-record") for f in salvaged.findings), cut


def test_corrupt_gzip_names_file_and_offset(tmp_path):
    packed = bytearray(real(NORTHWIND).read_bytes())
    middle = len(packed) // 2
    packed[middle:middle + 8] = b"\xff" * 8
    p = write(tmp_path, "corrupt.ravendump", bytes(packed))
    with pytest.raises(SourceError, match="corrupt gzip data") as info:
        list(open_source(p).records())
    assert str(p) in str(info.value) and "compressed offset" in str(info.value)
    salvaged = open_source(p, salvage=True)
    assert len(doc_ids(salvaged)) > 100
    assert any(f.code == "stream-error" for f in salvaged.findings)


def test_bad_crc_is_an_error(tmp_path):
    packed = bytearray(real(NORTHWIND).read_bytes())
    packed[-6] ^= 0xFF  # CRC32 in the gzip trailer
    p = write(tmp_path, "crc.ravendump", bytes(packed))
    with pytest.raises(SourceError, match="corrupt gzip"):
        list(open_source(p).records())


@pytest.mark.parametrize("twin", TWINS)
def test_invalid_json_in_a_record_strict_and_salvage(tmp_path, northwind, northwind_ids, twin, monkeypatch):
    use_twin(twin, monkeypatch)
    k = 500
    target = f'"@id": "{northwind_ids[k]}"'.encode()
    at = northwind.index(target)
    body = northwind.rindex(b'"Company": ', 0, at)  # inside document k's body
    broken = northwind[:body] + b'"Company" "no colon", ' + northwind[body:]
    p = write(tmp_path, "bad.json", broken)
    with pytest.raises(SourceError) as info:
        list(open_source(p).records())
    err = info.value
    assert err.section == "Docs" and err.index == k and err.last_id == northwind_ids[k - 1]
    assert err.offset == body + len(b'"Company" ')
    assert "expected ':'" in str(err) and str(p) in str(err)
    salvaged = open_source(p, salvage=True)
    ids = doc_ids(salvaged)
    assert ids == northwind_ids[:k] + northwind_ids[k + 1:]
    (skip,) = [f for f in salvaged.findings if f.code == "skipped-record"]
    assert skip.extra["ids"] == [northwind_ids[k]] and skip.position.index == k
    assert salvaged.counts["Docs"] == len(northwind_ids)


@pytest.mark.parametrize("twin", TWINS)
def test_record_cut_in_half(tmp_path, northwind, northwind_ids, twin, monkeypatch):
    use_twin(twin, monkeypatch)
    k = 200
    at = northwind.index(f'"@id": "{northwind_ids[k]}"'.encode())
    nxt = northwind.index(f'"@id": "{northwind_ids[k + 1]}"'.encode())
    cut_from = northwind.rindex(b'"Lines"', 0, at) + 20
    cut_to = northwind.rindex(b"\r\n    {", 0, nxt)  # the start of document k + 1
    p = write(tmp_path, "half.json", northwind[:cut_from] + northwind[cut_to:])
    with pytest.raises(SourceError) as info:
        list(open_source(p).records())
    assert info.value.section == "Docs" and info.value.last_id == northwind_ids[k - 1]
    salvaged = open_source(p, salvage=True)
    ids = doc_ids(salvaged)
    assert northwind_ids[k] not in ids and ids[:k] == northwind_ids[:k]
    assert ids[k:] == northwind_ids[k + 1:]


def test_unknown_top_level_key(tmp_path, northwind):
    broken = northwind.replace(b'"Indexes": [', b'"Results": [], "Indexes": [', 1)
    p = write(tmp_path, "unknown.json", broken)
    with pytest.raises(SourceError, match="unknown top-level key 'Results'"):
        list(open_source(p).records())
    salvaged = open_source(p, salvage=True)
    assert len(list(salvaged.records())) == 1065
    assert [f.code for f in salvaged.findings] == ["unknown-section"]


def test_missing_id_is_an_error_or_a_reject(tmp_path):
    """3.x's import refuses a document without @metadata.@id: an error, or a reject within --max-rejects."""
    data = b'{"Docs": [{"a": 1, "@metadata": {"x": 1}}, {"b": 2, "@metadata": {"@id": "b/1"}}]}'
    p = write(tmp_path, "noid.json", data)
    with pytest.raises(SourceError, match="record 0, uncompressed offset 10: a document with no '@id'"):
        doc_ids(open_source(p))
    rejects = Rejects(tmp_path / "rejects.jsonl", limit=-1)
    src = open_source(p, rejects=rejects)
    assert doc_ids(src) == ["b/1"] and src.counts["Docs"] == 2
    rejects.close()
    (line,) = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert line["code"] == "document-without-id" and line["source"]["offset"] == 10
    assert base64.b64decode(line["raw_base64"]) == b'{"a": 1, "@metadata": {"x": 1}}'


def test_garbage_and_empty_files(tmp_path):
    with pytest.raises(SourceError, match="expected '{'"):
        list(open_source(write(tmp_path, "g.json", b"hello")).records())
    for empty in (b"", b"  \r\n", gzip.compress(b"")):
        with pytest.raises(SourceError, match="the file is empty"):
            list(open_source(write(tmp_path, "e.json", empty)).records())
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "missing.ravendump")
    with pytest.raises(SourceError, match="expected '\\['"):
        list(open_source(write(tmp_path, "n.json", b'{"Docs": null}')).records())
    junk = zlib.compress(b"x")
    with pytest.raises(SourceError):
        list(open_source(write(tmp_path, "z.json", b"\x1f\x8b" + junk)).records())


@pytest.mark.parametrize("twin", TWINS)
def test_salvage_inside_a_batch_of_good_records(tmp_path, northwind, northwind_ids, twin, monkeypatch):
    use_twin(twin, monkeypatch)
    k = 300
    at = northwind.index(f'"@id": "{northwind_ids[k]}"'.encode())
    broken = northwind[:at] + b'"@id": 42' + northwind[at + len(f'"@id": "{northwind_ids[k]}"'):]
    p = write(tmp_path, "noid.json", broken)
    with pytest.raises(SourceError, match="no '@id' string") as info:
        doc_ids(open_source(p))
    assert info.value.index == k and info.value.last_id == northwind_ids[k - 1]
    rejected = open_source(p, rejects=Rejects(limit=1))
    assert doc_ids(rejected) == northwind_ids[:k] + northwind_ids[k + 1:]
    assert rejected.rejects.reasons == {"document-without-id": {"count": 1, "examples": ["Docs record 300 at offset "
                                                                                       f"{info.value.offset}"]}}
    salvaged = open_source(p, salvage=True)
    assert doc_ids(salvaged) == northwind_ids[:k] + northwind_ids[k + 1:]
    (skip,) = salvaged.findings
    assert skip.code == "skipped-record" and skip.position.index == k
    broken = northwind[:at] + b'"@id": "x", "Bad": "\\q",' + northwind[at + len(f'"@id": "{northwind_ids[k]}"') + 1:]
    with pytest.raises(SourceError, match="invalid escape") as info:
        list(open_source(write(tmp_path, "esc.json", broken)).records())
    assert info.value.index == k and info.value.last_id == northwind_ids[k - 1]
    assert len(doc_ids(open_source(tmp_path / "esc.json", salvage=True))) == len(northwind_ids) - 1


@pytest.mark.parametrize("twin", TWINS)
def test_first_bad_byte_of_a_batch_whatever_its_kind(tmp_path, northwind, northwind_ids, twin, monkeypatch):
    """A bad escape in record k and invalid UTF-8 in a later record of the same batch: record k is
    the one refused (the first bad byte of either kind), not passed on for the later one."""
    use_twin(twin, monkeypatch)
    k = 300
    at = northwind.index(f'"@id": "{northwind_ids[k]}"'.encode())
    broken = northwind[:at] + b'"Bad": "\\q", ' + northwind[at:]
    later = broken.index(f'"@id": "{northwind_ids[k + 5]}"'.encode())
    broken = broken[:later] + b'"Bad": "\xff", ' + broken[later:]
    p = write(tmp_path, "both.json", broken)
    with pytest.raises(SourceError, match="invalid escape") as info:
        list(open_source(p).records())
    assert info.value.index == k and info.value.last_id == northwind_ids[k - 1]
    rejected = open_source(p, rejects=Rejects(limit=2))
    assert doc_ids(rejected) == northwind_ids[:k] + northwind_ids[k + 1:k + 5] + northwind_ids[k + 6:]
    assert set(rejected.rejects.reasons) == {"invalid-escape", "invalid-utf8"}
