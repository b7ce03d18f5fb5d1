"""Reader throughput next to decompress-only throughput, on the same file, in one process.

Usage: ``python benchmarks/reader_throughput.py [DUMP] [--pure-mb N]``. Without DUMP a 100 MB
(uncompressed) 3.5-style dump is generated once into ``fixtures/generated/``. Prints MB/s of
uncompressed bytes for: decompress only (the fastest installed inflater), the splitter alone on
the decompressed bytes in memory, split only (the reader delimiting every record from the file,
no record objects, as when resuming), records, records with
``compact=True``, and the pure twin on the first ``--pure-mb`` MB; each with its ratio to
decompress-only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))

from ravenmigrate import _twins  # noqa: E402
from ravenmigrate.sources.reader import DumpFile  # noqa: E402
from ravenmigrate.sources.stream import ByteStream, inflater  # noqa: E402


def decompress_only(path: Path) -> int:
    n = 0
    with ByteStream(path) as s:
        while chunk := s.chunk():
            n += len(chunk)
    return n


def split_only(path: Path) -> int:
    """Every record delimited (and skipped, as when resuming), none built."""
    reader = DumpFile(path, after=1 << 62)
    for _ in reader.records():
        pass
    return sum(reader.counts.values())


def records(path: Path, compact: bool) -> int:
    return sum(1 for _ in DumpFile(path, compact=compact).records())


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dump", nargs="?")
    p.add_argument("--pure-mb", type=float, default=10.0)
    args = p.parse_args(argv)
    if args.dump:
        path = Path(args.dump)
    else:
        import generate

        path = generate.generated("bench-100M.ravendump", size=100 << 20, attachments=20)
    import ravenmigrate.sources.reader  # noqa: F401 - registers the twin

    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB compressed), inflater: {inflater()[0]}, "
          f"splitter: {_twins.kind(_twins.load('jsonsplit'))}")
    base_s, size = timed(decompress_only, path)
    mb = size / 1e6
    print(f"{'decompress only':<24}{mb / base_s:8.1f} MB/s   1.00x   ({mb:.0f} MB uncompressed)")
    with ByteStream(path) as stream:
        whole = bytearray(b"".join(iter(stream.chunk, b"")))
    scanner = _twins.load("jsonsplit").Scanner()
    s, (items, _) = timed(scanner.scan_items, whole, whole.index(b"[") + 1, 1 << 62)
    print(f"{'splitter alone, in RAM':<24}{mb / s:8.1f} MB/s   {base_s / s:.2f}x   ({len(items)} records of the "
          f"first section, no I/O)")
    del whole
    rows = [("split only", split_only, (path,)), ("records", records, (path, False)),
            ("records compact", records, (path, True))]
    for name, fn, fargs in rows:
        s, n = timed(fn, *fargs)
        print(f"{name:<24}{mb / s:8.1f} MB/s   {base_s / s:.2f}x   ({n} records)")
    if args.pure_mb and _twins.kind(_twins.load("jsonsplit")) == "native":
        import gzip

        head = REPO / "fixtures" / "generated" / f"bench-head-{int(args.pure_mb)}M.json"
        if not head.exists():
            with gzip.open(path) as f:
                data = f.read(int(args.pure_mb * 1e6))
            cut = data.rindex(b"\r\n    },") + len(b"\r\n    }")
            head.write_bytes(data[:cut] + b"\r\n  ]\r\n}")
        hmb = head.stat().st_size / 1e6
        native_s, _ = timed(records, head, False)
        os.environ["RAVENMIGRATE_PUREPYTHON"] = "1"
        pure_s, _ = timed(records, head, False)
        del os.environ["RAVENMIGRATE_PUREPYTHON"]
        print(f"{'records, pure twin':<24}{hmb / pure_s:8.1f} MB/s   native is {pure_s / native_s:.1f}x faster "
              f"(first {hmb:.0f} MB, plain JSON)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
