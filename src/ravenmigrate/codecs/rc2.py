"""Pure twin of ``ravenmigrate._native.rc2``: RC2 (RFC 2268) in CBC mode, any key length.

``cryptography`` only offers RC2 with 128-bit keys; RavenDB's ``RC2CryptoServiceProvider`` accepts
40..128 bits in steps of 8 with effective bits = key bits (docs/formats/bundles.md §2.1, §5). The key schedule
is 64 little-endian 16-bit words (128 bytes), shared by both twins.
"""

from __future__ import annotations

# RFC 2268 §2: the "PITABLE", a permutation of 0..255 derived from the digits of pi.
PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)

_ROT = (1, 2, 3, 5)


def key_schedule(key: bytes, effective_bits: int) -> bytes:
    """Expand *key* (1..128 bytes) with *effective_bits* (1..1024) into 64 LE words (RFC 2268 §2)."""
    t = len(key)
    if not 1 <= t <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError(f"RC2 key of {t} bytes / {effective_bits} effective bits is out of range")
    t8 = (effective_bits + 7) // 8
    tm = 255 % (1 << (8 + effective_bits - 8 * t8))
    lk = bytearray(128)
    lk[:t] = key
    for i in range(t, 128):
        lk[i] = PITABLE[(lk[i - 1] + lk[i - t]) & 0xFF]
    lk[128 - t8] = PITABLE[lk[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        lk[i] = PITABLE[lk[i + 1] ^ lk[i + t8]]
    return bytes(lk)


def _words(schedule: bytes) -> list[int]:
    return [schedule[2 * i] | (schedule[2 * i + 1] << 8) for i in range(64)]


def _encrypt_block(k: list[int], r0: int, r1: int, r2: int, r3: int) -> tuple[int, int, int, int]:
    r = [r0, r1, r2, r3]
    j = 0
    for rnd in range(16):
        for i in range(4):
            x = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + ((~r[i - 1]) & r[i - 3])) & 0xFFFF
            s = _ROT[i]
            r[i] = ((x << s) | (x >> (16 - s))) & 0xFFFF
            j += 1
        if rnd in (4, 10):
            for i in range(4):
                r[i] = (r[i] + k[r[i - 1] & 63]) & 0xFFFF
    return r[0], r[1], r[2], r[3]


def _decrypt_block(k: list[int], r0: int, r1: int, r2: int, r3: int) -> tuple[int, int, int, int]:
    r = [r0, r1, r2, r3]
    j = 63
    for rnd in range(16):
        for i in (3, 2, 1, 0):
            s = _ROT[i]
            x = ((r[i] >> s) | (r[i] << (16 - s))) & 0xFFFF
            r[i] = (x - k[j] - (r[i - 1] & r[i - 2]) - ((~r[i - 1]) & r[i - 3])) & 0xFFFF
            j -= 1
        if rnd in (4, 10):
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[i - 1] & 63]) & 0xFFFF
    return r[0], r[1], r[2], r[3]


def _check(iv: bytes, data: bytes) -> None:
    if len(iv) != 8:
        raise ValueError(f"RC2 IV must be 8 bytes, got {len(iv)}")
    if len(data) % 8:
        raise ValueError(f"RC2-CBC data length {len(data)} is not a multiple of the 8-byte block")


def cbc_encrypt(schedule: bytes, iv: bytes, data: bytes) -> bytes:
    """CBC-encrypt *data* (already padded to 8 bytes) with a :func:`key_schedule`."""
    _check(iv, data)
    k = _words(schedule)
    out = bytearray(len(data))
    c = [iv[0] | iv[1] << 8, iv[2] | iv[3] << 8, iv[4] | iv[5] << 8, iv[6] | iv[7] << 8]
    for p in range(0, len(data), 8):
        b = data[p : p + 8]
        c = _encrypt_block(
            k,
            (b[0] | b[1] << 8) ^ c[0],
            (b[2] | b[3] << 8) ^ c[1],
            (b[4] | b[5] << 8) ^ c[2],
            (b[6] | b[7] << 8) ^ c[3],
        )
        out[p : p + 8] = bytes(
            (c[0] & 255, c[0] >> 8, c[1] & 255, c[1] >> 8, c[2] & 255, c[2] >> 8, c[3] & 255, c[3] >> 8)
        )
    return bytes(out)


def cbc_decrypt(schedule: bytes, iv: bytes, data: bytes) -> bytes:
    """CBC-decrypt *data* (a multiple of 8 bytes) with a :func:`key_schedule`; padding is kept."""
    _check(iv, data)
    k = _words(schedule)
    out = bytearray(len(data))
    prev = (iv[0] | iv[1] << 8, iv[2] | iv[3] << 8, iv[4] | iv[5] << 8, iv[6] | iv[7] << 8)
    for p in range(0, len(data), 8):
        b = data[p : p + 8]
        cur = (b[0] | b[1] << 8, b[2] | b[3] << 8, b[4] | b[5] << 8, b[6] | b[7] << 8)
        r = _decrypt_block(k, *cur)
        w = (r[0] ^ prev[0], r[1] ^ prev[1], r[2] ^ prev[2], r[3] ^ prev[3])
        out[p : p + 8] = bytes(
            (w[0] & 255, w[0] >> 8, w[1] & 255, w[1] >> 8, w[2] & 255, w[2] >> 8, w[3] & 255, w[3] >> 8)
        )
        prev = cur
    return bytes(out)
