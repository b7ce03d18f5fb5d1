"""The differential proof of issue 4: RavenDB 4.x's own import of a 3.x dump (database A) against
ravenmigrate's conversion loaded into database B; any difference not named in docs/deviations.md fails.

Sinks: ``import`` is the load helper's streamed-import transport (``ravenmigrate.sinks.server.loader``);
``v4`` is the tests' own loader (``v4_loader``) that writes our converted documents verbatim
into a 4.x dump, so both the transport and the converted bytes are checked.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pytest
from conftest import GIVEN_DUMP, real
from differential import documented_codes, gzipped, run
from edge_dump import write as write_edge_dump
from edge_dump import write_revisions

from ravenmigrate.commands.inspect import inspect
from ravenmigrate.convert import ConvertOptions
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sources import open_source
from ravenmigrate.verify.compare import diff, read_state

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

pytestmark = pytest.mark.server

REAL_DUMPS = ["Northwind_3.5.35168.ravendump", "Revisions_3.5.35220.ravendump", "Periodic_full_3.5.ravendump",
              "Northwind_2.5.dump", "Sandbox_2.0.ravendump", "MvcMusicStore_2.0.json"]
SINKS = ["import", "v4"]
# Every real dump through both sinks; the pure-twin CI pass (which skips `slow`) keeps the 3.5 ones
# through the load helper's transport, the converter's twins being covered by the edge dumps too.
REAL_CASES = [pytest.param(name, sink, marks=() if sink == "import" and "3.5" in name else pytest.mark.slow)
              for name in REAL_DUMPS for sink in SINKS]


def _check(outcome, name: str, expect_deviations: set[str] | None = None) -> None:
    print(outcome.summary(name))
    for d in outcome.comparison.differences:
        print("   ", d)
    assert not outcome.comparison.failures, "\n".join(map(str, outcome.comparison.failures))
    used = {d.allowed_by for d in outcome.comparison.allowed}
    assert used <= documented_codes(), f"deviations not documented in docs/deviations.md: {used - documented_codes()}"
    if expect_deviations is not None:
        assert used == expect_deviations
    assert outcome.comparison.counts["documents"] > 0 or outcome.comparison.counts["indexes"] > 0


@pytest.mark.parametrize("name,sink", REAL_CASES)
def test_real_dump_matches_server_import(ravendb, new_database, name, sink):
    path = real(name)
    with RavenClient(ravendb.url, timeout=900) as client:
        outcome = run(client, new_database("a"), new_database("b"), path, open_source(str(path)).records(),
                      sink=sink, url=ravendb.url)
    _check(outcome, f"{name} [{sink}]")


@pytest.mark.parametrize("sink,quirks", [("import", False), ("v4", False), ("v4", True)],
                         ids=["import-ours", "v4-ours", "v4-server-quirks"])
def test_edge_dump_matches_server_import(ravendb, new_database, tmp_path, quirks, sink):
    """Every rule of target-4x.md §3-§8 on a hand-written dump; with server_quirks the result is identical."""
    path = write_edge_dump(tmp_path / "edge.ravendump")
    with RavenClient(ravendb.url, timeout=900) as client:
        outcome = run(client, new_database("a"), new_database("b"), path, open_source(str(path)).records(),
                      ConvertOptions(server_quirks=quirks), sink=sink, url=ravendb.url)
    expected = set() if quirks else {"identity-integer", "nested-metadata-id", "last-modified-carry-over",
                                     "last-modified-fff", "index-rewrite"}  # Bad/Load, Bad/Spatial
    _check(outcome, f"edge dump [{sink}, quirks={quirks}]", expected)
    assert outcome.files_checked == 2


@pytest.mark.parametrize("sink", SINKS)
def test_revisions_in_repeated_sections_match_server_import(ravendb, new_database, tmp_path, sink):
    """Legacy revisions in two Docs sections: RV: counters and last-modified carry-over restart per section."""
    path = write_revisions(tmp_path / "revisions.ravendump")
    with RavenClient(ravendb.url, timeout=900) as client:
        outcome = run(client, new_database("a"), new_database("b"), path, open_source(str(path)).records(),
                      sink=sink, url=ravendb.url)
    _check(outcome, f"revisions dump [{sink}]", set())
    assert outcome.comparison.counts["revisions"] == 6


EVERY_RULE = dict(docs=200, attachments=7, deletions=12, revisions=3, nested_metadata=True, expiration=True,
                  unicode_ids=True, last_modified_formats=True, integer_identities=True)
GENERATED = [
    pytest.param("every-rule", EVERY_RULE, "import", id="every-rule-import"),
    pytest.param("every-rule", EVERY_RULE, "v4", id="every-rule-v4", marks=pytest.mark.slow),
    pytest.param("split-export", dict(docs=300, attachments=3, split_mb=0.01), "v4", id="split-export-v4",
                 marks=pytest.mark.slow),
    pytest.param("no-hilo-no-system", dict(docs=100, hilo=False, system_docs=False), "import",
                 id="no-hilo-no-system-import"),
]


@pytest.mark.parametrize("name,options,sink", GENERATED)
def test_generated_variant_matches_server_import(ravendb, new_database, tmp_path, name, options, sink):
    """fixtures/generate.py variants (attachments, deletions, revisions, hilo, system documents, nested
    metadata, expiration, unicode ids, every Last-Modified shape, integer identities, split exports)."""
    source = tmp_path / f"{name}.ravendump"
    files = [Path(f) for f in generate.generate(source, **options)["files"]]
    assert (len(files) > 1) == ("split_mb" in options)
    with RavenClient(ravendb.url, timeout=900) as client:
        outcome = run(client, new_database("a"), new_database("b"), files, open_source(str(source)).records(),
                      sink=sink, url=ravendb.url)
    _check(outcome, f"generated {name} [{sink}]")
    assert outcome.comparison.counts["documents"] >= 100


def test_comparison_catches_a_changed_document(ravendb, new_database):
    """The proof can fail: one changed metadata key in B is a failure, not an allowed deviation."""
    path = real("Periodic_full_3.5.ravendump")
    with RavenClient(ravendb.url, timeout=900) as client:
        a, b = new_database("a"), new_database("b")
        run(client, a, b, path, open_source(str(path)).records(), sink="v4", url=ravendb.url)
        doc = client.get_document(b, "employees/3")
        doc["@metadata"]["Raven-Clr-Type"] = "Changed"
        client.put_document(b, "employees/3", doc)
        comparison = diff(read_state(client, a), read_state(client, b), ignore_last_modified=True)
    assert [(d.kind, d.key) for d in comparison.failures] == [("metadata", "employees/3.Raven-Clr-Type")]


@pytest.mark.slow
def test_index_report_agrees_with_server(ravendb, new_database, given_dump_imported):
    """Indexes_And_Transformers_3.5 (658 indexes): the report's prediction against what 4.1 really did,
    and the differential comparison of the resulting index definitions (A: the session's server import)."""
    path = real(GIVEN_DUMP)
    records = list(open_source(str(path)).records())
    predicted = inspect(str(path), index_rewrite=False)["indexes"]["indexes"]  # the server imports them untouched
    with RavenClient(ravendb.url, timeout=1800) as client:
        a, b, result = given_dump_imported.database, new_database("b"), given_dump_imported.result
        messages = "\n".join(result.get("Messages") or [])
        definitions = client.json("GET", f"/databases/{a}/indexes?start=0&pageSize=4096")["Results"]
        created = {d["Name"] for d in definitions}
        errored = set(re.findall(r"Could not write index '([^']+)'", messages))
        errored |= set(re.findall(r"Could not read index definition[^']*'([^']+)'", messages))
        skipped = set(re.findall(r"Skipped '([^']+)' index", messages))
        agree = 0
        counts = {"create": 0, "skip": 0, "reject": 0}
        for o in predicted:
            actual = ("create" if (o["target"] or o["name"]) in created else "skip" if o["name"] in skipped
                      else "reject" if o["name"] in errored or o["target"] in errored else "unknown")
            agree += actual == o["outcome"]
            counts[o["outcome"]] += 1
        ratio = agree / len(predicted)
        print(f"index report predicted {counts}; server created {len(created)}, errored "
              f"{result['Indexes']['ErroredCount']}, skipped {len(skipped)}; agreement {agree}/"
              f"{len(predicted)} = {ratio:.1%}")
        assert len(predicted) == result["Indexes"]["ReadCount"] == 658
        assert ratio >= 0.95
        outcome = run(client, a, b, path, records, ConvertOptions(rewrite_indexes=False), sink="v4",
                      url=ravendb.url, imported_a=True)
    _check(outcome, "Indexes_And_Transformers_3.5.ravendump [v4]")
    assert outcome.comparison.counts["indexes"] == len(created)


def test_plain_json_dump_is_gzipped_for_the_server(tmp_path):
    """The server gunzips every file part (§2), so plain-JSON sources are compressed first."""
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"Docs": []}))
    assert gzip.decompress(gzipped(Path(plain))) == plain.read_bytes()
