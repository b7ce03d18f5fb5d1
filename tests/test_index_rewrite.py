"""The index rewrite rules one by one (``convert/index_rewrite``, docs/indexes.md): each on the
3.x text RavenDB 3.5 exported (taken from the given Indexes_And_Transformers_3.5 dump), what it
writes, and that an index 4.x accepts is never touched. Whether 4.1 accepts the results is
``test_index_rewrite_server.py``."""

from __future__ import annotations

import json

from ravenmigrate.convert.index_checks import creation_problem
from ravenmigrate.convert.index_rewrite import (
    CollectionSample,
    Context,
    analyzers,
    as_document,
    csharp,
    dynamic_docs,
    empty_map,
    load_document,
    rewrite,
    select_many_source,
    spatial,
)
from ravenmigrate.convert.indexes import convert_index, read_definition
from ravenmigrate.records import Index, Position

POS = Position("t", "Indexes", 0, 0)


def index(maps, reduce=None, **more) -> dict:
    return {"Maps": maps, "Map": maps[0], "Reduce": reduce, **more}


def apply(rule, definition, sample=None):
    context = Context("i", sample)
    assert rule.applies(definition, context)
    notes = rule.apply(definition, context)
    assert notes
    return definition, notes


def test_csharp_arguments_skip_literals_and_nesting():
    text = 'f(a.B(1, 2), "x, (y", \'c\', @"q""r", new[] { 1, 2 })'
    args, end = csharp.arguments(text, 1)
    assert args == ["a.B(1, 2)", '"x, (y"', "'c'", '@"q""r"', "new[] { 1, 2 }"] and end == len(text) - 1
    assert csharp.string_value('"orders/1"') == "orders/1" and csharp.string_value("x.Id") is None


def test_load_document_member_path_by_convention():
    d, notes = apply(load_document, index(["from order in docs.Orders\nselect new { Zip = (this.LoadDocument(order.CustomerId)).ZipCode }"]))
    assert d["Maps"] == ['from order in docs.Orders\nselect new { Zip = (this.LoadDocument(order.CustomerId, "Customers")).ZipCode }']
    assert d["Map"] == d["Maps"][0] and len(notes) == 1 and "default conventions" in notes[0]


def test_load_document_collection_from_source_documents():
    """The ids sampled from the map's documents decide, not the member's name."""
    text = "from order in docs.Orders\nselect new { Name = this.LoadDocument(order.Buyer).Name }"
    sample = CollectionSample()
    load_document.want(index([text]), sample)
    sample.observe("orders/1", "Orders", b'{"Buyer": "people/1"}')
    sample.observe("orders/2", "Orders", b'{"Buyer": "people/2"}')
    sample.observe("people/1", "People", b"{}")
    sample.observe("people/2", "People", b"{}")
    d, notes = apply(load_document, index([text]), sample)
    assert 'this.LoadDocument(order.Buyer, "People")' in d["Maps"][0]
    assert "ids at Orders.Buyer in the source documents (2 of them)" in notes[0]


def test_load_document_mixed_collections_reports_the_choice():
    text = "from order in docs.Orders\nselect new { Name = this.LoadDocument(order.Buyer).Name }"
    sample = CollectionSample()
    load_document.want(index([text]), sample)
    for i, (target, c) in enumerate([("people/1", "People"), ("people/2", "People"), ("companies/1", "Companies")]):
        sample.observe(f"orders/{i}", "Orders", json.dumps({"Buyer": target}).encode())
        sample.observe(target, c, b"{}")
    d, notes = apply(load_document, index([text]), sample)
    assert '"People"' in d["Maps"][0] and "span People (2), Companies (1)" in notes[0]


def test_load_document_literals_prefixes_generic_and_method_group():
    d, _ = apply(load_document, index(['from u in docs.Users select new { A = this.LoadDocument("cars/1"), '
                                       'C = this.LoadDocument("customers/" + ((object)u.N)), '
                                       'D = this.LoadDocument<object>(u.OwnerId) }']))
    assert d["Maps"][0] == ('from u in docs.Users select new { A = this.LoadDocument("cars/1", "Cars"), '
                            'C = this.LoadDocument("customers/" + ((object)u.N), "Customers"), '
                            'D = this.LoadDocument<object>(u.OwnerId, "Owners") }')
    d, _ = apply(load_document, index(["from doc in docs.People select new { Pets = doc.PetsIds.Select((((Func<dynamic, dynamic>)(LoadDocument)))) }"]))
    assert d["Maps"][0] == 'from doc in docs.People select new { Pets = doc.PetsIds.Select(__id => LoadDocument(__id, "Pets")) }'


