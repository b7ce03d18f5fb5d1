"""Errors that name where the bad input is: file, section, record index, byte offset, key."""

from __future__ import annotations


class RavenMigrateError(Exception):
    """Base class for every error ravenmigrate raises on purpose."""


class SourceError(RavenMigrateError):
    """Bad or unreadable input.

    The message always names the file and what was expected; the attributes carry the location
    so callers (``--salvage``, reports) can act on it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        section: str | None = None,
        index: int | None = None,
        offset: int | None = None,
        last_id: str | None = None,
    ) -> None:
        self.path = path
        self.section = section
        self.index = index
        self.offset = offset
        self.last_id = last_id
        self.reason = message
        where = []
        if path is not None:
            where.append(str(path))
        if section is not None:
            where.append(f"section {section}")
        if index is not None:
            where.append(f"record {index}")
        if offset is not None:
            where.append(f"uncompressed offset {offset}")
        if last_id is not None:
            where.append(f"after document {last_id!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UnsupportedSource(SourceError):
    """A recognised input that this version cannot read yet (e.g. a RavenFS zip)."""


class WrongKeyError(SourceError):
    """The encryption key, algorithm or key size does not decrypt the data."""


class ServerError(RavenMigrateError):
    """The RavenDB 4.x server refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        self.status = status
        self.url = url
        super().__init__(message)


class OutputError(RavenMigrateError):
    """An output file could not be created or written (full disk, missing folder, permissions)."""
