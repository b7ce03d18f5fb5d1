"""Verify's expected side: what the converted source says the database must hold, one small entry
per document (digests and last-modified), and the canonical body digests of a second pass over the
source for the documents whose raw bodies differed (docs/loading.md "Verify").
"""

from __future__ import annotations

from typing import Any

from .. import _twins
from ..records import AttachmentPut4, Delete4, Document4, DocumentRun, Identity4, Index4
from ..threads import responsive
from .digests import MATCHED, Join, add_document, digests

_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")
_twins.register("expected", "ravenmigrate.verify.digests")
_expected = _twins.load("expected")


class Expected:
    """What the converted source says the database must hold.

    A document is kept as small as it can be, since a large database has millions: under its
    lower-cased id, one bytes object, the body and metadata digests (16 bytes each) and the
    last-modified value when it has one (28 ASCII characters); its id as written only where that
    differs from the lower-cased one (``ids``). About 240 bytes a document in all (docs/loading.md).
    *join*: where the entries meet the server's documents when verify reads both side by side
    (``digests.Join``); a matched document's entry is then ``MATCHED``."""

    def __init__(self, join: Join | None = None) -> None:
        self.join = join
        self._scanner = _split.Scanner()
        self.documents: dict[str, bytes] = {}
        self.ids: dict[str, str] = {}
        self.attachments: dict[tuple[str, str], str] = {}
        self.revisions: dict[str, set[str]] = {}
        self.identities: dict[str, int] = {}
        self.indexes: set[str] = set()
        self.skipped = 0

    def add(self, conv: Any, bulk: bool) -> None:
        """One converted record, through the operations below (an expected list records them: the
        subclass in ``expected_list``)."""
        if isinstance(conv, DocumentRun):  # common documents, converted natively; no revisions among them
            _expected.add_documents(conv.results, self.documents, self.ids, bulk, self.join)
        elif isinstance(conv, Document4):
            if conv.revision_of is not None:
                self.revision(conv.revision_of, conv.change_vector or "")
            else:
                self.document(conv.id, conv.data, conv.last_modified, bulk)
        elif isinstance(conv, AttachmentPut4):
            self.attachment(conv.document_id, conv.name, conv.hash)
        elif isinstance(conv, Delete4):
            self.delete(conv.id)
        elif isinstance(conv, Index4):
            self.index(conv.name)
        elif isinstance(conv, Identity4):
            self.identity(conv.name, conv.value)
        else:
            self.skip()

    def document(self, doc_id: str, data: bytes, last_modified: str | None, bulk: bool) -> None:
        add_document(self.documents, self.ids, doc_id, data, last_modified, bulk, self._scanner, self.join)

    def revision(self, of: str, change_vector: str) -> None:
        self.revisions.setdefault(of.lower(), set()).add(change_vector)

    def attachment(self, document_id: str, name: str, digest: str) -> None:
        self.attachments[(document_id.lower(), name)] = digest

    def delete(self, doc_id: str) -> None:
        low = doc_id.lower()
        if self.documents.pop(low, None) == MATCHED and self.join is not None:
            self.join.recheck.add(low)  # the server had it when the source still did
        self.ids.pop(low, None)
        for key in [k for k in self.attachments if k[0] == low]:
            del self.attachments[key]

    def index(self, name: str) -> None:
        self.indexes.add(name)

    def identity(self, name: str, value: int) -> None:
        low = name.lower()
        self.identities[low] = max(value, self.identities.get(low, value))

    def skip(self) -> None:
        self.skipped += 1


class Canonical:
    """The canonical body digests (:func:`digests`) of the converted documents *ids*: the second pass
    over the source for the documents whose raw bodies differed from the server's."""

    def __init__(self, ids: Any) -> None:
        self.ids = ids
        self.bodies: dict[str, bytes] = {}

    def add(self, conv: Any, bulk: bool) -> None:
        if isinstance(conv, DocumentRun):
            items = [(r[0], r[1]) for r in conv.results]
        elif isinstance(conv, Document4) and conv.revision_of is None:
            items = [(conv.id, conv.data)]
        else:
            return
        for doc_id, data in items:
            low = doc_id.lower()
            if low in self.ids:
                self.bodies[low] = digests(data, bulk)[0]


def expected_from(source: str, bulk: bool, convert_options: Any = None, selection: Any = None, *,
                  into: Any = None, **source_options: Any) -> Any:
    """What the database should hold: the converted source, with the load's ``ConvertOptions`` and
    selection (``ravenmigrate.convert.selection``; its transform script run here for every transport).
    ``rejects`` in *source_options*: records the load rejected from the source are not expected.
    *into*: what takes the converted records (default a new :class:`Expected`), e.g. a :class:`Canonical`."""
    from ..sinks.server.loader import convert, make_converter, open_records  # here: on verify's source thread

    exp = Expected() if into is None else into
    converter = make_converter(convert_options, source_options.get("rejects"))
    selector = None
    if selection is not None and not selection.everything:
        from ..convert.selection import Selector

        selector = Selector(selection)
    records, _, close = open_records(source, runs=True, **source_options)
    try:
        with responsive():  # the inflate thread's hand-off and buffer reuse, as in convert and load
            for record in records:
                converted = convert(converter, record, keep_runs=True)
                if selector is not None:
                    converted = selector.select(record, converted)
                for conv in converted:
                    exp.add(conv, bulk)
    finally:
        close()
    return exp
