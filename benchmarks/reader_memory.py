"""Peak RSS of ``ravenmigrate inspect`` on a ~1 GB (uncompressed) generated dump.

Usage: ``python benchmarks/reader_memory.py [--size 1G] [--limit-mb 256]``. The dump is generated
once into ``fixtures/generated/`` (git-ignored); ``inspect --json`` runs in a child process that
reports its own peak resident set size (``VmHWM`` of ``/proc/self/status``). Exit status 1 when the peak
exceeds the limit. ``tests/test_reader_memory.py`` (marked ``slow``) runs the same check.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))


def dump_of(size: int) -> Path:
    import generate

    name = f"rss-{size >> 20}M.ravendump"
    return generate.generated(name, size=size, attachments=50, attachment_bytes=1 << 20, level=1)


# The child reports its own peak: VmHWM of its own address space. Not getrusage(RUSAGE_SELF).ru_maxrss:
# Linux carries that over execve from the forked parent, so a child of a large pytest process reported
# the parent's size (418 MB under the full suite, 47 MB alone); RUSAGE_CHILDREN would mix in every
# other child of this process.
_CHILD = ("import resource, sys; from ravenmigrate.cli import main; rc = main(['inspect', '--json', sys.argv[1]]); "
          "sys.stdout.flush(); "
          "hwm = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')]; "
          "print(hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
          "raise SystemExit(rc)")


def inspect_peak_rss(path: Path) -> tuple[dict, int, float]:
    """(the inspect report, the child's peak RSS in bytes, seconds)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return json.loads(proc.stdout), peak_kb * 1024, seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1G")
    p.add_argument("--limit-mb", type=int, default=256)
    args = p.parse_args(argv)
    import generate

    path = dump_of(generate._size(args.size))
    report, peak, seconds = inspect_peak_rss(path)
    docs = report["counts"]["Docs"]
    print(f"{path.name}: {docs:,} documents, {report['sizes']['documents_bytes'] / 1e6:,.0f} MB of documents, "
          f"inspected in {seconds:.0f} s, peak RSS {peak / 2**20:.0f} MB (limit {args.limit_mb} MB)")
    return 0 if peak < args.limit_mb << 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
