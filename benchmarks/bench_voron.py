"""Document JSON MB/s read from a Voron storage, native vs pure page twin, per codec chain.

The storage is generated with ``fixtures/voron_builder.py`` from the real Northwind Voron backup:
its 1060 documents (bodies and metadata as stored) are repeated under new ids until the wanted
size, then written as a real Voron data file (the last pages only in a journal, so recovery runs
too). MB/s counts the bytes of the ``Document.data`` JSON the source yields.

Run as pytest-benchmark micro benchmarks (``pytest benchmarks/bench_voron.py``) or as a script
(``python benchmarks/bench_voron.py [--copies N]``) that prints MB/s and the native/pure ratio. The
script divides by CPU time (one process, one core), which stays meaningful on a shared machine;
wall-clock MB/s is printed beside it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ravenmigrate.codecs.document import EncryptionSettings, encode_document
from ravenmigrate.records import Document
from ravenmigrate.sources.voron import VoronSource
from ravenmigrate.sources.voron.metadata import parse_metadata_row
from ravenmigrate.sources.voron.tables import DOCUMENTS, DOCUMENTS_METADATA

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))
import voron_builder  # noqa: E402

NORTHWIND = ROOT.parent / "shared" / "fixtures" / "real" / "northwind.voron.3528.zip"
AES = EncryptionSettings(base64.b64decode("3w17MIVIBLSWZpzH0YarqRlR2+yHiv1Zq3TCWXLEMI8="), "RijndaelManaged", 256)
CHAINS = {"plain": (False, None), "compressed": (True, None), "compressed+aes256": (True, AES)}


def northwind_rows() -> list[tuple[str, bytes, dict]]:
    """``(id, JSON body without BOM, stored metadata)`` of every Northwind document of the real backup."""
    rows = []
    with VoronSource(NORTHWIND).open() as env:
        metas = dict(env.tree(DOCUMENTS_METADATA).items())
        for key, stored in env.tree(DOCUMENTS).items():
            row = parse_metadata_row(metas[key], key.decode(), str(NORTHWIND))
            body = stored[3:] if stored[:3] == voron_builder.BOM else stored
            rows.append((row.id, body, json.loads(json.dumps(row.metadata, default=float))))
    return rows


def generate(dest: Path, copies: int, chain: str) -> Path:
    """A storage with *copies* x the Northwind documents, bodies encoded with the codec *chain*."""
    compression, encryption = CHAINS[chain]
    rows = []
    northwind = northwind_rows()
    for copy in range(copies):
        for doc_id, body, metadata in northwind:
            new_id = doc_id if copy == 0 else f"{doc_id}/copy{copy}"
            stored = encode_document(body, new_id.lower(), compression=compression, encryption=encryption)
            rows.append((new_id, stored, metadata))
    voron_builder.database(dest, rows, journal_pages=64)
    return dest


def read_all(path: Path, encryption: EncryptionSettings | None) -> tuple[int, int]:
    docs = size = 0
    for record in VoronSource(path, encryption=encryption).records():
        if isinstance(record, Document):
            docs += 1
            size += len(record.data)
    return docs, size


def _twin(monkeypatch, kind: str) -> None:
    if kind == "pure":
        monkeypatch.setenv("RAVENMIGRATE_PUREPYTHON", "1")
    else:
        monkeypatch.delenv("RAVENMIGRATE_PUREPYTHON", raising=False)


@pytest.fixture(scope="module", params=list(CHAINS))
def storage(request, tmp_path_factory):
    return request.param, generate(tmp_path_factory.mktemp("voron") / "db", 20, request.param)


@pytest.mark.parametrize("kind", ["native", "pure"])
def test_voron_document_json_throughput(benchmark, monkeypatch, storage, kind):
    chain, path = storage
    _twin(monkeypatch, kind)
    docs, size = benchmark.pedantic(read_all, args=(path, CHAINS[chain][1]), rounds=3, iterations=1)
    assert docs == 1060 * 20
    benchmark.extra_info.update(chain=chain, twin=kind, documents=docs, json_bytes=size,
                                mb_per_s=round(size / 1e6 / benchmark.stats.stats.mean, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40, help="repeat the 1060 Northwind documents N times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-voron-") as tmp:
        for chain in CHAINS:
            path = generate(Path(tmp) / chain, args.copies, chain)
            data_mb = sum(p.stat().st_size for p in path.iterdir()) / 1e6
            speeds = {}
            for kind in ("native", "pure"):
                os.environ.pop("RAVENMIGRATE_PUREPYTHON", None)
                if kind == "pure":
                    os.environ["RAVENMIGRATE_PUREPYTHON"] = "1"
                start, cpu = time.perf_counter(), time.process_time()
                docs, size = read_all(path, CHAINS[chain][1])
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                speeds[kind] = size / 1e6 / cpu
                print(f"{chain:18s} {kind:6s} {docs} docs, {size / 1e6:.1f} MB JSON from {data_mb:.1f} MB storage: "
                      f"{speeds[kind]:.1f} MB/s of CPU time ({size / 1e6 / elapsed:.1f} MB/s wall clock)")
            print(f"{chain:18s} native/pure ratio {speeds['native'] / speeds['pure']:.2f}")
        os.environ.pop("RAVENMIGRATE_PUREPYTHON", None)


if __name__ == "__main__":
    main()
