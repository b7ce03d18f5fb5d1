"""``ravenmigrate.threads.responsive``: a short GIL switch interval for the block, restored after."""

from __future__ import annotations

import platform
import sys

import pytest

from ravenmigrate.threads import SWITCH_INTERVAL, responsive


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


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_malloc_is_tuned_for_reuse_on_glibc():
    """convert and load run inside responsive(), which tunes glibc's malloc once (mallopt accepted)."""
    from ravenmigrate import threads

    with responsive():
        assert threads._malloc_tuned is True
    assert threads.reuse_freed_memory() is True
