"""Importing a converted 4.x dump gives the same database as importing the 3.x original (real server).

Both files go through the server's own ``/smuggler/import``; the converter runs with
``server_quirks=True`` so the expected result is exactly the server's legacy import (the
default mode's deliberate differences are those of docs/deviations.md).
"""

from __future__ import annotations

import datetime as _dt
import gzip
import urllib.parse

import pytest
from conftest import real
from dump4_snapshot import differences, snapshot

from ravenmigrate import layout4
from ravenmigrate.client import RavenClient
from ravenmigrate.convert import ConvertOptions
from ravenmigrate.sinks.dump4_convert import Dump4Options, convert_to_dump4

pytestmark = pytest.mark.server

REVISIONS_CONFIG = {"Default": {"Disabled": False}, "Collections": {}}


def _original_body(path) -> list[bytes]:
    """The 3.x file as the import's file part: the server gunzips every part, so plain JSON is gzipped."""
    data = path.read_bytes()
    return [data if data[:2] == b"\x1f\x8b" else gzip.compress(data, 1)]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _import_both(ravendb, new_database, source, out_files, revisions: bool) -> tuple[dict, dict]:
    client = RavenClient(ravendb.url)
    since = _now()
    original, converted = new_database("orig"), new_database("conv")
    for db in (original, converted):
        if revisions:
            client.json("POST", f"/databases/{urllib.parse.quote(db)}/admin/revisions/config", REVISIONS_CONFIG)
    client.smuggler_import(original, _original_body(source))
    for path in out_files:
        client.import_file(converted, str(path))
    try:
        return snapshot(client, original, since), snapshot(client, converted, since)
    finally:
        client.close()


CASES = [
    ("Northwind_3.5.35168.ravendump", False),
    ("Revisions_3.5.35220.ravendump", True),
    ("Periodic_full_3.5.ravendump", True),
    ("Northwind_2.5.dump", False),
    ("Sandbox_2.0.ravendump", False),
    ("MvcMusicStore_2.0.json", False),
    pytest.param("Indexes_And_Transformers_3.5.ravendump", False, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name, revisions", CASES)
def test_converted_dump_imports_like_the_original(ravendb, new_database, tmp_path, name, revisions):
    source = real(name)
    out = tmp_path / "out.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(convert=ConvertOptions(server_quirks=True)))
    assert report["status"] == "completed"
    assert layout4.read(out).build_version == 40
    a, b = _import_both(ravendb, new_database, source, [out], revisions)
    assert a["stats"]["CountOfDocuments"] + a["stats"]["CountOfIndexes"] > 0
    assert differences(a, b) == []


def test_split_parts_import_like_one_file(ravendb, new_database, tmp_path):
    source = real("Periodic_full_3.5.ravendump")
    out = tmp_path / "p.ravendbdump"
    report = convert_to_dump4(source, out, Dump4Options(split_size=2000, level=0,
                                                        convert=ConvertOptions(server_quirks=True)))
    parts = [o["path"] for o in report["outputs"]]
    assert len(parts) >= 2 and parts[0].endswith("p.001.ravendbdump") and not out.exists()
    assert all(layout4.read(p).build_version == 40 for p in parts)
    a, b = _import_both(ravendb, new_database, source, parts, True)
    assert differences(a, b) == []
