"""RavenDB-BSON bodies (1.x/2.x) to compact JSON, and the JSON/BSON sniffing rule (formats-3x.md §11.1)."""

from __future__ import annotations

import decimal
import json
import math
import random
import struct

import pytest
from codec_twins import native, pure, twin  # noqa: F401 - fixture used via usefixtures

from ravenmigrate.codecs.body import decode_body, is_json
from ravenmigrate.codecs.bson_encode import BsonDate as Date
from ravenmigrate.codecs.bson_encode import DotNetDecimal as Dec
from ravenmigrate.codecs.bson_encode import Float32 as F32
from ravenmigrate.codecs.bson_encode import to_bson as document
from ravenmigrate.codecs.document import decode_document, encode_document
from ravenmigrate.codecs.encryption import EncryptionSettings
from ravenmigrate.codecs.errors import BundleDecodeError


def test_renders_like_3x_json():
    doc = document({
        "Company": "companies/85", "Freight": Dec(3238, 2), "Exact": Dec(32380, 3), "Whole": Dec(5, 0),
        "Neg": Dec(1, 28, True), "Val": F32(3.3), "Big": F32(1e20), "D": 0.1 + 0.2, "Five": 5.0,
        "Tiny": 1e-5, "I": -7, "L": 2**40, "OrderedAt": Date(836438400000), "Ms": Date(-1),
        "B": True, "N": None, "Bin": b"\x00\xff", "Lines": [1, {"Q": "x"}],
        "Esc": 'q"\\\n\t\x01\u2028é☃',
    })
    out = decode_body(doc)
    assert out == (
        b'{"Company":"companies/85","Freight":32.38,"Exact":32.380,"Whole":5.0,'
        b'"Neg":-0.0000000000000000000000000001,"Val":3.3,"Big":1E+20,"D":0.30000000000000004,"Five":5.0,'
        b'"Tiny":1E-05,"I":-7,"L":1099511627776,"OrderedAt":"1996-07-04T00:00:00.0000000",'
        b'"Ms":"1969-12-31T23:59:59.9990000","B":true,"N":null,"Bin":"AP8=","Lines":[1,{"Q":"x"}],'
        b'"Esc":"q\\"\\\\\\n\\t\\u0001\\u2028' + "é☃".encode() + b'"}'
    )
    assert json.loads(out)["Val"] == 3.3


def _random_value(rng: random.Random, depth: int):
    kind = rng.randrange(11 if depth < 3 else 8)
    if kind == 0:
        return rng.randrange(-(2**63), 2**63)
    if kind == 1:
        return struct.unpack("<d", rng.randbytes(8))[0]
    if kind == 2:
        return F32(struct.unpack("<f", rng.randbytes(4))[0])
    if kind == 3:
        return Dec(rng.randrange(2**96), rng.randrange(29), rng.random() < 0.5)
    if kind == 4:
        return "".join(chr(rng.choice([rng.randrange(0x20), rng.randrange(0x20, 0xD800), 0x2028, 0x85]))
                       for _ in range(rng.randrange(8)))
    if kind == 5:
        return Date(rng.randrange(-62135596800000, 253402300799999))
    if kind == 6:
        return rng.choice([None, True, False, rng.randbytes(rng.randrange(6))])
    if kind == 7:
        return rng.randrange(-(2**31), 2**31)
    if kind == 8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randrange(4))}


def test_native_and_pure_agree_byte_for_byte():
    rng = random.Random(7)
    docs = [document({f"f{i}": _random_value(rng, 0) for i in range(rng.randrange(1, 8))}) for _ in range(400)]
    outs = [pure("bson").to_json(d) for d in docs]
    for out in outs:
        json.loads(out)  # always valid JSON, NaN and Infinity included (as strings)
    n = native("bson")
    assert [n.to_json(d) for d in docs] == outs


@pytest.mark.usefixtures("twin")
def test_non_finite_numbers_stay_valid_json():
    out = decode_body(document({"a": math.nan, "b": F32(-math.inf), "c": math.inf}))
    assert json.loads(out) == {"a": "NaN", "b": "-Infinity", "c": "Infinity"}


@pytest.mark.parametrize(
    "bad, where",
    [
        (b"\x10\x00\x00\x00\x10a\x00\x01\x00", "needs"),  # declared 16 bytes, 9 present
        (struct.pack("<i", 12) + b"\x14a\x00\x00\x00\x00\x00\x00", "unknown BSON element type 0x14"),
        (struct.pack("<i", 13) + b"\x13a\x00" + b"\x00" * 5 + b"\x00", "needs 16 bytes"),
        (document({"a": "x"})[:-1] + b"\x01", "does not end with a NUL"),
    ],
)
@pytest.mark.usefixtures("twin")
def test_malformed_bson_is_refused(bad, where):
    with pytest.raises(BundleDecodeError, match=where) as err:
        decode_document(bad, "users/1")
    assert err.value.code == "body-parse" and "users/1" in str(err.value) and "offset" in str(err.value)


def test_sniffing_rule():
    assert is_json(b"{}") and is_json(b'\xef\xbb\xbf{"a":1}') and is_json(b'{"Name":1}')
    assert not is_json(document({"a": 1}))
    assert decode_body(b'\xef\xbb\xbf{"a":1}') == b'{"a":1}' == decode_body(b'{"a":1}')
    with pytest.raises(BundleDecodeError, match="expected a JSON object"):
        decode_body(b"not json at all")


@pytest.mark.usefixtures("twin")
def test_bson_body_through_the_whole_chain():
    """A 2.x BSON row in an upgraded, compressed and encrypted store decodes to JSON."""
    s = EncryptionSettings(b"0123456789abcdef", "RC2", 40)
    doc = document({"Name": "Alfreds", "Price": Dec(1800, 2), "Ratio": F32(0.25)})
    stored = encode_document(doc, "products/1", compression=True, encryption=s, bom=False)
    assert decode_document(stored, "products/1", encryption=s) == b'{"Name":"Alfreds","Price":18.00,"Ratio":0.25}'


@pytest.mark.usefixtures("twin")
def test_decimal_writer_keeps_the_scale():
    doc = document({"a": decimal.Decimal("18.00"), "b": decimal.Decimal("-1E+3"), "c": decimal.Decimal("0.0001")})
    assert decode_body(doc) == b'{"a":18.00,"b":-1000.0,"c":0.0001}'
