"""Raw Esent storage (issue 15): the real Northwind 3.0 backup, page reading, refusals, damage."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.errors import SourceError
from ravenmigrate.records import Document, Identity, Index, Transformer
from ravenmigrate.sources import open_source
from ravenmigrate.sources.esent import EsentSource, EsentStore

ESENT = "northwind.esent.3528.zip"
VORON = "northwind.voron.3528.zip"


def _records(source) -> dict[type, list]:
    out: dict[type, list] = {}
    for record in source.records():
        out.setdefault(type(record), []).append(record)
    return out


@pytest.fixture(scope="module")
def backup_dir(tmp_path_factory) -> Path:
    """The backup zip unpacked: a backup directory as RavenDB writes it."""
    folder = tmp_path_factory.mktemp("esent") / "backup"
    with zipfile.ZipFile(real(ESENT)) as zf:
        zf.extractall(folder)
    return folder


def test_esent_zip_is_opened_as_esent_and_the_table_api_reads_the_catalog():
    src = open_source(real(ESENT), force_dirty=True)
    assert isinstance(src, EsentSource)
    with EsentStore.open(real(ESENT), force_dirty=True) as store:
        assert {"documents", "files", "identity_table", "details", "lists"} <= set(store.tables)
        docs = store.table("documents")
        assert [c.name for c in docs.columns][:4] == ["id", "etag", "last_modified", "key"]
        keys = {row["key"] for row in docs.rows()}
        assert "orders/830" in keys and len(keys) == 1059
        assert store.file.header.state_name == "DirtyShutdown"


def test_pages_alone_give_the_data_file_documents_and_say_what_may_be_missing():
    src = open_source(real(ESENT), force_dirty=True)
    got = _records(src)
    docs = {d.id: d for d in got[Document]}
    assert len(docs) == 1059
    assert "Raven/Backup/Status" not in docs
    assert {i.key: i.value for i in got[Identity]} == {"indexid": 6, "raven/etag": 1, "transformerid": 1}
    assert len(got[Index]) == 4 and len(got[Transformer]) == 1
    order = json.loads(docs["orders/1"].data)
    assert order["Company"] == "companies/85" and order["Freight"] == 32.38
    assert order["@metadata"]["@etag"] == "01000000-0000-0001-0000-0000000000E0"
    assert order["@metadata"]["Raven-Entity-Name"] == "Orders"
    assert [f.code for f in src.findings if f.code == "warn-dirty-pages-only"]


def test_the_same_bodies_as_the_voron_backup_of_the_same_database():
    esent = {d.id: json.loads(d.data) for d in _records(open_source(real(ESENT), force_dirty=True))[Document]}
    voron = {d.id: json.loads(d.data) for d in _records(open_source(real(VORON)))[Document]}
    common = set(esent) & set(voron)
    assert len(common) == 1059
    for key in common:
        a, b = dict(esent[key]), dict(voron[key])
        a.pop("@metadata"), b.pop("@metadata")
        assert a == b, key


def test_backup_directory_and_data_directory_forms(backup_dir, tmp_path):
    assert isinstance(open_source(backup_dir, force_dirty=True), EsentSource)
    data_dir = tmp_path / "Northwind"
    (data_dir / "logs").mkdir(parents=True)
    shutil.copy(backup_dir / "new" / "Data", data_dir / "Data")
    shutil.copy(backup_dir / "new" / "RVN00001.log", data_dir / "logs" / "RVN00001.log")
    shutil.copytree(backup_dir / "IndexDefinitions", data_dir / "IndexDefinitions")
    got = _records(open_source(data_dir, force_dirty=True))
    assert len(got[Document]) == 1059 and len(got[Index]) == 4


def test_truncated_database_file_is_a_clear_error(backup_dir, tmp_path, capsys):
    folder = tmp_path / "cut"
    (folder / "new").mkdir(parents=True)
    raw = (backup_dir / "new" / "Data").read_bytes()
    (folder / "new" / "Data").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(SourceError, match="truncated|past the end"):
        _records(open_source(folder, force_dirty=True))
    assert cli.main(["inspect", "--force-dirty", str(folder)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    (folder / "new" / "Data").write_bytes(raw[:5000])
    with pytest.raises(SourceError, match="too short"):
        _records(open_source(folder, force_dirty=True))


def test_damaged_page_is_a_clear_error_naming_the_page(backup_dir, tmp_path):
    folder = tmp_path / "flip"
    (folder / "new").mkdir(parents=True)
    raw = bytearray((backup_dir / "new" / "Data").read_bytes())
    with EsentStore.open(backup_dir, force_dirty=True) as store:
        root = store.table("documents").root_page
    page = (root + 1) * 4096
    raw[page + 4096 - 8: page + 4096] = b"\xff" * 8  # the last tags: offsets far past the page
    (folder / "new" / "Data").write_bytes(bytes(raw))
    with pytest.raises(SourceError, match=f"page {root}"):
        _records(open_source(folder, force_dirty=True))
