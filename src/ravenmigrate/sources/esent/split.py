"""Redo of B+tree splits and merges over :class:`PageImage` pages (docs/esent.md "Log replay").

From ``dev/ese/src/ese/_log/logredo.cxx`` (``ErrLGIRedoSplitStructures``, ``ErrLGIRedoSplitLineinfo``,
``ErrLGRIRedoInitializeSplit``) and ``dev/ese/src/ese/bt.cxx`` (``BTIPerformSplit``,
``BTISplitMoveNodes``, ``BTISplitFixSiblings``, ``BTIInsertPgnoNew``,
``BTIInsertPgnoNewAndSetPgnoSplit``). A split macro holds one split record per tree level, root
side first, leaf last (a level with no new page only receives the separator), then the node
operation that needed the room.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dissect.esedb import compression

from .pages import DELETED, PageError, PageImage, parse_page
from .redo import FIARD, INSERT, REPLACE, PageRecord, Redo

_SPLIT = struct.Struct("<IIqIqIIBBHHHIIhhiiHHH")
_SPLIT2 = struct.Struct("<II")
_PGNO = struct.Struct("<I")
VERTICAL = 0
OPER_NONE, OPER_INSERT, OPER_REPLACE, OPER_FIARD = 0, 1, 2, 3


@dataclass
class _Level:
    rec: PageRecord
    pgno_new: int
    pgno_right: int
    objid: int
    splittype: int
    splitoper: int
    iline_oper: int
    iline_split: int
    clines: int
    new_flags: int
    split_flags: int
    key_parent: bytes
    before_image: bytes
    image_flags: int = 0


def _level(rec: PageRecord) -> _Level:
    raw = rec.raw
    (pgno_new, pgno_right, _, _, _, _, objid, splittype, splitoper, iline_oper, iline_split, clines, new_flags,
     split_flags, _, _, _, _, cb_old, cb_new, cb_key) = _SPLIT.unpack_from(raw, 32)
    fixed = 102
    before = b""
    image_flags = 0
    if rec.lrtyp == 62:
        image_flags, cb_image = _SPLIT2.unpack_from(raw, 102)
        fixed = 110
        start = fixed + cb_key + cb_old + cb_new
        before = raw[start:start + cb_image]
    return _Level(rec, pgno_new, pgno_right, objid, splittype, splitoper, iline_oper, iline_split, clines,
                  new_flags, split_flags, raw[fixed:fixed + cb_key], before, image_flags)


def before_lines(redo: Redo, rec: PageRecord, image: bytes, flags: int) -> list[tuple[int, bytes, bytes]]:
    """The lines of a split or merge record's before image of its page (``ErrLGIDecompressPreimage``).

    A compressed image (flag 0x2, log format 8.4000.5 and later) is expanded like a compressed
    long value (``ErrPKDecompressData``: a scheme byte, then XPRESS; ``dissect.esedb``'s
    ``compression.decompress``); XPRESS9/10 are refused by name. A *dehydrated* image (flag 0x1)
    is the page with its free middle cut out: the tag array moves back to the end of a full page
    (``CPAGE::RehydratePage``).
    """
    size = redo.file.page_size
    if not image:
        raise redo.error(rec, "the page needs its before image, and the record holds none")
    if flags & 0x2:
        try:
            image = compression.decompress(image)
        except NotImplementedError as exc:
            raise redo.error(rec, f"its before image is compressed with a scheme this reader does not expand "
                                  f"({exc})") from None
        except (ValueError, IndexError, struct.error) as exc:
            raise redo.error(rec, f"its compressed before image does not expand ({exc})") from None
    if len(image) < size and flags & 0x1:
        tags = 4 * (struct.unpack_from("<H", image, 34)[0] & 0x0FFF)
        image = image[:len(image) - tags] + bytes(size - len(image)) + image[len(image) - tags:]
    if len(image) != size:
        raise redo.error(rec, f"its before image has {len(image)} bytes, not a {size}-byte page")
    try:
        return parse_page(image, rec.pgno, size).lines
    except PageError as exc:
        raise redo.error(rec, f"its before image does not parse: {exc}") from None


def _oper_line(opers: list[PageRecord]) -> tuple[int, bytes | None, bytes] | None:
    """The leaf operation the split made room for: ``(flags, key or None, data)``."""
    for rec in reversed(opers):
        raw = rec.raw
        if rec.lrtyp == INSERT:
            cb_suffix, cb_prefix, cb_data = struct.unpack_from("<HHH", raw, 44)
            end = 50 + cb_prefix + cb_suffix
            return 0, raw[50:end], raw[end:end + cb_data]
        if rec.lrtyp == FIARD:
            cb_key, cb_data = struct.unpack_from("<HH", raw, 44)
            return 0, raw[52:52 + cb_key], raw[52 + cb_key:52 + cb_key + cb_data]
        if rec.lrtyp == REPLACE:
            cb_new = struct.unpack_from("<H", raw, 48)[0]
            return 0, None, raw[50:50 + cb_new]
    return None


def perform_split(redo: Redo, splits: list[PageRecord], opers: list[PageRecord]) -> None:
    levels = [_level(r) for r in splits]
    dbtime = splits[-1].dbtime
    pages = {lv.rec.pgno for lv in levels} | {lv.pgno_new for lv in levels if lv.pgno_new} | {
        lv.pgno_right for lv in levels if lv.pgno_right}
    need = {p: redo.needs(p, dbtime) for p in pages}
    if not any(need.values()):
        redo.replay.skipped += len(splits)
        return
    leaf_oper = _oper_line(opers)
    infos: list[list[tuple[int, bytes, bytes]] | None] = []
    for depth, lv in enumerate(levels):
        if not lv.pgno_new:
            infos.append(None)
            continue
        if lv.splitoper == OPER_NONE:
            oper = None
        elif depth == len(levels) - 1:
            oper = leaf_oper
            if oper is None:
                raise redo.error(lv.rec, "the split's operation record is missing from its macro")
        else:
            child = levels[depth + 1]
            oper = (0, child.key_parent, _PGNO.pack(child.rec.pgno))
        infos.append(_lineinfo(redo, lv, oper, need))
    for depth, lv in enumerate(levels):
        child = levels[depth + 1] if depth + 1 < len(levels) else None
        if not lv.pgno_new:
            if child is None or not child.pgno_new:
                raise redo.error(lv.rec, "a split path level without a split below it")
            if need[lv.rec.pgno]:
                _insert_separator(redo, lv, child, dbtime)
            continue
        _move_lines(redo, lv, infos[depth], need, dbtime)
        if lv.splittype == VERTICAL:
            if need[lv.rec.pgno]:
                root = redo.writable(lv.rec.pgno, lv.rec)
                root.lines = [(0, b"", _PGNO.pack(lv.pgno_new))]
                root.flags = lv.split_flags
                root.dbtime = dbtime
            if child is not None and child.pgno_new:
                _point_to_new(redo, lv, child, need, dbtime)
        elif lv.new_flags & 0x2:
            _fix_siblings(redo, lv, need, dbtime)
        elif child is not None and child.pgno_new:
            _point_to_new(redo, lv, child, need, dbtime)
    redo.replay.redone += len(splits)


def _lineinfo(redo: Redo, lv: _Level, oper: tuple[int, bytes | None, bytes] | None,
              need: dict[int, bool]) -> list[tuple[int, bytes, bytes]] | None:
    """The split page's lines with the operation applied (``clines`` of them)."""
    if need[lv.rec.pgno]:
        page = redo.current(lv.rec.pgno)
        if page is None:
            raise redo.error(lv.rec, "the page to split is past the end of the database file")
        src = page.lines
    elif need[lv.pgno_new]:
        moved = range(lv.iline_split, lv.clines)
        if oper is not None and lv.splitoper == OPER_INSERT and list(moved) == [lv.iline_oper]:
            # An append split: the new page holds only the inserted line (ErrLGIRedoSplitLineinfo).
            flags, key, data = oper
            return [(0, b"", b"")] * lv.iline_oper + [(flags, key or b"", data)]
        src = before_lines(redo, lv.rec, lv.before_image, lv.image_flags)
    else:
        return None
    inserting = lv.splitoper == OPER_INSERT
    if len(src) + (1 if inserting else 0) != lv.clines:
        raise redo.error(lv.rec, f"the split page has {len(src)} lines, the record expects "
                                 f"{lv.clines - (1 if inserting else 0)}")
    out: list[tuple[int, bytes, bytes]] = []
    it = iter(src)
    for iline in range(lv.clines):
        if iline == lv.iline_oper and oper is not None and inserting:
            flags, key, data = oper
            out.append((flags, key or b"", data))
            continue
        flags, key, data = next(it)
        if iline == lv.iline_oper and oper is not None:
            if lv.splitoper == OPER_FIARD:
                flags &= ~DELETED
            out.append((flags, key, oper[2]))
        else:
            out.append((flags, key, data))
    return out


