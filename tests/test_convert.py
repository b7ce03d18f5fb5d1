"""Unit tests of ravenmigrate.convert on hand-built 3.x records (rules of target-4x.md §3-§8)."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal

import pytest

from ravenmigrate import _twins
from ravenmigrate.convert import Converter, ConvertOptions
from ravenmigrate.convert import documents as documents_module
from ravenmigrate.convert.attachments import attachment_hash
from ravenmigrate.convert.jsonbytes import compact, value_end
from ravenmigrate.convert.lastmodified import is_date_time, to_4x
from ravenmigrate.errors import SourceError
from ravenmigrate.records import (
    Attachment,
    AttachmentDeletion,
    AttachmentPut4,
    Delete4,
    Document,
    Document4,
    DocumentDeletion,
    Identity,
    Identity4,
    Index,
    Index4,
    Position,
    Skipped,
    Transformer,
)


def pos(i: int = 0, section: str = "Docs") -> Position:
    return Position("hand.ravendump", section, i, 100 * i)


def doc(text: str, i: int = 0, section: str = "Docs", compact_: bool = False) -> Document:
    data = text.encode()
    key = data.rindex(b'"@metadata"')
    start = data.index(b"{", key)
    end = value_end(data, start)
    meta = json.loads(data[start:end])
    return Document(meta.get("@id", ""), data, meta, (start, end), pos(i, section), compact_)


def one(converter: Converter, record):
    out = list(converter.convert(record))
    assert len(out) == 1
    return out[0]


def meta_of(d: Document4) -> dict:
    return json.loads(d.data)["@metadata"]


@pytest.fixture(params=["pure", "native"])
def twin(request, monkeypatch):
    """Run the document tests with each metadata4 twin (native skipped when not built)."""
    if request.param == "native":
        try:
            module = __import__("ravenmigrate._native.metadata4", fromlist=["rewrite_metadata"])
        except ImportError:
            pytest.skip("native metadata4 twin not built")
    else:
        module = __import__(_twins.PURE_TWINS["metadata4"], fromlist=["rewrite_metadata"])
    monkeypatch.setattr(documents_module, "_metadata4", module)
    return request.param


def test_metadata_key_mapping(twin):
    """§3.2 LIVE: the 3.x doc carrying every key ends with exactly these metadata keys."""
    d = doc('{"A": 1, "@metadata": {"@id": "users/1", "@etag": "01000000-0000-0001-0000-000000000001", '
            '"@index-score": 1.5, "Last-Modified": "2016-08-22T11:23:36.1861726Z", "Raven-Read-Only": true, '
            '"Raven-Entity-Name": "Users", "Raven-Last-Modified": "2016-08-22T11:23:36.1861726", '
            '"Raven-Expiration-Date": "2030-01-01T00:00:00.0000000Z", "Raven-Document-Revision": 3, '
            '"Raven-Replication-Source": "s", "Raven-Replication-Version": 4, "Raven-Replication-History": [], '
            '"Non-Authoritative-Information": false, "Raven-Document-Parent-Revision": "p", '
            '"Raven-Replication-Merged-History": true, "Foo": "bar", "Nested": {"Raven-Entity-Name": "n"}, '
            '"Raven-Clr-Type": "T, A"}}')
    out = one(Converter(), d)
    assert isinstance(out, Document4)
    assert out.id == "users/1" and out.collection == "Users"
    assert out.last_modified == "2016-08-22T11:23:36.1861726Z"
    assert meta_of(out) == {"@collection": "Users", "@expires": "2030-01-01T00:00:00.0000000Z", "Foo": "bar",
                            "Nested": {"@collection": "n"}, "Raven-Clr-Type": "T, A"}


def test_body_bytes_untouched_and_compacted(twin):
    d = doc('{ "N" : 1.50 , "E": 1e-7, "Big": 12345678901234567890, "S": "a  b\\"c",\n "@metadata": '
            '{ "@id": "x/1", "Raven-Entity-Name": "Xs" } }')
    out = one(Converter(), d)
    assert out.data == b'{"N":1.50,"E":1e-7,"Big":12345678901234567890,"S":"a  b\\"c","@metadata":{"@collection":"Xs"}}'
    assert compact(d.data).startswith(out.data[:20])


@pytest.mark.parametrize("key,value", [("@id", "1"), ("@flags", "null"), ("Raven-Last-Modified", "5"),
                                       ("Raven-Read-Only", "{}"), ("Raven-Replication-History", "true"),
                                       ("Raven-Document-Revision-Status", "[]")])
def test_metadata_type_rules(twin, key, value):
    """§3.2: values of the wrong type fault the server's import; we raise a SourceError naming the record."""
    d = doc(f'{{"@metadata": {{"@id": "a/1", "{key}": {value}}}}}', i=7)
    with pytest.raises(SourceError) as err:
        list(Converter().convert(d))
    assert "section Docs" in str(err.value) and "record 7" in str(err.value) and key in str(err.value)


