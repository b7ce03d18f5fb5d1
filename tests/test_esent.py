"""Raw Esent storage (issue 15): the real Northwind 3.0 backup, page reading, refusals, damage."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import public_ravendb_file, real

from ravenmigrate import cli
from ravenmigrate.errors import SourceError
from ravenmigrate.records import Document, Identity, Index, Transformer
from ravenmigrate.sources import open_source
from ravenmigrate.sources.esent import EsentSource, EsentStore
from ravenmigrate.sources.esent.tables import DOCUMENT_COLUMNS

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
    src = open_source(real(ESENT))
    assert isinstance(src, EsentSource)
    with EsentStore.open(real(ESENT)) as store:
        assert {"documents", "files", "identity_table", "details", "lists"} <= set(store.tables)
        docs = store.table("documents")
        assert [c.name for c in docs.columns][:4] == ["id", "etag", "last_modified", "key"]
        keys = {row["key"] for row in docs.rows()}
        assert "orders/830" in keys and len(keys) == 1060
        assert store.file.header.state_name == "DirtyShutdown"


def test_replay_gives_the_document_held_only_in_the_log():
    """Every Esent backup is dirty: the data file holds 1059 documents, the log one more."""
    src = open_source(real(ESENT))
    got = _records(src)
    docs = {d.id: d for d in got[Document]}
    assert len(docs) == 1060
    status = json.loads(docs["Raven/Backup/Status"].data)
    assert status["IsRunning"] is True and status["Messages"][-1]["Message"] == "Esent Backup Begin"
    assert status["@metadata"]["@etag"] == "01000000-0000-0001-0000-000000000444"
    assert {i.key: i.value for i in got[Identity]} == {"indexid": 6, "raven/etag": 1, "transformerid": 1}
    assert len(got[Index]) == 4 and len(got[Transformer]) == 1
    order = json.loads(docs["orders/1"].data)
    assert order["Company"] == "companies/85" and order["Freight"] == 32.38
    assert order["@metadata"]["@etag"] == "01000000-0000-0001-0000-0000000000E0"
    assert order["@metadata"]["Raven-Entity-Name"] == "Orders"
    replay = src.info["replay"]
    assert replay["generations"] == [1] and replay["redone"] > 0 and replay["stopped"] is None
    assert not [f for f in src.findings if f.code.startswith("warn-dirty")]


def test_pages_alone_miss_that_document_and_say_so():
    src = open_source(real(ESENT), force_dirty=True)
    docs = {d.id for d in _records(src)[Document]}
    assert len(docs) == 1059 and "Raven/Backup/Status" not in docs
    [finding] = [f for f in src.findings if f.code == "warn-dirty-pages-only"]
    assert "log generations 1..1" in finding.message and "may be missing" in finding.message


def _without_times(doc: dict) -> dict:
    doc = dict(doc)
    meta = dict(doc.pop("@metadata"))
    meta.pop("Last-Modified"), meta.pop("Raven-Last-Modified")
    return {**doc, "@metadata": meta}


def test_the_same_documents_as_the_voron_backup_of_the_same_database():
    """Same ids, bodies, metadata (etags included): the two backups were taken a minute apart from two
    copies of one database, so only the last-modified times and the backup's own status text differ."""
    esent = {d.id: json.loads(d.data) for d in _records(open_source(real(ESENT)))[Document]}
    voron = {d.id: json.loads(d.data) for d in _records(open_source(real(VORON)))[Document]}
    assert set(esent) == set(voron) and len(esent) == 1060
    for key in esent:
        if key != "Raven/Backup/Status":
            assert _without_times(esent[key]) == _without_times(voron[key]), key
    assert esent["Raven/Backup/Status"]["@metadata"]["@etag"] == voron["Raven/Backup/Status"]["@metadata"]["@etag"]


def test_backup_directory_and_data_directory_forms(backup_dir, tmp_path):
    assert len(_records(open_source(backup_dir))[Document]) == 1060
    data_dir = tmp_path / "Northwind"
    (data_dir / "logs").mkdir(parents=True)
    shutil.copy(backup_dir / "new" / "Data", data_dir / "Data")
    shutil.copy(backup_dir / "new" / "RVN00001.log", data_dir / "logs" / "RVN00001.log")
    shutil.copytree(backup_dir / "IndexDefinitions", data_dir / "IndexDefinitions")
    got = _records(open_source(data_dir))
    assert len(got[Document]) == 1060 and len(got[Index]) == 4
    moved = tmp_path / "elsewhere"
    (data_dir / "logs").rename(moved)
    with pytest.raises(SourceError, match="generation"):
        _records(open_source(data_dir))
    assert len(_records(open_source(data_dir, journals_path=moved))[Document]) == 1060


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




