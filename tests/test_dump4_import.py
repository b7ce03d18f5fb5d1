"""Importing a converted 4.x dump gives the same database as importing the 3.x original (real server).

Both files go through the server's own ``/smuggler/import`` and the databases are compared with
:mod:`ravenmigrate.verify.compare`. The converter runs with ``server_quirks=True``, so the expected
result is exactly the server's legacy import (the default mode's deliberate differences are those
of docs/deviations.md and are the converter's own tests' business).
"""

from __future__ import annotations

import gzip
import sys
import urllib.parse
from pathlib import Path

import pytest
from conftest import GIVEN_DUMP, real
from edge_dump import write as write_edge_dump

from ravenmigrate.convert import ConvertOptions
from ravenmigrate.sinks.dump4 import layout as layout4
from ravenmigrate.sinks.dump4.convert import Dump4Options, convert_to_dump4
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.verify.compare import diff, read_state

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

pytestmark = pytest.mark.server

REVISIONS_CONFIG = {"Default": {"Disabled": False}, "Collections": {}}
QUIRKS = ConvertOptions(server_quirks=True, rewrite_indexes=False)  # exactly what the server imports


def _original_body(path) -> list[bytes]:
    """The 3.x file as the import's file part: the server gunzips every part, so plain JSON is gzipped."""
    data = path.read_bytes()
    return [data if data[:2] == b"\x1f\x8b" else gzip.compress(data, 1)]


def _server_now_ids(paths) -> set[str]:
    """Documents whose last-modified is the import's "now" in both databases: no value in the dump,
    and the ``files/{Key}`` documents the server builds from legacy attachments (§6)."""
    ids = set()
    for path in paths:
        for e in layout4.read(path).elements():
            if e.section == "Attachments":
                ids.add("files/" + e.value["Key"])
            elif e.section == "Docs" and e.stream is None and "@last-modified" not in e.value["@metadata"]:
                ids.add(e.value["@metadata"]["@id"])
    return ids


def _import_and_compare(ravendb, new_database, originals, out_files, revisions: bool,
                        imported: str | None = None) -> list[str]:
    """Import the 3.x file(s) *originals* into A (or take *imported*, a database the server already
    imported them into) and our dump file(s) into B; the differences."""
    client = RavenClient(ravendb.url, timeout=1800)  # 658 indexes take minutes to create
    try:
        original, converted = imported or new_database("orig"), new_database("conv")
        if revisions:
            for db in (original, converted):
                client.json("POST", f"/databases/{urllib.parse.quote(db)}/admin/revisions/config", REVISIONS_CONFIG)
        for part in originals if imported is None else ():
            client.smuggler_import(original, _original_body(Path(part)))
        for path in out_files:
            client.import_file(converted, str(path))
        a, b = read_state(client, original), read_state(client, converted)
        assert a.documents or a.indexes
        comparison = diff(a, b, ignore_last_modified=_server_now_ids(out_files))
        assert sum(comparison.counts.values()) > 0
        return [str(d) for d in comparison.differences]
    finally:
        client.close()


CASES = [
    ("Northwind_3.5.35168.ravendump", False),
    ("Revisions_3.5.35220.ravendump", True),
    ("Periodic_full_3.5.ravendump", True),
    ("Northwind_2.5.dump", False),
    ("Sandbox_2.0.ravendump", False),
    ("MvcMusicStore_2.0.json", False),
    pytest.param(GIVEN_DUMP, False, marks=[pytest.mark.slow, pytest.mark.given_dump]),
]


@pytest.mark.parametrize("name, revisions", CASES)
def test_converted_dump_imports_like_the_original(request, ravendb, new_database, tmp_path, name, revisions):
    source = real(name)
    out = tmp_path / "out.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(convert=QUIRKS))
    assert report["status"] == "completed"
    assert layout4.read(out).build_version == 40
    # the given dump's server import is made once per session (conftest.given_dump_imported)
    imported = request.getfixturevalue("given_dump_imported").database if name == GIVEN_DUMP else None
    assert _import_and_compare(ravendb, new_database, [source], [out], revisions, imported) == []


def test_every_conversion_rule_imports_like_the_original(ravendb, new_database, tmp_path):
    """The hand-written 3.x dump exercising every rule of target-4x.md §3-§8 (tests/edge_dump.py)."""
    source = write_edge_dump(tmp_path / "edge.ravendump")
    out = tmp_path / "edge.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(convert=QUIRKS))
    assert report["counts"]["attachments"] >= 2 and report["counts"]["deletions"] >= 2
    assert _import_and_compare(ravendb, new_database, [source], [out], True) == []


def test_split_parts_import_like_one_file(ravendb, new_database, tmp_path):
    source = write_edge_dump(tmp_path / "edge.ravendump")
    out = tmp_path / "p.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(split_size=1500, level=0, convert=QUIRKS))
    parts = [o["path"] for o in report["outputs"]]
    assert len(parts) >= 3 and parts[0].endswith("p.001.ravendbdump") and not out.exists()
    assert all(layout4.read(p).build_version == 40 for p in parts)
    assert _import_and_compare(ravendb, new_database, [source], parts, True) == []


GENERATED = [
    ("every-rule", dict(docs=200, attachments=7, deletions=12, revisions=3, nested_metadata=True, expiration=True,
                        unicode_ids=True, last_modified_formats=True, integer_identities=True), True),
    ("split-export", dict(docs=300, attachments=3, split_mb=0.01), False),
]


@pytest.mark.parametrize("name, options, revisions", GENERATED, ids=[g[0] for g in GENERATED])
def test_generated_variants_import_like_the_original(ravendb, new_database, tmp_path, name, options, revisions):
    source = tmp_path / f"{name}.ravendump"
    files = generate.generate(source, **options)["files"]
    out = tmp_path / f"{name}.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(convert=QUIRKS))
    assert report["counts"]["documents"] > 50 and (len(files) > 1) == ("split_mb" in options)
    assert _import_and_compare(ravendb, new_database, files, [out], revisions) == []


@pytest.mark.parametrize("name", ["Periodic_full_3.5.ravendump", "edge"])
def test_attachment_streams_import(ravendb, new_database, tmp_path, name):
    """V4 attachment streams (§11 framing) import too; they differ from the legacy import only where
    the V4 reader rewrites ``@legacy-attachment-metadata`` (why the hybrid layout is the default)."""
    source = write_edge_dump(tmp_path / "edge.ravendump") if name == "edge" else real(name)
    out = tmp_path / "streams.ravendbdump"
    convert_to_dump4(source, out, Dump4Options(attachments="stream", convert=QUIRKS))
    assert any(e.stream is not None for e in layout4.read(out).elements())
    differences = _import_and_compare(ravendb, new_database, [source], [out], True)
    stripped = [d for d in differences if d.startswith("metadata 'files/images/1.png.@legacy-attachment-metadata'")]
    if name == "edge":  # its 3.x metadata has Raven-Replication-Version, Last-Modified, Raven-Entity-Name ...
        assert len(stripped) == 1 and '"Nested": {"@collection": "N"}' in stripped[0]
    # everything else equal (the revisions of that document differ with its metadata)
    assert [d for d in differences if d not in stripped and "'files/images/1.png@auto:" not in d] == []
