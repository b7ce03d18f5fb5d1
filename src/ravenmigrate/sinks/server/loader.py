"""Load a source into a live RavenDB 4.x: read, convert, route to parallel streams, checkpoint.

The main thread reads source records and converts them (``ravenmigrate.convert``), turns each
converted record into transport items and routes them by document id to ``streams`` worker
threads (``ravenmigrate.sinks.server.streams``), each with its own connection. One-off steps run on the
main thread: the revisions configuration before the first revision-related document (docs/formats/import-4x.md
§4), indexes and identities after the documents (§7, §8: identities through a tiny legacy import,
the only way to store them exactly as the import does).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...convert.documents import needs_revisions
from ...errors import RavenMigrateError, ServerError
from ...progress import Progress, choose_mode
from ...records import Document4, DocumentRun, File, Identity4, Index, Index4, Skipped
from ...rejects import Rejects
from ...threads import responsive
from . import bulk_insert, create, preflight, revisions, smuggler
from .checkpoint import Checkpoint, CheckpointError
from .client import smuggler_options
from .http import PermanentError, Retry, TransientError
from .indexes import IndexOutcomes
from .jsonout import dumps
from .streams import END, Item, Limits, Stats, Stream, route
from .target import DEFAULT_TRANSPORT, TRANSPORTS, Target
from .throttle import Throttle
from .topology import Topology

BATCH_ITEMS = 256
BATCH_BYTES = 1 << 20


class LoadError(RavenMigrateError):
    """A load stopped; ``report`` holds what was done and ``checkpoint`` where to resume from."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class LoadOptions:
    """``convert``: ``ConvertOptions`` (expired documents, analyzers); ``selection``: what to migrate
    (``ravenmigrate.convert.selection``)."""

    url: str
    database: str
    transport: str = DEFAULT_TRANSPORT
    streams: int = 2
    create: bool = False
    resume: bool = False
    checkpoint: Path | None = None
    retry_for: float = 120.0
    limits: Limits = field(default_factory=Limits)
    compress: bool = False
    progress: bool | str | None = None
    progress_interval: float | None = None
    rate_limit: float | None = None
    convert: Any = None
    selection: Any = None
    max_bytes_per_s: float | None = None
    source_options: dict[str, Any] = field(default_factory=dict)
    wait_for_indexes: float | None = None  # seconds to wait for the indexes after the load (inf: no limit)
    rejects: Rejects | None = None  # bad source records and server-rejected documents (docs/reliability.md)
    target: Target | None = None  # TLS and further cluster URLs; default: plain *url*
    topology: Topology | None = None  # a topology already known (default: read from the server)
    single_node: bool = False  # write only to the given URL, never read the cluster topology
    replication_factor: int = 1  # --create: nodes of the new database group
    encrypted: bool = False  # --create: an encrypted database (https only)
    database_key: Path | None = None  # --encrypted: the key file (read, or generated and written)
    expected_list: Path | None = None  # write verify's expected entries there (verify.expected_list)


def default_checkpoint(report: str | None, database: str) -> Path:
    """Next to the report (``REPORT.checkpoint``), else ``ravenmigrate-load-DB.checkpoint`` here."""
    if report:
        return Path(str(report) + ".checkpoint")
    return Path(f"ravenmigrate-load-{database}.checkpoint")


def open_records(source: str, runs: bool = False, opened: list[Any] | None = None, **source_options: Any
                 ) -> tuple[Iterator[Any], Callable[[int], float | None], Callable[[], None]]:
    """(records, fraction read given the last record's offset, close) of a source opened with
    compact document bodies (``runs``: common documents come converted, ``DocumentRun``);
    *source_options* go to ``open_source`` (raw storage: journals path, bundle settings).
    The opened source is appended to *opened* when given (its ``findings`` go into reports)."""
    from ...sources import open_source
    from ...sources.stream import uncompressed_size

    src = open_source(source, compact=True, runs=runs, **source_options)
    if opened is not None:
        opened.append(src)
    close = getattr(src, "close", None) or (lambda: None)
    own = getattr(src, "fraction", None)
    if callable(own):
        return iter(src.records()), (lambda _offset: own()), close
    total = uncompressed_size(Path(source))
    return iter(src.records()), (lambda offset: min(offset / total, 1.0) if total else None), close


