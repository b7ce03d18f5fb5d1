"""End-to-end benchmark: every stage of a migration on one generated 3.5-style dump, each next to
its baseline, measured in the same run (issue 8).

    .venv/bin/python benchmarks/e2e.py --size 200MB [--repeat 3] [--streams 1,2,4] [--no-load]

Stages (each run as its own process so CPU time and peak RSS are its own):
  decompress   inflate the dump, nothing else              (baseline of inspect)
  inspect      ravenmigrate inspect --json                 ratio vs decompress
  floor LN     inflate + deflate the same bytes at level N  (baseline of convert LN)
  convert LN   ravenmigrate convert --level N              ratio vs floor LN  (--convert-levels)
  import       the server's own POST /smuggler/import (baseline of every load; the revisions
               configuration first when the dump holds revisions, as load and a user do)
  load         ravenmigrate load --transport T --streams N  ratio vs import
  stream       read every document back from the server, nothing else (GET /streams/docs;
               baseline of verify)
  verify       ravenmigrate verify of a database load filled  ratio vs stream
Results: a Markdown table and a JSON file under benchmarks/results/, and a PNG bar chart of the
ratios. The machine is noisy: medians of --repeat runs (a stage and its offline baseline by turns),
and ratios are the result.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from ravenmigrate.server import EmbeddedServer  # noqa: E402
from ravenmigrate.sinks.server.client import RavenClient  # noqa: E402
from ravenmigrate.sinks.server.loader import REVISIONS_CONFIG  # noqa: E402 - the configuration load gives

RESULTS = REPO / "benchmarks" / "results"
PY = sys.executable
# The command as users run it: the installed console script (python -m would add runpy's imports).
_SCRIPT = Path(PY).with_name("ravenmigrate")
RAVENMIGRATE = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "ravenmigrate"]


def parse_size(text: str) -> int:
    units = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
    for unit, mult in units.items():
        if text.upper().endswith(unit):
            return int(float(text[: -len(unit)]) * mult)
    return int(text)


@dataclass
class Measure:
    wall: float
    client_cpu: float
    peak_rss_mb: float
    server_cpu: float = 0.0


@dataclass
class Row:
    stage: str
    baseline: str | None
    runs: list[Measure] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(m, attr) for m in self.runs)


def server_cpu_seconds(pid: int | None) -> float:
    """utime + stime of the server process (and its threads) from /proc."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(cmd: list[str], server_pid: int | None = None, env: dict | None = None) -> Measure:
    """Run *cmd*; wall time, its own CPU (user+sys) and peak RSS from wait4, server CPU from /proc."""
    s0 = server_cpu_seconds(server_pid)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                   server_cpu_seconds(server_pid) - s0)


# The floors: the fastest installed inflater (isal > zlib-ng > zlib, as the reader picks it),
# reading 1 MiB at a time, doing nothing else; FLOOR also deflates the same bytes at the level
# convert writes with, through the same library.
DECOMPRESS = """
import sys
from ravenmigrate.sources.stream import inflater
name, z = inflater()
d = z.decompressobj(31)
n = 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        n += len(d.decompress(b))
print(n, name)
"""

FLOOR = """
import sys
from ravenmigrate.sinks.deflate import gzip_compressor
from ravenmigrate.sources.stream import inflater
name, z = inflater()
d = z.decompressobj(31)
c, deflater = gzip_compressor(int(sys.argv[2]))
out = 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        out += len(c.compress(d.decompress(b)))
out += len(c.flush())
print(out, name, deflater)
"""

STREAM = """
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
conn.request("GET", f"/databases/{sys.argv[2]}/streams/docs")
resp = conn.getresponse()
n = 0
while True:
    b = resp.read(1 << 20)
    if not b:
        break
    n += len(b)
print(n)
"""

IMPORT = """
import sys
from ravenmigrate.sinks.server.client import RavenClient
with RavenClient(sys.argv[1]) as c:
    c.import_file(sys.argv[2], sys.argv[3])
"""


