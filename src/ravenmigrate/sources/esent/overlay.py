"""The pages log replay changed: kept in memory up to a bound, the rest in a private temporary file.

A 40 GB database replaying several 64 MB log generations can change more pages than memory should
hold (a decoded page is a few times its 4 KB). :class:`Overlay` keeps the most recently used
``limit`` pages as objects and pickles the others into an unlinked temporary file, read back on
demand; :meth:`Overlay.trim` spills; replay calls it between log records, when no page object is
being changed, and reading after replay calls it as pages come back (readers change nothing).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections import OrderedDict
from collections.abc import Iterator

from .pages import PageImage

DEFAULT_LIMIT = 8192


class Overlay:
    """``pgno -> PageImage`` like a dict (``get``, ``[]=``, ``in``, ``len``), bounded in memory."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit or DEFAULT_LIMIT
        self._hot: OrderedDict[int, PageImage] = OrderedDict()
        self._cold: dict[int, tuple[int, int]] = {}
        self._file = None
        self.spilled = 0

    def get(self, pgno: int) -> PageImage | None:
        page = self._hot.get(pgno)
        if page is not None:
            self._hot.move_to_end(pgno)
            return page
        where = self._cold.pop(pgno, None)
        if where is None:
            return None
        self._file.seek(where[0])
        page = pickle.loads(self._file.read(where[1]))
        self._hot[pgno] = page
        return page

    def __setitem__(self, pgno: int, page: PageImage) -> None:
        self._cold.pop(pgno, None)
        self._hot[pgno] = page
        self._hot.move_to_end(pgno)

    def __contains__(self, pgno: object) -> bool:
        return pgno in self._hot or pgno in self._cold

    def __len__(self) -> int:
        return len(self._hot) + len(self._cold)

    def __iter__(self) -> Iterator[int]:
        yield from list(self._hot)
        yield from list(self._cold)

    @property
    def over(self) -> bool:
        return len(self._hot) > self.limit

    def trim(self) -> None:
        """Spill the least recently used pages beyond the limit to the temporary file."""
        while len(self._hot) > self.limit:
            pgno, page = self._hot.popitem(last=False)
            if self._file is None:
                fd, name = tempfile.mkstemp(prefix="ravenmigrate-esent-overlay-")
                os.unlink(name)
                self._file = os.fdopen(fd, "w+b")
            raw = pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)
            self._file.seek(0, os.SEEK_END)
            self._cold[pgno] = (self._file.tell(), len(raw))
            self._file.write(raw)
            self.spilled += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
