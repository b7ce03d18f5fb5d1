"""verify reads the source and the server's stream side by side (docs/loading.md "Verify"): whatever
the order in which the two sides come, the report is the same, on the real 4.1 server, for an
incremental export whose later dumps put documents again and delete some."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ravenmigrate import cli
from ravenmigrate.records import Document, DocumentDeletion
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sources import open_source
from ravenmigrate.verify.digests import Join
from ravenmigrate.verify.documents import _Documents, verify
from ravenmigrate.verify.expected import Expected
from ravenmigrate.verify.feed import SourceFeed
from ravenmigrate.verify.stream import stream_batches

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

ORDERS = ["source-first", "stream-first", "eager"]


@pytest.fixture(scope="module")
def incremental(tmp_path_factory) -> tuple[Path, dict]:
    """Three incremental dumps: 300 documents and 10 attachments; 60 of them put again and 8 of those
    deleted, with 4 attachments; 3 more deleted that only the first put. What the source finally
    holds, by id."""
    folder = tmp_path_factory.mktemp("join") / "inc"
    folder.mkdir()
    generate.generate(folder / "2016-08-22-10-00-0.ravendb-incremental-dump", docs=300, seed=1, attachments=10)
    generate.generate(folder / "2016-08-22-11-00-0.ravendb-incremental-dump", docs=60, seed=2, deletions=8,
                      hilo=False, system_docs=False)
    generate.generate(folder / "2016-08-22-12-00-0.ravendb-incremental-dump", docs=0, deletions=3, hilo=False,
                      system_docs=False)
    for i, dump in enumerate(sorted(folder.iterdir())):
        os.utime(dump, (1_000_000 + i, 1_000_000 + i))
    puts: dict[str, int] = {}
    final: dict[str, bool] = {}
    for r in open_source(folder).records():
        if isinstance(r, Document):
            puts[r.id.lower()] = puts.get(r.id.lower(), 0) + 1
            final[r.id.lower()] = True
        elif isinstance(r, DocumentDeletion):
            final[r.key.lower()] = False
    return folder, {"puts": puts, "final": final}


def _drive(order: str, source: Path, url: str, db: str) -> tuple[dict, dict, dict]:
    """verify's documents and attachments sections with the two sides in *order*: the whole source
    before the stream, the whole stream before the source, or the source one record at a time after
    the stream with every waiting document decided at once (the most eager join: documents match an
    entry the source later replaces or deletes)."""
    exp = Expected(Join())
    feed = SourceFeed(exp, str(source), False, None, None, {})
    docs = _Documents(exp, feed, False)
    docs.pace = order == "source-first"  # else the stream would wait for a source that is not read yet
    seen = {"early": 0, "recheck": 0}
    with RavenClient(url) as client:
        if order == "source-first":
            feed.run()
        if order == "eager":
            add = feed.add

            def eager(conv, bulk):
                add(conv, bulk)
                seen["recheck"] = max(seen["recheck"], len(docs.join.recheck))
                lows, docs.join.ready = docs.join.ready, []
                docs.rematch(lows, "test")
            feed.add = eager
        for buf, items, read, where in stream_batches(client, db):
            docs.batch(buf, items, read, where)
        seen["early"] = len(docs.join.early)
        if order != "source-first":
            feed.run()
        assert feed.error is None and feed.done
        docs.finish(client, db, "test")
        docs.conclude(str(source), None, None, {})
    assert not docs.join.early and not docs.pending and not docs.join.recheck
    return docs.section.to_dict(), docs.attachments_section.to_dict(), seen


def _short(section: dict) -> dict:
    return {k: sorted(map(str, v)) if isinstance(v, list) else v for k, v in section.items()}


def test_every_order_of_the_two_sides_gives_the_same_report(ravendb, new_database, tmp_path, incremental):
    folder, truth = incremental
    db = new_database("join")
    assert cli.main(["load", str(folder), "--url", ravendb.url, "-d", db, "-q",
                     "--report", str(tmp_path / "load.json")]) == 0
    assert sum(n > 1 for n in truth["puts"].values()) >= 50 and list(truth["final"].values()).count(False) >= 8
    result = verify(str(folder), ravendb.url, db)
    assert result["ok"], {k: v for k, v in result.items() if isinstance(v, dict) and v.get("missing_items", 1)}
    held = result["documents"]["expected"]
    assert result["documents"]["found"] == held > 250
    assert result["attachments"]["found"] == result["attachments"]["expected"] > 0
    for order in ORDERS:
        documents, attachments, seen = _drive(order, folder, ravendb.url, db)
        assert _short(documents) == _short(result["documents"]), order
        assert _short(attachments) == _short(result["attachments"]), order
        if order != "source-first":
            assert seen["early"] == held  # every server document came before its entry
        if order == "eager":
            assert seen["recheck"] > 0  # documents matched an entry the source later put again or deleted


def test_differences_are_the_same_in_every_order(ravendb, new_database, tmp_path, incremental):
    """On the server after the load: a document put again by the source changed, one the source
    finally deleted stored again, one the first dump alone put deleted. Every order reports
    exactly these three."""
    folder, truth = incremental
    db = new_database("joindiff")
    assert cli.main(["load", str(folder), "--url", ravendb.url, "-d", db, "-q",
                     "--report", str(tmp_path / "load.json")]) == 0
    reput = next(k for k, n in sorted(truth["puts"].items()) if n > 1 and truth["final"][k])
    deleted = next(k for k, n in sorted(truth["puts"].items()) if n > 1 and not truth["final"][k])
    once = next(k for k, n in sorted(truth["puts"].items()) if n == 1 and truth["final"][k])
    with RavenClient(ravendb.url) as client:
        doc = client.get_document(db, reput)
        doc["Changed"] = True
        client.put_document(db, reput, doc)
        client.put_document(db, deleted, {"Back": 1, "@metadata": {"@collection": "Orders"}})
        client.request("DELETE", f"/databases/{db}/docs?id={once}", ok=(204,))
    result = verify(str(folder), ravendb.url, db)
    want = {"different": [reput], "extra": [deleted], "missing": [once]}
    got = {k: sorted((d["id"] if isinstance(d, dict) else d).lower() for d in result["documents"][f"{k}_items"])
           for k in want}
    assert got == want and not result["ok"]
    assert "body" in result["documents"]["different_items"][0]["what"]
    for order in ORDERS:
        documents, _, _ = _drive(order, folder, ravendb.url, db)
        assert _short(documents) == _short(result["documents"]), order


def test_a_stream_far_ahead_of_the_source_waits_for_it(ravendb, new_database, tmp_path, incremental, monkeypatch):
    """Past ``EARLY_LIMIT`` bytes of kept documents the stream stops until the source has caught up
    with half of them (``catch_up``): here the source starts only once the first read is kept whole,
    with a limit of 2 KB; what is kept after each read stays under 1 KB, and the report is still
    the one of every other order."""
    import threading

    from ravenmigrate.verify import documents as verify_documents

    folder, _ = incremental
    db = new_database("joinwait")
    assert cli.main(["load", str(folder), "--url", ravendb.url, "-d", db, "-q",
                     "--report", str(tmp_path / "load.json")]) == 0
    want, want_atts, _ = _drive("source-first", folder, ravendb.url, db)
    monkeypatch.setattr(verify_documents, "EARLY_LIMIT", 2048)
    exp = Expected(Join())
    feed = SourceFeed(exp, str(folder), False, None, None, {})
    docs = _Documents(exp, feed, False)
    docs.pace = False  # every document without an entry is kept: the first read exceeds the limit
    waits = []
    catch_up = docs.catch_up
    docs.catch_up = lambda where: (waits.append(docs.early.size), catch_up(where))
    threading.Timer(0.3, feed.start).start()  # the source only after the first read is kept
    after = []  # what is kept after each read: at most half the limit unless the source is done
    with RavenClient(ravendb.url) as client:
        for buf, items, read, where in stream_batches(client, db):
            docs.batch(buf, items, read, where)
            after.append(docs.early.size <= 1024 or feed.done)
        feed.finish()
        docs.finish(client, db, "test")
        docs.conclude(str(folder), None, None, {})
    assert waits and waits[0] > 2048 and all(after) and not docs.join.early
    assert _short(docs.section.to_dict()) == _short(want)
    assert _short(docs.attachments_section.to_dict()) == _short(want_atts)