@pytest.mark.parametrize("raw,ours,server", [
    ("2015-01-02T03:04:05", "2015-01-02T03:04:05.0000000Z", "2015-01-02T03:04:05.0000000Z"),
    ("2015-01-02T03:04:05Z", "2015-01-02T03:04:05.0000000Z", "2015-01-02T03:04:05.0000000Z"),
    ("2016-08-22T11:23:36.186", "2016-08-22T11:23:36.1860000Z", "2016-08-22T11:23:36.0000186Z"),
    ("2016-08-22T11:23:36.186Z", "2016-08-22T11:23:36.1860000Z", "2016-08-22T11:23:36.0000186Z"),
    ("2016-08-22T11:23:36.1861726", "2016-08-22T11:23:36.1861726Z", "2016-08-22T11:23:36.1861726Z"),
    ("2016-08-22T11:23:36.1861726Z", "2016-08-22T11:23:36.1861726Z", "2016-08-22T11:23:36.1861726Z"),
])
def test_last_modified_six_shapes(raw, ours, server):
    assert to_4x(raw) == ours
    assert to_4x(raw, fff_as_ticks=True) == server


@pytest.mark.parametrize("raw", ["2015-01-02T03:04:05+02:00", "2015-01-02 03:04:05", "2015-01-02T03:04:05.18",
                                 "2015-01-02T03:04:05.123456", "Sat, 15 May 2010 15:15:09 GMT", "2015-13-02T03:04:05"])
def test_last_modified_rejected_shapes(raw):
    with pytest.raises(ValueError):
        to_4x(raw)


@pytest.mark.parametrize("raw", ["2015-02-29T03:04:05", "1900-02-29T00:00:00Z", "0000-01-01T00:00:00",
                                 "2015-04-31T00:00:00", "2015-01-02T24:00:00", "2015-01-02T03:60:05",
                                 "2015-01-02T03:04:60"])
def test_last_modified_that_is_no_calendar_date_is_rejected(raw):
    with pytest.raises(ValueError, match="not a date and time of the calendar"):
        to_4x(raw)
    assert to_4x("2000-02-29T23:59:59") == "2000-02-29T23:59:59.0000000Z"


def test_calendar_check_agrees_with_datetime():
    """is_date_time accepts exactly what datetime (years 1-9999, like .NET's DateTime) accepts."""
    import datetime
    import random

    rng = random.Random(4)
    for _ in range(20000):
        fields = (rng.choice([0, 1, 4, 100, 400, 1900, 2000, 2016, 2100, 9999]) + rng.choice([0, 0, 1]),
                  rng.randrange(0, 14), rng.randrange(0, 33), rng.randrange(0, 26), rng.randrange(0, 62),
                  rng.randrange(0, 62))
        try:
            datetime.datetime(*fields)
            expected = True
        except ValueError:
            expected = False
        assert is_date_time(*fields) is expected, fields


