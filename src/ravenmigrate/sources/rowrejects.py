"""Bad rows of raw storage (Voron trees, Esent tables) as rejects (docs/reliability.md).

A row that cannot be read as a record (a storage key that is not UTF-8, a metadata row that is not
JSON or BSON, a body the codecs refuse, a row without its twin in the other tree, an identity of the
wrong size) is a reject when ``--max-rejects`` allows one more: its storage key (Voron) or page
(Esent) names it, its stored bytes go to the rejects file, and the walk goes on with the next row.
Otherwise the row's located :class:`~ravenmigrate.errors.SourceError` stops the run, as before.
Damage below the rows (a page, a journal, the catalog) always stops the run.
"""

from __future__ import annotations

from ..errors import SourceError
from ..records import Position
from ..rejects import Rejects

CODE = "bad-storage-row"


def reject_row(rejects: Rejects | None, exc: SourceError, position: Position, *, doc_id: str | None = None,
               raw: bytes | None = None, page: int | None = None) -> bool:
    """Write the bad row to *rejects* and return True when they allow one more, else False (the
    caller raises *exc*). *page*: the leaf page the row was read from (Esent), named in the reason."""
    if rejects is None or not rejects.allows_one_more():
        return False
    reason = str(exc) if page is None or page < 0 else f"{exc} (leaf page {page})"
    rejects.add(CODE, reason, position, doc_id, raw)
    return True
