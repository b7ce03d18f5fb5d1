"""Offline conversion: a 3.x source -> the converter (issue 4 rules) -> a 4.x ``.ravendbdump``.

:func:`convert_to_dump4` is what ``ravenmigrate convert`` runs; it returns the report the
command prints and writes with ``--report``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...convert import Converter, ConvertOptions
from ...convert.indexes import IndexReport, outcome_of, want
from ...convert.selection import Selection, Selector
from ...errors import OutputError, RavenMigrateError
from ...fields import Fields
from ...records import Attachment, AttachmentRun, Document, DocumentRun, File, Index, Record
from ...rejects import Rejects
from ...sources import open_source
from ...sources.stream import uncompressed_size
from ...threads import responsive
from .split import SplitDump4Writer
from .writer import BUILD_VERSION, DEFAULT_LEVEL

PROGRESS_EVERY = 0.5


class Dump4Options(Fields):
    __slots__ = ("level", "deflater", "split_size", "attachments", "convert", "selection", "source_options")

    def __init__(
        self,
        level: int = DEFAULT_LEVEL,
        deflater: str = "auto",
        split_size: int | None = None,
        attachments: str = "legacy",
        convert: ConvertOptions | None = None,
        selection: Selection | None = None,
        source_options: dict[str, Any] | None = None,
    ) -> None:
        self.level = level
        self.deflater = deflater
        self.split_size = split_size
        self.attachments = attachments
        self.convert = convert
        self.selection = selection
        # Raw storage options for open_source (journals/logs path, bundles, Esent --force-dirty).
        self.source_options = dict(source_options or {})


class ConvertError(RavenMigrateError):
    """The conversion stopped; ``report`` says how far it got."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        self.report = report
        super().__init__(message)


def convert_to_dump4(source: str | os.PathLike, out: str | os.PathLike, options: Dump4Options | None = None,
                     progress: Callable[[dict[str, Any]], None] | None = None,
                     rejects: Rejects | None = None) -> dict[str, Any]:
    """Convert *source* into the 4.x dump *out* (several parts with ``split_size``); returns the report.

    *progress* is called about every :data:`PROGRESS_EVERY` seconds with the running report. Bad
    source records within *rejects*' limit are skipped and written there (docs/reliability.md); the
    report's ``status`` is then ``completed with rejects``.
    """
    opts = options or Dump4Options()
    rejects = rejects if rejects is not None else Rejects()
    started = time.perf_counter()
    selector = None if opts.selection is None or opts.selection.everything else Selector(opts.selection)
    # Common attachments as runs of legacy elements (convert/attachrun.py) when each is written as one
    # legacy element of one dump, with nothing to select.
    attachment_runs = opts.attachments == "legacy" and opts.split_size is None and selector is None
    src = open_source(source, compact=True, runs=True, rejects=rejects, attachment_runs=attachment_runs,
                      **opts.source_options)
    converter = Converter(opts.convert, rejects=rejects)
    measure = _InputMeasure()
    total = uncompressed_size(Path(source))
    try:
        writer = SplitDump4Writer(out, opts.split_size, level=opts.level, deflater=opts.deflater,
                                  attachments=opts.attachments, background=True)
    except OutputError as exc:
        raise ConvertError(str(exc), {"status": "failed", "source": str(source), "error": str(exc)}) from exc
    next_progress = started + PROGRESS_EVERY
    indexes: list[Index] = []
    try:
        with responsive():
            for record in src.records():
                measure.add(record)
                if isinstance(record, Index):  # after the documents, which the index rewrite learns from
                    want(record, converter.sample)
                    indexes.append(record)
                    continue
                converted = converter.convert(record)
                if selector is not None:
                    converted = selector.select(record, list(converted))
                for item in converted:
                    writer.write(item)
                if progress is not None and time.perf_counter() >= next_progress:
                    next_progress = time.perf_counter() + PROGRESS_EVERY
                    running = _report(source, writer, writer.current_stats, converter, src, measure.bytes, started,
                                      opts, "running", None, selector)
                    own = getattr(src, "fraction", None)
                    running["fraction"] = own() if callable(own) else min(measure.bytes / total, 1.0) if total else None
                    progress(running)
            index_report = _write_indexes(writer, converter, indexes, selector)
            stats = writer.close()
    except RavenMigrateError as exc:
        stats = writer.current_stats
        writer.abort()
        message = str(exc)
        if isinstance(exc, OutputError):
            message += f" ({stats.documents:,} documents were converted before)"
        report = _report(source, writer, stats, converter, src, measure.bytes, started, opts, "failed", message,
                         selector)
        report["rejects"] = rejects.report()
        raise ConvertError(message, report) from exc
    except BaseException:
        writer.abort()
        raise
    finally:
        getattr(src, "close", lambda: None)()
    status = "completed with rejects" if rejects.count else "completed"
    report = _report(source, writer, stats, converter, src, measure.bytes, started, opts, status, None, selector)
    report["rejects"] = rejects.report()
    report["indexes"] = index_report
    return report


