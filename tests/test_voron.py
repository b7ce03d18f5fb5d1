"""Raw Voron storage (raw-storage.md §4-§6) read from the real RavenDB-written backups."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.errors import SourceError, UnsupportedSource
from ravenmigrate.records import Document, Identity, Index, Transformer
from ravenmigrate.sources import open_source
from ravenmigrate.sources.voron import VoronEnvironment, VoronSource, open_voron
from ravenmigrate.sources.voron import options as voron_options
from ravenmigrate.sources.voron import pages as pure_pages

NORTHWIND = "northwind.voron.3528.zip"
RAVENFS = "ravenfs.voron.3628.zip"


@pytest.fixture(params=["native", "pure"])
def twin(request):
    if request.param == "pure":
        return pure_pages
    try:
        return importlib.import_module("ravenmigrate._native.voron_pages")
    except ImportError:
        pytest.skip("native twin ravenmigrate._native.voron_pages is not built")


@pytest.fixture(scope="module")
def northwind_records():
    return list(VoronSource(real(NORTHWIND)).records())


def _unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The Northwind backup unpacked as a live data directory: storage files + IndexDefinitions/."""
    backup = _unzip(real(NORTHWIND), tmp_path / "backup")
    data = _unzip(backup / "RavenDB.Voron.Backup", tmp_path / "data")
    shutil.copytree(backup / "IndexDefinitions", data / "IndexDefinitions")
    return data


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _docs(records) -> list[tuple[str, bytes]]:
    return [(r.id, r.data) for r in records if isinstance(r, Document)]


def test_northwind_backup_zip_yields_every_document_index_and_identity(northwind_records):
    docs = [r for r in northwind_records if isinstance(r, Document)]
    assert len(docs) == 1060
    collections = Counter(d.metadata.get("Raven-Entity-Name") for d in docs)
    assert collections == {"Orders": 830, "Companies": 91, "Products": 77, "Suppliers": 29, "Employees": 9,
                           "Categories": 8, "Regions": 4, "Shippers": 3, None: 9}
    system = sorted(d.id for d in docs if d.metadata.get("Raven-Entity-Name") is None)
    assert system == ["Raven/Backup/Status"] + sorted(f"Raven/Hilo/{c}" for c in (
        "categories", "companies", "employees", "orders", "products", "regions", "shippers", "suppliers"))
    assert [r.name for r in northwind_records if isinstance(r, Index)] == [
        "Raven/DocumentsByEntityName", "Orders/ByCompany", "Orders/Totals", "Product/Sales"]
    transformers = [r for r in northwind_records if isinstance(r, Transformer)]
    assert [(t.name, t.definition["TransformResults"]) for t in transformers] == [
        ("Orders/Company", "from result in results\r\nselect result.Company")]
    assert {r.key: r.value for r in northwind_records if isinstance(r, Identity)} == {
        "indexid": 6, "raven/etag": 1, "transformerid": 1}
    sections = [type(r).__name__ for r in northwind_records]
    assert sections == sorted(sections, key=["Document", "Attachment", "Index", "Transformer", "Identity"].index)


def test_northwind_document_looks_like_an_export_document(northwind_records):
    order = next(r for r in northwind_records if isinstance(r, Document) and r.id == "orders/1")
    parsed = json.loads(order.data)
    assert parsed["Company"] == "companies/85" and parsed["Freight"] == 32.38 and len(parsed["Lines"]) == 3
    assert list(parsed)[-1] == "@metadata"
    assert order.data[order.metadata_span[0]:order.metadata_span[1]] == json.dumps(
        parsed["@metadata"], separators=(",", ":")).encode()
    assert order.metadata == parsed["@metadata"] == {
        "Raven-Entity-Name": "Orders", "Raven-Clr-Type": "Orders.Order, Northwind", "@id": "orders/1",
        "Last-Modified": "2015-02-02T11:21:22.5082448Z", "Raven-Last-Modified": "2015-02-02T11:21:22.5082448",
        "@etag": "01000000-0000-0001-0000-0000000000E0", "Non-Authoritative-Information": False}
    pos = order.position
    assert (pos.section, pos.offset, pos.key, pos.source) == ("Docs", -1, "orders/1", str(real(NORTHWIND)))
    docs = [r for r in northwind_records if isinstance(r, Document)]
    assert [d.position.index for d in docs] == list(range(len(docs)))
    status = next(d for d in docs if d.id == "Raven/Backup/Status")
    assert status.position.key == "raven/backup/status" and len(status.data) > 4096  # an overflow value


