"""Stream one 3.x export file (one ``.ravendump`` or one split part) into typed records.

The top-level object is read token by token (sections may come in any order and repeat,
docs/formats/dumps-3x.md §2, §4, §15.3-§15.5); each section item is delimited by the ``jsonsplit`` twin
without building Python objects for document bodies, and only ``@metadata`` is parsed
(docs/formats/dumps-3x.md §3.1, §5). Memory holds one record plus a bounded buffer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import _twins
from ..codecs.jsonsplit import SPAN_FIELDS
from ..codecs.jsonvalue import JSONValueError, loads
from ..errors import SourceError, UnsupportedSource
from ..records import SECTIONS, AttachmentRun, Document, DocumentRun, Finding, Offsets, Position, Record
from ..rejects import Rejects
from . import items
from .era import FULL_SAMPLE, SAMPLE_EVERY, Evidence
from .stream import UTF8_BOM, ByteStream, Prefetch, StreamError

_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_twins.register("docrun", "ravenmigrate.convert.docrun")
_twins.register("attachrun", "ravenmigrate.convert.attachrun")

_SKIP = re.compile(rb"(?:[ \t\r\n\f\v]++|//[^\n]*+\n|/\*(?:[^*]++|\*(?!/))*+\*/)*+")
_TRIM_AT = 1 << 20
_BATCH = 4096  # records delimited per native call
_LOOKAHEAD = 1 << 18  # bytes a batch starts with, if the input has them (records beyond: the general path)
_WS_OR_SLASH = frozenset(b" \t\r\n\f\v/")
_ITEM_START = re.compile(rb",[ \t\r\n\f\v]*+\{")
_SECTION_SWITCH = re.compile(
    rb"\][ \t\r\n\f\v]*+(?:,[ \t\r\n\f\v]*+\"(?:" + b"|".join(s.encode() for s in SECTIONS)
    + rb")\"[ \t\r\n\f\v]*+:|\}[ \t\r\n\f\v]*+$)")
_ID_IN_SKIPPED = re.compile(rb'"@id"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\]|\\.)*)"')
_MAX_SKIPPED_IDS = 1000
_MAX_REJECT_BYTES = 16 << 20


class _Bad(Exception):
    """A bad record at buffer index ``at`` (``where`` = error position); carries the reason and its
    ``code`` (how rejects are counted). ``end``: where the record ends, when it could be delimited."""

    def __init__(self, reason: str, at: int, where: int, record: bool = True, code: str = "invalid-json",
                 end: int | None = None) -> None:
        self.reason = reason
        self.at = at
        self.where = where
        self.record = record
        self.code = code
        self.end = end
        super().__init__(reason)


class DumpFile:
    """One export file read front to back; see :meth:`records`.

    ``skip_sections``: sections whose items are scanned but not yielded (incremental replay,
    docs/formats/dumps-3x.md §7.1). ``after``: uncompressed offset; records starting at or before it are
    scanned but not built (resuming). Findings are appended to ``findings``. ``runs``: common
    documents come as :class:`~ravenmigrate.records.DocumentRun` records, already converted by the
    ``docrun`` twin (what ``convert`` and ``load`` read, with ``compact``; ``inspect`` reads them
    without: its other documents keep their bytes as they are in the source). ``rejects``: bad
    records within its ``--max-rejects`` are written there and skipped (docs/reliability.md).
    ``attachment_runs``: common attachments come as :class:`~ravenmigrate.records.AttachmentRun`
    records, already written as legacy elements by the ``attachrun`` twin (``convert`` into one
    dump with legacy attachments reads them). ``open_stream``: where the bytes come from (default:
    the file *path*; a live 3.x export for ``sources.live3x``).

    Every record is checked the same way whatever the options (one validation for ``inspect``,
    ``convert`` and ``load``): valid JSON as 3.x reads it, valid UTF-8 throughout (the bytes are
    copied into outputs as they are), a document has ``@metadata.@id``.
    """

    def __init__(self, path: Path, *, compact: bool = False, salvage: bool = False,
                 findings: list[Finding] | None = None, evidence: Evidence | None = None,
                 skip_sections: frozenset[str] = frozenset(), after: int = -1, runs: bool = False,
                 rejects: Rejects | None = None, open_stream: Callable[[], ByteStream] | None = None,
                 attachment_runs: bool = False) -> None:
        self.path = Path(path)
        self._open_stream = open_stream or (lambda: ByteStream(self.path))
        self.rejects = rejects
        self.docrun = _twins.load("docrun") if runs else None
        self.attachrun = _twins.load("attachrun") if attachment_runs else None
        self.name = str(path)
        self.compact = compact
        self.salvage = salvage
        self.findings = findings if findings is not None else []
        self.evidence = evidence if evidence is not None else Evidence()
        self.skip_sections = skip_sections
        self.after = after
        self.split = _twins.load("jsonsplit")
        self._scanner = self.split.Scanner()
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.skipped: dict[str, int] = {}
        self.last_id: str | None = None
        self._documents = 0
        self.section: str | None = None
        self.index: int | None = None
        self.buf = bytearray()
        self.base = 0
        self.pos = 0
        self.eof = False
        self._stream: Prefetch | None = None

    # -- errors --------------------------------------------------------------------------------

    def error(self, message: str, at: int | None, *, cls: type[SourceError] = SourceError) -> SourceError:
        return cls(message, path=self.name, section=self.section, index=self.index,
                   offset=None if at is None else self.base + at, last_id=self.last_id)

    def note(self, code: str, message: str, at: int | None = None, **extra) -> None:
        pos = None
        if at is not None:
            pos = Position(self.name, self.section or "", self.index if self.index is not None else -1,
                           self.base + at)
        self.findings.append(Finding(code, message, pos, extra))

    def stream_position(self) -> int:
        """Compressed (file) bytes consumed so far."""
        return self._stream.compressed_position if self._stream is not None else 0

    # -- buffer --------------------------------------------------------------------------------

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            pieces = self._stream.pieces()
        except StreamError as exc:
            where = f" (compressed offset {exc.compressed_offset})" if exc.compressed_offset is not None else ""
            if not self.salvage:
                raise self.error(f"{exc}{where}", len(self.buf)) from None
            self.note("stream-error", f"{exc}{where}; reading stops here, everything before was read",
                      len(self.buf))
            self.eof = True
            return False
        if not pieces:
            self.eof = True
            return False
        for data in pieces:
            self.buf += data
        return True

    def _trim(self) -> None:
        if self.pos >= _TRIM_AT:
            del self.buf[: self.pos]
            self.base += self.pos
            self.pos = 0

    def _skip_ws(self) -> int:
        """Index of the next significant byte at or after ``pos`` (-1 at the end of input)."""
        p = self.pos
        if p < len(self.buf) and self.buf[p] not in _WS_OR_SLASH:
            return p
        while True:
            p = _SKIP.match(self.buf, self.pos).end()
            if p < len(self.buf) and (self.buf[p] != 0x2F or self.eof):
                self.pos = p
                return p
            self.pos = p
            if not self._fill():
                return p if p < len(self.buf) else -1

    def _expect(self, chars: bytes, what: str) -> int:
        p = self._skip_ws()
        if p < 0:
            raise self.error(f"unexpected end of input, expected {what}", len(self.buf))
        if self.buf[p] not in chars:
            raise self.error(f"unexpected {_show(self.buf[p])}, expected {what}", p)
        self.pos = p + 1
        return self.buf[p]

    def _scan(self, start: int):
        """End of the JSON value at ``start`` (the scanner, filling the buffer as needed)."""
        scanner = self._scanner
        scanner.reset(start)
        while True:
            end = scanner.scan(self.buf, self.eof)
            if end >= 0:
                return end, scanner.meta_start, scanner.meta_end
            self._fill()

    # -- records -------------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Every record of the file in file order (the file is opened here, closed at the end)."""
        with Prefetch(self._open_stream()) as self._stream:
            self.evidence.file(self.path, self._stream)
            try:
                yield from self._top()
            except SourceError as exc:
                if not (self.salvage and self.eof) or isinstance(exc, UnsupportedSource):
                    raise
                self.note("truncated", f"truncated export: {exc.reason}; everything before was read", len(self.buf))

    def _top(self) -> Iterator[Record]:
        self._fill()
        if self.buf.startswith(UTF8_BOM):
            self.pos = 3
            self.evidence.bom = True
        p = self._skip_ws()
        if p < 0:  # 3.x writes at least '{}' (docs/formats/dumps-3x.md §1): an empty file is damaged or cut
            raise self.error("the file is empty (no export object): nothing was read", 0)
        if self.buf[p] != 0x7B:
            raise self.error(f"unexpected {_show(self.buf[p])}, expected '{{' (an export is one JSON object)", p)
        self.pos = p + 1
        first = True
        while True:
            self.section = self.index = None
            p = self._skip_ws()
            if p < 0:
                self._truncated("the export ends before its closing '}'")
                return
            c = self.buf[p]
            if c == 0x7D:
                self.pos = p + 1
                self._after_end()
                return
            if c == 0x2C and not first:
                self.pos = p + 1
                p = self._skip_ws()
                if p >= 0 and self.buf[p] == 0x7D:
                    continue  # trailing comma
                if p < 0:
                    self._truncated("the export ends after ','")
                    return
                c = self.buf[p]
            elif not first:
                raise self.error(f"unexpected {_show(c)}, expected ',' or '}}' between sections", p)
            if c not in (0x22, 0x27):
                raise self.error(f"unexpected {_show(c)}, expected a section name", p)
            key = self._key(p)
            if first and key == "BuildVersion":
                raise self.error("this is a RavenDB 4.x export (first key 'BuildVersion'); "
                                 "ravenmigrate reads 3.x and older exports", p, cls=UnsupportedSource)
            first = False
            self._expect(b":", "':' after a section name")
            if key not in self.counts:
                self._unknown_section(key, p)
                continue
            self.section = key
            self.evidence.section(key)
            self._expect(b"[", f"'[' (section {key} is an array)")
            yield from self._items(key)

    def _key(self, p: int) -> str:
        try:
            end, _, _ = self._scan(p)
            key = loads(bytes(self.buf[p:end]))
        except JSONValueError as exc:
            raise self.error(f"bad section name ({exc.reason})", exc.pos if exc.pos >= p else p) from None
        self.pos = end
        return key

    def _unknown_section(self, key: str, p: int) -> None:
        """3.x rejects unknown top-level keys (docs/formats/dumps-3x.md §4); salvage skips their value."""
        if not self.salvage:
            raise self.error(f"unknown top-level key {key!r}; a 3.x export has only {', '.join(SECTIONS)}", p)
        start = self._skip_ws()
        end, _, _ = self._scan(start)
        self.pos = end
        self.note("unknown-section", f"skipped unknown top-level key {key!r}", p, key=key)

    def _after_end(self) -> None:
        p = self._skip_ws()
        if p >= 0:
            if self.buf[p] == 0:
                return
            if not self.salvage:
                raise self.error("unexpected data after the end of the export object", p)
            self.note("trailing-data", "ignored data after the end of the export object", p)

    def _truncated(self, message: str) -> None:
        if not self.salvage:
            raise self.error(f"truncated export: {message}", len(self.buf))
        self.note("truncated", f"truncated export: {message}; everything before was read", len(self.buf))

    def _items(self, section: str) -> Iterator[Record]:
        build = items.BUILDERS.get(section)
        skip = section in self.skip_sections
        indent: bytes | None = None
        p = self._skip_ws()
        if p < 0:
            self._truncated(f"section {section} ends before its closing ']'")
            return
        if self.buf[p] == 0x5D:
            self.pos = p + 1
            return
        while True:
            self.index = self.counts[section]
            self._trim()
            p = self._skip_ws()
            if p < 0:
                self._truncated(f"section {section} ends before its closing ']'")
                return
            if self.buf[p] == 0x5D:  # after a trailing comma
                self.pos = p + 1
                return
            if len(self.buf) - p < _LOOKAHEAD and self._fill():
                continue  # the batch would stop inside a record that the general path then scans alone
            if indent is None:
                nl = self.buf.rfind(b"\n", 0, p)
                indent = bytes(self.buf[nl + 1:p]) if nl >= 0 and not self.buf[nl + 1:p].strip() else b""
            lane = self.docrun is not None and build is None and not skip
            attachment_lane = self.attachrun is not None and section == "Attachments" and not skip
            if lane:  # delimited and compacted in one pass (spans packed); the lane converts the compact bytes
                spans, compacted, after_batch = self._scanner.scan_compact_items(self.buf, p, _BATCH)
                count = len(spans) // SPAN_FIELDS
            else:
                batch, after_batch = self._scanner.scan_items(self.buf, p, _BATCH)
                count = len(batch)
            if count:
                resync = None
                j = 0
                span = (lambda k, s=spans: s[SPAN_FIELDS * k:SPAN_FIELDS * k + 4]) if lane else batch.__getitem__
                stop, bad_byte = self._valid_bytes(span, count)
                while j < count:
                    if j == stop:
                        start, end = span(j)[:2]
                        bad = _Bad(bad_byte[1], start, bad_byte[0], code=bad_byte[2], end=end)
                    elif lane and self.base + spans[SPAN_FIELDS * j] > self.after:
                        bad = None
                        run = self._run(section, spans, j, stop, compacted)
                        if run is not None:
                            j += len(run)
                            yield run
                            continue
                    elif attachment_lane and self.base + batch[j][0] > self.after:
                        bad = None
                        run = self._attachment_run(section, batch, j, stop)
                        if run is not None:
                            j += len(run)
                            yield run
                            continue
                    else:
                        bad = None
                    self.index = self.counts[section]
                    if bad is None:
                        start, end, ms, me = span(j)
                        try:
                            record = self._record(section, build, skip, start, end, ms, me)
                        except _Bad as exc:
                            bad = exc
                    j += 1
                    if bad is not None:
                        self.counts[section] += 1
                        if self._reject(section, bad):
                            self.pos = span(j)[0] if j < count else after_batch
                            resync = "item"
                            break
                        if not self.salvage:
                            raise self.error(bad.reason, bad.where) from None
                        resync = self._resync(section, build, bad, indent)
                        break
                    self.counts[section] += 1
                    if record is not None:
                        yield record
                if resync is None:
                    self.pos = after_batch
                elif resync != "item":
                    return
                continue
            try:
                record = self._item(section, build, p, skip)
                self.counts[section] += 1
                self.index = self.counts[section]
                if record is not None:
                    yield record
                p = self._skip_ws()
                if p < 0:
                    self._truncated(f"section {section} ends after record {self.index - 1}")
                    return
                c = self.buf[p]
                if c != 0x2C and c != 0x5D:
                    raise _Bad(f"unexpected {_show(c)}, expected ',' or ']' after a record", p, p, False)
                self.pos = p + 1
                if c == 0x5D:
                    return
            except _Bad as bad:
                self.counts[section] += bad.record
                if bad.end is not None and self._reject(section, bad):
                    self.pos = bad.end
                    self.index = self.counts[section]
                    p = self._skip_ws()
                    if p >= 0 and self.buf[p] in b",]":
                        self.pos = p + 1
                        if self.buf[p] == 0x5D:
                            return
                    continue
                if not self.salvage and not (bad.record and self.rejects is not None
                                             and self.rejects.allows_one_more()):
                    raise self.error(bad.reason, bad.where) from None
                if self._resync(section, build, bad, indent) != "item":
                    return

    def _item(self, section: str, build, start: int, skip: bool) -> Record | None:
        """Scan and build the record at ``start``; ``None`` when it is skipped on purpose."""
        try:
            end, ms, me = self._scan(start)
        except JSONValueError as exc:
            raise _Bad(f"invalid JSON: {exc.reason}", start, exc.pos) from None
        except SourceError as exc:  # the container failed while the record was read
            raise _Bad(exc.reason, start, len(self.buf), record=False, code="unreadable") from None
        self.pos = end
        bad_byte = self._bytes_error(start, end)
        if bad_byte is not None:
            raise _Bad(bad_byte[1], start, bad_byte[0], code=bad_byte[2],
                       end=end)
        try:
            return self._record(section, build, skip, start, end, ms, me)
        except _Bad as bad:
            bad.end = end
            raise

    def _record(self, section: str, build, skip: bool, start: int, end: int, ms: int, me: int) -> Record | None:
        """Build the record delimited at ``buf[start:end]`` (``None``: skipped on purpose)."""
        offset = self.base + start
        if skip or offset <= self.after:
            self.skipped[section] = self.skipped.get(section, 0) + (0 if offset <= self.after else 1)
            return None
        pos = Position(self.name, section, self.index, offset)
        if build is None:
            return self._document(start, end, ms, me, pos)
        try:
            record = build(bytes(self.buf[start:end]), pos)
        except (items.ItemError, JSONValueError) as exc:
            raise _Bad(f"bad {section} record: {exc}", start, start, code=f"bad-{section}-record", end=end) from None
        self.evidence.record(record)
        return record

    def _run(self, section: str, spans, first: int, count: int, compacted: bytes) -> DocumentRun | None:
        """The common documents from item *first* on (converted from the splitter's compact bytes of
        the same items in one native pass); None when item *first* is not one."""
        results, stop, missing = self.docrun.convert_compact_run(compacted, spans, first, count)
        if not results:
            return None
        base = self.base
        index = self.counts[section]
        run = DocumentRun(results, Position(self.name, section, index, base + spans[SPAN_FIELDS * first]),
                          Offsets(base, spans[SPAN_FIELDS * first:SPAN_FIELDS * stop:SPAN_FIELDS]), missing,
                          spans[SPAN_FIELDS * first:SPAN_FIELDS * stop])
        n = len(results)
        self.counts[section] += n
        seen = self._documents
        self._documents += n
        sample = max(0, min(n, FULL_SAMPLE - seen))
        era_values = self.docrun.era_values
        self.evidence.sample(*era_values(results, 0, sample, 1))
        self.evidence.sample(*era_values(results, sample + (-(seen + sample + 1)) % SAMPLE_EVERY, n, SAMPLE_EVERY))
        self.last_id = results[-1][0]
        self.index = self.counts[section]
        return run

    def _attachment_run(self, section: str, batch, first: int, count: int) -> AttachmentRun | None:
        """The common attachments from item *first* on as legacy elements (the ``attachrun`` twin);
        None when item *first* is not one."""
        elements, stop, data_bytes, null_etags = self.attachrun.legacy_run(self.buf, batch, first, count)
        n = stop - first
        if not n:
            return None
        index = self.counts[section]
        run = AttachmentRun(elements, n, data_bytes, Position(self.name, section, index, self.base + batch[first][0]),
                            self.base + batch[stop - 1][0])
        self.counts[section] += n
        self.evidence.attachments += n
        self.evidence.attachments_null_etag += null_etags
        self.index = self.counts[section]
        return run

    def _document(self, start: int, end: int, ms: int, me: int, pos: Position) -> Document | None:
        """A document keeps its bytes; only ``@metadata`` is parsed (docs/formats/dumps-3x.md §3.1, §15.9)."""
        buf = self.buf
        if buf[start] != 0x7B:
            raise _Bad(f"a document must be a JSON object, found {_show(buf[start])}", start, start,
                       code="not-an-object", end=end)
        metadata = None
        if ms >= 0 and buf[ms] == 0x7B:
            try:
                metadata = parse_object(buf, ms, me)
            except JSONValueError as exc:
                raise _Bad(f"bad @metadata: {exc.reason}", start, ms + exc.pos, code="bad-metadata", end=end) from None
        doc_id = items.get(metadata, "@id") if metadata is not None else None
        if not isinstance(doc_id, str):  # 3.x's import refuses it ("Missing id in the document metadata")
            what = "no @metadata object" if metadata is None else "no '@id' string in its @metadata"
            raise _Bad(f"a document with {what} (3.x requires @metadata.@id)", start, start,
                       code="document-without-id", end=end)
        if self.compact:
            data, cms, cme = self.split.compact_document(buf, start, end, ms, me)
            span = (cms, cme)
        else:
            data = bytes(memoryview(buf)[start:end])
            span = (ms - start, me - start)
        self.last_id = doc_id
        doc = Document(doc_id, data, metadata, span, pos, self.compact)
        self._documents += 1
        if self._documents <= FULL_SAMPLE or not self._documents % SAMPLE_EVERY:
            self.evidence.record(doc)
        return doc

    def _bytes_error(self, start: int, end: int) -> tuple[int, str, str] | None:
        """``None`` when ``buf[start:end]`` (delimited records) is valid UTF-8 (checked by the jsonsplit
        twin, natively without decoding) with valid string escapes, else the index of the first bad
        byte (the first of either kind), the reason and the reject code. Both are copied into outputs
        as they are, so the 4.x side would refuse them."""
        bad = None
        if not self.split.utf8_valid(self.buf, start, end):
            utf8 = _utf8_error(self.buf, start, end)
            if utf8 is not None:
                bad = utf8[0], f"invalid UTF-8 in the record ({utf8[1]})", "invalid-utf8"
        at = self.split.escape_error(self.buf, start, end)
        if at >= 0 and (bad is None or at < bad[0]):
            return at, f"invalid escape {bytes(self.buf[at:at + 2])!r} in a string", "invalid-escape"
        return bad

    def _valid_bytes(self, span, count: int) -> tuple[int, tuple[int, str, str] | None]:
        """The first of *count* delimited records holding invalid UTF-8 or a string escape Json.NET
        refuses (*count* when none) and the bad byte's buffer index, reason and code; one pass over
        the whole batch."""
        first, last = span(0)[0], span(count - 1)[1]
        bad = self._bytes_error(first, last)
        if bad is None:
            return count, None
        j = 0
        while span(j)[1] <= bad[0]:
            j += 1
        return j, bad

    def _reject(self, section: str, bad: _Bad) -> bool:
        """Write a bad record delimited at ``buf[bad.at:bad.end]`` to the rejects (True) when they allow
        one more; False: the caller stops (or salvages)."""
        if self.rejects is None or bad.end is None or not self.rejects.allows_one_more():
            return False
        raw = bytes(self.buf[bad.at:bad.end])
        ids = _ids(self.buf, bad.at, bad.end)
        pos = Position(self.name, section, self.index if self.index is not None else -1, self.base + bad.at)
        self.rejects.add(bad.code, bad.reason, pos, ids[0] if len(ids) == 1 else None, raw, ids)
        return True

    # -- salvage -------------------------------------------------------------------------------

    def _resync(self, section: str, build, bad: _Bad, indent: bytes) -> str:
        """Find the next record (or the end of the section) after a bad one; report the skip.

        Returns ``"item"`` when ``pos`` is at the next record of the section, ``"section"`` when
        ``pos`` is just after the section's ``]``, ``"end"`` when no boundary is left.
        """
        start_offset = self.base + bad.at
        ids: list[str] = []
        raw = bytearray()  # the skipped bytes, for the rejects file (up to _MAX_REJECT_BYTES)
        ids_from = bad.at
        search = bad.at + 1
        item_start = re.compile(rb"\n" + re.escape(indent) + rb"\{") if indent else _ITEM_START
        while True:
            m_item = item_start.search(self.buf, search)
            m_sect = _SECTION_SWITCH.search(self.buf, search)
            if m_sect is not None and m_sect.group().rstrip().endswith(b"}") and not self.eof:
                m_sect = None  # '] }' counts only at the very end of the input
            if m_item is None and m_sect is None:
                keep = max(search, len(self.buf) - 256)
                ids.extend(_ids(self.buf, ids_from, keep))
                raw += self.buf[ids_from:keep][:_MAX_REJECT_BYTES - len(raw)]
                del self.buf[:keep]
                self.base += keep
                ids_from = search = 0
                if not self._fill():
                    self.pos = len(self.buf)
                    result = "end"
                    break
                continue
            if m_sect is not None and (m_item is None or m_sect.start() < m_item.start()):
                self.pos = m_sect.start() + 1
                result = "section"
                break
            brace = m_item.end() - 1
            search = brace + 1
            if self._candidate(section, build, brace):
                self.pos = brace
                result = "item"
                break
        ids.extend(_ids(self.buf, ids_from, self.pos))
        raw += self.buf[ids_from:self.pos][:_MAX_REJECT_BYTES - len(raw)]
        if self.rejects is not None and not self.salvage:
            if result == "end":
                raise self.error(f"{bad.reason}; no record boundary found after it (the rest of the file "
                                 "cannot be read record by record)", bad.at if bad.at < len(self.buf) else None)
            self.rejects.add(bad.code, f"{bad.reason} (skipped up to uncompressed offset {self.base + self.pos})",
                             Position(self.name, section, self.index, start_offset), None, bytes(raw),
                             sorted(set(ids))[:_MAX_SKIPPED_IDS])
            return result
        self.note("skipped-record", f"skipped a bad {section} record: {bad.reason}", None,
                  reason=bad.reason, start_offset=start_offset, resume_offset=self.base + self.pos,
                  ids=sorted(set(ids))[:_MAX_SKIPPED_IDS])
        self.findings[-1].position = Position(self.name, section, self.index, start_offset)
        if result == "end":
            self.note("truncated", "no record boundary found after the bad record: the rest of the file is lost",
                      len(self.buf))
        return result

    def _candidate(self, section: str, build, brace: int) -> bool:
        saved = self.pos
        try:
            end, ms, me = self._scan(brace)
            data = bytes(self.buf[brace:end])
            if build is None:
                meta = loads(bytes(self.buf[ms:me])) if ms >= 0 and self.buf[ms] == 0x7B else None
                return isinstance(meta, dict) and isinstance(items.get(meta, "@id"), str)
            build(data, Position(self.name, section, -1, -1))
            return True
        except (JSONValueError, items.ItemError, SourceError):
            return False
        finally:
            self.pos = saved


def parse_object(buf: bytearray, start: int, end: int):
    """``buf[start:end]`` (a value the scanner accepted) parsed by the lenient value parser."""
    return loads(bytes(memoryview(buf)[start:end]))


def _ids(buf: bytearray, start: int, end: int) -> list[str]:
    found = []
    for m in _ID_IN_SKIPPED.finditer(buf, start, end):
        try:
            found.append(loads(b'"' + m.group(1) + b'"'))
        except JSONValueError:
            continue
    return found


def _utf8_error(buf: bytearray, start: int, end: int) -> tuple[int, str] | None:
    """``None`` when ``buf[start:end]`` is valid UTF-8, else the index of the first bad byte and why."""
    with memoryview(buf) as view, view[start:end] as part:
        try:
            str(part, "utf-8")
        except UnicodeDecodeError as exc:
            return start + exc.start, f"{exc.reason} at byte 0x{buf[start + exc.start]:02x}"
    return None


def _show(c: int) -> str:
    return f"character {chr(c)!r}" if 0x20 <= c < 0x7F else f"byte 0x{c:02x}"
