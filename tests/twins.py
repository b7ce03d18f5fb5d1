"""Test helpers: run a block with the pure or the native ``jsonsplit`` twin."""

from __future__ import annotations

import importlib

import pytest

from ravenmigrate import _twins

TWINS = ("pure", "native")


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
