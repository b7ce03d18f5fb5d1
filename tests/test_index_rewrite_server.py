"""The index rewrite against the real RavenDB 4.1 (docs/indexes.md): the given dump's 658
indexes, the Northwind dumps untouched, and per rule, a generated 3.x dump whose rewritten
index is queried and compared with what the 3.x semantics give on the same documents."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from conftest import real

from ravenmigrate.cli import main
from ravenmigrate.commands.inspect import inspect
from ravenmigrate.convert.indexes import convert_index
from ravenmigrate.records import Index
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions
from ravenmigrate.sources import open_source

pytestmark = pytest.mark.server


def _load(url: str, database: str, path, tmp_path, *extra: str) -> tuple[list[str], object]:
    report = tmp_path / f"{database}.json"
    argv = ["load", str(path), "--url", url, "-d", database, "--report", str(report), "-q", *extra]
    return argv, report


@pytest.mark.slow
def test_given_dump_loads_with_few_rejections_and_a_true_count(ravendb, new_database, tmp_path, capsys):
    """Indexes_And_Transformers_3.5: at most 10 of 658 rejected after the rewrite (measured: 3),
    each with the server's reason in the summary; "created" is what the server holds; inspect
    predicted every index's outcome."""
    path = real("Indexes_And_Transformers_3.5.ravendump")
    db = new_database("given")
    argv, report_path = _load(ravendb.url, db, path, tmp_path)
    assert main(argv) == 0
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    summary = report["indexes"]["summary"]
    with RavenClient(ravendb.url) as client:
        on_server = client.json("GET", f"/databases/{db}/indexes?start=0&pageSize=100000")["Results"]
    assert summary["created"] == len(on_server) == summary["on_server"] == report["counts"]["indexes"]
    assert summary["read"] == 658 and summary["reject"] <= 10 and summary["missing"] == 0
    assert f"indexes               {summary['created']:,} created" in out
    rejected = [i for i in report["indexes"]["indexes"] if i["outcome"] == "reject"]
    for i in rejected:
        assert i["reason"] and f"reject: {i['name']}: {i['reason']}" in out
    rewritten = [i for i in report["indexes"]["indexes"] if i["outcome"] == "rewrite"]
    assert len(rewritten) >= 60 and all(i["before"] != i["after"] and i["rules"] for i in rewritten)
    predicted = {i["name"]: i["outcome"] for i in inspect(str(path))["indexes"]["indexes"]}
    actual = {i["name"]: i["outcome"] for i in report["indexes"]["indexes"]}
    assert predicted == actual
    print(f"given dump: {summary}")


def test_given_dump_rewrite_off_sends_untouched(ravendb, new_database, tmp_path):
    """--index-rewrite=off: the definitions as the 4.x import would take them, which the server
    rejects and the report says so; on: created after the rewrite. Both transports; two of the
    given dump's indexes keep the test short."""
    records = [r for r in open_source(str(real("Indexes_And_Transformers_3.5.ravendump"))).records()
               if isinstance(r, Index)]
    names = ("1375ab4f-565e-439d-bb93-d0e9383e2d2f", "5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec")
    chosen = [r for r in records if r.name in names]
    assert len(chosen) == 2
    dump = _dump(tmp_path / "subset.ravendump", [], [{"name": r.name, "definition": r.definition} for r in chosen])
    for mode, transport, expect in (("off", "import", "reject"), ("on", "import", "rewrite"),
                                    ("off", "bulk-insert", "reject"), ("on", "bulk-insert", "rewrite")):
        db = new_database(f"{mode}{transport}")
        argv, report_path = _load(ravendb.url, db, dump, tmp_path, f"--index-rewrite={mode}", "--transport", transport)
        assert main(argv) == 0
        report = json.loads(report_path.read_text())
        outcomes = {i["name"]: i for i in report["indexes"]["indexes"]}
        assert report["indexes"]["summary"]["on_server"] == report["counts"]["indexes"] == (2 if mode == "on" else 0)
        assert outcomes["5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec"]["outcome"] == expect
        assert outcomes["1375ab4f-565e-439d-bb93-d0e9383e2d2f"]["outcome"] == expect
        if mode == "off":
            reason = outcomes["1375ab4f-565e-439d-bb93-d0e9383e2d2f"]["reason"]
            assert "LoadDocument requires a second argument" in reason if transport == "import" else "CS1501" in reason


@pytest.mark.parametrize("name", ["Northwind_3.5.35168.ravendump", "Northwind_2.5.dump"])
def test_northwind_indexes_are_not_changed(ravendb, new_database, name):
    """4.x accepts Northwind's indexes as they are: no rule runs, the definitions sent are the
    source's own, and the server creates them all."""
    path = real(name)
    indexes = [r for r in open_source(str(path)).records() if isinstance(r, Index)]
    for record in indexes:
        converted = convert_index(record)
        assert getattr(converted, "rewrite", None) is None
        assert getattr(converted, "legacy", record.definition) is record.definition
    db = new_database("nw")
    report = Loader(str(path), LoadOptions(url=ravendb.url, database=db, progress=False,
                                           checkpoint=None)).run()
    outcomes = report["indexes"]["indexes"]
    assert {i["outcome"] for i in outcomes} <= {"create", "skip"}
    assert report["indexes"]["summary"]["created"] == report["indexes"]["summary"]["on_server"] > 0


