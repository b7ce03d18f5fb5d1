"""Esent read speed beside Voron's: page decoding, log replay and documents, native vs pure twin.

Inputs are the real Northwind backups of the same database (``northwind.esent.3528.zip``: a 9 MB
database file and a 16 MB log generation whose 4.2 MB of written segments are replayed;
``northwind.voron.3528.zip``), unpacked once. No tool here can write an ESE database, so the
input is not scaled up: each measurement repeats the whole job ``--repeat`` times.

- **pages**: every page of the database file decoded into lines (``parse_page``, checksum
  included): pages/s and MB/s of the file;
- **replay**: the log read, every record parsed and redone over the pages
  (``sources.esent.redo.recover``): records/s and MB/s of written log segments;
- **documents**: the whole source (replay, catalog, rows, long values, body codec), MB/s of the
  ``Document.data`` JSON it yields, beside the Voron source reading the Voron backup of the same
  database (journals replayed) with the same measure.

Times are CPU seconds of this one process (meaningful on a shared, busy machine); the ratios
between rows measured side by side are the result, not the absolute numbers.

    python benchmarks/bench_esent.py [--repeat N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "fixtures" / "real"
ESENT = REAL / "northwind.esent.3528.zip"
VORON = REAL / "northwind.voron.3528.zip"


def _measure(job, repeat: int) -> tuple[float, object]:
    start = time.process_time()
    result = None
    for _ in range(repeat):
        result = job()
    return (time.process_time() - start) / repeat, result


def run(kind: str, folder: Path, repeat: int) -> dict:
    """One twin kind, measured in this process (``RAVENMIGRATE_PUREPYTHON`` set by the caller)."""
    from ravenmigrate import _twins
    from ravenmigrate.records import Document
    from ravenmigrate.sources import open_source
    from ravenmigrate.sources.esent.database import EsentFile
    from ravenmigrate.sources.esent.files import locate
    from ravenmigrate.sources.esent.pages import parse_page
    from ravenmigrate.sources.esent.redo import recover

    assert _twins.kind(_twins.load("esent_pages")) == kind, "twin selection did not take"
    data = folder / "new" / "Data"

    def pages() -> int:
        raw = data.read_bytes()
        n = 0
        for pgno in range(1, len(raw) // 4096 - 1):
            buf = raw[(pgno + 1) * 4096:(pgno + 2) * 4096]
            if buf.strip(b"\0"):
                parse_page(buf, pgno, 4096)
                n += 1
        return n

    def replay() -> dict:
        files = locate(folder)
        with EsentFile(files.data_file) as f:
            return recover(f, files, [])

    def documents(path: Path, **options) -> int:
        return sum(len(r.data) for r in open_source(path, **options).records() if isinstance(r, Document))

    t_pages, n_pages = _measure(pages, repeat)
    t_replay, info = _measure(replay, repeat)
    t_docs, json_bytes = _measure(lambda: documents(folder), repeat)
    t_rows, rows_bytes = _measure(lambda: documents(folder, force_dirty=True), repeat)
    t_voron, voron_bytes = _measure(lambda: documents(VORON), repeat)
    segments = int(info["last_position"].split(":")[1], 16)
    return {
        "twin": kind,
        "pages": {"pages": n_pages, "cpu_s": t_pages, "pages_per_s": n_pages / t_pages,
                  "MB_per_s": n_pages * 4096 / 1e6 / t_pages},
        "replay": {"records": info["records"], "redone": info["redone"], "cpu_s": t_replay,
                   "records_per_s": info["records"] / t_replay, "log_MB_per_s": segments * 4096 / 1e6 / t_replay},
        "esent_documents": {"json_bytes": json_bytes, "cpu_s": t_docs, "MB_per_s": json_bytes / 1e6 / t_docs},
        "esent_documents_without_replay": {"json_bytes": rows_bytes, "cpu_s": t_rows,
                                           "MB_per_s": rows_bytes / 1e6 / t_rows},
        "voron_documents": {"json_bytes": voron_bytes, "cpu_s": t_voron, "MB_per_s": voron_bytes / 1e6 / t_voron},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--kind", choices=("pure", "native"), help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.kind:
        print(json.dumps(run(args.kind, Path(args.folder), args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-esent-") as tmp:
        with zipfile.ZipFile(ESENT) as zf:
            zf.extractall(tmp)
        results = []
        for kind in ("native", "pure"):
            env = dict(os.environ, RAVENMIGRATE_PUREPYTHON="1" if kind == "pure" else "0")
            out = subprocess.run([sys.executable, __file__, "--kind", kind, "--folder", tmp, "--repeat",
                                  str(args.repeat)], env=env, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        p, rp, d, v = r["pages"], r["replay"], r["esent_documents"], r["voron_documents"]
        print(f"{r['twin']:>6}: pages {p['pages_per_s']:,.0f}/s ({p['MB_per_s']:.1f} MB/s) | replay "
              f"{rp['records_per_s']:,.0f} records/s ({rp['log_MB_per_s']:.1f} MB/s of log) | documents: "
              f"Esent {d['MB_per_s']:.2f} MB/s JSON ({r['esent_documents_without_replay']['MB_per_s']:.2f} "
              f"without replay), Voron {v['MB_per_s']:.2f} MB/s JSON "
              f"(Esent/Voron {d['MB_per_s'] / v['MB_per_s']:.2f})")
    native, pure = results
    print(f"native/pure: pages {native['pages']['pages_per_s'] / pure['pages']['pages_per_s']:.2f}x, replay "
          f"{native['replay']['records_per_s'] / pure['replay']['records_per_s']:.2f}x, documents "
          f"{native['esent_documents']['MB_per_s'] / pure['esent_documents']['MB_per_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
