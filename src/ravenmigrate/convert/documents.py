"""3.x documents -> 4.x documents and legacy revisions (docs/formats/import-4x.md §3, §4).

Per document: rewrite ``@metadata`` (twin ``metadata4``, §3.2) and splice it back into the
untouched body bytes, with ``\\uXXXX`` escapes written as raw UTF-8 (``jsonsplit.raw_unicode``:
RavenDB 4.1's JSON parser corrupts an escape split by a network read and an escaped surrogate
pair, docs/deviations.md); resolve id, collection (``@empty`` when absent, ``@hilo`` for ids containing
``Raven/Hilo/``), last-modified (§3.4), flags and legacy revisions (``RV:`` change vectors, §4);
skip the six replication/backup system documents (§3.1 step 5) and, optionally, expired ones.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import _twins
from ..errors import SourceError
from ..fields import Fields
from ..records import Document, Document4, DocumentRun, Position, Skipped
from .deviations import Deviation
from .jsonbytes import JsonBytesError, compact, decode_key, iter_array, iter_object, scalar
from .lastmodified import is_fff, to_4x

if TYPE_CHECKING:
    import datetime as _dt

_twins.register("metadata4", "ravenmigrate.convert.metadata")
_metadata4 = _twins.load("metadata4")
_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_jsonsplit = _twins.load("jsonsplit")

# §3.1 step 5: skipped exactly (case-sensitive), plus Raven/Replication/Sources/<guid> (length 62).
SKIPPED_SYSTEM_DOCUMENTS = frozenset({
    "Raven/Replication/DatabaseIdsCache", "Raven/Backup/Periodic/Setup", "Raven/Replication/Destinations",
    "Raven/Backup/Status", "Raven/Backup/Periodic/Status",
})
REPLICATION_SOURCES = "Raven/Replication/Sources/"
HILO_MARKER = "Raven/Hilo/"
REVISIONS_MARKER = "/revisions/"
VERSIONING_PREFIX = "Raven/Versioning/"
REVISION_STATUS = "Raven-Document-Revision-Status"
HILO_MEMBER = b'"@collection":"@hilo"'
# An escaped surrogate pair (not preceded by an odd run of backslashes, which would make it text).
SURROGATE_PAIR = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
# 4.1 document flags a 3.x ``@flags`` value may name (unknown names are ignored, §13).
PERSISTED_FLAGS = ("HasRevisions", "DeleteRevision", "Revision", "HasAttachments", "HasCounters",
                   "Resolved", "Conflicted")


class SectionState(Fields):
    """What the server's modifier carries from one document to the next within a section (§3.4, §4)."""

    __slots__ = ("revision_counter", "revision_base", "last_modified")

    def __init__(
        self, revision_counter: int = 0, revision_base: str | None = None, last_modified: str | None = None,
    ) -> None:
        self.revision_counter = revision_counter
        self.revision_base = revision_base
        self.last_modified = last_modified


def needs_revisions(record: object) -> bool:
    """Whether the target needs a revisions configuration before *record* is imported (§4): a legacy
    revision (``Historical`` with ``/revisions/`` in its id: the import refuses it without one) or a
    3.x versioning configuration document (the source kept revisions). ``load`` then enables one; a
    user importing with the server's own import must do the same."""
    if not isinstance(record, Document):
        return False
    if record.id.startswith(VERSIONING_PREFIX):
        return True
    return REVISIONS_MARKER in record.id and (record.metadata or {}).get(REVISION_STATUS) == "Historical"


def is_skipped_system_document(doc_id: str) -> bool:
    """The six system documents 4.x does not import (docs/formats/import-4x.md §3.1 step 5)."""
    return doc_id in SKIPPED_SYSTEM_DOCUMENTS or (doc_id.startswith(REPLICATION_SOURCES) and len(doc_id) == 62)


def revision_base(etag: str) -> str:
    """§4: the 3.x etag parsed as a .NET Guid, its bytes in Guid memory order, base64 unpadded."""
    import uuid  # only for revisions: uuid (and platform) cost 3 ms of start-up

    return base64.b64encode(uuid.UUID(etag).bytes_le).decode().rstrip("=")


def metadata_spans(data: bytes) -> tuple[int | None, list[tuple[int, int]]]:
    """Every ``@metadata`` object value in *data*, in document order, and which one is the top-level one."""
    spans: list[tuple[int, int]] = []
    top: int | None = None
    for ks, ke, vs, ve in iter_object(data, 0):
        if data[vs] == 0x7B and decode_key(data[ks:ke]) == "@metadata":
            top = len(spans)
            spans.append((vs, ve))
        else:
            _nested_spans(data, vs, ve, spans)
    return top, spans


