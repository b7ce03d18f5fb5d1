"""``ravenmigrate.threads.responsive``: a short GIL switch interval for the block, restored after."""

from __future__ import annotations

import platform
import sys

import pytest
from twins import params

from ravenmigrate import threads
from ravenmigrate.threads import SWITCH_INTERVAL, responsive

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_switch_interval_is_short_inside_and_restored_after_even_on_error():
    before = sys.getswitchinterval()
    with responsive():
        assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL), abs=2e-6)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), responsive():
        raise RuntimeError("boom")
    assert sys.getswitchinterval() == before


def test_a_shorter_interval_set_by_the_caller_is_kept():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    try:
        with responsive():
            assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
        assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_malloc_is_tuned_for_reuse_on_glibc():
    """convert and load run inside responsive(), which tunes glibc's malloc once (mallopt accepted)."""
    with responsive():
        assert threads._malloc_tuned is True
    assert threads.reuse_freed_memory() is True


@pytest.mark.parametrize("twin", params("malloc_tuning"))
def test_mallopt_twins_accept_what_glibc_accepts_and_refuse_the_rest(twin):
    """Both twins call the C library's mallopt: the thresholds threads sets are accepted (1) on glibc;
    a fast-bin size (M_MXFAST, 1) past glibc's maximum (80 * sizeof(size_t) / 4) is refused (0)."""
    assert twin.mallopt(threads._M_MMAP_THRESHOLD, threads.MMAP_THRESHOLD) == int(GLIBC)
    assert twin.mallopt(threads._M_TRIM_THRESHOLD, threads.TRIM_THRESHOLD) == int(GLIBC)
    assert twin.mallopt(1, 1 << 20) == 0