def test_spatial_generate_names_the_field_as_3x_did():
    d, notes = apply(spatial, index(["from e in docs.Events select new { Name = e.Name, _ = AbstractIndexCreationTask.SpatialGenerate(((double?)e.Lat), ((double?)e.Lng)) }"]))
    assert d["Maps"][0] == "from e in docs.Events select new { Name = e.Name, __spatial = CreateSpatialField(((double?)e.Lat), ((double?)e.Lng)) }"
    d, _ = apply(spatial, index(['from e in docs.Events select new { __ = AbstractIndexCreationTask.SpatialGenerate("Coordinates", ((double?)e.Lat), ((double?)e.Lng)) }']))
    assert d["Maps"][0] == "from e in docs.Events select new { Coordinates = CreateSpatialField(((double?)e.Lat), ((double?)e.Lng)) }"
    d, _ = apply(spatial, index(["from s in docs.Stations select new { _ = e.L.Select(x => SpatialIndex.Generate(((double?)x.lat), ((double?)x.@long))) }"]))
    assert d["Maps"][0] == "from s in docs.Stations select new { __spatial = e.L.Select(x => CreateSpatialField(((double?)x.lat), ((double?)x.@long))) }"


def test_spatial_shape_strategy_becomes_field_options():
    d, _ = apply(spatial, index(['from s in docs.Shapes select new { __ = AbstractIndexCreationTask.SpatialGenerate("Bbox", s.Wkt, Raven.Abstractions.Indexing.SpatialSearchStrategy.GeohashPrefixTree, 6) }']))
    assert d["Maps"][0] == "from s in docs.Shapes select new { Bbox = CreateSpatialField(s.Wkt) }"
    assert d["SpatialIndexes"]["Bbox"]["Strategy"] == "GeohashPrefixTree" and d["SpatialIndexes"]["Bbox"]["MaxTreeLevel"] == 6


def test_spatial_in_reduce_renames_the_member_in_maps_too():
    d, _ = apply(spatial, index(["from s in docs.Sales select new { _ = (object)null, Id = s.Id }"],
                                "from r in results group r by r.Id into g select new { _ = SpatialIndex.Generate(((double?)g.First().Lat), ((double?)g.First().Lng)), Id = g.Key }"))
    assert d["Maps"][0].startswith("from s in docs.Sales select new { __spatial = (object)null")
    assert "__spatial = CreateSpatialField(" in d["Reduce"]


def test_analyzers_mapped_or_dropped():
    d, notes = apply(analyzers, index(["from c in docs.Contacts select new { A = c.A, B = c.B, C = c.C }"], Analyzers={
        "A": "Raven.Database.Indexing.Collation.Cultures.DeCollationAnalyzer, Raven.Database, Version=3.5.0.0",
        "B": "Raven.Tests.Common.Analyzers.NGramAnalyzer, Raven.Tests.Common",
        "C": "Lucene.Net.Analysis.SimpleAnalyzer, Lucene.Net"}))
    assert d["Analyzers"] == {"A": analyzers.V4_ANALYZERS + "Collation.Cultures.DeCollationAnalyzer, Raven.Server",
                              "C": "Lucene.Net.Analysis.SimpleAnalyzer, Lucene.Net"}
    assert any("NGramAnalyzer dropped" in n for n in notes)


def test_text_rules():
    d, _ = apply(empty_map, index(["from doc in docs.Properties\nselect new {\r\n\n}"]))
    assert d["Maps"][0] == "from doc in docs.Properties\nselect new { _ = (object)null }"
    d, _ = apply(as_document, index(["from d in docs.Users select new { J = AsDocument(d).Name }"]))
    assert d["Maps"][0] == "from d in docs.Users select new { J = AsJson(d).Name }"
    d, _ = apply(dynamic_docs, index(['from d in docs["Users"] select new { d.Name }']))
    assert d["Maps"][0] == "from d in docs.Users select new { d.Name }"
    d, _ = apply(select_many_source, index(["from x in docs.Drones.SelectMany(x => x.Clicks)\nselect new { C = x.C }"]))
    assert d["Maps"][0] == "from __drones in docs.Drones from x in __drones.Clicks\nselect new { C = x.C }"


