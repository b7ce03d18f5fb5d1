"""What to migrate: collections, item types, id prefixes, the transform script.

A :class:`Selector` sits between the converter and a sink (``load`` and ``convert`` alike): it
takes each source record with its converted records and returns what the sink should write.
Nothing it leaves out is silent: ``filtered`` counts every item by kind and reason, for the
summary and the report.

- ``collections`` / ``exclude_collections``: 4.x collections of the converted documents (compared
  case-insensitively, as 4.x compares them, docs/formats/import-4x.md §3.1 step 9), revisions
  included; legacy attachments are documents of ``@files``. ``Raven/Hilo/<name>`` (``@hilo``) follows
  the collection it serves, as the 3.x smuggler's collection filter keeps it
  (docs/formats/dumps-3x.md §8).
- ``types``: documents, revisions, attachments (legacy attachments and RavenFS files, with their
  ``@files`` documents), indexes, identities, deletions.
- ``id_prefix_map``: ``(old, new)`` prefixes of document ids (first match, case-insensitive), for
  documents, their revisions, document deletions and identities; legacy attachments keep their
  ``files/{Key}`` ids, and references inside documents are not rewritten.
- ``transform``: the script (:mod:`.transform`) on documents and legacy revisions, never on the
  ``@files`` documents of legacy attachments (the server patches only the ``Docs`` section).
  ``transform_revisions_only``: the import transport, whose server patches the documents itself
  but receives revisions in a 4.x section it does not patch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..fields import Fields
from ..records import (
    ITEM_TYPES,
    Attachment,
    AttachmentDeletion,
    AttachmentPut4,
    Delete4,
    Document4,
    DocumentRun,
    File,
    Identity4,
    Index4,
    Position,
)
from .transform import TransformScript, collection_of

TYPES = ITEM_TYPES
HILO = "raven/hilo/"


class Selection(Fields):
    __slots__ = ("collections", "exclude_collections", "types", "id_prefix_map", "transform")

    def __init__(self, collections: tuple[str, ...] = (), exclude_collections: tuple[str, ...] = (),
                 types: tuple[str, ...] = TYPES, id_prefix_map: tuple[tuple[str, str], ...] = (),
                 transform: TransformScript | None = None) -> None:
        unknown = set(types) - set(TYPES)
        if unknown:
            raise ValueError(f"unknown item types {sorted(unknown)} (expected some of {', '.join(TYPES)})")
        self.collections = tuple(collections)
        self.exclude_collections = tuple(exclude_collections)
        self.types = tuple(types)
        self.id_prefix_map = tuple(id_prefix_map)
        self.transform = transform

    @property
    def everything(self) -> bool:
        """True when the selection keeps every item unchanged (the sinks then skip the selector)."""
        return (not self.collections and not self.exclude_collections and set(self.types) == set(TYPES)
                and not self.id_prefix_map and self.transform is None)


class Selector:
    def __init__(self, selection: Selection, transform_revisions_only: bool = False) -> None:
        self.s = selection
        self.include = {c.lower() for c in selection.collections}
        self.exclude = {c.lower() for c in selection.exclude_collections}
        self.types = set(selection.types)
        self.transform = selection.transform
        self.transform_revisions_only = transform_revisions_only
        self.filtered: Counter[str] = Counter()

    # -- rules ------------------------------------------------------------------------------
    def _collection_kept(self, collection: str, doc_id: str) -> bool:
        name = collection.lower()
        if name == "@hilo" and doc_id.lower().startswith(HILO) and "@hilo" not in self.include | self.exclude:
            name = doc_id[len(HILO):].lower()
        if self.include and name not in self.include:
            return False
        return name not in self.exclude

    def rename(self, doc_id: str) -> str:
        lower = doc_id.lower()
        for old, new in self.s.id_prefix_map:
            if lower.startswith(old.lower()):
                return new + doc_id[len(old):]
        return doc_id

    def _drop(self, kind: str, reason: str, n: int = 1) -> None:
        self.filtered[f"{kind} ({reason})"] += n

    # -- records ----------------------------------------------------------------------------
    def select(self, record: Any, converted: list[Any]) -> list[Any]:
        """The converted records of *record* the sink should write, in order."""
        if isinstance(record, Attachment | File):
            return self._attachment(converted)
        out: list[Any] = []
        for conv in converted:
            if isinstance(conv, DocumentRun):
                out.extend(self._run(conv))
            elif isinstance(conv, Document4):
                doc = self._document(conv)
                if doc is not None:
                    out.append(doc)
            elif isinstance(conv, Delete4):
                if "deletions" not in self.types:
                    self._drop("deletion", "--types")
                    continue
                out.append(conv if isinstance(record, AttachmentDeletion) else conv.replace(id=self.rename(conv.id)))
            elif isinstance(conv, Index4):
                if "indexes" in self.types:
                    out.append(conv)
                else:
                    self._drop("index", "--types")
            elif isinstance(conv, Identity4):
                if "identities" in self.types:
                    out.append(conv.replace(name=self.rename(conv.name).lower()))
                else:
                    self._drop("identity", "--types")
            else:
                out.append(conv)
        return out

    def _attachment(self, converted: list[Any]) -> list[Any]:
        if not any(isinstance(c, AttachmentPut4) for c in converted):
            return converted  # Skipped as the import skips it
        if "attachments" not in self.types:
            self._drop("attachment", "--types")
            return []
        doc = next(c for c in converted if isinstance(c, Document4))
        if not self._collection_kept(doc.collection, doc.id):
            self._drop("attachment", "collection")
            return []
        return converted

    def _document(self, doc: Document4) -> Document4 | None:
        kind = "revision" if doc.revision_of is not None else "document"
        if kind + "s" not in self.types:
            self._drop(kind, "--types")
            return None
        if not self._collection_kept(doc.collection, doc.revision_of or doc.id):
            self._drop(kind, "collection")
            return None
        if self.s.id_prefix_map:
            doc = doc.replace(id=self.rename(doc.id),
                              revision_of=None if doc.revision_of is None else self.rename(doc.revision_of))
        if self.transform is not None and (kind == "revision" or not self.transform_revisions_only):
            (data,) = self.transform.apply([doc.id], [doc.data])
            if data is None:
                self._drop(kind, "transform script: skip")
                return None
            doc = doc.replace(data=data, collection=collection_of(data))
        return doc

    def _run(self, run: DocumentRun) -> list[Any]:
        if "documents" not in self.types:
            self._drop("document", "--types", len(run))
            return []
        results = run.results
        keep = [k for k, r in enumerate(results) if self._collection_kept(r[2], r[0])]
        if len(keep) < len(results):
            self._drop("document", "collection", len(results) - len(keep))
        if self.s.id_prefix_map:
            results = [(self.rename(r[0]),) + r[1:] for r in results]
        if self.transform is not None and not self.transform_revisions_only:
            every = run.documents()
            docs = [every[k].replace(id=results[k][0]) for k in keep]
            patched = self.transform.apply([d.id for d in docs], [d.data for d in docs])
            out = []
            for doc, data in zip(docs, patched, strict=True):
                if data is None:
                    self._drop("document", "transform script: skip")
                else:
                    out.append(doc.replace(data=data, collection=collection_of(data)))
            return out
        if len(keep) == len(results) and results is run.results:
            return [run]
        return _subruns(run, results, keep)


def _subruns(run: DocumentRun, results: list[Any], keep: list[int]) -> list[DocumentRun]:
    """*run* with only the *keep* documents: one run per stretch of consecutive kept documents, each
    with the position of its first document."""
    out: list[DocumentRun] = []
    start = 0
    while start < len(keep):
        end = start
        while end + 1 < len(keep) and keep[end + 1] == keep[end] + 1:
            end += 1
        first, last = keep[start], keep[end] + 1
        part = results[first:last]
        p = run.position
        position = p if first == 0 else Position(p.source, p.section, p.index + first, run.offsets[first], p.key)
        out.append(DocumentRun(part, position, run.offsets[first:last], sum(r[3] is None for r in part)))
        start = end + 1
    return out
