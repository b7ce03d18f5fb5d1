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
  stream       read every document back from the server, nothing else (GET /streams/docs, newest
               first; baseline of verify)
  oldest first the same, oldest first (GET /docs?etag=0, the endpoint verify reads: docs/loading.md
               "Verify")                                   ratio vs stream
  verify       ravenmigrate verify of a database load filled  ratio vs stream, and (the same runs)
               vs oldest first
  verify --expected-list --streams 2  the same verify reading the list of expected entries that
               load wrote (load --expected-list) instead of converting the source, and the
               documents in ranges, two at once                ratio vs stream
  convert LN [shape]  convert of the dump's variants (--shapes), each against its own floor:
               attachments (large legacy attachments, up to 1 MB), large-docs (a 256 KB document
               every 100), small-attachments (many small legacy attachments, up to 8 KB, one per
               5 KB of --size: what a 3.x production database often holds)
Every server stage also reports the server's CPU by RavenDB thread kind (transaction merger,
request threads, indexing, other; from GET /admin/debug/threads/runaway, the rest of the process's
CPU from /proc counted as other), its busiest thread, the client's busiest thread (its threads'
CPU sampled from /proc while it runs), how busy the machine was ((server + client CPU) / cores /
wall) and a projection of the wall time on a server with --project-cores free cores (the method is
in docs/benchmarks.md). With --usable, each import and load is followed by waiting until every
index is up to date: its time to a usable database.
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
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from ravenmigrate.server import EmbeddedServer  # noqa: E402
from ravenmigrate.sinks.server.client import RavenClient  # noqa: E402
from ravenmigrate.sinks.server.revisions import merge as revisions_config  # noqa: E402
from ravenmigrate.verify.answer import EVERY_DOCUMENT  # noqa: E402

REVISIONS_CONFIG = revisions_config(None, set())[0]  # what load gives a database without one

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
    server_threads: dict[str, float] = field(default_factory=dict)  # CPU s by thread kind
    server_busiest: float = 0.0  # CPU s of the server's busiest thread
    server_busiest_name: str = ""
    client_busiest: float = 0.0  # CPU s of the client's busiest thread
    usable: float | None = None  # wall + waiting for the indexes (--usable)

    @property
    def utilisation(self) -> float:
        """How busy the machine's cores were: (server + client CPU) / cores / wall."""
        return (self.server_cpu + self.client_cpu) / (os.cpu_count() or 1) / self.wall

    def projected(self, cores: int) -> float:
        """The wall time with *cores* free cores for the server and as many for the client
        (docs/benchmarks.md, "Projection"): no shorter than the busiest thread on either side, nor
        than either side's CPU spread over its cores."""
        if not self.server_cpu:
            return self.wall
        return max(self.server_busiest, self.client_busiest, self.server_cpu / cores, self.client_cpu / cores)


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


# RavenDB 4.1 names its own threads (Raven.Server/Documents/TransactionOperationsMerger.cs: "'DB'
# Transaction Merging Thread"; Indexes/Index.cs: "Indexing of NAME of DB"); the thread pool's request
# threads have no name ("Unknown" in /admin/debug/threads/runaway).
THREAD_KINDS = ("transaction merger", "request threads", "indexing", "other")


def thread_kind(name: str) -> str:
    if "Transaction Merging Thread" in name:
        return "transaction merger"
    if name.startswith("Indexing of "):
        return "indexing"
    if name == "Unknown":
        return "request threads"
    return "other"


def server_threads(url: str | None) -> dict[int, tuple[str, float]]:
    """Every server thread's (name, CPU seconds) by OS thread id (GET /admin/debug/threads/runaway)."""
    if not url:
        return {}
    with RavenClient(url) as c:
        threads = c.json("GET", "/admin/debug/threads/runaway").get("Runaway Threads") or []
    return {t["Id"]: (t.get("Name") or "Unknown", _timespan(t.get("TotalProcessorTime") or "0:0:0")) for t in threads}