def _move_lines(redo: Redo, lv: _Level, info: list | None, need: dict[int, bool], dbtime: int) -> None:
    if info is None:
        return
    if need[lv.pgno_new]:
        page = redo.new_page(lv.pgno_new, lv.objid, lv.new_flags, dbtime)
        page.lines = info[lv.iline_split:]
    if need[lv.rec.pgno] and lv.splittype != VERTICAL:
        page = redo.writable(lv.rec.pgno, lv.rec)
        page.lines = info[:lv.iline_split]
        page.dbtime = dbtime


def _fix_siblings(redo: Redo, lv: _Level, need: dict[int, bool], dbtime: int) -> None:
    if need[lv.pgno_new]:
        new = redo.writable(lv.pgno_new, lv.rec)
        new.prev = lv.rec.pgno
        new.next = lv.pgno_right
    if need[lv.rec.pgno]:
        redo.writable(lv.rec.pgno, lv.rec).next = lv.pgno_new
    if lv.pgno_right and need[lv.pgno_right]:
        right = redo.writable(lv.pgno_right, lv.rec)
        right.prev = lv.pgno_new
        right.dbtime = dbtime


def _point_to_new(redo: Redo, lv: _Level, child: _Level, need: dict[int, bool], dbtime: int) -> None:
    """``BTIInsertPgnoNew``: the line after the inserted separator now points to the child's new page."""
    if lv.iline_oper + 1 >= lv.iline_split:
        pgno, iline = lv.pgno_new, lv.iline_oper + 1 - lv.iline_split
    else:
        pgno, iline = lv.rec.pgno, lv.iline_oper + 1
    if not need[pgno]:
        return
    page = redo.writable(pgno, lv.rec)
    if iline >= len(page.lines):
        raise redo.error(lv.rec, f"no line {iline} on page {pgno} to point to the new page {child.pgno_new}")
    flags, key, _ = page.lines[iline]
    page.lines[iline] = (flags, key, _PGNO.pack(child.pgno_new))
    page.dbtime = dbtime


