"""Native and pure codec twins agree byte for byte, on good input and on damaged input (same errors)."""

from __future__ import annotations

import random
import zlib

import pytest
from codec_twins import native, pure
from cryptography.hazmat.decrepit.ciphers.algorithms import RC2
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from test_codecs_bson import _random_value, document

from ravenmigrate.codecs.errors import BundleDecodeError


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except (ValueError, BundleDecodeError) as exc:
        return (type(exc).__name__, str(exc))


def test_rc2_twins_agree_and_match_the_library_at_128_bits():
    n, p = native("rc2"), pure("rc2")
    rng = random.Random(3)
    for size in range(5, 17):
        key, iv, data = rng.randbytes(size), rng.randbytes(8), rng.randbytes(8 * rng.randrange(1, 40))
        sched = p.key_schedule(key, size * 8)
        assert n.key_schedule(key, size * 8) == sched
        enc = p.cbc_encrypt(sched, iv, data)
        assert n.cbc_encrypt(sched, iv, data) == enc
        assert n.cbc_decrypt(sched, iv, enc) == p.cbc_decrypt(sched, iv, enc) == data
        if size == 16:
            e = Cipher(RC2(key), modes.CBC(iv)).encryptor()
            assert e.update(data) + e.finalize() == enc
    assert _outcome(n.cbc_decrypt, sched, iv, b"1234567") == _outcome(p.cbc_decrypt, sched, iv, b"1234567")


def test_inflate_twins_agree_on_damaged_streams():
    n, p = native("inflate"), pure("inflate")
    rng = random.Random(5)
    for _ in range(300):
        raw = rng.randbytes(rng.randrange(0, 3000)) * rng.randrange(1, 4)
        co = zlib.compressobj(rng.randrange(1, 10), zlib.DEFLATED, -15)
        blob = bytearray(b"Cmpr" + co.compress(raw) + co.flush())
        action = rng.randrange(3)
        if action == 1:
            del blob[rng.randrange(4, len(blob)) :]
        elif action == 2:
            blob[rng.randrange(4, len(blob))] ^= 1 << rng.randrange(8)
        a = _outcome(n.inflate_raw, bytes(blob), 4, "document 'x'", None)
        assert a == _outcome(p.inflate_raw, bytes(blob), 4, "document 'x'", None)
        if action == 0:
            assert a == ("ok", raw)


@pytest.mark.parametrize("seed", range(3))
def test_bson_twins_agree_on_damaged_documents(seed):
    n, p = native("bson"), pure("bson")
    rng = random.Random(seed)
    agree = 0
    for _ in range(300):
        doc = bytearray(document({f"f{i}": _random_value(rng, 0) for i in range(rng.randrange(1, 6))}))
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(doc))
            doc[pos] = rng.choice([0, 0xFF, 0x80, 0xC2, 0xED, rng.randrange(256)])
        if rng.random() < 0.3:
            del doc[rng.randrange(len(doc)) :]
        result = _outcome(n.to_json, bytes(doc))
        assert result == _outcome(p.to_json, bytes(doc)), bytes(doc).hex()
        agree += result[0] == "ok"
    assert agree > 10  # some damaged documents still parse (e.g. a changed string byte)


def test_cbc_chaining_twins_agree_with_the_library():
    """ECB + the chaining XOR equals the library's own CBC decryption (AES and 3DES)."""
    import os

    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import algorithms

    n, p = native("cbc"), pure("cbc")
    for alg, bs in ((algorithms.AES(os.urandom(32)), 16), (TripleDES(os.urandom(24)), 8)):
        for blocks in (1, 2, 7, 300):
            iv, data = os.urandom(bs), os.urandom(bs * blocks)
            d = Cipher(alg, modes.CBC(iv)).decryptor()
            expected = d.update(data) + d.finalize()
            ecb = Cipher(alg, modes.ECB()).decryptor().update(data)
            assert n.unchain(ecb, iv, data) == p.unchain(ecb, iv, data) == expected
    assert _outcome(n.unchain, b"12", b"1" * 8, b"123") == _outcome(p.unchain, b"12", b"1" * 8, b"123")
