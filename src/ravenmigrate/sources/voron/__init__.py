"""Raw RavenDB 3.x Voron storage (data directory, backup directory, backup zip) as export records.

Modules, from bytes up: :mod:`.pages` (page and node layout, CRC32C; twin ``voron_pages``),
:mod:`.header` (file and tree root headers), :mod:`.files` (finding the files), :mod:`.journal`
(in-memory recovery), :mod:`.pager`, :mod:`.tree` (B+tree walk), :mod:`.environment`,
:mod:`.tables` and :mod:`.metadata` (RavenDB's tree layouts), :mod:`.source`; index definitions:
:mod:`ravenmigrate.sources.indexdefs` (shared with Esent).
"""

import importlib

__all__ = ["VoronEnvironment", "VoronSource", "is_voron_dir", "open_voron", "zip_is_voron"]
_WHERE = {"VoronEnvironment": ".environment", "is_voron_dir": ".files", "zip_is_voron": ".files",
          "VoronSource": ".source", "open_voron": ".source"}


def __getattr__(name: str):
    """Imported on first use: reading an export never loads the storage engine (nor ``cryptography``)."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