def _nested_spans(data: bytes, vs: int, ve: int, spans: list[tuple[int, int]]) -> None:
    first = data[vs]
    if first == 0x7B:
        for ks, ke, s, e in iter_object(data, vs):
            if data[s] == 0x7B and decode_key(data[ks:ke]) == "@metadata":
                spans.append((s, e))
            else:
                _nested_spans(data, s, e, spans)
    elif first == 0x5B:
        for s, e in iter_array(data, vs):
            _nested_spans(data, s, e, spans)


class DocumentConverter:
    """Converts the documents of one source, keeping the server's per-section state."""

    def __init__(self, include_expired: bool, server_quirks: bool, now: Callable[[], _dt.datetime],
                 deviate: Callable[[Deviation], None], revisions_enabled: bool = True) -> None:
        self.include_expired = include_expired
        self.revisions_enabled = revisions_enabled
        self.server_quirks = server_quirks
        self.now = now
        self.deviate = deviate
        self.state = SectionState()

    def new_section(self) -> None:
        self.state = SectionState()

    def convert(self, doc: Document) -> Document4 | Skipped:
        data = doc.data
        try:
            if doc.metadata_span is None:
                members, events = [], []
                pieces = [data[: data.rindex(b"}")], None, b"}"]
                top_prefix = b"," if data[:data.rindex(b"}")].strip() != b"{" else b""
            elif data.count(b"@metadata") <= 1:
                s, e = doc.metadata_span
                members, events = _metadata4.rewrite_metadata(data, s, False)
                pieces, top_prefix = [data[:s], None, data[e:]], b""
            else:
                pieces, members, events = self._rewrite_all(data)
                top_prefix = b""
        except JsonBytesError as exc:
            raise self._error(doc, f"invalid metadata: {exc}") from exc
        doc_id, last_modified_raw, flags, change_vector, status = self._apply_events(doc, events)
        skipped = is_skipped_system_document(doc_id)
        last_modified = self._last_modified(doc, doc_id, last_modified_raw, report=not skipped)
        if skipped:
            return Skipped("document", doc_id, "system document the 4.x import skips (docs/formats/import-4x.md §3.1)",
                           doc.position)
        collection = self._collection(doc, members)
        if HILO_MARKER in doc_id:
            collection = "@hilo"
            members = [m for m in members if m[0] != "@collection"]
            members.insert(0, ("@collection", HILO_MEMBER))
        if not self.include_expired and self._expired(doc, members):
            return Skipped("document", doc_id, "expired (@expires in the past) and IncludeExpired is off",
                           doc.position)
        revision_of = None
        if status == "Historical" and REVISIONS_MARKER in doc_id:
            revision_of = doc_id[: doc_id.index(REVISIONS_MARKER)]
            flags = ("Revision",)
        else:
            change_vector = None
            if status == "Current" and self.revisions_enabled:
                flags = tuple(dict.fromkeys(("HasRevisions", *flags)))
        meta = [m for _, m in members]
        if flags:
            meta.append(b'"@flags":' + json.dumps(", ".join(flags)).encode())
        new_meta = b"{" + b",".join(meta) + b"}"
        if doc.metadata_span is None:
            pieces[1] = top_prefix + b'"@metadata":' + new_meta
        else:
            pieces[pieces.index(None)] = new_meta
        out = b"".join(pieces)
        if not doc.compact:
            out = compact(out)
        if b"\\u" in out:
            if SURROGATE_PAIR.search(out):
                self.deviate(Deviation("escaped-surrogate-pair", doc_id, "\ufffd\ufffd", "the character"))
            out = _jsonsplit.raw_unicode(out)  # 4.1 corrupts split and paired escapes
        return Document4(doc_id, out, collection, last_modified, doc.position, flags, revision_of, change_vector)

    def convert_run(self, run: DocumentRun) -> DocumentRun:
        """A run the reader converted already (``convert/docrun.py``): only the last-modified carry-over
        of §3.4 depends on the documents before, exactly as :meth:`_last_modified` applies it."""
        state = self.state
        results = run.results
        if not run.missing_last_modified:
            state.last_modified = results[-1][3]
            return run
        out = []
        missing = 0
        for r in results:
            if r[3] is not None:
                state.last_modified = r[3]
            elif state.last_modified is not None:
                if self.server_quirks:
                    r = (r[0], r[1], r[2], state.last_modified, r[4], r[5])
                else:
                    self.deviate(Deviation("last-modified-carry-over", r[0], state.last_modified, None))
            missing += r[3] is None
            out.append(r)
        return DocumentRun(out, run.position, run.offsets, missing, run.spans)

    def _rewrite_all(self, data: bytes) -> tuple[list[bytes | None], list, list]:
        """Slow path (§3.3): the body holds other ``@metadata`` objects, which 4.x rewrites too."""
        top, spans = metadata_spans(data)
        pieces: list[bytes | None] = []
        events: list = []
        members: list = []
        pos = 0
        for i, (s, e) in enumerate(spans):
            pieces.append(data[pos:s])
            m, ev = _metadata4.rewrite_metadata(data, s, i != top)
            events.extend(ev)
            if i == top:
                members = m
                pieces.append(None)
            else:
                pieces.append(b"{" + b",".join(x for _, x in m) + b"}")
            pos = e
        pieces.append(data[pos:])
        if top is None:
            raise JsonBytesError("document has no top-level @metadata object", 0)
        return pieces, members, events

    def _apply_events(self, doc: Document, events: list) -> tuple[str, str | None, tuple[str, ...], str | None,
                                                                   str | int | None]:
        state = self.state
        our_id = doc.id
        server_id = doc.id
        last_modified_raw: str | None = None
        flags: tuple[str, ...] = ()
        change_vector: str | None = None
        status: str | int | None = None
        for kind, value, nested in events:
            if kind == "id":
                server_id = value
                if not nested:
                    our_id = value
            elif kind == "last-modified":
                last_modified_raw = value
            elif kind == "flags":
                flags = tuple(f for f in (p.strip() for p in value.split(",")) if f in PERSISTED_FLAGS)
            elif kind == "change-vector":
                change_vector = value
            elif kind == "status":
                status = value
            elif kind == "etag" and status == "Historical":
                if not isinstance(value, str):
                    raise self._error(doc, "@etag of a legacy revision must be a string (docs/formats/import-4x.md §3.2)")
                state.revision_counter += 1
                if state.revision_base is None:
                    try:
                        state.revision_base = revision_base(value)
                    except ValueError as exc:
                        raise self._error(doc, f"@etag {value!r} of a legacy revision is not a Guid") from exc
                change_vector = f"RV:{state.revision_counter}-{state.revision_base}"
        if server_id != our_id:
            if self.server_quirks:
                our_id = server_id
            else:
                self.deviate(Deviation("nested-metadata-id", our_id, server_id, our_id))
        return our_id, last_modified_raw, flags, change_vector, status

    def _last_modified(self, doc: Document, doc_id: str, raw: str | None, report: bool) -> str | None:
        """§3.4: the 4.x value; a document without one inherits the section's previous value on the server."""
        state = self.state
        if raw is None:
            if state.last_modified is not None and not self.server_quirks:
                if report:
                    self.deviate(Deviation("last-modified-carry-over", doc_id, state.last_modified, None))
                return None
            return state.last_modified
        try:
            server = to_4x(raw, fff_as_ticks=True)
        except ValueError as exc:
            raise self._error(doc, str(exc)) from exc
        state.last_modified = server
        if is_fff(raw) and not self.server_quirks:
            ours = to_4x(raw)
            if ours != server and report:
                self.deviate(Deviation("last-modified-fff", doc_id, server, ours))
            return ours
        return server

    def _collection(self, doc: Document, members: list[tuple[str, bytes]]) -> str:
        """§3.1 step 9: ``@metadata.@collection`` only (after renaming); absent or null -> ``@empty``."""
        value = None
        for name, member in members:
            if name == "@collection":
                value = scalar(member[member.index(b":") + 1:])
        if value is None:
            return "@empty"
        if not isinstance(value, str):
            raise self._error(doc, f"collection (Raven-Entity-Name) must be a string, got {value!r}")
        return value

    def _expired(self, doc: Document, members: list[tuple[str, bytes]]) -> bool:
        for name, member in members:
            if name == "@expires":
                value = scalar(member[member.index(b":") + 1:])
                if not isinstance(value, str):
                    return False
                from datetime import datetime  # here: few documents expire (2 ms of start-up)

                try:
                    when = datetime.fromisoformat(value.rstrip("Z")[:26])
                except ValueError:
                    return False
                return when < self.now().replace(tzinfo=None)
        return False

    @staticmethod
    def _error(doc: Document, message: str) -> SourceError:
        """A SourceError naming the document's file, section, record index and offset."""
        pos: Position = doc.position
        return SourceError(f"document {doc.id!r}: {message}", path=pos.source, section=pos.section,
                           index=pos.index, offset=pos.offset if pos.offset >= 0 else None)
