"""Documents/s of ``ravenmigrate load`` (both transports) next to the server's own
``/smuggler/import`` of the same generated 3.x dump, in the same run, for 1, 2 and 4 streams.

Not a test: prints a table. ``python benchmarks/load_vs_import.py [--docs N] [--dump PATH]``; the dump
is made by ``fixtures/generate.py`` (cached in ``fixtures/generated/``).
Starts its own embedded RavenDB 4.1 (temporary data directory) and stops it at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ravenmigrate.server import EmbeddedServer
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=200_000, help="documents in the generated dump (default 200000)")
    ap.add_argument("--dump", type=Path, help="use this 3.x dump instead of generating one")
    ap.add_argument("--streams", default="1,2,4", help="stream counts to measure (default 1,2,4)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ravenmigrate-bench-") as tmp, EmbeddedServer() as srv:
        dump = args.dump or generate.generated(f"bench-{args.docs}.ravendump", docs=args.docs,
                                                 system_docs=False, level=1)
        client = RavenClient(srv.url)

        def fresh() -> str:
            name = "bench-" + uuid.uuid4().hex[:8]
            client.create_database(name)
            return name

        warm = fresh()
        client.import_file(warm, str(dump))
        n = client.stats(warm)["CountOfDocuments"]
        client.delete_database(warm)
        print(f"dump {dump} ({dump.stat().st_size / 1e6:.1f} MB gzip), {n:,} documents; server {srv.url}")
        print(f"{'streams':>7}  {'server import':>14}  {'load import':>20}  {'load bulk-insert':>20}")
        for streams in (int(s) for s in args.streams.split(",")):
            row = []
            db = fresh()
            row.append(n / timed(lambda db=db: client.import_file(db, str(dump))))
            client.delete_database(db)
            for transport in ("import", "bulk-insert"):
                db = fresh()
                opts = LoadOptions(srv.url, db, transport=transport, streams=streams, progress=False,
                                   checkpoint=Path(tmp) / f"{db}.checkpoint")
                row.append(n / timed(lambda opts=opts: Loader(str(dump), opts, log=lambda _m: None).run()))
                client.delete_database(db)
            base = row[0]
            print(f"{streams:>7}  {base:>10,.0f}/s  {row[1]:>10,.0f}/s ({row[1] / base:4.2f}x)"
                  f"  {row[2]:>10,.0f}/s ({row[2] / base:4.2f}x)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
