"""The typed records every source yields and every sink consumes.

Sources keep document bodies as the original JSON bytes (never round-tripped through Python
floats, docs/formats/dumps-3x.md §5) and parse only ``@metadata``. Each record carries its
:class:`Position` so sinks can checkpoint and errors can name where a record came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .fields import Fields, FrozenFields

# The seven 3.x top-level sections (docs/formats/dumps-3x.md §4, §15.5).
SECTIONS = ("Docs", "Attachments", "Indexes", "Transformers", "Identities", "DocsDeletions", "AttachmentsDeletions")
# The kinds of items a selection names (``--types``, ``ravenmigrate.convert.selection``).
ITEM_TYPES = ("documents", "revisions", "attachments", "indexes", "identities", "deletions")


class Position(FrozenFields):
    """Where a record starts: file, top-level section, index within that section, byte offset.

    ``offset`` is the uncompressed byte offset of the record's first byte in ``source`` (for
    raw storage: ``-1`` and ``key`` names the storage key instead).
    """

    __slots__ = ("source", "section", "index", "offset", "key")

    def __init__(self, source: str, section: str, index: int, offset: int, key: str | None = None) -> None:
        _set = object.__setattr__
        _set(self, "source", source)
        _set(self, "section", section)
        _set(self, "index", index)
        _set(self, "offset", offset)
        _set(self, "key", key)


class Document(Fields):
    """A 3.x document: ``data`` is the whole JSON object (body plus ``@metadata``) as bytes.

    ``metadata`` is ``@metadata`` parsed (numbers as ``int``/``Decimal``); ``metadata_span`` is
    the ``(start, end)`` byte range of the ``@metadata`` *value* inside ``data`` or ``None``.
    ``compact`` says whether ``data`` has had insignificant whitespace removed.
    """

    __slots__ = ("id", "data", "metadata", "metadata_span", "position", "compact")

    def __init__(
        self,
        id: str,
        data: bytes,
        metadata: dict[str, Any],
        metadata_span: tuple[int, int] | None,
        position: Position,
        compact: bool = False,
    ) -> None:
        self.id = id
        self.data = data
        self.metadata = metadata
        self.metadata_span = metadata_span
        self.position = position
        self.compact = compact


class Attachment(Fields):
    """A legacy (3.x) attachment: raw bytes, HTTP-ish metadata, key, etag (absent in 2.x)."""

    __slots__ = ("key", "data", "metadata", "etag", "position")

    def __init__(
        self, key: str, data: bytes, metadata: dict[str, Any], etag: str | None, position: Position,
    ) -> None:
        self.key = key
        self.data = data
        self.metadata = metadata
        self.etag = etag
        self.position = position


class Index(Fields):
    """``{"name", "definition"}`` from ``Indexes`` or an ``IndexDefinitions/*.index`` file."""

    __slots__ = ("name", "definition", "position")

    def __init__(self, name: str, definition: dict[str, Any] | None, position: Position) -> None:
        self.name = name
        self.definition = definition
        self.position = position


class Transformer(Fields):
    __slots__ = ("name", "definition", "position", "lock_mode")

    def __init__(
        self, name: str, definition: dict[str, Any] | None, position: Position, lock_mode: str | None = None,
    ) -> None:
        self.name = name
        self.definition = definition
        self.position = position
        self.lock_mode = lock_mode


class Identity(Fields):
    """``Value`` is an integer or a numeric string in the source (docs/formats/dumps-3x.md §3.6).

    ``value_was_string`` keeps which, because RavenDB 4.x imports only the string form
    (docs/formats/import-4x.md §8).
    """

    __slots__ = ("key", "value", "position", "value_was_string")

    def __init__(self, key: str, value: int, position: Position, value_was_string: bool = False) -> None:
        self.key = key
        self.value = value
        self.position = position
        self.value_was_string = value_was_string


class DocumentDeletion(Fields):
    __slots__ = ("key", "position")

    def __init__(self, key: str, position: Position) -> None:
        self.key = key
        self.position = position


class AttachmentDeletion(Fields):
    __slots__ = ("key", "position")

    def __init__(self, key: str, position: Position) -> None:
        self.key = key
        self.position = position


class FileContent:
    """The bytes of a RavenFS file, read on demand: ``size`` bytes, as the chunks :meth:`chunks`
    yields (each call reads them again from the source, so a sink can hash, then send).

    ``len()`` is the size, so sinks that only measure an attachment's data accept it too.
    """

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def chunks(self) -> Iterator[bytes]:
        raise NotImplementedError


class BytesContent(FileContent):
    """File content already in memory (an export entry read whole, tests)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self.data = data

    def chunks(self) -> Iterator[bytes]:
        if self.data:
            yield self.data


class File(Fields):
    """A RavenFS file: ``key`` is its full path without the leading ``/`` (the 4.x migration's
    ``files/{key}``), ``metadata`` the 3.x file metadata as stored, ``content`` its bytes or ``None``
    when the upload never completed (``total_size`` missing or negative). ``etag`` is the storage's
    etag text, or ``None`` (exports)."""

    __slots__ = ("key", "content", "metadata", "etag", "position")

    def __init__(self, key: str, content: FileContent | None, metadata: dict[str, Any], etag: str | None,
                 position: Position) -> None:
        self.key = key
        self.content = content
        self.metadata = metadata
        self.etag = etag
        self.position = position


Record = Document | Attachment | Index | Transformer | Identity | DocumentDeletion | AttachmentDeletion | File


class Finding(Fields):
    """A non-fatal finding a source or converter reports (shown by ``inspect`` and in reports)."""

    __slots__ = ("code", "message", "position", "extra")

    def __init__(
        self, code: str, message: str, position: Position | None = None, extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.position = position
        self.extra = {} if extra is None else extra


# ---------------------------------------------------------------------------------------------
# Converted records: what ravenmigrate.convert yields and every sink consumes. They describe the
# result RavenDB 4.x's own legacy import would store (docs/formats/import-4x.md §3-§8).
# ---------------------------------------------------------------------------------------------


class Document4(Fields):
    """A document as 4.x stores it.

    ``data`` is compact UTF-8 JSON of the whole object with its 4.x ``@metadata`` (``@collection``
    unless the collection is ``@empty``, ``@expires``, ``@flags``, kept 3.x keys ...), never
    ``@id``/``@etag``/``@change-vector``. ``last_modified`` is the 4.x form
    (``2016-08-22T11:23:36.1861726Z``) or ``None`` (server "now"). A legacy revision has
    ``revision_of`` (the document it belongs to) and its ``RV:`` ``change_vector`` (§4).
    """

    __slots__ = ("id", "data", "collection", "last_modified", "source", "flags", "revision_of", "change_vector")

    def __init__(
        self,
        id: str,
        data: bytes,
        collection: str,
        last_modified: str | None,
        source: Position,
        flags: tuple[str, ...] = (),
        revision_of: str | None = None,
        change_vector: str | None = None,
    ) -> None:
        self.id = id
        self.data = data
        self.collection = collection
        self.last_modified = last_modified
        self.source = source
        self.flags = flags
        self.revision_of = revision_of
        self.change_vector = change_vector


class AttachmentPut4(Fields):
    """An attachment stream of a 4.x document (a converted legacy attachment, §6, or RavenFS file).

    ``hash`` is base64 BLAKE2b-256 of ``data`` (what 4.x reports as the attachment hash). ``data``
    is bytes, or a :class:`FileContent` (a RavenFS file) that sinks stream chunk by chunk.
    """

    __slots__ = ("document_id", "name", "content_type", "data", "hash", "source")

    def __init__(
        self, document_id: str, name: str, content_type: str, data: bytes | FileContent, hash: str,
        source: Position,
    ) -> None:
        self.document_id = document_id
        self.name = name
        self.content_type = content_type
        self.data = data
        self.hash = hash
        self.source = source


class Delete4(Fields):
    """Delete a document (from ``DocsDeletions``, or ``files/{Key}`` from ``AttachmentsDeletions``, §5)."""

    __slots__ = ("id", "source")

    def __init__(self, id: str, source: Position) -> None:
        self.id = id
        self.source = source


class Index4(Fields):
    """A 4.x ``IndexDefinition`` (JSON-ready dict) converted from a 3.x definition (§7).

    ``legacy`` is the 3.x definition that was converted (the source's, or the rewritten one:
    the import transport sends it), ``rewrite`` the ``index_rewrite.Rewrite`` applied (None: as
    is), ``problem`` why 4.x is still expected to reject it ("" when it should be created)."""

    __slots__ = ("name", "definition", "source", "legacy", "rewrite", "problem")

    def __init__(self, name: str, definition: dict[str, Any], source: Position, legacy: Any = None,
                 rewrite: Any = None, problem: str = "") -> None:
        self.name = name
        self.definition = definition
        self.source = source
        self.legacy = legacy
        self.rewrite = rewrite
        self.problem = problem


class Identity4(Fields):
    """A cluster identity as the import stores it: key lower-cased, verbatim otherwise (§8)."""

    __slots__ = ("name", "value", "source")

    def __init__(self, name: str, value: int, source: Position) -> None:
        self.name = name
        self.value = value
        self.source = source


class Skipped(Fields):
    """A source record the 4.x import would not store, with the reason (reported, never silent)."""

    __slots__ = ("kind", "key", "reason", "source")

    def __init__(self, kind: str, key: str, reason: str, source: Position) -> None:
        self.kind = kind
        self.key = key
        self.reason = reason
        self.source = source


class Offsets:
    """The uncompressed offsets of a run's documents: *base* plus each of *starts* (the splitter's
    item starts in the reader's buffer), computed when asked for rather than one int per document."""

    __slots__ = ("base", "starts")

    def __init__(self, base: int, starts: Sequence[int]) -> None:
        self.base = base
        self.starts = starts

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            return [self.base + s for s in self.starts[k]]
        return self.base + self.starts[k]

    def __iter__(self) -> Iterator[int]:
        base = self.base
        return (base + s for s in self.starts)

    def __eq__(self, other: object) -> bool:
        try:
            return list(self) == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Offsets({list(self)!r})"


class DocumentRun(Fields):
    """Consecutive common documents of one section, read and converted in one step.

    Only a reader opened with ``runs=True`` yields it (``convert`` and ``load`` do); it is both a
    source record and a converted one: ``results`` are the ``(id, data, collection, last_modified,
    etag, legacy_last_modified)`` tuples of the ``docrun`` twin, exactly the ``Document4`` fields
    the general path computes for those documents (docs/formats/import-4x.md §3; ``convert/docrun.py`` says
    which documents qualify). ``position`` is the first document's; ``offsets`` hold every
    document's uncompressed offset; ``missing_last_modified`` counts the results without a
    last-modified (0 for nearly every run: the sinks then take them as one block); ``spans``, the
    splitter's packed spans of the documents (``codecs.jsonsplit.SPAN_FIELDS`` each, the span in
    the source first: what ``inspect`` sizes them by).
    """

    __slots__ = ("results", "position", "offsets", "missing_last_modified", "spans")

    def __init__(
        self,
        results: list[tuple[str, bytes, str, str | None, str | None, str | None]],
        position: Position,
        offsets: Sequence[int],
        missing_last_modified: int,
        spans: Sequence[int] = (),
    ) -> None:
        self.results = results
        self.position = position
        self.offsets = offsets
        self.missing_last_modified = missing_last_modified
        self.spans = spans

    def __len__(self) -> int:
        return len(self.results)

    def documents(self) -> list[Document4]:
        """The run as ``Document4`` records (each with its own position)."""
        p = self.position
        return [Document4(r[0], r[1], r[2], r[3], Position(p.source, p.section, p.index + k, self.offsets[k]))
                for k, r in enumerate(self.results)]


class AttachmentRun(Fields):
    """Consecutive common 3.x attachments of one section, read and converted in one step.

    Only a reader opened with ``attachment_runs=True`` yields it (``convert`` writing legacy
    attachments into one dump does); it is both a source record and a converted one: ``elements``
    are the legacy ``Attachments`` elements the dump writer writes for those attachments, joined by
    commas (``convert/attachrun.py`` says which attachments qualify). ``position`` is the first
    attachment's, ``count`` how many there are, ``data_bytes`` the decoded size of their payloads,
    ``last_offset`` the uncompressed offset of the last one.
    """

    __slots__ = ("elements", "count", "data_bytes", "position", "last_offset")

    def __init__(self, elements: bytes, count: int, data_bytes: int, position: Position, last_offset: int) -> None:
        self.elements = elements
        self.count = count
        self.data_bytes = data_bytes
        self.position = position
        self.last_offset = last_offset

    def __len__(self) -> int:
        return self.count


Converted = Document4 | AttachmentPut4 | Delete4 | Index4 | Identity4 | Skipped | DocumentRun | AttachmentRun
