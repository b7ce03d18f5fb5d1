"""ESE transaction log files: header, 4 KB segments, records (docs/esent.md "Log replay").

Format from ``dev/ese/src/inc/log.hxx`` (``LGFILEHDR_FIXED``), ``_logstream.hxx`` (``LGSEGHDR``),
``logapi.hxx`` (the ``LR*`` records) and ``dev/ese/src/ese/_log/logread.cxx``
(``ErrLGIGetRecordAtPbNext``, ``CbLGSizeOfRec``). A log file is a 4 KB header followed by
segments of ``cbSec`` bytes; each segment starts with a 40-byte header (checksum, its own log
position: generation and segment number, time) and holds whole records, NOP padding (type 0), or
pieces of a record larger than a segment (``lrtypFragmentBegin``/``lrtypFragment``). Only the
segment format (log version 8 and later, every ESE since Windows 8 / Server 2012) is read; the
older sector format with ``LRCHECKSUM`` records is refused by name.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from .pages import stored_checksum, xor_checksum

HEADER_SIZE = 4096
SEGMENT_HEADER = 40
_HDR = struct.Struct("<IiHHHH8s8sIII28s")
_SEG = struct.Struct("<QHHi")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

FRAGMENT_BEGIN, FRAGMENT = 76, 77
# Fixed sizes of the records whose size does not depend on their content (mplrtyplrd, logread.cxx).
FIXED_SIZE = {
    0: 1, 1: 568, 2: 18, 3: 9, 4: 1, 5: 4, 6: 4, 7: 4, 8: 8, 9: 8, 10: 7, 11: 11, 12: 11, 13: 11,
    17: 1, 18: 18, 21: 4, 23: 1, 24: 56, 25: 48, 26: 60, 32: 44, 35: 44, 49: 576, 50: 26, 51: 9, 52: 26,
    53: 8, 55: 3, 57: 3, 58: 68, 66: 46, 79: 4, 80: 26, 95: 20, 97: 2, 98: 27,
}
NAMES = {
    5: "Begin", 6: "Commit", 7: "Rollback", 8: "Begin0", 9: "Commit0", 11: "MacroBegin", 12: "MacroCommit",
    13: "MacroAbort", 14: "CreateDB", 15: "AttachDB", 16: "DetachDB", 24: "CreateMultipleExtentFDP",
    25: "CreateSingleExtentFDP", 26: "ConvertFDP", 27: "Split", 28: "Merge", 29: "Insert", 30: "FlagInsert",
    31: "FlagInsertAndReplaceData", 32: "FlagDelete", 33: "Replace", 34: "ReplaceD", 35: "Delete",
    36: "UndoInfo", 37: "Delta", 38: "SetExternalHeader", 39: "Undo", 48: "EmptyTree", 58: "ConvertFDP2",
    62: "Split2", 63: "Merge2", 64: "Scrub", 65: "PageMove", 93: "Delta64", 95: "NewPage", 96: "RootPageMove",
}


def record_name(lrtyp: int) -> str:
    return NAMES.get(lrtyp, f"type {lrtyp}")


def record_size(buf: bytes | memoryview, pos: int) -> int:
    """``CbLGSizeOfRec``: the size of the record at *pos* (its fixed part must be in *buf*)."""
    t = buf[pos]
    size = FIXED_SIZE.get(t)
    if size is not None:
        return size

    def u16(off: int) -> int:
        return _U16.unpack_from(buf, pos + off)[0]

    def u32(off: int) -> int:
        return _U32.unpack_from(buf, pos + off)[0]

    if t == 29:
        return 50 + u16(44) + u16(46) + u16(48)
    if t == 30:
        return 48 + u16(44) + u16(46)
    if t == 31:
        return 52 + u16(44) + u16(46)
    if t in (33, 34):
        return 50 + (u16(44) & 0x7FFF)
    if t == 36:
        return 56 + u16(54) + u16(44) + u16(46)
    if t == 39:
        return 51 + u16(44) + u16(46)
    if t == 37:
        return 54 + u16(44) + u16(46)
    if t == 93:
        return 58 + u16(44) + u16(46)
    if t in (38, 48):
        return 46 + u16(44)
    if t == 64:
        return 54 + u16(52)
    if t == 27:
        return 102 + u16(100) + u16(96) + u16(98)
    if t == 62:
        return 110 + u16(100) + u16(96) + u16(98) + u32(106)
    if t == 28:
        return 88 + u16(86)
    if t == 63:
        return 96 + u16(86) + u32(92)
    if t == 14:
        return 43 + u16(40) + (4 if buf[pos + 42] & 0x04 else 0)
    if t == 15:
        return 75 + u16(72)
    if t == 16:
        return 7 + u16(4)
    if t in (19, 20):
        return 3 + u16(1)
    if t in (22, 61):
        return 5 + u16(3)
    if t in (45, 59):
        return 3 + u16(1)
    if t == 54:
        return 7 + u32(3)
    if t == 60:  # LRLOGBACKUP: phase, type (4-byte enum), scope, dbid, BKINFO (24), reserved, cbPath
        return 35 + u16(33)
    if 67 <= t <= 75 or 82 <= t <= 91:
        return 5 + u32(1)
    if t == FRAGMENT_BEGIN:
        return 7 + u16(5)
    if t == FRAGMENT:
        return 3 + u16(1)
    raise ValueError(f"unknown log record type {t}")


@dataclass(frozen=True, slots=True)
class LogHeader:
    path: Path
    generation: int
    segment_size: int
    header_segments: int
    file_segments: int
    version: tuple[int, int, int]
    signature: bytes
    shown: str = ""


@dataclass(frozen=True, slots=True, order=True)
class LogPosition:
    generation: int
    segment: int
    offset: int

    def __str__(self) -> str:
        return f"{self.generation:08X}:{self.segment:04X}:{self.offset:04X}"


class LogError(SourceError):
    """A log file that cannot be read on (names the file and the log position)."""


def read_log_header(path: Path, shown: str | None = None) -> LogHeader:
    """The header of the log file *path*; *shown* names it in errors (a zip member, say)."""
    shown = shown or str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(HEADER_SIZE)
    except OSError as exc:
        raise LogError(f"cannot read the log file ({exc.strerror})", path=shown) from exc
    if len(raw) < _HDR.size:
        raise LogError(f"log file of {len(raw)} bytes: too short for its header", path=shown)
    (_, gen, cb_sec, csec_header, csec_file, _, _, _, major, minor, update, sign) = _HDR.unpack_from(raw)
    if major < 8:
        raise LogError(f"ESE log format {major}.{minor}.{update} (the sector format of Windows 7 / Server 2008 R2 "
                       "and older) is not replayed by this reader; recover the database with esentutl /r on Windows "
                       "or pass --force-dirty", path=shown)
    if cb_sec not in (512, 1024, 2048, 4096) or csec_header < 1 or gen < 1:
        raise LogError(f"not an ESE log header (segment size {cb_sec}, generation {gen})", path=shown)
    return LogHeader(path, gen, cb_sec, csec_header, csec_file, (major, minor, update), sign, shown)


def records(header: LogHeader) -> Iterator[tuple[LogPosition, bytes]]:
    """Every record of one log file in order, fragments joined, as ``(position, bytes)``.

    Stops at the first empty segment (never written in this generation). A record torn at the end
    of the written segments raises :class:`LogError` naming its position, after every complete
    record before it was yielded.
    """
    shown = header.shown or str(header.path)
    size = header.segment_size
    gen = header.generation
    with open(header.path, "rb") as fh:
        fh.seek(header.header_segments * size)
        isec = header.header_segments
        pending: bytearray | None = None
        pending_total = 0
        pending_pos: LogPosition | None = None
        while True:
            seg = fh.read(size)
            if len(seg) < size:
                if pending is not None:
                    raise LogError(f"torn log record at {pending_pos}: the file ends inside it", path=shown,
                                   offset=isec * size)
                if isec < header.file_segments:
                    raise LogError(f"log file ends at segment {isec} ({len(seg)} of its bytes) but its header says "
                                   f"{header.file_segments} segments: the file is truncated", path=shown,
                                   offset=isec * size)
                return
            _, _, seg_isec, seg_gen = _SEG.unpack_from(seg)
            if seg_gen != gen or seg_isec != isec:
                if (seg_gen, seg_isec) < (gen, isec) or not seg.strip(b"\0"):
                    if pending is not None:
                        raise LogError(f"torn log record at {pending_pos}: the written log ends inside it",
                                       path=shown, offset=isec * size)
                    return
                raise LogError(f"segment {isec} says it is segment {seg_isec} of generation {seg_gen}",
                               path=shown, offset=isec * size)
            if xor_checksum(seg, isec) != stored_checksum(seg):
                following = fh.read(size)
                fh.seek(-len(following), 1)
                if len(following) < size or _SEG.unpack_from(following)[2:] != (isec + 1, gen):
                    raise LogError(f"torn log segment {isec}: the last written segment fails its checksum "
                                   "(a write cut short at the crash or copy)", path=shown, offset=isec * size)
                raise LogError(f"log segment {isec} fails its checksum: the log file is damaged", path=shown,
                               offset=isec * size)
            pos = SEGMENT_HEADER
            while pos < size:
                t = seg[pos]
                if t == 0:
                    break
                where = LogPosition(gen, isec, pos)
                try:
                    n = record_size(seg, pos)
                except (ValueError, struct.error) as exc:
                    raise LogError(f"log record at {where}: {exc}", path=shown, offset=isec * size + pos) from None
                if pos + n > size:
                    raise LogError(f"log record at {where} ({record_name(t)}, {n} bytes) runs past its segment",
                                   path=shown, offset=isec * size + pos)
                if t == FRAGMENT_BEGIN:
                    pending_total, frag = _U32.unpack_from(seg, pos + 1)[0], _U16.unpack_from(seg, pos + 5)[0]
                    pending = bytearray(seg[pos + 7:pos + 7 + frag])
                    pending_pos = where
                elif t == FRAGMENT:
                    if pending is None:
                        raise LogError(f"log record piece at {where} continues no record", path=shown,
                                       offset=isec * size + pos)
                    pending += seg[pos + 3:pos + n]
                    if len(pending) > pending_total:
                        raise LogError(f"log record at {pending_pos} is longer than it says", path=shown)
                    if len(pending) == pending_total:
                        whole = bytes(pending)
                        pending = None
                        if record_size(whole, 0) != len(whole):
                            raise LogError(f"log record at {pending_pos}: pieces do not form a record",
                                           path=shown)
                        yield pending_pos, whole
                else:
                    if pending is not None:
                        raise LogError(f"torn log record at {pending_pos}: a new record starts inside it",
                                       path=shown, offset=isec * size + pos)
                    yield where, seg[pos:pos + n]
                pos += n
            isec += 1
