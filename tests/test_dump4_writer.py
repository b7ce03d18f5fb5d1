"""The 4.x dump writer on hand-built converted records, read back with the 4.x dump reader."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json

import pytest

from ravenmigrate.errors import SourceError
from ravenmigrate.records import AttachmentPut4, Delete4, Document4, Identity4, Index4, Position, Skipped
from ravenmigrate.sinks import deflate
from ravenmigrate.sinks.dump4 import layout as layout4
from ravenmigrate.sinks.dump4 import metadata as dump4_metadata
from ravenmigrate.sinks.dump4.writer import Dump4Writer, dump4_chunks

POS = Position("test", "Docs", 0, 0)


def _native():
    try:
        from ravenmigrate._native import dump4_metadata as native
    except ImportError:
        pytest.skip("native twin dump4_metadata not built")
    return native


@pytest.fixture(params=["pure", "native"])
def twin(request):
    return dump4_metadata if request.param == "pure" else _native()


def test_twins_agree_on_real_documents():
    """Byte-identical results: every document of the real Northwind 3.5 export, compacted, plus variants."""
    import gzip as _gzip

    from conftest import real

    native = _native()
    docs = json.loads(_gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes()))["Docs"]
    bodies = [json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode() for d in docs]
    bodies += [json.dumps(d, indent=2).encode() for d in docs[:50]]
    bodies += [b'{"@metadata":{"a":"x\\\\"},"B":{"@metadata":{}}}', b'{"B":"\\"}"}', b'{}',
               b'{"@metadata":{}}', b'{"x":{"@metadata":{}}}', b'{"\\u0040metadata":{"a":1}}']
    for body in bodies:
        assert native.metadata_close(body) == dump4_metadata.metadata_close(body), body


def doc(doc_id: str, body: bytes, last_modified: str | None = "2017-01-02T03:04:05.0000000Z",
        flags: tuple[str, ...] = (), collection: str = "Users", **kw) -> Document4:
    return Document4(doc_id, body, collection, last_modified, POS, flags, **kw)


def put(doc_id: str, name: str, data: bytes, content_type: str = "") -> AttachmentPut4:
    digest = base64.b64encode(hashlib.blake2b(data, digest_size=32).digest()).decode()
    return AttachmentPut4(doc_id, name, content_type, data, digest, POS)


def files_doc(key: str, data: bytes, legacy_meta: bytes) -> Document4:
    p = put("files/" + key, key, data)
    entry = json.dumps({"Name": key, "Hash": p.hash, "ContentType": "", "Size": len(data)}).encode()
    body = (b'{"@metadata":{"@collection":"@files","@attachments":[' + entry + b'],"@legacy-attachment-metadata":'
            + legacy_meta + b',"@flags":"HasAttachments"}}')
    return Document4("files/" + key, body, "@files", None, POS, ("HasAttachments",))


def write(records, **kw) -> bytes:
    out = io.BytesIO()
    with Dump4Writer(out, **kw) as w:
        w.write_all(records)
    return out.getvalue()


def read(gz: bytes) -> layout4.Dump4:
    return layout4.parse(gzip.decompress(gz))


def test_sections_follow_source_order_and_buildversion_is_first():
    recs = [
        Index4("Users/ByName", {"Name": "Users/ByName", "Maps": ["from u in docs.Users select new { u.Name }"],
                                "Reduce": None, "Fields": {}}, POS),
        doc("users/1", b'{"Name":"Ann","@metadata":{"@collection":"Users"}}'),
        doc("users/2", b'{"Name":"Bob","@metadata":{"@collection":"Users","Raven-Clr-Type":"X"}}'),
        Delete4("users/9", POS),
        Identity4("users/", 7, POS),
        Skipped("transformer", "T", "transformers do not exist in 4.x", POS),
    ]
    raw = gzip.decompress(write(recs))
    assert raw.startswith(b'{"BuildVersion":40,"Indexes":[')
    dump = layout4.parse(raw)
    assert dump.build_version == 40
    assert layout4.layout(dump) == [("BuildVersion", 1), ("Indexes", 1), ("Docs", 2), ("DocsDeletions", 1),
                                    ("Identities", 1)]
    docs = dict(dump.sections)["Docs"]
    assert docs[1].value == {"Name": "Bob", "@metadata": {"@collection": "Users", "Raven-Clr-Type": "X",
                                                           "@id": "users/2",
                                                           "@last-modified": "2017-01-02T03:04:05.0000000Z"}}
    assert dict(dump.sections)["Identities"][0].value == {"Key": "users/", "Value": "7"}
    assert dict(dump.sections)["DocsDeletions"][0].value == {"Key": "users/9"}
    index = dict(dump.sections)["Indexes"][0].value
    assert index["Type"] == "Map" and index["IndexDefinition"]["Name"] == "Users/ByName"


def test_document_bytes_are_kept_verbatim():
    body = b'{"Price":1.10,"Big":12345678901234567890,"S":"\\u00e9\\"}","@metadata":{"@collection":"Users"}}'
    raw = gzip.decompress(write([doc("users/1", body)]))
    assert b'{"Price":1.10,"Big":12345678901234567890,"S":"\\u00e9\\"}","@metadata":{"@collection":"Users",' \
           b'"@id":"users/1","@last-modified":"2017-01-02T03:04:05.0000000Z"}}' in raw


@pytest.mark.parametrize("body, expected", [
    (b'{"A":{"@metadata":{"x":1}},"@metadata":{"@collection":"U"}}', b'{"@collection":"U"}'),
    (b'{"@metadata":{"@collection":"U"},"A":{"@metadata":{"x":"}"}}}', b'{"@collection":"U"}'),
    (b'{"@metadata":{},"A":1}', b"{}"),
    (b'{"A":"\\"@metadata\\":{}"}', None),
])
def test_metadata_close_finds_the_documents_own_metadata(twin, body, expected):
    close, empty = twin.metadata_close(body)
    if expected is None:
        assert close == -1
    else:
        assert body[:close + 1].endswith(b'"@metadata":' + expected)
        assert empty == (expected == b"{}")


def test_document_without_metadata_gets_one():
    dump = read(write([doc("a/1", b'{"A":1}'), doc("a/2", b"{}", last_modified=None)]))
    values = [e.value for e in dump.elements()]
    assert values[0] == {"A": 1, "@metadata": {"@id": "a/1", "@last-modified": "2017-01-02T03:04:05.0000000Z"}}
    assert values[1] == {"@metadata": {"@id": "a/2"}}


def test_unknown_last_modified_starts_a_new_docs_section():
    """§3.4: the reader carries the last value over within a section; "now" needs a fresh section."""
    dump = read(write([doc("a/1", b'{"@metadata":{}}'), doc("a/2", b'{"@metadata":{}}', last_modified=None),
                       doc("a/3", b'{"@metadata":{}}', last_modified=None)]))
    assert layout4.layout(dump) == [("BuildVersion", 1), ("Docs", 1), ("Docs", 2)]


def test_revisions_and_current_documents():
    recs = [doc("users/1/revisions/1", b'{"V":1,"@metadata":{"@collection":"Users","@flags":"Revision"}}',
                flags=("Revision",), revision_of="users/1", change_vector="RV:1-AAAAAQAAAQAAAAAAAAAAAw"),
            doc("users/1", b'{"V":2,"@metadata":{"@collection":"Users","@flags":"HasRevisions"}}',
                flags=("HasRevisions",))]
    dump = read(write(recs))
    assert [name for name, _ in dump.sections] == ["BuildVersion", "RevisionDocuments", "Docs"]
    revision, current = (e.value["@metadata"] for e in dump.elements())
    assert revision == {"@collection": "Users", "@flags": "Revision", "@id": "users/1",
                        "@change-vector": "RV:1-AAAAAQAAAQAAAAAAAAAAAw",
                        "@last-modified": "2017-01-02T03:04:05.0000000Z"}
    assert current["Raven-Document-Revision-Status"] == "Current" and current["@flags"] == "HasRevisions"


def test_legacy_attachment_becomes_a_legacy_attachments_element():
    data = bytes(range(256)) * 3
    meta = b'{"Content-Type":"image/png","Raven-Replication-Version":3,"Last-Modified":"2017-01-01T00:00:00Z"}'
    recs = [files_doc("images/1.png", data, meta), put("files/images/1.png", "images/1.png", data)]
    dump = read(write(recs))
    assert layout4.layout(dump) == [("BuildVersion", 1), ("Attachments", 1)]
    element = dict(dump.sections)["Attachments"][0].value
    assert element["Key"] == "images/1.png"
    assert element["Metadata"] == json.loads(meta)
    assert base64.b64decode(element["Data"]) == data


def test_legacy_attachment_metadata_of_the_converters_bytes_and_of_other_forms():
    """The converter's own bytes are recognised without a parse; the same document written another
    way is parsed (same answer); a document whose ends match but which holds more than the 3.x
    metadata between them is not a legacy attachment."""
    from ravenmigrate.convert.attachments import convert_attachment
    from ravenmigrate.records import Attachment
    from ravenmigrate.sinks.dump4.records import legacy_attachment_metadata

    data = b"payload"
    meta = {"Content-Type": "text/plain", "Raven-Replication-Version": 3, "N": {"a": ["x", 1]}}
    doc, p = convert_attachment(Attachment("notes/1.txt", data, meta, None, POS))
    raw = json.dumps(meta, separators=(",", ":")).encode()
    assert legacy_attachment_metadata(doc, p) == raw
    spaced = files_doc("notes/1.txt", data, json.dumps(meta, indent=1).encode())  # the parsed path
    assert legacy_attachment_metadata(spaced, p) == json.dumps(meta, indent=1).encode()
    two = files_doc("notes/1.txt", data, raw)
    head, tail = doc.data[:doc.data.index(raw)], doc.data[doc.data.index(raw) + len(raw):]
    for body in (head + raw + b',"x":2' + tail, head + b"{" + tail, head + b"[]" + tail):
        assert legacy_attachment_metadata(Document4(doc.id, body, "@files", None, POS, doc.flags), p) is None
    assert legacy_attachment_metadata(two, p) == raw


def test_stream_attachments_use_the_exact_4x_framing_once_per_hash():
    data = b"\x00\x01binary}]\",\n" * 10
    recs = [files_doc("a.bin", data, b"{}"), put("files/a.bin", "a.bin", data),
            files_doc("b.bin", data, b"{}"), put("files/b.bin", "b.bin", data)]
    raw = gzip.decompress(write(recs, attachments="stream"))
    p = put("files/a.bin", "a.bin", data)
    header = (b'{"@metadata":{"@export-type":"Attachment"},"Hash":"' + p.hash.encode() + b'","Size":'
              + str(len(data)).encode() + b',"Tag":"files/a.bin|d|a.bin|' + p.hash.encode() + b'|"}')
    assert raw.count(header + data + b',{"@metadata":{"@collection":"@files"') == 1
    assert raw.count(b'"@export-type"') == 1
    dump = layout4.parse(raw)
    elements = list(dump.elements())
    assert [e.stream is not None for e in elements] == [True, False, False]
    assert elements[0].stream == data
    assert [e.value["@metadata"]["@id"] for e in elements[1:]] == ["files/a.bin", "files/b.bin"]


def test_attachment_on_an_ordinary_document_is_streamed():
    data = b"hello"
    recs = [doc("users/1", b'{"@metadata":{"@collection":"Users","@attachments":[],"@flags":"HasAttachments"}}',
                flags=("HasAttachments",)), put("users/1", "photo.jpg", data, "image/jpeg")]
    elements = list(read(write(recs)).elements())
    assert elements[0].stream == data and elements[1].value["@metadata"]["@id"] == "users/1"


def test_attachment_that_does_not_follow_its_document_is_refused():
    w = Dump4Writer(io.BytesIO())
    w.write(doc("users/1", b"{}"))
    with pytest.raises(ValueError, match="does not follow its document"):
        w.write(put("users/2", "x", b"x"))


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_every_level_and_deflater_writes_the_same_json(level):
    recs = [doc(f"users/{i}", b'{"N":%d,"@metadata":{"@collection":"Users"}}' % i) for i in range(2000)]
    outputs = set()
    for name in deflate.available():
        if name == "isal" and level > 3:
            continue
        outputs.add(gzip.decompress(write(recs, level=level, deflater=name)))
    assert len(outputs) == 1
    assert len(layout4.parse(outputs.pop()).sections[1][1]) == 2000


def test_chunks_equal_the_file_output_and_bounded_buffering():
    recs = [doc(f"users/{i}", b'{"Pad":"%s","@metadata":{}}' % hashlib.sha512(b"%d" % i).hexdigest().encode())
            for i in range(5000)]
    chunks = list(dump4_chunks(recs, chunk_size=4096, buffer_size=8192, level=1, deflater="zlib"))
    assert len(chunks) > 5
    assert gzip.decompress(b"".join(chunks)) == gzip.decompress(write(recs, buffer_size=8192, level=1,
                                                                      deflater="zlib"))


def test_reader_rejects_broken_framing():
    raw = b'{"BuildVersion":40,"Docs":[{"@metadata":{"@export-type":"Attachment"},"Hash":"h","Size":10,"Tag":""}abc]}'
    with pytest.raises(SourceError, match="bad Size"):
        layout4.parse(raw)
    with pytest.raises(SourceError, match="expected ',' or ']'"):
        layout4.parse(b'{"BuildVersion":40,"Docs":[{"A":1} {"B":2}]}')


def test_background_deflate_writes_the_same_bytes():
    recs = [doc(f"users/{i}", b'{"Pad":"%s","@metadata":{}}' % hashlib.sha512(b"%d" % i).hexdigest().encode())
            for i in range(5000)]
    for level, name in [(1, "zlib"), (6, deflate.available()[0] if deflate.available()[0] != "isal" else "zlib")]:
        out = io.BytesIO()
        with Dump4Writer(out, level=level, deflater=name, buffer_size=8192, background=True) as w:
            w.write_all(recs)
        assert out.getvalue() == write(recs, buffer_size=8192, level=level, deflater=name)


class _FullDisk(io.BytesIO):
    """A file that fails like a full disk after *limit* bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data) -> int:
        if self.tell() + len(data) > self.limit:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_background_deflate_failure_reaches_the_writer():
    """A write error in the deflate thread (disk full) is raised to the producer, which then stops."""
    recs = [doc(f"users/{i}", b'{"Pad":"%s","@metadata":{}}' % hashlib.sha512(b"%d" % i).hexdigest().encode())
            for i in range(20000)]
    w = Dump4Writer(_FullDisk(20000), level=0, buffer_size=8192, background=True)
    with pytest.raises(OSError, match="No space left"):
        for r in recs:
            w.write(r)
        w.close()
    w.abort()
    assert not w._background._thread.is_alive()
