"""MB/s of RavenFS file content: reading the source pages alone, then through convert and load.

The file system is generated with ``fixtures/ravenfs_generate.py`` (Voron storage, data in
``Raven.voron``): one large file plus many small ones, ``--mb`` MB of content in all. Stages, each
the file content's bytes divided by the stage's wall time, run one after the other on the same
store (side by side, so their ratios hold on a busy machine; the absolute numbers do not):

- ``read pages``: the source's pages of every file, nothing else (the floor of every stage);
- ``read + hash``: the same plus the BLAKE2b-256 the conversion computes (what ``verify`` costs);
- ``convert``: ``ravenmigrate convert`` (a subprocess) to a ``.ravendbdump`` at level 1;
- ``load import`` / ``load bulk-insert``: ``ravenmigrate load`` into a RavenDB 4.1 server
  (the cached test server is started for the run) with each transport.

    python benchmarks/bench_ravenfs.py [--mb 200] [--no-load] [--json OUT]

Peak RSS of each subprocess is printed beside it (the streaming bound of docs/ravenfs.md §4).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))
import ravenfs_generate as gen  # noqa: E402

from ravenmigrate.convert.files import content_hash  # noqa: E402
from ravenmigrate.sources import open_source  # noqa: E402

MEASURE = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
           "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def file_system(total_mb: int) -> list[gen.GenFile]:
    """Half the content in one file, the rest in 1 MB and 100 KB files."""
    total = total_mb << 20
    files = [gen.GenFile("/large/half.bin", size=total // 2)]
    rest, i = total - total // 2, 0
    while rest > 0:
        size = min(rest, (1 << 20) if i % 2 else 100_000)
        files.append(gen.GenFile(f"/dir{i % 7}/file {i:05d}.bin", size=size, metadata={"N": i}))
        rest -= size
        i += 1
    return files


def read_stage(store: Path, hashing: bool) -> float:
    src = open_source(store)
    started = time.perf_counter()
    for f in src.records():
        if hashing:
            content_hash(f)
        else:
            for _ in f.content.chunks():
                pass
    seconds = time.perf_counter() - started
    src.close()
    return seconds


def command(*argv: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of ``ravenmigrate ARGV``."""
    cmd = [sys.executable, "-c", MEASURE, sys.executable, "-m", "ravenmigrate", *argv]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    rc, peak = out.stdout.split()[-2:]
    if rc != "0":
        raise SystemExit(f"ravenmigrate {' '.join(argv)} failed: {out.stderr[-2000:]}")
    return seconds, int(peak)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=int, default=200, help="MB of file content (default 200)")
    p.add_argument("--no-load", action="store_true", help="skip the load stages (no server)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-ravenfs-") as tmp:
        files = file_system(args.mb)
        store = gen.store(Path(tmp) / "store", files)
        mb = sum(f.size for f in files) / 1e6

        def add(stage: str, seconds: float, peak_kb: int | None = None) -> None:
            rows.append({"stage": stage, "seconds": round(seconds, 3), "mb_per_s": round(mb / seconds, 1),
                         "peak_rss_mb": None if peak_kb is None else round(peak_kb / 1024)})

        add("read pages", read_stage(store, False))
        add("read + hash", read_stage(store, True))
        out = Path(tmp) / "out.ravendbdump"
        add("convert", *command("convert", str(store), "-o", str(out), "--quiet"))
        out.unlink()
        if not args.no_load:
            from ravenmigrate.server import EmbeddedServer
            from ravenmigrate.sinks.server.client import RavenClient

            server = EmbeddedServer()
            server.start()
            try:
                with RavenClient(server.url) as client:
                    for transport in ("import", "bulk-insert"):
                        db = f"bench-rfs-{uuid.uuid4().hex[:8]}"
                        client.create_database(db)
                        try:
                            add(f"load {transport}", *command("load", str(store), "--url", server.url, "--database",
                                                              db, "--transport", transport, "--quiet", "--report",
                                                              str(Path(tmp) / f"{db}.json")))
                        finally:
                            client.delete_database(db)
            finally:
                server.close()
    floor = rows[0]["seconds"]
    print(f"{mb:,.0f} MB of file content in {len(files)} files (one of {files[0].size / 1e6:,.0f} MB)")
    print(f"{'stage':<18}{'s':>8}{'MB/s':>9}{'x floor':>9}{'peak RSS':>10}")
    for r in rows:
        rss = "" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']} MB"
        print(f"{r['stage']:<18}{r['seconds']:>8.2f}{r['mb_per_s']:>9.1f}{r['seconds'] / floor:>9.2f}{rss:>10}")
    if args.json:
        args.json.write_text(json.dumps({"mb": mb, "files": len(files), "stages": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
