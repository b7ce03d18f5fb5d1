"""The jsonsplit twins: value ends, @metadata spans, compaction, errors; native == pure, byte for byte."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys

import pytest
import twins
from conftest import real

from ravenmigrate import _twins
from ravenmigrate.codecs import jsonsplit as pure
from ravenmigrate.codecs.jsonvalue import JSONValueError, loads

native = twins.native("jsonsplit")
IMPLS = twins.params("jsonsplit")

SAMPLES = [
    b'{"a": 1, "@metadata": {"@id": "x"}}',
    b'{\r\n  "@metadata": {\r\n    "@id": "a/1"\r\n  },\r\n  "Name": "first \\"meta\\""\r\n}',
    b'{"x": {"@metadata": {"no": 1}}, "@metadata": null}',
    b"{'k': 'v}\\'', /* c } */ \"n\": [NaN, -Infinity, 1.5e10,], // x {\n \"@metadata\": {'@id': 'q'},}",
    b'{"@metadata": {"@id": "a"}, "@metadata": {"@id": "b"}}',
    b'[1, [2, [3, {"a": []}]], "]"]',
    b'"just a string"',
    b'{"s": "\\u00e9\xc3\xa0\\\\", "e": {}, "l": [], "t": true, "f": false, "n": null}',
]
BAD = [
    (b'{"a": 1 "b": 2}', 8), (b'{"a" 1}', 5), (b'[1 2]', 3), (b'{"a": 1]', 7), (b'[1,,2]', 3),
    (b'{,}', 1), (b'{"a": 01x}', 6), (b'{"a": tru}', 6), (b'{"a": / }', 6), (b'{"a": 1 /* }', 8),
    (b'{1: 2}', 1), (b'}', 0), (b'{"a": "x}', 6), (b'{"a": @}', 6),
]


def run(impl, data: bytes, chunk: int | None = None):
    s = impl.Scanner()
    s.reset(0)
    if chunk is None:
        end = s.scan(data, True)
    else:
        buf = bytearray()
        end = -1
        for i in range(0, len(data), chunk):
            buf += data[i:i + chunk]
            end = s.scan(buf, False)
            if end >= 0:
                break
        if end < 0:
            end = s.scan(buf, True)
    return end, s.meta_start, s.meta_end


@pytest.mark.parametrize("impl", IMPLS)
def test_scanner_on_samples(impl):
    for data in SAMPLES:
        end, ms, me = run(impl, data + b" , trailing")
        assert end == len(data)
        assert loads(data[:end]) is not None or data.startswith(b'"')
        if ms >= 0:
            assert loads(data[ms:me]) == loads(data)["@metadata"]
        for chunk in (1, 2, 3, 7):
            assert run(impl, data + b" ,", chunk) == (end, ms, me)
    assert run(impl, SAMPLES[4])[1:] == (SAMPLES[4].rindex(b"{\"@id\": \"b\"}"), len(SAMPLES[4]) - 1)
    assert run(impl, SAMPLES[2])[1:] == (SAMPLES[2].rindex(b"null"), SAMPLES[2].rindex(b"null") + 4)


@pytest.mark.parametrize("impl", IMPLS)
def test_scanner_errors(impl):
    for data, pos in BAD:
        with pytest.raises(JSONValueError) as info:
            run(impl, data)
        assert info.value.pos == pos, data
    with pytest.raises(JSONValueError, match="end of input inside a string"):
        run(impl, b'{"a": "abc', 4)
    with pytest.raises(JSONValueError, match="end of input inside a value") as info:
        run(impl, b'{"a": 12', 3)
    assert info.value.pos == 8
    s = impl.Scanner()
    s.reset(0)
    assert s.scan(b'{"a": 12', False) == impl.NEED_MORE  # a number may continue in the next chunk


@pytest.mark.parametrize("impl", IMPLS)
def test_compact(impl):
    data = SAMPLES[3]
    out = impl.compact(data, 0, len(data))
    assert out == b"{'k':'v}\\'',\"n\":[NaN,-Infinity,1.5e10],\"@metadata\":{'@id':'q'}}"
    assert loads(out) == loads(data)
    raw = b'{ "a" : [ 1 , 2 , ] , "b\\" " : " x  y " }'
    assert impl.compact(raw, 0, len(raw)) == b'{"a":[1,2],"b\\" ":" x  y "}'
    assert impl.compact(b"xx[ 1 ,\r\n 2 ]yy", 2, 13) == b"[1,2]"
    doc = b'{ "a" : 1 ,\r\n  "@metadata" : { "@id" : "x" , } , // c\n "b": [ ] , }'
    end, ms, me = run(impl, doc)
    data, cms, cme = impl.compact_document(doc, 0, end, ms, me)
    assert data == b'{"a":1,"@metadata":{"@id":"x"},"b":[]}' and data[cms:cme] == b'{"@id":"x"}'



def test_twins_agree_on_random_cuts_and_real_dumps():
    if native is None:
        pytest.skip("native twin not built")
    rng = random.Random(7)
    raw = gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes())
    start = raw.index(b"{", 1)
    for _ in range(300):
        a = rng.randrange(start, len(raw) - 10)
        a = raw.index(b"{", a)
        b = min(len(raw), a + rng.randrange(1, 6000))
        piece = raw[a:b]
        if rng.random() < 0.3:  # damage it
            i = rng.randrange(len(piece))
            piece = piece[:i] + bytes([rng.randrange(256)]) + piece[i + 1:]
        results = []
        for impl in (pure, native):
            try:
                results.append(("ok", run(impl, piece, rng.choice([None, 64, 4096]))))
            except JSONValueError as exc:
                results.append(("err", exc.pos, exc.reason))
        assert results[0] == results[1], piece[:80]
        if results[0][0] == "ok" and results[0][1][0] > 0:
            end, ms, me = results[0][1]
            assert pure.compact(piece, 0, end) == native.compact(piece, 0, end)
            if ms >= 0:
                assert pure.compact_document(piece, 0, end, ms, me) == native.compact_document(piece, 0, end, ms, me)


def test_twin_selection_native_by_default_pure_when_forced():
    code = ("import ravenmigrate.sources.reader; from ravenmigrate import _twins; "
            "print(_twins.kind(_twins.load('jsonsplit')))")
    env = {k: v for k, v in os.environ.items() if k != "RAVENMIGRATE_PUREPYTHON"}
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    forced = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**env, "RAVENMIGRATE_PUREPYTHON": "1"}, check=True)
    assert default.stdout.strip() == ("native" if native is not None else "pure")
    assert forced.stdout.strip() == "pure"
    assert "jsonsplit" in _twins.status()


@pytest.mark.parametrize("impl", IMPLS)
def test_long_string_with_many_escapes_is_scanned_once(impl):
    body = b'{"Log": "' + b"line with a \\\"quote\\\" and\\r\\n" * 40_000 + b'", "@metadata": {"@id": "l/1"}}'
    end, ms, me = run(impl, body, 1 << 16)
    assert end == len(body) and body[ms:me] == b'{"@id": "l/1"}'
    assert impl.compact(body, 0, end) == body.replace(b'", "@', b'","@').replace(b'": ', b'":')


@pytest.mark.parametrize("impl", IMPLS)
def test_scan_items_with_a_huge_limit_and_many_items(impl):
    """The limit only bounds the count (the native twin once allocated room for all of it: 32 GB)."""
    body = ("[" + ",".join(f'{{"a": {i}, "@metadata": {{"@id": "x/{i}"}}}}' for i in range(5000)) + ",]").encode()
    items, pos = impl.Scanner().scan_items(body, 1, 1 << 40)
    assert len(items) == 5000 and body[pos:] == b"]"
    assert items == pure.Scanner().scan_items(body, 1, 1 << 40)[0]
    spans, at = impl.Scanner().scan_spans(body, 1, 1 << 40)  # the same, packed
    assert at == pos and spans.typecode == "q" and [tuple(spans[i:i + 4]) for i in range(0, len(spans), 4)] == items


@pytest.mark.parametrize("impl", IMPLS)
def test_scan_compact_items_compacts_in_the_same_pass(impl):
    """Each item's compact bytes are compact_document's; lenient items lose their metadata span."""
    body = (b'[ {"a": 1, /*x*/ "@metadata": {"@id": "x"}} ,\r\n {"b": [1,2,], "@metadata": {"@id": "y"}},'
            b'{"c": \'q\', "@metadata": {"@id": "z"}}, {"@metadata" : { "@id" : "w" } , "z" : [ ] } ,'
            b'{"x":1,"@metadata":{"@id":"v",},},{"a":"\\"/,]\\\\"}, {"n": null}, ]')
    spans, data, pos = impl.Scanner().scan_compact_items(body, 1, 100)
    assert len(spans) % impl.SPAN_FIELDS == 0 and spans.typecode == "q"
    items = [tuple(spans[i:i + 4]) for i in range(0, len(spans), 8)]
    compact_items = [tuple(spans[i + 4:i + 8]) for i in range(0, len(spans), 8)]
    assert (items, pos) == impl.Scanner().scan_items(body, 1, 100)
    assert len(items) == 7 and body[pos:] == b" ]"
    k = 0
    for (start, end, ms, me), (cs, ce, cms, cme) in zip(items, compact_items, strict=True):
        assert cs == k and data[cs:ce] == pure.compact(body, start, end)
        k = ce
        if cms >= 0:
            assert data[cms:cme] == pure.compact(body, ms, me)
    assert [c[2] >= 0 for c in compact_items] == [False, False, False, True, False, False, False]
    assert data[compact_items[3][0]:compact_items[3][1]] == b'{"@metadata":{"@id":"w"},"z":[]}'


def test_twins_agree_on_whitespace_and_strings_at_every_alignment():
    """The native twin skips whitespace and scans strings 16 bytes at a time: every byte of the
    16-byte window, every whitespace byte, quotes and backslashes at every offset."""
    if native is None:
        pytest.skip("native twin not built")
    rng = random.Random(11)
    pieces = []
    for _ in range(400):
        ws = bytes(rng.choice(b" \t\r\n\f\v") for _ in range(rng.randrange(0, 40)))
        gap = bytes(rng.choice(b" \t\r\n") for _ in range(rng.randrange(0, 20)))  # between items
        text = bytes(rng.choice(b'ab \\"\x01\xc3\xa9/') for _ in range(rng.randrange(0, 40)))
        text = text.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        pieces.append(b'{' + ws + b'"k' + text + b'"' + ws + b':' + ws + b'"' + text + b'"' + ws
                      + b',"@metadata":{"@id":"' + text + b'"}' + ws + b'}' + gap + b',' + gap)
    body = b"[" + b"".join(pieces) + b"]"
    for pad in range(17):
        buf = b" " * pad + body
        assert native.Scanner().scan_compact_items(buf, pad + 1, 1000) == \
            pure.Scanner().scan_compact_items(buf, pad + 1, 1000)
        assert len(native.Scanner().scan_items(buf, pad + 1, 1000)[0]) == 400


def _random_value(rng: random.Random, depth: int) -> bytes:
    """A random JSON value for the strict-path test: mostly strict, now and then deep, lenient or
    invalid, with whitespace of every kind Json.NET skips."""
    def ws() -> bytes:
        return bytes(rng.choice(b" \t\r\n\f\v") for _ in range(rng.choice((0, 0, 1, 2, 14))))

    roll = rng.random()
    if depth < 70 and roll < 0.3:
        members = []
        for _ in range(rng.randrange(0, 4)):
            key = rng.choice((b'"@metadata"', b'"@metadata"', b'"k"', b'"\\"k"', b'"' + b"x" * 20 + b'"'))
            members.append(ws() + key + ws() + b":" + ws() + _random_value(rng, depth + 1) + ws())
        if members and rng.random() < 0.03:
            members[-1] += b","  # a trailing comma (lenient)
        return b"{" + b",".join(members) + ws() + b"}"
    if depth < 70 and roll < 0.45:
        values = [ws() + _random_value(rng, depth + 1) + ws() for _ in range(rng.randrange(0, 4))]
        return b"[" + b",".join(values) + ws() + b"]"
    return rng.choice((b'"s"', b'"a\\\\"', b'"\\u00e9\xc3\xa9 \\"q\\""', b'"' + b"y" * 40 + b'"', b"1", b"-0.5e+3",
                       b"true", b"null", b"NaN", b"-Infinity", b"'sq'", b"/*c*/1", b"01x", b"tru", b"1.", b"{]"))


def test_twins_agree_on_random_items_cut_anywhere():
    """The native twin scans strict items in a fast path (compacting them or not) and gives anything
    else (lenient JSON, errors, nesting deeper than 63, an item cut by the buffer end) to its general
    scanner: both must give the pure twin's items, compact bytes, @metadata spans and position, byte
    for byte."""
    if native is None:
        pytest.skip("native twin not built")
    rng = random.Random(5)
    for round_ in range(300):
        items = []
        for _ in range(rng.randrange(1, 6)):
            body = _random_value(rng, 1 if rng.random() < 0.9 else 60)
            if not body.startswith(b"{"):
                body = b'{"@metadata": ' + body + b', "v": ' + body + b"}"
            items.append(body)
        buf = b"[" + b",\r\n ".join(items) + b",]"
        for cut in {len(buf), rng.randrange(1, len(buf) + 1), rng.randrange(1, len(buf) + 1)}:
            part = buf[:cut]
            assert native.Scanner().scan_compact_items(part, 1, 100) == \
                pure.Scanner().scan_compact_items(part, 1, 100), (round_, part)
            assert native.Scanner().scan_items(part, 1, 100) == pure.Scanner().scan_items(part, 1, 100), (round_, part)
            assert native.Scanner().scan_spans(part, 1, 100) == pure.Scanner().scan_spans(part, 1, 100), (round_, part)


UTF8_PIECES = [b"a", b" ", b"\r\n", "\u00e9".encode(), "\u4e2d".encode(), "\U0001f600".encode(), b"\xc2\x80", b"\xdf\xbf",
               b"\xe0\xa0\x80", b"\xef\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xc0\x80", b"\xc1\xbf",
               b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80",
               b"\xf5\x80\x80\x80", b"\x80", b"\xbf", b"\xe2\x82", b"\xf0\x90\x80", b"\xff", b"\x00"]


def test_utf8_valid_twins_agree():
    """The reader checks every batch of records with ``utf8_valid``: the native twin (no decoding,
    ASCII 16 bytes at a time) says what Python's strict decoder says, on random mixes of valid and
    invalid sequences at every alignment, on every span of a few real buffers, and inside bounds."""
    if native is None:
        pytest.skip("native jsonsplit twin not built")
    rng = random.Random(21)
    for _ in range(3000):
        pieces = [rng.choice(UTF8_PIECES[:12]) if rng.random() < 0.97 else rng.choice(UTF8_PIECES)
                  for _ in range(rng.randrange(0, 60))]
        buf = bytearray(b"x" * rng.randrange(0, 17) + b"".join(pieces) + b"y" * rng.randrange(0, 17))
        start = rng.randrange(0, len(buf) + 1)
        end = rng.randrange(start, len(buf) + 1)
        assert native.utf8_valid(buf, start, end) == pure.utf8_valid(buf, start, end), (bytes(buf), start, end)
    data = gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes())[:200_000]
    for start in range(0, len(data), 997):  # spans that cut multi-byte characters too
        end = min(len(data), start + rng.randrange(1, 5000))
        assert native.utf8_valid(data, start, end) == pure.utf8_valid(data, start, end)
    assert native.utf8_valid(data, 0, len(data)) and pure.utf8_valid(data, 0, len(data))
    assert native.utf8_valid(b"", 0, 0) and pure.utf8_valid(b"", 0, 0)
    with pytest.raises(IndexError):
        native.utf8_valid(b"abc", 1, 4)


ESCAPE_PIECES = [b"a", b" ", b'"', b"\\\\", b'\\"', b"\\/", b"\\b", b"\\f", b"\\n", b"\\r", b"\\t", b"\\'", b"\\u00e9",
                 b"\\uD83D", b"\\uabcF", b"\\", b"\\x", b"\\a", b"\\u12", b"\\u12g4", b"\\U0041", b"\\0", "\u00e9".encode()]


def test_escape_error_twins_agree():
    """The reader checks every batch of records with ``escape_error``: the native twin finds the
    same first bad backslash as the pure one on random mixes of good and bad escapes at every
    alignment and cut (a backslash or a ``\\u`` cut by the end of the span is bad), and on a real dump."""
    if native is None:
        pytest.skip("native jsonsplit twin not built")
    rng = random.Random(21)
    bad_seen = 0
    for _ in range(3000):
        pieces = [rng.choice(ESCAPE_PIECES[:13]) if rng.random() < 0.95 else rng.choice(ESCAPE_PIECES)
                  for _ in range(rng.randrange(0, 40))]
        buf = bytearray(b"x" * rng.randrange(0, 5) + b"".join(pieces))
        start = rng.randrange(0, len(buf) + 1)
        end = rng.randrange(start, len(buf) + 1)
        expected = pure.escape_error(buf, start, end)
        assert native.escape_error(buf, start, end) == expected, (bytes(buf), start, end)
        bad_seen += expected >= 0
    assert bad_seen > 300
    assert pure.escape_error(b'"\\q"', 0, 4) == native.escape_error(b'"\\q"', 0, 4) == 1
    assert pure.escape_error(b'"\\u00e9\\\\"', 0, 10) == native.escape_error(b'"\\u00e9\\\\"', 0, 10) == -1
    data = gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes())
    assert native.escape_error(data, 0, len(data)) == pure.escape_error(data, 0, len(data)) == -1
    assert native.escape_error(b"", 0, 0) == -1
    with pytest.raises(IndexError):
        native.escape_error(b"abc", 1, 4)
