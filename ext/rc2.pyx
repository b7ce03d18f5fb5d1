# cython: language_level=3
"""Native twin of ravenmigrate.codecs.rc2: RC2 (RFC 2268) CBC loops over a 64-word key schedule.

Byte-identical to the pure twin (the specification); the key schedule is the same 128 bytes.
"""

from libc.stdint cimport uint16_t, uint8_t
from libc.string cimport memcpy

from ravenmigrate.codecs.rc2 import key_schedule as _pure_key_schedule


def key_schedule(bytes key, int effective_bits):
    """Run once per database: the pure expansion is already cheap; shared for identical output."""
    return _pure_key_schedule(key, effective_bits)


cdef inline void _load(const uint8_t[:] sched, uint16_t* k):
    cdef int i
    for i in range(64):
        k[i] = sched[2 * i] | (sched[2 * i + 1] << 8)


cdef inline uint16_t _rol(uint16_t x, int s) nogil:
    return <uint16_t>((x << s) | (x >> (16 - s)))


cdef inline uint16_t _ror(uint16_t x, int s) nogil:
    return <uint16_t>((x >> s) | (x << (16 - s)))


cdef void _encrypt_block(const uint16_t* k, uint16_t* r) noexcept nogil:
    cdef int j = 0, rnd
    for rnd in range(16):
        r[0] = _rol(<uint16_t>(r[0] + k[j] + (r[3] & r[2]) + ((~r[3]) & r[1])), 1)
        r[1] = _rol(<uint16_t>(r[1] + k[j + 1] + (r[0] & r[3]) + ((~r[0]) & r[2])), 2)
        r[2] = _rol(<uint16_t>(r[2] + k[j + 2] + (r[1] & r[0]) + ((~r[1]) & r[3])), 3)
        r[3] = _rol(<uint16_t>(r[3] + k[j + 3] + (r[2] & r[1]) + ((~r[2]) & r[0])), 5)
        j += 4
        if rnd == 4 or rnd == 10:
            r[0] = <uint16_t>(r[0] + k[r[3] & 63])
            r[1] = <uint16_t>(r[1] + k[r[0] & 63])
            r[2] = <uint16_t>(r[2] + k[r[1] & 63])
            r[3] = <uint16_t>(r[3] + k[r[2] & 63])


cdef void _decrypt_block(const uint16_t* k, uint16_t* r) noexcept nogil:
    cdef int j = 60, rnd
    for rnd in range(16):
        r[3] = <uint16_t>(_ror(r[3], 5) - k[j + 3] - (r[2] & r[1]) - ((~r[2]) & r[0]))
        r[2] = <uint16_t>(_ror(r[2], 3) - k[j + 2] - (r[1] & r[0]) - ((~r[1]) & r[3]))
        r[1] = <uint16_t>(_ror(r[1], 2) - k[j + 1] - (r[0] & r[3]) - ((~r[0]) & r[2]))
        r[0] = <uint16_t>(_ror(r[0], 1) - k[j] - (r[3] & r[2]) - ((~r[3]) & r[1]))
        j -= 4
        if rnd == 4 or rnd == 10:
            r[3] = <uint16_t>(r[3] - k[r[2] & 63])
            r[2] = <uint16_t>(r[2] - k[r[1] & 63])
            r[1] = <uint16_t>(r[1] - k[r[0] & 63])
            r[0] = <uint16_t>(r[0] - k[r[3] & 63])


cdef _check(const uint8_t[:] iv, Py_ssize_t n):
    if iv.shape[0] != 8:
        raise ValueError(f"RC2 IV must be 8 bytes, got {iv.shape[0]}")
    if n % 8:
        raise ValueError(f"RC2-CBC data length {n} is not a multiple of the 8-byte block")


def cbc_encrypt(const uint8_t[:] schedule, const uint8_t[:] iv, const uint8_t[:] data):
    """CBC-encrypt *data* (already padded to 8 bytes) with a key schedule."""
    cdef Py_ssize_t n = data.shape[0], p
    _check(iv, n)
    cdef uint16_t k[64]
    cdef uint16_t c[4]
    cdef int i
    _load(schedule, k)
    out = bytearray(n)
    cdef uint8_t[:] o = out
    for i in range(4):
        c[i] = iv[2 * i] | (iv[2 * i + 1] << 8)
    with nogil:
        p = 0
        while p < n:
            for i in range(4):
                c[i] = c[i] ^ <uint16_t>(data[p + 2 * i] | (data[p + 2 * i + 1] << 8))
            _encrypt_block(k, c)
            for i in range(4):
                o[p + 2 * i] = c[i] & 0xFF
                o[p + 2 * i + 1] = c[i] >> 8
            p += 8
    return bytes(out)


def cbc_decrypt(const uint8_t[:] schedule, const uint8_t[:] iv, const uint8_t[:] data):
    """CBC-decrypt *data* (a multiple of 8 bytes) with a key schedule; padding is kept."""
    cdef Py_ssize_t n = data.shape[0], p
    _check(iv, n)
    cdef uint16_t k[64]
    cdef uint16_t prev[4]
    cdef uint16_t cur[4]
    cdef uint16_t r[4]
    cdef int i
    _load(schedule, k)
    out = bytearray(n)
    cdef uint8_t[:] o = out
    for i in range(4):
        prev[i] = iv[2 * i] | (iv[2 * i + 1] << 8)
    with nogil:
        p = 0
        while p < n:
            for i in range(4):
                cur[i] = data[p + 2 * i] | (data[p + 2 * i + 1] << 8)
                r[i] = cur[i]
            _decrypt_block(k, r)
            for i in range(4):
                r[i] = r[i] ^ prev[i]
                o[p + 2 * i] = r[i] & 0xFF
                o[p + 2 * i + 1] = r[i] >> 8
                prev[i] = cur[i]
            p += 8
    return bytes(out)
