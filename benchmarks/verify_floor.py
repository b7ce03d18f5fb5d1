"""Where verify's floor is: verify beside the reads it could make, with and without the source's cost.

    .venv/bin/python benchmarks/verify_floor.py --size 200MB --turns 8

One embedded RavenDB 4.1 holds a database ``load`` filled from the generated dump (``e2e.py``'s);
then, by turns (each stage its own process, one turn after the other under nothing else):

  streams        read every document, nothing else (``GET /streams/docs``, newest first): the
                 baseline of issue 21's verify goal
  oldest first   the same, oldest first (``GET /docs?etag=0``), the read verify makes
  oldest first x2  the same in two ranges read in parallel (``start=0`` and ``start=N/2``)
  verify         ``ravenmigrate verify``, as users run it
  verify x2      ``ravenmigrate verify --streams 2``: the documents in ranges, two read at once
  compare        verify's comparison of the same read with the expected entries built before the
                 request: verify with the source's cost at zero (what a load-written list of the
                 expected entries would leave)
  compare x2     the same, the read in two halves in parallel, each read ahead without bound

Wall time (median of the turns) and ratio to ``streams``; client CPU. The machine is noisy: the
ratios of one batch are the result. Results: ``benchmarks/results/verify-floor-<size>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e import OLDEST_FIRST, PY, RAVENMIGRATE, RESULTS, STREAM, make_dump  # noqa: E402

from ravenmigrate.server import EmbeddedServer  # noqa: E402
from ravenmigrate.sinks.server.client import RavenClient  # noqa: E402
from ravenmigrate.sinks.server.indexing import wait_for_indexes  # noqa: E402

# Two ranges of the documents oldest first, read in parallel, each on its own connection.
RANGES = """
import http.client, sys, threading, urllib.parse
url, db, count = urllib.parse.urlsplit(sys.argv[1]), sys.argv[2], int(sys.argv[3])
half = (count + 1) // 2
def read(start, size):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("GET", f"/databases/{db}/docs?etag=0&start={start}&pageSize={size}")
    resp = conn.getresponse()
    while resp.read(1 << 20):
        pass
threads = [threading.Thread(target=read, args=(0, half)), threading.Thread(target=read, args=(half, 2147483647))]
[t.start() for t in threads]
[t.join() for t in threads]
"""

# verify's comparison (verify.documents._Documents, behind as verify runs it) of the documents read
# in PARTS ranges, the expected entries built from the source before the request (the clock starts
# at the request).
COMPARE = """
import sys, time
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.threads import on_thread_behind, responsive
from ravenmigrate.verify import answer
from ravenmigrate.verify.digests import Join
from ravenmigrate.verify.documents import COMPARE_NICENESS, _Documents
from ravenmigrate.verify.expected import Expected
from ravenmigrate.verify.feed import SourceFeed
from ravenmigrate.verify.stream import documents
url, db, source, count, parts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
answer.AHEAD = 1 << 40
exp = Expected(Join())
feed = SourceFeed(exp, source, False, None, None, {})
feed.run()  # the whole source, before the clock starts
docs = _Documents(exp, feed, False)
step = -(-count // parts)
started = time.perf_counter()
answers = [answer.Answer(RavenClient(url), answer.range_path(db, i * step, step if i < parts - 1 else 2147483647))
           for i in range(parts)]
def compare():
    for a in answers:
        for buf, spans, read, where in documents(a):
            docs.batch(buf, spans, read, where)
    docs.finish(answers[0].client, db, where)
with responsive():
    on_thread_behind(compare, COMPARE_NICENESS, "verify-compare")
for a in answers:
    a.close()
assert docs.section.found == count and not docs.section.missing and not docs.section.different, docs.section.to_dict()
print(time.perf_counter() - started)
"""


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, from wait4) and the output of *cmd*."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - run.children_cpu
    run.children_cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    return wall, cpu, out.decode()


run.children_cpu = 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="200MB")
    ap.add_argument("--turns", type=int, default=8)
    args = ap.parse_args(argv)
    work = REPO / "fixtures" / "generated"
    work.mkdir(parents=True, exist_ok=True)
    dump = make_dump(work, args.size, 6, None)
    with tempfile.TemporaryDirectory(prefix="ravenmigrate-floor-") as tmp, EmbeddedServer(
            data_dir=Path(tmp) / "server", die_with_parent=True) as srv:
        db = f"floor-{uuid.uuid4().hex[:8]}"
        with RavenClient(srv.url) as client:
            client.create_database(db)
        subprocess.run([*RAVENMIGRATE, "load", str(dump), "--url", srv.url, "--database", db, "--quiet"], check=True)
        run.children_cpu = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
        with RavenClient(srv.url) as client:
            wait_for_indexes(client, db, poll=0.1, mode="off")  # nothing indexes while the reads are timed
            count = client.stats(db)["CountOfDocuments"]
        stages = {
            "streams": [PY, "-c", STREAM, srv.url, db],
            "oldest first": [PY, "-c", STREAM, srv.url, db, OLDEST_FIRST],
            "oldest first x2": [PY, "-c", RANGES, srv.url, db, str(count)],
            "verify": [*RAVENMIGRATE, "verify", str(dump), "--url", srv.url, "--database", db, "--json"],
            "verify x2": [*RAVENMIGRATE, "verify", str(dump), "--url", srv.url, "--database", db, "--json",
                          "--streams", "2"],
            "compare": [PY, "-c", COMPARE, srv.url, db, str(dump), str(count), "1"],
            "compare x2": [PY, "-c", COMPARE, srv.url, db, str(dump), str(count), "2"],
        }
        walls: dict[str, list[float]] = {k: [] for k in stages}
        cpus: dict[str, list[float]] = {k: [] for k in stages}
        for turn in range(args.turns):
            for name, cmd in stages.items():
                wall, cpu, out = run(cmd)
                # compare's own clock starts at its request, after the source is converted
                walls[name].append(float(out.split()[-1]) if name in ("compare", "compare x2") else wall)
                cpus[name].append(cpu)
            print(f"turn {turn + 1}: " + "  ".join(f"{k} {v[-1]:.2f}" for k, v in walls.items()), flush=True)
    base = statistics.median(walls["streams"])
    lines = [f"`benchmarks/verify_floor.py --size {args.size} --turns {args.turns}`: {count} documents, "
             f"{platform.machine()} {len(os.sched_getaffinity(0))} cores, "
             f"{time.strftime('%Y%m%d-%H%M%S')}; median of {args.turns} turns.", "",
             "| stage | wall s | ratio to streams | client CPU s (compare: with its source, converted before "
             "its clock starts) | walls |", "|---|---:|---:|---:|---|"]
    for name in stages:
        w = statistics.median(walls[name])
        lines.append(f"| {name} | {w:.3f} | {base / w:.2f}x | {statistics.median(cpus[name]):.2f} | "
                     f"{' '.join(f'{x:.2f}' for x in sorted(walls[name]))} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"verify-floor-{args.size}.md").write_text(text)
    (RESULTS / f"verify-floor-{args.size}.json").write_text(json.dumps({"walls": walls, "cpu": cpus, "count": count}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