def _write_indexes(writer: SplitDump4Writer, converter: Converter, indexes: list[Index],
                   selector: Selector | None) -> dict[str, Any]:
    """Write the selected indexes (rewritten where 4.x would reject them, docs/indexes.md); their
    predicted outcomes, with every rewrite before and after, for the report."""
    out = IndexReport()
    rewrites = {}
    for record in indexes:
        converted = converter.index(record)
        if selector is not None and not selector.select(record, [converted]):
            continue
        writer.write(converted)
        out.outcomes.append(outcome_of(record, converted))
        if getattr(converted, "rewrite", None) is not None:
            rewrites[record.name] = converted.rewrite.to_json()
    report = out.to_json()
    for line in report["indexes"]:
        if line["name"] in rewrites:
            line.update(rewrites[line["name"]])
    return report


class _InputMeasure:
    """Uncompressed input size: the furthest record offset of a dump, or (raw storage, offset -1) the
    bytes of the documents, attachments and files read."""

    def __init__(self) -> None:
        self.furthest = 0
        self.data = 0

    def add(self, record: Record) -> None:
        if isinstance(record, DocumentRun):
            offset = record.offsets[-1]
        elif isinstance(record, AttachmentRun):
            offset = record.last_offset
        else:
            offset = record.position.offset
        if offset > self.furthest:
            self.furthest = offset
        elif offset < 0 and isinstance(record, Document | Attachment):
            self.data += len(record.data)
        elif isinstance(record, File) and record.content is not None:
            self.data += len(record.content)

    @property
    def bytes(self) -> int:
        return self.furthest or self.data


def _report(source, writer: SplitDump4Writer, stats, converter: Converter, src, input_bytes: int, started: float,
            opts: Dump4Options, status: str, error: str | None, selector: Selector | None = None) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {
        "status": status,
        "error": error,
        "source": str(source),
        "era": getattr(src, "era", None),
        "outputs": writer.outputs(),
        "format": {"build_version": BUILD_VERSION, "layout": "hybrid (V4 sections + legacy Attachments, "
                                                               "DocsDeletions; docs/dump4.md)",
                   "level": opts.level, "deflater": writer.deflater, "attachments": opts.attachments},
        "counts": {"documents": stats.documents, "revisions": stats.revisions, "attachments": stats.attachments,
                   "attachment_bytes": stats.attachment_bytes, "deletions": stats.deletions,
                   "indexes": stats.indexes, "identities": stats.identities,
                   "skipped": sum(stats.skipped.values())},
        "not_stored": dict(stats.skipped),
        "filtered": dict(selector.filtered) if selector is not None else {},
        "deviations": dict(converter.deviation_counts),
        "findings": [{"code": f.code, "message": f.message} for f in getattr(src, "findings", [])],
        "bytes": {"input_json_approx": input_bytes, "output_json": stats.json_bytes, "output_gzip": stats.gzip_bytes},
        "timings": {"total_s": round(seconds, 3),
                    "input_mb_per_s": round(input_bytes / 1e6 / seconds, 1) if seconds > 0 else None},
    }

