"""``ravenmigrate load``: put a 3.x source into a live RavenDB 4.x (or the embedded 4.1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..outputs import write_report
from ..progress import table
from ..rejects import Rejects, add_reject_arguments, exit_status, rejects_summary
from ..sinks.server import embedded
from ..sinks.server.bulk_insert import DEVIATIONS
from ..sinks.server.loader import (
    DEFAULT_TRANSPORT,
    TRANSPORTS,
    Loader,
    LoadError,
    LoadOptions,
    default_checkpoint,
)
from ..sinks.server.streams import Limits
from ..sources.voron import options as voron_options
from ._options import add_progress, add_selection, positive_float, progress_mode, selection_from

EPILOG = """transports:
  import       (default) streams the records through the server's own /smuggler/import, in parallel
               imports of disjoint parts of the source: keeps @last-modified, @hilo, legacy revisions
               (with their RV: change vectors) and legacy attachments exactly as RavenDB's own import.
  bulk-insert  the 4.x bulk insert protocol. It CANNOT keep @last-modified (the server stores the
               time of the load), cannot store legacy revisions, creates a revision for every document
               when revisions are enabled, and loses nested @legacy-attachment-metadata keys the 4.x
               metadata parser drops. See docs/deviations.md.

A checkpoint (msgpack) is written next to the report after every acknowledged operation; after a
failure, run the same command with --resume.  Without --url the embedded RavenDB 4.1 is started
(data kept under the cache) and left running; its Studio URL is printed at the end."""


def register(sub) -> None:
    p = sub.add_parser("load", help="load a 3.x source into a live RavenDB 4.x (bulk insert or streamed import)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SRC", help="a 3.x source (.ravendump, export folder, ...)")
    p.add_argument("--url", help="RavenDB 4.x server URL (default: the embedded RavenDB 4.1)")
    p.add_argument("--database", "-d", required=True, help="target database")
    p.add_argument("--create", action="store_true", help="create the database when it does not exist")
    p.add_argument("--transport", choices=TRANSPORTS, default=DEFAULT_TRANSPORT,
                   help=f"how to write (default {DEFAULT_TRANSPORT}; see below)")
    p.add_argument("--streams", type=int, default=2, help="parallel connections (default 2)")
    p.add_argument("--resume", action="store_true", help="continue after the last acknowledged operation")
    p.add_argument("--report", help="write a JSON report here (the checkpoint goes next to it)")
    add_reject_arguments(p)
    p.add_argument("--checkpoint", help="checkpoint file (default: REPORT.checkpoint or "
                                        "./ravenmigrate-load-DB.checkpoint)")
    p.add_argument("--operation-docs", type=int, default=Limits.items,
                   help=f"items per acknowledged operation (default {Limits.items})")
    p.add_argument("--operation-mb", type=float, default=Limits.size / 2**20,
                   help=f"MB per acknowledged operation (default {Limits.size >> 20})")
    p.add_argument("--retry-for", type=float, default=120.0,
                   help="seconds of transient failures (refused, reset, 503) to retry before stopping (default 120)")
    p.add_argument("--gzip", action="store_true", help="gzip bulk insert bodies (worth it over a slow network)")
    p.add_argument("--rate-limit", type=positive_float, metavar="DOCS_PER_S",
                   help="send at most this many items (documents, attachments, deletions) per second")
    p.add_argument("--max-mb-per-s", type=positive_float, metavar="MB",
                   help="send at most this many MB per second (before compression)")
    p.add_argument("--wait-for-indexes", nargs="?", type=float, const=float("inf"), default=None, metavar="MAX_S",
                   help="after the documents, show the indexing and wait until every index is up to date or "
                        "errored (at most MAX_S seconds); the summary gives the time to a usable database")
    p.add_argument("--dry-run", action="store_true",
                   help="read, convert and pre-flight the target; print what would be created, changed, "
                        "deleted, skipped; write nothing")
    add_selection(p)
    add_progress(p)
    voron_options.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.streams < 1:
        raise SystemExit("ravenmigrate load: --streams must be >= 1")
    pid = None
    url = args.url
    if url is None:
        url, pid = embedded.ensure_running()
        args.create = True
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint(args.report, args.database)
    selection, convert_options = selection_from(args)
    options = LoadOptions(url=url, database=args.database, transport=args.transport, streams=args.streams,
                          create=args.create, resume=args.resume, checkpoint=checkpoint, retry_for=args.retry_for,
                          limits=Limits(args.operation_docs, int(args.operation_mb * 2**20)), compress=args.gzip,
                          progress=progress_mode(args), progress_interval=args.progress_interval,
                          rate_limit=args.rate_limit, convert=convert_options, selection=selection,
                          max_bytes_per_s=args.max_mb_per_s * 1e6 if args.max_mb_per_s else None,
                          source_options=voron_options.from_namespace(args), wait_for_indexes=args.wait_for_indexes)
    if args.dry_run:
        return _dry_run(args, options)
    options.rejects = Rejects(args.rejects, args.max_rejects)
    try:
        report = Loader(args.source, options).run()
    except LoadError as exc:
        options.rejects.close()
        if args.report:
            write_report(args.report, exc.report)
        raise
    options.rejects.close()
    if args.report:
        write_report(args.report, report)
    print(summary(report))
    if pid is not None or args.url is None:
        print(f"\nRavenDB 4.1 (embedded, left running, pid {pid}): {embedded.studio_url(url, args.database)}")
    return exit_status(options.rejects)


def _dry_run(args: argparse.Namespace, options: LoadOptions) -> int:
    from ..plan import summary as plan_summary
    from ..sinks.server.dryrun import dry_run

    result = dry_run(args.source, options)
    if args.report:
        write_report(args.report, result)
    t = result["target"]
    print(f"load --dry-run: nothing was written\n  target  {t['url']} (RavenDB {t['server_version']}), database "
          f"{t['database']} ({'exists, ' + format(t['documents'], ',') + ' documents' if t['database_exists'] else 'would be created'}), "
          f"transport {result['transport']}\n" + plan_summary(result))
    return 0


def summary(report: dict) -> str:
    c = report["counts"]
    t = report["timings"]
    secs = max(t.get("total_s", 0.0), 1e-6)
    rows = [
        ("database", f"{report['database']} at {report['url']}"),
        ("transport", f"{report['transport']}, {report['streams']} streams"),
        ("documents", f"{c['documents']:,}"), ("revisions", f"{c['revisions']:,}"),
        ("attachments", f"{c['attachments']:,}"),
        ("deletions", f"{c['deletions']:,}"), ("indexes", f"{c['indexes']:,}"),
        ("identities", f"{c['identities']:,}"), ("skipped", f"{c['skipped']:,}"),
        ("sent", f"{c['documents_sent']:,} items, {c['bytes_sent'] / 1e6:,.1f} MB in {c['operations']} operations"),
        ("already acknowledged", f"{c['already_acknowledged']:,} items (resume)"),
        ("retries", f"{c['retries']}"),
        ("time", f"{secs:,.1f} s, {c['documents_sent'] / secs:,.0f} items/s"),
    ]
    for what, n in report["not_stored"].items():
        rows.append((f"not stored ({what})", f"{n:,}"))
    for what, n in report.get("filtered", {}).items():
        rows.append((f"left out: {what}", f"{n:,}"))
    if "indexing" in report:
        rows.extend(usable_rows(report))
    out = "load " + report["status"] + "\n" + table(rows)
    if report["deviations"]:
        out += "\nbulk insert deviations (docs/deviations.md):\n" + "\n".join(f"  - {d}" for d in DEVIATIONS)
    for finding in report.get("source_findings", []):
        if finding["code"].startswith("warn"):
            out += f"\nwarning: {finding['message']}"
    if report.get("import_messages"):
        out += f"\nserver import reported {len(report['import_messages'])} warnings/errors (see --report)"
    return out + rejects_summary(report)


def usable_rows(report: dict) -> list[tuple[str, str]]:
    """The indexing after the documents (``--wait-for-indexes``) and the time to a usable database."""
    ix, t = report["indexing"], report["timings"]
    states = ix["indexes"]
    errored = [i["name"] for i in states if i["state"] == "Error"]
    stale = [i["name"] for i in states if i["stale"] and i["state"] != "Error"]
    rows = [("indexing", f"{len(states):,} indexes, {ix['wait_s']:,.1f} s after the documents; "
                         f"{sum(i['entries'] for i in states):,} entries, {sum(i['errors'] for i in states):,} errors")]
    if ix["usable"]:
        rows.append(("usable after", f"{t['usable_s']:,.1f} s (documents {t['documents_s']:,.1f} s, creating the "
                                     f"indexes and identities {t['indexes_identities_s']:,.1f} s, then indexing "
                                     f"{ix['wait_s']:,.1f} s)"))
    else:
        rows.append(("usable after", f"not yet: still stale after {ix['wait_s']:,.1f} s: {', '.join(stale)}"))
    if errored:
        rows.append(("errored indexes", ", ".join(errored)))
    return rows
