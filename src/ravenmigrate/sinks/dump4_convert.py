"""Offline conversion: a 3.x source -> the converter (issue 4 rules) -> a 4.x ``.ravendbdump``.

:func:`convert_to_dump4` is what ``ravenmigrate convert`` runs; it returns the report the
command prints and writes with ``--report``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..convert import Converter, ConvertOptions
from ..errors import RavenMigrateError
from ..sources import open_source
from .dump4 import BUILD_VERSION, DEFAULT_LEVEL
from .dump4_split import SplitDump4Writer


@dataclass(slots=True)
class Dump4Options:
    level: int = DEFAULT_LEVEL
    deflater: str = "auto"
    split_size: int | None = None
    attachments: str = "legacy"
    convert: ConvertOptions | None = None


class ConvertError(RavenMigrateError):
    """The conversion stopped; ``report`` says how far it got."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        self.report = report
        super().__init__(message)


def convert_to_dump4(source: str | os.PathLike, out: str | os.PathLike,
                     options: Dump4Options | None = None) -> dict[str, Any]:
    """Convert *source* into the 4.x dump *out* (several parts with ``split_size``); returns the report."""
    opts = options or Dump4Options()
    started = time.perf_counter()
    src = open_source(source, compact=True)
    converter = Converter(opts.convert)
    input_bytes = 0
    writer = SplitDump4Writer(out, opts.split_size, level=opts.level, deflater=opts.deflater,
                              attachments=opts.attachments)
    try:
        for record in src.records():
            if record.position.offset > input_bytes:
                input_bytes = record.position.offset
            for converted in converter.convert(record):
                writer.write(converted)
        stats = writer.close()
    except RavenMigrateError as exc:
        stats = writer.current_stats
        writer.abort()
        report = _report(source, writer, stats, converter, src, input_bytes, started, opts, "failed", str(exc))
        raise ConvertError(str(exc), report) from exc
    except BaseException:
        writer.abort()
        raise
    return _report(source, writer, stats, converter, src, input_bytes, started, opts, "completed", None)


def _report(source, writer: SplitDump4Writer, stats, converter: Converter, src, input_bytes: int, started: float,
            opts: Dump4Options, status: str, error: str | None) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {
        "status": status,
        "error": error,
        "source": str(source),
        "era": getattr(src, "era", None),
        "outputs": [{"path": str(p), "bytes": p.stat().st_size if p.exists() else 0} for p in writer.paths],
        "format": {"build_version": BUILD_VERSION, "layout": "hybrid (V4 sections + legacy Attachments, "
                                                               "DocsDeletions; docs/dump4.md)",
                   "level": opts.level, "deflater": writer.deflater, "attachments": opts.attachments},
        "counts": {"documents": stats.documents, "revisions": stats.revisions, "attachments": stats.attachments,
                   "attachment_bytes": stats.attachment_bytes, "deletions": stats.deletions,
                   "indexes": stats.indexes, "identities": stats.identities,
                   "skipped": sum(stats.skipped.values())},
        "not_stored": dict(stats.skipped),
        "deviations": dict(converter.deviation_counts),
        "findings": [{"code": f.code, "message": f.message} for f in getattr(src, "findings", [])],
        "bytes": {"input_json_approx": input_bytes, "output_json": stats.json_bytes, "output_gzip": stats.gzip_bytes},
        "timings": {"total_s": round(seconds, 3),
                    "input_mb_per_s": round(input_bytes / 1e6 / seconds, 1) if seconds > 0 else None},
    }


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(report, indent=2, default=str))