# -- rules with data -------------------------------------------------------------------------------

def _doc(doc_id: str, collection: str, **body) -> dict:
    return {**body, "@metadata": {"@id": doc_id, "Raven-Entity-Name": collection,
                                  "Last-Modified": "2016-08-22T11:23:36.1861726Z"}}


def _dump(path, docs: list[dict], indexes: list[dict]):
    path.write_bytes(gzip.compress(json.dumps({"Indexes": indexes, "Docs": docs}).encode()))
    return path


def _index(name: str, maps: list[str], reduce: str | None = None, **more) -> dict:
    return {"name": name, "definition": {"Name": name, "Map": maps[0], "Maps": maps, "Reduce": reduce,
                                         "LockMode": "Unlock", **more}}


PEOPLE = {"people/1": "Ann", "people/2": "Bob", "people/3": "Cid"}
ORDERS = {f"orders/{i}": {"Buyer": f"people/{1 + i % 3}", "Friends": [f"people/{1 + (i + 1) % 3}"],
                          "Lat": 32.0 + i / 10, "Lng": 34.8 + i / 10,
                          "Lines": [{"P": f"p{i}"}, {"P": f"p{i + 1}"}]} for i in range(1, 7)}
INDEXES = [
    _index("Orders/ByBuyerName", ["from order in docs.Orders\nselect new { BuyerName = this.LoadDocument(order.Buyer).Name }"]),
    _index("Orders/ByFriendNames", ["from order in docs.Orders\nselect new { Friends = order.Friends.Select("
                                    "(((Func<dynamic, dynamic>)(LoadDocument)))).Select(f => f.Name) }"]),
    _index("Orders/ByLiteral", ['from order in docs.Orders\nselect new { First = this.LoadDocument("people/" + '
                                '"1").Name }']),
    _index("Orders/Spatial", ["from order in docs.Orders\nselect new { _ = AbstractIndexCreationTask.SpatialGenerate("
                              "((double?)order.Lat), ((double?)order.Lng)) }"]),
    _index("Orders/NoFields", ["from order in docs.Orders\nselect new {\r\n\n}"]),
    _index("Orders/Lines", ["from line in docs.Orders.SelectMany(order => order.Lines)\nselect new { P = line.P }"]),
    _index("Orders/AsDocument", ["from order in docs.Orders\nselect new { Buyer = AsDocument(order).Buyer }"]),
    _index("Orders/DocsIndexer", ['from order in docs["Orders"]\nselect new { Buyer = order.Buyer }']),
]


@pytest.fixture(scope="module")
def rules_database(ravendb, tmp_path_factory):
    docs = [_doc(i, "People", Name=n) for i, n in PEOPLE.items()]
    docs += [_doc(i, "Orders", **body) for i, body in ORDERS.items()]
    path = _dump(tmp_path_factory.mktemp("rules") / "rules.ravendump", docs, INDEXES)
    client = RavenClient(ravendb.url)
    db = "rules-" + re.sub(r"\W", "", str(id(path)))
    client.create_database(db)
    report = Loader(str(path), LoadOptions(url=ravendb.url, database=db, progress=False, checkpoint=None)).run()
    yield client, db, {i["name"]: i for i in report["indexes"]["indexes"]}
    client.delete_database(db)
    client.close()


def _query(client: RavenClient, db: str, rql: str) -> list[dict]:
    r = client.json("POST", f"/databases/{db}/queries", {"Query": rql, "WaitForNonStaleResults": True,
                                                          "WaitForNonStaleResultsTimeout": "00:01:00"})
    assert not r["IsStale"]
    return r["Results"]


def _ids(results: list[dict]) -> list[str]:
    return sorted(r["@metadata"]["@id"] for r in results)


def test_load_document_member_path_collection_from_data(rules_database):
    """LoadDocument(order.Buyer): "Buyer" names no collection; the sampled ids say People. The
    index finds each buyer's orders (3.x: the entry holds the loaded person's Name), and after a
    person is renamed on the server the entries follow (the People reference is tracked)."""
    client, db, outcomes = rules_database
    o = outcomes["Orders/ByBuyerName"]
    assert o["outcome"] == "rewrite" and 'LoadDocument(order.Buyer, "People")' in o["after"]["Maps"][0]
    assert "ids at Orders.Buyer in the source documents" in o["notes"][0]
    for person, name in PEOPLE.items():
        expected = sorted(i for i, body in ORDERS.items() if body["Buyer"] == person)
        assert _ids(_query(client, db, f"from index 'Orders/ByBuyerName' where BuyerName = '{name}'")) == expected
    person = client.get_document(db, "people/2")
    person["Name"] = "Bea"
    client.put_document(db, "people/2", person)
    expected = sorted(i for i, body in ORDERS.items() if body["Buyer"] == "people/2")
    assert _ids(_query(client, db, "from index 'Orders/ByBuyerName' where BuyerName = 'Bea'")) == expected
    person["Name"] = "Bob"
    client.put_document(db, "people/2", person)


