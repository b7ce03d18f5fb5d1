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


# ---------------------------------------------------------------------------------------------
# Converted records: what ravenmigrate.convert yields and every sink consumes. They describe the
# result RavenDB 4.x's own legacy import would store (target-4x.md §3-§8).
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Document4:
    """A document as 4.x stores it.

    ``data`` is compact UTF-8 JSON of the whole object with its 4.x ``@metadata`` (``@collection``
    unless the collection is ``@empty``, ``@expires``, ``@flags``, kept 3.x keys ...), never
    ``@id``/``@etag``/``@change-vector``. ``last_modified`` is the 4.x form
    (``2016-08-22T11:23:36.1861726Z``) or ``None`` (server "now"). A legacy revision has
    ``revision_of`` (the document it belongs to) and its ``RV:`` ``change_vector`` (§4).
    """

    id: str
    data: bytes
    collection: str
    last_modified: str | None
    source: Position
    flags: tuple[str, ...] = ()
    revision_of: str | None = None
    change_vector: str | None = None


@dataclass(slots=True)
class AttachmentPut4:
    """An attachment stream of a 4.x document (a converted legacy attachment, §6).

    ``hash`` is base64 BLAKE2b-256 of ``data`` (what 4.x reports as the attachment hash).
    """

    document_id: str
    name: str
    content_type: str
    data: bytes
    hash: str
    source: Position


@dataclass(slots=True)
class Delete4:
    """Delete a document (from ``DocsDeletions``, or ``files/{Key}`` from ``AttachmentsDeletions``, §5)."""

    id: str
    source: Position


@dataclass(slots=True)
class Index4:
    """A 4.x ``IndexDefinition`` (JSON-ready dict) converted from a 3.x definition (§7)."""

    name: str
    definition: dict[str, Any]
    source: Position


@dataclass(slots=True)
class Identity4:
    """A cluster identity as the import stores it: key lower-cased, verbatim otherwise (§8)."""

    name: str
    value: int
    source: Position


@dataclass(slots=True)
class Skipped:
    """A source record the 4.x import would not store, with the reason (reported, never silent)."""

    kind: str
    key: str
    reason: str
    source: Position


@dataclass(slots=True)
class DocumentRun:
    """Consecutive common documents of one section, read and converted in one step.

    Only a reader opened with ``runs=True`` yields it (``convert`` and ``load`` do); it is both a
    source record and a converted one: ``results`` are the ``(id, data, collection, last_modified,
    etag, legacy_last_modified)`` tuples of the ``docrun`` twin, exactly the ``Document4`` fields
    the general path computes for those documents (target-4x.md §3; ``convert/docrun.py`` says
    which documents qualify). ``position`` is the first document's; ``offsets`` hold every
    document's uncompressed offset; ``missing_last_modified`` counts the results without a
    last-modified (0 for nearly every run: the sinks then take them as one block).
    """

    results: list[tuple[str, bytes, str, str | None, str | None, str | None]]
    position: Position
    offsets: list[int]
    missing_last_modified: int

    def __len__(self) -> int:
        return len(self.results)

    def documents(self) -> list[Document4]:
        """The run as ``Document4`` records (each with its own position)."""
        p = self.position
        return [Document4(r[0], r[1], r[2], r[3], Position(p.source, p.section, p.index + k, self.offsets[k]))
                for k, r in enumerate(self.results)]


Converted = Document4 | AttachmentPut4 | Delete4 | Index4 | Identity4 | Skipped | DocumentRun
