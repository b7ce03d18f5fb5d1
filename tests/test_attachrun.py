"""The ``attachrun`` lane (common attachments read and written as legacy elements in one pass)
changes nothing.

For every real dump, generated variants and a dump of hand-made edge attachments: the 4.x dump
written from ``AttachmentRun`` records equals, byte for byte, the one written through the general
path (reader ``Attachment`` -> converter ``files/{Key}`` + ``AttachmentPut4`` -> legacy element),
with the same counts, era and findings; a damaged attachment gives the same located error. Both
twins, and native == pure on every item.
"""

from __future__ import annotations

import base64
import gzip
import io
import sys
import zlib
from pathlib import Path

import pytest
import twins
from conftest import real
from test_docrun import REAL

from ravenmigrate.convert import Converter, attachrun
from ravenmigrate.errors import SourceError
from ravenmigrate.records import AttachmentRun
from ravenmigrate.sinks.dump4.convert import Dump4Options, convert_to_dump4
from ravenmigrate.sinks.dump4.writer import Dump4Writer
from ravenmigrate.sources import open_source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

native = twins.native("attachrun")

B64 = base64.b64encode(bytes(range(256)) * 3 + b"ab").decode()  # 770 bytes: one '=' of padding
META = '{"Content-Type": "image/png", "Raven-Replication-Version": 7, "Flag": true, "None": null, "Z": 0}'
# Each line one attachment record; the lane must either write it exactly like the general path or leave it.
EDGE = [
    '{"Data": "' + B64 + '", "Metadata": ' + META + ', "Key": "images/1.png", "Etag": "01000000-0000-0001-0000-000000000001"}',
    '{"Key": "k/2", "Etag": null, "Metadata": {}, "Data": ""}',
    '{"Metadata": {"A": "x"}, "Data": "QQ==", "Key": "k/3"}',
    '{"Data": "QUI=", "Metadata": {"A": -12}, "Key": "k/4", "Etag": "e"}',
    '{\r\n  "Data": "QUJD",\r\n\t"Metadata": {\r\n    "A": "b"\r\n  },\r\n  "Key": "k/5"\r\n}',
    '{"Data": "QR==", "Metadata": {}, "Key": "k/6"}',  # not canonical: the unused bits are not zero
    '{"Data": "QUJ=", "Metadata": {}, "Key": "k/7"}',
    '{"Data": "QU\\/D", "Metadata": {}, "Key": "k/8"}',
    '{"Data": "QUJD", "Metadata": {"A": 1.5}, "Key": "k/9"}',
    '{"Data": "QUJD", "Metadata": {"A": -0}, "Key": "k/10"}',
    '{"Data": "QUJD", "Metadata": {"A": 1234567890123456789}, "Key": "k/11"}',
    '{"Data": "QUJD", "Metadata": {"A": {"B": 1}}, "Key": "k/12"}',
    '{"Data": "QUJD", "Metadata": {"A": [1]}, "Key": "k/13"}',
    '{"Data": "QUJD", "Metadata": {"A": "x}y"}, "Key": "k/14"}',
    '{"Data": "QUJD", "Metadata": {"A": 1, "A": 2}, "Key": "k/15"}',
    '{"Data": "QUJD", "Metadata": {"A": 1, "a": 2}, "Key": "k/16"}',
    '{"Data": "QUJD", "Metadata": {"Raven-Delete-Marker": true}, "Key": "k/17"}',
    '{"Data": "QUJD", "Metadata": {"raven-delete-marker": false}, "Key": "k/18"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/19.deleting"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/20.downloading"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k\\"21"}',
    '{"Data": "QUJD", "Metadata": {"A": "\\u00e9"}, "Key": "k/22"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/23", "Key": "k/23b"}',
    '{"Data": "QUJD", "Metadata": {}, "key": "k/24"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/25", "Other": 1}',
    '{"Data": "QUJD", "Metadata": null, "Key": "k/26"}',
    '{"Data": null, "Metadata": {}, "Key": "k/27"}',
    "{'Data': 'QUJD', 'Metadata': {}, 'Key': 'k/29'}",
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/30",}',
    '{"Data": "QUJD", /* c */ "Metadata": {}, "Key": "k/31"}',
    '{"Data": "QUJD", "Metadata": {"K\u00e9": "v\u00e9"}, "Key": "\u00e9t\u00e9/32"}',
    '{"Data": "QUJD", "Metadata": {' + ", ".join(f'"m{i}": {i}' for i in range(64)) + '}, "Key": "k/35"}',
    '{"Data": "QUJD", "Metadata": {' + ", ".join(f'"m{i}": {i}' for i in range(65)) + '}, "Key": "k/36"}',
    '{"Data": "QUJD", "Metadata": {"A": "x\\ty"}, "Key": "k/37"}',
    '{"Data": "QUJDRA==", "Metadata": {"Content-Type": ""}, "Key": "k/38"}',
]
# Attachment records the general path rejects: the same located error with and without runs.
ERRORS = [
    '{"Data": "QUJD!", "Metadata": {}, "Key": "k/e1"}',
    '{"Data": "QUJD", "Metadata": [], "Key": "k/e2"}',
    '{"Data": "QUJD", "Metadata": {}, "Key": "k/e3", "Etag": 5}',
    '{"Data": "QUJD", "Metadata": {}}',
    '{"Data": "QUJD", "Metadata": {"A": true}, "Key": 33}',
]


