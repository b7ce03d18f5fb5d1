"""Command-line options of a raw Voron or Esent source, named like the 4.0 offline-migration dialog.

``--journals-path`` (journals / Esent logs kept apart from the data file), ``--force-dirty`` (Esent) plus the bundle options of
:mod:`ravenmigrate.codecs.options` (``--compression``, ``--encryption-key``,
``--encryption-algorithm``, ``--encryption-bits``; docs/formats/bundles.md §4).
"""

from __future__ import annotations

import argparse
from typing import Any

from ...codecs import options as bundle_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--journals-path`` and, unless already there, the bundle options to *parser*."""
    group = parser.add_argument_group("raw 3.x storage (Voron, Esent)")
    group.add_argument("--journals-path", metavar="DIR",
                       help="folder holding the Voron *.journal files when they are not beside Raven.voron, or the "
                            "Esent logs (Raven/Esent/LogsPath) when they are not beside Data or in its logs/ folder")
    group.add_argument("--force-dirty", action="store_true",
                       help="Esent: read a database that needs log replay from its pages alone when its logs are "
                            "missing or damaged; the report lists what may be missing (docs/esent.md)")
    if "--encryption-key" not in parser._option_string_actions:
        bundle_options.add_arguments(parser)


def from_namespace(ns: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``VoronSource`` / ``open_source`` from parsed arguments."""
    bundles = bundle_options.from_namespace(ns)
    return {"journals_path": getattr(ns, "journals_path", None), "compression": bundles.compression,
            "encryption": bundles.encryption, "force_dirty": getattr(ns, "force_dirty", False)}
