"""Encryption bundle, stream form: settings, key/IV derivation, document encrypt/decrypt.

docs/formats/bundles.md §2.2 (PBKDF2-HMAC-SHA1, 1000 iterations, salt MD5(key) or SHA1(key) for 2.x
databases), §2.3 (``CBC-PKCS7(K, IV0, UTF8(itemKey) ‖ inner)``, the item-key prefix check, the
``Raven/`` exemption) and docs/formats/dumps-3x.md §11.1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from functools import cached_property

from ravenmigrate.codecs.ciphers import Algorithm, CbcCipher, algorithm_named, pkcs7_pad, pkcs7_unpad
from ravenmigrate.codecs.errors import BundleConfigError, BundleDecodeError, BundleKeyError

PBKDF2_ITERATIONS = 1000  # Constants.Rfc2898Iterations (docs/formats/bundles.md §2.2)
MINIMUM_KEY_LENGTH = 8  # MinimumAcceptableEncryptionKeyLength (docs/formats/bundles.md §2.1)
VERIFICATION_ID = "Raven/Encryption/Verification"
RAVENFS_PAGE_KEY = "{AE63BE19}"  # item key of every RavenFS page (docs/formats/bundles.md §2.3)


@dataclass(frozen=True)
class EncryptionSettings:
    """The database's raw key, algorithm name, key-size preference in bits and salt variant.

    ``legacy_sha1`` selects the SHA1 salt of databases created by 2.x (docs/formats/bundles.md §2.2).
    The derived key and IV are computed once per settings object.
    """

    key: bytes
    algorithm: str = "AesCryptoServiceProvider"
    bits: int = 128
    legacy_sha1: bool = False

    def __post_init__(self) -> None:
        if len(self.key) < MINIMUM_KEY_LENGTH:
            raise BundleConfigError(
                f"encryption key is {len(self.key)} bytes; RavenDB requires at least "
                f"{MINIMUM_KEY_LENGTH} (docs/formats/bundles.md §2.1)"
            )
        if self.bits <= 0:
            raise BundleConfigError(f"encryption key size must be a positive number of bits, got {self.bits}")
        algorithm_named(self.algorithm)

    @classmethod
    def from_base64(
        cls, key_b64: str, algorithm: str = "AesCryptoServiceProvider", bits: int = 128, legacy_sha1: bool = False
    ) -> EncryptionSettings:
        """Build settings from ``Raven/Encryption/Key`` as stored: base64 of the raw key."""
        try:
            key = base64.b64decode(key_b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise BundleConfigError(f"encryption key {key_b64[:12]!r}... is not valid base64") from None
        return cls(key, algorithm, bits, legacy_sha1)

    def __reduce__(self):
        """Pickle the four settings only (worker processes derive their own key and cipher contexts)."""
        return (EncryptionSettings, (self.key, self.algorithm, self.bits, self.legacy_sha1))

    @cached_property
    def cipher_family(self) -> Algorithm:
        return algorithm_named(self.algorithm)

    @cached_property
    def key_bits(self) -> int:
        """The key size actually used (docs/formats/bundles.md §2.1 "Key size")."""
        return self.cipher_family.key_bits(self.bits)

    @cached_property
    def derived(self) -> tuple[bytes, bytes]:
        """``(K, IV0)`` = PBKDF2-HMAC-SHA1(key, salt, 1000) split at the key length (docs/formats/bundles.md §2.2)."""
        salt = (hashlib.sha1 if self.legacy_sha1 else hashlib.md5)(self.key).digest()
        klen = self.key_bits // 8
        dk = hashlib.pbkdf2_hmac("sha1", self.key, salt, PBKDF2_ITERATIONS, klen + self.cipher_family.block)
        return dk[:klen], dk[klen:]

    @cached_property
    def cipher(self) -> CbcCipher:
        return CbcCipher(self.cipher_family, self.derived[0])

    def describe(self) -> str:
        """E.g. ``RC2 with a 128-bit key (preference 256), MD5 salt``."""
        pref = "" if self.bits == self.key_bits else f" (preference {self.bits})"
        salt = "SHA1 salt (2.x database)" if self.legacy_sha1 else "MD5 salt"
        return f"{self.cipher_family.name} with a {self.key_bits}-bit key{pref}, {salt}"


def is_exempt(doc_id: str) -> bool:
    """Ids starting with ``Raven/`` (any case) are stored unencrypted, except the verification
    document (docs/formats/bundles.md §2.3 "Not encrypted")."""
    low = doc_id.lower()
    return low.startswith("raven/") and low != VERIFICATION_ID.lower()


def encrypt_value(settings: EncryptionSettings, item_key: str, inner: bytes) -> bytes:
    """``CBC-PKCS7(K, IV0, UTF8(item_key) ‖ inner)`` (docs/formats/bundles.md §2.3 "Encode")."""
    k_iv = settings.derived[1]
    plain = pkcs7_pad(item_key.encode("utf-8") + inner, settings.cipher_family.block)
    return settings.cipher.encrypt(k_iv, plain)


def decrypt_raw(settings: EncryptionSettings, blob: bytes, *, what: str, path: str | None = None) -> bytes:
    """Decrypt and unpad *blob*; the item-key prefix is still in front (docs/formats/bundles.md §2.3 "Decode")."""
    bs = settings.cipher_family.block
    if not blob or len(blob) % bs:
        raise BundleDecodeError(
            "ciphertext-length",
            f"{what}: {len(blob)} encrypted bytes is not a positive multiple of the {bs}-byte "
            f"{settings.cipher_family.name} block: the value is truncated or the algorithm is wrong "
            f"(tried {settings.describe()})",
            path=path,
        )
    plain = pkcs7_unpad(settings.cipher.decrypt(settings.derived[1], blob), bs)
    if plain is None:
        raise BundleKeyError(
            "bad-padding",
            f"{what}: invalid PKCS7 padding after decrypting with {settings.describe()}: wrong key, "
            "algorithm, key size or salt (a database created by 2.x needs the SHA1 salt), or a corrupt "
            "last block",
            path=path,
        )
    return plain


def decrypt_value(
    settings: EncryptionSettings, item_key: str, blob: bytes, *, what: str | None = None, path: str | None = None
) -> bytes:
    """Decrypt *blob* and check and remove the ``UTF8(item_key)`` prefix; returns the inner bytes.

    The comparison is byte for byte and case-sensitive, as RavenDB's ``ReadSalt``: on Voron the item
    key is the lower-cased id, on Esent the id as stored (docs/formats/bundles.md §2.3).
    """
    what = what or f"document {item_key!r}"
    plain = decrypt_raw(settings, blob, what=what, path=path)
    prefix = item_key.encode("utf-8")
    if plain[: len(prefix)] != prefix:
        hint = ""
        if plain[: len(prefix)].lower() == prefix.lower():
            hint = " (only the case differs: Voron stores the lower-cased id, Esent the id as written)"
        raise BundleKeyError(
            "key-prefix-mismatch",
            f"{what}: decrypted value should start with the item key {item_key!r} but starts with "
            f"{plain[: len(prefix)]!r}{hint} (decrypted with {settings.describe()})",
            path=path,
        )
    return plain[len(prefix) :]


def decrypt_ravenfs_page(settings: EncryptionSettings, blob: bytes, *, path: str | None = None) -> bytes:
    """A RavenFS page: the stream form with the constant item key ``{AE63BE19}`` (docs/formats/bundles.md §2.3)."""
    return decrypt_value(settings, RAVENFS_PAGE_KEY, blob, what="RavenFS page", path=path)


def encrypt_ravenfs_page(settings: EncryptionSettings, page: bytes) -> bytes:
    """The project's own RavenFS page encoder (inverse of :func:`decrypt_ravenfs_page`)."""
    return encrypt_value(settings, RAVENFS_PAGE_KEY, page)
