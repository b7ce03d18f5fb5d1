"""The bundle check shared by the raw-storage sources (Voron, Esent): which bundles a database's
``Database.Document`` activates, and whether the encryption key given fits the database before the
first record is read (docs/formats/bundles.md §2.3 "Known plaintext", §7)."""

from __future__ import annotations

from typing import Any

from ..codecs.encryption import EncryptionSettings
from ..codecs.verification import verify_key
from ..errors import WrongKeyError
from ..records import Finding


def active_bundles(document: dict[str, Any] | None) -> list[str]:
    """The ``Raven/ActiveBundles`` setting of a database (or file system) document, split on ``;``."""
    settings = (document or {}).get("Settings")
    raw = settings.get("Raven/ActiveBundles", "") if isinstance(settings, dict) else ""
    return [b.strip() for b in str(raw).split(";") if b.strip()]


def check_bundles(document: dict[str, Any] | None, verification: bytes | None,
                  encryption: EncryptionSettings | None, path: str) -> Finding | None:
    """Refuse (:class:`WrongKeyError`) when the database is encrypted and *encryption* is missing or wrong.

    *verification* is the stored body of ``Raven/Encryption/Verification`` (``None`` when absent).
    Returns the finding to report when a key was given but there is nothing to check it against.
    """
    if encryption is None:
        if verification is not None or "Encryption" in active_bundles(document):
            raise WrongKeyError(
                "the database uses the Encryption bundle (Raven/Encryption/Verification is present or "
                "Raven/ActiveBundles lists Encryption); pass --encryption-key BASE64 with "
                "--encryption-algorithm and --encryption-bits", path=path)
        return None
    if verification is None:
        return Finding("warn-no-verification", "no Raven/Encryption/Verification document: the encryption key "
                                               "cannot be checked before reading")
    verify_key(encryption, verification, path=path)
    return None
