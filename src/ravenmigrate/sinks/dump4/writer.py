"""Stream converted records into a RavenDB 4.x ``.ravendbdump`` (docs/formats/import-4x.md §11, §11.1).

The output is one gzip member holding one compact JSON object: ``BuildVersion`` first (so the
server reads it as a V4 dump, §2), then one section per run of records of the same kind, in
source order (sections may repeat, §2). Kinds and sections:

- documents -> ``Docs``; legacy revisions -> ``RevisionDocuments`` (``@id`` = the document,
  ``@flags: Revision``, the ``RV:`` change vector, §11.1);
- a converted 3.x attachment (the ``files/{Key}`` document and its stream) -> the legacy
  ``Attachments`` section the V4 reader still accepts (the hybrid of §11.1), so the server keeps
  ``@legacy-attachment-metadata`` verbatim; any other attachment -> the V4 attachment stream
  record followed by exactly ``Size`` raw bytes, written once per hash, right before the first
  document that references it (§11); a RavenFS file (``FileContent`` data) always goes as such a
  stream, its bytes read from the source chunk by chunk (docs/ravenfs.md);
- deletions -> ``DocsDeletions`` (§5), indexes -> ``Indexes``, identities -> ``Identities``;
  ``Skipped`` records are only counted.

A document whose last-modified is unknown (``None``: the server's "now") starts a new ``Docs``
section when the current one already holds a document with a value, because the reader would
otherwise carry the previous value over (§3.4).

Memory is bounded by one document (held back until its attachment streams are known) plus the
output buffer. :func:`dump4_chunks` produces the same bytes as an iterator, for streaming into
``POST /databases/{db}/smuggler/import``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from ... import _twins
from ...fields import Fields
from ...records import (
    AttachmentPut4,
    AttachmentRun,
    Converted,
    Delete4,
    Document4,
    DocumentRun,
    FileContent,
    Identity4,
    Index4,
    Skipped,
)
from ..deflate import BackgroundWriter, gzip_compressor
from . import records as enc

_twins.register("docrun", "ravenmigrate.convert.docrun")
_docrun = _twins.load("docrun")

BUILD_VERSION = 40
"""Read as V4 by 4.0 and 4.1 (``BuildVersion.Type``: 40..49 or 40000..49999, §2); the value the
real 4.0 export ``Northwind_4.0.ravendbdump`` carries."""
DEFAULT_LEVEL = 1
BUFFER_SIZE = 1 << 20
ATTACHMENT_MODES = ("legacy", "stream")


class Dump4Stats(Fields):
    """What a writer wrote (per file; :class:`~ravenmigrate.sinks.dump4.split.SplitDump4Writer` sums them)."""

    __slots__ = ("documents", "revisions", "attachments", "attachment_bytes", "deletions", "indexes", "identities",
                 "skipped", "json_bytes", "gzip_bytes")

    def __init__(
        self,
        documents: int = 0,
        revisions: int = 0,
        attachments: int = 0,
        attachment_bytes: int = 0,
        deletions: int = 0,
        indexes: int = 0,
        identities: int = 0,
        skipped: dict[str, int] | None = None,
        json_bytes: int = 0,
        gzip_bytes: int = 0,
    ) -> None:
        self.documents = documents
        self.revisions = revisions
        self.attachments = attachments
        self.attachment_bytes = attachment_bytes
        self.deletions = deletions
        self.indexes = indexes
        self.identities = identities
        self.skipped = {} if skipped is None else skipped
        self.json_bytes = json_bytes
        self.gzip_bytes = gzip_bytes

    def add(self, other: Dump4Stats) -> None:
        for name in ("documents", "revisions", "attachments", "attachment_bytes", "deletions", "indexes",
                     "identities", "json_bytes", "gzip_bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n


class Dump4Writer:
    """Writes a 4.x dump to *out* (any binary file-like object with ``write``); see the module docstring.

    ``level`` is the gzip level 0-9 and ``deflater`` the library (:mod:`.deflate`);
    ``attachments="stream"`` writes converted 3.x attachments as V4 streams instead of the
    legacy section; ``background=True`` compresses and writes in a worker thread
    (:class:`~.deflate.BackgroundWriter`; *out* is then written from that thread). :meth:`close`
    finishes the gzip member but does not close *out*.
    """

    def __init__(self, out: BinaryIO, *, level: int = DEFAULT_LEVEL, deflater: str = "auto",
                 attachments: str = "legacy", build_version: int = BUILD_VERSION,
                 buffer_size: int = BUFFER_SIZE, background: bool = False) -> None:
        if attachments not in ATTACHMENT_MODES:
            raise ValueError(f"attachments must be one of {ATTACHMENT_MODES}, got {attachments!r}")
        self.out = out
        self.attachments = attachments
        self.buffer_size = buffer_size
        self.stats = Dump4Stats()
        self._compressor, self.deflater = gzip_compressor(level, deflater)
        self._background = BackgroundWriter(self._compressor, out) if background else None
        self._buf = bytearray(b'{"BuildVersion":' + str(build_version).encode())
        self._section: str | None = None
        self._empty_section = True
        self._section_has_last_modified = False
        self._pending: Document4 | None = None
        self._pending_puts: list[AttachmentPut4] = []
        self._written_hashes: set[str] = set()
        self._closed = False
        self._pieces: list[bytes | bytearray] = []  # sent before _buf: large elements, not copied into it
        self._pieces_size = 0

    # -- output -----------------------------------------------------------------------------
    def _flush_buffer(self) -> None:
        """Compress the pieces, then the buffer, in order, and write them."""
        if self._buf:
            self._pieces.append(self._buf)
            self._buf = bytearray()
        if not self._pieces:
            return
        pieces, self._pieces, self._pieces_size = self._pieces, [], 0
        self.stats.json_bytes += sum(map(len, pieces))
        if self._background is not None:
            self._background.write(pieces)
            return
        for piece in pieces:
            chunk = self._compressor.compress(piece)
            if chunk:
                self.stats.gzip_bytes += len(chunk)
                self.out.write(chunk)

    def _element(self, section: str) -> bytearray:
        """Open *section* if needed and add a separator; returns the buffer to append the element to."""
        buf = self._buf
        if self._section != section:
            if self._section is not None:
                buf += b"]"
            buf += b',"' + section.encode() + b'":['
            self._section = section
            self._empty_section = True
            self._section_has_last_modified = False
        elif not self._empty_section:
            buf += b","
        self._empty_section = False
        return buf

    def _end_element(self) -> None:
        if len(self._buf) + self._pieces_size >= self.buffer_size:
            self._flush_buffer()

    @property
    def position(self) -> int:
        """Estimated compressed size so far: bytes handed to *out* plus the buffered JSON at the ratio
        seen so far (used to cut split files)."""
        st = self.stats
        gzip_bytes, json_bytes, pending = st.gzip_bytes, st.json_bytes, len(self._buf) + self._pieces_size
        if self._background is not None:
            gzip_bytes, json_bytes = self._background.gzip_bytes, self._background.json_bytes
            pending += st.json_bytes - json_bytes
        ratio = gzip_bytes / json_bytes if json_bytes else 1.0
        return gzip_bytes + int(pending * ratio)

    # -- records ----------------------------------------------------------------------------
    def write(self, record: Converted) -> None:
        """Add one converted record, in source order."""
        if self._closed:
            raise ValueError("write() after close()")
        if isinstance(record, Document4):
            self._release()
            self._pending = record
        elif isinstance(record, DocumentRun):
            self._release()
            self._write_run(record)
        elif isinstance(record, AttachmentRun):
            self._release()
            self._write_attachment_run(record)
        elif isinstance(record, AttachmentPut4):
            if self._pending is None or self._pending.id != record.document_id:
                self._release()
                raise ValueError(f"attachment {record.name!r} of {record.document_id!r} does not follow its "
                                 "document (the converter yields the document, then its attachments)")
            self._pending_puts.append(record)
        else:
            self._release()
            if isinstance(record, Delete4):
                self._element("DocsDeletions").extend(enc.deletion(record))
                self.stats.deletions += 1
            elif isinstance(record, Index4):
                self._element("Indexes").extend(enc.index(record))
                self.stats.indexes += 1
            elif isinstance(record, Identity4):
                self._element("Identities").extend(enc.identity(record))
                self.stats.identities += 1
            elif isinstance(record, Skipped):
                key = f"{record.kind}: {record.reason}"
                self.stats.skipped[key] = self.stats.skipped.get(key, 0) + 1
            else:
                raise TypeError(f"not a converted record: {type(record).__name__}")
            self._end_element()

    def write_all(self, records: Iterable[Converted]) -> None:
        for record in records:
            self.write(record)

    def _release(self) -> None:
        """Write the held-back document with its attachments."""
        doc = self._pending
        if doc is None:
            return
        puts = self._pending_puts
        self._pending = None
        self._pending_puts = []
        if self.attachments == "legacy" and len(puts) == 1 and not isinstance(puts[0].data, FileContent):
            metadata = enc.legacy_attachment_metadata(doc, puts[0])
            if metadata is not None:
                buf = self._element("Attachments")
                for piece in enc.legacy_attachment(puts[0], metadata):
                    buf += piece
                self._count_attachment(puts[0])
                self._end_element()
                return
        section = "RevisionDocuments" if doc.revision_of is not None else "Docs"
        if doc.last_modified is None and self._section == section and self._section_has_last_modified:
            self._close_section()
        for put in puts:
            self._count_attachment(put)
            if put.hash in self._written_hashes:
                continue
            self._written_hashes.add(put.hash)
            buf = self._element(section)
            buf += enc.attachment_stream_header(put)
            if isinstance(put.data, FileContent):
                self._stream(put.data)
            else:
                buf += put.data
        head, injected, tail = enc.document_parts(doc, doc.revision_of is not None)
        buf = self._element(section)
        buf += head
        buf += injected
        buf += tail
        if doc.last_modified is not None:
            self._section_has_last_modified = True
        if doc.revision_of is not None:
            self.stats.revisions += 1
        else:
            self.stats.documents += 1
        self._end_element()

    def _stream(self, content: FileContent) -> None:
        """The content's chunks as pieces, flushed every buffer size: memory stays one buffer."""
        for chunk in content.chunks():
            self._pieces.append(self._buf)
            self._pieces.append(chunk)
            self._pieces_size += len(self._buf) + len(chunk)
            self._buf = bytearray()
            if self._pieces_size >= self.buffer_size:
                self._flush_buffer()

    def _write_run(self, run: DocumentRun) -> None:
        """A run's documents, framed like :func:`~.records.document_parts` frames them: each has a
        last-modified, no flags and a plain id, and its ``@metadata`` (only scalars) closes the document.
        A run with documents whose last-modified is unknown goes document by document (the section rule)."""
        if run.missing_last_modified:
            for doc in run.documents():
                self.write(doc)
            return
        buf = self._element("Docs")
        elements = _docrun.dump4_elements(run.results)
        self._section_has_last_modified = True
        self.stats.documents += len(run)
        self._append(buf, elements)
        self._end_element()

    def _write_attachment_run(self, run: AttachmentRun) -> None:
        """A run's legacy ``Attachments`` elements, as :meth:`_release` writes each attachment of it."""
        if self.attachments != "legacy":
            raise ValueError("an AttachmentRun holds legacy elements; this writer streams attachments")
        buf = self._element("Attachments")
        self.stats.attachments += run.count
        self.stats.attachment_bytes += run.data_bytes
        self._append(buf, run.elements)
        self._end_element()

    def _append(self, buf: bytearray, elements: bytes) -> None:
        """*elements* after the buffer *buf*: copied into it when small, else queued as they are."""
        if len(elements) < self.buffer_size >> 3:
            buf += elements
        else:
            self._pieces += (buf, elements)
            self._pieces_size += len(buf) + len(elements)
            self._buf = bytearray()

    def _count_attachment(self, put: AttachmentPut4) -> None:
        self.stats.attachments += 1
        self.stats.attachment_bytes += len(put.data)

    def _close_section(self) -> None:
        if self._section is not None:
            self._buf += b"]"
            self._section = None

    def close(self) -> Dump4Stats:
        """Write the held-back document, close the JSON object and the gzip member."""
        if self._closed:
            return self.stats
        self._release()
        self._close_section()
        self._buf += b"}"
        self._flush_buffer()
        self._closed = True
        if self._background is not None:
            self._background.close()
            self.stats.gzip_bytes = self._background.gzip_bytes
            return self.stats
        tail = self._compressor.flush()
        self.stats.gzip_bytes += len(tail)
        self.out.write(tail)
        return self.stats

    def abort(self) -> None:
        """Stop after an error elsewhere: nothing more is written (the gzip member stays unfinished)."""
        self._closed = True
        if self._background is not None:
            self._background.abort()

    def __enter__(self) -> Dump4Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Spool:
    """A write-only file collecting chunks for :func:`dump4_chunks`."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(data)
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks = []
        self.size = 0
        return data


def dump4_chunks(records: Iterable[Converted], chunk_size: int = 1 << 20, **options) -> Iterator[bytes]:
    """The gzip bytes of a 4.x dump of *records*, in chunks of about *chunk_size* (for an HTTP body).

    *options* are those of :class:`Dump4Writer`. Feed the result to
    ``RavenClient.smuggler_import(database, dump4_chunks(records))``.
    """
    spool = _Spool()
    writer = Dump4Writer(spool, **options)  # type: ignore[arg-type]
    for record in records:
        writer.write(record)
        if spool.size >= chunk_size:
            yield spool.take()
    writer.close()
    yield spool.take()