def test_last_modified_carry_over_is_a_deviation_and_section_scoped(twin):
    seen = []
    c = Converter(on_deviation=seen.append)
    first = one(c, doc('{"@metadata": {"@id": "a/1", "Raven-Last-Modified": "2015-01-02T03:04:05"}}', 0))
    second = one(c, doc('{"@metadata": {"@id": "a/2", "Last-Modified": "2015-01-02T03:04:05Z"}}', 1))
    assert first.last_modified == "2015-01-02T03:04:05.0000000Z" and second.last_modified is None
    assert [(d.code, d.key, d.server) for d in seen] == [("last-modified-carry-over", "a/2", first.last_modified)]
    quirks = Converter(ConvertOptions(server_quirks=True))
    one(quirks, doc('{"@metadata": {"@id": "a/1", "Raven-Last-Modified": "2015-01-02T03:04:05"}}', 0))
    assert one(quirks, doc('{"@metadata": {"@id": "a/2"}}', 1)).last_modified == first.last_modified
    # a new section (the index restarts) forgets the carried value
    assert one(quirks, doc('{"@metadata": {"@id": "a/3"}}', 0)).last_modified is None


def test_collections_hilo_and_empty(twin):
    c = Converter()
    hilo = one(c, doc('{"Max": 3, "@metadata": {"@id": "Raven/Hilo/users", "Raven-Entity-Name": "X"}}'))
    assert hilo.collection == "@hilo" and meta_of(hilo) == {"@collection": "@hilo"}
    lower = one(c, doc('{"Max": 3, "@metadata": {"@id": "raven/hilo/lower"}}'))
    assert lower.collection == "@empty" and meta_of(lower) == {}


@pytest.mark.parametrize("doc_id,skipped", [
    ("Raven/Replication/DatabaseIdsCache", True), ("Raven/Backup/Periodic/Setup", True),
    ("Raven/Replication/Destinations", True), ("Raven/Backup/Status", True), ("Raven/Backup/Periodic/Status", True),
    ("Raven/Replication/Sources/" + "a" * 36, True), ("Raven/Replication/Sources/abc", False),
    ("raven/backup/status", False), ("Raven/Versioning/DefaultConfiguration", False), ("Raven/Studio/x", False),
])
def test_system_documents(twin, doc_id, skipped):
    out = one(Converter(), doc(f'{{"@metadata": {{"@id": "{doc_id}"}}}}'))
    assert isinstance(out, Skipped) == skipped


def test_expired_documents_only_skipped_when_asked(twin):
    text = '{"@metadata": {"@id": "e/1", "Raven-Expiration-Date": "2001-01-01T00:00:00.0000000Z"}}'
    assert isinstance(one(Converter(), doc(text)), Document4)
    assert isinstance(one(Converter(ConvertOptions(include_expired=False)), doc(text)), Skipped)


def test_legacy_revisions_change_vectors(twin):
    """§4 test vector: first historical etag 01000000-0000-0001-0000-000000000003 -> RV:n-AAAAAQAAAQAAAAAAAAAAAw."""
    c = Converter()
    template = ('{"V": @N@, "@metadata": {"Raven-Entity-Name": "Users", "Raven-Document-Revision-Status": "Historical", '
                '"@id": "users/1/revisions/@N@", "@etag": "01000000-0000-0001-0000-00000000000@E@"}}')
    texts = [template.replace("@N@", str(n)).replace("@E@", str(n + 2)) for n in (1, 2)]
    revs = [one(c, doc(t, i)) for i, t in enumerate(texts)]
    assert [r.change_vector for r in revs] == ["RV:1-AAAAAQAAAQAAAAAAAAAAAw", "RV:2-AAAAAQAAAQAAAAAAAAAAAw"]
    assert all(r.revision_of == "users/1" and r.flags == ("Revision",) and r.collection == "Users" for r in revs)
    current = one(c, doc('{"@metadata": {"Raven-Entity-Name": "Users", "Raven-Document-Revision-Status": "Current",'
                         ' "@id": "users/1", "@etag": "01000000-0000-0001-0000-000000000009"}}', 2))
    assert current.revision_of is None and current.flags == ("HasRevisions",) and current.change_vector is None
    weird = one(c, doc('{"@metadata": {"Raven-Document-Revision-Status": "Historical", "@id": "users/9/weird", '
                       '"@etag": "01000000-0000-0001-0000-000000000010"}}', 3))
    assert weird.revision_of is None and weird.change_vector is None
    again = one(c, doc(texts[0].replace("users/1/", "users/2/"), 0, section="Docs"))
    assert again.change_vector == "RV:1-AAAAAQAAAQAAAAAAAAAAAw"  # a new section restarts the counter