def uncompressed_size(dump: Path) -> int:
    out = subprocess.run([PY, "-c", DECOMPRESS, str(dump)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def holds_revisions(dump: Path) -> bool:
    """Whether a user migrating *dump* enables revisions before the server's import (target-4x.md §4):
    it holds legacy revisions or 3.x versioning configuration documents, the rule `load` applies."""
    from ravenmigrate.convert.documents import needs_revisions
    from ravenmigrate.sources import open_source

    return any(needs_revisions(record) for record in open_source(dump).records())


def server_stages(args, dump: Path, tmp: Path, measure) -> None:
    """The server's own import of the dump, then every load transport and stream count. When the dump
    holds revisions, the import's database gets the revisions configuration first, as a user must
    give it (and as `load` does itself), so both build the same database."""
    revisions = holds_revisions(dump)
    with EmbeddedServer() as srv, RavenClient(srv.url) as client:
        def fresh_db() -> str:
            name = "bench-" + uuid.uuid4().hex[:8]
            client.create_database(name)
            return name

        def fresh_import_db() -> str:
            name = fresh_db()
            if revisions:
                client.json("POST", f"/databases/{name}/admin/revisions/config", REVISIONS_CONFIG)
            return name

        measure("server /smuggler/import", None, lambda db: [PY, "-c", IMPORT, srv.url, db, str(dump)], srv,
                fresh_import_db)
        for transport in args.transports.split(","):
            for n in (int(s) for s in args.streams.split(",")):
                measure(f"load {transport} x{n}", "server /smuggler/import",
                        lambda db, t=transport, n=n: [*RAVENMIGRATE, "load", str(dump), "--url", srv.url,
                                                      "--database", db, "--transport", t, "--streams", str(n),
                                                      "--quiet", "--report", str(tmp / f"load-{db}.json")],
                        srv, fresh_db)
        loaded = fresh_db()  # one database as load fills it, read back by both stages below
        subprocess.run([*RAVENMIGRATE, "load", str(dump), "--url", srv.url, "--database", loaded, "--quiet",
                        "--report", str(tmp / "load-verified.json")], check=True, capture_output=True)
        measure("server /streams/docs", None, lambda db: [PY, "-c", STREAM, srv.url, db], srv, lambda: loaded)
        measure("verify", "server /streams/docs",
                lambda db: [*RAVENMIGRATE, "verify", str(dump), "--url", srv.url, "--database", db, "--json"],
                srv, lambda: loaded)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="200MB", help="uncompressed size of the generated dump")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--streams", default="1,2,4")
    ap.add_argument("--transports", default="bulk-insert,import")
    ap.add_argument("--level", type=int, default=6, help="gzip level of the generated dump")
    ap.add_argument("--work", default=None, help="where the generated dump goes (default fixtures/generated)")
    ap.add_argument("--convert-levels", default="6,1",
                    help="output gzip levels to run convert and its floor at (1 is convert's default)")
    ap.add_argument("--no-load", action="store_true", help="skip the stages that need the server")
    args = ap.parse_args(argv)

    size = parse_size(args.size)
    # Measure the tool as installed: pip compiles the package's bytecode, but an editable checkout
    # under PYTHONDONTWRITEBYTECODE=1 (this machine's default) would compile every module in every
    # stage process (about 55 ms of each convert's start-up).
    compileall.compile_dir(str(REPO / "src"), quiet=1)
    work = Path(args.work or REPO / "fixtures" / "generated")
    work.mkdir(parents=True, exist_ok=True)
    dump = work / f"e2e-{args.size}.ravendump"
    if not dump.exists():
        subprocess.run([PY, str(REPO / "fixtures" / "generate.py"), str(dump), "--size", str(size),
                        "--level", str(args.level), "--attachments", "50"], check=True)
    raw = uncompressed_size(dump)
    docs = json.loads(subprocess.run([*RAVENMIGRATE, "inspect", "--json", str(dump)],
                                     capture_output=True, text=True, check=True).stdout)["counts"]["Docs"]
    print(f"input {dump} ({dump.stat().st_size / 1e6:.1f} MB gzip, {raw / 1e6:.1f} MB JSON, {docs} documents)")

    rows: list[Row] = []

    def measure(stage: str, baseline: str | None, make_cmd, server: EmbeddedServer | None = None, setup=None) -> None:
        row = Row(stage, baseline)
        for _ in range(args.repeat):
            extra = setup() if setup else None
            row.runs.append(run_child(make_cmd(extra), server.proc.pid if server and server.proc else None))
        rows.append(row)
        print(f"  {stage:<28} median {row.median('wall'):7.2f} s")

    def measure_pair(baseline: str, baseline_cmd: list[str], stage: str, cmd: list[str]) -> None:
        """A stage and its baseline run by turns (baseline, stage, baseline, ...): the machine's speed
        drifts over seconds, and a ratio of runs made at the same time does not carry the drift."""
        base, row = Row(baseline, None), Row(stage, baseline)
        for _ in range(args.repeat):
            base.runs.append(run_child(baseline_cmd))
            row.runs.append(run_child(cmd))
        rows.extend((base, row))
        for r in (base, row):
            print(f"  {r.stage:<28} median {r.median('wall'):7.2f} s")

    tmp = Path(tempfile.mkdtemp(prefix="ravenmigrate-e2e-"))
    measure_pair("decompress", [PY, "-c", DECOMPRESS, str(dump)],
                 "inspect", [*RAVENMIGRATE, "inspect", "--json", str(dump)])
    for level in (int(x) for x in args.convert_levels.split(",")):
        measure_pair(f"floor (inflate+deflate) L{level}", [PY, "-c", FLOOR, str(dump), str(level)],
                     f"convert L{level}", [*RAVENMIGRATE, "convert", str(dump), "-o", str(tmp / "out.ravendbdump"),
                                           "--level", str(level)])
    if not args.no_load:
        server_stages(args, dump, tmp, measure)

    by_name = {r.stage: r for r in rows}
    table = ["| stage | wall s | MB/s (JSON in) | docs/s | client CPU s | server CPU s | peak RSS MB | ratio | vs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    out_rows = []
    for r in rows:
        wall = r.median("wall")
        ratio = by_name[r.baseline].median("wall") / wall if r.baseline else None
        rec = {"stage": r.stage, "baseline": r.baseline, "wall_s": wall, "mb_per_s": raw / 1e6 / wall,
               "docs_per_s": docs / wall, "client_cpu_s": r.median("client_cpu"),
               "server_cpu_s": r.median("server_cpu"), "peak_rss_mb": max(m.peak_rss_mb for m in r.runs),
               "ratio": ratio, "runs": [asdict(m) for m in r.runs]}
        out_rows.append(rec)
        table.append(f"| {r.stage} | {wall:.2f} | {rec['mb_per_s']:.1f} | {rec['docs_per_s']:.0f} | "
                     f"{rec['client_cpu_s']:.1f} | {rec['server_cpu_s']:.1f} | {rec['peak_rss_mb']:.0f} | "
                     f"{'' if ratio is None else f'{ratio:.2f}x'} | {r.baseline or '(baseline)'} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {"size": args.size, "uncompressed_bytes": raw, "documents": docs, "repeat": args.repeat,
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "command": "benchmarks/e2e.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    (RESULTS / f"e2e-{args.size}.json").write_text(json.dumps({"meta": meta, "rows": out_rows}, indent=2))
    md = (f"Input: {raw / 1e6:.0f} MB of 3.5-style JSON ({docs} documents), gzip level {args.level}; "
          f"median of {args.repeat}; {meta['machine']}; {stamp}.\n\n" + "\n".join(table) + "\n")
    (RESULTS / f"e2e-{args.size}.md").write_text(md)
    chart(out_rows, RESULTS / f"e2e-{args.size}.png", meta)
    print(md)
    return 0


def chart(rows: list[dict], path: Path, meta: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rated = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(rated) + 1.5))
    ax.barh([f"{r['stage']} / {r['baseline']}" for r in rated], [r["ratio"] for r in rated], color="#3a7ca5")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("speed relative to baseline (higher is better)")
    ax.set_title(f"ravenmigrate e2e, {meta['size']} input, median of {meta['repeat']}")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
