"""The lenient JSON value parser and the Decimal-preserving writer (formats-3x.md §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ravenmigrate.codecs.jsonvalue import JSONValueError, dumps, loads


def test_numbers_keep_their_text():
    v = loads(b'{"a": 14.0, "b": 2.50, "c": 12345678901234567890123456789.5, "d": 9223372036854775807, '
              b'"e": 1E+300, "f": -0.0, "g": 3}')
    assert v["a"] == Decimal("14.0") and str(v["a"]) == "14.0"
    assert str(v["b"]) == "2.50"
    assert str(v["c"]) == "12345678901234567890123456789.5"
    assert v["d"] == 2**63 - 1 and type(v["d"]) is int
    assert str(v["e"]) == "1E+300" and type(v["g"]) is int
    assert dumps(v) == (b'{"a":14.0,"b":2.50,"c":12345678901234567890123456789.5,"d":9223372036854775807,'
                        b'"e":1E+300,"f":-0.0,"g":3}')
    assert not any(isinstance(x, float) for x in v.values())


def test_json_net_dialect():
    text = b"""\xef\xbb\xbf{
\t// a comment
\t'single': 'it\\'s',
\t"nan": NaN, "inf": Infinity, "ninf": -Infinity, /* block */
\t"list": [1, 2, 3,],
\t"dup": 1, "dup": 2,
\t"ctl": "tab\there",
}"""
    v = loads(text)
    assert v["single"] == "it's"
    assert v["nan"].is_nan() and v["inf"] == Decimal("Infinity") and v["ninf"] == Decimal("-Infinity")
    assert v["list"] == [1, 2, 3] and v["dup"] == 2 and v["ctl"] == "tab\there"
    assert dumps({"x": v["nan"], "y": v["ninf"]}) == b'{"x":"NaN","y":"-Infinity"}'


def test_unicode_escapes_and_surrogates():
    v = loads(b'["\\u00e9\\u2028", "\\ud83d\\ude00", "\xc3\xa0", \'\\ud83d\\ude00\']')
    assert v == ["\u00e9\u2028", "\U0001F600", "\u00e0", "\U0001F600"]
    assert loads(dumps(v)) == v
    assert dumps(["\ud800"]) == b'["\\ud800"]'  # a lone surrogate stays an escape


@pytest.mark.parametrize("bad, pos", [
    (b'{"a": 1 "b": 2}', 8),
    (b'{"a": }', 6),
    (b'[1, 2', 5),
    (b'"abc', 0),
    (b'{"a": tru}', 6),
    (b'[1,,2]', 3),
    (b'{"a": "\\q"}', 6),
    (b'{"a": 1} x', 9),
])
def test_errors_name_the_offset(bad, pos):
    with pytest.raises(JSONValueError) as info:
        loads(bad)
    assert info.value.pos == pos


def test_dumps_types():
    assert dumps({"a": [True, False, None, "x\"y", 1.5]}) == b'{"a":[true,false,null,"x\\"y",1.5]}'
    with pytest.raises(TypeError):
        dumps({1: 2})
    with pytest.raises(TypeError):
        dumps(object())


def test_nested_floats_become_decimals_on_every_path():
    for text in (b'{"a": [1, {"b": [2, 3.5]}], "c": "x"}', b'{"a": [1, {"b": [2, 3.5],}], "c": "x"}'):
        v = loads(text)
        assert v["a"][1]["b"][1] == Decimal("3.5") and type(v["a"][1]["b"][1]) is Decimal
    assert type(loads(b"[[[[18446744073709551616]]]]")[0][0][0][0]) is int


def test_orjson_is_taken_only_after_enough_values_and_changes_nothing(monkeypatch):
    """orjson (the optional extra) is imported after ORJSON_AFTER parsed values, not at the first
    one (its import costs more than it saves on a few values); both decoders give equal values."""
    from ravenmigrate.codecs import jsonvalue

    pytest.importorskip("orjson")
    monkeypatch.setattr(jsonvalue, "_FAST", jsonvalue.LazyOrjson(jsonvalue.ORJSON_AFTER))
    samples = [b'{"@id": "a/1", "n": [1, -2, 18446744073709551616], "t": true, "z": null, "s": "\\u00e9"}',
               b'{"f": 1.50, "e": 1e400}', b'"x"', b"[]", b"{'lenient': 1,}"]
    before = [loads(s) for s in samples]
    assert jsonvalue._FAST.loads is False
    jsonvalue._FAST.asked = jsonvalue.ORJSON_AFTER
    after = [loads(s) for s in samples]
    assert jsonvalue._FAST.loads is not False and jsonvalue._FAST.loads is not None
    assert after == before and [type(v) for v in after] == [type(v) for v in before]
    assert type(after[1]["f"]) is Decimal and str(after[1]["f"]) == "1.50"
