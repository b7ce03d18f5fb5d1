"""``ravenmigrate verify``: prove a load: every converted source item is in the 4.x database, equal."""

from __future__ import annotations

import argparse
import json

from ..sinks.server import target
from ..sources.live3x import options as live_options
from ..sources.voron import options as voron_options
from ..verify.answer import ask
from ._options import add_selection, selection_from

SECTIONS = ("documents", "attachments", "revisions", "identities", "indexes")


def register(sub) -> None:
    p = sub.add_parser("verify", help="compare a 4.x database with the converted source (exit 1 on any difference)")
    p.add_argument("source", metavar="SRC", help="the 3.x source that was loaded")
    target.add_arguments(p, "the embedded RavenDB 4.1")
    p.add_argument("--database", "-d", required=True, help="the loaded database")
    p.add_argument("--transport", choices=target.TRANSPORTS, default=target.DEFAULT_TRANSPORT,
                   help="the transport the load used: with bulk-insert its documented deviations "
                        "(@last-modified, revisions) are counted apart, not as differences")
    p.add_argument("--streams", type=int, default=1, metavar="N",
                   help="read the documents in ranges, N at once, each on its own connection: faster where the "
                        "server has cores to spare; each range is its own read transaction, so only for a "
                        "database nobody writes to meanwhile (default 1: one read, one snapshot)")
    p.add_argument("--expected-list", metavar="FILE",
                   help="the expected entries a load wrote (load --expected-list): read instead of converting "
                        "the source again; refused unless written for this source as it is now, with the same "
                        "transport and selection")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument("--max-rejects", type=int, default=0, metavar="N",
                   help="the --max-rejects the load ran with: bad source records it rejected are not expected "
                        "(documents the server rejected are reported missing; docs/reliability.md)")
    add_selection(p)
    voron_options.add_arguments(p)
    live_options.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Ask the server for the documents first (the server writes them while the rest of verify is
    imported and the source opened: docs/loading.md "Verify"), then verify."""
    if args.streams < 1:
        raise SystemExit("ravenmigrate verify: --streams must be >= 1")
    tgt = target.from_namespace(args)
    if tgt is None:
        from ..sinks.server import embedded

        tgt = target.Target((embedded.ensure_running()[0],))
    url = tgt.url
    if len(tgt.urls) > 1:  # several nodes of one cluster: read from the first member of the database group
        from ..sinks.server.topology import Topology

        url = Topology(tgt, args.database).refresh()[0].url
    client = tgt.client(url)
    answer = None
    try:
        answer = ask(client, lambda: tgt.client(url), args.database, args.streams)
        from ..progress import table
        from ..rejects import Rejects
        from ..verify.documents import verify

        selection, convert_options = selection_from(args)
        report = verify(args.source, url, args.database, args.transport, convert_options, selection, target=tgt,
                        answer=answer, expected_list=args.expected_list, rejects=Rejects(limit=args.max_rejects),
                        **voron_options.from_namespace(args),
                        **live_options.from_namespace(args))
    finally:
        if answer is not None:
            answer.close()
        client.close()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0 if report["ok"] else 1
    rows = []
    for name in SECTIONS:
        s = report[name]
        rows.append((name, f"expected {s['expected']:,}  found {s['found']:,}  missing {s['missing']:,}  "
                           f"extra {s['extra']:,}  different {s['different']:,}"))
    for what, n in report["deviations"].items():
        rows.append((f"deviation: {what}", f"{n:,} (documented bulk insert deviation)"))
    print(("verify OK" if report["ok"] else "verify FAILED") + f": {args.database} at {url}\n" + table(rows))
    for name in SECTIONS:
        s = report[name]
        for what in ("missing", "extra", "different"):
            for item in s[f"{what}_items"][:20]:
                print(f"  {what} {name.rstrip('s')}: {item}")
    return 0 if report["ok"] else 1
