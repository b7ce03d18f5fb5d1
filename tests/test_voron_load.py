"""The real Northwind Voron backup loaded into the real RavenDB 4.1, then verified (issue 7)."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import real
from test_voron_bundles import KEY, _storage

from ravenmigrate import cli
from ravenmigrate.codecs.document import EncryptionSettings
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions
from ravenmigrate.verify.documents import verify

pytestmark = pytest.mark.server


def test_northwind_voron_backup_loads_and_verifies_with_nothing_missing(ravendb, new_database, tmp_path):
    source = str(real("northwind.voron.3528.zip"))
    db = new_database("voron")
    options = LoadOptions(url=ravendb.url, database=db, transport="import", checkpoint=tmp_path / "load.checkpoint")
    Loader(source, options).run()
    report = verify(source, ravendb.url, db, "import")
    docs = report["documents"]
    print(f"\nverify: {docs['expected']} expected, {docs['found']} found, {docs['missing']} missing, "
          f"{docs['different']} different, {docs['extra']} extra; skipped in source {report['skipped_in_source']}")
    assert (docs["missing"], docs["different"], docs["extra"]) == (0, 0, 0), docs
    assert docs["found"] == docs["expected"] >= 1051
    assert report["ok"], report


def test_encrypted_compressed_voron_store_loads_and_verifies_through_the_cli(ravendb, new_database, tmp_path,
                                                                             capsys):
    """`load` and `verify` take the migration-dialog options (bundles-3x.md §4) and pass them to the
    raw-storage source; a wrong key stops `load` before anything is written."""
    store = tmp_path / "db"
    bodies = _storage(store, compression=True, encryption=EncryptionSettings(KEY, "RijndaelManaged", 256))
    key = base64.b64encode(KEY).decode()
    db = new_database("voron-enc")
    common = [str(store), "--url", ravendb.url, "--database", db, "--compression", "--encryption-key", key,
              "--encryption-algorithm", "RijndaelManaged", "--encryption-bits", "256"]

    wrong = base64.b64encode(b"x" * 32).decode()
    bad = [a if a != key else wrong for a in common]
    assert cli.main(["load", *bad, "--quiet", "--report", str(tmp_path / "bad.json")]) == 1
    assert "encryption" in capsys.readouterr().err.lower()
    with RavenClient(ravendb.url) as client:
        assert client.stats(db)["CountOfDocuments"] == 0

    assert cli.main(["load", *common, "--quiet", "--report", str(tmp_path / "load.json")]) == 0
    capsys.readouterr()
    assert cli.main(["verify", *common, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["documents"]["missing"] == report["documents"]["different"] == 0
    with RavenClient(ravendb.url) as client:
        got = client.get_document(db, "orders/3")
        assert got["Lines"][399]["Qty"] == 399
        # every stored body came back through decrypt + inflate (Raven/ system docs may be skipped by 4.x rules)
        assert client.get_document(db, "users/1")["Name"] == json.loads(bodies["users/1"])["Name"]
