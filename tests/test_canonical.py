"""``codecs.canonical``: equal JSON values have equal canonical texts, different values different ones,
and the native twin gives the pure twin's bytes (or the same rejection) on anything."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
import twins

from ravenmigrate.codecs import canonical as pure
from ravenmigrate.codecs.canonical import CanonicalError

PARAMS = twins.params("canonical")


def _twin_result(twin, data: bytes, split: bool = False):
    try:
        return twin.split_canonical(data, frozenset({b'"@id"'})) if split else twin.canonical(data)
    except CanonicalError:
        return "error"


@pytest.mark.parametrize("twin", PARAMS)
@pytest.mark.parametrize("text,expected", [
    (b'{"b": [1.50, -0.0, 1E3], "a": {"z": true, "y": null}}', b'{"a":{"y":null,"z":true},"b":[15e-1,0e0,1e3]}'),
    (b'[0.00120e+5, 100, -12.3400e-2]', b"[12e1,1e2,-1234e-4]"),
    (b'"\\u0041\\u00e9\\ud83d\\ude00 \\ud800 \\/ \\" \\\\ \\t \x01"',
     '"A\u00e9\U0001f600 '.encode() + b'\xed\xa0\x80 / \\" \\\\ \\u0009 \\u0001"'),
    (b' {"a": 1, "a": 2} ', b'{"a":2e0}'),
])
def test_known_answers(twin, text, expected):
    assert twin.canonical(text) == expected


@pytest.mark.parametrize("twin", PARAMS)
def test_split_leaves_out_metadata_and_the_dropped_names(twin):
    doc = b'{"A": 1, "@metadata": {"@id": "a/1", "Raven-Entity-Name": "As", "x": 1.0}, "B": [2]}'
    assert twin.split_canonical(doc, frozenset({b'"@id"'})) == (b'{"A":1e0,"B":[2e0]}',
                                                                b'{"Raven-Entity-Name":"As","x":1e0}')
    assert twin.split_canonical(b'{"A": 1}') == (b'{"A":1e0}', b"{}")
    assert twin.split_canonical(b'{"@metadata": null}') == (b"{}", b"{}")
    assert twin.split_canonical(b'{"\\u0040metadata": {"k": {"@id": 3}}, "@metadata": {"@id": 1}}',
                                frozenset({b'"@id"'})) == (b"{}", b"{}")  # the last one counts
    with pytest.raises(CanonicalError, match="JSON object"):
        twin.split_canonical(b"[1]")


@pytest.mark.parametrize("twin", PARAMS)
@pytest.mark.parametrize("bad", [b"", b"[1,]", b'{"a" 1}', b"01", b"1.", b"-", b".5", b"NaN", b"-Infinity", b'"\\x"',
                                 b'"abc', b"[" * 600 + b"]" * 600, b"1e99999999999", b"\xef\xbb\xbf{}", b'"\xff"',
                                 b"[1] 2", b'{"a":1}}', b"tru", b'"\\ud8"'])
def test_what_is_not_json_is_rejected(twin, bad):
    with pytest.raises(CanonicalError):
        twin.canonical(bad)


@pytest.mark.parametrize("twin", PARAMS)
def test_numbers_are_compared_exactly(twin):
    """Same value in any notation: same text; a difference in the 25th digit: another text."""
    assert len({twin.canonical(t) for t in (b"1.5", b"1.50", b"15e-1", b"0.15E1", b"150e-2")}) == 1
    assert len({twin.canonical(t) for t in (b"100", b"1e2", b"1.00e2", b"100.0")}) == 1
    assert twin.canonical(b"1.000000000000000000000001") != twin.canonical(b"1")
    assert twin.canonical(b"12345678901234567890123456789") != twin.canonical(b"12345678901234567890123456788")


# -- random JSON, written in different ways -----------------------------------------------------

def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([True, False, None])
    if kind == 1:
        return Decimal(rng.randrange(-10**6, 10**6)).scaleb(rng.randrange(-8, 8))
    if kind == 2:
        return Decimal(rng.choice(["0", "-0", "12345678901234567890.123456789", "1e-30", "7"]))
    if kind in (3, 4):
        return "".join(rng.choice(["a", "\u00e9", "\u4e2d", "\U0001f600", '"', "\\", "\n", "\x01", "/", "\ud800"])
                       for _ in range(rng.randrange(0, 6)))
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {"".join(rng.choice("ab\u00e9@\"") for _ in range(rng.randrange(0, 3))): _value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


def _ws(rng: random.Random) -> str:
    return rng.choice(["", "", " ", "\r\n  ", "\t"])


def _number(rng: random.Random, value: Decimal) -> str:
    sign, digits, exp = value.as_tuple()
    text = "".join(map(str, digits))
    pad = rng.randrange(0, 3)
    mantissa, exp = text + "0" * pad, exp - pad
    style = rng.randrange(3)
    if style == 0 and exp >= 0:
        out = mantissa + "0" * exp
    elif style == 1 and -len(mantissa) < exp < 0:
        out = mantissa[:exp] + "." + mantissa[exp:]
        out = out.lstrip("0") or "0"
        out = "0" + out if out.startswith(".") else out
    else:
        out = mantissa.lstrip("0") or "0"
        exp += len(mantissa) - len(out) if out != "0" else 0
        out = f"{out}{rng.choice('eE')}{rng.choice(['', '+'] if exp >= 0 else [''])}{exp}"
    return ("-" if sign else "") + out


def _string(rng: random.Random, value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\' or ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF or rng.random() < 0.3:
            if ch == "/" and rng.random() < 0.5:
                out.append("\\/")
            elif ord(ch) > 0xFFFF:
                code = ord(ch) - 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{ord(ch):04x}" if rng.random() < 0.7 or ch not in '"\\\n\t'
                           else {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}[ch])
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _write(rng: random.Random, value) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        members = [_ws(rng) + _string(rng, k) + _ws(rng) + ":" + _ws(rng) + _write(rng, v) for k, v in items]
        if items and rng.random() < 0.2:  # a repeated name before the real one: the last one counts
            k, v = items[0]
            members.insert(0, _string(rng, k) + ":" + json.dumps("earlier"))
            members.append(_string(rng, k) + ":" + _write(rng, v))
        return "{" + ",".join(members) + _ws(rng) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_ws(rng) + _write(rng, v) for v in value) + _ws(rng) + "]"
    if isinstance(value, str):
        return _string(rng, value)
    if isinstance(value, Decimal):
        return _number(rng, value)
    return json.dumps(value)


def test_random_values_written_differently_have_one_canonical_text_in_both_twins():
    native = twins.native("canonical")
    rng = random.Random(7)
    for _ in range(3000):
        value = _value(rng)
        texts = [_write(rng, value).encode("utf-8", "surrogatepass") for _ in range(3)]
        results = {pure.canonical(t) for t in texts}
        assert len(results) == 1, texts
        if native is not None:
            assert {native.canonical(t) for t in texts} == results, texts
            doc = {"@metadata": {"@id": "x", "k": value}, "v": value}
            text = _write(rng, doc).encode("utf-8", "surrogatepass")
            assert native.split_canonical(text, frozenset({b'"@id"'})) == pure.split_canonical(
                text, frozenset({b'"@id"'}))


def test_damaged_json_gets_the_same_answer_from_both_twins():
    """Cut or changed anywhere: the same canonical text or both reject it."""
    native = twins.native("canonical")
    if native is None:
        pytest.skip("native canonical twin not built")
    rng = random.Random(11)
    for _ in range(3000):
        text = bytearray(_write(rng, {"@metadata": {"@id": "x"}, "v": _value(rng)}).encode("utf-8", "surrogatepass"))
        cut = rng.randrange(len(text) + 1)
        if rng.random() < 0.5:
            text = text[:cut]
        elif text:
            text[min(cut, len(text) - 1)] = rng.choice(b'{}[],:"\\0123456789.eE-+ tnfu\xff\xc3\x00')
        data = bytes(text)
        assert _twin_result(native, data) == _twin_result(pure, data), data
        assert _twin_result(native, data, True) == _twin_result(pure, data, True), data