def test_load_document_method_group(rules_database):
    client, db, outcomes = rules_database
    assert outcomes["Orders/ByFriendNames"]["outcome"] == "rewrite"
    expected = sorted(i for i, body in ORDERS.items() if "people/3" in body["Friends"])
    assert _ids(_query(client, db, "from index 'Orders/ByFriendNames' where Friends = 'Cid'")) == expected


def test_load_document_literal_prefix(rules_database):
    client, db, outcomes = rules_database
    o = outcomes["Orders/ByLiteral"]
    assert o["outcome"] == "rewrite" and '"People"' in o["after"]["Maps"][0]
    assert _ids(_query(client, db, "from index 'Orders/ByLiteral' where First = 'Ann'")) == sorted(ORDERS)


def test_spatial_generate_field_is_queryable(rules_database):
    """3.x SpatialGenerate(lat, lng) indexed the point as __spatial; the rewritten index too."""
    client, db, outcomes = rules_database
    assert outcomes["Orders/Spatial"]["outcome"] == "rewrite"
    near = _query(client, db, "from index 'Orders/Spatial' where spatial.within(__spatial, "
                              "spatial.circle(20, 32.1, 34.9))")
    expected = sorted(i for i, b in ORDERS.items() if _distance_km(b["Lat"], b["Lng"], 32.1, 34.9) <= 20)
    assert 0 < len(expected) < len(ORDERS) and _ids(near) == expected


def test_empty_map_still_finds_every_document(rules_database):
    """3.x: an entry per document, no field; querying the index returns the whole collection."""
    client, db, outcomes = rules_database
    assert outcomes["Orders/NoFields"]["outcome"] == "rewrite"
    assert _ids(_query(client, db, "from index 'Orders/NoFields'")) == sorted(ORDERS)


def test_select_many_source_gives_an_entry_per_line(rules_database):
    client, db, outcomes = rules_database
    assert outcomes["Orders/Lines"]["outcome"] == "rewrite"
    for p in ("p1", "p4", "p7"):
        expected = sorted(i for i, b in ORDERS.items() if any(line["P"] == p for line in b["Lines"]))
        assert _ids(_query(client, db, f"from index 'Orders/Lines' where P = '{p}'")) == expected


def _rejected_as_is(ravendb, new_database, tmp_path, name: str) -> str:
    """Loads only the index ``name`` with --index-rewrite=off: 4.1 rejects the 3.x form; the reason."""
    chosen = [i for i in INDEXES if i["name"] == name]
    dump = _dump(tmp_path / "as-is.ravendump", [], chosen)
    argv, report_path = _load(ravendb.url, new_database("asis"), dump, tmp_path, "--index-rewrite=off")
    assert main(argv) == 0
    outcome = json.loads(report_path.read_text())["indexes"]["indexes"][0]
    assert outcome["name"] == name and outcome["outcome"] == "reject"
    return outcome["reason"]


def test_as_document_reads_the_document(rules_database, ravendb, new_database, tmp_path):
    """3.x AsDocument(order) gives the order's own JSON; 4.1 knows no AsDocument (rejected as is),
    the rewritten AsJson(order) indexes the same Buyer: each person's orders are found."""
    assert "CS0103: The name 'AsDocument'" in _rejected_as_is(ravendb, new_database, tmp_path, "Orders/AsDocument")
    client, db, outcomes = rules_database
    o = outcomes["Orders/AsDocument"]
    assert o["outcome"] == "rewrite" and "AsJson(order).Buyer" in o["after"]["Maps"][0]
    assert o["rules"] == ["as-document"]
    for person in PEOPLE:
        expected = sorted(i for i, body in ORDERS.items() if body["Buyer"] == person)
        assert _ids(_query(client, db, f"from index 'Orders/AsDocument' where Buyer = '{person}'")) == expected


def test_dynamic_docs_indexer_maps_only_its_collection(rules_database, ravendb, new_database, tmp_path):
    """3.x docs["Orders"] maps the Orders collection only; 4.1 rejects the indexer form as is; the
    rewritten docs.Orders gives an entry per order and none for the People documents."""
    assert "CS0021" in _rejected_as_is(ravendb, new_database, tmp_path, "Orders/DocsIndexer")
    client, db, outcomes = rules_database
    o = outcomes["Orders/DocsIndexer"]
    assert o["outcome"] == "rewrite" and o["after"]["Maps"][0].startswith("from order in docs.Orders")
    assert o["rules"] == ["dynamic-docs"]
    assert _ids(_query(client, db, "from index 'Orders/DocsIndexer'")) == sorted(ORDERS)
    expected = sorted(i for i, body in ORDERS.items() if body["Buyer"] == "people/3")
    assert _ids(_query(client, db, "from index 'Orders/DocsIndexer' where Buyer = 'people/3'")) == expected


def _distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))

