# cython: language_level=3
"""Native twin of ravenmigrate.codecs.cbc: the CBC chaining XOR in one C loop."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t


def unchain(const uint8_t[:] ecb_plain, const uint8_t[:] iv, const uint8_t[:] data):
    """``ecb_plain XOR (iv ‖ data[:-len(iv)])``; all three from one value, ``len(ecb_plain) == len(data)``."""
    cdef Py_ssize_t n = data.shape[0], bs = iv.shape[0], i
    if ecb_plain.shape[0] != n:
        raise ValueError(f"ECB output is {ecb_plain.shape[0]} bytes for {n} bytes of ciphertext")
    out = PyBytes_FromStringAndSize(NULL, n)
    cdef uint8_t* o = <uint8_t*>PyBytes_AS_STRING(out)
    with nogil:
        for i in range(n if n < bs else bs):
            o[i] = ecb_plain[i] ^ iv[i]
        for i in range(bs, n):
            o[i] = ecb_plain[i] ^ data[i - bs]
    return out