def test_northwind_documents_equal_the_3_5_export(northwind_records, capsys):
    """Voron 3.0 backup vs the 3.5 Studio export of Northwind: same ids apart from Raven/Backup/Status.

    The only differing bodies are the 77 products: the 3.0 sample data spelled the price field
    ``PricePerUser`` (3.5's sample data renamed it ``PricePerUnit``); the values are equal.
    """
    raw = gzip.open(real("Northwind_3.5.35168.ravendump")).read().decode("utf-8-sig")
    export = {}
    for item in json.loads(raw)["Docs"]:
        meta = item.pop("@metadata")
        export[meta["@id"]] = (item, meta)
    voron = {}
    for doc in northwind_records:
        if isinstance(doc, Document):
            body = json.loads(doc.data)
            voron[doc.id] = (body, body.pop("@metadata"))
    shared = sorted(set(export) & set(voron))
    differ = [i for i in shared if export[i][0] != voron[i][0]]
    with capsys.disabled():
        print(f"\nvoron vs 3.5 export: {len(shared)} shared ids, {len(differ)} differ; only in voron: "
              f"{sorted(set(voron) - set(export))}; only in export: {sorted(set(export) - set(voron))}")
    assert len(shared) == 1059
    assert sorted(set(voron) - set(export)) == ["Raven/Backup/Status"] and not set(export) - set(voron)
    assert len(differ) == 77 and all(i.startswith("products/") for i in differ)
    for i in differ:
        renamed = {("PricePerUnit" if k == "PricePerUser" else k): v for k, v in voron[i][0].items()}
        assert renamed == export[i][0]
    kept = ("Raven-Entity-Name", "Raven-Clr-Type", "@id", "Non-Authoritative-Information")
    for i in shared:
        assert list(voron[i][1]) == list(export[i][1])
        assert {k: voron[i][1].get(k) for k in kept} == {k: export[i][1].get(k) for k in kept}


def test_every_tree_walk_matches_its_header_entry_count(twin):
    with VoronEnvironment.open(real(NORTHWIND), native=twin) as env:
        assert (env.header.name, env.replay.journals, env.replay.transactions) == (
            "headers.two", [f"{n:019d}.journal" for n in (3, 4, 5)], 263)
        assert (env.replay.first_tx, env.replay.last_tx) == (20, 282)
        assert len(env.trees) == 46
        assert {name: env.tree(name).count() for name in env.trees} == {
            name: root.entries for name, root in env.trees.items()}
    with VoronEnvironment.open(real(RAVENFS), native=twin) as env:
        assert env.replay.transactions == 60 and len(env.trees) == 14
        assert {name: env.tree(name).count() for name in env.trees} == {
            name: root.entries for name, root in env.trees.items()}
        assert [k for k, _ in env.tree("files").items()] == [f"/source.{i}.file".encode() for i in range(10)]


def test_twins_give_identical_nodes_and_checksums(twin):
    with VoronEnvironment.open(real(NORTHWIND), native=pure_pages) as env:
        images = list(env.replay.pages.values())
        leaf_and_branch = [v[:4096] for v in images if v[8] & 3]
        assert len(leaf_and_branch) > 500
        for view in leaf_and_branch:
            assert twin.nodes(view) == pure_pages.nodes(view)
            assert twin.crc32c(view) == pure_pages.crc32c(view)
        assert twin.crc32c(b"123456789") == 0xE3069283
        assert twin.crc32c(b"") == 0 and twin.crc32c(b"", 7) == 7


def test_data_dir_backup_dir_and_zip_give_the_same_records(tmp_path, data_dir, northwind_records):
    backup = _unzip(real(NORTHWIND), tmp_path / "backup-dir")
    for form in (backup, data_dir):
        records = list(VoronSource(form).records())
        assert _docs(records) == _docs(northwind_records)
        assert [r.name for r in records if isinstance(r, Index | Transformer)] == [
            r.name for r in northwind_records if isinstance(r, Index | Transformer)]


def test_the_source_is_never_written(data_dir):
    before = _fingerprint(data_dir)
    assert sum(1 for _ in VoronSource(data_dir).records()) == 1068
    assert _fingerprint(data_dir) == before
    zip_before = _fingerprint(real(NORTHWIND).parent)
    assert sum(1 for _ in VoronSource(real(NORTHWIND)).records()) == 1068
    assert _fingerprint(real(NORTHWIND).parent) == zip_before


