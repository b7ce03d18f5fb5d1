"""The real Northwind Voron backup loaded into the real RavenDB 4.1, then verified (issue 7)."""

from __future__ import annotations

import pytest
from conftest import real

from ravenmigrate.sinks.loader import Loader, LoadOptions
from ravenmigrate.sinks.verify import verify

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
