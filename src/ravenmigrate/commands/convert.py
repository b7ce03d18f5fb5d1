"""``ravenmigrate convert SRC -o OUT.ravendbdump``: a 3.x source -> a 4.x dump, offline."""

from __future__ import annotations

import argparse
import re

from ..convert.indexes import describe
from ..errors import RavenMigrateError
from ..outputs import write_report
from ..progress import Progress
from ..rejects import Rejects, add_reject_arguments, exit_status, rejects_summary
from ..sinks.dump4.convert import ConvertError, Dump4Options, convert_to_dump4
from ..sinks.dump4.writer import DEFAULT_LEVEL
from ..sources.live3x import options as live_options
from ..sources.voron import options as raw_options
from ._options import add_index_options, add_progress, add_selection, progress_mode, selection_from

EPILOG = """The output is a RavenDB 4.x .ravendbdump (BuildVersion 40) that Studio or /smuggler/import
reads: documents, legacy revisions, indexes and identities in 4.x form, converted by the same rules
as `load`; legacy attachments and deletions keep the legacy sections the 4.x import still
accepts, so the imported database equals a direct import of the 3.x file (docs/dump4.md).
With --split-size, import the parts in name order."""

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.I)


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GB``, ``4096`` -> bytes (powers of 1024)."""
    m = _SIZE.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 500M, 2G)")
    size = int(float(m.group(1)) * 1024 ** " kmgt".index((m.group(2) or " ").lower()))
    if size <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return size


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a 3.x source into a 4.x .ravendbdump (offline)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SRC", help="a 3.x source (.ravendump, export folder, ...)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the 4.x dump to write")
    p.add_argument("--level", type=int, default=DEFAULT_LEVEL, choices=range(10), metavar="N",
                   help=f"gzip level 0-9 (default {DEFAULT_LEVEL}: fastest; ISA-L for 1-3 when installed)")
    p.add_argument("--deflater", default="auto", choices=("auto", "isal", "zlib-ng", "zlib"),
                   help="compression library (default: the fastest installed)")
    p.add_argument("--split-size", type=parse_size, metavar="SIZE",
                   help="start a new file once a part reaches SIZE compressed (e.g. 2G)")
    p.add_argument("--report", help="write a JSON report here")
    add_reject_arguments(p)
    p.add_argument("--dry-run", action="store_true",
                   help="read and convert; print what the dump would hold; write nothing")
    add_selection(p)
    add_index_options(p)
    add_progress(p)
    raw_options.add_arguments(p)
    live_options.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    selection, convert_options = selection_from(args)
    dump_options = Dump4Options(level=args.level, deflater=args.deflater, split_size=args.split_size,
                                convert=convert_options, selection=selection,
                                source_options={**raw_options.from_namespace(args),
                                                **live_options.from_namespace(args)})
    if args.dry_run:
        return _dry_run(args, convert_options, selection)
    progress = Progress("convert", mode=progress_mode(args), interval=args.progress_interval)
    progress.update({"documents": 0, "bytes": 0, "attachments": 0, "mb_written": 0.0})
    rejects = Rejects(args.rejects, args.max_rejects)
    try:
        with progress:
            report = convert_to_dump4(args.source, args.output, dump_options,
                                      progress=lambda r: progress.update(_counters(r)) if progress.enabled else None,
                                      rejects=rejects)
            progress.update(_counters(report))
    except ConvertError as exc:
        if args.report:
            write_report(args.report, exc.report)
        raise
    finally:
        rejects.close()
    if args.report:
        write_report(args.report, report)
    print(summary(report))
    return exit_status(rejects)


def _counters(report: dict) -> dict:
    """The progress counters of a (running) report: input bytes read, documents and attachments written."""
    c = report["counts"]
    return {"documents": c["documents"], "bytes": report["bytes"]["input_json_approx"],
            "fraction": report.get("fraction"), "attachments": c["attachments"],
            "mb_written": round(sum(o["bytes"] for o in report["outputs"]) / 1e6, 1)}


def _dry_run(args: argparse.Namespace, convert_options, selection) -> int:
    from pathlib import Path

    from ..plan import plan
    from ..plan import summary as plan_summary

    folder = Path(args.output).resolve().parent
    if not folder.is_dir():
        raise RavenMigrateError(f"convert --dry-run: the output folder {folder} does not exist")
    result = plan(args.source, convert=convert_options, selection=selection)
    result["output"] = str(args.output)
    if args.report:
        write_report(args.report, result)
    print(f"convert --dry-run: nothing was written\n  output  {args.output}\n" + plan_summary(result))
    return 0


def summary(report: dict) -> str:
    c = report["counts"]
    b = report["bytes"]
    t = report["timings"]
    rows = [("source", report["source"])]
    rows += [("output", f"{o['path']} ({o['bytes'] / 1e6:,.1f} MB)") for o in report["outputs"]]
    rows += [
        ("format", f"BuildVersion {report['format']['build_version']}, gzip level {report['format']['level']} "
                   f"({report['format']['deflater']})"),
        ("documents", f"{c['documents']:,}"), ("revisions", f"{c['revisions']:,}"),
        ("attachments", f"{c['attachments']:,} ({c['attachment_bytes'] / 1e6:,.1f} MB)"),
        ("deletions", f"{c['deletions']:,}"),
        ("indexes", f"{c['indexes']:,} written; predicted in 4.x: " + describe(report["indexes"]["summary"])),
        ("identities", f"{c['identities']:,}"), ("not stored", f"{c['skipped']:,}"),
        ("time", f"{t['total_s']:,.1f} s, {t['input_mb_per_s'] or 0:,.1f} MB/s of input JSON "
                 f"({b['input_json_approx'] / 1e6:,.1f} MB)"),
    ]
    width = max(len(k) for k, _ in rows)
    out = f"convert {report['status']}\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
    if report["not_stored"]:
        out += "\nnot stored (as the 4.x import):\n" + "\n".join(
            f"  {n:>8,}  {what}" for what, n in report["not_stored"].items())
    if report.get("filtered"):
        out += "\nleft out (by the selection options):\n" + "\n".join(
            f"  {n:>8,}  {what}" for what, n in report["filtered"].items())
    notable = [i for i in report["indexes"]["indexes"] if i["outcome"] != "create"]
    if notable:
        out += "\nindexes not written as is (--report has every rewrite before and after):\n" + "\n".join(
            f"  {i['outcome']}: {i['name']}" + (f": {i['reason']}" if i["reason"] else f" ({', '.join(i['rules'])})")
            for i in notable)
    if report["deviations"]:
        out += "\ndeviations from the 4.x import (docs/deviations.md):\n" + "\n".join(
            f"  {n:>8,}  {code}" for code, n in report["deviations"].items())
    return out + rejects_summary(report)
