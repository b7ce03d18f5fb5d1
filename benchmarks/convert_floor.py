"""Offline conversion speed next to its floor, same run, same input (issue 6).

The floor is the unavoidable part of the job: inflate the 3.x dump and deflate the same bytes
again at the same output level with the same libraries, doing nothing else. ``convert`` is the
whole ``ravenmigrate convert`` (read, split, convert, write the 4.x dump). Both are reported in
MB/s of uncompressed input; the goal is convert >= 0.8x the floor.

    .venv/bin/python benchmarks/convert_floor.py [--input DUMP] [--size-mb 200] [--level 1]

Without ``--input`` a 3.5-style dump of about ``--size-mb`` MB of JSON is generated with
``fixtures/generate.py`` (Northwind-like documents, gzip level 6).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from ravenmigrate import _twins
from ravenmigrate.convert import Converter
from ravenmigrate.sinks import deflate
from ravenmigrate.sinks.dump4.convert import Dump4Options, convert_to_dump4
from ravenmigrate.sinks.dump4.writer import Dump4Writer
from ravenmigrate.sources import open_source

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))
import generate  # noqa: E402

CHUNK = 1 << 20


def floor(path: Path, level: int, deflater: str) -> tuple[int, float]:
    """Inflate *path* (every gzip member) and deflate the same bytes; returns (input bytes, seconds)."""
    total = 0
    start = time.perf_counter()
    compressor, _ = deflate.gzip_compressor(level, deflater)
    with open(path, "rb") as f, open(os.devnull, "wb") as sink:
        d = deflate.gzip_decompressor()
        while raw := f.read(CHUNK):
            while raw:
                data = d.decompress(raw)
                total += len(data)
                sink.write(compressor.compress(data))
                raw = b""
                if d.eof:
                    raw = d.unused_data
                    d = deflate.gzip_decompressor()
        sink.write(compressor.flush())
    return total, time.perf_counter() - start


def stages(path: Path, level: int, deflater: str) -> tuple[float, float, float]:
    """Seconds of (read + convert into memory, write those records as a 4.x dump, deflate the written
    JSON alone): where the time of ``convert`` goes, and how close the writer is to its own floor."""
    start = time.perf_counter()
    converter = Converter()
    records = [c for r in open_source(path, compact=True).records() for c in converter.convert(r)]
    read_s = time.perf_counter() - start
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        writer = Dump4Writer(sink, level=level, deflater=deflater)
        writer.write_all(records)
        writer.close()
        write_s = time.perf_counter() - start
    stored = io.BytesIO()
    with Dump4Writer(stored, level=0) as plain:
        plain.write_all(records)
    json_bytes = gzip.decompress(stored.getvalue())
    compressor, _ = deflate.gzip_compressor(level, deflater)
    start = time.perf_counter()
    for i in range(0, len(json_bytes), CHUNK):
        compressor.compress(json_bytes[i:i + CHUNK])
    compressor.flush()
    return read_s, write_s, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", type=Path, help="a 3.x dump (default: generate one)")
    p.add_argument("--size-mb", type=float, default=200.0, help="size of the generated input (uncompressed)")
    p.add_argument("--level", type=int, default=1, help="output gzip level (default 1)")
    p.add_argument("--deflater", default="auto")
    p.add_argument("--stages", action="store_true", help="also time read+convert and the writer separately "
                                                         "(holds the converted records in memory)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ravenmigrate-bench-") as tmp:
        source = args.input
        if source is None:
            source = Path(tmp) / "input.ravendump"
            generate.generate(source, size=int(args.size_mb * 1e6), attachments=20)
        out = Path(tmp) / "out.ravendbdump"
        size, floor_s = floor(source, args.level, args.deflater)
        start = time.perf_counter()
        report = convert_to_dump4(source, out, Dump4Options(level=args.level, deflater=args.deflater))
        convert_s = time.perf_counter() - start
        mb = size / 1e6
        print(f"input        {source.name}: {source.stat().st_size / 1e6:,.1f} MB gzip, {mb:,.1f} MB JSON, "
              f"{report['counts']['documents']:,} documents")
        print(f"output       gzip level {args.level} ({report['format']['deflater']}), "
              f"{out.stat().st_size / 1e6:,.1f} MB; inflater {deflate.available()[0]}")
        print(f"twins        {_twins.status()}")
        print(f"floor        {mb / floor_s:8,.1f} MB/s  ({floor_s:.2f} s: inflate + deflate the same bytes)")
        print(f"convert      {mb / convert_s:8,.1f} MB/s  ({convert_s:.2f} s)")
        print(f"ratio        {floor_s / convert_s:8.2f}x the floor (goal >= 0.80)")
        if args.stages:
            read_s, write_s, deflate_s = stages(source, args.level, args.deflater)
            print(f"stages       read+convert {mb / read_s:,.1f} MB/s; dump4 writer {mb / write_s:,.1f} MB/s "
                  f"vs deflating its output alone {mb / deflate_s:,.1f} MB/s "
                  f"(writer = {deflate_s / write_s:.2f}x its own floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
