"""Bundle-encoded documents in the document path of a Voron storage (bundles-3x.md §2.3, §2.6).

No real compressed or encrypted Voron sample exists (raw-storage.md §8), so each test writes a
Voron storage directory with ``fixtures/voron_builder.py`` (real page, node, overflow and journal
layout, checked against the real backups in test_voron.py) whose ``documents`` rows are made by the
project's own encoder, ``ravenmigrate.codecs.document.encode_document``, keyed by the lower-cased id
exactly as 3.x Voron stores them. The source must give back the original bodies.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
from pathlib import Path

import pytest

from ravenmigrate import cli
from ravenmigrate.codecs.document import EncryptionSettings, encode_document
from ravenmigrate.errors import WrongKeyError
from ravenmigrate.records import Document
from ravenmigrate.sources.voron import VoronSource

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import voron_builder  # noqa: E402

KEY = base64.b64decode("3w17MIVIBLSWZpzH0YarqRlR2+yHiv1Zq3TCWXLEMI8=")  # bundles-3x.md §2.2 test key
VERIFICATION = b'{"Text":"The encryption is correct."}'


def _bson_name(name: str) -> bytes:
    """A 2.x BSON body ``{"Name": name}`` (formats-3x.md §11.1)."""
    value = name.encode() + b"\x00"
    element = b"\x02Name\x00" + struct.pack("<i", len(value)) + value
    return struct.pack("<i", 4 + len(element) + 1) + element + b"\x00"


def _bodies() -> dict[str, bytes]:
    return {
        "users/1": b'{"Name":"Plain","Age":31}',
        "Users/2": b'{"Name":"Mixed case id","Tags":["a","b"],"Price":12.50}',
        "orders/3": json.dumps({"Lines": [{"Product": f"products/{i}", "Qty": i} for i in range(400)]},
                               separators=(",", ":")).encode(),  # > one page: stored as an overflow run
        "Raven/Hilo/users": b'{"Max":32}',  # Raven/ ids are never encrypted, still compressed
    }


def _storage(dest: Path, *, compression: bool, encryption: EncryptionSettings | None, journal_pages: int = 0,
             with_verification: bool = True) -> dict[str, bytes]:
    bodies = _bodies()
    rows = []
    for doc_id, body in bodies.items():
        stored = encode_document(body, doc_id.lower(), compression=compression, encryption=encryption)
        rows.append((doc_id, stored, {"Raven-Entity-Name": doc_id.split("/")[0].title()}))
    rows.append(("companies/9", encode_document(_bson_name("From 2.x"), "companies/9", compression=compression,
                                                encryption=encryption, bom=False), {}))
    bodies["companies/9"] = b'{"Name":"From 2.x"}'
    if encryption is not None and with_verification:
        doc_id = "Raven/Encryption/Verification"
        rows.append((doc_id, encode_document(VERIFICATION, doc_id.lower(), compression=compression,
                                             encryption=encryption), {}))
        bodies[doc_id] = VERIFICATION
    voron_builder.database(dest, rows, identities={"users": 2}, journal_pages=journal_pages)
    return bodies


def _read(dest: Path, **options) -> dict[str, bytes]:
    out = {}
    for record in VoronSource(dest, **options).records():
        if isinstance(record, Document):
            body = json.loads(record.data)
            assert body.pop("@metadata") == record.metadata and record.metadata["@id"] == record.id
            out[record.id] = body
    return out


SETTINGS = [
    EncryptionSettings(KEY, "RijndaelManaged", 256),
    EncryptionSettings(KEY, "TripleDESCryptoServiceProvider", 192),
    EncryptionSettings(KEY, "RC2CryptoServiceProvider", 128),
    EncryptionSettings(KEY, "DESCryptoServiceProvider", 64, legacy_sha1=True),
]


@pytest.mark.parametrize("compression", [False, True], ids=["plain", "compressed"])
@pytest.mark.parametrize("encryption", [None, *SETTINGS], ids=["clear", "aes256", "3des", "rc2", "des-sha1"])
def test_encoded_rows_decode_to_the_original_bodies(tmp_path, compression, encryption):
    bodies = _storage(tmp_path / "db", compression=compression, encryption=encryption, journal_pages=6)
    assert (tmp_path / "db" / "0000000000000000001.journal").is_file()
    got = _read(tmp_path / "db", compression=None, encryption=encryption)
    assert got == {k: json.loads(v) for k, v in bodies.items()}


def test_stored_rows_really_are_encoded(tmp_path):
    """Guard against a test that passes trivially: the plaintext is nowhere in the storage files."""
    _storage(tmp_path / "db", compression=True, encryption=SETTINGS[0])
    raw = b"".join(p.read_bytes() for p in (tmp_path / "db").iterdir())
    assert b"Mixed case id" not in raw and b"Plain" not in raw and b"From 2.x" not in raw
    assert b"Users/2" in raw  # ids and metadata are never encoded (bundles-3x.md §2.5)


@pytest.mark.parametrize("wrong", [
    EncryptionSettings(b"not the right key at all", "RijndaelManaged", 256),
    EncryptionSettings(KEY, "RijndaelManaged", 128),
    EncryptionSettings(KEY, "RijndaelManaged", 256, legacy_sha1=True),
], ids=["key", "bits", "salt"])
def test_a_wrong_key_is_refused_before_any_record(tmp_path, wrong):
    _storage(tmp_path / "db", compression=True, encryption=SETTINGS[0])
    records = VoronSource(tmp_path / "db", encryption=wrong).records()
    with pytest.raises(WrongKeyError, match="Raven/Encryption/Verification"):
        next(records)


def test_an_encrypted_database_without_a_key_is_refused_before_any_record(tmp_path):
    _storage(tmp_path / "db", compression=False, encryption=SETTINGS[1])
    with pytest.raises(WrongKeyError, match="--encryption-key"):
        next(VoronSource(tmp_path / "db").records())


def test_without_verification_document_a_finding_says_the_key_was_not_checked(tmp_path):
    bodies = _storage(tmp_path / "db", compression=False, encryption=SETTINGS[0], with_verification=False)
    source = VoronSource(tmp_path / "db", encryption=SETTINGS[0])
    got = {r.id: json.loads(r.data) for r in source.records() if isinstance(r, Document)}
    assert set(got) == set(bodies)
    assert "warn-no-verification" in [f.code for f in source.findings]


def test_legacy_attachments_keep_original_keys_etags_and_bytes(tmp_path):
    """Attachments are never bundle-encoded (bundles-3x.md §2.5): bytes as stored, headers JSON parsed."""
    builder = voron_builder.StorageBuilder()
    builder.add_tree("documents", [])
    builder.add_tree("documents_metadata", [])
    big = bytes(range(256)) * 40  # 10 KB: an overflow run
    voron_builder.attachment_trees(builder, [
        ("images/Logo.PNG", big, {"Content-Type": "image/png", "Raven-Entity-Name": "x"}),
        ("docs/a.txt", b"hello", {}),
    ])
    builder.write(tmp_path / "db", journal_pages=2)
    source = VoronSource(tmp_path / "db")
    got = list(source.records())
    assert [(a.key, a.data, a.metadata, a.etag, a.position.key) for a in got] == [
        ("docs/a.txt", b"hello", {}, "02000000-0000-0000-0000-000000000002", "docs/a.txt"),
        ("images/Logo.PNG", big, {"Content-Type": "image/png", "Raven-Entity-Name": "x"},
         "02000000-0000-0000-0000-000000000001", "images/logo.png"),
    ]
    assert source.counts["Attachments"] == 2 and source.counts["Docs"] == 0


def test_inspect_command_takes_the_migration_dialog_options(tmp_path, capsys):
    _storage(tmp_path / "db", compression=True, encryption=SETTINGS[0])
    base = ["inspect", "--json", str(tmp_path / "db"), "--compression", "--encryption-algorithm", "Rijndael",
            "--encryption-bits", "256", "--encryption-key"]
    assert cli.main(base + [base64.b64encode(b"a wrong key of 32 bytes........").decode()]) == 1
    assert "Raven/Encryption/Verification does not decrypt" in capsys.readouterr().err
    assert cli.main(base + [base64.b64encode(KEY).decode()]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["Docs"] == 6
