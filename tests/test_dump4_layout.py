"""Our 4.x dumps and the real 4.0 export, read with the same reader: same layout and record shapes."""

from __future__ import annotations

from collections import defaultdict

import pytest
from conftest import real
from edge_dump import write as write_edge_dump

from ravenmigrate.sinks.dump4 import layout as layout4
from ravenmigrate.sinks.dump4.convert import Dump4Options, convert_to_dump4


@pytest.fixture(scope="module")
def reference() -> layout4.Dump4:
    return layout4.read(real("Northwind_4.0.ravendbdump"))


def shapes(dump: layout4.Dump4) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = defaultdict(set)
    for element in dump.elements():
        out[element.section].add(layout4.shape(element))
    return out


SECTIONS_4X = ("DatabaseRecord", "Docs", "RevisionDocuments", "Tombstones", "Conflicts", "Indexes", "Identities",
               "CompareExchange", "Counters", "Attachments", "DocsDeletions", "AttachmentsDeletions")
"""Top-level names the 4.x reader processes (target-4x.md §2); the last three are the legacy ones."""


def test_real_4x_export_reads_as_expected(reference):
    assert reference.build_version == 40
    assert layout4.layout(reference) == [("BuildVersion", 1), ("Docs", 1076), ("RevisionDocuments", 3815),
                                         ("Conflicts", 0), ("Indexes", 3), ("Identities", 0)]
    streams = [e for e in reference.elements() if e.stream is not None]
    assert len(streams) == 17 and all(len(e.stream) == e.value["Size"] for e in streams)
    assert all(e.stream[:4] == b"\x89PNG" for e in streams)


@pytest.mark.parametrize("name, attachments", [
    ("Northwind_3.5.35168.ravendump", "legacy"),
    ("Revisions_3.5.35220.ravendump", "legacy"),
    ("edge", "stream"),
])
def test_converted_dump_has_the_layout_and_shapes_of_a_real_4x_export(reference, tmp_path, name, attachments):
    source = write_edge_dump(tmp_path / "edge.ravendump") if name == "edge" else real(name)
    out = tmp_path / "out.ravendbdump"
    convert_to_dump4(source, out, Dump4Options(attachments=attachments))
    ours = layout4.read(out)
    assert ours.build_version == reference.build_version
    assert ours.sections[0][0] == "BuildVersion"
    # then arrays under section names the 4.x reader knows (§2), in source order (sections may repeat)
    assert all(isinstance(v, list) and n in SECTIONS_4X for n, v in ours.sections[1:])
    assert all(isinstance(v, list) and n in SECTIONS_4X for n, v in reference.sections[1:])
    ours_shapes, real_shapes = shapes(ours), shapes(reference)
    compared = 0
    for section, found in ours_shapes.items():
        if real_shapes.get(section):
            assert found <= real_shapes[section], (section, found - real_shapes[section])
            compared += len(found)
    assert compared > 0
    if attachments == "stream":
        assert ("attachment stream", ("@metadata", "Hash", "Size", "Tag"), "raw bytes = Size") in ours_shapes["Docs"]


def test_legacy_sections_kept_in_the_hybrid_layout(tmp_path):
    """§11.1: legacy attachments and deletions stay in the legacy sections the V4 reader accepts."""
    out = tmp_path / "edge.ravendbdump"
    convert_to_dump4(write_edge_dump(tmp_path / "edge.ravendump"), out)
    dump = layout4.read(out)
    names = [n for n, _ in dump.sections]
    assert names[0] == "BuildVersion" and "Attachments" in names and "DocsDeletions" in names
    element = dict(dump.sections)["Attachments"][0].value
    assert set(element) == {"Key", "Metadata", "Data"}
    assert element["Metadata"]["Raven-Replication-Version"] == 7
