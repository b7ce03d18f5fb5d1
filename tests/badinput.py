"""A seeded generator of damaged inputs made from the real fixtures (docs/reliability.md, "The
bad-input campaign"): every kind of damage the issue 19 campaign found, each case reproducible
from its seed.

``cases(seed, count)`` yields :class:`Case` objects (a name saying what was damaged where, the
bytes, a file suffix); the same seed always gives the same cases.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from conftest import real

DUMPS = ("Northwind_3.5.35168.ravendump", "Periodic_full_3.5.ravendump", "Indexes_And_Transformers_3.5.ravendump",
         "Revisions_3.5.35220.ravendump", "Sandbox_2.0.ravendump", "Northwind_2.5.dump", "MvcMusicStore_2.0.json")
VORON = "northwind.voron.3528.zip"
KINDS = ("gzip-truncate", "gzip-flip", "json-byte", "deep-nesting", "huge-number", "huge-string", "invalid-utf8",
         "empty", "voron-zip")
WHERE = ("body", "metadata", "index", "identity")
_JUNK = (b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\x00", b"x", b" ", b"'", b"/")
_METADATA = re.compile(rb'"@metadata"\s*:\s*\{')
_INDEX = re.compile(rb'"Indexes"\s*:\s*\[')
_IDENTITY = re.compile(rb'"Identities"\s*:\s*\[')
_STRING = re.compile(rb'"(?:[^"\\\r\n]|\\.){2,}"')


@dataclass
class Case:
    name: str
    data: bytes
    suffix: str
    source: str
    kind: str


@cache
def plain(name: str) -> bytes:
    raw = real(name).read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _packed(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=0)


def _region(rng: random.Random, data: bytes, where: str) -> tuple[int, int] | None:
    """A byte range of *data* inside the part named *where* (None when the dump has none)."""
    if where == "body":
        found = list(_METADATA.finditer(data))
        if not found:
            return None
        m = rng.choice(found)
        start = data.rfind(b"{\r\n", 0, m.start())
        start = max(start, m.start() - 400)
        return start, m.start()
    pattern = {"metadata": _METADATA, "index": _INDEX, "identity": _IDENTITY}[where]
    found = list(pattern.finditer(data))
    if not found:
        return None
    m = rng.choice(found)
    return m.end(), min(len(data), m.end() + (300 if where == "metadata" else 1500))


def _insert_value(rng: random.Random, data: bytes, where: str, value: bytes) -> bytes | None:
    """*data* with a new property ``"Damage": value`` at the start of an object in *where*."""
    if where == "body":
        found = list(_METADATA.finditer(data))
        if not found:
            return None
        m = rng.choice(found)
        return data[:m.start()] + b'"Damage": ' + value + b", " + data[m.start():]
    if where == "identity":
        m = _IDENTITY.search(data)
        if m is None:
            return None
        return data[:m.end()] + b'{"Key": "damage/", "Value": ' + value + b"}," + data[m.end():]
    span = _region(rng, data, where)
    if span is None:
        return None
    at = data.find(b"{", span[0]) if where == "index" else span[0]
    if at < 0:
        return None
    at += where == "index"
    return data[:at] + b'"Damage": ' + value + b"," + data[at:]


def _json_damage(rng: random.Random, kind: str, data: bytes) -> tuple[str, bytes] | None:
    where = rng.choice(WHERE)
    if kind == "json-byte":
        span = _region(rng, data, where)
        if span is None or span[1] <= span[0]:
            return None
        at = rng.randrange(*span)
        junk = rng.choice(_JUNK)
        return f"{where}@{at}={junk!r}", data[:at] + junk + data[at + 1:]
    if kind == "deep-nesting":
        depth = rng.choice((300, 5000, 100_000))
        opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
        value = opener * depth + b"1" + closer * depth
        out = _insert_value(rng, data, where, value)
        return None if out is None else (f"{where} depth {depth}", out)
    if kind == "huge-number":
        digits = rng.choice((25, 4400, 20_000))
        value = (b"-" if rng.random() < 0.3 else b"") + b"9" * digits + rng.choice((b"", b".5", b"e400"))
        out = _insert_value(rng, data, where, value)
        return None if out is None else (f"{where} {digits} digits", out)
    if kind == "huge-string":
        size = rng.choice((70_000, 2_000_000))
        out = _insert_value(rng, data, where, b'"' + b"s" * size + b'"')
        return None if out is None else (f"{where} string of {size}", out)
    if kind == "invalid-utf8":
        span = _region(rng, data, where)
        if span is None:
            return None
        strings = [m for m in _STRING.finditer(data, *span)]
        if not strings:
            return None
        m = rng.choice(strings)
        at = rng.randrange(m.start() + 1, m.end() - 1)
        bad = rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"))
        return f"{where}@{at}={bad!r}", data[:at] + bad + data[at + 1:]
    return None


def _voron(rng: random.Random) -> tuple[str, bytes]:
    data = real(VORON).read_bytes()
    if rng.random() < 0.2:
        cut = rng.randrange(100, len(data))
        return f"zip cut at {cut}", data[:cut]
    z = zipfile.ZipFile(io.BytesIO(data))
    members = [i for i in z.infolist() if i.compress_size > 0 and i.compress_type == zipfile.ZIP_DEFLATED
               and not i.filename.startswith("Indexes/")]
    info = rng.choice(members)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    at = start + rng.randrange(info.compress_size)
    return f"{info.filename} byte {at - start} flipped", data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + \
        data[at + 1:]


def case(seed: int) -> Case | None:
    """The damaged input of *seed* (None when that damage does not apply to the chosen fixture)."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    if kind == "voron-zip":
        what, data = _voron(rng)
        return Case(f"{seed}: {kind} {VORON}: {what}", data, ".zip", VORON, kind)
    name = rng.choice(DUMPS)
    if kind == "empty":
        data = rng.choice((b"", _packed(b""), b"\r\n  ", b"\xef\xbb\xbf"))
        return Case(f"{seed}: {kind} {data!r}", data, ".ravendump", name, kind)
    text = plain(name)
    if kind in ("gzip-truncate", "gzip-flip"):
        packed = _packed(text)
        at = rng.randrange(10, len(packed) - 1)
        if kind == "gzip-truncate":
            return Case(f"{seed}: {kind} {name} at {at}", packed[:at], ".ravendump", name, kind)
        flipped = packed[:at] + bytes([packed[at] ^ (1 << rng.randrange(8))]) + packed[at + 1:]
        return Case(f"{seed}: {kind} {name} at {at}", flipped, ".ravendump", name, kind)
    damaged = _json_damage(rng, kind, text)
    if damaged is None:
        return None
    what, data = damaged
    packed = rng.random() < 0.5
    return Case(f"{seed}: {kind} {name} {what}", _packed(data) if packed else data,
                ".ravendump" if packed else ".json", name, kind)


def cases(seed: int, count: int) -> Iterator[Case]:
    """*count* damaged inputs, starting from *seed* (skipping damage that does not apply)."""
    made = 0
    n = seed
    while made < count:
        c = case(n)
        n += 1
        if c is not None:
            made += 1
            yield c
