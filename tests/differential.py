"""The differential proof (issue 4): the server's own import of a 3.x dump (database A) against
ravenmigrate's conversion loaded into database B, compared with :mod:`ravenmigrate.verify.compare`."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from v4_loader import IMPORT_OPTIONS, load

from ravenmigrate.convert import Converter, ConvertOptions, Deviation
from ravenmigrate.convert.documents import needs_revisions as record_needs_revisions
from ravenmigrate.records import Document4, Record
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.verify.compare import Comparison, diff, normalize_document, read_state

MIGRATION_STATE = "raven/migration/status/"  # a live load's state document (docs/live3x.md)
DEVIATIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "deviations.md"
REVISIONS_CONFIG = {"Default": {"Disabled": False, "MinimumRevisionsToKeep": None,
                                "MinimumRevisionAgeToKeep": None, "PurgeOnDelete": False}, "Collections": {}}


@dataclass
class Outcome:
    comparison: Comparison
    deviations: list[Deviation]
    converted: int
    files_checked: int

    def summary(self, name: str) -> str:
        c = self.comparison.counts
        return (f"{name}: compared {c['documents']} documents, {c['attachments']} attachments, "
                f"{c['revisions']} revisions, {c['identities']} identities, {c['indexes']} indexes, "
                f"{c['index_errors']} indexes with errors; {len(self.comparison.allowed)} documented deviations, "
                f"{len(self.comparison.failures)} failures")


def gzipped(path: Path) -> bytes:
    """The server wraps every file part in a gzip decompressor (target-4x.md §2)."""
    raw = path.read_bytes()
    return raw if raw[:2] == b"\x1f\x8b" else gzip.compress(raw, 1)


def documented_codes() -> set[str]:
    return set(re.findall(r"`([a-z-]+)`", DEVIATIONS_DOC.read_text(encoding="utf-8")))


def needs_revisions(records: list[Record]) -> bool:
    """Whether a user migrating this source enables revisions first (target-4x.md §4, the rule `load`
    applies): both A and B then get a configuration."""
    return any(record_needs_revisions(r) for r in records)


def load_with_sink(url: str, database: str, source: Path, pairs: list[tuple[Record, list]], workdir: Path) -> None:
    """The load helper's streamed-import transport, fed with our converted records."""
    from ravenmigrate.sinks.server.loader import Loader, LoadOptions

    options = LoadOptions(url, database, transport="import", checkpoint=workdir / f"{database}.checkpoint",
                          progress=False)
    Loader(str(source), options, log=lambda _msg: None, pairs=lambda: iter(pairs)).run()


def run(client: RavenClient, db_a: str, db_b: str, source: Path | list[Path], records: Iterable[Record],
        options: ConvertOptions | None = None, *, sink: str = "v4", url: str = "",
        imported_a: bool = False, load_b: Callable[[str], None] | None = None) -> Outcome:
    """Import *source* (one file, or the parts of a split export) into A with the server, load our
    conversion of *records* into B through *sink* (or *load_b*, given B's name: a whole ``load``
    from another source, such as a live 3.x server, whose migration state is left out), compare."""
    parts = source if isinstance(source, list) else [source]
    records = list(records)
    revisions = needs_revisions(records)
    options = (options or ConvertOptions()).replace(revisions_enabled=revisions)
    deviations: list[Deviation] = []
    converter = Converter(options, on_deviation=deviations.append)
    pairs = [(record, list(converter.convert(record))) for record in records]
    converted = [c for _, out in pairs for c in out]
    docs = [c for c in converted if isinstance(c, Document4)]
    revision_parents = {d.revision_of for d in docs if d.revision_of}
    if revisions:
        for db in (db_b,) if imported_a else (db_a, db_b):
            client.json("POST", f"/databases/{db}/admin/revisions/config", REVISIONS_CONFIG)
    if not imported_a:
        for part in parts:
            client.smuggler_import(db_a, [gzipped(part)], IMPORT_OPTIONS)
    if load_b is not None:
        load_b(db_b)
    elif sink == "v4":
        load(client, db_b, converted)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            load_with_sink(url, db_b, parts[0], pairs, Path(workdir))
    state_a = read_state(client, db_a, revision_ids=revision_parents)
    state_b = read_state(client, db_b, revision_ids=revision_parents)
    for doc_id in [i for i in state_b.documents if i.lower().startswith(MIGRATION_STATE)]:
        del state_b.documents[doc_id]
        state_b.stats["CountOfDocuments"] -= 1
        # with revisions enabled, 4.x keeps a revision of every put of it (docs/live3x.md)
        if kept := state_b.revisions.pop(doc_id, None):
            state_b.stats["CountOfRevisionDocuments"] -= len(kept)
    carried = {d.key for d in deviations if d.code == "last-modified-carry-over"}
    now_ids = {d.id for d in docs if d.last_modified is None and d.id not in carried}
    comparison = diff(state_a, state_b, deviations=deviations, ignore_last_modified=now_ids)
    files_checked = 0
    for d in docs:
        if d.collection == "@files" and d.id in state_a.documents:
            # the loader lets the server build @files documents; check ours against database A directly
            ours = normalize_document(json.loads(d.data, parse_float=Decimal))
            theirs = normalize_document(state_a.documents[d.id])
            theirs["@metadata"].pop("@id", None)
            if revisions:  # 4.x gave the new document a revision, hence HasRevisions (§4); not ours to write
                flags = [f for f in theirs["@metadata"]["@flags"].split(", ") if f != "HasRevisions"]
                theirs["@metadata"]["@flags"] = ", ".join(flags)
            assert ours == theirs, f"{d.id}: ours {ours} != server {theirs}"
            files_checked += 1
    return Outcome(comparison, deviations, len(converted), files_checked)
