"""pytest-benchmark: the inflaters the reader can use, and base64 decoding of legacy attachments.

Run: ``.venv/bin/python -m pytest benchmarks/bench_inflate.py``. Every inflater decompresses
the same gzip bytes (the bundled 3.5-style sample, repeated to ~8 MB of JSON, at gzip level 6 as
3.x writes); the reader picks the fastest installed one (``sources.stream.inflater``: isal, then
zlib-ng, then stdlib zlib). The attachment rows decode the same base64 text with the stdlib
function the reader uses (``base64.b64decode(validate=True)``) and with ``binascii`` directly.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import importlib
import os
import zlib
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample-3.5.ravendump"
JSON = gzip.decompress(SAMPLE.read_bytes()) * 8
GZ = gzip.compress(JSON, compresslevel=6)


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


INFLATERS = [
    pytest.param(zlib, id="zlib"),
    pytest.param(_module("isal.isal_zlib"), id="isal",
                 marks=pytest.mark.skipif(_module("isal.isal_zlib") is None, reason="isal not installed")),
    pytest.param(_module("zlib_ng.zlib_ng"), id="zlib-ng",
                 marks=pytest.mark.skipif(_module("zlib_ng.zlib_ng") is None, reason="zlib-ng not installed")),
]


def _inflate(module) -> int:
    d = module.decompressobj(31)
    n = 0
    for i in range(0, len(GZ), 1 << 20):
        n += len(d.decompress(GZ[i:i + (1 << 20)]))
    return n


@pytest.mark.parametrize("module", INFLATERS)
def test_inflate(benchmark, module):
    benchmark.extra_info["MB_json"] = len(JSON) / 1e6
    assert benchmark(_inflate, module) == len(JSON)


ATTACHMENT = os.urandom(4 << 20)
TEXT = base64.b64encode(ATTACHMENT)


@pytest.mark.parametrize("decode", [
    pytest.param(lambda t: base64.b64decode(t, validate=True), id="b64decode-validate"),
    pytest.param(binascii.a2b_base64, id="a2b_base64"),
])
def test_base64_attachment(benchmark, decode):
    benchmark.extra_info["MB"] = len(ATTACHMENT) / 1e6
    assert benchmark(decode, TEXT) == ATTACHMENT
