"""The typed records every source yields and every sink consumes.

Sources keep document bodies as the original JSON bytes (never round-tripped through Python
floats, formats-3x.md §5) and parse only ``@metadata``. Each record carries its
:class:`Position` so sinks can checkpoint and errors can name where a record came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The seven 3.x top-level sections (formats-3x.md §4, §15.5).
SECTIONS = ("Docs", "Attachments", "Indexes", "Transformers", "Identities", "DocsDeletions", "AttachmentsDeletions")


@dataclass(slots=True, frozen=True)
class Position:
    """Where a record starts: file, top-level section, index within that section, byte offset.

    ``offset`` is the uncompressed byte offset of the record's first byte in ``source`` (for
    raw storage: ``-1`` and ``key`` names the storage key instead).
    """

    source: str
    section: str
    index: int
    offset: int
    key: str | None = None


@dataclass(slots=True)
class Document:
    """A 3.x document: ``data`` is the whole JSON object (body plus ``@metadata``) as bytes.

    ``metadata`` is ``@metadata`` parsed (numbers as ``int``/``Decimal``); ``metadata_span`` is
    the ``(start, end)`` byte range of the ``@metadata`` *value* inside ``data`` or ``None``.
    ``compact`` says whether ``data`` has had insignificant whitespace removed.
    """

    id: str
    data: bytes
    metadata: dict[str, Any]
    metadata_span: tuple[int, int] | None
    position: Position
    compact: bool = False


@dataclass(slots=True)
class Attachment:
    """A legacy (3.x) attachment: raw bytes, HTTP-ish metadata, key, etag (absent in 2.x)."""

    key: str
    data: bytes
    metadata: dict[str, Any]
    etag: str | None
    position: Position


@dataclass(slots=True)
class Index:
    """``{"name", "definition"}`` from ``Indexes`` or an ``IndexDefinitions/*.index`` file."""

    name: str
    definition: dict[str, Any] | None
    position: Position


@dataclass(slots=True)
class Transformer:
    name: str
    definition: dict[str, Any] | None
    position: Position
    lock_mode: str | None = None


@dataclass(slots=True)
class Identity:
    """``Value`` is an integer or a numeric string in the source (formats-3x.md §3.6).

    ``value_was_string`` keeps which, because RavenDB 4.x imports only the string form
    (target-4x.md §8).
    """

    key: str
    value: int
    position: Position
    value_was_string: bool = False


@dataclass(slots=True)
class DocumentDeletion:
    key: str
    position: Position


@dataclass(slots=True)
class AttachmentDeletion:
    key: str
    position: Position


Record = Document | Attachment | Index | Transformer | Identity | DocumentDeletion | AttachmentDeletion


@dataclass(slots=True)
class Finding:
    """A non-fatal finding a source or converter reports (shown by ``inspect`` and in reports)."""

    code: str
    message: str
    position: Position | None = None
    extra: dict[str, Any] = field(default_factory=dict)
