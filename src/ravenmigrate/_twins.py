"""Choose between a compiled twin (``ravenmigrate._native.<name>``) and its pure-Python twin.

The pure twin is the specification; the native one must give byte-identical results. Setting
``RAVENMIGRATE_PUREPYTHON=1`` forces every pure twin (the msgpack convention).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# twin name -> module path of the pure-Python twin. Each ext/<name>.pyx must exist here.
PURE_TWINS: dict[str, str] = {}


def register(name: str, pure_module: str) -> None:
    """Declare a twin pair; called at import time by the module that uses it."""
    PURE_TWINS[name] = pure_module


def pure_forced() -> bool:
    return os.environ.get("RAVENMIGRATE_PUREPYTHON", "") not in ("", "0")


def load(name: str) -> ModuleType:
    """Return the native module for *name* when built and allowed, else the pure twin."""
    if not pure_forced():
        try:
            return importlib.import_module(f"ravenmigrate._native.{name}")
        except ImportError:
            pass
    return importlib.import_module(PURE_TWINS[name])


def both(name: str) -> dict[str, ModuleType]:
    """Every twin of *name* importable here, ``{"pure": ..., "native": ...}`` (native only when built,
    whatever ``RAVENMIGRATE_PUREPYTHON`` says): for tests and benchmarks that compare the two."""
    if name not in PURE_TWINS:
        _import_users()
    out = {"pure": importlib.import_module(PURE_TWINS[name])}
    try:
        out["native"] = importlib.import_module(f"ravenmigrate._native.{name}")
    except ImportError:
        pass
    return out


def kind(module: ModuleType) -> str:
    """'native' or 'pure' for a module returned by :func:`load`."""
    return "native" if module.__name__.startswith("ravenmigrate._native.") else "pure"


def status() -> dict[str, str]:
    """Which twin is in use for every registered hot module (imports the users to register them)."""
    _import_users()
    return {name: kind(load(name)) for name in sorted(PURE_TWINS)}


# Modules that register twins; imported by status() so `doctor` sees every pair.
TWIN_USERS: list[str] = [
    "ravenmigrate.codecs.compression",
    "ravenmigrate.codecs.ciphers",
    "ravenmigrate.codecs.body",
    "ravenmigrate.convert.documents",
    "ravenmigrate.sinks.dump4.records",
    "ravenmigrate.sources.reader",
    "ravenmigrate.sources.voron.environment",
    "ravenmigrate.sources.esent.pages",
    "ravenmigrate.verify.documents",
    "ravenmigrate.threads",
]


def _import_users() -> None:
    for mod in TWIN_USERS:
        importlib.import_module(mod)
