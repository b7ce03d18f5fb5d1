"""Client CPU of verify's per-document work without a server: the expected side and the matching.

Two parts, each timed in process CPU and wall seconds, with a digest of what it made so that two
builds compared side by side can be seen to give the same results:

- ``expected``: ``Expected.add`` of every record the source converts to (the conversion itself is
  done first and not timed): the expected entries' digests (``add_documents``).
- ``match``: the saved answer of ``GET /streams/docs`` read as verify reads it (``stream_batches``,
  1 MB reads, split by ``jsonsplit``), each batch given to ``match_documents``; the time of that
  call alone is shown in brackets.

Save the answer of a database loaded from the same dump once (``--save URL DATABASE``), then run::

    flock /work/bench.lock .venv/bin/python benchmarks/verify_parts.py DUMP STREAM --repeat 3

For an A/B of two builds, run it by turns with ``PYTHONPATH`` set to each build's ``src``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import time
import urllib.parse
from typing import Any

from ravenmigrate.verify import expected as verify_expected
from ravenmigrate.verify import stream as verify_stream


class _Records:
    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, conv: Any, bulk: bool) -> None:
        self.items.append(conv)


class _Saved:
    """A ``RavenClient`` stand-in that answers ``/streams/docs`` with saved bytes."""

    url = "saved"
    status = 200

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _connection(self) -> _Saved:
        self.body = io.BytesIO(self.data)
        return self

    def request(self, *args: Any) -> None:
        pass

    def getresponse(self) -> _Saved:
        return self

    def read(self, n: int = -1) -> bytes:
        return self.body.read(n)

    def readinto(self, b: bytearray) -> int:
        return self.body.readinto(b)

    def close(self) -> None:
        pass


def save(url: str, database: str, path: str) -> int:
    """The answer of ``GET /streams/docs`` of *database* at *url*, written to *path*."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("GET", f"/databases/{database}/streams/docs")
    data = conn.getresponse().read()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _digest(documents: dict[str, bytes], ids: dict[str, str]) -> str:
    h = hashlib.blake2b(digest_size=6)
    for key in sorted(documents):
        h.update(key.encode() + b"\0" + documents[key])
    h.update(repr(sorted(ids.items())).encode())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dump")
    p.add_argument("stream", help="the saved answer of GET /streams/docs")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bulk", action="store_true", help="digests as for --transport bulk-insert")
    p.add_argument("--save", nargs=2, metavar=("URL", "DATABASE"), help="save the stream first")
    args = p.parse_args(argv)
    if args.save:
        print(f"saved {save(*args.save, args.stream)} bytes")
    records = verify_expected.expected_from(args.dump, args.bulk, into=_Records()).items
    with open(args.stream, "rb") as f:
        data = f.read()
    match = verify_expected._expected.match_documents
    for _ in range(args.repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        exp = verify_expected.Expected()
        for conv in records:
            exp.add(conv, args.bulk)
        print(f"expected cpu {time.process_time() - cpu:.3f} s wall {time.perf_counter() - wall:.3f} s "
              f"documents {len(exp.documents)} digest {_digest(exp.documents, exp.ids)}")
        documents = dict(exp.documents)
        matched, others, in_match = 0, hashlib.blake2b(digest_size=6), 0.0
        cpu, wall = time.process_time(), time.perf_counter()
        for buf, items, _, _ in verify_stream.stream_batches(_Saved(data), "saved"):
            t = time.process_time()
            found, rest = match(buf, items, documents, args.bulk)[:2]
            in_match += time.process_time() - t
            matched += found
            others.update(repr(rest).encode())
        print(f"match    cpu {time.process_time() - cpu:.3f} s wall {time.perf_counter() - wall:.3f} s "
              f"(match_documents {in_match:.3f} s) matched {matched} others {others.hexdigest()} "
              f"left {sum(1 for v in documents.values() if v)}")  # a matched entry is MATCHED (empty)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
