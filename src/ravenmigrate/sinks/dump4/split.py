"""Write a 4.x dump to a file, cut into several importable files past a size (``--split-size``).

Every part is a complete dump (``BuildVersion`` first, §2) that the server imports on its own;
importing the parts in name order gives the same database as one file: a part ends only between
records (a document and its attachments stay together) and nothing a later record needs
crosses a part boundary (last-modified values are written explicitly, legacy revisions carry
their change vectors, attachment streams are repeated per part, docs/formats/import-4x.md §11).

Naming: without a split the output is exactly the requested path; once a second part is
needed, the first is renamed and all parts are ``<stem>.001<suffix>``, ``<stem>.002<suffix>`` ...
Every file is written as ``NAME.partial`` and renamed to ``NAME`` only when the whole dump was
written (:meth:`SplitDump4Writer.close`); :meth:`~SplitDump4Writer.abort` removes the partial files,
so an earlier dump under the same name survives a failed run (``ravenmigrate.outputs``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ...errors import OutputError
from ...outputs import discard, partial, publish
from ...records import AttachmentPut4, Converted
from .writer import Dump4Stats, Dump4Writer


def part_path(path: Path, number: int) -> Path:
    suffix = "".join(path.suffixes[-1:])
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    return path.with_name(f"{stem}.{number:03d}{suffix}")


class SplitDump4Writer:
    """A :class:`Dump4Writer` over files; a new part starts once a part reaches *split_size* gzip bytes.
    Failing writes raise :class:`~ravenmigrate.errors.OutputError` naming the file."""

    def __init__(self, path: str | os.PathLike, split_size: int | None = None, **options) -> None:
        if split_size is not None and split_size <= 0:
            raise ValueError(f"split size must be positive, got {split_size}")
        self.path = Path(path)
        self.split_size = split_size
        self.options = options
        self.paths: list[Path] = []
        self.stats = Dump4Stats()
        self._file = None
        self._writer: Dump4Writer | None = None
        self.state = "writing"
        self._open(self.path)

    def _open(self, path: Path) -> None:
        try:
            self._file = open(partial(path), "wb")
        except OSError as exc:
            raise OutputError(f"cannot create {path}: {exc.strerror or exc}") from exc
        self.paths.append(path)
        self._writer = Dump4Writer(self._file, **self.options)
        self.deflater = self._writer.deflater

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write {self.paths[-1]}: {exc.strerror or exc}; the output is incomplete")

    def _finish_part(self) -> None:
        assert self._writer is not None and self._file is not None
        try:
            self.stats.add(self._writer.close())
            self._file.close()
        except OSError as exc:
            raise self._failed(exc) from exc
        self._writer = None
        self._file = None

    def write(self, record: Converted) -> None:
        writer = self._writer
        assert writer is not None
        if (self.split_size is not None and not isinstance(record, AttachmentPut4)
                and writer.position >= self.split_size):
            self._finish_part()
            if len(self.paths) == 1:
                first = part_path(self.path, 1)
                os.replace(partial(self.path), partial(first))
                self.paths[0] = first
            self._open(part_path(self.path, len(self.paths) + 1))
            writer = self._writer
        try:
            writer.write(record)
        except OSError as exc:
            raise self._failed(exc) from exc

    def write_all(self, records: Iterable[Converted]) -> None:
        for record in records:
            self.write(record)

    @property
    def current_stats(self) -> Dump4Stats:
        """Totals including the part being written (its gzip size is what was flushed so far)."""
        total = Dump4Stats()
        total.add(self.stats)
        if self._writer is not None:
            total.add(self._writer.stats)
        return total

    def outputs(self) -> list[dict]:
        """Each file with its size so far (``{"path", "bytes"}``; 0 once a failed run removed it)."""
        out = []
        for p in self.paths:
            f = p if self.state == "published" else partial(p)
            out.append({"path": str(p), "bytes": f.stat().st_size if self.state != "discarded" and f.exists() else 0})
        return out

    def close(self) -> Dump4Stats:
        """Finish the last part and give every file its name."""
        if self._writer is not None:
            self._finish_part()
        if self.state == "writing":
            publish(self.paths)
            self.state = "published"
        return self.stats

    def abort(self) -> None:
        """Close the open part without finishing it (after an error) and remove the partial files."""
        if self._writer is not None:
            self._writer.abort()
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # its buffer cannot be written either (full disk): the error being handled says so
            self._file = None
            self._writer = None
        if self.state == "writing":
            discard(self.paths)
            self.state = "discarded"

    def __enter__(self) -> SplitDump4Writer:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
