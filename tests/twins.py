"""Test helpers: run a block with the pure or the native ``jsonsplit`` twin; parametrize over twins."""

from __future__ import annotations

import importlib

import pytest

from ravenmigrate import _twins

# The two kinds a test pins with use_twin/use_lane_twin, marked so that `pytest --twin-pass` (scripts/test.sh)
# runs each variant only in the pass whose other twins are of the same kind (tests/conftest.py).
TWINS = [pytest.param(kind, id=kind, marks=pytest.mark.twin_pinned(kind)) for kind in ("pure", "native")]


def use_twin(kind: str, monkeypatch) -> None:
    """Make ``_twins.load`` return *kind*; skips the test when the native twin is not built."""
    if kind == "pure":
        monkeypatch.setenv("RAVENMIGRATE_PUREPYTHON", "1")
    else:
        try:
            importlib.import_module("ravenmigrate._native.jsonsplit")
        except ImportError:
            pytest.skip("native jsonsplit twin is not built")
        monkeypatch.delenv("RAVENMIGRATE_PUREPYTHON", raising=False)
    import ravenmigrate.sources.reader  # noqa: F401 - registers the twin

    assert _twins.kind(_twins.load("jsonsplit")) == kind


def params(name: str) -> list:
    """``pytest.param`` for each twin of *name*, ids ``pure``/``native``; native skipped when not built."""
    found = _twins.both(name)
    return [pytest.param(found["pure"], id="pure"),
            pytest.param(found.get("native"), id="native",
                         marks=pytest.mark.skipif("native" not in found, reason=f"native {name} twin not built"))]


def native(name: str):
    """The native twin of *name*, or None when it is not built."""
    return _twins.both(name).get("native")


def use_lane_twin(name: str, kind: str, monkeypatch) -> str:
    """Make ``_twins.load(name)`` return *kind* (a reader lane's twin: ``docrun``, ``attachrun``);
    skips the test when the native twin is not built."""
    use_twin(kind, monkeypatch)
    if kind == "native" and native(name) is None:
        pytest.skip(f"native {name} twin not built")
    assert _twins.kind(_twins.load(name)) == kind
    return kind


def assert_same_bytes(general: bytes, laned: bytes) -> None:
    """Fail naming the first differing offset, with the bytes around it on each side."""
    if laned != general:
        at = next((i for i in range(min(len(laned), len(general))) if laned[i] != general[i]),
                  min(len(laned), len(general)))
        pytest.fail(f"dump bytes differ at {at}: {general[at - 150:at + 80]!r} != {laned[at - 150:at + 80]!r}")
