"""The Voron tables of every schema version RavenDB 3.0-3.5 writes (docs/voron.md "Variations of the tables between 3.0 and 3.5"):
stores built with ``fixtures/voron_builder.py`` as each version lays them out read the same records; a
version no 3.x writer produces is refused naming it; a store without one is read with a warning."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from ravenmigrate import cli
from ravenmigrate.errors import UnsupportedSource
from ravenmigrate.sources.voron.source import VoronSource
from ravenmigrate.sources.voron.tables import SCHEMA_VERSIONS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import voron_builder  # noqa: E402

DOCS = [("users/1", b'{"Name":"Ann"}', {"Raven-Entity-Name": "Users"}),
        ("Orders/1", b'{"Total":12.5}', {"Raven-Entity-Name": "Orders"})]


def _records(dest: Path) -> tuple[list[tuple[str, bytes]], VoronSource]:
    src = VoronSource(dest)
    try:
        out = [(r.id, r.data) for r in src.records() if r.position.section == "Docs"]
    finally:
        src.close()
    return out, src


def _other_trees(version: str) -> dict[str, list[tuple[bytes, bytes]]]:
    """The other tables as *version* leaves them: before 1.2 (From11To12) indexing_stats rows are JSON,
    from 1.2 on structures; every version has the same tree names."""
    trees: dict[str, list[tuple[bytes, bytes]]] = {name: [] for name in voron_builder.OTHER_TREES}
    if version in ("1.0", "1.1"):
        trees["indexing_stats"] = [(b"\x00\x00\x00\x01", json.dumps({"index": 1, "attempts": 3}).encode())]
    else:
        trees["indexing_stats"] = [(b"\x00\x00\x00\x01", struct.pack("<iiiiqq", 1, 3, 3, 0, 0, 0))]
    return trees


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_3x_schema_version_reads_the_same_documents(tmp_path, version):
    base = tmp_path / "base"
    voron_builder.database(base, DOCS, schema_version="1.5")
    expected, _ = _records(base)
    dest = tmp_path / version
    voron_builder.database(dest, DOCS, schema_version=version, extra_trees=_other_trees(version))
    got, src = _records(dest)
    assert got == expected and [i for i, _ in got] == ["Orders/1", "users/1"]
    assert src.info["details"]["schema_version"] == version
    assert not [w for w in src.warnings if "schema" in w]


@pytest.mark.parametrize("leftover", ["Temp_indexing_stats", "temp_lists_by_name"])
def test_trees_left_by_an_interrupted_schema_update_are_ignored(tmp_path, leftover):
    """From11To12 copies a table into ``Temp_<table>``, From13To14/From14To15 a multi-tree into
    ``temp_<tree>``, and rename it over the original at the end; a crash in between leaves both."""
    trees = _other_trees("1.1")
    trees[leftover] = [(b"k", b"v")]
    dest = tmp_path / "store"
    voron_builder.database(dest, DOCS, schema_version="1.1", extra_trees=trees)
    got, _ = _records(dest)
    assert [i for i, _ in got] == ["Orders/1", "users/1"]


@pytest.mark.parametrize("version", ["1.6", "2.0", "0.9"])
def test_a_schema_version_no_3x_writer_produces_is_refused_naming_it(tmp_path, capsys, version):
    dest = tmp_path / "store"
    voron_builder.database(dest, DOCS, schema_version=version)
    with pytest.raises(UnsupportedSource, match=f"schema version '{version}'.*details"):
        _records(dest)
    capsys.readouterr()
    assert cli.main(["inspect", str(dest)]) == 1
    err = capsys.readouterr().err
    assert str(dest) in err and f"schema version '{version}'" in err and "1.0, 1.1" in err, err
    assert "Traceback" not in err


def test_a_store_without_a_schema_version_is_read_with_a_warning(tmp_path):
    dest = tmp_path / "store"
    voron_builder.database(dest, DOCS, schema_version=None)
    got, src = _records(dest)
    assert [i for i, _ in got] == ["Orders/1", "users/1"]
    assert any("schema_version" in w for w in src.warnings), src.warnings


def test_keys_as_3x_writes_them_non_ascii_and_up_to_the_node_limit(tmp_path):
    """Keys are ``ToLower(InvariantCulture)`` ids as UTF-8 (StorageActionsBase.CreateKey); a key may be
    as long as a Voron node allows (3.5's TableBase.AssertKey: AbstractPager.GetMaxKeySize, about
    2,000 bytes for 4 KB pages); the original-case id comes from the metadata row."""
    long_id = "Straße/" + "Ü" * 990  # 1,988 bytes of UTF-8 as a key
    docs = [("Ürün/1", b'{"N":1}', {}), (long_id, b'{"N":2}', {})]
    dest = tmp_path / "store"
    voron_builder.database(dest, docs)
    got, _ = _records(dest)
    assert sorted(i for i, _ in got) == sorted([long_id, "Ürün/1"])
    assert len(long_id.lower().encode()) == 1988
