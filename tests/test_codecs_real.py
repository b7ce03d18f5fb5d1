"""Real Northwind documents (the 3.5 Studio export) through the whole codec chain, and through the 2.x
BSON form, with both twins (formats-3x.md §11.1, bundles-3x.md §2.6)."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from codec_twins import twin  # noqa: F401 - fixture used via usefixtures
from conftest import real

from ravenmigrate.codecs.bson_encode import to_bson
from ravenmigrate.codecs.document import decode_document, encode_document
from ravenmigrate.codecs.encryption import EncryptionSettings

DUMP = json.loads(gzip.decompress(real("Northwind_3.5.35168.ravendump").read_bytes()).decode("utf-8-sig"))
KEY = base64.b64decode("Byax1jveejqio9Urcdjw8431iQYKkPg6Ig4OxHdxSAU=")


def _bodies() -> list[tuple[str, bytes]]:
    out = []
    for doc in DUMP["Docs"]:
        meta = doc.pop("@metadata")
        out.append((meta["@id"].lower(), json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()))
    return out


BODIES = _bodies()


def test_the_export_has_the_northwind_documents():
    assert len(BODIES) == 1059


@pytest.mark.usefixtures("twin")
@pytest.mark.parametrize("algorithm, bits", [("Rijndael", 256), ("Triple DES", 192), ("RC2", 128), ("DES", 64)])
def test_real_documents_round_trip_compressed_and_encrypted(algorithm, bits):
    s = EncryptionSettings(KEY, algorithm, bits)
    for doc_id, body in BODIES[::7]:
        stored = encode_document(body, doc_id, compression=True, encryption=s)
        assert decode_document(stored, doc_id, encryption=s) == body


@pytest.mark.usefixtures("twin")
def test_real_documents_stored_as_2x_bson_render_the_same_json():
    """The BSON rows a 2.x store would hold for these documents render to the very same JSON text."""
    for doc_id, body in BODIES:
        stored = encode_document(to_bson(json.loads(body)), doc_id, compression=True, bom=False)
        assert decode_document(stored, doc_id) == body
