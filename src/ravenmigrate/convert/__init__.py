"""3.x records -> what RavenDB 4.x's own legacy import stores (docs/formats/import-4x.md §3-§8).

``Converter(options).convert(record)`` turns each source record (:mod:`ravenmigrate.records`)
into zero or more converted records (``Document4``, ``AttachmentPut4``, ``Delete4``, ``Index4``,
``Identity4``, ``Skipped``). One converter per source: it keeps the server's per-section state
(legacy revision counter, last-modified carry-over) and resets it when a new section starts.
Deliberate improvements over the server are reported through ``on_deviation`` and explained in
``docs/deviations.md``; ``ConvertOptions(server_quirks=True)`` reproduces the server exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..errors import SourceError
from ..fields import Fields
from ..records import (
    Attachment,
    AttachmentDeletion,
    AttachmentRun,
    Converted,
    Delete4,
    Document,
    DocumentDeletion,
    DocumentRun,
    File,
    Identity,
    Identity4,
    Index,
    Record,
    Skipped,
    Transformer,
)
from .attachments import FILES_PREFIX, convert_attachment
from .deviations import Deviation
from .documents import DocumentConverter
from .files import convert_file
from .index_rewrite import CollectionSample
from .indexes import convert_index, want

if TYPE_CHECKING:
    import datetime as _dt

    from ..rejects import Rejects

__all__ = ["ConvertOptions", "Converter", "Deviation"]


def _utc_now() -> _dt.datetime:
    import datetime as _dt  # here: only expiring documents ask for the time (2 ms of start-up)

    return _dt.datetime.now(_dt.timezone.utc)


class ConvertOptions(Fields):
    """``include_expired`` and ``remove_analyzers`` mirror the server's import options (§2, §7.2);
    ``rewrite_indexes`` turns the index rewrite on (``docs/indexes.md``);
    ``revisions_enabled`` says whether the target database has a revisions configuration when the
    documents arrive (sinks set one up when the source holds legacy revisions or ``Raven/Versioning/``
    documents): only then does 4.x flag a 3.x ``Current`` document ``HasRevisions`` (§4);
    ``server_quirks`` turns the documented deviations off; ``now`` is the clock for expiration."""

    __slots__ = ("include_expired", "remove_analyzers", "revisions_enabled", "server_quirks", "now", "rewrite_indexes")

    def __init__(
        self,
        include_expired: bool = True,
        remove_analyzers: bool = False,
        revisions_enabled: bool = True,
        server_quirks: bool = False,
        now: Callable[[], _dt.datetime] | None = None,
        rewrite_indexes: bool = True,
    ) -> None:
        self.include_expired = include_expired
        self.remove_analyzers = remove_analyzers
        self.revisions_enabled = revisions_enabled
        self.server_quirks = server_quirks
        self.now = _utc_now if now is None else now
        self.rewrite_indexes = rewrite_indexes


class Converter:
    """Converts one source's records in order (see the module docstring)."""

    def __init__(self, options: ConvertOptions | None = None,
                 on_deviation: Callable[[Deviation], None] | None = None, rejects: Rejects | None = None) -> None:
        """*rejects*: a document the conversion refuses (a last-modified or collection of the wrong
        form, ...) is written there and skipped while ``--max-rejects`` allows (docs/reliability.md)."""
        self.options = options or ConvertOptions()
        self.rejects = rejects
        self.on_deviation = on_deviation
        self.deviation_counts: Counter[str] = Counter()
        self.documents = DocumentConverter(self.options.include_expired, self.options.server_quirks,
                                           self.options.now, self._deviate, self.options.revisions_enabled)
        self._section: tuple[str, str] | None = None
        self._index = -1
        self.sample = CollectionSample()
        self._rewritten: set[str] = set()
        self._identities: dict[str, int] = {}  # the largest value of each identity so far (§8)

    def _deviate(self, deviation: Deviation) -> None:
        self.deviation_counts[deviation.code] += 1
        if self.on_deviation is not None:
            self.on_deviation(deviation)

    def _track_section(self, record: Record) -> None:
        """A new section starts when the section name or the source changes, or the index restarts (§2)."""
        pos = record.position
        key = (pos.source, pos.section)
        if key != self._section or pos.index <= self._index:
            self._section = key
            self.documents.new_section()
        self._index = pos.index

    def convert(self, record: Record | DocumentRun | AttachmentRun) -> Iterable[Converted]:
        self._track_section(record)
        if isinstance(record, Document):
            try:
                doc = self.documents.convert(record)
            except SourceError as exc:
                if self.rejects is None or not self.rejects.allows_one_more():
                    raise
                self.rejects.add("bad-document", exc.reason, record.position, record.id, record.data)
                return ()
            if self.sample.active and not isinstance(doc, Skipped) and doc.revision_of is None:
                self.sample.observe(doc.id, doc.collection, doc.data)
            return (doc,)
        if isinstance(record, DocumentRun):
            # Converted already (convert/docrun.py); only the section state follows it (§3.4).
            self._index = record.position.index + len(record) - 1
            self.sample.observe_run(record.results)
            return (self.documents.convert_run(record),)
        if isinstance(record, AttachmentRun):  # converted already (convert/attachrun.py)
            self._index = record.position.index + len(record) - 1
            return (record,)
        if isinstance(record, Attachment):
            out = convert_attachment(record)
            return (out,) if isinstance(out, Skipped) else out
        if isinstance(record, File):
            out = convert_file(record)
            return (out,) if isinstance(out, Skipped) else out
        if isinstance(record, DocumentDeletion):
            return (Delete4(record.key, record.position),)
        if isinstance(record, AttachmentDeletion):
            return (Delete4(FILES_PREFIX + record.key, record.position),)
        if isinstance(record, Index):
            want(record, self.sample)
            return (self.index(record),)
        if isinstance(record, Transformer):
            return (Skipped("transformer", record.name, "transformers do not exist in 4.x (docs/formats/import-4x.md §7.3)",
                            record.position),)
        if isinstance(record, Identity):
            return (self._identity(record),)
        raise TypeError(f"not a source record: {type(record).__name__}")

    def index(self, record: Index) -> Converted:
        """*record* converted with what the documents seen so far say (a sink that sends indexes
        after the documents calls this again then: the rewrite's collections come from them).
        A rewrite the server would not make is the ``index-rewrite`` deviation (docs/deviations.md);
        ``server_quirks`` turns it off."""
        rewrite = self.options.rewrite_indexes and not self.options.server_quirks
        out = convert_index(record, self.options.remove_analyzers, rewrite, self.sample)
        done = getattr(out, "rewrite", None)
        if done is not None and out.name not in self._rewritten:
            self._rewritten.add(out.name)
            self._deviate(Deviation("index-rewrite", out.name, None, done.rules))
        return out

    def _identity(self, identity: Identity) -> Identity4 | Skipped:
        """§8: stored lower-cased; the server drops integer-valued identities (we keep them). The value
        is the largest this source has given the identity so far: the server's imports of the dumps
        of an incremental export one by one keep the larger value, and one import of them all would
        keep the last."""
        name = identity.key.lower()
        if not identity.value_was_string:
            if self.options.server_quirks:
                return Skipped("identity", identity.key, "integer value: the 4.x import drops it (docs/formats/import-4x.md §8)",
                               identity.position)
            self._deviate(Deviation("identity-integer", name, None, identity.value))
        value = self._identities[name] = max(identity.value, self._identities.get(name, identity.value))
        return Identity4(name, value, identity.position)

    def convert_all(self, records: Iterable[Record]) -> Iterable[Converted]:
        """Every converted record of *records*, in order."""
        for record in records:
            yield from self.convert(record)
