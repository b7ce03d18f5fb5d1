"""A read-only Voron storage environment: header choice, journal recovery, pager and root tree.

Opening follows ``StorageEnvironment.LoadExistingDatabase`` as described in docs/formats/storage-3x.md §4
("Recovery"): pick the header, replay the journals in memory, and read the root tree, whose keys
are tree names (UTF-8) and whose values are the trees' 62-byte root headers.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType, TracebackType

from ... import _twins
from ...errors import SourceError
from .files import DATA_FILE, HEADER_FILES, VoronFiles, locate
from .header import FileHeader, TreeRootHeader, choose_header
from .journal import Replay, replay_journals
from .pager import Pager
from .tree import Tree

_twins.register("voron_pages", "ravenmigrate.sources.voron.pages")


class VoronEnvironment:
    """Opened Voron storage. Use as a context manager; nothing is ever written to the input.

    *native* overrides the ``voron_pages`` twin (tests compare both); by default ``_twins`` picks it.
    """

    def __init__(self, files: VoronFiles, *, native: ModuleType | None = None) -> None:
        self.files = files
        self.path = files.path
        self.native = native if native is not None else _twins.load("voron_pages")
        try:
            self.header: FileHeader = choose_header(self._read_headers(), self.path)
            self.replay: Replay = replay_journals(self.header, files.journals_dir, self.path, self.native)
            self.pager = Pager(files.storage_dir / DATA_FILE, self.replay.pages, self.path)
        except BaseException:
            files.close()
            raise
        root = self.replay.root or self.header.root
        self.root = Tree("$root", root, self.pager, self.native)
        self._trees: dict[str, TreeRootHeader] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
             native: ModuleType | None = None) -> VoronEnvironment:
        return cls(locate(path, journals_path), native=native)

    def _read_headers(self) -> dict[str, bytes]:
        found = {}
        for name in HEADER_FILES:
            p: Path = self.files.storage_dir / name
            if p.is_file():
                found[name] = p.read_bytes()
        if not found:
            raise SourceError(f"no Voron header file ({', '.join(HEADER_FILES)})", path=self.path)
        return found

    @property
    def trees(self) -> dict[str, TreeRootHeader]:
        """Every named tree and its root header, from the root tree."""
        if self._trees is None:
            self._trees = {key.decode("utf-8"): TreeRootHeader.parse(value) for key, value in self.root.items()}
        return self._trees

    def tree(self, name: str) -> Tree | None:
        root = self.trees.get(name)
        return None if root is None else Tree(name, root, self.pager, self.native)

    def close(self) -> None:
        self.pager.close()
        self.files.close()

    def __enter__(self) -> VoronEnvironment:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