def scan_source(source: str, **source_options: Any) -> tuple[set[str] | None, bool]:
    """(the collections the source keeps revisions for, ``None`` when it has none; whether it has
    indexes): a read of the source without converting, for the pre-flight of a certificate that
    may not write the revisions configuration or create indexes."""
    records, _at, close = open_records(source, runs=True, **source_options)
    collections: set[str] | None = None
    has_indexes = False
    try:
        for record in records:
            if isinstance(record, Index):
                has_indexes = True
            elif needs_revisions(record):
                collections = collections or set()
                name = revisions.collection_of(record)
                if name:
                    collections.add(name)
    finally:
        close()
    return collections, has_indexes


Pairs = Iterator[tuple[Any, list[Any]]]


def converted_pairs(records: Iterator[Any], keep_runs: bool = False, options: Any = None,
                    rejects: Rejects | None = None, converter: Any = None) -> Pairs:
    """(source record, its converted records) for every record, through ``ravenmigrate.convert``
    (``keep_runs``: see :func:`convert`; *options*: ``ConvertOptions``; *rejects*: documents the
    conversion refuses go there while they allow; *converter*: one made by the caller instead)."""
    converter = converter or make_converter(options, rejects)
    for record in records:
        yield record, convert(converter, record, keep_runs)


def make_converter(options: Any = None, rejects: Rejects | None = None) -> Any:
    from ...convert import Converter

    return Converter(options, rejects=rejects)


def convert(converter: Any, record: Any, keep_runs: bool = False) -> list[Any]:
    """The converted records of *record*; a :class:`DocumentRun` the converter passes on (with the
    section's last-modified carry-over applied, §3.4) becomes its ``Document4`` records, unless
    ``keep_runs`` (the transports frame a run's documents without them: ``run_items``)."""
    out: list[Any] = []
    for converted in converter.convert(record):
        if isinstance(converted, DocumentRun) and not keep_runs:
            out.extend(converted.documents())
        else:
            out.append(converted)
    return out


