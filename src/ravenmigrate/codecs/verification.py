"""Check an encryption key against the ``Raven/Encryption/Verification`` document.

docs/formats/bundles.md §2.3 "Known plaintext": the document holds ``{"Text":"The encryption is correct."}``;
§6 suggests probing every algorithm, key size and salt variant with it; §7 the messages.
"""

from __future__ import annotations

import json

from ravenmigrate.codecs.body import decode_body
from ravenmigrate.codecs.ciphers import ALGORITHMS
from ravenmigrate.codecs.compression import decompress
from ravenmigrate.codecs.encryption import VERIFICATION_ID, EncryptionSettings, decrypt_raw
from ravenmigrate.codecs.errors import BundleDecodeError, BundleKeyError

VERIFICATION_TEXT = "The encryption is correct."  # Constants.InResourceKeyVerificationDocumentContents
VERIFICATION_JSON = b'{"Text":"The encryption is correct."}'
_ITEM_KEYS = (VERIFICATION_ID.lower().encode(), VERIFICATION_ID.encode())  # Voron, Esent


def _failure(settings: EncryptionSettings, stored: bytes) -> str | None:
    """None when *settings* decrypt *stored* to the verification document, else what went wrong."""
    try:
        plain = decrypt_raw(settings, stored, what=VERIFICATION_ID)
    except (BundleKeyError, BundleDecodeError) as exc:
        return exc.reason
    prefix = next((k for k in _ITEM_KEYS if plain.startswith(k)), None)
    if prefix is None:
        return f"decrypted value starts with {plain[:30]!r}, not the item key {VERIFICATION_ID!r}"
    try:
        body = json.loads(decode_body(decompress(plain[len(prefix) :], what=VERIFICATION_ID), what=VERIFICATION_ID))
    except (BundleDecodeError, ValueError) as exc:
        return f"decrypted body is not the verification JSON ({exc})"
    if not isinstance(body, dict) or body.get("Text") != VERIFICATION_TEXT:
        return f"decrypted body is {json.dumps(body)[:80]}, not {VERIFICATION_JSON.decode()}"
    return None


def probe_settings(key: bytes, stored: bytes) -> list[EncryptionSettings]:
    """Every algorithm family × legal key size × salt variant that decrypts the verification document."""
    found = []
    for legacy in (False, True):
        for alg in ALGORITHMS:
            for bits in alg.legal_bits:
                candidate = EncryptionSettings(key, alg.name, bits, legacy)
                if _failure(candidate, stored) is None:
                    found.append(candidate)
    return found


def verify_key(settings: EncryptionSettings, stored: bytes, *, path: str | None = None) -> None:
    """Raise ``WrongKeyError`` (code ``verification``) unless *settings* decrypt *stored*, the stored
    bytes of ``Raven/Encryption/Verification``, to ``{"Text":"The encryption is correct."}``.

    On failure the message names the settings tried, what was expected, what was found, and, when
    the same key works with another algorithm, key size or salt, the options that would work.
    """
    failure = _failure(settings, stored)
    if failure is None:
        return
    right = probe_settings(settings.key, stored)
    if right:
        fixes = "; ".join(
            f"{s.describe()} (--encryption-algorithm {_option_name(s)} --encryption-bits {s.key_bits}"
            + (" --encryption-legacy-sha1)" if s.legacy_sha1 else ")")
            for s in right
        )
        advice = f"the key is right but the database uses {fixes}"
    else:
        advice = "no algorithm, key size or salt decrypts it with this key: the key is wrong"
    raise BundleKeyError(
        "verification",
        f"{VERIFICATION_ID} does not decrypt with {settings.describe()}: expected the item key "
        f"{VERIFICATION_ID!r} followed by {VERIFICATION_JSON.decode()}; {failure}. {advice}",
        path=path,
    )


def _option_name(settings: EncryptionSettings) -> str:
    return {"AES": "Rijndael", "DES": "DES", "3DES": "'Triple DES'", "RC2": "RC2"}[settings.cipher_family.name]
