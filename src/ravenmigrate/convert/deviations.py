"""Where ravenmigrate deliberately stores something better than RavenDB 4.x's own import.

Each code is explained in ``docs/deviations.md`` (server behaviour, ours, why). The converter
reports every deviation it applies, so reports and the differential test can account for them.
"""

from __future__ import annotations

from typing import Any

from ..fields import FrozenFields

CODES = ("identity-integer", "nested-metadata-id", "last-modified-carry-over", "last-modified-fff",
         "escaped-surrogate-pair")


class Deviation(FrozenFields):
    """``key`` names the document or identity; ``server`` is what 4.x would store, ``ours`` what we store
    (``None`` = nothing / server "now")."""

    __slots__ = ("code", "key", "server", "ours")

    def __init__(self, code: str, key: str, server: Any, ours: Any) -> None:
        _set = object.__setattr__
        _set(self, "code", code)
        _set(self, "key", key)
        _set(self, "server", server)
        _set(self, "ours", ours)
