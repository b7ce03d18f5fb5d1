"""Large attachment records: the payload of a plain ``"Data"`` string is decoded from the record's
bytes and the rest parsed with a stand-in (``sources.items._plain_data``). The result is the same
``Attachment`` (or the same error) as parsing the whole record, on generated dumps and on records
built to mislead the stand-in."""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path

import pytest

from ravenmigrate.records import Position
from ravenmigrate.sources import items

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

POS = Position("x", "Attachments", 0, 0)
B64 = base64.b64encode(bytes(range(256)) * 40).decode()  # 10 KB of payload: past _PLAIN_FROM
META = '"Metadata": {"Content-Type": "image/png", "Raven-Replication-Version": 3}'
PAD = '"Pad": "' + "x" * 5000 + '"'
RECORDS = {
    "plain": '{"Data": "' + B64 + '", ' + META + ', "Key": "a/1", "Etag": "02000000-0000-0001-0000-000000000001"}',
    "indented": '{\r\n  "Key": "a/2",\r\n  "Data" :\r\n "' + B64 + '",\r\n  ' + META + '\r\n}',
    "nested-first": '{"Metadata": {"Data": "' + B64[:8000] + '"}, "Data": "' + B64 + '", "Key": "n"}',
    "nested-after": '{"Data": "' + B64 + '", "Metadata": {"Data": "QQ=="}, "Key": "n2"}',
    "duplicate-last-wins": '{"Data": "' + B64 + '", "Data": "QUJD", "Metadata": {}, "Key": "d"}',
    "null-then-plain": '{"Data": null, "Data": "' + B64 + '", "Metadata": {}, "Key": "d2"}',
    "other-case-after": '{"Data": "' + B64 + '", "data": "QUJD", "Metadata": {}, "Key": "c"}',
    "lower-case-only": '{"data": "' + B64 + '", "Metadata": {}, "Key": "c2"}',
    "escaped-slash": '{"Data": "' + B64[:-4] + '\\/AAA", "Metadata": {}, "Key": "e"}',
    "stand-in-text": '{"Data": "' + B64 + '", "Metadata": {"N": "\\u0000ravenmigrate:Data"}, "Key": "s"}',
    "forged-stand-in": '{"Metadata": {"Data": "' + B64 + '"}, "Data": "\\u0000ravenmigrate:Dat\\u0061", "Key": "f"}',
    "raw-nul": '{"Data": "' + B64 + '", "Metadata": {"Raw": "a\x00b"}, "Key": "nul"}',
    "data-as-a-value": '{"Key": "Data", "Data": "' + B64 + '", "Metadata": {}}',
    "in-a-comment": '{/* "Data": "QUJD" */ "Data": "' + B64 + '", "Metadata": {}, "Key": "k"}',
    "in-single-quotes": "{'Note': '\"Data\": \"QUJD\"', \"Data\": \"" + B64 + "\", \"Metadata\": {}, \"Key\": \"q\"}",
    "no-data": '{"Metadata": {}, "Key": "none", ' + PAD + '}',
    "bad-padding": '{"Data": "' + B64 + '=", "Metadata": {}, "Key": "p"}',
    "base64-with-space": '{"Data": "' + B64[:100] + ' ' + B64[100:] + '", "Metadata": {}, "Key": "w"}',
    "not-a-string": '{"Data": 5, "Metadata": {}, "Key": "ns", ' + PAD + '}',
    "bad-metadata": '{"Data": "' + B64 + '", "Metadata": [], "Key": "bm"}',
    "no-key": '{"Data": "' + B64 + '", "Metadata": {}}',
}


def outcome(data: bytes, plain: bool) -> tuple | str:
    try:
        a = items.attachment(data, POS, plain)
    except items.ItemError as exc:
        return f"ItemError: {exc}"
    return a.key, a.data, a.metadata, a.etag


@pytest.mark.parametrize("name", RECORDS)
def test_same_attachment_as_parsing_the_whole_record(name):
    data = RECORDS[name].encode("utf-8")
    assert len(data) >= items._PLAIN_FROM
    assert outcome(data, True) == outcome(data, False)


def test_plain_records_take_the_stand_in():
    """The stand-in is taken where it should be (and not where it must not be)."""
    taken = {name for name, record in RECORDS.items() if items._plain_data(record.encode()) is not None}
    # only the first "Data" of a record is tried: where it is not the member that counts, the whole parse
    assert taken == {"plain", "indented", "nested-after", "other-case-after", "bad-metadata", "no-key"}


def test_generated_attachments_same(tmp_path):
    path = tmp_path / "att.ravendump"
    generate.generate(path, docs=50, attachments=60, attachment_bytes=40_000, unicode_ids=True, level=1)
    records = [json.dumps(item, indent=2, ensure_ascii=False).encode()
               for item in json.loads(gzip.decompress(path.read_bytes()))["Attachments"]]
    assert sum(items._plain_data(r) is not None for r in records) > 30
    for data in records:
        assert outcome(data, True) == outcome(data, False)
