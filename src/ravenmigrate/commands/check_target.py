"""``ravenmigrate check-target``: the pre-flight of ``load`` alone — the server's version, the
client certificate's registration and clearance, the database, the license — and whether a load
with the given options could run (exit 1 when not)."""

from __future__ import annotations

import argparse
import json

from ..errors import RavenMigrateError
from ..progress import table
from ..sinks.server import embedded, preflight, revisions, target
from ..sinks.server.loader import scan_source
from ..sources.voron import options as voron_options


def register(sub) -> None:
    p = sub.add_parser("check-target", help="check a RavenDB 4.x target before a load: version, certificate "
                                            "clearance, permissions, database (exit 1 on a problem)")
    target.add_arguments(p, "the embedded RavenDB 4.1")
    p.add_argument("--database", "-d", help="the database a load would write to")
    p.add_argument("--create", action="store_true", help="check that the database could be created")
    p.add_argument("--encrypted", action="store_true", help="check that an encrypted database could be created")
    p.add_argument("--source", metavar="SRC",
                   help="the 3.x source to load: also check the steps it needs (revisions configuration, indexes)")
    p.add_argument("--transport", choices=("import", "bulk-insert"), default="import")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    voron_options.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tgt = target.from_namespace(args) or target.Target((embedded.ensure_running()[0],))
    if (args.create or args.encrypted or args.source) and not args.database:
        raise RavenMigrateError("check-target: --create, --encrypted and --source need --database")
    facts = preflight.inspect(tgt, args.database)
    needs = preflight.Needs(write=bool(args.database), create=args.create or args.encrypted,
                            encrypted=args.encrypted)
    if args.source and facts.database_exists:
        collections, has_indexes = scan_source(args.source, **voron_options.from_namespace(args))
        if collections is not None:
            needs.revisions = revisions.merge(facts.revisions_config, collections)[0] is not None
        needs.admin_indexes = has_indexes and args.transport == "bulk-insert"
    problems = preflight.check(facts, needs) if args.database else []
    if args.json:
        print(json.dumps(facts.to_dict(), indent=2, default=str))
        return 1 if problems else 0
    cert = facts.certificate or {}
    rows = [("server", f"{tgt.describe()}: RavenDB {facts.build.get('FullVersion')} "
                       f"(build {facts.build.get('BuildVersion')}, commit {facts.build.get('CommitHash')})"),
            ("secured", "yes (HTTPS, client certificate)" if facts.secure else "no (http)")]
    if cert:
        perms = ", ".join(f"{db}: {a}" for db, a in sorted(cert.get("Permissions", {}).items())) or "none"
        rows += [("certificate", f"{cert.get('Name')} ({cert.get('Thumbprint')})"),
                 ("clearance", str(cert.get("SecurityClearance"))), ("database access", perms)]
    if args.database:
        state = {True: "exists", False: "does not exist", None: "not visible to this certificate"}
        rows.append(("database", f"{args.database} {state[facts.database_exists]}"))
        if facts.topology:
            rows.append(("database group", ", ".join(f"{n.get('ClusterTag')} {n.get('Url')} ({n.get('ServerRole')})"
                                                      for n in facts.topology)))
    lic = facts.license
    if lic:
        rows.append(("license", f"{lic.get('Status') or lic.get('Type')}: up to {lic.get('MaxClusterSize')} node(s), "
                                f"encryption {'yes' if lic.get('HasEncryption') else 'no'}"))
    print(("check-target OK" if not problems else "check-target FAILED") + "\n" + table(rows))
    for w in facts.warnings:
        print(f"  warning: {w}")
    for p in problems:
        print(f"  problem: {p}")
    return 1 if problems else 0
