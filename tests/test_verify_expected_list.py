"""The load's expected list (``load --expected-list``, ``verify --expected-list``; docs/loading.md
"Verify"), on the real 4.1 server: verify reading it gives the report verify gives from the source,
for plain, revision and incremental sources, either transport, one read or ranges, and with a
document the server lost; a list for another source state, transport or selection is refused with a
message, a failed load leaves none, and a list the load cannot stand behind is not written."""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sinks.server.client import RavenClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

pytestmark = pytest.mark.server


def _db(ravendb) -> str:
    name = f"elist-{uuid.uuid4().hex[:8]}"
    with RavenClient(ravendb.url) as client:
        client.create_database(name)
    return name


def _load(ravendb, source: Path, db: str, listing: Path, *extra: str) -> int:
    return cli.main(["load", str(source), "--url", ravendb.url, "--database", db, "--quiet",
                     "--expected-list", str(listing), *extra])


def _verify(ravendb, source: Path, db: str, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli.main(["verify", str(source), "--url", ravendb.url, "--database", db, "--json", *extra])
    out = capsys.readouterr().out
    return rc, json.loads(out) if out.strip() else {}


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "expected_from"} == {k: v for k, v in b.items() if k != "expected_from"}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory) -> Path:
    """Two incremental dumps: 200 documents and 6 attachments, then 40 of them put again and 5 deleted."""
    folder = tmp_path_factory.mktemp("elist") / "inc"
    folder.mkdir()
    generate.generate(folder / "2016-08-22-10-00-0.ravendb-incremental-dump", docs=200, seed=3, attachments=6)
    generate.generate(folder / "2016-08-22-11-00-0.ravendb-incremental-dump", docs=40, seed=4, deletions=5,
                      hilo=False, system_docs=False)
    return folder


@pytest.mark.parametrize("case", ["northwind-import", "revisions-bulk", "incremental-import"])
def test_verify_with_the_loads_list_reports_what_verify_from_the_source_reports(ravendb, tmp_path, capsys,
                                                                             incremental, case):
    source = {"northwind-import": real("Northwind_3.5.35168.ravendump"),
              "revisions-bulk": real("Revisions_3.5.35220.ravendump"), "incremental-import": incremental}[case]
    transport = ["--transport", "bulk-insert"] if case.endswith("bulk") else []
    db, listing = _db(ravendb), tmp_path / "expected.list"
    assert _load(ravendb, source, db, listing, *transport) == 0
    assert listing.exists() and not Path(str(listing) + ".partial").exists()
    rc, from_source = _verify(ravendb, source, db, capsys, *transport)
    assert rc == 0 and from_source["ok"] and from_source["expected_from"] == "source"
    assert from_source["documents"]["found"] + from_source["revisions"]["expected"] > 5
    for streams in ("1", "2"):
        rc, from_list = _verify(ravendb, source, db, capsys, *transport, "--expected-list", str(listing),
                                "--streams", streams)
        assert rc == 0 and from_list["expected_from"] == str(listing)
        assert _same(from_list, from_source), (from_list, from_source)


def test_a_document_the_server_lost_is_missing_with_the_list_as_from_the_source(ravendb, tmp_path, capsys):
    source, db, listing = real("Northwind_3.5.35168.ravendump"), _db(ravendb), tmp_path / "nw.list"
    assert _load(ravendb, source, db, listing) == 0
    with RavenClient(ravendb.url) as client:
        client.request("DELETE", f"/databases/{db}/docs?id=orders/830", ok=(204,))
    rc, from_source = _verify(ravendb, source, db, capsys)
    rc2, from_list = _verify(ravendb, source, db, capsys, "--expected-list", str(listing))
    assert rc == rc2 == 1 and from_source["documents"]["missing_items"] == ["orders/830"]
    assert _same(from_list, from_source)


def test_a_list_for_another_source_state_transport_or_selection_is_refused(ravendb, tmp_path, capsys):
    source = tmp_path / "Northwind.ravendump"
    shutil.copyfile(real("Northwind_3.5.35168.ravendump"), source)
    db, listing = _db(ravendb), tmp_path / "nw.list"
    assert _load(ravendb, source, db, listing) == 0
    for extra, why in ((["--transport", "bulk-insert"], "another transport"),
                       (["--collections", "Orders"], "another selection")):
        assert cli.main(["verify", str(source), "--url", ravendb.url, "--database", db, "--expected-list",
                         str(listing), *extra]) == 1
        err = capsys.readouterr().err
        assert f"ravenmigrate: error: {listing} was written by a load of {why}" in err and "Traceback" not in err
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the source file changed since the load
    assert cli.main(["verify", str(source), "--url", ravendb.url, "--database", db, "--expected-list",
                     str(listing)]) == 1
    err = capsys.readouterr().err
    assert "the source as it was then (its files changed since)" in err
    assert "verify without --expected-list reads the source" in err and "Traceback" not in err
    listing.write_bytes(b"not a list")
    assert cli.main(["verify", str(source), "--url", ravendb.url, "--database", db, "--expected-list",
                     str(listing)]) == 1
    assert f"ravenmigrate: error: {listing}: not an expected list ravenmigrate wrote" in capsys.readouterr().err


def test_a_failed_load_leaves_no_list_and_an_earlier_list_stands(ravendb, tmp_path, capsys):
    whole = real("Northwind_3.5.35168.ravendump").read_bytes()
    source = tmp_path / "cut.ravendump"
    source.write_bytes(whole[: len(whole) * 2 // 3])  # the gzip stream ends inside the documents
    db, listing = _db(ravendb), tmp_path / "nw.list"
    listing.write_bytes(b"an earlier list")
    assert _load(ravendb, source, db, listing) == 1
    assert listing.read_bytes() == b"an earlier list" and not Path(str(listing) + ".partial").exists()
    assert "Traceback" not in capsys.readouterr().err


def test_no_list_where_the_load_does_not_see_what_the_server_stores(ravendb, tmp_path, capsys):
    """The import transport leaves a transform script to the server: the load refuses to write a list."""
    script = tmp_path / "t.js"
    script.write_text("this.Touched = true;")
    db, listing = _db(ravendb), tmp_path / "nw.list"
    assert _load(ravendb, real("Northwind_3.5.35168.ravendump"), db, listing, "--transform-script", str(script)) == 1
    err = capsys.readouterr().err
    assert "--expected-list with a transform script and the import transport" in err and "Traceback" not in err
    assert not listing.exists() and not Path(str(listing) + ".partial").exists()
