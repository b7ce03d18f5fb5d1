"""ESE log replay (placeholder until the redo engine lands): refuses a dirty database."""

from __future__ import annotations

from typing import Any

from ...errors import UnsupportedSource
from ...records import Finding
from .database import EsentFile
from .files import EsentFiles


def recover(file: EsentFile, files: EsentFiles, findings: list[Finding]) -> dict[str, Any]:
    header = file.header
    raise UnsupportedSource(
        f"the database is in {header.state_name} state (every Esent backup is): it needs ESE log generations "
        f"{header.gen_min_required}..{header.gen_max_required} replayed, which this version cannot do yet; "
        "pass --force-dirty to read the pages alone (changes held only in the logs may be missing)",
        path=files.path)
