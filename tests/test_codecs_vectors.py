"""The 68 known-answer vectors of bundles-vectors.json (RavenDB 3.5's own codec output, bundles-3x.md §9)
decode to their plaintexts with both twins."""

from __future__ import annotations

import base64
import json

import pytest
from codec_twins import twin  # noqa: F401 - fixture used via usefixtures
from conftest import REFERENCE

from ravenmigrate.codecs.compression import decompress
from ravenmigrate.codecs.document import decode_document
from ravenmigrate.codecs.encryption import EncryptionSettings, decrypt_ravenfs_page, encrypt_value
from ravenmigrate.codecs.index_file import decode_index_file, encode_index_file

VECTORS = json.loads((REFERENCE / "bundles-vectors.json").read_text())["vectors"]
B64 = base64.b64decode


def _id(v: dict) -> str:
    parts = [v["kind"], v.get("algorithm", ""), str(v.get("bits_pref", "")), v.get("salt", "")]
    parts += [v.get("doc_key", v.get("header", "")), "cmpr" if v.get("compressed") else ""]
    return "-".join(p for p in parts if p)


def _settings(v: dict) -> EncryptionSettings:
    return EncryptionSettings(B64(v["key_b64"]), v["algorithm"], v["bits_pref"], v["salt"] == "sha1")


def _plaintext(v: dict) -> bytes:
    if "plaintext_b64" in v:
        return B64(v["plaintext_b64"])
    return bytes((i * 13 + 1) & 0xFF for i in range(v["plaintext_len"]))  # the vector's `pattern`


def test_vector_file_has_68():
    assert len(VECTORS) == 68


@pytest.mark.parametrize("v", VECTORS, ids=[f"{i}-{_id(v)}" for i, v in enumerate(VECTORS)])
@pytest.mark.usefixtures("twin")
def test_vector_decodes(v):
    blob, plain = B64(v["blob_b64"]), _plaintext(v)
    if v["kind"] == "compression-only":
        assert decompress(blob) == plain
        return
    s = _settings(v)
    if "derived_key_b64" in v:
        assert s.derived == (B64(v["derived_key_b64"]), B64(v["derived_iv_b64"]))
    if v["kind"] == "document":
        assert plain[:3] == b"\xef\xbb\xbf"
        assert decode_document(blob, v["doc_key"], encryption=s) == plain[3:]
        assert decode_document(blob, v["doc_key"], encryption=s, compression=True) == plain[3:]
    elif v["kind"] == "ravenfs-page":
        assert decrypt_ravenfs_page(s, blob) == plain
    else:
        assert decode_index_file(blob, s) == plain
        assert len(plain) == v["raven_length"]


@pytest.mark.parametrize(
    "v",
    [v for v in VECTORS if v["kind"] in ("document", "ravenfs-page") and not v.get("compressed")],
    ids=_id,
)
@pytest.mark.usefixtures("twin")
def test_uncompressed_vectors_reencode_byte_exact(v):
    """bundles-3x.md §6: documents without compression and pages re-encode byte for byte."""
    assert encrypt_value(_settings(v), v["doc_key"], _plaintext(v)) == B64(v["blob_b64"])


@pytest.mark.parametrize("v", [v for v in VECTORS if v["kind"] == "index-file" and v["single_flush"]], ids=_id)
@pytest.mark.usefixtures("twin")
def test_single_flush_index_files_reencode_with_their_ivs(v):
    blob, s = B64(v["blob_b64"]), _settings(v)
    bs = s.cipher_family.block
    header = 28 if v["header"] == "v2" else 20
    stride = bs + 12288 + bs
    ivs = [blob[p : p + bs] for p in range(header, len(blob) - 8, stride)]
    assert encode_index_file(_plaintext(v), s, header=v["header"], ivs=ivs) == blob
