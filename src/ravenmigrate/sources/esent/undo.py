"""Rollbacks in the log and transactions left open at its end (docs/esent.md "Log replay").

ESE logs a rollback as one ``Undo`` record per undone operation (``LRUNDO``: the operation, the
node's bookmark and the version id ``rceid``) and redoes it physically (``VERRedoPhysicalUndo``,
``dev/ese/src/ese/ver.cxx``): an insert becomes flag-deleted, a flag-delete is cleared, a
replace gets its before image back, a delta is subtracted. The before images and deltas come from
the versions the redo of the original operations made; :class:`Versions` keeps them per session
until the transaction ends. At the end of the log, ESE's undo phase rolls back every transaction
still open; :meth:`Versions.rollback_open` does the same for the operations it can undo and
reports the rest.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .pages import DELETED, PageImage

OPER_INSERT, OPER_REPLACE, OPER_FLAG_DELETE, OPER_DELTA, OPER_DELTA64 = 1, 2, 3, 4, 9
_RCEID = struct.Struct("<I")


@dataclass(slots=True)
class Version:
    """What undoing one operation needs: where, which key, and the before image or the delta."""

    oper: int
    root: int
    key: bytes
    before: bytes | None
    delta: tuple[str, int, int] | None = None  # struct format, offset, delta
    data: bytes | None = None  # the node's data when the tree's keys are not unique (part of the bookmark)


class Versions:
    """Versions by rceid and the open transaction of each session (procid)."""

    def __init__(self) -> None:
        self.by_rceid: dict[int, Version] = {}
        self.open: dict[int, list[int]] = {}
        self.levels: dict[int, int] = {}
        self.not_undone: list[str] = []
        self.undone = 0

    def transaction(self, lrtyp: int, raw: bytes) -> None:
        """``Begin``/``Begin0``/``Commit``/``Commit0``/``Rollback`` (``LRTRX_``: session at byte 1, a level
        byte at 3): a session's transaction ends when its level returns to 0 (``logredo.cxx``)."""
        (procid,) = struct.unpack_from("<H", raw, 1)
        level = self.levels.get(procid, 0)
        if lrtyp == 8:  # Begin0
            level = (raw[3] & 0x0F) + (raw[3] >> 4)
            self.open.setdefault(procid, [])
        elif lrtyp == 5:  # Begin: levelBeginFrom (low nibble) + clevelsToBegin (high nibble)
            level = (raw[3] & 0x0F) + (raw[3] >> 4)
        elif lrtyp in (6, 9):  # Commit, Commit0: levelCommitTo
            level = raw[3]
        elif lrtyp == 7:  # Rollback: levels rolled back (their undo was logged as Undo records)
            level = max(0, level - raw[3])
        self.levels[procid] = level
        if level == 0:
            self.end(procid)

    def end(self, procid: int) -> None:
        for rceid in self.open.pop(procid, []):
            self.by_rceid.pop(rceid, None)

    def record(self, procid: int, rceid: int, version: Version) -> None:
        if procid in self.open:
            self.open[procid].append(rceid)
            self.by_rceid[rceid] = version

    def undo_line(self, page: PageImage, iline: int, version: Version) -> str | None:
        """Undo *version* on *page* (its line *iline*, or the line with its key); ``None`` or why not."""
        lines = page.lines

        def matches(line: tuple[int, bytes, bytes]) -> bool:
            return line[1] == version.key and (version.data is None or line[2] == version.data)

        if not (0 <= iline < len(lines) and matches(lines[iline])):
            iline = next((i for i, line in enumerate(lines) if matches(line)), -1)
            if iline < 0:
                return "the node is not on its page"
        flags, key, data = lines[iline]
        if version.oper == OPER_INSERT:
            lines[iline] = (flags | DELETED, key, data)
        elif version.oper == OPER_FLAG_DELETE:
            lines[iline] = (flags & ~DELETED, key, data)
        elif version.oper == OPER_REPLACE:
            if version.before is None:
                return "its before image was already in the database file"
            lines[iline] = (flags, key, version.before)
        elif version.oper in (OPER_DELTA, OPER_DELTA64) and version.delta is not None:
            fmt, offset, delta = version.delta
            size = struct.calcsize(fmt)
            (old,) = struct.unpack_from(fmt, data, offset)
            bits = size * 8
            new = (old - delta + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
            lines[iline] = (flags, key, data[:offset] + struct.pack(fmt, new) + data[offset + size:])
        else:
            return f"operation {version.oper} is not undone by this reader"
        self.undone += 1
        return None
