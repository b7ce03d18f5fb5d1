"""``ravenmigrate load`` and ``verify`` end to end on real RavenDB-written dumps, against the real
RavenDB 4.1 server: each transport, then verify (0 missing, 0 different; bulk insert: only its
documented deviations)."""

from __future__ import annotations

import json

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sinks.server.client import RavenClient

pytestmark = pytest.mark.server

NORTHWIND = "Northwind_3.5.35168.ravendump"
PERIODIC = "Periodic_full_3.5.ravendump"
REVISIONS = "Revisions_3.5.35220.ravendump"


def load(url: str, db: str, fixture: str, transport: str, tmp_path, *extra: str) -> dict:
    report = tmp_path / f"{db}.json"
    rc = cli.main(["load", str(real(fixture)), "--url", url, "-d", db, "--transport", transport,
                   "--report", str(report), "-q", *extra])
    assert rc == 0
    return json.loads(report.read_text())


def verify(url: str, db: str, fixture: str, transport: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli.main(["verify", str(real(fixture)), "--url", url, "-d", db, "--transport", transport, "--json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
@pytest.mark.parametrize("fixture", [NORTHWIND, PERIODIC])
def test_real_dump_loads_and_verifies(ravendb, new_database, tmp_path, capsys, fixture, transport):
    db = new_database("load")
    report = load(ravendb.url, db, fixture, transport, tmp_path)
    assert report["status"] == "completed"
    assert (tmp_path / f"{db}.json.checkpoint").exists()
    rc, result = verify(ravendb.url, db, fixture, transport, capsys)
    assert rc == 0 and result["ok"]
    for section in ("documents", "attachments", "identities", "indexes"):
        s = result[section]
        assert s["missing"] == 0 and s["different"] == 0 and s["extra"] == 0, (section, s)
        assert s["found"] == s["expected"]
    stats = RavenClient(ravendb.url).stats(db)
    assert stats["CountOfDocuments"] == result["documents"]["expected"]
    if fixture == NORTHWIND:
        assert report["counts"]["documents"] == 1059 and stats["CountOfDocuments"] == 1059
        assert result["indexes"]["found"] == 3 and result["identities"]["found"] == 1
        assert {s["key"] for s in report["skipped"]} == {"Raven/DocumentsByEntityName", "Orders/Company"}
    else:
        assert result["attachments"]["found"] == 5 and stats["CountOfAttachments"] == 5
    if transport == "bulk-insert":
        assert report["deviations"] and result["deviations"]["last_modified"] > 0
    else:
        assert report["deviations"] == [] and result["deviations"] == {}
        doc = RavenClient(ravendb.url).get_document(db, "companies/1") if fixture == NORTHWIND else None
        if doc is not None:
            assert doc["@metadata"]["@last-modified"] == "2016-08-22T11:23:36.1861726Z"


def test_import_keeps_legacy_revisions(ravendb, new_database, tmp_path, capsys):
    """§14: 2 documents, 4 RV: revisions + 1 automatic revision of the versioning configuration doc."""
    db = new_database("rev")
    report = load(ravendb.url, db, REVISIONS, "import", tmp_path)
    assert report["counts"]["revisions"] == 4
    rc, result = verify(ravendb.url, db, REVISIONS, "import", capsys)
    assert rc == 0 and result["revisions"]["found"] == 4
    stats = RavenClient(ravendb.url).stats(db)
    assert stats["CountOfDocuments"] == 2 and stats["CountOfRevisionDocuments"] == 5


def test_verify_lists_missing_extra_and_different(ravendb, new_database, tmp_path, capsys):
    db = new_database("tamper")
    load(ravendb.url, db, NORTHWIND, "import", tmp_path)
    client = RavenClient(ravendb.url)
    client.request("DELETE", f"/databases/{db}/docs?id=orders/1", ok=(204,))
    changed = client.get_document(db, "employees/1")
    changed["FirstName"] = "Someone Else"
    client.put_document(db, "employees/1", changed)
    client.put_document(db, "extra/1", {"X": 1})
    rc, result = verify(ravendb.url, db, NORTHWIND, "import", capsys)
    assert rc == 1 and not result["ok"]
    docs = result["documents"]
    assert docs["missing_items"] == ["orders/1"] and docs["extra_items"] == ["extra/1"]
    assert [d["id"] for d in docs["different_items"]] == ["employees/1"]
    assert "body" in docs["different_items"][0]["what"]


def test_verify_reads_the_document_stream_cut_anywhere(ravendb, new_database, tmp_path, capsys, monkeypatch):
    """The server's document stream is split as it arrives: reads of any size, cut inside a document,
    a string, between a document and its ``,`` or the closing ``]``, give the same result."""
    from ravenmigrate.verify import answer as verify_answer

    db = new_database("cuts")
    load(ravendb.url, db, NORTHWIND, "import", tmp_path)
    found = set()
    for size in (97, 1000, 4093, 1 << 20):
        monkeypatch.setattr(verify_answer, "READ_SIZE", size)
        rc, result = verify(ravendb.url, db, NORTHWIND, "import", capsys)
        assert rc == 0 and result["ok"], result["documents"]
        found.add(result["documents"]["found"])
    assert len(found) == 1 and found.pop() > 1000
