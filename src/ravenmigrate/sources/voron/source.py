"""``VoronSource``: a RavenDB 3.x Voron data directory or backup read as export records.

Records come in the order of a 3.5 export (docs/formats/dumps-3x.md §2): ``Docs``, ``Attachments``,
``Indexes``, ``Transformers``, ``Identities``. Bodies go through the bundle codec chain
(docs/formats/dumps-3x.md §11.1, docs/formats/bundles.md §2.6). Before the first record, the encryption key is checked
against ``Raven/Encryption/Verification`` (docs/formats/bundles.md §2.3 "Known plaintext").
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
from .environment import VoronEnvironment
from .files import is_voron_dir, zip_is_voron
from .tables import attachments, check_schema_version, details, document_body, documents, identities

VERIFICATION_KEY = "raven/encryption/verification"
_ORDER = ("Docs", "Attachments", "Indexes", "Transformers", "Identities")


def _key(after: Position | None, section: str) -> bytes | None:
    if after is None or after.section != section or after.key is None:
        return None
    return after.key.encode("utf-8")


class VoronSource:
    """Read a Voron data directory, backup directory or backup ``.zip`` without writing to it.

    *compression*: ``None`` auto-detects the ``Cmpr`` prefix, ``True``/``False`` as the 4.0
    migration dialog's option. *encryption*: the database's encryption settings or ``None``.
    """

    era = "3.x Voron"
    kind = "voron"

    def __init__(self, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
                 compression: bool | None = None, encryption: EncryptionSettings | None = None,
                 rejects: Rejects | None = None) -> None:
        self.path = str(path)
        self.rejects = rejects
        self.journals_path = journals_path
        self.compression = compression
        self.encryption = encryption
        self.findings: list[Finding] = []
        self.info: dict[str, Any] = {}
        self.files = [self.path]
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self._total = 0
        self._open: list[Iterator[Record]] = []

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.code.startswith("warn")]

    def open(self) -> VoronEnvironment:
        """The opened storage (journals replayed in memory); close it when done."""
        return VoronEnvironment.open(self.path, journals_path=self.journals_path)

    def records(self, after: Position | None = None) -> Iterator[Record]:
        """Every document, attachment, index, transformer and identity of the storage.

        With *after* (a position this source yielded), only the records after it: documents resume
        by storage key, the other sections by record index.
        """
        gen = self._records(after)
        self._open.append(gen)
        return gen

    def fraction(self) -> float | None:
        """Share of the storage's records read so far (from the trees' entry counts), for progress."""
        if not self._total:
            return None
        return min(1.0, sum(self.counts.values()) / self._total)

    def close(self) -> None:
        """Stop every unfinished :meth:`records` iteration and release the storage."""
        while self._open:
            self._open.pop().close()

    def _records(self, after: Position | None) -> Iterator[Record]:
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.findings = []
        with self.open() as env:
            self._describe(env)
            self._check_bundles(env)

            def decode(stored: bytes, key: str) -> bytes:
                return decode_document(stored, key, compression=self.compression, encryption=self.encryption,
                                       path=self.path)

            done = -1 if after is None else _ORDER.index(after.section)
            # (last section a reader yields, reader); readers wholly before *after* are not run.
            readers = (
                (0, lambda: documents(env, decode, after=_key(after, "Docs"), rejects=self.rejects)),
                (1, lambda: attachments(env, self.rejects)),
                (3, lambda: definitions(env.files.index_definitions, self.path)),
                (4, lambda: identities(env, self.rejects)),
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

    def _describe(self, env: VoronEnvironment) -> None:
        trees = env.trees
        if "documents" not in trees and "files" in trees:
            raise UnsupportedSource("Voron storage of a RavenFS file system, not a database", path=self.path)
        if check_schema_version(env) is None:
            self.findings.append(Finding("warn-no-schema-version", (
                "the details tree holds no schema_version (RavenDB 3.x itself refuses to open such a storage); "
                "the tables are read as every 3.0-3.5 schema (1.0-1.5) lays them out")))
        replay = env.replay
        self._total = sum(trees[t].entries for t in ("documents", "attachments", "general") if t in trees) + sum(
            1 for n in env.files.index_definitions if n.endswith((".index", ".transform")))
        self.info = {
            "header": env.header.name,
            "journals": list(replay.journals),
            "transactions_replayed": replay.transactions,
            "transaction_range": [replay.first_tx, replay.last_tx],
            "pages_from_journals": len(replay.pages),
            "trees": len(trees),
            "details": details(env),
            "database_document": env.files.database_document,
        }
        self.findings.append(Finding("voron-replay", (
            f"replayed {replay.transactions} journal transactions "
            f"({replay.first_tx}..{replay.last_tx}) from {', '.join(replay.journals) or 'no journal'}; "
            f"{len(replay.pages)} pages read from journals"), extra=dict(self.info)))
        if not env.files.index_definitions:
            self.findings.append(Finding("warn-no-index-definitions",
                                         "no IndexDefinitions folder beside the storage: no index or "
                                         "transformer definitions will be read"))

    def _check_bundles(self, env: VoronEnvironment) -> None:
        """Refuse before any record when the database is encrypted and the key is missing or wrong."""
        finding = check_bundles(env.files.database_document, document_body(env, VERIFICATION_KEY),
                                self.encryption, self.path)
        if finding is not None:
            self.findings.append(finding)

def open_voron(path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
               compression: bool | None = None, encryption: EncryptionSettings | None = None,
               rejects: Rejects | None = None, **_other: Any) -> VoronSource | None:
    """The ``open_source`` probe: a :class:`VoronSource` when *path* is Voron storage, else ``None``.

    Recognises a data directory (``Raven.voron`` or ``headers.one``), a backup directory
    (``RavenDB.Voron.Backup``) and a zip holding either (docs/formats/storage-3x.md §1); a RavenFS backup
    (``Filesystem.Document``) is opened by :mod:`ravenmigrate.sources.ravenfs`, whose opener runs
    first. Options meant for other sources (``compact``, ``salvage``) are ignored: bodies are always
    compact here.
    """
    p = Path(path)
    if is_voron_dir(p) or (p.is_file() and zip_is_voron(p)):
        return VoronSource(p, journals_path=journals_path, compression=compression, encryption=encryption,
                           rejects=rejects)
    return None
