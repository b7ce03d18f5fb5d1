"""Codec failures with a stable ``code`` (docs/formats/bundles.md §7), built on the project's SourceError."""

from __future__ import annotations

from ravenmigrate.errors import RavenMigrateError, SourceError, WrongKeyError


class BundleConfigError(RavenMigrateError, ValueError):
    """Encryption settings RavenDB itself would refuse (docs/formats/bundles.md §7, code ``config``)."""

    code = "config"


class BundleDecodeError(SourceError):
    """A stored value that does not decode; ``code`` is one of the docs/formats/bundles.md §7 codes.

    Codes: ``ciphertext-length``, ``deflate``, ``body-parse``, ``index-file``.
    """

    def __init__(self, code: str, message: str, *, path: str | None = None) -> None:
        self.code = code
        super().__init__(f"[{code}] {message}", path=path)


class BundleKeyError(WrongKeyError):
    """The key, algorithm, key size or salt does not decrypt the value (codes ``bad-padding``,
    ``key-prefix-mismatch``, ``verification``)."""

    def __init__(self, code: str, message: str, *, path: str | None = None) -> None:
        self.code = code
        super().__init__(f"[{code}] {message}", path=path)