def test_missing_journal_is_refused_and_named(data_dir):
    (data_dir / "0000000000000000004.journal").unlink()
    with pytest.raises(SourceError, match=r"journal 0000000000000000004\.journal is missing") as err:
        list(VoronSource(data_dir).records())
    assert err.value.path == str(data_dir)


def test_corrupt_journal_is_refused_and_named(data_dir):
    journal = data_dir / "0000000000000000004.journal"
    raw = bytearray(journal.read_bytes())
    raw[8192 + 4096 + 100] ^= 0xFF  # inside the compressed pages of the second transaction (tx 69)
    journal.write_bytes(bytes(raw))
    with pytest.raises(SourceError, match=r"journal 0000000000000000004\.journal at offset 8192, "
                                          r"transaction 69: CRC32C mismatch"):
        list(VoronSource(data_dir).records())


def test_journal_out_of_sequence_is_refused(data_dir):
    journal = data_dir / "0000000000000000004.journal"
    raw = bytearray(journal.read_bytes())
    raw[8:16] = (500).to_bytes(8, "little")  # first transaction claims id 500; 68 was expected
    journal.write_bytes(bytes(raw))
    with pytest.raises(SourceError, match=r"0000000000000000004\.journal at offset 0, transaction 500: "
                                          r"out of sequence, expected transaction 68"):
        list(VoronSource(data_dir).records())


def test_journals_path_points_at_journals_kept_elsewhere(tmp_path, data_dir, northwind_records):
    journals = tmp_path / "journals"
    journals.mkdir()
    for j in data_dir.glob("*.journal"):
        j.rename(journals / j.name)
    with pytest.raises(SourceError, match="0000000000000000003.journal is missing"):
        list(VoronSource(data_dir).records())
    records = list(VoronSource(data_dir, journals_path=journals).records())
    assert _docs(records) == _docs(northwind_records)


def test_ravenfs_storage_is_not_read_as_a_database_but_opened_as_a_file_system():
    with pytest.raises(UnsupportedSource, match="RavenFS"):
        list(VoronSource(real(RAVENFS)).records())
    assert type(open_source(real(RAVENFS))).__name__ == "RavenFSSource"


def test_not_voron_input_is_refused(tmp_path):
    with pytest.raises(SourceError, match="not a readable zip"):
        list(VoronSource(real("Northwind_3.5.35168.ravendump")).records())
    with pytest.raises(SourceError, match="not a Voron data directory"):
        list(VoronSource(tmp_path).records())


def test_counts_and_resuming_after_any_position(northwind_records):
    source = VoronSource(real(NORTHWIND))
    assert sum(1 for _ in source.records()) == len(northwind_records)
    assert source.counts == {"Docs": 1060, "Attachments": 0, "Indexes": 4, "Transformers": 1, "Identities": 3,
                             "DocsDeletions": 0, "AttachmentsDeletions": 0}
    assert (source.kind, source.era, source.files) == ("voron", "3.x Voron", [str(real(NORTHWIND))])
    for cut in (0, 500, 1059, 1060, 1062, 1064, 1066):
        resumed = list(source.records(after=northwind_records[cut].position))
        assert [r.position for r in resumed] == [r.position for r in northwind_records[cut + 1:]]
    assert _docs(resumed) == [] and [r.key for r in resumed] == ["transformerid"]