def test_nested_metadata(twin):
    text = ('{"@metadata": {"@id": "parent/1", "Raven-Entity-Name": "Parents"}, '
            '"Child": {"@metadata": {"@id": "child/1", "Raven-Entity-Name": "Kids", "@etag": "e"}, "X": [1]}}')
    seen = []
    ours = one(Converter(on_deviation=seen.append), doc(text.replace('"@metadata": {"@id": "parent/1"', '"@metadata": {"@id": "parent/1"')))
    assert ours.id == "parent/1" and ours.collection == "Parents"
    assert json.loads(ours.data)["Child"] == {"@metadata": {"@collection": "Kids"}, "X": [1]}
    assert [(d.code, d.server, d.ours) for d in seen] == [("nested-metadata-id", "child/1", "parent/1")]
    assert one(Converter(ConvertOptions(server_quirks=True)), doc(text)).id == "child/1"


def test_document_without_metadata_object(twin):
    d = Document("raw/1", b'{"A":1}', {}, None, pos(), True)
    out = one(Converter(), d)
    assert out.data == b'{"A":1,"@metadata":{}}' and out.collection == "@empty"


def test_legacy_attachment():
    """§6: files/{Key} in @files with one attachment; BLAKE2b-256 hash; metadata verbatim; skips."""
    data = b""
    assert attachment_hash(data) == base64.b64encode(bytes.fromhex(
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")).decode()
    meta = {"Content-Type": "image/png", "Raven-Replication-Version": 7, "Last-Modified": "x"}
    out = list(Converter().convert(Attachment("images/1.png", b"abc", meta, None, pos(0, "Attachments"))))
    files, put = out
    assert isinstance(files, Document4) and isinstance(put, AttachmentPut4)
    digest = base64.b64encode(hashlib.blake2b(b"abc", digest_size=32).digest()).decode()
    assert files.id == "files/images/1.png" and files.collection == "@files" and files.last_modified is None
    assert json.loads(files.data) == {"@metadata": {
        "@collection": "@files", "@attachments": [{"Name": "images/1.png", "Hash": digest, "ContentType": "", "Size": 3}],
        "@legacy-attachment-metadata": meta, "@flags": "HasAttachments"}}
    assert (put.document_id, put.name, put.content_type, put.hash, put.data) == (files.id, "images/1.png", "", digest, b"abc")
    for key, m in (("a.deleting", {}), ("a.downloading", {}), ("a", {"Raven-Delete-Marker": True})):
        assert isinstance(one(Converter(), Attachment(key, b"", m, None, pos(0, "Attachments"))), Skipped)


def test_deletions_identities_transformers():
    c = Converter()
    assert one(c, DocumentDeletion("users/1", pos(0, "DocsDeletions"))) == Delete4("users/1", pos(0, "DocsDeletions"))
    assert one(c, AttachmentDeletion("a/b", pos(0, "AttachmentsDeletions"))).id == "files/a/b"
    assert isinstance(one(c, Transformer("T", {}, pos(0, "Transformers"))), Skipped)
    assert one(c, Identity("Raven/Identities/Foo", 7, pos(0, "Identities"), True)) == Identity4(
        "raven/identities/foo", 7, pos(0, "Identities"))
    seen = []
    kept = one(Converter(on_deviation=seen.append), Identity("Users/", 4, pos(1, "Identities"), False))
    assert kept == Identity4("users/", 4, pos(1, "Identities")) and seen[0].code == "identity-integer"
    assert isinstance(one(Converter(ConvertOptions(server_quirks=True)), Identity("u/", 4, pos(), False)), Skipped)


def test_index_conversion():
    definition = {"LockMode": "LockedIgnore", "Maps": ["from d in docs select new { I = d.__document_id }"] * 2,
                  "Reduce": None, "Indexes": {"I": "NotAnalyzed", "T": "Analyzed"}, "Stores": {"I": "Yes"},
                  "Analyzers": {"T": "StandardAnalyzer"}, "TermVectors": {"T": "WithPositions"},
                  "SuggestionsOptions": ["T"], "SortOptions": {"I": "String"},
                  "SpatialIndexes": {"L": {"Type": "Geography", "Strategy": "GeohashPrefixTree", "MaxTreeLevel": 9,
                                           "MinX": Decimal("-180.0"), "MaxX": 180, "MinY": -90, "MaxY": 90,
                                           "Units": "Kilometers"}}}
    out = one(Converter(), Index("Auto/Users/ByI", definition, pos(0, "Indexes")))
    assert isinstance(out, Index4) and out.name == "Legacy/Auto/Users/ByI"
    d = out.definition
    assert d["Maps"] == ["from d in docs select new { I = Id(d) }"] and d["Reduce"] is None and d["Type"] == "Map"
    assert d["LockMode"] == "LockedIgnore"
    assert d["Fields"]["I"] == {"Indexing": "Exact", "Storage": "Yes"}
    assert d["Fields"]["T"] == {"Analyzer": "StandardAnalyzer", "Indexing": "Search", "TermVector": "WithPositions",
                                "Suggestions": True}
    assert d["Fields"]["L"]["Spatial"]["Units"] == "Kilometers"
    assert json.loads(json.dumps(d))["Fields"]["L"]["Spatial"]["MinX"] == -180.0  # JSON-ready
    assert "Analyzer" not in one(Converter(ConvertOptions(remove_analyzers=True)),
                                 Index("X", definition, pos())).definition["Fields"]["T"]
    for name, bad in (("Raven/DocumentsByEntityName", definition), ("raven/conflictdocuments", definition),
                      ("A", {"Map": "from d in docs select new { d.X }"}),
                      ("B", {"Maps": ["from d in docs select new { d.X }"], "LockMode": "SideBySide"}),
                      ("C", {"Maps": ["from d in docs select new { d.X }"], "Stores": {"X": "Compress"}}),
                      ("D", {"Maps": ['from d in docs select new { I = d["__document_id"] }']}),
                      ("E", {"Maps": ["  "]})):
        assert isinstance(one(Converter(), Index(name, bad, pos())), Skipped), name


def _parity_inputs() -> list[bytes]:
    from edge_dump import documents

    out = [json.dumps(d, ensure_ascii=False, indent=2).encode() for d in documents()]
    out += [b'{"@metadata":{"a":"\\"}\\\\","b":[{"@id":"x"},[],{}],"c":-1.5e+3,"Raven-Entity-Name":null}}',
            b'{"@metadata":{"@id":5}}', b'{"@metadata":{"x":[1,}}', b'{"@metadata":{"x" 1}}',
            b'{"@metadata":{"x":"unterminated}}', b'{"@metadata":{"Raven-Read-Only":{"a":1}}}']
    return out


def test_native_twin_is_identical_to_pure():
    try:
        from ravenmigrate._native import metadata4 as native
    except ImportError:
        pytest.skip("native metadata4 twin not built")
    from ravenmigrate.convert import metadata as pure

    for data in _parity_inputs():
        start = data.index(b"{", data.index(b'"@metadata"'))
        results = []
        for twin_module in (pure, native):
            try:
                results.append(twin_module.rewrite_metadata(data, start, False))
            except ValueError as exc:
                results.append((type(exc).__name__, str(exc)))
        assert results[0] == results[1], data
