"""The project's own encoder round-trips every algorithm, key size, salt and codec combination, and
wrong settings are refused with a clear error (bundles-3x.md §2, §6, §7)."""

from __future__ import annotations

import base64
import json

import pytest
from codec_twins import twin  # noqa: F401 - fixture used via usefixtures
from conftest import REFERENCE

from ravenmigrate.codecs.compression import MAGIC
from ravenmigrate.codecs.document import decode_document, encode_document
from ravenmigrate.codecs.encryption import EncryptionSettings, is_exempt
from ravenmigrate.codecs.errors import BundleConfigError, BundleDecodeError, BundleKeyError
from ravenmigrate.codecs.index_file import decode_index_file, encode_index_file
from ravenmigrate.codecs.verification import VERIFICATION_JSON, probe_settings, verify_key
from ravenmigrate.errors import WrongKeyError

KEY = base64.b64decode("3w17MIVIBLSWZpzH0YarqRlR2+yHiv1Zq3TCWXLEMI8=")  # the 3.x test suite's key
ALGORITHMS = [
    "AesCryptoServiceProvider", "AesManaged", "RijndaelManaged", "DESCryptoServiceProvider",
    "TripleDESCryptoServiceProvider", "RC2CryptoServiceProvider",
]
BITS = [40, 64, 128, 192, 256]
IDS = ["users/1", "companies/1-a", "bücher/ü-1", "raven/encryption/verification", "Raven/Hilo/users"]
BODY = json.dumps({"Name": "Ünïcode ☃", "Lines": [{"Price": 32.38, "Qty": 3}] * 20}, ensure_ascii=False).encode()
VECTORS = json.loads((REFERENCE / "bundles-vectors.json").read_text())["vectors"]
VERIFICATION = next(
    v for v in VECTORS
    if v["kind"] == "document" and v["doc_key"] == "raven/encryption/verification" and not v["compressed"]
    and v["algorithm"] == "AesCryptoServiceProvider" and v["bits_pref"] == 128 and v["salt"] == "md5"
)
VERIFICATION_BLOB = base64.b64decode(VERIFICATION["blob_b64"])


@pytest.mark.parametrize("legacy", [False, True], ids=["md5", "sha1"])
@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.usefixtures("twin")
def test_round_trip(algorithm, bits, legacy):
    s = EncryptionSettings(KEY, algorithm, bits, legacy)
    for doc_id in IDS:
        for compression in (False, True):
            stored = encode_document(BODY, doc_id, compression=compression, encryption=s)
            if is_exempt(doc_id):
                assert stored.startswith(MAGIC if compression else b"\xef\xbb\xbf{")
            else:
                assert len(stored) % s.cipher_family.block == 0 and BODY not in stored
            assert decode_document(stored, doc_id, encryption=s) == BODY
            assert decode_document(stored, doc_id, encryption=s, compression=compression) == BODY


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.usefixtures("twin")
def test_index_file_round_trip(algorithm):
    s = EncryptionSettings(KEY, algorithm, 192)
    data = bytes((i * 7) & 0xFF for i in range(30000))
    for header in ("v1", "v2"):
        assert decode_index_file(encode_index_file(data, s, header=header), s) == data


def test_key_sizes_follow_the_legal_sizes_rule():
    """bundles-3x.md §2.1 table: 128/192/256 preferences per algorithm."""
    sizes = {a: [EncryptionSettings(KEY, a, b).key_bits for b in (128, 192, 256)] for a in ALGORITHMS}
    assert sizes["AesCryptoServiceProvider"] == [128, 192, 256]
    assert sizes["DESCryptoServiceProvider"] == [64, 64, 64]
    assert sizes["TripleDESCryptoServiceProvider"] == [128, 192, 192]
    assert sizes["RC2CryptoServiceProvider"] == [128, 128, 128]
    assert EncryptionSettings(KEY, "RC2", 40).key_bits == 40


def test_studio_short_names_resolve_like_type_names():
    blob = encode_document(BODY, "users/1", encryption=EncryptionSettings(KEY, "TripleDESCryptoServiceProvider", 192))
    for name in ("Triple DES", "TripleDES", "System.Security.Cryptography.TripleDESCryptoServiceProvider, mscorlib"):
        assert decode_document(blob, "users/1", encryption=EncryptionSettings(KEY, name, 192)) == BODY


