"""Raw RavenDB 2.x/3.x Esent storage (data directory, backup directory, backup zip) as export records.

Modules, from bytes up: :mod:`.pages` (page and node layout), :mod:`.database` (file header, page
access with the replay overlay, B+tree walks), :mod:`.catalog` (tables, columns, rows, long
values: the general table API, docs/esent.md), :mod:`.files` (finding the files), :mod:`.redo`
(log replay), :mod:`.recovery` (the opened store), :mod:`.tables` (RavenDB's tables) and
:mod:`.source`.
"""

import importlib

__all__ = ["EsentSource", "EsentStore", "is_esent_dir", "open_esent", "zip_is_esent"]
_WHERE = {"EsentSource": ".source", "open_esent": ".source", "EsentStore": ".recovery",
          "is_esent_dir": ".files", "zip_is_esent": ".files"}


def __getattr__(name: str):
    """Imported on first use: reading an export never loads the storage engine."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
