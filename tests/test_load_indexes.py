"""``load --wait-for-indexes`` against the real RavenDB 4.1: the Northwind dump's indexes are
created after the documents, the load waits until the server says every one is up to date, shows
the indexing while it waits, and reports the time to a usable database."""

from __future__ import annotations

import json

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.indexing import IndexState, index_states, line

NORTHWIND = "Northwind_3.5.35168.ravendump"


@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_load_waits_until_every_index_is_up_to_date(ravendb, new_database, tmp_path, capsys, transport):
    db = new_database("ix")
    report_path = tmp_path / "load.json"
    rc = cli.main(["load", str(real(NORTHWIND)), "--url", ravendb.url, "-d", db, "--transport", transport,
                   "--wait-for-indexes", "--log-format", "json", "--progress-interval", "0.2",
                   "--report", str(report_path)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    report = json.loads(report_path.read_text())
    ix = report["indexing"]
    with RavenClient(ravendb.url) as client:  # the server's own word, after the load returned
        stats = client.json("GET", f"/databases/{db}/indexes/stats")["Results"]
        assert sorted(s["Name"] for s in stats) == sorted(i["name"] for i in ix["indexes"])
        assert len(stats) == 3 and not any(s["IsStale"] for s in stats)
        entries = {s["Name"]: s["EntriesCount"] for s in stats}
        final = {s.name: s for s in index_states(client, db)}
    assert ix["usable"] and ix["settled"]
    assert {i["name"]: i["entries"] for i in ix["indexes"]} == entries
    assert all(not i["stale"] and i["errors"] == 0 and i["processed"] == 830 for i in ix["indexes"])
    assert all(s.settled and s.eta is None for s in final.values())
    t = report["timings"]
    assert t["documents_s"] <= t["usable_s"] <= t["total_s"] + 1e-6
    assert t["usable_s"] >= ix["wait_s"]
    events = [json.loads(x) for x in captured.err.splitlines() if x.startswith("{")]
    indexing = [e for e in events if e["event"].startswith("indexing")]
    assert indexing and indexing[-1]["event"] == "indexing-done"
    assert {i["name"] for i in indexing[-1]["indexes"]} == set(entries)
    assert all({"processed", "total", "per_second", "errors", "stale"} <= set(i) for i in indexing[0]["indexes"])
    assert "usable after" in captured.out and "3 indexes" in captured.out


def test_progress_line_names_the_stale_indexes():
    states = [IndexState("Orders/Totals", True, 165, 830, 9.2, 0, 2, "Normal", "Running"),
              IndexState("Orders/ByCompany", False, 830, 830, 0.0, 89, 0, "Normal", "Running"),
              IndexState("Broken", True, 10, 830, 0.0, 0, 500, "Error", "Running")]
    text = line(states, 12.3)
    assert text.startswith("indexing 12 s: 2/3 up to date, 502 errors")
    assert "Orders/Totals 165/830 9 docs/s ETA 1:12 2 errors" in text  # (830 - 165) / 9.2 = 72 s
    assert "Orders/ByCompany" not in text and "Broken" not in text
