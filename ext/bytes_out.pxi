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


cdef inline bytes out_done(PyObject* out, Py_ssize_t length):
    """*out* shrunk to *length* bytes, as a bytes object (the reference passes to the result)."""
    if _bytes_resize(&out, length) < 0:  # out is released by the failed resize
        raise MemoryError()
    result = <bytes>out
    _bytes_release(out)
    return result


cdef inline void out_drop(PyObject* out) noexcept:
    _bytes_release(out)
