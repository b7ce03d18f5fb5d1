# cython: language_level=3
"""Native twin of ravenmigrate.malloc_tuning: glibc's ``mallopt`` called directly.

The pure twin reaches the same function through ctypes, whose import costs about 2.5 ms of
every ``convert`` and ``load`` start-up (docs/benchmarks.md).
"""

cdef extern from *:
    """
    #if defined(__GLIBC__)
    #include <malloc.h>
    static int rm_mallopt(int param, int value) { return mallopt(param, value); }
    #else
    static int rm_mallopt(int param, int value) { (void)param; (void)value; return 0; }
    #endif
    """
    int rm_mallopt(int param, int value)


def mallopt(int param, int value) -> int:
    """glibc's ``mallopt(param, value)``: 1 when accepted, 0 when refused or where there is no glibc."""
    return rm_mallopt(param, value)
