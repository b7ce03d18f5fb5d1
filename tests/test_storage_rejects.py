"""``--max-rejects`` / ``--rejects`` on raw storage (docs/reliability.md, ``sources.rowrejects``): a
bad row of a Voron tree or an Esent table becomes a reject named by its storage key (and, for Esent,
its leaf page), the run goes on and exits 3; with ``--max-rejects 0`` the first one is still the
located error. Inputs: a damaged store built with ``fixtures/voron_builder.py`` and a damaged copy of
the real Esent backup (conftest ``real``)."""

from __future__ import annotations

import base64
import gzip
import json
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sources.esent import EsentStore
from ravenmigrate.sources.esent.pages import NEW_CHECKSUM_FORMAT, checksum_ok, xor_checksum

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import voron_builder  # noqa: E402

GOOD = {"users/1", "users/6"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def _ids_in_dump(path: Path) -> set[str]:
    dump = json.loads(gzip.decompress(path.read_bytes()))
    return {d["@metadata"]["@id"] for d in dump["Docs"]}


@pytest.fixture
def damaged_voron(tmp_path) -> Path:
    """Two good documents and a good attachment among every kind of bad row a Voron store can hold."""
    row = voron_builder.metadata_row
    bodies = [(b"users/1", b'{"Name":"a"}'), (b"users/2", b'{"Name":"b"}'), (b"users/3", b"[1, 2]"),
              (b"users/4\xff", b'{"Name":"d"}'), (b"users/5", b'{"Name":"e"}'), (b"users/6", b'{"Name":"f"}')]
    metas = [(b"users/1", row("users/1", 1, {})), (b"users/2", row("users/2", 2, {})[:-2] + b"#}"),
             (b"users/3", row("users/3", 3, {})), (b"users/4\xff", row("users/4", 4, {})),
             (b"users/55", row("users/55", 5, {})), (b"users/6", row("users/6", 6, {}))]
    builder = voron_builder.StorageBuilder()
    voron_builder.details_tree(builder)
    builder.add_tree("documents", bodies)
    builder.add_tree("documents_metadata", metas)
    builder.add_tree("general", [(b"users", struct.pack("<q", 6)), (b"orders", b"\x01\x02\x03")])
    etag = b"\x02" + bytes(15)
    builder.add_tree("attachments", [(b"a.txt", b"x"), (b"b.txt", b"y")])
    builder.add_tree("attachments_metadata", [(b"a.txt", etag + b'{"A":1}'), (b"b.txt", etag + b'{"B":')])
    dest = tmp_path / "voron"
    builder.write(dest)
    return dest


def test_voron_bad_rows_are_rejected_by_storage_key_and_the_run_goes_on(damaged_voron, tmp_path, capsys):
    out, rejects = tmp_path / "out.ravendbdump", tmp_path / "rejects.jsonl"
    rc, summary, err = run(capsys, "convert", str(damaged_voron), "-o", str(out), "--max-rejects", "-1",
                           "--rejects", str(rejects), "-q")
    assert rc == 3, err
    assert "Traceback" not in err
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    keys = [(r["source"]["section"], r["source"]["key"]) for r in lines]
    assert keys == [("Docs", "users/2"), ("Docs", "users/3"), ("Docs", "users/4\ufffd"), ("Docs", "users/5"),
                    ("Docs", "users/55"), ("Attachments", "b.txt"), ("Identities", "orders")], keys
    assert all(r["code"] == "bad-storage-row" and r["source"]["file"] == str(damaged_voron) for r in lines)
    reasons = [r["reason"] for r in lines]
    assert "malformed" in reasons[0] and "document 'users/3'" in reasons[1] and "record 2" in reasons[1] and "not UTF-8" in reasons[2]
    assert "no documents_metadata row" in reasons[3] and "has no document body" in reasons[4]
    assert "attachment 'b.txt': metadata is not JSON" in reasons[5] and "8-byte Int64" in reasons[6]
    assert base64.b64decode(lines[1]["raw_base64"]) == b"[1, 2]"
    assert _ids_in_dump(out) == GOOD
    assert [a["Key"] for a in json.loads(gzip.decompress(out.read_bytes())).get("Attachments", [])] == ["a.txt"]
    assert "rejected records: 7" in summary + err


def test_voron_max_rejects_0_keeps_the_located_error(damaged_voron, tmp_path, capsys):
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(damaged_voron), "-o", str(out), "-q")
    assert rc == 1 and str(damaged_voron) in err and "section Docs" in err and "'users/2'" in err, err
    assert "Traceback" not in err and not out.exists()
    rc, _, err = run(capsys, "convert", str(damaged_voron), "-o", str(out), "--max-rejects", "2", "-q")
    assert rc == 1 and "section Docs" in err and "record 3" in err and "not UTF-8" in err, err
    assert "after document 'users/1'" in err and not out.exists()