@pytest.mark.usefixtures("twin")
def test_verification_accepts_the_right_settings():
    verify_key(EncryptionSettings(KEY, "Rijndael", 128), VERIFICATION_BLOB)
    assert decode_document(VERIFICATION_BLOB, "raven/encryption/verification",
                           encryption=EncryptionSettings(KEY, "AES", 128)) == VERIFICATION_JSON


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (EncryptionSettings(b"not the right key at all", "Rijndael", 128), "the key is wrong"),
        (EncryptionSettings(KEY, "Rijndael", 256), "AES with a 128-bit key"),
        (EncryptionSettings(KEY, "DES", 128), "AES with a 128-bit key"),
        (EncryptionSettings(KEY, "Rijndael", 128, legacy_sha1=True), "AES with a 128-bit key, MD5 salt"),
    ],
    ids=["wrong-key", "wrong-size", "wrong-algorithm", "wrong-salt"],
)
@pytest.mark.usefixtures("twin")
def test_verification_refuses_wrong_settings(wrong, expect):
    with pytest.raises(WrongKeyError) as err:
        verify_key(wrong, VERIFICATION_BLOB)
    msg = str(err.value)
    assert err.value.code == "verification"
    assert '{"Text":"The encryption is correct."}' in msg and wrong.describe() in msg and expect in msg


@pytest.mark.usefixtures("twin")
def test_wrong_key_on_a_document_is_refused():
    blob = encode_document(BODY, "orders/1", encryption=EncryptionSettings(KEY, "RC2", 64))
    for wrong in (EncryptionSettings(KEY, "RC2", 72), EncryptionSettings(KEY[::-1], "RC2", 64)):
        with pytest.raises(BundleKeyError) as err:
            decode_document(blob, "orders/1", encryption=wrong)
        assert err.value.code in ("bad-padding", "key-prefix-mismatch") and "orders/1" in str(err.value)
    rc2 = EncryptionSettings(KEY, "RC2", 64)
    padded = (encode_document(BODY + b" " * n, "orders/1", encryption=rc2) for n in range(9))
    aligned = next(b for b in padded if len(b) % 16 == 8)  # whole RC2 blocks, not whole AES blocks
    with pytest.raises(BundleDecodeError) as err:
        decode_document(aligned, "orders/1", encryption=EncryptionSettings(KEY, "AES", 128))
    assert err.value.code == "ciphertext-length" and "algorithm is wrong" in str(err.value)


def test_item_key_case_mismatch_is_named():
    s = EncryptionSettings(KEY)
    blob = encode_document(BODY, "users/1", encryption=s)
    with pytest.raises(BundleKeyError, match="only the case differs") as err:
        decode_document(blob, "Users/1", encryption=s)
    assert err.value.code == "key-prefix-mismatch"


def test_probe_finds_exactly_the_writer_settings():
    blob = encode_document(VERIFICATION_JSON, "raven/encryption/verification",
                           encryption=EncryptionSettings(KEY, "RC2", 56, legacy_sha1=True))
    found = probe_settings(KEY, blob)
    assert [(s.cipher_family.name, s.key_bits, s.legacy_sha1) for s in found] == [("RC2", 56, True)]


def test_bad_configuration_is_refused():
    with pytest.raises(BundleConfigError, match="at least 8"):
        EncryptionSettings(b"short")
    with pytest.raises(BundleConfigError, match="unknown encryption algorithm"):
        EncryptionSettings(KEY, "Blowfish")
    with pytest.raises(BundleConfigError, match="not valid base64"):
        EncryptionSettings.from_base64("***")


def test_compressed_value_without_compression_is_named():
    stored = encode_document(BODY, "users/1", compression=True)
    with pytest.raises(BundleDecodeError, match="compression bundle is not enabled") as err:
        decode_document(stored, "users/1", compression=False)
    assert err.value.code == "body-parse"


@pytest.mark.usefixtures("twin")
def test_truncated_deflate_is_refused():
    stored = encode_document(BODY, "users/1", compression=True)
    with pytest.raises(BundleDecodeError) as err:
        decode_document(stored[:-10], "users/1")
    assert err.value.code == "deflate" and "users/1" in str(err.value)
    assert decode_document(stored + b"trailing junk", "users/1") == BODY  # ignored, as RavenDB does


def test_settings_pickle_without_their_cipher_contexts():
    import pickle

    s = EncryptionSettings(KEY, "Rijndael", 256, legacy_sha1=True)
    blob = encode_document(BODY, "users/1", encryption=s)  # derives key and builds the cipher
    clone = pickle.loads(pickle.dumps(s))
    assert clone == s and decode_document(blob, "users/1", encryption=clone) == BODY


@pytest.mark.usefixtures("twin")
def test_buffers_from_storage_pages_decode_like_bytes():
    s = EncryptionSettings(KEY, "RC2", 64)
    stored = encode_document(BODY, "users/1", compression=True, encryption=s)
    page = bytearray(b"\x00" * 7 + stored + b"\x00" * 5)
    view = memoryview(page)[7 : 7 + len(stored)]
    assert decode_document(view, "users/1", encryption=s) == BODY
    assert decode_document(memoryview(b'\xef\xbb\xbf{"a":1}'), "raven/x") == b'{"a":1}'


def test_encrypted_value_read_without_a_key_says_so():
    stored = encode_document(BODY, "users/1", encryption=EncryptionSettings(KEY))
    with pytest.raises(BundleDecodeError, match="pass --encryption-key") as err:
        decode_document(stored, "users/1")
    assert err.value.code == "body-parse"