def test_accepted_indexes_are_never_touched():
    """An index 4.x accepts has no creation problem, so convert_index sends it as it was read."""
    source = {"Map": "from o in docs.Orders select new { o.Company, Name = LoadDocument(o.Company, \"Companies\").Name }",
              "Maps": ["from o in docs.Orders select new { o.Company, Name = LoadDocument(o.Company, \"Companies\").Name }"],
              "Analyzers": {"Company": "StandardAnalyzer"}}
    assert creation_problem(read_definition("x", source)) == ""
    converted = convert_index(Index("Orders/ByCompany", source, POS))
    assert converted.rewrite is None and converted.legacy is source and converted.problem == ""
    assert rewrite(source, Context("x")) is None


def test_rewrite_off_keeps_the_rejected_definition():
    source = {"Maps": ["from o in docs.Orders select new { N = LoadDocument(o.Company).Name }"]}
    off = convert_index(Index("x", source, POS), rewrite_indexes=False)
    assert off.rewrite is None and off.legacy is source and "LoadDocument" in off.problem
    on = convert_index(Index("x", source, POS))
    assert on.rewrite.rules == ["load-document"] and on.problem == ""
    assert on.definition["Maps"] == ['from o in docs.Orders select new { N = LoadDocument(o.Company, "Companies").Name }']


def test_inspect_learns_the_collection_from_the_documents(tmp_path):
    """inspect (documents read in runs) and load choose the same collection: the sampled ids'."""
    import gzip

    from ravenmigrate.commands.inspect import inspect

    meta = {"Last-Modified": "2016-08-22T11:23:36.1861726Z"}
    docs = [{"Name": n, "@metadata": {"@id": f"people/{i}", "Raven-Entity-Name": "People", **meta}}
            for i, n in enumerate(["Ann", "Bob"], 1)]
    docs += [{"Buyer": f"people/{1 + i % 2}", "@metadata": {"@id": f"orders/{i}", "Raven-Entity-Name": "Orders", **meta}}
             for i in range(1, 5)]
    text = "from order in docs.Orders\nselect new { BuyerName = this.LoadDocument(order.Buyer).Name }"
    path = tmp_path / "d.ravendump"
    path.write_bytes(gzip.compress(json.dumps({"Indexes": [{"name": "Orders/ByBuyer", "definition": {
        "Map": text, "Maps": [text]}}], "Docs": docs}).encode()))
    (line,) = inspect(str(path))["indexes"]["indexes"]
    assert line["outcome"] == "rewrite" and line["notes"][0].startswith("LoadDocument(order.Buyer) loads from People: ids at Orders.Buyer")


def test_convert_writes_the_rewritten_definitions_into_the_dump(tmp_path):
    """convert: the 4.x dump holds the rewritten definitions (after the documents); the report
    keeps each rewrite before and after; --index-rewrite=off writes them as the import would."""
    from conftest import real

    from ravenmigrate.convert import ConvertOptions
    from ravenmigrate.sinks.dump4 import layout
    from ravenmigrate.sinks.dump4.convert import Dump4Options, convert_to_dump4

    source = real("Indexes_And_Transformers_3.5.ravendump")
    written = {}
    for mode in (True, False):
        out = tmp_path / f"{mode}.ravendbdump"
        report = convert_to_dump4(source, out, Dump4Options(convert=ConvertOptions(rewrite_indexes=mode)))
        assert report["counts"]["indexes"] == 657
        written[mode] = {e.value["IndexDefinition"]["Name"]: e.value["IndexDefinition"]
                         for e in layout.read(out).elements() if e.section == "Indexes"}
        lines = {i["name"]: i for i in report["indexes"]["indexes"]}
        assert (lines["5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec"]["outcome"] == "rewrite") is mode
    on, off = written[True]["5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec"], written[False]["5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec"]
    assert "__spatial = CreateSpatialField(" in on["Maps"][0] and "SpatialGenerate" in off["Maps"][0]
    changed = [n for n in written[True] if written[True][n] != written[False][n]]
    assert len(changed) == 67  # the 66 created after rewrite, and the SpatialClustering one (still rejected)
    assert lines["5f2fe7c7-e1ba-4a39-9d77-56d9c0e064ec"]["outcome"] == "reject"  # off: as the import would