class Loader:
    def __init__(self, source: str, options: LoadOptions, log: Callable[[str], None] | None = None,
                 pairs: Callable[[], Pairs] | None = None) -> None:
        """*pairs*, when given, replaces reading and converting *source* (the Python API's way to
        load records produced elsewhere); *source* then only names the load in checkpoints."""
        if options.transport not in TRANSPORTS:
            raise RavenMigrateError(f"unknown transport {options.transport!r} (expected one of {TRANSPORTS})")
        self.source = str(source)
        self._opened: list[Any] = []
        self.o = options
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.target = options.target or Target.parse(options.url)
        self.client = self.target.client()
        self.topology = None if options.single_node else (
            options.topology or Topology(self.target, options.database, self.log))
        self.counts: Counter[str] = Counter()
        self.skipped: list[dict[str, Any]] = []
        self.not_stored: Counter[str] = Counter()
        self.index_outcomes = IndexOutcomes()
        self.converter: Any = None
        self.timings: dict[str, float] = {}
        self.stats = Stats()
        self.revision_collections: set[str | None] = set()
        self.revisions_changes: list[str] = []
        self.import_sender = smuggler.ImportSender(options.database, import_options(options))
        self.pairs = pairs
        self.selector = _selector(options)
        self.rejects = options.rejects if options.rejects is not None else Rejects()
        self.throttle = Throttle(options.rate_limit, options.max_bytes_per_s)
        self.indexing: dict[str, Any] | None = None
        self.expected_list: Any = None  # verify.expected_list.ListWriter while the load writes one

    # -- set-up ------------------------------------------------------------------------------
    def _checkpoint(self) -> Checkpoint:
        path = self.o.checkpoint or default_checkpoint(None, self.o.database)
        if self.o.resume:
            if not path.exists():
                raise CheckpointError(f"--resume: no checkpoint at {path}")
            cp = Checkpoint.load(path)
            cp.check_matches(self.source, self.o.database, self.o.transport, selection_fingerprint(self.o.selection, self.o.convert))
            if cp.finished:
                self.log(f"checkpoint {path} says this load already finished; nothing to resume")
            return cp
        cp = Checkpoint(path, self.source, self.o.database, self.o.transport, self.o.streams,
                        selection=selection_fingerprint(self.o.selection, self.o.convert))
        cp._write()
        return cp

    def _preflight(self) -> None:
        """Check the server, the certificate's clearance and the database before anything is sent
        (``preflight``); a missing permission stops the load here, naming clearance and endpoint."""
        retry = Retry(self.o.retry_for, lambda e, d: self.log(f"{e}; retrying in {d:.1f} s"))
        facts = retry.run(lambda: preflight.inspect(self.target, self.o.database))
        for warning in facts.warnings:
            self.log(f"warning: {warning}")
        needs = preflight.Needs(create=self.o.create, encrypted=self.o.encrypted)
        if facts.database_exists and facts.access(self.o.database) != "Admin" and self.pairs is None:
            collections, has_indexes = scan_source(self.source, **self.o.source_options)
            if collections is not None:
                needs.revisions = revisions.merge(facts.revisions_config, collections)[0] is not None
            needs.admin_indexes = has_indexes and self.o.transport == "bulk-insert"
        problems = preflight.check(facts, needs)
        if problems:
            raise preflight.PreflightError(f"pre-flight of {self.target.describe()} (nothing was sent):\n  - "
                                           + "\n  - ".join(problems))
        self.facts = facts

    def _prepare_database(self) -> None:
        retry = Retry(self.o.retry_for, lambda e, d: self.log(f"{e}; retrying in {d:.1f} s"))
        if self.facts.database_exists:
            return
        if not self.o.create:
            raise RavenMigrateError(f"database {self.o.database!r} does not exist on {self.o.url} "
                                    f"(pass --create to create it)")
        if self.o.encrypted:
            create.encrypted_database(self.client, self.o.database, self.o.replication_factor,
                                      self.o.database_key, self.log)
        else:
            retry.run(lambda: create.database(self.client, self.o.database, self.o.replication_factor))
        self._wait_until_loaded()

    def _wait_until_loaded(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(ServerError):
                self.client.stats(self.o.database)
                return
            time.sleep(0.25)

    def _retry(self) -> Retry:
        """Retries of a one-off step on the main connection; after a failure it moves to the member
        the refreshed topology gives (as the streams do)."""
        def on_retry(err: Exception, delay: float) -> None:
            self.log(f"{err}; retrying in {delay:.1f} s")
            if self.topology is not None:
                url = self.topology.failover(0, self.client.url)
                if url != self.client.url:
                    self.client.close()
                    self.client = self.target.client(url)
        return Retry(self.o.retry_for, on_retry)

    def _enable_revisions(self, cp: Checkpoint, collection: str | None) -> None:
        """Legacy revisions need a revisions configuration before they are imported (docs/formats/import-4x.md §4):
        the collection *collection* is merged into the target's (``revisions.merge``), never
        replacing what the target has; what changed is said."""
        self.revision_collections.add(collection)
        wanted = {c for c in self.revision_collections if c}
        changes = self._retry().run(lambda: revisions.ensure(self.client, self.o.database, wanted))
        for change in changes:
            self.log(f"revisions configuration of {self.o.database}: {change}")
        self.revisions_changes.extend(changes)
        cp.mark("revisions")

    def _progress_mode(self) -> str:
        """``progress``: a mode of :mod:`ravenmigrate.progress`, False (off), True (the live line) or
        None (the live line on a terminal, plain lines otherwise)."""
        p = self.o.progress
        return choose_mode() if p is None else ("tty" if p else "off") if isinstance(p, bool) else p

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        with responsive():
            return self._run()

    def _run(self) -> dict[str, Any]:
        started = time.monotonic()
        self._preflight()
        self._prepare_database()
        if self.topology is not None:
            if not self.topology.nodes:  # a topology given is used until it fails
                Retry(self.o.retry_for, lambda e, d: self.log(f"{e}; retrying in {d:.1f} s")).run(self.topology.refresh)
            if self.topology.node_for(0) != self.client.url:  # one-off steps go to a member too
                self.client.close()
                self.client = self.target.client(self.topology.node_for(0))
        cp = self._checkpoint()
        self.checkpoint = cp
        failed = threading.Event()
        sender = (bulk_insert.BulkInsertSender(self.o.database, self.o.compress) if self.o.transport == "bulk-insert"
                  else self.import_sender)
        streams = [Stream(i, self.target, sender, cp, self.stats, self.o.limits, self.o.retry_for, failed, self.log,
                          rejects=self.rejects, topology=self.topology)
                   for i in range(cp.streams)]
        self.streams = streams
        error: BaseException | None = None
        self.live = None
        if self.pairs is None:
            records, at, close = open_records(self.source, runs=True, opened=self._opened, rejects=self.rejects,
                                              **self.o.source_options)
            self._prepare_live(self._opened[-1], cp)
            self.converter = make_converter(self.o.convert, self.rejects)
            pairs = converted_pairs(records, keep_runs=True, converter=self.converter)
        else:
            pairs, at, close = self.pairs(), (lambda _offset: None), (lambda: None)
        if self.o.expected_list is not None:
            try:
                self.expected_list = self._expected_list_writer()
            except BaseException:
                close()
                raise
        self._offset = 0

        def fraction() -> float | None:
            return at(self._offset)
        try:
            for s in streams:
                s.start()
            with Progress("load", lambda: {"documents": self.stats.documents, "bytes": self.stats.bytes,
                                           "fraction": fraction(), "retries": self.stats.retries},
                          mode=self._progress_mode(), interval=self.o.progress_interval):
                try:
                    globals_ = self._feed(pairs, streams, cp, failed)
                except BaseException as exc:  # noqa: BLE001 - stop the streams, then report it
                    error = exc
                for s in streams:
                    self._put(s, END, failed, force=True)
                for s in streams:
                    s.join()
            self.timings["documents_s"] = time.monotonic() - started
            stream_error = next((s.error for s in streams if s.error is not None), None)
            error = error or stream_error
            if error is None:
                created = time.monotonic()
                self._globals(cp, *globals_)
                self.timings["indexes_identities_s"] = time.monotonic() - created
                if self.live is not None:
                    from ...sources.live3x.incremental import after_load

                    Retry(self.o.retry_for).run(lambda: after_load(self.live, self.client, self.o.database, cp))
                if self.o.wait_for_indexes is not None:
                    self._wait_for_indexes(started)
        except BaseException as exc:  # noqa: BLE001
            error = error or exc
        finally:
            close()
            self.timings["total_s"] = time.monotonic() - started
        if error is not None:
            if self.expected_list is not None:
                self.expected_list.discard()
            report = self.report("failed", error)
            if isinstance(error, (RavenMigrateError, OSError)):
                raise LoadError(self._failure_message(error), report) from error
            raise error
        cp.finish()
        if self.expected_list is not None:
            self.expected_list.finish()
        return self.report("completed with rejects" if self.rejects.count else "completed")

    def _expected_list_writer(self) -> Any:
        """The writer of ``--expected-list``: for a source file or directory read whole, whose every
        converted record the load sees as verify would convert it."""
        from ...verify.expected_list import ExpectedListError, ListWriter

        if self.pairs is not None or self.live is not None:
            raise ExpectedListError("--expected-list is written for a source file or directory, not a running "
                                    "3.x server or records given through the API: verify reads the source then")
        sel = self.o.selection
        if self.o.transport == "import" and sel is not None and sel.transform is not None:
            raise ExpectedListError("--expected-list with a transform script and the import transport: the server "
                                    "transforms the documents, so the load does not see what it stores; verify "
                                    "reads the source then")
        return ListWriter(self.o.expected_list, self.source, self.o.transport, selection_fingerprint(self.o.selection, self.o.convert))

    def _prepare_live(self, src: Any, cp: Checkpoint) -> None:
        """A running 3.x server (sources/live3x): the export starts where the last load ended."""
        from ...sources.live3x.filesystem import LiveFileSystemSource
        from ...sources.live3x.source import LiveDatabaseSource

        if isinstance(src, LiveDatabaseSource | LiveFileSystemSource):
            from ...sources.live3x.incremental import before_load

            self.live = src
            before_load(src, self.client, self.o.database, cp, self.o.resume, self.log)

    def _feed(self, pairs: Pairs, streams: list[Stream], cp: Checkpoint,
              failed: threading.Event) -> tuple[list[tuple[Any, Any]], list[Identity4]]:
        n = len(streams)
        routed = [0] * n
        skip = list(cp.acked)
        batches: list[list[Item]] = [[] for _ in range(n)]
        sizes = [0] * n
        indexes: list[Any] = []
        identities: list[Identity4] = []
        read_started = time.monotonic()
        bulk = self.o.transport == "bulk-insert"
        for record, converted in pairs:
            if failed.is_set():
                break
            if self.selector is not None:
                converted = self.selector.select(record, converted)
            if self.expected_list is not None:
                for conv in converted:
                    self.expected_list.add(conv)
            self.counts["records_read"] += len(record) if isinstance(record, DocumentRun) else 1
            pos = getattr(record, "position", None)
            if pos is not None and pos.offset > 0:
                self._offset = pos.offset
            if needs_revisions(record):
                collection = revisions.collection_of(record)
                if collection not in self.revision_collections:
                    self._enable_revisions(cp, collection)
            if not bulk and isinstance(record, File) and len(converted) == 2:
                # a RavenFS file: its document and streamed attachment travel as one item
                self.counts["Document4"] += 1
                self.counts["AttachmentPut4"] += 1
                self._route(smuggler.file_items(*converted), streams, routed, skip, batches, sizes, failed)
                continue
            for conv in converted:
                if isinstance(conv, DocumentRun):  # kept whole (converted_pairs): no revisions, no flags
                    self.counts["Document4"] += len(conv)
                    items = bulk_insert.run_items(conv) if bulk else smuggler.run_items(conv)
                    self._route(items, streams, routed, skip, batches, sizes, failed)
                    continue
                kind = type(conv).__name__
                self.counts[kind] += 1
                if isinstance(conv, Skipped):
                    if conv.kind == "index":
                        self.index_outcomes.skipped(conv)
                    self.skipped.append({"kind": conv.kind, "key": conv.key, "reason": conv.reason,
                                         "source": _position(conv.source)})
                    continue
                if isinstance(conv, Index4):
                    indexes.append((record, conv))
                    continue
                if isinstance(conv, Identity4):
                    identities.append(conv)
                    continue
                if isinstance(conv, Document4):
                    if conv.revision_of is not None:
                        self.counts["revisions"] += 1
                    if bulk and conv.revision_of is not None:
                        self.not_stored["revisions"] += 1
                        continue
                items = bulk_insert.items_for(conv) if bulk else smuggler.items_for(record, conv)
                self._route(items, streams, routed, skip, batches, sizes, failed)
        for i, batch in enumerate(batches):
            if batch:
                self.throttle.take(len(batch), sizes[i])
                self._put(streams[i], batch, failed)
        self.timings["read_convert_s"] = time.monotonic() - read_started
        return indexes, identities

    def _route(self, items: Iterable[Item], streams: list[Stream], routed: list[int], skip: list[int],
               batches: list[list[Item]], sizes: list[int], failed: threading.Event) -> None:
        """Hand *items* to their streams in batches; the first ``skip[i]`` items routed to stream *i*
        were acknowledged by an earlier run (``--resume``) and are not sent again."""
        n = len(streams)
        for item in items:
            i = route(item.key, n)
            routed[i] += 1
            if routed[i] <= skip[i]:
                self.counts["already_acknowledged"] += 1
                continue
            batches[i].append(item)
            sizes[i] += item.size
            if len(batches[i]) >= BATCH_ITEMS or sizes[i] >= BATCH_BYTES:
                self.throttle.take(len(batches[i]), sizes[i])
                self._put(streams[i], batches[i], failed)
                batches[i], sizes[i] = [], 0

    @staticmethod
    def _put(stream: Stream, batch: list[Item] | None, failed: threading.Event, force: bool = False) -> None:
        while True:
            if not stream.is_alive() and stream.ident is not None:
                return
            if failed.is_set() and not force:
                return
            try:
                stream.queue.put(batch, timeout=0.2)
                return
            except Exception:  # noqa: BLE001 - queue.Full: look at the failure flag again
                continue

    def _globals(self, cp: Checkpoint, indexes: list[tuple[Any, Any]], identities: list[Identity4]) -> None:
        """Indexes (§7, docs/indexes.md) after the documents, converted again now that the
        rewrite has seen every document, then identities (§8)."""
        retry = self._retry()
        if indexes and not cp.done.get("indexes"):
            for record, conv in indexes:
                final = self.converter.index(record) if self.converter is not None else conv
                if isinstance(final, Index4):
                    self.index_outcomes.pending.append((record, final))
                else:
                    self.index_outcomes.skipped(final)
            self.index_outcomes.send(lambda: self.client, self.o.database, self.o.transport == "bulk-insert",
                                     lambda items: self.import_sender.run(self.client, None, items), retry.run)
            cp.mark("indexes")
        if identities and not cp.done.get("identities"):
            items = [Item("ident", i.name, dumps({"Key": i.name, "Value": str(i.value)}), 0) for i in identities]
            retry.run(lambda: self.import_sender.run(self.client, None, items))
            cp.mark("identities")

    def _wait_for_indexes(self, started: float) -> None:
        """After the documents and indexes: until every index is up to date or errored (docs/loading.md)."""
        from .indexing import wait_for_indexes

        limit = self.o.wait_for_indexes
        self.indexing = wait_for_indexes(self.client, self.o.database, mode=self._progress_mode(),
                                         interval=self.o.progress_interval,
                                         timeout=None if limit is None or limit == float("inf") else limit)
        if self.indexing["usable"]:
            self.timings["usable_s"] = time.monotonic() - started

    # -- reporting ---------------------------------------------------------------------------
    def _failure_message(self, error: BaseException) -> str:
        cp = self.checkpoint
        kind = ("the server kept failing or could not be reached" if isinstance(error, TransientError)
                else "the server rejected the data" if isinstance(error, PermanentError) else "the load failed")
        acked = sum(cp.acked)
        return (f"load into {self.o.database} at {self.o.url} stopped: {kind}: {error}\n"
                f"{acked:,} items in {cp.operations} operations were acknowledged and are recorded in the "
                f"checkpoint {cp.path}; fix the cause and run the same command with --resume to continue "
                f"after them")

    def _filtered(self) -> dict[str, int]:
        """What the selection left out; with the import transport the server runs the transform script,
        and the documents it skipped are its ``SkippedCount`` (the system documents it would skip never
        reach it: the converter leaves them out)."""
        out = dict(self.selector.filtered) if self.selector is not None else {}
        if self.o.transport == "import" and self.o.selection is not None and self.o.selection.transform:
            skipped = sum(((r or {}).get("Documents") or {}).get("SkippedCount") or 0
                          for r in self.import_sender.results)
            if skipped:
                out["document (transform script: skip, by the server)"] = skipped
        return out

    def report(self, status: str, error: BaseException | None = None) -> dict[str, Any]:
        cp = self.checkpoint
        rep: dict[str, Any] = {
            "status": status, "source": self.source, "url": self.o.url, "database": self.o.database,
            "transport": self.o.transport, "streams": cp.streams, "resumed": self.o.resume,
            "checkpoint": str(cp.path),
            "nodes": [s.nodes_used for s in getattr(self, "streams", [])],
            "counts": {
                "records_read": self.counts["records_read"],
                "documents": self.counts["Document4"] - self.counts["revisions"],
                "revisions": self.counts["revisions"], "attachments": self.counts["AttachmentPut4"],
                "deletions": self.counts["Delete4"],
                "indexes": self.index_outcomes.summary()["created"],
                "identities": self.counts["Identity4"], "skipped": len(self.skipped),
                "already_acknowledged": self.counts["already_acknowledged"],
                "documents_sent": self.stats.documents, "bytes_sent": self.stats.bytes,
                "operations": self.stats.operations, "retries": self.stats.retries,
                "acknowledged_items_per_stream": list(cp.acked),
            },
            "not_stored": dict(self.not_stored),
            "filtered": self._filtered(),
            "rejects": self.rejects.report(),
            "revisions_configuration": list(self.revisions_changes),
            "skipped": self.skipped,
            "indexes": self.index_outcomes.to_json(),
            "deviations": list(bulk_insert.DEVIATIONS) if self.o.transport == "bulk-insert" else [],
            "timings": {**self.timings, "throttled_s": round(self.throttle.slept, 3)},
        }
        if self.indexing is not None:
            rep["indexing"] = self.indexing
        if self.expected_list is not None:
            rep["expected_list"] = {"path": str(self.expected_list.path), "documents": self.expected_list.documents,
                                    "written": status.startswith("completed")}
        findings = [f for src in self._opened for f in getattr(src, "findings", [])]
        if findings:
            rep["source_findings"] = [{"code": f.code, "message": f.message} for f in findings]
        if cp.source_state:
            rep["live_export"] = dict(cp.source_state)
        if self.o.transport == "import":
            rep["import_messages"] = _messages(self.import_sender.results)
        if error is not None:
            rep["error"] = str(error)
            rep["rejected_document"] = getattr(error, "document_id", None)
        return rep


def _selector(options: LoadOptions) -> Any:
    """The selector of ``options.selection``, or None when everything is migrated unchanged. The import
    transport's server applies the transform script to documents itself, not to revisions (§3.1)."""
    if options.selection is None or options.selection.everything:
        return None
    from ...convert.selection import Selector

    return Selector(options.selection, transform_revisions_only=options.transport == "import")


def selection_fingerprint(sel: Any, conv: Any) -> str:
    """The load's options of what to migrate (*sel*: its selection, *conv*: its ``ConvertOptions``), as
    a checkpoint and an expected list record them ("" for everything): a resume skips the items
    acknowledged before, so it must select the same items in the same order."""
    parts = []
    if sel is not None and not sel.everything:
        parts += [f"collections={','.join(sel.collections)}", f"exclude={','.join(sel.exclude_collections)}",
                  f"types={','.join(sel.types)}", "ids=" + ",".join(f"{a}={b}" for a, b in sel.id_prefix_map)]
        if sel.transform is not None:
            import hashlib

            parts.append("script=" + hashlib.sha256(sel.transform.script.encode()).hexdigest()[:16])
    if conv is not None and not conv.include_expired:
        parts.append("exclude-expired")
    return " ".join(parts)


def import_options(options: LoadOptions) -> dict[str, Any]:
    """The import options (§2) of the import transport, from the load's options."""
    sel, conv = options.selection, options.convert
    return smuggler_options(types=sel.types if sel is not None else None,
                            include_expired=conv.include_expired if conv is not None else True,
                            remove_analyzers=conv.remove_analyzers if conv is not None else False,
                            transform_script=sel.transform.script if sel is not None and sel.transform else None)


def _position(pos: Any) -> dict[str, Any] | None:
    if pos is None:
        return None
    return {"source": str(pos.source), "section": pos.section, "index": pos.index, "offset": pos.offset,
            "key": pos.key}


def _messages(results: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for r in results:
        out.extend(m for m in (r or {}).get("Messages", []) if "ERROR" in m or "WARN" in m)
    return out[:1000]