def _insert_separator(redo: Redo, lv: _Level, child: _Level, dbtime: int) -> None:
    """``BTIInsertPgnoNewAndSetPgnoSplit`` on a parent that does not split itself."""
    page: PageImage = redo.writable(lv.rec.pgno, lv.rec)
    target = _PGNO.pack(child.rec.pgno)
    at = next((i for i, (_, _, data) in enumerate(page.lines) if data[:4] == target), None)
    if at is None:
        raise redo.error(lv.rec, f"parent page {lv.rec.pgno} has no pointer to the split page {child.rec.pgno}")
    flags, key, _ = page.lines[at]
    page.lines[at:at + 1] = [(0, child.key_parent, target), (flags, key, _PGNO.pack(child.pgno_new))]
    page.dbtime = dbtime


EMPTY_PAGE, FULL_RIGHT, PARTIAL_RIGHT, FULL_LEFT, PARTIAL_LEFT = 1, 2, 3, 5, 6
_MERGE = struct.Struct("<IqIqIqIIHHHHBBH")
KEY_CHANGE, DELETE_NODE, EMPTIED = 0x1, 0x2, 0x4


def perform_merge(redo: Redo, merges: list[PageRecord]) -> None:
    """``BTIPerformMerge``: the leaf record (last) moves lines, the records above fix the parents."""
    leaf = merges[-1]
    dbtime = leaf.dbtime
    (right, _, left, _, _, _, _, _, _, _, _, iline_merge, _, mergetype, cb_sep) = _MERGE.unpack_from(leaf.raw, 32)
    fixed = 96 if leaf.lrtyp == 63 else 88
    sep = leaf.raw[fixed:fixed + cb_sep]
    before = b""
    image_flags = 0
    if leaf.lrtyp == 63:
        image_flags, cb_image = struct.unpack_from("<II", leaf.raw, 88)
        before = leaf.raw[fixed + cb_sep:fixed + cb_sep + cb_image]
    pages = {r.pgno for r in merges} | ({left, right} - {0})
    need = {p: redo.needs(p, dbtime) for p in pages}
    if not any(need.values()):
        redo.replay.skipped += len(merges)
        return
    if mergetype not in (EMPTY_PAGE, FULL_RIGHT, PARTIAL_RIGHT, FULL_LEFT, PARTIAL_LEFT):
        raise redo.error(leaf, f"merge type {mergetype} is not redone by this reader")
    flags_of = {r.pgno: r.raw[84] for r in merges}
    source = leaf.pgno
    if mergetype != EMPTY_PAGE:
        right_merge = mergetype in (FULL_RIGHT, PARTIAL_RIGHT)
        dest = right if right_merge else left
        if dest and need[dest]:
            if need[source]:
                src = redo.current(source).lines
            else:
                src = before_lines(redo, leaf, before, image_flags)
            moved = [line for line in (src[iline_merge:] if right_merge else src[:iline_merge + 1])
                     if not line[0] & DELETED]
            page = redo.writable(dest, leaf)
            page.lines = moved + page.lines if right_merge else page.lines + moved
            page.dbtime = dbtime
    if need[source]:
        page = redo.writable(source, leaf)
        if mergetype == PARTIAL_RIGHT:
            del page.lines[iline_merge:]
        elif mergetype == PARTIAL_LEFT:
            del page.lines[:iline_merge + 1]
        page.dbtime = dbtime
    if mergetype not in (PARTIAL_RIGHT, PARTIAL_LEFT):
        if left and need[left]:
            redo.writable(left, leaf).next = right
            redo.current(left).dbtime = dbtime
        if right and need[right]:
            redo.writable(right, leaf).prev = left
            redo.current(right).dbtime = dbtime
    for rec in merges[:-1]:
        if need[rec.pgno]:
            _merge_parent(redo, rec, mergetype, left, sep, dbtime)
    for rec in merges:
        if need[rec.pgno] and flags_of[rec.pgno] & EMPTIED:
            page = redo.writable(rec.pgno, rec)
            page.flags |= 0x8
            page.lines = []
            page.dbtime = dbtime
    redo.replay.redone += len(merges)


def _merge_parent(redo: Redo, rec: PageRecord, mergetype: int, left: int, sep: bytes, dbtime: int) -> None:
    page = redo.writable(rec.pgno, rec)
    lines = page.lines
    i = rec.iline
    flags = rec.raw[84]
    if i >= len(lines):
        raise redo.error(rec, f"merge path line {i} of a page with {len(lines)} lines")
    if mergetype == FULL_LEFT and flags & DELETE_NODE and flags & KEY_CHANGE:
        lines[i] = (lines[i][0], lines[i][1], _PGNO.pack(left))
        del lines[i - 1]
    elif flags & DELETE_NODE:
        null_last = lines[i][1] == b""
        del lines[i]
        if null_last and i > 0:
            lines[i - 1] = (0, b"", lines[i - 1][2])
    elif flags & KEY_CHANGE:
        j = i - 1 if mergetype == PARTIAL_LEFT else i
        lines[j] = (0, sep, lines[j][2])
    page.dbtime = dbtime