@pytest.fixture(scope="module")
def damaged_esent(tmp_path_factory) -> tuple[Path, int]:
    """The real Esent backup with one byte of companies/1's metadata JSON damaged in its leaf page
    (page checksum recomputed, so the page reads and only the row is bad); returns the folder and page."""
    folder = tmp_path_factory.mktemp("esent") / "backup"
    with zipfile.ZipFile(real("northwind.esent.3528.zip")) as zf:
        zf.extractall(folder)
    with EsentStore.open(folder) as store:
        page_size = store.file.page_size
        pgno = next(row.page for row in store.table("documents").rows() if row.get("key") == "companies/1")
    data = bytearray((folder / "new" / "Data").read_bytes())
    start = (pgno + 1) * page_size
    page = data[start:start + page_size]
    at = page.index(b'{"Raven-Entity-Name":"Companies"')
    page[at] = ord("#")
    if int.from_bytes(page[36:40], "little") & NEW_CHECKSUM_FORMAT:
        page[:4] = xor_checksum(bytes(page), pgno).to_bytes(4, "little")
    else:
        page[:4] = xor_checksum(bytes(4) + bytes(page[4:]), 0x89ABCDEF).to_bytes(4, "little")
    assert checksum_ok(bytes(page), pgno)
    data[start:start + page_size] = page
    (folder / "new" / "Data").write_bytes(bytes(data))
    return folder, pgno


def test_esent_bad_row_is_rejected_with_its_page_and_the_run_goes_on(damaged_esent, tmp_path, capsys):
    folder, pgno = damaged_esent
    out, rejects = tmp_path / "out.ravendbdump", tmp_path / "rejects.jsonl"
    rc, _, err = run(capsys, "convert", str(folder), "-o", str(out), "--max-rejects", "1",
                     "--rejects", str(rejects), "-q")
    assert rc == 3, err
    (line,) = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert line["id"] == "companies/1" and line["source"]["key"] == "companies/1"
    assert line["source"]["section"] == "Docs" and line["code"] == "bad-storage-row"
    assert "neither JSON nor BSON" in line["reason"] and f"leaf page {pgno}" in line["reason"], line["reason"]
    ids = _ids_in_dump(out)
    assert "companies/1" not in ids and "companies/2" in ids and len(ids) == 1058


def test_esent_max_rejects_0_keeps_the_located_error(damaged_esent, tmp_path, capsys):
    folder, _ = damaged_esent
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(folder), "-o", str(out), "-q")
    assert rc == 1 and "section Docs" in err and "'companies/1'" in err and "neither JSON nor BSON" in err, err
    assert "Traceback" not in err and not out.exists()


def test_an_undamaged_copy_converts_with_exit_0(tmp_path, capsys):
    """The control: the same Esent backup undamaged rejects nothing."""
    folder = tmp_path / "backup"
    with zipfile.ZipFile(real("northwind.esent.3528.zip")) as zf:
        zf.extractall(folder)
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(folder), "-o", str(out), "--max-rejects", "-1", "-q")
    assert rc == 0, err
    assert len(_ids_in_dump(out)) == 1059


@pytest.mark.server
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_load_of_a_damaged_voron_store_goes_on_and_verifies(damaged_voron, ravendb, new_database, tmp_path, capsys,
                                                             transport):
    """``load`` (real 4.1 server) takes the same rejects as ``convert``; ``verify --max-rejects -1``
    then expects only the rows that were read."""
    from ravenmigrate.sinks.server.client import RavenClient

    db = new_database("rawrej")
    common = ["load", str(damaged_voron), "--url", ravendb.url, "-d", db, "--transport", transport, "-q",
              "--checkpoint", str(tmp_path / "cp")]
    rc, _, err = run(capsys, *common)
    assert rc == 1 and "section Docs" in err and "'users/2'" in err and "Traceback" not in err, err
    rejects = tmp_path / "rejects.jsonl"
    rc, out, err = run(capsys, *common, "--max-rejects", "-1", "--rejects", str(rejects))
    assert rc == 3, err
    assert len(rejects.read_text().splitlines()) == 7
    client = RavenClient(ravendb.url)
    assert all(client.get_document(db, i) is not None for i in GOOD)
    assert all(client.get_document(db, f"users/{n}") is None for n in (2, 3, 5))
    rc, out, err = run(capsys, "verify", str(damaged_voron), "--url", ravendb.url, "-d", db, "--transport", transport,
                       "--json", "--max-rejects", "-1")
    docs = json.loads(out)["documents"]
    assert rc == 0 and docs["missing"] == 0 and docs["different"] == 0, (out, err)
