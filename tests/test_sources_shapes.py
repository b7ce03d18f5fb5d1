"""Container and shape variants: gzip members, BOMs, repeated sections, lenient JSON, eras by writer."""

from __future__ import annotations

import codecs
import gzip
from decimal import Decimal

import pytest

from ravenmigrate.records import Attachment, Document, Identity, Transformer
from ravenmigrate.sources import open_source


def doc(i: str, etag: str = "01000000-0000-0001-0000-000000000001", lm: str = "2016-08-22T11:23:36.18Z",
        coll: str | None = "Users") -> str:
    ent = f'"Raven-Entity-Name": "{coll}", ' if coll else ""
    return f'{{"N": 1, "@metadata": {{{ent}"@id": "{i}", "@etag": "{etag}", "Last-Modified": "{lm}"}}}}'


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_multi_member_gzip_and_boms(tmp_path):
    text = '{"Docs": [' + doc("users/1") + ", " + doc("users/2") + "]}"
    raw = text.encode()
    members = gzip.compress(raw[:10]) + gzip.compress(raw[10:]) + b"\0" * 8
    for name, data in (("m.gz", members), ("bom.json", codecs.BOM_UTF8 + raw),
                       ("u16.json", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
                       ("u32.json", codecs.BOM_UTF32_BE + text.encode("utf-32-be"))):
        src = open_source(write(tmp_path, name, data))
        assert [r.id for r in src.records()] == ["users/1", "users/2"], name
    with pytest.raises(Exception, match="after the end of a gzip member"):
        list(open_source(write(tmp_path, "junk.gz", gzip.compress(raw) + b"junk")).records())


def test_repeated_sections_stay_in_file_order(tmp_path):
    text = ('{"Docs": [' + doc("a/1") + '], "Attachments": [], "DocsDeletions": [{"Key": "a/0"}], '
            '"Indexes": [], "Transformers": [], "Docs": [' + doc("a/2") + ", " + doc("a/1") + '], '
            '"DocsDeletions": [{"Key": "a/2"}], "Identities": [{"Key": "a/", "Value": "2"}]}')
    src = open_source(write(tmp_path, "r.json", text.encode()))
    recs = list(src.records())
    assert [(type(r).__name__, getattr(r, "id", getattr(r, "key", None))) for r in recs] == [
        ("Document", "a/1"), ("DocumentDeletion", "a/0"), ("Document", "a/2"), ("Document", "a/1"),
        ("DocumentDeletion", "a/2"), ("Identity", "a/")]
    assert [r.position.index for r in recs if isinstance(r, Document)] == [0, 1, 2]
    assert src.counts["Docs"] == 3 and src.counts["DocsDeletions"] == 2


def test_lenient_bodies_and_exact_numbers(tmp_path):
    text = (b"{'Docs': [\n\t{ // comment\n\t\t'Big': 123456789012345678901234567.890, 'N': NaN, 'I': -Infinity,"
            b" 'X': [1, 2,], 'Esc': '\\u00e9\\n', 'Dup': 1, 'Dup': 2,\n"
            b"\t\t'@metadata': {'@id': 'x/1', 'Raven-Entity-Name': 'X', 'V': 1.50,},\n\t},\n],}")
    for compact in (False, True):
        (d,) = open_source(write(tmp_path, "l.json", text), compact=compact).records()
        assert d.id == "x/1" and d.metadata["V"] == Decimal("1.50") and str(d.metadata["V"]) == "1.50"
        a, b = d.metadata_span
        assert d.data[a:b].startswith(b"{") and d.data[a:b].endswith(b"}")
        if compact:
            assert d.data == (b"{'Big':123456789012345678901234567.890,'N':NaN,'I':-Infinity,'X':[1,2],"
                              b"'Esc':'\\u00e9\\n','Dup':1,'Dup':2,'@metadata':{'@id':'x/1',"
                              b"'Raven-Entity-Name':'X','V':1.50}}")


def test_attachment_keys_in_any_order_and_identity_forms(tmp_path):
    text = (b'{"Attachments": [{"Key": "k/1", "Etag": null, "Metadata": {"A": 1}, "Data": "aGVsbG8="},'
            b' {"Data": "", "Metadata": {}, "Key": "k/2"}],'
            b' "Identities": [{"Key": "a/", "Value": 4}, {"Key": "b/", "Value": "9223372036854775807"}],'
            b' "Transformers": [{"Name": "T", "definition": null}]}')
    recs = list(open_source(write(tmp_path, "a.json", text)).records())
    a1, a2, i1, i2, t = recs
    assert isinstance(a1, Attachment) and a1.data == b"hello" and a1.etag is None and a1.metadata == {"A": 1}
    assert a2.data == b"" and a2.etag is None
    assert isinstance(i1, Identity) and (i1.value, i1.value_was_string) == (4, False)
    assert (i2.value, i2.value_was_string) == (2**63 - 1, True)
    assert isinstance(t, Transformer) and t.name == "T"
    with pytest.raises(Exception, match="not valid base64"):
        list(open_source(write(tmp_path, "b.json", b'{"Attachments": [{"Key": "k", "Data": "!!"}]}')).records())


IDX = '{"name": "I", "definition": {"Name": "I", "Map": "m"%s}}'


@pytest.mark.parametrize("text, era", [
    ('{"Indexes": [' + IDX % "" + '], "Docs": [' + doc("a/1", "00000000-0000-0d00-0000-000000000001",
                                                          "2011-01-01T00:00:00.1230000") + "]}", "1.x"),
    ('{"Indexes": [], "Docs": [' + doc("a/1") + '], "Attachments": []}', "2.x"),
    ('{"Indexes": [' + IDX % "" + '], "Docs": [], "Attachments": [], "Transformers": []}', "2.5"),
    ('{"Indexes": [' + IDX % ', "IndexId": 1' + '], "Docs": [' + doc("a/1") + '], "Attachments": [], '
     '"Transformers": [], "Identities": [{"Key": "a/", "Value": 1}]}', "3.0"),
    ('{"Docs": [], "Attachments": [], "Indexes": [' + IDX % ', "IndexId": 1' + '], "Transformers": []}', "3.0"),
    ('{"Docs": [], "Attachments": [], "Indexes": [' + IDX % ', "IndexVersion": 1' + '], "Transformers": []}',
     "3.5"),
    ('{"Indexes": [], "Docs": [' + doc("b/1", "01000000-0000-0001-0000-000000000009") + ", "
     + doc("a/1", "01000000-0000-0001-0000-000000000002") + '], "Attachments": [], "Transformers": [], '
     '"Identities": []}', "StorageExporter"),
    ('{"Indexes": [], "Docs": [], "Transformers": [], "Identities": []}', "StorageExporter"),
    ('{"Attachments": [{"Data": "", "Metadata": {}, "Key": "f.txt", "Etag": null}]}', "StorageExporter"),
])
def test_era_detection(tmp_path, text, era):
    src = open_source(write(tmp_path, "e.json", text.encode()))
    list(src.records())
    assert src.era == era


def test_every_installed_inflater_gives_the_same_bytes(tmp_path):
    import importlib
    import zlib

    from ravenmigrate.sources.stream import ByteStream, inflater

    sample = tmp_path.parent / "s.ravendump"
    sample.write_bytes(gzip.compress(b'{"Docs": [' + b", ".join(doc(f"u/{i}").encode() for i in range(3000)) + b"]}"))
    modules = [zlib]
    for name in ("isal.isal_zlib", "zlib_ng.zlib_ng"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            continue
    outputs = set()
    for module in modules:
        with ByteStream(sample, zlib_module=module, chunk_size=4096) as s:
            out = b"".join(iter(s.chunk, b""))
        outputs.add(out)
    assert len(outputs) == 1 and gzip.decompress(sample.read_bytes()) in outputs
    assert inflater()[0] in ("isal", "zlib-ng", "zlib")
