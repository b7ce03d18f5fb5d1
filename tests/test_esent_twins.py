"""The native ``esent_pages`` twin gives what the pure twin (the specification) gives: on every page
of the real Northwind Esent file and of damaged copies of it, and on every log segment's checksum."""

from __future__ import annotations

import random
import struct
import zipfile

import pytest
from conftest import real
from twins import native

from ravenmigrate.sources.esent import pagelines as pure

PAGE = 4096
NATIVE = native("esent_pages")
pytestmark = pytest.mark.skipif(NATIVE is None, reason="native esent_pages twin not built")


@pytest.fixture(scope="module")
def files() -> tuple[bytes, bytes]:
    with zipfile.ZipFile(real("northwind.esent.3528.zip")) as zf:
        return zf.read("new/Data"), zf.read("new/RVN00001.log")


def _outcome(module, buf: bytes, count: int, root: bool):
    try:
        return module.page_lines(buf, PAGE, 40, count, root)
    except ValueError as exc:
        return ("error", str(exc))


def _count(buf: bytes) -> tuple[int, bool]:
    return struct.unpack_from("<H", buf, 34)[0] & 0x0FFF, bool(struct.unpack_from("<I", buf, 36)[0] & 1)


def test_every_real_page_decodes_identically(files):
    data, _ = files
    pages = 0
    for pgno in range(1, len(data) // PAGE - 1):
        buf = data[(pgno + 1) * PAGE:(pgno + 2) * PAGE]
        count, root = _count(buf)
        assert _outcome(NATIVE, buf, count, root) == _outcome(pure, buf, count, root), pgno
        assert NATIVE.xor_checksum(buf, pgno) == pure.xor_checksum(buf, pgno)
        pages += count > 0
    assert pages > 500


def test_damaged_pages_give_the_same_result_or_the_same_error(files):
    data, _ = files
    rng = random.Random(15)
    errors = 0
    for _ in range(3000):
        pgno = rng.randrange(1, len(data) // PAGE - 1)
        buf = bytearray(data[(pgno + 1) * PAGE:(pgno + 2) * PAGE])
        for _ in range(rng.randrange(1, 6)):
            at = rng.choice((rng.randrange(PAGE - 64, PAGE), rng.randrange(0, PAGE)))
            buf[at] = rng.randrange(256)
        count, root = _count(bytes(buf))
        count = min(count, rng.choice((count, rng.randrange(0, 1024))))
        a, b = _outcome(NATIVE, bytes(buf), count, root), _outcome(pure, bytes(buf), count, root)
        assert a == b
        errors += a[0] == "error"
        assert NATIVE.xor_checksum(bytes(buf), pgno) == pure.xor_checksum(bytes(buf), pgno)
    assert errors > 100


def test_log_segment_checksums_agree(files):
    _, log = files
    for isec in range(1, 1100):
        seg = log[isec * PAGE:(isec + 1) * PAGE]
        assert NATIVE.xor_checksum(seg, isec) == pure.xor_checksum(seg, isec)
