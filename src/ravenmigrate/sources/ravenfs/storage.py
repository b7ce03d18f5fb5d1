"""RavenFS tables in Voron trees: files, their pages in order, configuration (docs/ravenfs.md).

Layout (``Raven.Database/FileSystem/Storage/Voron/StorageActionsAccessor.cs``, ``Impl/Tables.cs``,
``Schema/SchemaCreator.cs``, ``StorageActionsBase.cs``; branches v3.0 and v3.5):

- ``files``: key = lower-cased full path (``/dir/name``); value = JSON ``{name, total_size,
  uploaded_size, etag, metadata}``. A row whose ``metadata`` holds ``Raven-Delete-Marker`` is a
  tombstone (or a ``.deleting`` file waiting for cleanup).
- ``usage_by_file_name_and_position``: key = files key ‖ ``/`` ‖ page ordinal as 9 digits ("D9");
  value = the ``usage`` row key. ``usage``: JSON ``{id, name, file_pos, page_id, page_size}``.
- ``pages_data``: key = page id as 9 digits; value = the page bytes (up to 64 KiB; encrypted by
  the Encryption bundle when active, nothing else touches them).
- ``config``: key = lower-cased name; value = JSON ``{metadata, name}``. ``details``: id, schema.

Rows are JSON text with a BOM (BSON for rows written by older builds, told apart by RavenDB's
``IsJson`` rule). Every key is bytes as stored, so nothing here re-lower-cases a name.
"""

from __future__ import annotations

import base64
import json
import uuid
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from ...codecs.body import decode_body
from ...errors import SourceError
from ...records import FileContent
from ..voron.environment import VoronEnvironment

FILES = "files"
USAGE = "usage"
USAGE_BY_POSITION = "usage_by_file_name_and_position"
PAGES_DATA = "pages_data"
CONFIG = "config"
RAVENFS_TREES = (FILES, USAGE, USAGE_BY_POSITION, PAGES_DATA)
_DECODER = json.JSONDecoder(parse_float=Decimal)

PageDecoder = Callable[[bytes, str], bytes]


def is_ravenfs(env: VoronEnvironment) -> bool:
    """The storage of a file system (``files``, ``usage``, ``pages_data``), not of a database."""
    trees = env.trees
    return all(t in trees for t in RAVENFS_TREES) and "documents" not in trees


def row(value: bytes, what: str, shown: str) -> dict[str, Any]:
    """A JSON (or BSON) table row as a dict; anything else names the row."""
    try:
        parsed = _DECODER.decode(decode_body(value, what=what, path=shown).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{what}: not a JSON row ({exc})", path=shown) from exc
    if not isinstance(parsed, dict):
        raise SourceError(f"{what}: not a JSON object", path=shown)
    return parsed


def etag_text(value: Any) -> str | None:
    """The etag of a files row as 3.x's ``Etag.ToString()``: schema 1.1 (3.5) stores base64 of the
    etag's 16 bytes, schema 1.0 (3.0) the text of a ``Guid`` made from them, whose first three groups
    are byte-swapped (``Schema/Updates/From10To11.cs``: ``Guid.Parse(etag).ToByteArray()``)."""
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True) if len(value) == 24 else uuid.UUID(value).bytes_le
    except ValueError:
        return None
    if len(raw) != 16:
        return None
    h = raw.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class FileRow:
    """One ``files`` row: storage key, full path, sizes, etag, metadata."""

    __slots__ = ("storage_key", "name", "total_size", "uploaded_size", "etag", "metadata")

    def __init__(self, storage_key: bytes, value: dict[str, Any], shown: str) -> None:
        self.storage_key = storage_key
        where = f"files row {storage_key.decode('utf-8', 'replace')!r}"
        name = value.get("name")
        metadata = value.get("metadata")
        total = value.get("total_size")
        if not isinstance(name, str) or not isinstance(metadata, dict):
            raise SourceError(f"{where}: expected a string 'name' and an object 'metadata'", path=shown,
                              section="Files")
        if total is not None and not isinstance(total, int):
            raise SourceError(f"{where}: 'total_size' is {total!r}, expected an integer or null", path=shown,
                              section="Files")
        self.name = name
        self.total_size: int | None = total
        self.uploaded_size = value.get("uploaded_size")
        self.etag = etag_text(value.get("etag"))
        self.metadata: dict[str, Any] = metadata

    @property
    def complete(self) -> bool:
        """``CompleteFileUpload`` ran: the size is known (null while uploading, negative while a chunked
        upload runs; ``StorageStream.Reading`` refuses a null size)."""
        return self.total_size is not None and self.total_size >= 0


