"""Where a load's time goes: the server's own ``/smuggler/import`` and variants of ``ravenmigrate load``
by turns on one embedded RavenDB 4.1, each on a fresh database, with per run the server's CPU by
thread kind (as ``e2e.py`` splits it), the names behind "other", the machine's idle and iowait
seconds (/proc/stat, the whole machine) and what the server wrote to disk (/proc/PID/io).

    .venv/bin/python benchmarks/load_probe.py DUMP [--rounds 2] \\
        --variant 'import' --variant 'x2=--streams 2' --variant 'ops5000=--operation-docs 5000' \\
        --variant 'sorted import=import:/tmp/sorted.ravendump'

A variant is ``import`` (optionally ``import:PATH``, another dump) or ``LABEL=LOAD ARGS`` (``@PATH``
among the args loads another dump). The import's database gets the revisions configuration first
when the dump holds revisions, as in ``e2e.py``. Method and findings: docs/loading.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e  # noqa: E402


def machine_seconds() -> tuple[float, float]:
    """(idle, iowait) seconds of all CPUs since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[4]) / tick, int(fields[5]) / tick


def written_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def other_threads(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds of the server's "other" threads by name between two runaway-threads snapshots."""
    out: dict[str, float] = {}
    for tid, (name, cpu) in after.items():
        delta = cpu - before.get(tid, (name, 0.0))[1]
        if e2e.thread_kind(name) == "other" and delta > 0:
            out[name] = out.get(name, 0.0) + delta
    return out


def parse_variant(text: str, dump: Path) -> tuple[str, bool, Path, list[str]]:
    """(label, is the server's import, dump, load arguments)."""
    if text == "import" or text.startswith("import:"):
        return text, True, Path(text[7:]) if text.startswith("import:") else dump, []
    label, _, rest = text.partition("=")
    args = shlex.split(rest)
    other = [a[1:] for a in args if a.startswith("@")]
    return label, False, Path(other[0]) if other else dump, [a for a in args if not a.startswith("@")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump", type=Path)
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args(argv)
    variants = [parse_variant(v, args.dump) for v in args.variant]
    revisions = e2e.holds_revisions(args.dump)
    with tempfile.TemporaryDirectory() as tmp, e2e.EmbeddedServer() as srv, e2e.RavenClient(srv.url) as client:
        pid = srv.proc.pid

        def fresh(config: bool) -> str:
            name = "probe-" + uuid.uuid4().hex[:8]
            client.create_database(name)
            if config and revisions:
                client.json("POST", f"/databases/{name}/admin/revisions/config", e2e.REVISIONS_CONFIG)
            return name

        def command(db: str, is_import: bool, dump: Path, load_args: list[str]) -> list[str]:
            if is_import:
                return [e2e.PY, "-c", e2e.IMPORT, srv.url, db, str(dump)]
            return [*e2e.RAVENMIGRATE, "load", str(dump), "--url", srv.url, "--database", db, "--quiet",
                    "--report", f"{tmp}/{db}.json", *load_args]

        warm = fresh(True)  # the first import JITs what every later run reuses
        e2e.run_child(command(warm, True, args.dump, []), pid, server_url=srv.url)
        client.delete_database(warm)
        for _ in range(args.rounds):
            for label, is_import, dump, load_args in variants:
                db = fresh(is_import)
                threads0, (idle0, iowait0), written0 = e2e.server_threads(srv.url), machine_seconds(), written_bytes(pid)
                m = e2e.run_child(command(db, is_import, dump, load_args), pid, server_url=srv.url)
                (idle1, iowait1), written1 = machine_seconds(), written_bytes(pid)
                others = other_threads(threads0, e2e.server_threads(srv.url))
                client.delete_database(db)
                split = m.server_threads
                top = ", ".join(f"{n[:32]} {s:.2f}" for n, s in sorted(others.items(), key=lambda kv: -kv[1])[:3])
                print(f"{label:24s} wall {m.wall:5.2f}  server {m.server_cpu:4.1f} (merger "
                      f"{split['transaction merger']:.1f}, request {split['request threads']:.1f}, indexing "
                      f"{split['indexing']:.1f}, other {split['other']:.1f}; busiest {m.server_busiest:.1f})  client "
                      f"{m.client_cpu:.1f} (busiest {m.client_busiest:.1f})  busy {m.utilisation:.0%}  idle "
                      f"{idle1 - idle0:.1f} iowait {iowait1 - iowait0:.1f}  written "
                      f"{(written1 - written0) / 2**20:.0f} MB  other threads: {top}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
