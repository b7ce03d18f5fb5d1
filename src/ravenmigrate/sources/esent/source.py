"""``EsentSource``: a RavenDB 2.x/3.x Esent data directory or backup read as export records.

Records come in export order (``Docs``, ``Attachments``, ``Indexes``, ``Transformers``,
``Identities``) like :class:`ravenmigrate.sources.voron.VoronSource`, with the same bundle options.
A database that was not shut down cleanly (every backup) is recovered first by replaying its ESE
logs in memory (:mod:`.recovery`); ``force_dirty`` reads the pages alone and says what may be
missing (docs/esent.md "What is refused").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...codecs.document import EncryptionSettings, decode_document
from ...errors import UnsupportedSource
from ...records import SECTIONS, Finding, Position, Record
from ...rejects import Rejects
from ..bundles import check_bundles
from ..indexdefs import definitions
from .files import is_esent_dir, locate, zip_is_esent
from .recovery import EsentStore
from .tables import attachments, details, documents, identities, schema_before, stored_body

VERIFICATION_KEY = "Raven/Encryption/Verification"
_ORDER = ("Docs", "Attachments", "Indexes", "Transformers", "Identities")


class EsentSource:
    """Read an Esent store without writing to it (options as :class:`VoronSource`, plus *force_dirty*)."""

    kind = "esent"

    def __init__(self, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
                 compression: bool | None = None, encryption: EncryptionSettings | None = None,
                 force_dirty: bool = False, rejects: Rejects | None = None) -> None:
        self.path = str(path)
        self.rejects = rejects
        self.journals_path = journals_path
        self.compression = compression
        self.encryption = encryption
        self.force_dirty = force_dirty
        self.findings: list[Finding] = []
        self.info: dict[str, Any] = {}
        self.files = [self.path]
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self._total = 0
        self._open: list[Iterator[Record]] = []

    @property
    def era(self) -> str:
        """From the storage schema (``details.schema_version``): 4.x is RavenDB 2.x, 5.x is RavenDB 3.x."""
        version = str((self.info.get("details") or {}).get("schema_version") or "")
        if version.startswith("4."):
            return f"2.x Esent (schema {version})"
        if version.startswith("5."):
            return f"3.x Esent (schema {version})"
        return "Esent"

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.code.startswith("warn")]

    def open(self) -> EsentStore:
        """The recovered store (logs replayed in memory unless *force_dirty*); close it when done."""
        return EsentStore.open(self.path, journals_path=self.journals_path, force_dirty=self.force_dirty)

    def records(self, after: Position | None = None) -> Iterator[Record]:
        gen = self._records(after)
        self._open.append(gen)
        return gen

    def fraction(self) -> float | None:
        if not self._total:
            return None
        return min(1.0, sum(self.counts.values()) / self._total)

    def close(self) -> None:
        while self._open:
            self._open.pop().close()

    def _records(self, after: Position | None) -> Iterator[Record]:
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.findings = []
        with self.open() as store:
            self._describe(store)
            docs_table = store.table("documents")
            self._check_bundles(store, docs_table)

            def decode(stored: bytes, key: str) -> bytes:
                return decode_document(stored, key, compression=self.compression, encryption=self.encryption,
                                       path=self.path)

            done = -1 if after is None else _ORDER.index(after.section)
            skip = after.index + 1 if after is not None and after.section == "Docs" else 0
            readers = (
                (0, lambda: documents(docs_table, decode, self.path, skip=skip,
                                      oadate=schema_before(self.info["details"].get("schema_version"), 4, 3),
                                      rejects=self.rejects)),
                (1, lambda: attachments(store.tables.get("files"), self.path, self.rejects)),
                (3, lambda: definitions(store.files.index_definitions, self.path)),
                (4, lambda: identities(store.tables.get("identity_table"), self.path, self.rejects)),
            )
            for last, reader in readers:
                if last < done:
                    continue
                for record in reader():
                    section = record.position.section
                    rank = _ORDER.index(section)
                    if rank < done or (rank == done and section != "Docs" and record.position.index <= after.index):
                        continue
                    self.counts[section] += 1
                    yield record

    def _describe(self, store: EsentStore) -> None:
        if "documents" not in store.tables:
            if store.files.ravenfs or "pages" in store.tables:
                raise UnsupportedSource("an Esent RavenFS file system (Data.ravenfs), not a database", path=self.path)
        info = details(store.tables.get("details"))
        self._total = int(info.get("document_count") or 0) + sum(
            1 for n in store.files.index_definitions if n.endswith((".index", ".transform")))
        self.info = {"details": info, "database_document": store.files.side_document, **store.describe()}
        self.findings.extend(store.findings)
        if not store.files.index_definitions:
            self.findings.append(Finding("warn-no-index-definitions",
                                         "no IndexDefinitions folder beside the storage: no index or "
                                         "transformer definitions will be read"))

    def _check_bundles(self, store: EsentStore, docs_table) -> None:
        finding = check_bundles(store.files.side_document, stored_body(docs_table, VERIFICATION_KEY),
                                self.encryption, self.path)
        if finding is not None:
            self.findings.append(finding)

def open_esent(path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
               compression: bool | None = None, encryption: EncryptionSettings | None = None,
               force_dirty: bool = False, rejects: Rejects | None = None, **_other: Any) -> EsentSource | None:
    """The ``open_source`` probe: an :class:`EsentSource` when *path* is Esent storage, else ``None``."""
    p = Path(path)
    if is_esent_dir(p) or (p.is_file() and zip_is_esent(p)):
        return EsentSource(p, journals_path=journals_path, compression=compression, encryption=encryption,
                           force_dirty=force_dirty, rejects=rejects)
    return None


__all__ = ["EsentSource", "open_esent", "locate"]