class RavenFSStorage:
    """Open RavenFS Voron storage; page content is read on demand through :class:`PagedContent`.

    The environment stays open while a content object or the storage itself is referenced (sinks
    read a file's pages after the source moved on); it is closed by :meth:`close` or when the last
    reference goes.
    """

    def __init__(self, env: VoronEnvironment, decode_page: PageDecoder | None) -> None:
        self.env = env
        self.shown = env.path
        self.decode_page = decode_page
        trees = {name: env.tree(name) for name in (FILES, USAGE, USAGE_BY_POSITION, PAGES_DATA, CONFIG)}
        missing = [name for name in RAVENFS_TREES if trees[name] is None]
        if missing:
            raise SourceError(f"no {', '.join(missing)} tree: not the storage of a RavenFS file system",
                              path=self.shown)
        self.files_tree = trees[FILES]
        self.usage = trees[USAGE]
        self.by_position = trees[USAGE_BY_POSITION]
        self.pages = trees[PAGES_DATA]
        self.config_tree = trees[CONFIG]
        self._finalizer = weakref.finalize(self, env.close)

    def close(self) -> None:
        self._finalizer()

    def files(self) -> Iterator[FileRow]:
        """Every ``files`` row in key order (live files, tombstones, temporary files)."""
        for key, value in self.files_tree.items():
            yield FileRow(key, row(value, f"files row {key.decode('utf-8', 'replace')!r}", self.shown), self.shown)

    def configs(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` of every configuration entry (``config`` rows ``{metadata, name}``)."""
        if self.config_tree is None:
            return
        for key, value in self.config_tree.items():
            parsed = row(value, f"config row {key.decode('utf-8', 'replace')!r}", self.shown)
            name = parsed.get("name")
            yield (name if isinstance(name, str) else key.decode("utf-8", "replace")), parsed.get("metadata")

    def content(self, file: FileRow) -> PagedContent:
        return PagedContent(self, file)

    def page_refs(self, file: FileRow) -> Iterator[tuple[int, int, bytes]]:
        """``(ordinal, page size, pages_data key)`` of the file's pages in order, from the usage rows."""
        prefix = file.storage_key + b"/"
        expected = 0
        where = f"file {file.name!r}"
        for key, usage_key in self.by_position.items(prefix):
            if not key.startswith(prefix):
                break
            tail = key[len(prefix):]
            if not tail.isdigit():
                continue  # a longer name sharing the prefix (``/a/b`` after ``/a``)
            ordinal = int(tail)
            if ordinal != expected:
                raise SourceError(f"{where}: page {expected} has no usage row (next is page {ordinal}); "
                                  "the storage is corrupt", path=self.shown, section="Files")
            value = self.usage.get(usage_key)
            if value is None:
                raise SourceError(f"{where}, page {ordinal}: usage row {usage_key!r} is missing", path=self.shown,
                                  section="Files")
            usage = row(value, f"{where}, usage row {usage_key.decode('utf-8', 'replace')!r}", self.shown)
            page_id, size = usage.get("page_id"), usage.get("page_size")
            if not isinstance(page_id, int) or not isinstance(size, int) or size < 0:
                raise SourceError(f"{where}, page {ordinal}: usage row has page_id {page_id!r}, page_size {size!r}",
                                  path=self.shown, section="Files")
            yield ordinal, size, f"{page_id:09d}".encode()
            expected += 1

    def page(self, file_name: str, ordinal: int, size: int, key: bytes) -> bytes:
        """One page's plain bytes (``ReadPage``: read, decode with the file codecs)."""
        stored = self.pages.get(key)
        where = f"file {file_name!r}, page {ordinal} (pages_data {key.decode()})"
        if stored is None:
            raise SourceError(f"{where}: no page data", path=self.shown, section="Files")
        data = self.decode_page(stored, where) if self.decode_page is not None else stored
        if len(data) != size:
            raise SourceError(f"{where}: {len(data)} bytes stored, the usage row says {size}"
                              + ("" if self.decode_page else " (an encrypted file system needs --encryption-key)"),
                              path=self.shown, section="Files")
        return data


class PagedContent(FileContent):
    """A file's bytes as its pages, read from the storage each time :meth:`chunks` runs.

    *storage* gives ``page_refs(file)`` (``(ordinal, size, page key)`` in order) and
    ``page(name, ordinal, size, page key)`` (the plain bytes): :class:`RavenFSStorage` (Voron) or
    ``esent.EsentRavenFS``.
    """

    __slots__ = ("storage", "file")

    def __init__(self, storage: Any, file: FileRow) -> None:
        super().__init__(file.total_size or 0)
        self.storage = storage
        self.file = file

    def chunks(self) -> Iterator[bytes]:
        storage, file = self.storage, self.file
        total = 0
        for ordinal, size, key in storage.page_refs(file):
            data = storage.page(file.name, ordinal, size, key)
            total += len(data)
            if total > self.size:
                break
            yield data
        if total != self.size:
            held = str(total) if total < self.size else f"more than {self.size}"
            raise SourceError(f"file {file.name!r}: its pages hold {held} bytes but total_size is {self.size}; "
                              "the storage is corrupt", path=storage.shown, section="Files")

