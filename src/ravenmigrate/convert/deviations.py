"""Where ravenmigrate deliberately stores something better than RavenDB 4.x's own import.

Each code is explained in ``docs/deviations.md`` (server behaviour, ours, why). The converter
reports every deviation it applies, so reports and the differential test can account for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CODES = ("identity-integer", "nested-metadata-id", "last-modified-carry-over", "last-modified-fff",
         "escaped-surrogate-pair")


@dataclass(slots=True, frozen=True)
class Deviation:
    """``key`` names the document or identity; ``server`` is what 4.x would store, ``ours`` what we store
    (``None`` = nothing / server "now")."""

    code: str
    key: str
    server: Any
    ours: Any
