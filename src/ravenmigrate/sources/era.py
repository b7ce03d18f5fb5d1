"""Which RavenDB version wrote an export, from its key order and record shapes.

Evidence (docs/formats/dumps-3x.md §2, §3.2-§3.6, §10, §12): 1.x writes ``Indexes, Docs`` (later
``Attachments``) with lower-case Guid etags and ``Last-Modified`` without ``Z``; 2.0 adds
``Attachments``; 2.5 adds ``Transformers``; 3.0 before 2016 adds ``Identities`` after them;
3.0 from 2016 and 3.5 write ``Docs`` first; 3.5 index definitions carry ``IndexVersion``/
``SuggestionsOptions`` and transformers ``TransformerVersion``/``Temporary``. StorageExporter
writes ``Indexes, Docs[, Attachments], Transformers, Identities`` with ``Identities`` always
empty and documents in storage (not etag) order; its ``--RavenFS`` mode writes only
``Attachments`` with ``Etag: null``.
"""

from __future__ import annotations

import re
from itertools import repeat
from pathlib import Path
from typing import Any

from ..records import Attachment, Document, Identity, Index, Transformer

ERAS = ("1.x", "2.x", "2.5", "3.0", "3.5", "StorageExporter", "unknown")
# A reader shows the first FULL_SAMPLE documents of a file, then every SAMPLE_EVERY-th. What tells the
# eras apart shows early: 1.x etags and dates are on every document, and StorageExporter's etag descents
# recur through its files (it writes in storage, not etag, order). 10 000 documents took 6 ms of
# converting a 20 MB dump; 1 000 take 0.6.
FULL_SAMPLE = 1_000
SAMPLE_EVERY = 64
_STR_OR_NONE = frozenset({str, type(None)})
_GUID_ETAG = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Evidence:
    """Collects what a reader sees; :meth:`era` names the writer."""

    def __init__(self) -> None:
        self.files = 0
        self.keys: list[str] = []
        self.bom = False
        self.lower_guid_etags = 0
        self.zoneless_last_modified = 0
        self.documents = 0
        self.etag_descents = 0
        self._last_etag: str | None = None
        self.index_definitions = 0
        self.index_versioned = 0
        self.index_with_id = 0
        self.transformers_35 = 0
        self.identities = 0
        self.attachments = 0
        self.attachments_null_etag = 0

    def file(self, path: Path, stream) -> None:
        self.files += 1

    def section(self, name: str) -> None:
        if self.files <= 1:
            self.keys.append(name)

    def record(self, record) -> None:
        if isinstance(record, Document):
            self._document(record.metadata)
        elif isinstance(record, Index) and record.definition is not None:
            self.index_definitions += 1
            d = record.definition
            self.index_versioned += "IndexVersion" in d or "SuggestionsOptions" in d
            self.index_with_id += "IndexId" in d
        elif isinstance(record, Transformer) and record.definition is not None:
            d = record.definition
            self.transformers_35 += "TransformerVersion" in d or "Temporary" in d
        elif isinstance(record, Identity):
            self.identities += 1
        elif isinstance(record, Attachment):
            self.attachments += 1
            self.attachments_null_etag += record.etag is None

    def _document(self, metadata: dict) -> None:
        self.document(metadata.get("@etag"), metadata.get("Last-Modified"))

    def sample(self, etags: list[Any], modified: list[Any]) -> None:
        """:meth:`document` for each ``etags[k], modified[k]`` (a run's sample), with the same counts.

        When no etag has a lower-case letter (every 2.x/3.x etag), each one goes to the descent
        check, which runs as C-level passes over the lists; otherwise the pairs go one by one."""
        strings = [e for e in etags if isinstance(e, str)]
        upper = list(map(str.upper, strings))
        if upper != strings:
            for etag, value in zip(etags, modified, strict=True):
                self.document(etag, value)
            return
        self.documents += len(etags)
        if upper:
            previous = upper[:-1] if self._last_etag is None else [self._last_etag, *upper[:-1]]
            self.etag_descents += sum(map(str.__lt__, upper[len(upper) - len(previous):], previous))
            self._last_etag = upper[-1]
        if set(map(type, modified)) <= _STR_OR_NONE and all(map(str.endswith, filter(None, modified), repeat("Z"))):
            return  # every value is None or ends with Z (the 3.x form): none is zoneless
        for value in modified:
            if isinstance(value, str) and not value.endswith("Z") and value[:4].isdigit() and "+" not in value[10:]:
                self.zoneless_last_modified += 1

    def document(self, etag, modified) -> None:
        """A document's ``@etag`` and ``Last-Modified`` metadata values (anything; only strings count)."""
        self.documents += 1
        if isinstance(etag, str):
            upper = etag.upper()
            if etag != upper and _GUID_ETAG.match(etag):
                self.lower_guid_etags += 1
            elif self._last_etag is not None and upper < self._last_etag:
                self.etag_descents += 1
            self._last_etag = upper
        if isinstance(modified, str) and modified[:4].isdigit() and not modified.endswith("Z") \
                and "+" not in modified[10:]:
            self.zoneless_last_modified += 1

    def era(self) -> str:
        keys = list(dict.fromkeys(self.keys))
        if not keys:
            return "unknown"
        if keys == ["Attachments"] and self.attachments and self.attachments_null_etag == self.attachments:
            return "StorageExporter"
        if keys[0] != "Indexes":
            if self.index_versioned or self.transformers_35:
                return "3.5"
            return "3.0" if self.index_definitions else "3.5"
        if self.lower_guid_etags or (self.zoneless_last_modified and "Transformers" not in keys):
            return "1.x"
        if "Identities" in keys:
            if self.identities == 0 and ("Attachments" not in keys or self.etag_descents):
                return "StorageExporter"
            return "3.0"
        if "Transformers" in keys:
            return "3.0" if self.index_with_id else "2.5"
        if "Attachments" in keys:
            return "2.x"
        return "1.x"