def test_progress_fraction_and_close_remove_the_extracted_copy(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = VoronSource(real(NORTHWIND))
    assert source.fraction() is None
    records = source.records()
    for _ in range(534):
        next(records)
    assert source.fraction() == pytest.approx(534 / 1068)
    assert [p.name[:19] for p in scratch.iterdir()] == ["ravenmigrate-voron-"]
    source.close()
    with pytest.raises(StopIteration):
        next(records)
    assert list(scratch.iterdir()) == []


def test_open_voron_recognises_every_form_and_nothing_else(tmp_path, data_dir):
    backup = _unzip(real(NORTHWIND), tmp_path / "backup-dir")
    for form in (real(NORTHWIND), backup, backup / "RavenDB.Voron.Backup", data_dir):
        assert isinstance(open_voron(form, compact=True, salvage=False), VoronSource), form
    for other in (real("Northwind_3.5.35168.ravendump"), real("northwind.esent.3528.zip"), tmp_path / "backup-dir"
                  / "IndexDefinitions", tmp_path / "nothing-here"):
        assert open_voron(other) is None, other


def test_cli_options_build_the_source_options(data_dir):
    import argparse

    parser = argparse.ArgumentParser()
    voron_options.add_arguments(parser)
    ns = parser.parse_args(["--journals-path", str(data_dir), "--compression", "--encryption-key",
                            "3w17MIVIBLSWZpzH0YarqRlR2+yHiv1Zq3TCWXLEMI8=", "--encryption-algorithm", "Triple DES",
                            "--encryption-bits", "192"])
    opts = voron_options.from_namespace(ns)
    assert opts["journals_path"] == str(data_dir) and opts["compression"] is True
    assert (opts["encryption"].cipher_family.name, opts["encryption"].key_bits) == ("3DES", 192)
    source = open_voron(data_dir, **opts)
    assert (source.journals_path, source.compression, source.encryption) == (
        str(data_dir), True, opts["encryption"])


def test_inspect_json_on_the_backup_zip_counts_1060_documents(capsys):
    assert cli.main(["inspect", "--json", str(real(NORTHWIND))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["kind"], report["era"]) == ("voron", "3.x Voron")
    assert report["counts"]["Docs"] == 1060
    assert report["counts"]["Indexes"] == 4 and report["counts"]["Transformers"] == 1
    assert report["collections"] == {"Orders": 830, "Companies": 91, "Products": 77, "Suppliers": 29, "@empty": 9,
                                     "Employees": 9, "Categories": 8, "Regions": 4, "Shippers": 3}


@pytest.mark.parametrize("damage", ["offsets", "key", "value"])
def test_a_damaged_page_is_refused_naming_tree_and_page(tmp_path, twin, damage):
    """A data-file page (not overridden by a journal) with a broken node array: both twins refuse it."""
    backup = _unzip(real(NORTHWIND), tmp_path / "backup")
    data = _unzip(backup / "RavenDB.Voron.Backup", tmp_path / "data")
    with VoronEnvironment.open(data, native=twin) as env:
        number = next(n for n in range(env.pager.data_pages) if n not in env.replay.pages
                      and env.pager.page(n)[8] == 2 and int.from_bytes(env.pager.page(n)[:8], "little") == n)
    raw = bytearray((data / "Raven.voron").read_bytes())
    base = number * 4096
    first = int.from_bytes(raw[base + 17:base + 19], "little")
    if damage == "offsets":
        raw[base + 9:base + 11] = (5000).to_bytes(2, "little")  # Lower past the page end
    elif damage == "key":
        raw[base + first + 9:base + first + 11] = (4000).to_bytes(2, "little")
    else:
        raw[base + first:base + first + 4] = (4000).to_bytes(4, "little")
    (data / "Raven.voron").write_bytes(bytes(raw))
    with VoronEnvironment.open(data, native=twin) as env:
        name = next(n for n, root in env.trees.items()
                    if any(p == number for p in _leaf_pages(env, n)))
        with pytest.raises(SourceError, match=rf"tree '{name}', page {number}: node \w+ runs? past the page"):
            env.tree(name).count()


def _leaf_pages(env, name):
    tree = env.tree(name)
    stack = [tree.root.root_page]
    while stack:
        n = stack.pop()
        view = env.pager.page(n)
        yield n
        if view[8] & 1:
            stack.extend(ref for _, _, ref in pure_pages.nodes(view[:4096]))


def test_an_incremental_backup_is_refused_clearly(tmp_path, data_dir):
    """An incremental Voron backup zips journals only; without its full backup it cannot be read."""
    inc = tmp_path / "Inc 2015-02-02"
    inc.mkdir()
    with zipfile.ZipFile(inc / "RavenDB.Voron.Backup", "w") as zf:
        zf.write(data_dir / "0000000000000000005.journal", "0000000000000000005.journal")
    with pytest.raises(UnsupportedSource, match="incremental Voron backup"):
        list(VoronSource(inc).records())
    with pytest.raises(UnsupportedSource, match="incremental Voron backup"):
        list(open_voron(inc / "RavenDB.Voron.Backup").records())


def test_headers_without_magic_or_of_another_version_are_refused(data_dir):
    two = data_dir / "headers.two"
    raw = bytearray(two.read_bytes())
    raw[8:12] = (5).to_bytes(4, "little")
    two.write_bytes(bytes(raw))
    with pytest.raises(SourceError, match=r"headers.two: Voron header version 5, expected 4") as err:
        VoronEnvironment.open(data_dir)
    assert err.value.path == str(data_dir)
    for name in ("headers.one", "headers.two"):
        (data_dir / name).write_bytes(bytes(216))
    with pytest.raises(SourceError, match=r"no valid Voron file header \(magic 0xb16baadc0def0015\) in "
                                          r"headers.one, headers.two"):
        VoronEnvironment.open(data_dir)
