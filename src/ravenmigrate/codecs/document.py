"""Decode and encode a stored document body: the whole 3.x codec chain (docs/formats/dumps-3x.md §11.1).

stored = Encrypt(UTF8(itemKey) ‖ Compress(BOM‖JSON)); decoding is decrypt, check the item-key
prefix, inflate when ``Cmpr`` leads, then JSON/BSON sniffing (docs/formats/bundles.md §2.6).
"""

from __future__ import annotations

from ravenmigrate.codecs.body import BOM, decode_body
from ravenmigrate.codecs.compression import compress, decompress
from ravenmigrate.codecs.encryption import EncryptionSettings, decrypt_value, encrypt_value, is_exempt

__all__ = ["EncryptionSettings", "decode_document", "encode_document"]

NO_KEY_HINT = (
    " (if the database has the Encryption bundle, pass --encryption-key BASE64 with "
    "--encryption-algorithm and --encryption-bits)"
)


def decode_document(
    stored: bytes | bytearray | memoryview,
    key: str,
    *,
    compression: bool | None = None,
    encryption: EncryptionSettings | None = None,
    path: str | None = None,
) -> bytes:
    """The document JSON (compact, UTF-8, no BOM) for a stored body.

    *key* is the item key the storage used as the encryption prefix: the lower-cased id on Voron,
    the id as stored on Esent (docs/formats/bundles.md §2.3). *compression*: None auto-detects the ``Cmpr``
    magic, True inflates it too (RavenDB passes values without the magic through either way), False
    treats ``Cmpr`` as an error. *encryption*: the database's settings, or None when the
    Encryption bundle is off; ids under ``Raven/`` (except the verification document) are never
    encrypted. Errors are ``BundleDecodeError``/``BundleKeyError`` with a docs/formats/bundles.md §7 code.
    """
    what = f"document {key!r}"
    inner = stored if isinstance(stored, bytes) else bytes(stored)
    hint = ""
    if not is_exempt(key):
        if encryption is not None:
            inner = decrypt_value(encryption, key, inner, what=what, path=path)
        else:
            hint = NO_KEY_HINT
    if compression is not False:
        inner = decompress(inner, what=what, path=path)
    return decode_body(inner, what=what, path=path, hint=hint)


def encode_document(
    json_body: bytes,
    key: str,
    *,
    compression: bool = False,
    encryption: EncryptionSettings | None = None,
    bom: bool = True,
) -> bytes:
    """The project's own encoder: what 3.x would store for *json_body* under *key*.

    BOM‖JSON (as ``RavenJToken.WriteTo`` writes it), then ``Cmpr``‖deflate when *compression*,
    then the item-key prefix and CBC/PKCS7 when *encryption* applies to *key* (docs/formats/bundles.md §2.6).
    *json_body* may also be a BSON document (then pass ``bom=False``).
    """
    inner = BOM + json_body if bom and json_body[:3] != BOM else json_body
    if compression:
        inner = compress(inner)
    if encryption is not None and not is_exempt(key):
        inner = encrypt_value(encryption, key, inner)
    return inner

