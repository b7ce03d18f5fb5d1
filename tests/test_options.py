"""The options migrating users expect (``--transform-script``, ``--collections``, ``--types``,
``--exclude-expired``, ``--id-prefix-map`` ...), each against the real RavenDB 4.1 server: the result
of every transport and of ``convert`` + the server's import is compared with the server's own
import of the 3.x file with the same import options."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.convert.selection import Selection, Selector
from ravenmigrate.convert.transform import TransformScript
from ravenmigrate.sinks.server.client import DEFAULT_IMPORT_OPTIONS, RavenClient, smuggler_options
from ravenmigrate.verify.compare import diff, read_state

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from generate import generated  # noqa: E402

NORTHWIND = "Northwind_3.5.35168.ravendump"
RENAME_AND_DROP = """
if (this['@metadata']['@collection'] === 'Employees') throw 'skip';
if (this.Name !== undefined) { this.DisplayName = this.Name; delete this.Name; }
"""


def _load(url: str, db: str, source: Path, transport: str, tmp_path: Path, *extra: str) -> dict:
    report = tmp_path / f"{db}.json"
    rc = cli.main(["load", str(source), "--url", url, "-d", db, "--transport", transport, "--report", str(report),
                   "-q", *extra])
    assert rc == 0
    return json.loads(report.read_text())


def _convert_and_import(client: RavenClient, db: str, source: Path, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / f"{db}.ravendbdump"
    report = tmp_path / f"{db}.convert.json"
    assert cli.main(["convert", str(source), "-o", str(out), "--report", str(report), "-q", *extra]) == 0
    client.import_file(db, str(out))
    return json.loads(report.read_text())


def _differences(client: RavenClient, reference: str, db: str, ignore_last_modified: bool = False) -> list[str]:
    a, b = read_state(client, reference), read_state(client, db)
    return [str(d) for d in diff(a, b, ignore_last_modified=ignore_last_modified).differences]


@pytest.mark.server
@pytest.mark.slow
def test_transform_script_gives_the_same_documents_through_every_transport_and_convert(
        ravendb, new_database, tmp_path):
    """A script that renames a field and drops a collection: the server's own import of the 3.x file
    with that TransformScript, ``load`` through both transports and ``convert`` + import agree."""
    script = tmp_path / "transform.js"
    script.write_text(RENAME_AND_DROP)
    source = real(NORTHWIND)
    client = RavenClient(ravendb.url)
    reference, via_import, via_bulk, via_convert = (new_database(p) for p in ("ref", "imp", "bulk", "conv"))
    client.import_file(reference, str(source), {**DEFAULT_IMPORT_OPTIONS, "TransformScript": RENAME_AND_DROP})
    imported = _load(ravendb.url, via_import, source, "import", tmp_path, "--transform-script", str(script))
    bulk = _load(ravendb.url, via_bulk, source, "bulk-insert", tmp_path, "--transform-script", str(script))
    converted = _convert_and_import(client, via_convert, source, tmp_path, "--transform-script", str(script))

    state = read_state(client, reference)
    assert len(state.documents) == 1059 - 9
    assert not any(d["@metadata"].get("@collection") == "Employees" for d in state.documents.values())
    assert state.documents["companies/1"]["DisplayName"] == "Alfreds Futterkiste"
    assert "Name" not in state.documents["companies/1"]
    assert state.documents["orders/1"]["Freight"] == state.documents["orders/1"]["Freight"]  # untouched numbers
    assert _differences(client, reference, via_import) == []
    assert _differences(client, reference, via_convert) == []
    assert _differences(client, reference, via_bulk, ignore_last_modified=True) == []
    assert bulk["filtered"] == {"document (transform script: skip)": 9}
    assert imported["filtered"] == {"document (transform script: skip, by the server)": 9}
    assert converted["filtered"] == {"document (transform script: skip)": 9}


@pytest.mark.server
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_collections_types_and_id_prefixes(ravendb, new_database, tmp_path, transport):
    source = real(NORTHWIND)
    client = RavenClient(ravendb.url)
    only = new_database("only")
    report = _load(ravendb.url, only, source, transport, tmp_path, "--collections", "orders,Companies",
                   "--types", "documents,identities", "--id-prefix-map", "orders/=commandes/")
    collections = client.json("GET", f"/databases/{only}/collections/stats")["Collections"]
    assert collections == {"Orders": 830, "Companies": 91, "@hilo": 2}
    state = read_state(client, only)
    assert "commandes/1" in state.documents and "orders/1" not in state.documents
    assert state.documents["commandes/1"]["Company"] == "companies/85"  # references are not rewritten
    assert {"Raven/Hilo/orders", "Raven/Hilo/companies"} == {k for k in state.documents if k.startswith("Raven/")}
    assert state.indexes == {} and state.identities == {"transformerid": 1}
    assert report["filtered"]["document (collection)"] == 1059 - 830 - 91 - 2
    assert report["filtered"]["index (--types)"] == 3

    excluded = new_database("excl")
    _load(ravendb.url, excluded, source, transport, tmp_path, "--exclude-collections", "Orders,Employees")
    assert client.stats(excluded)["CountOfDocuments"] == 1059 - 830 - 9 - 2


@pytest.mark.server
@pytest.mark.slow
def test_exclude_expired_matches_the_servers_include_expired_false(ravendb, new_database, tmp_path):
    source = generated("expiring-300-nosys.ravendump", docs=300, expiration=True, system_docs=False)
    client = RavenClient(ravendb.url)
    reference = new_database("ref")
    client.import_file(reference, str(source), {**DEFAULT_IMPORT_OPTIONS, "IncludeExpired": False})
    expected = read_state(client, reference)
    assert 0 < len(expected.documents) < 300
    for transport in ("import", "bulk-insert"):
        db = new_database(transport)
        _load(ravendb.url, db, source, transport, tmp_path, "--exclude-expired")
        assert _differences(client, reference, db, ignore_last_modified=transport == "bulk-insert") == []
    db = new_database("conv")
    _convert_and_import(client, db, source, tmp_path, "--exclude-expired")
    assert _differences(client, reference, db) == []


def test_import_options_follow_the_selection():
    opts = smuggler_options(types=("documents", "deletions"), include_expired=False, remove_analyzers=True,
                            transform_script="this.x = 1;")
    assert opts == {"IncludeExpired": False, "RemoveAnalyzers": True, "TransformScript": "this.x = 1;",
                    "OperateOnTypes": "Documents, Tombstones, Conflicts, CompareExchange, LegacyDocumentDeletions, "
                                      "LegacyAttachmentDeletions, Counters"}
    assert smuggler_options() == DEFAULT_IMPORT_OPTIONS


def test_transform_keeps_untouched_numbers_and_the_reserved_metadata():
    script = TransformScript("this.Total = this.Price * 2; this['@metadata']['@flags'] = 'x'; "
                             "this['@metadata']['@collection'] = 'Moved';")
    data = b'{"Price":14.0,"Big":9007199254740993,"Rate":0.10,"@metadata":{"@collection":"A","@flags":"HasRevisions"}}'
    (out,) = script.apply(["a/1"], [data])
    assert json.loads(out, parse_float=str) == {"Price": "14.0", "Big": 9007199254740993, "Rate": "0.10",
                                                "Total": 28, "@metadata": {"@collection": "Moved",
                                                                          "@flags": "HasRevisions"}}
    assert out.endswith(b'"@flags":"HasRevisions"}}')
    (skipped,) = TransformScript("throw 'skip';").apply(["a/1"], [data])
    assert skipped is None
    with pytest.raises(Exception, match="a/1.*boom"):
        TransformScript("throw new Error('boom');").apply(["a/1"], [data])


def test_selector_splits_runs_and_counts_what_it_leaves_out():
    from ravenmigrate.records import DocumentRun, Position

    results = [(f"o/{i}", b'{"@metadata":{"@collection":"O"}}', "O" if i % 3 else "P", "2020-01-01T00:00:00.0000000Z",
                None, None) for i in range(7)]
    run = DocumentRun(results, Position("f", "Docs", 10, 100), [100 + 10 * i for i in range(7)], 0)
    sel = Selector(Selection(exclude_collections=("p",), id_prefix_map=(("O/", "x/"),)))
    parts = sel.select(run, [run])
    assert [[r[0] for r in p.results] for p in parts] == [["x/1", "x/2"], ["x/4", "x/5"]]
    assert [(p.position.index, p.position.offset, list(p.offsets)) for p in parts] == [
        (11, 110, [110, 120]), (14, 140, [140, 150])]
    assert sel.filtered == {"document (collection)": 3}


ANALYZED = {"Indexes": [{"name": "Users/ByName", "definition": {
    "Name": "Users/ByName", "LockMode": "Unlock", "Map": "from u in docs.Users select new { u.Name }",
    "Maps": ["from u in docs.Users select new { u.Name }"], "Reduce": None, "Indexes": {"Name": "Analyzed"},
    "Stores": {}, "SortOptions": {}, "Analyzers": {"Name": "Lucene.Net.Analysis.Standard.StandardAnalyzer"},
    "Fields": [], "IsMapReduce": False, "IsCompiled": False}}],
    "Docs": [{"Name": "Ann", "@metadata": {"@id": "users/1", "Raven-Entity-Name": "Users",
                                           "Raven-Last-Modified": "2016-08-22T11:23:36.1861726"}}]}


@pytest.mark.server
def test_remove_analyzers_matches_the_servers_option(ravendb, new_database, tmp_path):
    source = tmp_path / "analyzed.json"
    source.write_text(json.dumps(ANALYZED))
    client = RavenClient(ravendb.url)
    kept, reference = new_database("kept"), new_database("ref")
    client.import_file(kept, str(_gzip(source)))
    client.import_file(reference, str(_gzip(source)), smuggler_options(remove_analyzers=True))
    field = read_state(client, kept).indexes["Users/ByName"]["Fields"]["Name"]
    assert field["Analyzer"] == "Lucene.Net.Analysis.Standard.StandardAnalyzer"
    assert read_state(client, reference).indexes["Users/ByName"]["Fields"]["Name"]["Analyzer"] is None
    for transport in ("import", "bulk-insert"):
        db = new_database(transport)
        _load(ravendb.url, db, source, transport, tmp_path, "--remove-analyzers")
        assert _differences(client, reference, db, ignore_last_modified=transport == "bulk-insert") == []
    db = new_database("conv")
    _convert_and_import(client, db, source, tmp_path, "--remove-analyzers")
    assert _differences(client, reference, db) == []


def _gzip(path: Path) -> Path:
    import gzip

    out = path.with_suffix(".ravendump")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


@pytest.mark.server
def test_dry_run_writes_nothing_and_says_what_would_change(ravendb, new_database, tmp_path, capsys):
    source = real(NORTHWIND)
    client = RavenClient(ravendb.url)
    db = new_database("dry")
    _load(ravendb.url, db, source, "import", tmp_path)
    before = client.stats(db)
    report = tmp_path / "dry.json"
    rc = cli.main(["load", str(source), "--url", ravendb.url, "-d", db, "--dry-run", "--report", str(report),
                   "--exclude-collections", "Shippers"])
    assert rc == 0 and "nothing was written" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["would"] == {"create_database": False, "enable_revisions": False, "create_documents": 0,
                               "change_documents": 1059 - 4, "delete_documents": 0, "create_indexes": 0,
                               "change_indexes": 3, "set_identities": 0}
    assert result["filtered"] == {"document (collection)": 4}
    assert not Path(str(report) + ".checkpoint").exists()
    after = client.stats(db)
    assert {k: after[k] for k in ("CountOfDocuments", "LastDocEtag")} == {k: before[k] for k in ("CountOfDocuments",
                                                                                                  "LastDocEtag")}
    fresh = "never-" + db
    rc = cli.main(["load", str(source), "--url", ravendb.url, "-d", fresh, "--create", "--dry-run", "--report",
                   str(report)])
    assert rc == 0 and json.loads(report.read_text())["would"]["create_documents"] == 1059
    assert json.loads(report.read_text())["would"]["create_database"] is True
    assert fresh not in client.database_names()
    assert cli.main(["load", str(source), "--url", ravendb.url, "-d", fresh, "--dry-run"]) == 1

    out = tmp_path / "never.ravendbdump"
    assert cli.main(["convert", str(source), "-o", str(out), "--dry-run", "--report", str(report)]) == 0
    assert not out.exists() and json.loads(report.read_text())["counts"]["documents"] == 1059


def test_inspect_predicts_what_the_options_keep(capsys):
    assert cli.main(["inspect", str(real(NORTHWIND)), "--collections", "Orders", "--types", "documents",
                     "--json"]) == 0
    prediction = json.loads(capsys.readouterr().out)["prediction"]
    assert prediction["counts"] == {"documents": 831, "revisions": 0, "attachments": 0, "deletions": 0,
                                    "indexes": 0, "identities": 0}
    assert prediction["collections"] == {"Orders": 830, "@hilo": 1}


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_types_leave_out_legacy_attachments_and_rate_limits_hold(ravendb, new_database, tmp_path, transport):
    """The server imports legacy attachments whatever OperateOnTypes says (§2): --types leaves them out
    on our side; --rate-limit and --max-mb-per-s make the load wait."""
    client = RavenClient(ravendb.url)
    db = new_database("types")
    report = _load(ravendb.url, db, real("Periodic_full_3.5.ravendump"), transport, tmp_path,
                   "--types", "documents,indexes,identities,deletions")
    stats = client.stats(db)
    assert stats["CountOfAttachments"] == 0 and report["filtered"] == {"attachment (--types)": 5}
    assert not [d for d in read_state(client, db).documents if d.startswith("files/")]
    assert report["timings"]["throttled_s"] == 0
    limited = new_database("rate")
    report = _load(ravendb.url, limited, real(NORTHWIND), transport, tmp_path, "--rate-limit", "1000",
                   "--max-mb-per-s", "0.5")
    c = report["counts"]
    assert c["documents"] == 1059 and report["timings"]["throttled_s"] > 0
    # never faster than the budget allows (at most one second of carried-over budget)
    assert report["timings"]["total_s"] >= max(c["documents_sent"] / 1000, c["bytes_sent"] / 0.5e6) - 1.0


def test_transform_marks_unchanged_parts_and_keeps_nul_documents_exact():
    """The engine marks unchanged values; a document holding a NUL escape takes the unmarked path."""
    script = TransformScript("if (this.A) { this.A.y = 2; }")
    same = b'{"N":1.50,"@metadata":{"@collection":"X"}}'
    changed = b'{"A":{"x":14.0,"s":"t"},"L":[1.0,{"k":2.0}],"@metadata":{"@collection":"X"}}'
    nul = b'{"A":{"x":14.0,"s":"\\u0000"},"@metadata":{"@collection":"X"}}'
    out = script.apply(["a", "b"], [same, changed])
    assert out[0] is same
    assert out[1] == b'{"A":{"x":14.0,"s":"t","y":2},"L":[1.0,{"k":2.0}],"@metadata":{"@collection":"X"}}'
    assert script.apply(["c"], [nul]) == [b'{"A":{"x":14.0,"s":"\\u0000","y":2},"@metadata":{"@collection":"X"}}']


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_verify_takes_the_loads_options(ravendb, new_database, tmp_path, capsys, transport):
    script = tmp_path / "transform.js"
    script.write_text(RENAME_AND_DROP)
    options = ["--exclude-collections", "Orders", "--transform-script", str(script), "--id-prefix-map",
               "companies/=firms/"]
    db = new_database("ver")
    _load(ravendb.url, db, real(NORTHWIND), transport, tmp_path, *options)
    capsys.readouterr()
    args = ["verify", str(real(NORTHWIND)), "--url", ravendb.url, "-d", db, "--transport", transport, "--json"]
    assert cli.main([*args, *options]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"]["found"] == 1059 - 830 - 1 - 9 and result["documents"]["different"] == 0
    assert cli.main(args) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["documents"]["missing"] == 830 + 1 + 9 + 91 and result["documents"]["extra"] == 91


@pytest.mark.server
@pytest.mark.slow
def test_resume_refuses_other_selection_options(ravendb, new_database, tmp_path, capsys):
    db = new_database("resume")
    _load(ravendb.url, db, real(NORTHWIND), "import", tmp_path, "--collections", "Orders")
    report = tmp_path / f"{db}.json"
    args = ["load", str(real(NORTHWIND)), "--url", ravendb.url, "-d", db, "--report", str(report), "--resume", "-q"]
    assert cli.main([*args, "--collections", "Companies"]) == 1
    assert "other options of what to migrate" in capsys.readouterr().err
    assert cli.main([*args, "--collections", "Orders"]) == 0


@pytest.mark.server
@pytest.mark.slow
def test_transform_script_on_legacy_revisions_where_the_server_faults(ravendb, new_database, tmp_path):
    """RavenDB 4.1's own import faults on legacy revisions when a TransformScript is set (the patched
    document loses its change vector: NullReferenceException in RevisionsStorage.Put); ravenmigrate
    patches them and keeps their RV: change vectors, the same through the import transport and convert."""
    from ravenmigrate.errors import ServerError

    source = real("Revisions_3.5.35220.ravendump")
    code = "this.Patched = true;"
    script = tmp_path / "patch.js"
    script.write_text(code)
    client = RavenClient(ravendb.url)
    config = {"Default": {"Disabled": False}, "Collections": {}}
    server, via_import, via_convert = new_database("srv"), new_database("imp"), new_database("conv")
    for db in (server, via_convert):
        client.json("POST", f"/databases/{db}/admin/revisions/config", config)
    with pytest.raises(ServerError, match="NullReferenceException"):
        client.import_file(server, str(source), {**DEFAULT_IMPORT_OPTIONS, "TransformScript": code})
    _load(ravendb.url, via_import, source, "import", tmp_path, "--transform-script", str(script))
    _convert_and_import(client, via_convert, source, tmp_path, "--transform-script", str(script))
    state = read_state(client, via_import)
    revisions = state.revisions["users/1"]
    assert [r["@metadata"]["@change-vector"] for r in revisions] == [
        f"RV:{n}-AAAAAQAAAQAAAAAAAAAAAw" for n in (4, 3, 2, 1)]
    assert all(r["Patched"] is True for r in revisions) and state.documents["users/1"]["Patched"] is True
    assert _differences(client, via_import, via_convert) == []