def _timespan(text: str) -> float:
    """A .NET TimeSpan ``[d.]hh:mm:ss[.fffffff]`` in seconds."""
    head, _, rest = text.partition(":")
    days, _, hours = head.rpartition(".")
    minutes, seconds = rest.split(":")
    return (int(days) if days else 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def thread_split(before: dict, after: dict, total: float) -> tuple[dict[str, float], float, str]:
    """CPU by thread kind between two snapshots (threads that ended meanwhile, and what the endpoint
    does not list, count as other: the process's *total* less the threads'), the busiest thread."""
    split = dict.fromkeys(THREAD_KINDS, 0.0)
    busiest, busiest_name = 0.0, ""
    for tid, (name, cpu) in after.items():
        delta = cpu - before.get(tid, (name, 0.0))[1]
        if delta <= 0:
            continue
        split[thread_kind(name)] += delta
        if delta > busiest:
            busiest, busiest_name = delta, name
    split["other"] += max(0.0, total - sum(split.values()))
    return split, busiest, busiest_name


def client_thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of process *pid* (/proc/PID/task/TID/stat), {} once it has ended."""
    out = {}
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        pass
    return out


def run_child(cmd: list[str], server_pid: int | None = None, env: dict | None = None,
              server_url: str | None = None) -> Measure:
    """Run *cmd*; wall time, its own CPU (user+sys) and peak RSS from wait4, server CPU from /proc,
    by thread kind from the server's runaway-threads endpoint, the client's threads sampled from /proc."""
    s0 = server_cpu_seconds(server_pid)
    threads0 = server_threads(server_url)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:  # the last value of each thread before the process ends
        while not done.wait(0.05):
            seen.update(client_thread_cpu(proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    pipes = {}
    readers = [threading.Thread(target=lambda f=f: pipes.__setitem__(f, f.read()), daemon=True)
               for f in (proc.stdout, proc.stderr)]  # drained as it runs: a full pipe would stall it
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    for t in (sampler, *readers):
        t.join()
    out, err = pipes[proc.stdout], pipes[proc.stderr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    server_cpu = server_cpu_seconds(server_pid) - s0
    split, busiest, busiest_name = thread_split(threads0, server_threads(server_url), server_cpu)
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, server_cpu,
                   split if server_url else {}, busiest, busiest_name, max(seen.values(), default=0.0))


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
conn.request("GET", f"/databases/{sys.argv[2]}/" + (sys.argv[3] if len(sys.argv) > 3 else "streams/docs"))
resp = conn.getresponse()
n = 0
while True:
    b = resp.read(1 << 20)
    if not b:
        break
    n += len(b)
print(n)
"""

OLDEST_FIRST = EVERY_DOCUMENT  # the documents oldest first, as verify asks for them
OLDEST_FIRST_STAGE = "server /docs?etag=0 (oldest first)"
VERIFY_LISTED_STAGE = "verify --expected-list --streams 2"

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
    """Whether a user migrating *dump* enables revisions before the server's import (docs/formats/import-4x.md §4):
    it holds legacy revisions or 3.x versioning configuration documents, the rule `load` applies."""
    from ravenmigrate.convert.documents import needs_revisions
    from ravenmigrate.sources import open_source

    return any(needs_revisions(record) for record in open_source(dump).records())


SHAPES = {  # the dump variants of --shapes: generate.py options besides --size and --level
    "attachments": lambda size: ["--attachments", str(max(100, size // (2 << 20))), "--attachment-bytes", "1M"],
    "large-docs": lambda size: ["--large-every", "100", "--large-bytes", "256K", "--attachments", "50"],
    "small-attachments": lambda size: ["--attachments", str(max(1000, size // (5 << 10))), "--attachment-bytes", "8K"],
}


def make_dump(work: Path, size_text: str, level: int, shape: str | None) -> Path:
    """The generated dump of *shape* (None: the standard one, 50 small attachments), made once."""
    size = parse_size(size_text)
    dump = work / f"e2e-{size_text}{'-' + shape if shape else ''}.ravendump"
    if not dump.exists():
        extra = SHAPES[shape](size) if shape else ["--attachments", "50"]
        subprocess.run([PY, str(REPO / "fixtures" / "generate.py"), str(dump), "--size", str(size),
                        "--level", str(level), *extra], check=True)
    return dump


def server_stages(args, dump: Path, tmp: Path, rows: list[Row], record) -> None:
    """The server's own import of the dump and every load transport and stream count, by turns in
    each repeat (import, load, load, ..., import, ...), then reading the documents back and verify.
    When the dump holds revisions, the import's database gets the revisions configuration first, as
    a user must give it (and as `load` does itself), so both build the same database. With
    --usable, each import and load is followed by waiting for its indexes (not part of its wall
    time): its time to a usable database."""
    from ravenmigrate.sinks.server.indexing import wait_for_indexes

    revisions = holds_revisions(dump)
    with EmbeddedServer() as srv, RavenClient(srv.url) as client:
        pid = srv.proc.pid if srv.proc else None

        def fresh_db(config: bool = False) -> str:
            name = "bench-" + uuid.uuid4().hex[:8]
            client.create_database(name)
            if config and revisions:
                client.json("POST", f"/databases/{name}/admin/revisions/config", REVISIONS_CONFIG)
            return name

        def run(cmd: list[str], db: str, keep: bool = False) -> Measure:
            m = run_child(cmd, pid, server_url=srv.url)
            if args.usable:
                m.usable = m.wall + wait_for_indexes(client, db, poll=0.1, mode="off")["wait_s"]
            if not keep:
                client.delete_database(db)
            return m

        def import_cmd(db: str) -> list[str]:
            return [PY, "-c", IMPORT, srv.url, db, str(dump)]

        def load_cmd(db: str, transport: str, n: int, ops: int | None) -> list[str]:
            return [*RAVENMIGRATE, "load", str(dump), "--url", srv.url, "--database", db, "--transport", transport,
                    "--streams", str(n), "--quiet", "--report", str(tmp / f"load-{db}.json"),
                    *(["--operation-docs", str(ops)] if ops else [])]

        warm = fresh_db(True)  # the server's first import compiles and JITs what every later stage reuses
        run(import_cmd(warm), warm)
        stages = [("server /smuggler/import", None, lambda db: import_cmd(db), True)]
        sizes = [int(x) for x in args.operation_docs.split(",")] if args.operation_docs else [None]
        stages += [(f"load {t} x{n}" + (f" ops {ops}" if ops else ""), "server /smuggler/import",
                    lambda db, t=t, n=n, ops=ops: load_cmd(db, t, n, ops), False)
                   for t in args.transports.split(",") for n in (int(x) for x in args.streams.split(","))
                   for ops in sizes]
        measured = [Row(stage, baseline) for stage, baseline, _, _ in stages]
        for _ in range(args.repeat):
            for row, (_, _, make, config) in zip(measured, stages, strict=True):
                db = fresh_db(config)
                row.runs.append(run(make(db), db))
        for row in measured:
            record(row)
        loaded = fresh_db()  # one database as load fills it, read back by both stages below
        listing = tmp / "load-verified.list"  # what the load sent, for verify --expected-list
        subprocess.run([*RAVENMIGRATE, "load", str(dump), "--url", srv.url, "--database", loaded, "--quiet",
                        "--report", str(tmp / "load-verified.json"), "--expected-list", str(listing)],
                       check=True, capture_output=True)
        wait_for_indexes(client, loaded, poll=0.1, mode="off")  # its indexing is not the stages' CPU below
        stream, verify = Row("server /streams/docs", None), Row("verify", "server /streams/docs")
        oldest = Row(OLDEST_FIRST_STAGE, "server /streams/docs")
        listed = Row(VERIFY_LISTED_STAGE, "server /streams/docs")
        for _ in range(args.repeat):
            stream.runs.append(run_child([PY, "-c", STREAM, srv.url, loaded], pid, server_url=srv.url))
            oldest.runs.append(run_child([PY, "-c", STREAM, srv.url, loaded, OLDEST_FIRST], pid, server_url=srv.url))
            verify.runs.append(run_child([*RAVENMIGRATE, "verify", str(dump), "--url", srv.url, "--database", loaded,
                                          "--json"], pid, server_url=srv.url))
            listed.runs.append(run_child([*RAVENMIGRATE, "verify", str(dump), "--url", srv.url, "--database", loaded,
                                          "--json", "--expected-list", str(listing), "--streams", "2"],
                                         pid, server_url=srv.url))
        record(stream)
        record(oldest)
        record(verify)
        record(listed)
        record(Row("verify (against oldest first)", OLDEST_FIRST_STAGE, verify.runs))


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
    ap.add_argument("--shapes", default="attachments,large-docs,small-attachments",
                    help=f"dump variants convert is also measured on, at level 1 (of {', '.join(SHAPES)}; '' for none)")
    ap.add_argument("--no-load", action="store_true", help="skip the stages that need the server")
    ap.add_argument("--usable", action="store_true",
                    help="after each import and load, wait for the indexes: the time to a usable database")
    ap.add_argument("--operation-docs", default="",
                    help="items per load operation to try, e.g. 5000,20000,50000 (default: load's own)")
    ap.add_argument("--project-cores", type=int, default=8, help="free cores of the projected server (default 8)")
    ap.add_argument("--suffix", default="", help="added to the results' file names")
    args = ap.parse_args(argv)

    # Measure the tool as installed: pip compiles the package's bytecode, but an editable checkout
    # under PYTHONDONTWRITEBYTECODE=1 (this machine's default) would compile every module in every
    # stage process (about 55 ms of each convert's start-up).
    compileall.compile_dir(str(REPO / "src"), quiet=1)
    work = Path(args.work or REPO / "fixtures" / "generated")
    work.mkdir(parents=True, exist_ok=True)
    dump = make_dump(work, args.size, args.level, None)
    raw = uncompressed_size(dump)
    docs = json.loads(subprocess.run([*RAVENMIGRATE, "inspect", "--json", str(dump)],
                                     capture_output=True, text=True, check=True).stdout)["counts"]["Docs"]
    print(f"input {dump} ({dump.stat().st_size / 1e6:.1f} MB gzip, {raw / 1e6:.1f} MB JSON, {docs} documents)")

    rows: list[Row] = []
    inputs: dict[str, tuple[int, int]] = {}  # stage -> (JSON bytes, documents) of its input

    def record(row: Row, shape_input: tuple[int, int] | None = None) -> None:
        rows.append(row)
        inputs[row.stage] = shape_input or (raw, docs)
        print(f"  {row.stage:<34} median {row.median('wall'):7.2f} s")

    def measure_pair(baseline: str, baseline_cmd: list[str], stage: str, cmd: list[str],
                     shape_input: tuple[int, int] | None = None) -> None:
        """A stage and its baseline run by turns (baseline, stage, baseline, ...): the machine's speed
        drifts over seconds, and a ratio of runs made at the same time does not carry the drift."""
        base, row = Row(baseline, None), Row(stage, baseline)
        for _ in range(args.repeat):
            base.runs.append(run_child(baseline_cmd))
            row.runs.append(run_child(cmd))
        record(base, shape_input)
        record(row, shape_input)

    tmp = Path(tempfile.mkdtemp(prefix="ravenmigrate-e2e-"))
    measure_pair("decompress", [PY, "-c", DECOMPRESS, str(dump)],
                 "inspect", [*RAVENMIGRATE, "inspect", "--json", str(dump)])
    for level in (int(x) for x in args.convert_levels.split(",")):
        measure_pair(f"floor (inflate+deflate) L{level}", [PY, "-c", FLOOR, str(dump), str(level)],
                     f"convert L{level}", [*RAVENMIGRATE, "convert", str(dump), "-o", str(tmp / "out.ravendbdump"),
                                           "--level", str(level)])
    for shape in filter(None, args.shapes.split(",")):
        variant = make_dump(work, args.size, args.level, shape)
        counts = json.loads(subprocess.run([*RAVENMIGRATE, "inspect", "--json", str(variant)], capture_output=True,
                                           text=True, check=True).stdout)["counts"]
        shape_input = (uncompressed_size(variant), counts["Docs"])
        print(f"input {variant} ({shape_input[0] / 1e6:.1f} MB JSON, {counts['Docs']} documents, "
              f"{counts['Attachments']} attachments)")
        measure_pair(f"floor (inflate+deflate) L1 [{shape}]", [PY, "-c", FLOOR, str(variant), "1"],
                     f"convert L1 [{shape}]", [*RAVENMIGRATE, "convert", str(variant), "-o",
                                               str(tmp / "out.ravendbdump"), "--level", "1"], shape_input)
    if not args.no_load:
        server_stages(args, dump, tmp, rows, record)

    by_name = {r.stage: r for r in rows}
    table = ["| stage | wall s | MB/s (JSON in) | docs/s | client CPU s | server CPU s | peak RSS MB | ratio | vs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    server_table = [
        f"| stage | wall s | usable s | server CPU s | merger | request threads | indexing | other | busiest server "
        f"thread s | client CPU s | busiest client thread s | machine busy | projected wall s ({args.project_cores} "
        f"cores) | projected ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    out_rows = []
    for r in rows:
        wall = r.median("wall")
        ratio = by_name[r.baseline].median("wall") / wall if r.baseline else None
        size_in, docs_in = inputs[r.stage]
        rec = {"stage": r.stage, "baseline": r.baseline, "wall_s": wall, "mb_per_s": size_in / 1e6 / wall,
               "docs_per_s": docs_in / wall, "client_cpu_s": r.median("client_cpu"),
               "server_cpu_s": r.median("server_cpu"), "peak_rss_mb": max(m.peak_rss_mb for m in r.runs),
               "ratio": ratio, "runs": [{**asdict(m), "utilisation": m.utilisation,
                                         "projected_s": m.projected(args.project_cores)} for m in r.runs]}
        out_rows.append(rec)
        table.append(f"| {r.stage} | {wall:.2f} | {rec['mb_per_s']:.1f} | {rec['docs_per_s']:.0f} | "
                     f"{rec['client_cpu_s']:.1f} | {rec['server_cpu_s']:.1f} | {rec['peak_rss_mb']:.0f} | "
                     f"{'' if ratio is None else f'{ratio:.2f}x'} | {r.baseline or '(baseline)'} |")
        if r.runs[0].server_threads:
            rec.update(server_columns(r, by_name, args.project_cores))
            split = rec["server_threads_s"]
            usable = f"{rec['usable_s']:.1f}" if rec["usable_s"] is not None else ""
            projected_ratio = f"{rec['projected_ratio']:.2f}x" if rec["projected_ratio"] is not None else ""
            server_table.append(
                f"| {r.stage} | {wall:.2f} | {usable} | {rec['server_cpu_s']:.1f} | "
                + " | ".join(f"{split[k]:.1f}" for k in THREAD_KINDS)
                + f" | {rec['server_busiest_s']:.1f} ({rec['server_busiest_name']}) | {rec['client_cpu_s']:.1f} | "
                f"{rec['client_busiest_s']:.1f} | {rec['utilisation'] * 100:.0f} % | {rec['projected_s']:.2f} | "
                f"{projected_ratio} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"e2e-{args.size}{args.suffix}"
    meta = {"size": args.size, "uncompressed_bytes": raw, "documents": docs, "repeat": args.repeat,
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "command": "benchmarks/e2e.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    (RESULTS / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": out_rows}, indent=2))
    md = (f"Input: {raw / 1e6:.0f} MB of 3.5-style JSON ({docs} documents), gzip level {args.level}; "
          f"median of {args.repeat}; {meta['machine']}; {stamp}.\n\n" + "\n".join(table) + "\n")
    if len(server_table) > 2:
        md += ("\nServer stages: the server's CPU by RavenDB thread kind, its busiest thread, the client's, how busy "
               "the machine was, and the projection to a server with free cores (docs/benchmarks.md).\n\n"
               + "\n".join(server_table) + "\n")
    (RESULTS / f"{name}.md").write_text(md)
    chart(out_rows, RESULTS / f"{name}.png", meta)
    print(md)
    return 0


def server_columns(r: Row, by_name: dict[str, Row], cores: int) -> dict:
    """The medians of a server stage's thread figures, and its projected ratio to its baseline."""
    runs = r.runs
    usable = [m.usable for m in runs if m.usable is not None]
    projected = statistics.median(m.projected(cores) for m in runs)
    base = by_name.get(r.baseline) if r.baseline else None
    return {
        "server_threads_s": {k: statistics.median(m.server_threads.get(k, 0.0) for m in runs) for k in THREAD_KINDS},
        "server_busiest_s": r.median("server_busiest"),
        "server_busiest_name": max(runs, key=lambda m: m.server_busiest).server_busiest_name,
        "client_busiest_s": r.median("client_busiest"),
        "utilisation": statistics.median(m.utilisation for m in runs),
        "usable_s": statistics.median(usable) if usable else None,
        "projected_s": projected,
        "projected_ratio": (statistics.median(m.projected(cores) for m in base.runs) / projected) if base else None,
    }


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
