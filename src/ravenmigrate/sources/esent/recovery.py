"""An Esent store opened for reading: files located, database recovered in memory, catalog read.

A database in ``CleanShutdown`` state is read as it is. Any other state means the file alone is not
the database: the log generations the header lists as required (``lGenMinRequired`` ..
``lGenMaxRequired``) and every later one present are replayed over copy-on-write pages
(:mod:`.redo`). ``force_dirty`` skips replay, reads the pages alone and records what may be
missing as a finding (docs/esent.md "What is refused").
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from ...errors import SourceError
from ...records import Finding
from .catalog import EsentTable, read_catalog
from .database import EsentFile
from .files import EsentFiles, locate


class EsentStore:
    """Located files + database file (with replayed overlay) + tables by name. A context manager."""

    def __init__(self, files: EsentFiles, *, force_dirty: bool = False) -> None:
        self.files = files
        self.path = files.path
        self.findings: list[Finding] = []
        self.replay: dict[str, Any] = {}
        try:
            self.file = EsentFile(files.data_file, shown=files.shown(files.data_file))
        except BaseException:
            files.close()  # the temporary copy of zipped input goes with the error
            raise
        try:
            if not self.file.header.clean:
                self._recover(force_dirty)
            self.file.check_size()
            self.tables: dict[str, EsentTable] = read_catalog(self.file)
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
             force_dirty: bool = False) -> EsentStore:
        return cls(locate(path, journals_path), force_dirty=force_dirty)

    def _recover(self, force_dirty: bool) -> None:
        header = self.file.header
        needed = f"log generations {header.gen_min_required}..{header.gen_max_required}"
        if force_dirty:
            self.findings.append(Finding("warn-dirty-pages-only", (
                f"the database is in {header.state_name} state and --force-dirty reads its pages alone: "
                f"changes held only in {needed} and later (documents, attachments, identities written or "
                "deleted shortly before the backup or crash) may be missing or stale"),
                extra={"state": header.state_name, "required_generations": [header.gen_min_required,
                                                                            header.gen_max_required]}))
            return
        from .redo import recover

        self.replay = recover(self.file, self.files, self.findings)

    def table(self, name: str) -> EsentTable:
        table = self.tables.get(name)
        if table is None:
            raise SourceError(f"the Esent database has no table {name!r} (tables: {', '.join(sorted(self.tables))})",
                              path=self.path)
        return table

    def describe(self) -> dict[str, Any]:
        header = self.file.header
        return {"state": header.state_name, "page_size": header.page_size,
                "pages": self.file.page_count, "required_generations": [header.gen_min_required,
                                                                        header.gen_max_required],
                "replay": dict(self.replay), "tables": len(self.tables)}

    def close(self) -> None:
        self.file.close()
        self.files.close()

    def __enter__(self) -> EsentStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
