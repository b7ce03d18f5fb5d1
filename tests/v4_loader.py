"""A minimal loader private to the tests: applies converted records to a 4.x database.

It writes them as a 4.x dump (``BuildVersion`` 41001) and feeds it to the server's own
``/smuggler/import`` (target-4x.md §11), which keeps ``@last-modified``, flags and the ``RV:``
change vectors of revisions. Legacy attachments travel as a legacy ``Attachments`` section
(accepted in a 4.x dump, §11.1) rebuilt from the converted ``files/{Key}`` document and its
attachment, because the 4.x document reader would strip keys inside
``@legacy-attachment-metadata``. It exists only until the real sinks (helpers "load", "dump4")
land; it is not part of the package.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ravenmigrate.convert.jsonbytes import dumps
from ravenmigrate.records import AttachmentPut4, Converted, Delete4, Document4, Identity4, Index4, Skipped
from ravenmigrate.sinks.server.client import RavenClient

IMPORT_OPTIONS = {"IncludeExpired": True, "OperateOnTypes": (
    "Documents, RevisionDocuments, Indexes, Identities, Tombstones, LegacyAttachments, Conflicts, "
    "CompareExchange, LegacyDocumentDeletions, LegacyAttachmentDeletions, Counters")}


def _document(doc: Document4, revision: bool) -> bytes:
    """The 4.x dump form: the converted object with ``@id``, ``@last-modified`` (and revision keys) added."""
    obj = json.loads(doc.data, parse_float=Decimal)
    meta = obj.setdefault("@metadata", {})
    meta["@id"] = doc.revision_of if revision else doc.id
    if doc.last_modified is not None:
        meta["@last-modified"] = doc.last_modified
    if revision:
        meta["@change-vector"] = doc.change_vector
    return dumps(obj)


class _Import:
    """One import request: a list of ``(section, [item bytes])`` in order."""

    def __init__(self, skip_revision_creation: bool) -> None:
        self.skip = skip_revision_creation
        self.sections: list[tuple[str, list[bytes]]] = []
        self._docs_have_last_modified = False

    def add(self, section: str, item: bytes, last_modified: str | None = "x") -> None:
        new = not self.sections or self.sections[-1][0] != section
        if section == "Docs" and not new and last_modified is None and self._docs_have_last_modified:
            new = True  # a 4.x reader carries the previous last-modified over (§3.4): start a new section
        if new:
            self.sections.append((section, []))
            self._docs_have_last_modified = False
        self.sections[-1][1].append(item)
        if section == "Docs" and last_modified is not None:
            self._docs_have_last_modified = True

    def payload(self) -> bytes:
        out = io.BytesIO()
        out.write(b'{"BuildVersion":41001')
        for name, items in self.sections:
            out.write(b',"' + name.encode() + b'":[' + b",".join(items) + b"]")
        out.write(b"}")
        return gzip.compress(out.getvalue(), 1)


def load(client: RavenClient, database: str, converted: Iterable[Converted]) -> list[Any]:
    """Apply *converted* to *database*; returns the SmugglerResult of each import request."""
    imports: list[_Import] = []

    def current(skip: bool) -> _Import:
        if not imports or imports[-1].skip != skip:
            imports.append(_Import(skip))
        return imports[-1]

    pending_files: dict[str, Document4] = {}
    for rec in converted:
        if isinstance(rec, Document4):
            if rec.revision_of is not None:
                current(True).add("RevisionDocuments", _document(rec, True))
            elif rec.collection == "@files":
                pending_files[rec.id] = rec
            else:
                current("HasRevisions" in rec.flags).add("Docs", _document(rec, False), rec.last_modified)
        elif isinstance(rec, AttachmentPut4):
            files_doc = pending_files.pop(rec.document_id)
            legacy = json.loads(files_doc.data, parse_float=Decimal)["@metadata"]["@legacy-attachment-metadata"]
            item = {"Key": rec.name, "Metadata": legacy, "Data": base64.b64encode(rec.data).decode()}
            current(False).add("Attachments", dumps(item))
        elif isinstance(rec, Delete4):
            current(False).add("DocsDeletions", json.dumps({"Key": rec.id}, ensure_ascii=False).encode())
        elif isinstance(rec, Index4):
            entry = {"Type": rec.definition["Type"], "IndexDefinition": rec.definition}
            current(False).add("Indexes", json.dumps(entry, ensure_ascii=False).encode())
        elif isinstance(rec, Identity4):
            entry = {"Key": rec.name, "Value": str(rec.value)}
            current(False).add("Identities", json.dumps(entry, ensure_ascii=False).encode())
        elif not isinstance(rec, Skipped):
            raise TypeError(type(rec).__name__)
    if pending_files:
        raise AssertionError(f"files documents without their attachment: {sorted(pending_files)}")
    results = []
    for imp in imports:
        options = dict(IMPORT_OPTIONS, SkipRevisionCreation=imp.skip)
        results.append(client.smuggler_import(database, [imp.payload()], options))
    return results
