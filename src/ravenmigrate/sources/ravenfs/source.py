"""``RavenFSSource``: a RavenDB 3.x RavenFS file system (Voron storage) read as :class:`File` records.

Input forms are those of :mod:`ravenmigrate.sources.voron` (data directory, backup directory,
backup zip; journals replayed in memory). Every ``files`` row becomes a :class:`File` in storage
key order, tombstones and temporary files included: which of them 4.x keeps is the converter's
decision (``convert/files.py``, docs/ravenfs.md). The content of a file is read page by page
whenever a sink asks for it, so no file is ever held whole in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ...codecs.encryption import EncryptionSettings, decrypt_ravenfs_page
from ...errors import SourceError, WrongKeyError
from ...records import File, Finding, Position
from ..bundles import active_bundles
from ..voron.environment import VoronEnvironment
from ..voron.tables import details
from .storage import RavenFSStorage, is_ravenfs

SECTION = "Files"
VERIFICATION_CONFIG = "Raven/Encryption/Verification"


class RavenFSSource:
    """Read a RavenFS Voron data directory, backup directory or backup ``.zip`` without writing to it.

    *encryption*: the file system's Encryption bundle settings (pages are decrypted with the item
    key ``{AE63BE19}``, docs/bundles.md); *compression* is accepted for symmetry with databases
    and ignored: the Compression bundle never touches RavenFS.
    """

    era = "3.x RavenFS (Voron)"
    kind = "ravenfs-voron"

    def __init__(self, path: str | os.PathLike[str], *, journals_path: str | os.PathLike[str] | None = None,
                 encryption: EncryptionSettings | None = None, compression: bool | None = None) -> None:
        self.path = str(path)
        self.journals_path = journals_path
        self.encryption = encryption
        self.findings: list[Finding] = []
        self.info: dict[str, Any] = {}
        self.files = [self.path]
        self.counts: dict[str, int] = {SECTION: 0}
        self.configs: list[tuple[str, Any]] = []
        self._total = 0
        self._storages: list[RavenFSStorage] = []

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.code.startswith("warn")]

    def records(self, after: Position | None = None) -> Iterator[File]:
        """Every file row; with *after*, the rows after that position's index."""
        return self._records(-1 if after is None else after.index)

    def fraction(self) -> float | None:
        return min(1.0, self.counts[SECTION] / self._total) if self._total else None

    def close(self) -> None:
        """Release the storage (file contents can no longer be read)."""
        while self._storages:
            self._storages.pop().close()

    def _records(self, after: int) -> Iterator[File]:
        self.counts = {SECTION: 0}
        self.findings = []
        env = VoronEnvironment.open(self.path, journals_path=self.journals_path)
        try:
            if not is_ravenfs(env):
                raise SourceError("Voron storage without the RavenFS tables (files, usage, pages_data): "
                                  "not a file system", path=self.path)
            decode = None
            if self.encryption is not None:
                settings = self.encryption

                def decode(stored: bytes, where: str) -> bytes:
                    return decrypt_ravenfs_page(settings, stored, path=f"{self.path}: {where}")
            storage = RavenFSStorage(env, decode)
        except BaseException:
            env.close()
            raise
        self._storages.append(storage)
        self.configs = list(storage.configs())
        self._describe(env, storage)
        self._check_encryption()
        for index, row in enumerate(storage.files()):
            if index <= after:
                continue
            self.counts[SECTION] += 1
            pos = Position(source=self.path, section=SECTION, index=index, offset=-1,
                           key=row.storage_key.decode("utf-8", "replace"))
            content = storage.content(row) if row.complete else None
            yield File(row.name.lstrip("/"), content, row.metadata, row.etag, pos)

    def _describe(self, env: VoronEnvironment, storage: RavenFSStorage) -> None:
        replay = env.replay
        self._total = storage.files_tree.root.entries
        document = env.files.database_document
        self.info = {
            "header": env.header.name,
            "journals": list(replay.journals),
            "transactions_replayed": replay.transactions,
            "pages_from_journals": len(replay.pages),
            "trees": len(env.trees),
            "details": details(env),
            "filesystem_document": document,
            "configurations": [name for name, _ in self.configs],
        }
        self.findings.append(Finding("voron-replay", (
            f"replayed {replay.transactions} journal transactions ({replay.first_tx}..{replay.last_tx}) from "
            f"{', '.join(replay.journals) or 'no journal'}; {len(replay.pages)} pages read from journals"),
            extra=dict(self.info)))
        self._configuration_finding()

    def _configuration_finding(self) -> None:
        if self.configs:
            self.findings.append(Finding("ravenfs-configuration", (
                f"{len(self.configs)} RavenFS configuration entries (synchronization state, sequences, backup "
                "status, ...) are not migrated: 4.x's migration reads only files (docs/ravenfs.md)"),
                extra={"configurations": [name for name, _ in self.configs]}))

    def _check_encryption(self) -> None:
        """An encrypted file system (bundle listed, or its verification config present) needs the key;
        the key itself is checked by the first page (every page starts with the item key)."""
        if self.encryption is not None:
            return
        marked = any(name.lower() == VERIFICATION_CONFIG.lower() for name, _ in self.configs)
        if marked or "Encryption" in active_bundles(self.info.get("filesystem_document")):
            raise WrongKeyError("the file system uses the Encryption bundle (Raven/ActiveBundles lists Encryption "
                                f"or the {VERIFICATION_CONFIG} configuration exists); pass --encryption-key BASE64 "
                                "with --encryption-algorithm and --encryption-bits", path=self.path)