def _copy_backup(backup_dir: Path, folder: Path, log: bytes | None) -> Path:
    (folder / "new").mkdir(parents=True)
    shutil.copy(backup_dir / "new" / "Data", folder / "new" / "Data")
    if log is not None:
        (folder / "new" / "RVN00001.log").write_bytes(log)
    return folder


def test_missing_log_generation_is_refused_by_name_unless_force_dirty(backup_dir, tmp_path, capsys):
    folder = _copy_backup(backup_dir, tmp_path / "nolog", None)
    with pytest.raises(SourceError, match=r"needs log generation\(s\) 1 \(RVN00001.log\)"):
        _records(open_source(folder))
    assert cli.main(["inspect", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "RVN00001.log" in err and "--force-dirty" in err and "Traceback" not in err
    assert cli.main(["inspect", "--force-dirty", "--json", str(folder)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["Docs"] == 1059
    assert any(w["code"] == "warn-dirty-pages-only" for w in report["warnings"])


def test_truncated_log_is_a_clear_error(backup_dir, tmp_path, capsys):
    log = (backup_dir / "new" / "RVN00001.log").read_bytes()
    folder = _copy_backup(backup_dir, tmp_path / "cutlog", log[: 600 * 4096 + 100])
    with pytest.raises(SourceError, match="truncated"):
        _records(open_source(folder))
    assert cli.main(["inspect", str(folder)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_flipped_byte_in_the_log_is_found_by_the_segment_checksum(backup_dir, tmp_path):
    log = bytearray((backup_dir / "new" / "RVN00001.log").read_bytes())
    log[300 * 4096 + 1000] ^= 0x10
    folder = _copy_backup(backup_dir, tmp_path / "fliplog", bytes(log))
    with pytest.raises(SourceError, match="segment 300 fails its checksum"):
        _records(open_source(folder))


def test_torn_last_segment_stops_replay_and_is_reported(backup_dir, tmp_path):
    """The last written segment cut short: replay stops before it and says so (nothing silent)."""
    log = bytearray((backup_dir / "new" / "RVN00001.log").read_bytes())
    last = max(i for i in range(1, len(log) // 4096) if log[i * 4096 + 10:i * 4096 + 12] == i.to_bytes(2, "little"))
    log[last * 4096:(last + 1) * 4096] = bytes(4096)  # the last segment never written,
    log[(last - 1) * 4096 + 60:last * 4096] = bytes(4096 - 60)  # the one before it cut short
    folder = _copy_backup(backup_dir, tmp_path / "torn", bytes(log))
    src = open_source(folder)
    _records(src)
    assert src.info["replay"]["stopped"] and "torn" in src.info["replay"]["stopped"]
    assert any(f.code == "warn-torn-log" for f in src.findings)


def test_damaged_database_page_fails_its_checksum(backup_dir, tmp_path):
    raw = bytearray((backup_dir / "new" / "Data").read_bytes())
    with EsentStore.open(backup_dir) as store:
        root = store.table("identity_table").root_page
    raw[(root + 1) * 4096 + 3000] ^= 0x01
    folder = tmp_path / "flipdata"
    (folder / "new").mkdir(parents=True)
    (folder / "new" / "Data").write_bytes(bytes(raw))
    shutil.copy(backup_dir / "new" / "RVN00001.log", folder / "new" / "RVN00001.log")
    with pytest.raises(SourceError, match=f"page {root} fails its checksum"):
        _records(open_source(folder))


def test_last_modified_of_every_schema_era():
    """Schema 4.3+ stores DateTime.ToBinary() (UTC kind bit set), older ones an OLE date (From42To43.cs)."""
    import struct
    from datetime import datetime, timedelta

    from ravenmigrate.sources.esent.tables import last_modified_ticks, schema_before

    ticks = (datetime(2015, 2, 2, 12) - datetime(1, 1, 1)) // timedelta(microseconds=1) * 10
    to_binary = struct.pack("<q", ticks | (1 << 62))
    assert last_modified_ticks(to_binary, False) == ticks
    assert last_modified_ticks(struct.pack("<d", 42037.5), True) == ticks
    assert schema_before("4.2", 4, 3) and not schema_before("4.5", 4, 3) and not schema_before("5.4", 4, 3)


def test_fast_record_decoder_equals_dissect_on_every_column_of_every_row():
    """sources/esent/record.py decodes what dissect.esedb's reference decoder decodes, or defers to it."""
    from ravenmigrate.sources.esent.record import FALLBACK

    compared = 0
    with EsentStore.open(real(ESENT)) as store:
        for table in store.tables.values():
            for row in table.rows():
                for column in table.columns:
                    fast = table.reader.get(row.data, column.name)
                    if fast is not FALLBACK:
                        assert fast == row._record.get(column.name), (table.name, column.name, row.key)
                        compared += 1
        docs = store.table("documents")
        assert all(docs.reader.get(r.data, c) is not FALLBACK for r in docs.rows() for c in DOCUMENT_COLUMNS)
    assert compared > 40_000


def test_replay_of_log_prefixes_never_fails_silently(backup_dir, tmp_path):
    """The log cut after segment k while the database file keeps its later pages (an impossible
    crash image: pages newer than the log's end). Replay must still end without a traceback, every
    document read is whole JSON, and what open transactions could not roll back is reported."""
    log = (backup_dir / "new" / "RVN00001.log").read_bytes()
    folder = _copy_backup(backup_dir, tmp_path / "prefix", None)
    rolled_back = 0
    for k in (40, 200, 420, 700, 900, 1000, 1030):
        (folder / "new" / "RVN00001.log").write_bytes(log[: (k + 1) * 4096] + bytes(len(log) - (k + 1) * 4096))
        src = open_source(folder)
        docs = _records(src).get(Document, [])
        assert docs and all(isinstance(json.loads(doc.data), dict) for doc in docs)
        stopped = src.info["replay"]["stopped"]
        assert stopped is None or "torn log record" in stopped, stopped
        rolled_back += src.info["replay"]["rolled_back"]
        codes = {f.code for f in src.findings}
        if "warn-not-rolled-back" in codes:
            assert "esent-open-transactions" in codes
    assert rolled_back > 0


def test_convert_takes_the_raw_storage_options(tmp_path, capsys):
    """`convert` of the Esent backup: replayed by default, pages alone with --force-dirty (and says so).
    Raven/Backup/Status is a system document 4.x does not import, so it is among the skipped ones."""
    for extra, skipped, warned in (([], 3, False), (["--force-dirty"], 2, True)):
        out, report = tmp_path / f"nw{len(extra)}.ravendbdump", tmp_path / f"nw{len(extra)}.json"
        assert cli.main(["convert", str(real(ESENT)), "-o", str(out), "--report", str(report), "--quiet", *extra]) == 0
        capsys.readouterr()
        rep = json.loads(report.read_text())
        assert (rep["counts"]["documents"], rep["counts"]["skipped"]) == (1059, skipped)
        assert ("warn-dirty-pages-only" in json.dumps(rep["findings"])) == warned


def test_replayed_pages_beyond_the_memory_bound_spill_to_a_temporary_file(monkeypatch):
    """With room for 4 changed pages in memory the other 68 go to the temporary file and come back:
    the same documents, byte for byte."""
    from ravenmigrate.sources.esent import overlay

    reference = {d.id: d.data for d in _records(open_source(real(ESENT)))[Document]}
    monkeypatch.setattr(overlay, "DEFAULT_LIMIT", 4)
    src = open_source(real(ESENT))
    assert {d.id: d.data for d in _records(src)[Document]} == reference
    [replayed] = [f for f in src.findings if f.code == "esent-replay"]
    assert "spilled to a temporary file" in replayed.message and "(0 spilled" not in replayed.message


def test_dehydrated_before_image_is_rehydrated(backup_dir):
    """A split/merge record may carry its page's before image with the free middle cut out
    (CPAGE::DehydratePage): rehydrated, it decodes to the page's lines."""
    import struct

    from ravenmigrate.sources.esent.database import EsentFile
    from ravenmigrate.sources.esent.pages import parse_page
    from ravenmigrate.sources.esent.redo import PageRecord, Redo
    from ravenmigrate.sources.esent.split import before_lines

    raw = (backup_dir / "new" / "Data").read_bytes()
    with EsentStore.open(backup_dir) as store:
        pgno = store.table("identity_table").root_page
    page = raw[(pgno + 1) * 4096:(pgno + 2) * 4096]
    mic_free = struct.unpack_from("<H", page, 32)[0]
    tags = 4 * (struct.unpack_from("<H", page, 34)[0] & 0x0FFF)
    dehydrated = page[:40 + mic_free] + page[4096 - tags:]
    assert len(dehydrated) < 4096
    with EsentFile(backup_dir / "new" / "Data") as file:
        rec = PageRecord(62, 0, pgno, 1, 0, 0, 0, b"\x3e" + bytes(120), None)
        assert before_lines(Redo(file), rec, dehydrated, 0x1) == parse_page(page, pgno, 4096).lines
        with pytest.raises(SourceError, match="compressed"):
            before_lines(Redo(file), rec, bytes([5 << 3]) + dehydrated, 0x2)  # scheme XPRESS9


def test_the_whole_database_rebuilt_from_its_log_alone_equals_the_replayed_backup(backup_dir, tmp_path):
    """The Northwind log holds the database's whole life (it starts with CreateDB). With every page
    of the data file zeroed, replay builds every table from nothing: all 16 728 page changes, 1 080
    splits and 40 merges. Every row of every table must equal the replay over the backup's pages,
    as in a RavenFS backup whose data file is empty and whose files live only in the log."""
    raw = (backup_dir / "new" / "Data").read_bytes()
    empty = _copy_backup(backup_dir, tmp_path / "empty", (backup_dir / "new" / "RVN00001.log").read_bytes())
    (empty / "new" / "Data").write_bytes(raw[:8192] + bytes(len(raw) - 8192))
    with EsentStore.open(backup_dir) as replayed, EsentStore.open(empty) as rebuilt:
        assert rebuilt.replay["redone"] > 16_000 and rebuilt.replay["skipped_already_in_pages"] == 0
        assert sorted(rebuilt.tables) == sorted(replayed.tables)
        for name, table in replayed.tables.items():
            expected = [(row.key, row.data) for row in table.rows()]
            assert [(row.key, row.data) for row in rebuilt.tables[name].rows()] == expected, name
        assert sum(1 for _ in rebuilt.table("documents").rows()) == 1060


def test_a_clean_shutdown_database_is_read_from_its_pages_without_logs(backup_dir, tmp_path):
    """dbstate 3 (CleanShutdown, DBFILEHDR offset 52): the pages are the database; no log is needed."""
    raw = bytearray((backup_dir / "new" / "Data").read_bytes())
    raw[52:56] = (3).to_bytes(4, "little")
    folder = tmp_path / "clean"
    folder.mkdir()
    (folder / "Data").write_bytes(bytes(raw))
    src = open_source(folder)
    docs = _records(src)[Document]
    assert len(docs) == 1059 and src.info["state"] == "CleanShutdown" and src.info["replay"] == {}
    assert not [f for f in src.findings if f.code.startswith("warn-dirty") or f.code == "esent-replay"]


def test_a_gap_in_the_later_log_generations_is_refused_by_name(backup_dir, tmp_path):
    """Generation 3 present while 2 is missing: replaying 1 alone would silently drop 3's changes."""
    log = (backup_dir / "new" / "RVN00001.log").read_bytes()
    folder = _copy_backup(backup_dir, tmp_path / "gap", log)
    third = bytearray(log[:4096])
    third[4:8] = (3).to_bytes(4, "little")  # the header's generation (LGFILEHDR_FIXED.le_lGeneration)
    (folder / "new" / "RVN00003.log").write_bytes(bytes(third) + bytes(4096))
    with pytest.raises(SourceError, match=r"generation 2 \(RVN00002.log\) is missing"):
        _records(open_source(folder))


# The RavenDB 2.0 (build 2380, schema 4.5) and 2.5 (build 2952, schema 4.8) Esent backups of the same
# Northwind database: public files of RavenDB's repository (Raven.SlowTests/Migration/Backups/ on
# v3.0/v3.5), read by git blob id from a local clone when one is there.
PUBLIC_2X = {"northwind.esent.2380.zip": "f00b6cece8f3b4aa2b6ef3c0de6fca3658a340c8",
             "northwind.esent.2952.zip": "54ec18dd48b6a6e3d627d4da27603984ec39daf2"}


def _public(name: str, tmp_path_factory) -> Path:
    return public_ravendb_file(name, PUBLIC_2X[name], tmp_path_factory.mktemp("public"))


@pytest.mark.parametrize(("name", "schema", "transformers"), [("northwind.esent.2380.zip", "4.5", 0),
                                                                ("northwind.esent.2952.zip", "4.8", 1)])
def test_ravendb_2x_esent_backups_replay_to_the_same_bodies(name, schema, transformers, tmp_path_factory):
    """BSON bodies and metadata, 2.x identities (Raven/Etag); the log's Backup2 record (35 bytes + path)
    and the document only in the log included."""
    src = open_source(_public(name, tmp_path_factory))
    got = _records(src)
    assert src.era == f"2.x Esent (schema {schema})"
    docs = {d.id: json.loads(d.data) for d in got[Document]}
    voron = {d.id: json.loads(d.data) for d in _records(open_source(real(VORON)))[Document]}
    assert set(docs) == set(voron) and len(docs) == 1060
    for key in docs:
        if key != "Raven/Backup/Status":
            assert _without_times(docs[key]) == _without_times(voron[key]), key
    assert {i.key: i.value for i in got[Identity]} == {"Raven/Etag": 1}
    assert len(got[Index]) == 4 and len(got.get(Transformer, [])) == transformers


def test_a_damaged_zip_leaves_no_temporary_copy(tmp_path, monkeypatch):
    """Zipped input is copied into a private temporary folder; an unreadable database file inside
    must not leave that copy behind."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("new/Data", b"\0" * 5000)
    with pytest.raises(SourceError, match="too short"):
        _records(open_source(bad))
    assert not list(tmp_path.glob("ravenmigrate-esent-*"))
