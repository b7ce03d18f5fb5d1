# Output written straight into a new bytes object, then shrunk in place (_PyBytes_Resize): no
# scratch buffer and no copy of the result. Shared by the native twins (``include``).
from cpython.object cimport PyObject

cdef extern from "Python.h":
    PyObject* _bytes_new "PyBytes_FromStringAndSize"(const char* s, Py_ssize_t n)
    int _bytes_resize "_PyBytes_Resize"(PyObject** b, Py_ssize_t n)
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* b)
    void _bytes_release "Py_DECREF"(PyObject* b)


cdef inline PyObject* out_new(Py_ssize_t capacity) except NULL:
    """A bytes object of *capacity* bytes to write into (release it with out_drop, or out_done)."""
    return _bytes_new(NULL, capacity if capacity > 0 else 1)


cdef inline bytes out_done(PyObject** out, Py_ssize_t length):
    """*out* shrunk to *length* bytes, as a bytes object. Takes the reference: *out* is NULL after,
    also when this raises (a failed resize releases the object), so a caller's cleanup skips it."""
    cdef PyObject* p = out[0]
    out[0] = NULL
    if _bytes_resize(&p, length) < 0:
        raise MemoryError()
    result = <bytes>p
    _bytes_release(p)
    return result


cdef inline void out_drop(PyObject* out) noexcept:
    _bytes_release(out)
