"""Indexes into a live 4.x after the documents, and the truth about each one (docs/indexes.md).

Each converted index is sent (through ``/smuggler/import`` as a legacy definition, or with
``PUT /admin/indexes`` for bulk insert); then the server's own list of indexes is read, and every
source index gets one outcome: ``create`` (created as is), ``rewrite`` (created after the
rewrite rules), ``skip`` (a system index the 4.x import skips by design), ``reject`` (the
server's message, first line) or ``missing`` (neither created nor refused with a message).
Nothing is counted as created that the server does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ...records import Index4, Skipped
from .client import RavenClient
from .http import PermanentError, db_path
from .jsonout import dumps
from .streams import Item

_WRITE_ERROR = re.compile(r"Could not write index '(?P<name>[^']+)', error: (?P<error>.*)", re.S)
_COMPILER = re.compile(r"error (CS\d+: [^\r\n]*)")
OUTCOMES = ("create", "rewrite", "skip", "reject", "missing")
# Indexes per /smuggler/import request: the server compiles each one (0.3 s to over 1 s on a busy
# machine), and one request for hundreds would outlast the client's timeout.
IMPORT_BATCH = 32


def first_line(message: str) -> str:
    """The server's message, first line (and the first compiler error when the line only says
    "Failed to compile index")."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    line = lines[0] if lines else message.strip()
    if line.startswith("Failed to compile") or line.startswith("LoadDocument requires") or "can be replaced" in line:
        compiler = _COMPILER.search(message)
        if compiler:
            line += f" ({compiler.group(1).split(' and no accessible')[0][:200]})"
    return line[:500]


def import_errors(messages: Iterable[str]) -> dict[str, str]:
    """{index name: first line of its error} from a ``/smuggler/import`` result's messages."""
    out = {}
    for message in messages:
        m = _WRITE_ERROR.search(message)
        if m:
            out[m.group("name").lower()] = first_line(m.group("error"))
    return out


def server_index_names(client: RavenClient, database: str) -> set[str]:
    found = client.json("GET", db_path(database, "indexes?start=0&pageSize=1000000"))
    return {d["Name"].lower() for d in (found or {}).get("Results") or []}


class IndexOutcomes:
    """The indexes of one load: what was sent, then what the server did with each."""

    def __init__(self) -> None:
        self.pending: list[tuple[Any, Index4]] = []
        self.outcomes: list[dict[str, Any]] = []
        self.on_server: int | None = None

    def skipped(self, skip: Skipped) -> None:
        outcome = "reject" if skip.reason.startswith("4.x cannot read") else "skip"
        self.outcomes.append({"name": skip.key, "target": None, "outcome": outcome, "reason": skip.reason})

    def send(self, client: Callable[[], RavenClient], database: str, bulk: bool,
             run_import: Callable[[list[Item]], Any], retry: Callable[[Callable[[], Any]], Any]) -> None:
        """Send every pending index, then read the server's list and settle each outcome.

        *client* gives the load's current connection: a retry may have moved it to another member of
        the database group (docs/security.md), so it is asked for at every request, never kept."""
        errors: dict[str, str] = {}
        if bulk:
            for _, idx in self.pending:
                try:
                    retry(lambda idx=idx: client().json("PUT", db_path(database, "admin/indexes"),
                                                        {"Indexes": [idx.definition]}))
                except PermanentError as exc:
                    errors[idx.name.lower()] = first_line(_server_message(str(exc)))
        else:
            items = [Item("idx", record.name, dumps({"name": record.name, "definition": idx.legacy}), 0)
                     for record, idx in self.pending]
            for start in range(0, len(items), IMPORT_BATCH):
                batch = items[start:start + IMPORT_BATCH]
                result = retry(lambda batch=batch: run_import(batch))
                errors.update(import_errors((result or {}).get("Messages") or []))
        names = retry(lambda: server_index_names(client(), database))
        self.on_server = len(names)
        for record, idx in self.pending:
            self.outcomes.append(self._outcome(record, idx, names, errors))

    @staticmethod
    def _outcome(record: Any, idx: Index4, names: set[str], errors: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": record.name, "target": idx.name}
        if idx.name.lower() in names:
            out["outcome"] = "rewrite" if idx.rewrite is not None else "create"
            out["reason"] = ""
        else:
            error = errors.get(idx.name.lower()) or errors.get(record.name.lower())
            out["outcome"] = "reject" if error else "missing"
            out["reason"] = error or "not on the server after the load, and no error message"
        if idx.problem:
            out["predicted_problem"] = idx.problem
        if idx.rewrite is not None:
            out.update(idx.rewrite.to_json())
        return out

    def summary(self) -> dict[str, int | None]:
        counts: dict[str, int | None] = {o: sum(1 for x in self.outcomes if x["outcome"] == o) for o in OUTCOMES}
        counts["created"] = (counts["create"] or 0) + (counts["rewrite"] or 0)
        counts["read"] = len(self.outcomes)
        counts["on_server"] = self.on_server
        return counts

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "indexes": self.outcomes}


def _server_message(text: str) -> str:
    m = re.search(r'"Message"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
    if m is None:
        return text
    return m.group(1).encode().decode("unicode_escape", "replace")
