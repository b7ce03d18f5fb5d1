"""``\\uXXXX`` escapes and RavenDB 4.1's JSON parser.

Found by the SIGKILL/resume test (one document in 200 000 came back with ``"028 separators"``
instead of ``"\\u2028 separators"``): the 4.1 parser drops a ``\\u`` escape whose hex digits a
network read splits, and stores an escaped surrogate pair as two U+FFFD. The tests below show both
server behaviours on the real server with raw request bodies, then show that what ravenmigrate
sends (escapes written as raw UTF-8 by ``jsonsplit.raw_unicode``, as 4.x's own export writes
strings) arrives intact however the body is split.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import twins

from ravenmigrate.codecs import jsonsplit as pure
from ravenmigrate.convert import Converter
from ravenmigrate.records import Document, Position
from ravenmigrate.sinks.server.client import RavenClient

native = twins.native("jsonsplit")
IMPLS = twins.params("jsonsplit")

TEXT = "ab\u2028cd\"ef\\gh\r\nij\u00e9kl\U0001F600m\x01n"
ESCAPED = r'"ab\u2028cd\"ef\\gh\r\nij\u00e9kl\ud83d\ude00m\u0001n"'


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("raw,want", [
    (rb'"\u00e9\u2028"', '"\u00e9\u2028"'.encode()),
    (rb'"\u0022\u005c\u005C"', rb'"\"\\\\"'),
    (rb'"\ud83d\ude00"', '"\U0001F600"'.encode()),
    (rb'"\ud800x\udc00"', '"\ufffdx\ufffd"'.encode()),
    (rb'"\\u0041\\\u0041"', rb'"\\u0041\\A"'),
    (rb'"\n\t\/\u000a\u0001"', b'"\\n\\t\\/\n\x01"'),
    (rb'{"k\u00e9":["\u0041",1,{"\u0042":null}]}', b'{"k\xc3\xa9":["A",1,{"B":null}]}'),
    (b'{"plain":"no escapes"}', b'{"plain":"no escapes"}'),
])
def test_raw_unicode(impl, raw, want):
    assert impl.raw_unicode(raw) == want


@pytest.mark.parametrize("impl", IMPLS)
def test_raw_unicode_keeps_the_value(impl):
    """Every string keeps its value (lone surrogates: U+FFFD, what the server stores for them)."""
    rng = random.Random(5)
    pieces = ["a", "\u00e9", "\u2028", '"', "\\", "\n", "\x01", "\U0001F600", "/", "\u0000", "x y"]
    for _ in range(2000):
        value = {"".join(rng.choice(pieces) for _ in range(3)): ["".join(rng.choice(pieces) for _ in range(8))]}
        raw = json.dumps(value, ensure_ascii=rng.random() < 0.7).encode()
        out = impl.raw_unicode(raw)
        assert b"\\u" not in out.replace(b"\\\\", b"")
        assert json.loads(out, strict=False) == value


def test_twins_agree_on_random_bytes():
    if native is None:
        pytest.skip("native twin not built")
    rng = random.Random(7)
    atoms = [b'"', b"\\", b"u", b"0022", b"005c", b"00e9", b"d83d", b"de00", b"d800", b"2028", b"zz", b"\\u", b"'"]
    for _ in range(20000):
        data = b'"' + b"".join(rng.choice(atoms) for _ in range(rng.randint(0, 12))) + b'"'
        assert native.raw_unicode(data) == pure.raw_unicode(data), data


def test_converter_writes_no_unicode_escapes():
    data = ('{"S":' + ESCAPED + r',"K\u00e9":1,"@metadata":{"@id":"d/1","Raven-Entity-Name":"T\u00e9"}}').encode()
    doc = Document("d/1", data, {"@id": "d/1"}, (data.index(b'{"@id"'), len(data) - 1),
                   Position("t", "Docs", 0, 0), True)
    out = next(iter(Converter().convert(doc)))
    assert b"\\u" not in out.data and out.collection == "T\u00e9"
    assert json.loads(out.data, strict=False) == {"S": TEXT, "K\u00e9": 1, "@metadata": {"@collection": "T\u00e9"}}


def _send_split(url: str, database: str, body: bytes, cut: int) -> int:
    """POST a bulk insert whose body arrives in two reads, split at *cut* (a pause between chunks)."""
    client = RavenClient(url)
    op = client.next_operation_id(database)
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.putrequest("POST", f"/databases/{database}/bulk_insert?id={op}")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Content-Type", "application/json; charset=utf-8")
    conn.endheaders()
    for piece in (body[:cut], body[cut:]):
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        time.sleep(0.15)
    conn.send(b"0\r\n\r\n")
    status = conn.getresponse().status
    conn.close()
    return status


def _stored(url: str, database: str, doc_id: str) -> str:
    got = RavenClient(url).json("GET", f"/databases/{database}/docs?id={urllib.parse.quote(doc_id)}")
    return got["Results"][0]["S"]


def _put(doc_id: str, document: bytes) -> bytes:
    return b'[{"Id":"' + doc_id.encode() + b'","Type":"PUT","Document":' + document + b"}]"


@pytest.mark.server
def test_server_corrupts_split_and_paired_escapes(ravendb, new_database):
    """The 4.1 server itself: an escape split after its ``\\u`` loses ``\\u`` and the digits read
    before the split; an escaped surrogate pair becomes two U+FFFD even when nothing is split."""
    db = new_database("esc")
    body = _put("raw/split", b'{"S":"ab\\u2028cd","@metadata":{"@collection":"T"}}')
    assert _send_split(ravendb.url, db, body, body.index(b"\\u2028") + 3) == 201
    assert _stored(ravendb.url, db, "raw/split") == "ab028cd"
    body = _put("raw/pair", b'{"S":"a\\ud83d\\ude00b","@metadata":{"@collection":"T"}}')
    assert _send_split(ravendb.url, db, body, 2) == 201
    assert _stored(ravendb.url, db, "raw/pair") == "a\ufffd\ufffdb"


@pytest.mark.server
def test_converted_document_survives_every_split(ravendb, new_database):
    """What ravenmigrate sends holds no ``\\u`` escape: split anywhere in the string, it arrives intact."""
    db = new_database("esc")
    data = ('{"S":' + ESCAPED + ',"@metadata":{"@id":"d/1","Raven-Entity-Name":"T"}}').encode()
    doc = Document("d/1", data, {"@id": "d/1"}, (data.index(b'{"@id"'), len(data) - 1),
                   Position("t", "Docs", 0, 0), True)
    converted = next(iter(Converter().convert(doc))).data
    first = converted.index(b'"ab')
    cuts = range(first, converted.index(b'n"', first) + 2)

    def send(i: int) -> int:
        body = _put(f"d/{i}", converted)
        return _send_split(ravendb.url, db, body, body.index(converted) + cuts[i])

    with ThreadPoolExecutor(len(cuts)) as pool:  # one connection per cut, each body still in two reads
        assert list(pool.map(send, range(len(cuts)))) == [201] * len(cuts)
    for i in range(len(cuts)):
        assert _stored(ravendb.url, db, f"d/{i}") == TEXT, i


def test_only_real_surrogate_pairs_are_reported():
    """``\\\\ud83d\\ude00`` is a backslash, text, and a lone escape: no pair, no deviation."""
    seen = []
    for i, text in enumerate([r"\ud83d\ude00", r"\\ud83d\ude00"]):
        data = ('{"S":"' + text + '","@metadata":{"@id":"d/' + str(i) + '"}}').encode()
        doc = Document(f"d/{i}", data, {"@id": f"d/{i}"}, (data.index(b'{"@id"'), len(data) - 1),
                       Position("t", "Docs", i, 0), True)
        converter = Converter(on_deviation=seen.append)
        next(iter(converter.convert(doc)))
    assert [d.key for d in seen if d.code == "escaped-surrogate-pair"] == ["d/0"]
