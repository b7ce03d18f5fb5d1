# cython: language_level=3
# distutils: libraries = z
"""Native twin of ravenmigrate.codecs.inflate: raw DEFLATE after the ``Cmpr`` magic via zlib's C API.

One z_stream per call straight into a growing output buffer (no decompressobj, no chunk joins);
byte-identical to the pure twin, same errors (docs/formats/bundles.md §1).
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc, realloc

from ravenmigrate.codecs.errors import BundleDecodeError


cdef extern from "zlib.h":
    ctypedef struct z_stream:
        const unsigned char* next_in
        unsigned int avail_in
        unsigned char* next_out
        unsigned int avail_out
        const char* msg
        void* zalloc
        void* zfree
        void* opaque
    int inflateInit2(z_stream* strm, int windowBits) nogil
    int inflate(z_stream* strm, int flush) nogil
    int inflateEnd(z_stream* strm) nogil
    int Z_OK, Z_STREAM_END, Z_NO_FLUSH, Z_BUF_ERROR, Z_DATA_ERROR, Z_MEM_ERROR


def inflate_raw(const unsigned char[:] data, Py_ssize_t offset, what, path):
    """Inflate the raw DEFLATE stream that starts at *offset* of *data*."""
    cdef Py_ssize_t n = data.shape[0] - offset
    cdef z_stream zs
    cdef int rc = Z_OK
    cdef size_t cap = <size_t>(n * 4 + 256), produced = 0
    cdef unsigned char* buf = <unsigned char*>malloc(cap)
    cdef unsigned char* grown
    if buf == NULL:
        raise MemoryError()
    zs.zalloc = NULL
    zs.zfree = NULL
    zs.opaque = NULL
    zs.next_in = &data[offset] if n > 0 else NULL
    zs.avail_in = <unsigned int>n
    if inflateInit2(&zs, -15) != Z_OK:
        free(buf)
        raise MemoryError()
    try:
        while True:
            if produced == cap:
                cap *= 2
                grown = <unsigned char*>realloc(buf, cap)
                if grown == NULL:
                    raise MemoryError()
                buf = grown
            zs.next_out = buf + produced
            zs.avail_out = <unsigned int>(cap - produced if cap - produced < 0x40000000 else 0x40000000)
            with nogil:
                rc = inflate(&zs, Z_NO_FLUSH)
            produced = <size_t>(zs.next_out - buf)
            if rc == Z_STREAM_END:
                return PyBytes_FromStringAndSize(<char*>buf, produced)
            if rc == Z_OK:
                continue
            if rc == Z_BUF_ERROR and zs.avail_in == 0:
                raise BundleDecodeError(
                    "deflate",
                    f"{what}: DEFLATE stream truncated after {n} compressed bytes "
                    "(expected a final block after the 'Cmpr' magic)",
                    path=path,
                )
            if rc == Z_MEM_ERROR:
                raise MemoryError()
            msg = zs.msg.decode("ascii", "replace") if zs.msg != NULL else "unknown error"
            raise BundleDecodeError(
                "deflate",
                f"{what}: corrupt DEFLATE stream after the 'Cmpr' magic (Error {rc} while decompressing data: {msg})",
                path=path,
            )
    finally:
        inflateEnd(&zs)
        free(buf)
