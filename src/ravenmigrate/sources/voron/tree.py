"""Walk Voron B+trees in key order (docs/formats/storage-3x.md §4 "Page", "Node", "Root tree").

Branch pages point to children (entry 0 has the empty key, "before all keys"); leaf pages hold
values inline (``Data``), in an overflow run (``PageRef``) or, in multi-value trees, a nested
tree root (``MultiValuePageRef``, returned as its raw 62-byte header). Keys compare as unsigned
bytes, shorter first on a tie: Python's ``bytes`` order. Prefix-compressed and fixed-size pages
are never written by RavenDB's database layer and are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from ...errors import SourceError
from .header import TreeRootHeader
from .pager import Pager
from .pages import BRANCH, FIXED_SIZE, KEYS_PREFIXED, LEAF, NODE_PAGE_REF

DECODED_PAGES = 64


class Tree:
    """One named B+tree of a Voron environment."""

    def __init__(self, name: str, root: TreeRootHeader, pager: Pager, native: ModuleType) -> None:
        self.name = name
        self.root = root
        self.pager = pager
        self._native = native
        self._decoded: dict[int, tuple[int, list]] = {}
        if root.keys_prefixed:
            raise SourceError(f"tree {name!r} uses key prefixing, which RavenDB 3.x never enables",
                              path=pager.shown)

    def _page(self, number: int) -> tuple[int, list]:
        """The page's flags and nodes; the last :data:`DECODED_PAGES` decoded pages are kept, so the
        lookups of :meth:`get` (a RavenFS file's pages: two per 64 KiB) do not decode the same
        branch pages again (the storage never changes while it is open)."""
        found = self._decoded.get(number)
        if found is None:
            if len(self._decoded) >= DECODED_PAGES:
                self._decoded.clear()
            found = self._decoded[number] = self._decode(number)
        return found

    def _decode(self, number: int) -> tuple[int, list]:
        view = self.pager.checked_page(number)
        flags = view[8]
        if flags & (KEYS_PREFIXED | FIXED_SIZE):
            raise SourceError(f"tree {self.name!r}, page {number}: prefixed or fixed-size page (flags {flags}), "
                              "not written by RavenDB 3.x's database layer", path=self.pager.shown)
        if not flags & (BRANCH | LEAF):
            raise SourceError(f"tree {self.name!r}, page {number}: expected a branch or leaf page, flags {flags}",
                              path=self.pager.shown)
        try:
            return flags, self._native.nodes(view)
        except ValueError as exc:
            raise SourceError(f"tree {self.name!r}, page {number}: {exc}; the storage is corrupt",
                              path=self.pager.shown) from exc

    def _value(self, flags: int, ref: int | bytes) -> bytes:
        return self.pager.overflow_value(ref) if flags == NODE_PAGE_REF else ref

    def items(self, start: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` in key order, from the first key ``>= start`` when given."""
        if self.root.root_page < 0:
            return
        stack: list[Iterator] = []
        flags, nodes = self._page(self.root.root_page)
        while True:
            if flags & BRANCH:
                if len(stack) >= 64:
                    raise SourceError(f"tree {self.name!r} is deeper than 64 levels; the storage is corrupt",
                                      path=self.pager.shown)
                if start is not None:
                    nodes = nodes[_branch_slot(nodes, start):]
                it = iter(nodes)
                stack.append(it)
                flags, nodes = self._page(next(it)[2])
                continue
            for key, nflags, ref in nodes:
                if start is not None and key < start:
                    continue
                yield key, self._value(nflags, ref)
            start = None
            while stack:
                child = next(stack[-1], None)
                if child is not None:
                    flags, nodes = self._page(child[2])
                    break
                stack.pop()
            else:
                return

    def get(self, key: bytes) -> bytes | None:
        """The value stored under *key*, or ``None``."""
        if self.root.root_page < 0:
            return None
        flags, nodes = self._page(self.root.root_page)
        for _ in range(64):
            if not flags & BRANCH:
                break
            flags, nodes = self._page(nodes[_branch_slot(nodes, key)][2])
        else:
            raise SourceError(f"tree {self.name!r} is deeper than 64 levels", path=self.pager.shown)
        lo, hi = 0, len(nodes)
        while lo < hi:
            mid = (lo + hi) // 2
            if nodes[mid][0] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(nodes) and nodes[lo][0] == key:
            return self._value(nodes[lo][1], nodes[lo][2])
        return None

    def count(self) -> int:
        """Entries found by walking the tree (compare with ``root.entries``)."""
        return sum(1 for _ in self.items())


def _branch_slot(nodes: list, key: bytes) -> int:
    """Index of the child that may hold *key*: the last node whose key is ``<= key`` (node 0 = -inf)."""
    lo, hi = 1, len(nodes)
    while lo < hi:
        mid = (lo + hi) // 2
        if nodes[mid][0] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1
