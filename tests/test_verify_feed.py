"""verify's source thread runs behind the main thread (``threads.run_behind``), and work handed to
``threads.on_thread_behind`` runs behind its caller: where the cores are busy, the scheduler runs
the thread that reads the server's stream, and the server, first."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from conftest import real

from ravenmigrate.threads import on_thread_behind, run_behind
from ravenmigrate.verify.digests import Join
from ravenmigrate.verify.expected import Expected
from ravenmigrate.verify.feed import SOURCE_NICENESS, SourceFeed

LINUX = sys.platform.startswith("linux")


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not LINUX, reason="a niceness per thread is Linux's")
def test_run_behind_lowers_the_calling_thread_and_what_it_starts_only():
    base = _niceness()
    seen = {}

    def child() -> None:
        seen["child"] = _niceness()

    def behind() -> None:
        seen["applied"] = run_behind(3)
        seen["self"] = _niceness()
        t = threading.Thread(target=child)
        t.start()
        t.join()

    t = threading.Thread(target=behind)
    t.start()
    t.join()
    assert seen == {"applied": True, "self": min(base + 3, 19), "child": min(base + 3, 19)}
    assert _niceness() == base  # the caller's thread is left as it was


@pytest.mark.skipif(not LINUX, reason="a niceness per thread is Linux's")
def test_on_thread_behind_returns_or_raises_what_the_work_did_on_its_lowered_thread():
    base = _niceness()

    def work() -> tuple[str, int]:
        return threading.current_thread().name, _niceness()

    assert on_thread_behind(work, 4, "behind-work") == ("behind-work", min(base + 4, 19))

    def failing() -> None:
        raise KeyError("from the work")

    with pytest.raises(KeyError, match="from the work"):
        on_thread_behind(failing, 4, "behind-work")
    assert _niceness() == base


@pytest.mark.skipif(not LINUX, reason="a niceness per thread is Linux's")
def test_the_source_feed_thread_runs_behind_and_a_caller_running_it_is_left_alone():
    base = _niceness()
    dump = str(real("Northwind_3.5.35168.ravendump"))

    def watched(feed: SourceFeed) -> dict[str, int]:
        seen: dict[str, int] = {}
        add = feed.add

        def add_watched(conv, bulk):
            seen.setdefault("niceness", _niceness())
            add(conv, bulk)
        feed.add = add_watched
        return seen

    feed = SourceFeed(Expected(Join()), dump, False, None, None, {})
    seen = watched(feed)
    feed.start()
    feed.finish()
    assert seen["niceness"] == min(base + SOURCE_NICENESS, 19)
    assert feed.added > 1000  # the whole of Northwind was converted behind

    caller = SourceFeed(Expected(Join()), dump, False, None, None, {})
    seen = watched(caller)
    caller.run()
    assert seen["niceness"] == base == _niceness()
    assert caller.added == feed.added
