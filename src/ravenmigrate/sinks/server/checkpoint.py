"""Load checkpoints: what the server acknowledged, written (msgpack, atomically) after every
acknowledged operation so ``load --resume`` continues exactly after it.

Documents are routed to streams by id and every stream acknowledges its items in source order, so
"stream *i* acknowledged its first *n* items" is a complete description: a resumed run re-reads
the source, routes it the same way and skips those items. Re-sending an unacknowledged item is a
PUT (or DELETE) by id, hence idempotent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from ...errors import RavenMigrateError
from ...outputs import write_atomic

VERSION = 1


class CheckpointError(RavenMigrateError):
    """The checkpoint does not belong to this load or cannot be read."""


@dataclass
class Checkpoint:
    path: Path
    source: str
    database: str
    transport: str
    streams: int
    acked: list[int] = field(default_factory=list)
    acked_bytes: list[int] = field(default_factory=list)
    operations: int = 0
    done: dict[str, bool] = field(default_factory=dict)
    finished: bool = False
    selection: str = ""  # what the load's options select (docs/options.md): a resume must select the same
    source_state: dict[str, Any] = field(default_factory=dict)  # a live source's export (sources/live3x)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.acked = self.acked or [0] * self.streams
        self.acked_bytes = self.acked_bytes or [0] * self.streams

    def acknowledge(self, stream: int, items: int, size: int) -> None:
        """Stream *stream* had its next *items* items acknowledged by the server; persist it."""
        with self._lock:
            self.acked[stream] += items
            self.acked_bytes[stream] += size
            self.operations += 1
            self._write()

    def mark(self, step: str) -> None:
        """A one-off step (revisions configuration, indexes, identities) is done; persist it."""
        with self._lock:
            self.done[step] = True
            self._write()

    def save(self) -> None:
        with self._lock:
            self._write()

    def finish(self) -> None:
        with self._lock:
            self.finished = True
            self._write()

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "source": self.source, "database": self.database,
                "transport": self.transport, "streams": self.streams, "acked": list(self.acked),
                "acked_bytes": list(self.acked_bytes), "operations": self.operations, "done": dict(self.done),
                "finished": self.finished, "selection": self.selection, "source_state": self.source_state,
                "written": time.time()}

    def _write(self) -> None:
        write_atomic(self.path, msgpack.packb(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            raw = msgpack.unpackb(Path(path).read_bytes())
        except (OSError, ValueError, msgpack.UnpackException) as exc:
            raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            raise CheckpointError(f"{path} is not a ravenmigrate load checkpoint (version {VERSION})")
        return cls(Path(path), raw["source"], raw["database"], raw["transport"], raw["streams"],
                   list(raw["acked"]), list(raw["acked_bytes"]), raw["operations"], dict(raw["done"]),
                   raw["finished"], raw.get("selection", ""),
                   dict(raw.get("source_state") or {}))

    def check_matches(self, source: str, database: str, transport: str, selection: str = "") -> None:
        """Refuse to resume a different load (target database, source, transport or selection changed)."""
        mine = (self.source, self.database, self.transport)
        if mine != (source, database, transport):
            raise CheckpointError(
                f"checkpoint {self.path} belongs to a load of {self.source} into {self.database} with "
                f"--transport {self.transport}, not {source} into {database} with --transport {transport}")
        if self.selection != selection:
            raise CheckpointError(
                f"checkpoint {self.path} belongs to a load with other options of what to migrate "
                f"({self.selection or 'everything'}; now {selection or 'everything'}): resume with the same options")