def attachment_dump(path: Path, records: list[str]) -> Path:
    body = ('{\r\n  "Docs": [],\r\n  "Attachments": [\r\n' + ",\r\n".join(records) + '\r\n  ],\r\n'
            '  "Indexes": [],\r\n  "Transformers": [],\r\n  "Identities": []\r\n}')
    path.write_bytes(gzip.compress(body.encode("utf-8")))
    return path


def dump_of(path: Path, runs: bool) -> tuple:
    src = open_source(path, compact=True, runs=True, attachment_runs=runs)
    converter = Converter()
    out = io.BytesIO()
    writer = Dump4Writer(out, level=1)
    lane = 0
    for record in src.records():
        lane += len(record) if isinstance(record, AttachmentRun) else 0
        for converted in converter.convert(record):
            writer.write(converted)
    stats = writer.close()
    counts = {name: getattr(stats, name) for name in stats.__slots__ if name != "gzip_bytes"}
    return (zlib.decompress(out.getvalue(), 31), counts, src.counts, src.era,
            [(f.code, f.message) for f in src.findings]), lane


def assert_same(path: Path) -> int:
    general, none = dump_of(path, False)
    laned, lane = dump_of(path, True)
    assert none == 0
    assert laned[1:] == general[1:]
    twins.assert_same_bytes(general[0], laned[0])
    return lane


@pytest.fixture(params=twins.TWINS)
def twin(request, monkeypatch):
    import ravenmigrate.sources.reader  # noqa: F401 - registers attachrun

    return twins.use_lane_twin("attachrun", request.param, monkeypatch)


@pytest.mark.parametrize("name", REAL)
def test_real_dumps_same_with_and_without_runs(twin, name):
    assert_same(real(name))


def test_edge_attachments_same_with_and_without_runs(twin, tmp_path):
    lane = assert_same(attachment_dump(tmp_path / "edge.ravendump", EDGE))
    assert lane == 7  # k/1-k/5, the UTF-8 key, the 64-member metadata (k/38, the last, is read on its own)


@pytest.mark.parametrize("bad", ERRORS)
def test_damaged_attachments_same_error_with_and_without_runs(twin, tmp_path, bad):
    path = attachment_dump(tmp_path / "bad.ravendump", [EDGE[0], bad, EDGE[1]])
    errors = []
    for runs in (False, True):
        with pytest.raises(SourceError) as info:
            dump_of(path, runs)
        errors.append(str(info.value))
    assert errors[0] == errors[1]
    assert "Attachments" in errors[0] and "offset" in errors[0]


@pytest.mark.parametrize("opts, laned", [
    ({"attachments": 300, "attachment_bytes": 8192}, 299),  # the section's last one is delimited on its own
    ({"attachments": 40, "attachment_bytes": 1 << 20}, 27),  # and those past the reader's look-ahead
    ({"attachments": 60, "unicode_ids": True, "deletions": 5}, 59),
], ids=["small", "large", "unicode-ids"])
def test_generated_attachments_same_with_and_without_runs(twin, tmp_path, opts, laned):
    path = tmp_path / "gen.ravendump"
    generate.generate(path, generate.Options(docs=20, **opts))
    assert assert_same(path) == laned


def test_twins_agree_on_every_item(tmp_path):
    if native is None:
        pytest.skip("native attachrun twin not built")
    records = [r.encode() for r in EDGE + ERRORS]
    buf = bytearray(b" ".join(records))
    items, at = [], 0
    for r in records:
        items.append((at, at + len(r), -1, -1))
        at += len(r) + 1
    for k in range(len(items)):
        assert native.legacy_run(buf, items, k, k + 1) == attachrun.legacy_run(buf, items, k, k + 1), records[k]
    assert native.legacy_run(buf, items, 0, len(items)) == attachrun.legacy_run(buf, items, 0, len(items))


def test_run_is_bounded(tmp_path):
    one = '{"Data": "' + base64.b64encode(bytes(300_000)).decode() + '", "Metadata": {}, "Key": "k"}'
    buf = bytearray(one.encode() * 5)
    items = [(k * len(one), (k + 1) * len(one), -1, -1) for k in range(5)]
    for twin in twins.params("attachrun"):
        module = twin.values[0]
        if module is None:
            continue
        elements, stop, size, null_etags = module.legacy_run(buf, items, 0, 5)
        assert stop == 3 and size == 900_000 and null_etags == 3  # the run ends past RUN_BYTES (1 MiB)
        assert len(elements) >= attachrun.RUN_BYTES


def test_convert_writes_runs_and_the_same_dump(tmp_path):
    path = tmp_path / "gen.ravendump"
    generate.generate(path, generate.Options(docs=50, attachments=200, attachment_bytes=4096))
    reports = []
    for options in (Dump4Options(), Dump4Options(attachments="legacy", split_size=1 << 40)):
        out = tmp_path / f"out{len(reports)}.ravendbdump"
        reports.append(convert_to_dump4(path, out, options))
    outputs = [gzip.decompress(Path(r["outputs"][0]["path"]).read_bytes()) for r in reports]
    assert outputs[0] == outputs[1]
    assert reports[0]["counts"] == reports[1]["counts"]
    assert reports[0]["counts"]["attachments"] == 200
