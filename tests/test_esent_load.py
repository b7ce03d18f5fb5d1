"""Issue 15 "must show": the Northwind Esent backup (log replayed) and the Voron backup of the same
database, each loaded into the real RavenDB 4.1 and verified, give the same documents, indexes and
identities."""

from __future__ import annotations

import json

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.verify.compare import diff, read_state

pytestmark = pytest.mark.server


def _load_and_verify(source: str, url: str, db: str, tmp_path, capsys) -> dict:
    assert cli.main(["load", source, "--url", url, "--database", db, "--quiet",
                     "--report", str(tmp_path / f"{db}.json")]) == 0
    capsys.readouterr()
    assert cli.main(["verify", source, "--url", url, "--database", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    docs = report["documents"]
    assert report["ok"] and (docs["missing"], docs["different"], docs["extra"]) == (0, 0, 0), docs
    return report


def test_esent_backup_after_replay_equals_the_voron_backup_in_the_server(ravendb, new_database, tmp_path, capsys):
    esent_db, voron_db = new_database("esent"), new_database("voron-twin")
    esent = _load_and_verify(str(real("northwind.esent.3528.zip")), ravendb.url, esent_db, tmp_path, capsys)
    voron = _load_and_verify(str(real("northwind.voron.3528.zip")), ravendb.url, voron_db, tmp_path, capsys)
    assert esent["documents"]["expected"] == voron["documents"]["expected"] >= 1051
    with RavenClient(ravendb.url) as client:
        a, b = read_state(client, voron_db), read_state(client, esent_db)
        # The document only in the log (written while the backup ran) reached the server.
        assert ("Raven/Backup/Status" in a.documents) == ("Raven/Backup/Status" in b.documents)
    comparison = diff(a, b, ignore_last_modified=True)
    # The two backups are a minute apart: only the backup's own status text may differ.
    unexpected = [d for d in comparison.failures if not d.key.startswith("Raven/Backup/Status")]
    assert not unexpected, "\n".join(map(str, unexpected[:20]))
    assert set(a.documents) == set(b.documents) and len(b.documents) >= 1051
    assert a.identities == b.identities
    assert set(a.indexes) == set(b.indexes) and len(b.indexes) >= 3


def test_without_replay_the_server_gets_one_document_less(ravendb, new_database, tmp_path, capsys):
    db = new_database("esent-pages")
    source = str(real("northwind.esent.3528.zip"))
    assert cli.main(["load", source, "--force-dirty", "--url", ravendb.url, "--database", db, "--quiet",
                     "--report", str(tmp_path / "pages.json")]) == 0
    report = json.loads((tmp_path / "pages.json").read_text())
    assert "warn-dirty-pages-only" in json.dumps(report)
    with RavenClient(ravendb.url) as client:
        assert client.get_document(db, "Raven/Backup/Status") is None
        assert client.get_document(db, "orders/830") is not None
