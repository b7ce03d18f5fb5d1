"""Codec throughput, native vs pure twin, on the same input in the same run.

Run: ``.venv/bin/python -m pytest benchmarks/bench_codecs.py`` (add ``--benchmark-json=out.json`` to
keep the numbers). Input: the 1059 real Northwind documents of the 3.5 export (``../shared``),
encoded by the project's own encoder. A table of MB/s per codec (native, pure, ratio) is printed at
the end; MB/s counts stored bytes for decrypt (ciphertext) and BSON, inflated bytes for inflate.
AES, DES and 3DES blocks run in OpenSSL (``cryptography``, one reused ECB context) in both modes;
the twins differ in the CBC chaining XOR, RC2 (all sizes), inflate and BSON.
"""

from __future__ import annotations

import base64
import gzip
import importlib
import json
from pathlib import Path

import pytest

from ravenmigrate.codecs import body, ciphers, compression
from ravenmigrate.codecs.bson_encode import to_bson
from ravenmigrate.codecs.document import decode_document, encode_document
from ravenmigrate.codecs.encryption import EncryptionSettings, decrypt_value, is_exempt

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real"
KEY = base64.b64decode("3w17MIVIBLSWZpzH0YarqRlR2+yHiv1Zq3TCWXLEMI8=")
TWINS = ((compression, "_inflate", "inflate"), (ciphers, "_rc2", "rc2"), (ciphers, "_cbc", "cbc"), (body, "_bson", "bson"))
PURE = {n: f"ravenmigrate.codecs.{n}" for _, _, n in TWINS}
CODECS = [("AES-128", "Rijndael", 128), ("AES-256", "Rijndael", 256), ("DES", "DES", 64),
          ("3DES-192", "Triple DES", 192), ("RC2-128", "RC2", 128), ("RC2-64", "RC2", 64), ("RC2-40", "RC2", 40)]
RESULTS: dict[str, dict[str, float]] = {}


def _documents() -> list[tuple[str, bytes]]:
    dump = json.loads(gzip.decompress((REAL / "Northwind_3.5.35168.ravendump").read_bytes()).decode("utf-8-sig"))
    docs = []
    for doc in dump["Docs"]:
        meta = doc.pop("@metadata")
        docs.append((meta["@id"].lower(), json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()))
    return docs


DOCS = _documents()
SMALL = DOCS[::10]  # ~10% for the slow pure RC2 rounds


@pytest.fixture(params=["native", "pure"])
def mode(request, monkeypatch):
    for module, attr, name in TWINS:
        if request.param == "native":
            try:
                impl = importlib.import_module(f"ravenmigrate._native.{name}")
            except ImportError:
                pytest.skip(f"native twin {name} is not built")
        else:
            impl = importlib.import_module(PURE[name])
        monkeypatch.setattr(module, attr, impl)
    return request.param


def _run(benchmark, codec: str, mode: str, nbytes: int, fn, slow: bool = False) -> None:
    if slow:
        benchmark.pedantic(fn, rounds=3, iterations=1)
    else:
        benchmark(fn)
    if benchmark.stats is None:  # --benchmark-disable
        return
    mbs = nbytes / benchmark.stats.stats.min / 1e6
    benchmark.extra_info["MB/s"] = round(mbs, 2)
    RESULTS.setdefault(codec, {})[mode] = mbs


@pytest.mark.parametrize("codec, algorithm, bits", CODECS, ids=[c[0] for c in CODECS])
def test_decrypt(benchmark, mode, codec, algorithm, bits):
    s = EncryptionSettings(KEY, algorithm, bits)
    twin_cipher = s.cipher_family.name == "RC2"
    docs = SMALL if twin_cipher and mode == "pure" else DOCS
    stored = [(k, encode_document(b, k, encryption=s)) for k, b in docs if not is_exempt(k)]

    def run():
        for k, blob in stored:
            decrypt_value(s, k, blob)

    _run(benchmark, f"decrypt {codec}", mode, sum(len(b) for _, b in stored), run, slow=twin_cipher and mode == "pure")


def test_inflate(benchmark, mode):
    stored = [compression.compress(b"\xef\xbb\xbf" + b) for _, b in DOCS]
    total = sum(len(b) + 3 for _, b in DOCS)
    _run(benchmark, "inflate (Cmpr)", mode, total, lambda: [compression.decompress(x) for x in stored])


def test_bson_to_json(benchmark, mode):
    rows = [to_bson(json.loads(b)) for _, b in DOCS]
    _run(benchmark, "BSON -> JSON", mode, sum(map(len, rows)), lambda: [body.decode_body(r) for r in rows])


def test_decode_document_aes256_compressed(benchmark, mode):
    s = EncryptionSettings(KEY, "Rijndael", 256)
    stored = [(k, encode_document(b, k, compression=True, encryption=s)) for k, b in DOCS]
    total = sum(len(b) for _, b in DOCS)

    def run():
        for k, blob in stored:
            decode_document(blob, k, encryption=s)

    _run(benchmark, "document AES-256+Cmpr (JSON)", mode, total, run)


def test_report_mb_per_s(capsys):
    """Last in the module: print MB/s per codec, native vs pure (both measured above in this run)."""
    with capsys.disabled():
        print(f"\n{'codec':<30}{'native MB/s':>12}{'pure MB/s':>12}{'native/pure':>13}")
        for codec, r in RESULTS.items():
            n, p = r.get("native"), r.get("pure")
            ratio = f"{n / p:12.1f}x" if n and p else ""
            print(f"{codec:<30}{n or 0:>12.2f}{p or 0:>12.2f}{ratio:>13}")
