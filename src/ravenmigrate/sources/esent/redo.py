"""ESE recovery in memory: replay the log records over copy-on-write pages (docs/esent.md "Log replay").

Semantics from ``dev/ese/src/ese/_log/logredo.cxx`` and ``dev/ese/src/ese/bt.cxx``:

- a page record (``LRPAGE_``) is redone only when the page's dbtime is older than the record's
  (``FLGNeedRedoPage``); redoing sets the page's dbtime to the record's;
- records between ``MacroBegin`` and ``MacroCommit`` of one session (same dbtime) are held and
  applied together at the commit (splits and merges with the node operation that caused them,
  ``ErrLGRIRedoMacroOperation``), or dropped at ``MacroAbort``;
- node operations address a line (``iline``) of a page: insert, flag-insert, flag-insert-and-
  replace-data, replace (full or diff after-image, ``ErrLGGetAfterImage``), flag-delete, delete,
  delta, set-external-header, empty-tree;
- a split moves the lines from ``ilineSplit`` on to a new page (vertical: all lines, the root keeps
  one pointer), applies the operation at ``ilineOper``, fixes the leaf siblings and inserts the
  separator key into the parent (``BTIPerformSplit``); a merge moves lines into the left page and
  unlinks the page (``BTIPerformMerge``).

Pages are :class:`PageImage` line lists with full keys, so key-prefix compression needs no redo.
The input files are never written: changed pages live in :attr:`EsentFile.overlay`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ...errors import SourceError
from ...records import Finding
from .database import EsentFile
from .files import EsentFiles
from .log import LogError, LogHeader, LogPosition, read_log_header, record_name, records
from .pages import DELETED, LEAF, NEW_RECORD_FORMAT, PARENT_OF_LEAF, ROOT, VERSIONED, PageImage
from .undo import OPER_DELTA, OPER_FLAG_DELETE, OPER_INSERT, OPER_REPLACE, Version, Versions

_PAGE = struct.Struct("<HBIqqIBHB")  # LRPAGE_ after lrtyp
_NODE = struct.Struct("<III")  # LRNODE_: rceid, pgnoFDP, objidFDP (offset 32)
_SPLIT = struct.Struct("<IIqIqIIBBHHHIIhhiiHHH")  # LRSPLIT_ from offset 32
_MERGE = struct.Struct("<IqIqIqIIHHHHBBH")  # LRMERGE_ from offset 32
_MACRO = struct.Struct("<Hq")

NODE_TYPES = {29, 30, 31, 32, 33, 34, 35, 37, 38, 39, 48, 93}
SPLIT_TYPES = {27, 62}
MERGE_TYPES = {28, 63}
BEGIN, COMMIT, ROLLBACK, BEGIN0, COMMIT0 = 5, 6, 7, 8, 9
MACRO_BEGIN, MACRO_COMMIT, MACRO_ABORT = 11, 12, 13
CREATE_MULTI_FDP, CREATE_SINGLE_FDP, CONVERT_FDP, CONVERT_FDP2 = 24, 25, 26, 58
CREATE_DB, ATTACH_DB = 14, 15
NEW_PAGE, ROOT_PAGE_MOVE = 95, 96
_NEW_PAGE = struct.Struct("<HBIIq")  # LRNEWPAGE: procid, dbid, pgno, objid, dbtime after
SPACE_OPERATION = 0x08  # fLRPageSpace
UNIQUE = 0x04  # fLRPageUnique
SPACE_ROOT_FLAGS = 0x1 | 0x2 | 0x20 | 0x800  # root, leaf, space tree, new record format
PAGE_TYPES_NOT_REDONE = {36}  # UndoInfo: deferred before images, for ESE's own version store
UNDO = 39
_RCEID = struct.Struct("<I")
INSERT, FLAG_INSERT, FIARD, FLAG_DELETE, REPLACE, REPLACE_D, DELETE = 29, 30, 31, 32, 33, 34, 35
DELTA, SET_EXTERNAL_HEADER, EMPTY_TREE, DELTA64 = 37, 38, 48, 93


class RedoError(SourceError):
    """A log record that cannot be redone over the pages (names the record and its log position)."""


@dataclass
class Replay:
    """What recovery did: generations replayed, records redone and skipped, where it stopped."""

    generations: list[int] = field(default_factory=list)
    records: int = 0
    redone: int = 0
    skipped: int = 0
    space: int = 0
    root_moves: int = 0
    other_databases: int = 0
    macros: int = 0
    rolled_back: int = 0
    last_position: str | None = None
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"generations": self.generations, "records": self.records, "redone": self.redone,
                "skipped_already_in_pages": self.skipped,
                "space_operations_not_redone": self.space,
                "records_of_other_databases": self.other_databases, "root_page_moves_not_redone": self.root_moves,
                "rolled_back": self.rolled_back, "macros": self.macros, "last_position": self.last_position,
                "stopped": self.stopped}


@dataclass(slots=True)
class PageRecord:
    lrtyp: int
    procid: int
    pgno: int
    dbtime: int
    dbtime_before: int
    iline: int
    flags: int
    raw: bytes
    where: LogPosition

    @classmethod
    def parse(cls, raw: bytes, where: LogPosition) -> PageRecord:
        procid, _dbid, pgno, dbtime, before, _trx, _level, iline, flags = _PAGE.unpack_from(raw, 1)
        return cls(raw[0], procid, pgno, dbtime, before, iline, flags, raw, where)


class Redo:
    """Applies records to the pages of one database file (``file.overlay``)."""

    def __init__(self, file: EsentFile) -> None:
        self.file = file
        self.shown = file.shown
        self.replay = Replay()
        self.versions = Versions()

    # -- pages ---------------------------------------------------------------------------------------

    def current(self, pgno: int) -> PageImage | None:
        page = self.file.overlay.get(pgno)
        return page if page is not None else self.file.file_page(pgno)

    def needs(self, pgno: int, dbtime: int) -> bool:
        """``FLGNeedRedoPage``: the page (absent = never written) is older than *dbtime*."""
        if pgno == 0:
            return False
        page = self.current(pgno)
        return page is None or page.dbtime < dbtime

    def writable(self, pgno: int, rec: PageRecord) -> PageImage:
        page = self.file.overlay.get(pgno)
        if page is not None:
            return page
        page = self.file.file_page(pgno)
        if page is None:
            raise self.error(rec, f"page {pgno} is past the end of the database file and no earlier record "
                                  "created it")
        page = page.copy()
        self.file.overlay[pgno] = page
        return page

    def new_page(self, pgno: int, objid: int, flags: int, dbtime: int) -> PageImage:
        page = PageImage(pgno, dbtime, 0, 0, objid, flags, b"", [])
        self.file.overlay[pgno] = page
        return page

    def error(self, rec: PageRecord, message: str) -> RedoError:
        return RedoError(f"cannot redo log record {record_name(rec.lrtyp)} at {rec.where} (page {rec.pgno}, "
                         f"dbtime {rec.dbtime}): {message}", path=self.shown)

    # -- node operations ---------------------------------------------------------------------------

    def remember(self, rec: PageRecord, oper: int, key: bytes, before: bytes | None,
                 delta: tuple[str, int, int] | None = None, data: bytes | None = None) -> None:
        """Keep what undoing this versioned operation needs until its transaction ends.

        In a tree whose keys are not unique (``fLRPageUnique`` unset: secondary indexes) the node's
        data is part of its bookmark, so it is kept to tell equal keys apart.
        """
        if rec.flags & 0x1:
            (rceid,) = _RCEID.unpack_from(rec.raw, 32)
            (root,) = _RCEID.unpack_from(rec.raw, 36)
            bookmark_data = None if rec.flags & UNIQUE else data
            self.versions.record(rec.procid, rceid, Version(oper, root, key, before, delta, bookmark_data))

    def remember_skipped(self, rec: PageRecord) -> None:
        """A versioned operation already in the page: undo can still flag an insert or a delete."""
        t = rec.lrtyp
        if t == INSERT:
            cb_suffix, cb_prefix, cb_data = struct.unpack_from("<HHH", rec.raw, 44)
            end = 50 + cb_prefix + cb_suffix
            self.remember(rec, OPER_INSERT, rec.raw[50:end], None, data=rec.raw[end:end + cb_data])
        else:
            page = self.current(rec.pgno)
            if page is not None and rec.iline < len(page.lines):
                oper = OPER_FLAG_DELETE if t == FLAG_DELETE else OPER_REPLACE
                _, key, data = page.lines[rec.iline]
                self.remember(rec, oper, key, None, data=data)

    def undo(self, rec: PageRecord) -> None:
        """An ``Undo`` record: one operation of a rolled-back transaction (``VERRedoPhysicalUndo``)."""
        if not self.needs(rec.pgno, rec.dbtime):
            self.replay.skipped += 1
            return
        cb_key, cb_data, oper = struct.unpack_from("<HHH", rec.raw, 44)
        (rceid,) = _RCEID.unpack_from(rec.raw, 32)
        version = self.versions.by_rceid.get(rceid)
        key = rec.raw[51:51 + cb_key]
        if version is None:
            bookmark_data = None if rec.flags & UNIQUE else rec.raw[51 + cb_key:51 + cb_key + cb_data]
            version = Version(oper, 0, key, None, None, bookmark_data)
        page = self.writable(rec.pgno, rec)
        why = self.versions.undo_line(page, rec.iline, version)
        if why is not None:
            raise self.error(rec, f"cannot undo a rolled-back operation {oper}: {why}")
        page.dbtime = rec.dbtime
        self.replay.redone += 1

    def rollback_open(self) -> list[str]:
        """ESE's undo phase for the transactions open at the end of the log; what could not be undone."""
        problems = []
        for procid in sorted(self.versions.open):
            for rceid in reversed(self.versions.open[procid]):
                version = self.versions.by_rceid.get(rceid)
                if version is None:
                    continue
                found = self.file.locate(version.root, version.key, version.data)
                if found is None:
                    problems.append(f"session {procid}: the node of operation {version.oper} in the tree at page "
                                    f"{version.root} was not found")
                    continue
                page = self.file.overlay.get(found[0])
                if page is None:
                    page = self.file.page(found[0]).copy()
                    self.file.overlay[found[0]] = page
                why = self.versions.undo_line(page, found[1], version)
                if why is not None:
                    problems.append(f"session {procid}, tree at page {version.root}: {why}")
            self.versions.end(procid)
        return problems

    def node(self, rec: PageRecord) -> None:
        if rec.lrtyp == UNDO:
            self.undo(rec)
            return
        if not self.needs(rec.pgno, rec.dbtime):
            self.replay.skipped += 1
            if rec.flags & 0x1 and rec.lrtyp in (INSERT, FLAG_DELETE, REPLACE, REPLACE_D, FIARD):
                self.remember_skipped(rec)
            return
        page = self.writable(rec.pgno, rec)
        raw = rec.raw
        t = rec.lrtyp
        lines = page.lines
        i = rec.iline
        if t == INSERT:
            cb_suffix, cb_prefix, cb_data = struct.unpack_from("<HHH", raw, 44)
            key_end = 50 + cb_prefix + cb_suffix
            if i > len(lines):
                raise self.error(rec, f"insert at line {i} of a page with {len(lines)} lines")
            flags = VERSIONED if rec.flags & 0x1 else 0
            lines.insert(i, (flags, raw[50:key_end], raw[key_end:key_end + cb_data]))
            self.remember(rec, OPER_INSERT, raw[50:key_end], None, data=raw[key_end:key_end + cb_data])
        elif t == SET_EXTERNAL_HEADER:
            (cb,) = struct.unpack_from("<H", raw, 44)
            page.prefix = raw[46:46 + cb]
        elif t == EMPTY_TREE:
            page.lines = []
            page.flags = (page.flags | LEAF) & ~PARENT_OF_LEAF
        else:
            if i >= len(lines):
                raise self.error(rec, f"line {i} of a page with {len(lines)} lines")
            flags, key, data = lines[i]
            if t in (REPLACE, REPLACE_D, FIARD):
                self.remember(rec, OPER_REPLACE, key, data)
            elif t == FLAG_DELETE:
                self.remember(rec, OPER_FLAG_DELETE, key, None, data=data)
            if t == FLAG_DELETE:
                lines[i] = (flags | DELETED | (VERSIONED if rec.flags & 0x1 else 0), key, data)
            elif t == DELETE:
                del lines[i]
            elif t == FLAG_INSERT:
                lines[i] = (flags & ~DELETED, key, data)
            elif t == FIARD:
                cb_key, cb_data = struct.unpack_from("<HH", raw, 44)
                lines[i] = (flags & ~DELETED, key, raw[52 + cb_key:52 + cb_key + cb_data])
            elif t == REPLACE:
                cb = struct.unpack_from("<H", raw, 44)[0] & 0x7FFF
                lines[i] = (flags, key, raw[50:50 + cb])
            elif t == REPLACE_D:
                word, _, cb_new = struct.unpack_from("<HHH", raw, 44)
                try:
                    after = apply_diff(raw[50:50 + (word & 0x7FFF)], data, bool(word & 0x8000))
                except ValueError as exc:
                    raise self.error(rec, str(exc)) from None
                if len(after) != cb_new:
                    raise self.error(rec, f"the diff gives {len(after)} bytes, the record says {cb_new}")
                lines[i] = (flags, key, after)
            elif t in (DELTA, DELTA64):
                fmt, off_at = ("<i", 52) if t == DELTA else ("<q", 56)
                (delta,) = struct.unpack_from(fmt, raw, 48)
                (offset,) = struct.unpack_from("<H", raw, off_at)
                size = struct.calcsize(fmt)
                if offset + size > len(data):
                    raise self.error(rec, f"delta at byte {offset} of a {len(data)}-byte line")
                (old,) = struct.unpack_from(fmt, data, offset)
                self.remember(rec, OPER_DELTA, key, None, (fmt, offset, delta))
                bits = size * 8
                new = (old + delta + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
                lines[i] = (flags, key, data[:offset] + struct.pack(fmt, new) + data[offset + size:])
            else:
                raise self.error(rec, "this node operation is not redone")
        page.dbtime = rec.dbtime
        self.replay.redone += 1

    # -- structure operations ------------------------------------------------------------------------

    def create_fdp(self, rec: PageRecord) -> None:
        """``CreateSingleExtentFDP``/``CreateMultipleExtentFDP``: a new tree's root page, an empty leaf.

        The record's page flags are the tree's kind (index, long values...): root and leaf are added
        as ESE's redo does (``ErrLGRIRedoCreateSingleExtentFDP``/``...MultipleExtentFDP``).
        """
        if not self.needs(rec.pgno, rec.dbtime):
            self.replay.skipped += 1
            return
        (objid,) = struct.unpack_from("<I", rec.raw, 32)
        flags_at = 52 if rec.lrtyp == CREATE_MULTI_FDP else 44
        (flags,) = struct.unpack_from("<I", rec.raw, flags_at)
        self.new_page(rec.pgno, objid, flags | ROOT | LEAF | NEW_RECORD_FORMAT, rec.dbtime)
        self.replay.redone += 1

    def macro(self, held: list[PageRecord]) -> None:
        """Apply one committed macro: splits with their operation, or merges."""
        self.replay.macros += 1
        kinds = {r.lrtyp for r in held}
        if kinds & SPLIT_TYPES:
            self.split([r for r in held if r.lrtyp in SPLIT_TYPES], [r for r in held if r.lrtyp in NODE_TYPES])
        elif kinds & MERGE_TYPES:
            self.merge([r for r in held if r.lrtyp in MERGE_TYPES])
        else:
            for r in held:
                self.apply(r)

    def split(self, splits: list[PageRecord], opers: list[PageRecord]) -> None:
        from .split import perform_split

        perform_split(self, splits, opers)

    def merge(self, merges: list[PageRecord]) -> None:
        from .split import perform_merge

        perform_merge(self, merges)

    def convert_fdp(self, rec: PageRecord) -> None:
        """``ConvertFDP``: a single-extent tree gets its own space trees (two new pages).

        The space trees themselves are not rebuilt (their operations are skipped, see :meth:`apply`);
        the root page only gets the record's dbtime.
        """
        if not self.needs(rec.pgno, rec.dbtime):
            self.replay.skipped += 1
            return
        objid, pgno_oe, pgno_ae = struct.unpack_from("<III", rec.raw, 32)
        for pgno in (pgno_oe, pgno_ae):
            if self.needs(pgno, rec.dbtime):
                self.new_page(pgno, objid, SPACE_ROOT_FLAGS, rec.dbtime)
        self.writable(rec.pgno, rec).dbtime = rec.dbtime
        self.replay.redone += 1

    def apply(self, rec: PageRecord) -> None:
        t = rec.lrtyp
        if rec.flags & SPACE_OPERATION and t in NODE_TYPES:
            # Space-tree bookkeeping (owned/available extents): no row of any table lives there.
            self.replay.space += 1
            return
        if t in NODE_TYPES:
            self.node(rec)
        elif t in (CREATE_SINGLE_FDP, CREATE_MULTI_FDP):
            self.create_fdp(rec)
        elif t in SPLIT_TYPES:
            self.split([rec], [])
        elif t in MERGE_TYPES:
            self.merge([rec])
        elif t in (CONVERT_FDP, CONVERT_FDP2):
            self.convert_fdp(rec)
        elif t in PAGE_TYPES_NOT_REDONE:
            return
        else:
            if self.needs(rec.pgno, rec.dbtime):
                raise self.error(rec, "this record type is not redone by this reader")
            self.replay.skipped += 1


def apply_diff(diff: bytes, old: bytes, diff2: bool) -> bytes:
    """``ErrLGGetAfterImage``: rebuild a line's data from its before image and a ``ReplaceD`` diff."""
    out = bytearray()
    pos = 0
    cur = 0
    while pos < len(diff):
        if diff2:
            ib, fl = struct.unpack_from("<HB", diff, pos)
            pos += 3
        else:
            (word,) = struct.unpack_from("<H", diff, pos)
            ib, fl = word & 0x1FFF, word >> 8
            pos += 2
        same, insert, two = fl & 0x20, fl & 0x40, fl & 0x80
        if ib < cur or ib > len(old):
            raise ValueError(f"diff offset {ib} outside the {len(old)}-byte before image")
        out += old[cur:ib]
        cur = ib
        if two:
            (cb_new,) = struct.unpack_from("<H", diff, pos)
            pos += 2
        else:
            cb_new = diff[pos]
            pos += 1
        if insert:
            out += diff[pos:pos + cb_new]
            pos += cb_new
            continue
        if same:
            cb_old = cb_new
        elif two:
            (cb_old,) = struct.unpack_from("<H", diff, pos)
            pos += 2
        else:
            cb_old = diff[pos]
            pos += 1
        out += diff[pos:pos + cb_new]
        pos += cb_new
        cur += cb_old
        if pos > len(diff) or cur > len(old):
            raise ValueError("diff runs past its record or the before image")
    out += old[cur:]
    return bytes(out)


def _log_files(files: EsentFiles, file: EsentFile) -> dict[int, LogHeader]:
    out: dict[int, LogHeader] = {}
    for path in files.logs():
        header = read_log_header(path, files.shown(path))
        if header.signature != file.header.log_signature and file.header.log_signature.strip(b"\0"):
            continue  # a log of another database or log stream
        out.setdefault(header.generation, header)
    return out


def _records(logs: list[LogHeader], replay: Replay) -> Iterator[tuple[LogPosition, bytes]]:
    for header in logs:
        replay.generations.append(header.generation)
        yield from records(header)


def recover(file: EsentFile, files: EsentFiles, findings: list[Finding]) -> dict[str, Any]:
    """Replay the required log generations (and every later one present) over *file*'s pages."""
    header = file.header
    logs = _log_files(files, file)
    base = "RFS" if files.ravenfs else "RVN"  # the log base names of RavenFS and of databases
    first, last_required = header.gen_min_required, header.gen_max_required
    missing = [g for g in range(first, max(last_required, first) + 1) if g not in logs]
    if missing:
        where = ", ".join(str(d) for d in files.log_dirs)
        raise SourceError(
            f"the database is in {header.state_name} state and needs log generation(s) "
            f"{', '.join(_gen_name(g, base) for g in missing)} (required {first}..{last_required}), which are not in "
            f"{where}; pass --journals-path DIR if the logs are elsewhere (Raven/Esent/LogsPath), or --force-dirty "
            "to read the pages alone (changes held only in the logs may be missing)", path=files.path)
    chain = []
    gen = first
    while gen in logs:
        chain.append(logs[gen])
        gen += 1
    later = sorted(g for g in logs if g > gen)
    if later:
        raise SourceError(
            f"log generation {_gen_name(gen, base)} is missing between {_gen_name(gen - 1, base)} and "
            f"{_gen_name(later[0], base)}: the changes of the later logs cannot be replayed without it (ESE "
            "recovery stops there too); restore the missing file, or pass --force-dirty to read the pages alone",
            path=files.path)
    redo = Redo(file)
    replay = redo.replay
    held: dict[tuple[int, int], list[PageRecord]] = {}
    last: LogPosition | None = None
    # Records of other databases attached to the same instance are left alone (CreateDB/AttachDB name them).
    names: dict[int, str] = {}
    ours: set[int] = set()
    data_name = files.data_file.name.lower()
    try:
        for where, raw in _records(chain, replay):
            replay.records += 1
            last = where
            if file.overlay.over:
                file.overlay.trim()
            t = raw[0]
            if t in (BEGIN, BEGIN0, COMMIT0, ROLLBACK, COMMIT):
                redo.versions.transaction(t, raw)
                continue
            if t == MACRO_BEGIN:
                procid, dbtime = _MACRO.unpack_from(raw, 1)
                held[(procid, dbtime)] = []
                continue
            if t in (MACRO_COMMIT, MACRO_ABORT):
                procid, dbtime = _MACRO.unpack_from(raw, 1)
                batch = held.pop((procid, dbtime), None)
                if t == MACRO_COMMIT and batch:
                    redo.macro(batch)
                continue
            if t in (CREATE_DB, ATTACH_DB):
                dbid, name = _attached(raw)
                names[dbid] = name
                ours = {d for d, n in names.items() if n == data_name}
                continue
            if ours and len(raw) > 3 and _dbid(raw) not in ours:
                replay.other_databases += 1
                continue
            if t == NEW_PAGE:
                procid, _, pgno, objid, dbtime = _NEW_PAGE.unpack_from(raw, 1)
                if (procid, dbtime) not in held and redo.needs(pgno, dbtime):
                    # ErrLGRIRedoNewPage: an empty pre-initialised page; a split in a macro makes its own.
                    redo.file.overlay[pgno] = PageImage(pgno, dbtime, 0, 0, objid, 0, b"", [])
                continue
            if t == ROOT_PAGE_MOVE:
                replay.root_moves += 1
                continue
            if t in NODE_TYPES or t in SPLIT_TYPES or t in MERGE_TYPES or t in (24, 25, 26, 58, 36, 64, 65):
                try:
                    rec = PageRecord.parse(raw, where)
                except struct.error:
                    raise RedoError(f"log record {record_name(t)} at {where} is {len(raw)} bytes, too short for a "
                                    "page record", path=files.path) from None
                batch = held.get((rec.procid, rec.dbtime))
                if batch is not None and t != 36:
                    batch.append(rec)
                    continue
                redo.apply(rec)
    except LogError as exc:
        if "torn" not in str(exc):
            raise
        replay.stopped = str(exc)
        findings.append(Finding("warn-torn-log", f"log replay stopped at a torn last record: {exc}; the changes "
                                "of that record (an unfinished write at the crash or copy) are not applied"))
    replay.last_position = str(last) if last is not None else None
    open_sessions = sorted(p for p, ops in redo.versions.open.items() if ops)
    problems = redo.rollback_open()
    replay.rolled_back = redo.versions.undone
    if replay.root_moves:
        findings.append(Finding("warn-root-page-moves", (
            f"the log holds {replay.root_moves} root page move(s) (database shrink, lrtypRootPageMove) that this "
            "reader does not replay: if a table's root moved while the backup ran, its rows may be read from "
            "the old root")))
    if open_sessions:
        findings.append(Finding("esent-open-transactions", (
            f"{len(open_sessions)} transaction(s) were still open at the end of the log; their changes were "
            "rolled back as ESE's recovery does"), extra={"sessions": open_sessions}))
    if problems:
        findings.append(Finding("warn-not-rolled-back", (
            f"{len(problems)} change(s) of transactions open at the end of the log could not be rolled back and "
            f"may show uncommitted data: {'; '.join(problems[:5])}"), extra={"problems": problems}))
    if held:
        replay.stopped = replay.stopped or f"{len(held)} unfinished page operation(s) at the end of the log"
    findings.append(Finding("esent-replay", (
        f"replayed log generation(s) {', '.join(_gen_name(g, base) for g in replay.generations)}: {replay.records:,} "
        f"records, {replay.redone:,} page changes redone, {replay.skipped:,} already in the database file; "
        f"{len(file.overlay):,} pages changed in memory ({file.overlay.spilled:,} spilled to a temporary file)"),
        extra=replay.as_dict()))
    return replay.as_dict()


def _attached(raw: bytes) -> tuple[int, str]:
    """``(dbid, file name)`` of a ``CreateDB`` or ``AttachDB`` record (``LRCREATEDB``/``LRATTACHDB``)."""
    if raw[0] == CREATE_DB:
        cb, flags, start = struct.unpack_from("<H", raw, 40)[0], raw[42], 43
    else:
        cb, flags, start = struct.unpack_from("<H", raw, 72)[0], raw[74], 75
    path = raw[start:start + cb]
    text = path.decode("utf-16-le" if flags & 0x08 else "latin-1", "replace").rstrip("\x00")
    return raw[3], text.replace("\\", "/").rsplit("/", 1)[-1].lower()


def _dbid(raw: bytes) -> int:
    """The dbid of a page record (``LRPAGE_``: byte 3)."""
    return raw[3]


def _gen_name(gen: int, base: str) -> str:
    return f"{gen} ({base}{gen:05X}.log)"


__all__ = ["recover", "apply_diff", "Redo", "RedoError"]
