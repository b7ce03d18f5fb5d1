"""Run codec tests against both twins: ``twin`` swaps the inflate, rc2 and bson implementations."""

from __future__ import annotations

import importlib

import pytest

from ravenmigrate.codecs import body, ciphers, compression

# (module using the twin, attribute holding it, twin name, pure module)
USERS = (
    (compression, "_inflate", "inflate", "ravenmigrate.codecs.inflate"),
    (ciphers, "_rc2", "rc2", "ravenmigrate.codecs.rc2"),
    (ciphers, "_cbc", "cbc", "ravenmigrate.codecs.cbc"),
    (body, "_bson", "bson", "ravenmigrate.codecs.bson"),
)


def native(name: str):
    try:
        return importlib.import_module(f"ravenmigrate._native.{name}")
    except ImportError:
        pytest.skip(f"native twin ravenmigrate._native.{name} is not built")


def pure(name: str):
    return importlib.import_module(dict((u[2], u[3]) for u in USERS)[name])


@pytest.fixture(params=["native", "pure"])
def twin(request, monkeypatch) -> str:
    """Every codec twin set to the native (skipped when not built) or the pure implementation."""
    for module, attr, name, _ in USERS:
        monkeypatch.setattr(module, attr, native(name) if request.param == "native" else pure(name))
    return request.param
