"""Cluster routing: which nodes of the cluster hold the database, and where each stream writes.

``GET /topology?name=DB`` (any node of the cluster; ``ValidUser``) answers the database group:
``{"Nodes":[{"Url","ClusterTag","ServerRole","Database"}],"Etag"}``, Members first, then Rehabs
(4.1 ``src/Raven.Server/Web/System/DatabasesHandler.cs`` GetTopology). A server that has no record
of the database answers 503 with the header ``Database-Missing``; a node whose cluster holds the
database but not on that node answers requests for it with 410 ``DatabaseNotRelevantException``
(``RavenServerStartup.cs`` MaybeSetExceptionStatusCode). Streams are spread over the Members; a
stream whose node fails (refused, reset, 503, 410) asks for the topology again and moves to
another member (docs/security.md "Clusters").
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable

from ...errors import RavenMigrateError, ServerError
from ...fields import FrozenFields
from .client import AuthorizationError, TlsError
from .target import Target


class DatabaseNotFound(RavenMigrateError):
    """No node of the given URLs knows the database."""


class Node(FrozenFields):
    __slots__ = ("tag", "url")

    def __init__(self, tag: str, url: str) -> None:
        self._fill(tag, url)


class Topology:
    """The member nodes of one database's group, refreshed on demand (thread-safe)."""

    def __init__(self, target: Target, database: str, log: Callable[[str], None] | None = None,
                 nodes: list[Node] | None = None) -> None:
        """*nodes*: a topology already known (e.g. an older answer), used until the next refresh."""
        self.target = target
        self.database = database
        self.log = log or (lambda _msg: None)
        self.nodes: list[Node] = list(nodes or [])
        self.etag: int | None = None
        self.refreshes = 0
        self._lock = threading.Lock()

    def urls(self) -> list[str]:
        with self._lock:
            return [n.url for n in self.nodes]

    def refresh(self) -> list[Node]:
        """Ask the known nodes, then the given URLs, for the topology; the first that answers with
        members wins. Raises :class:`DatabaseNotFound` when none does (naming what each said)."""
        with self._lock:
            candidates = list(dict.fromkeys([n.url for n in self.nodes] + list(self.target.urls)))
        said: list[str] = []
        for url in candidates:
            try:
                nodes, etag = self._ask(url)
            except (TlsError, AuthorizationError):
                raise
            except ServerError as exc:
                said.append(f"{url}: {_short(exc)}")
                continue
            if not nodes:
                said.append(f"{url}: the database group has no member node there")
                continue
            with self._lock:
                changed = [n.url for n in nodes] != [n.url for n in self.nodes]
                self.nodes, self.etag = nodes, etag
                self.refreshes += 1
            if changed:
                self.log(f"topology of {self.database}: " + ", ".join(f"{n.tag} {n.url}" for n in nodes))
            return nodes
        raise DatabaseNotFound(f"database {self.database!r} was not found on {', '.join(candidates)} "
                               f"({'; '.join(said)})")

    def _ask(self, url: str) -> tuple[list[Node], int | None]:
        q = urllib.parse.urlencode({"name": self.database})
        with self.target.client(url, timeout=30) as client:
            status, data = client.request("GET", f"/topology?{q}", ok=(200,))
        body = json.loads(data)
        nodes = [Node(n.get("ClusterTag") or "?", (n.get("Url") or url).rstrip("/")) for n in body.get("Nodes") or []
                 if n.get("ServerRole", "Member") == "Member"]
        return nodes, body.get("Etag")

    def node_for(self, stream: int) -> str:
        """The node stream *stream* starts on: the members in turn (the first given URL before any topology)."""
        with self._lock:
            if not self.nodes:
                return self.target.url
            return self.nodes[stream % len(self.nodes)].url

    def failover(self, stream: int, failed: str) -> str:
        """After *failed* failed for *stream*: refresh the topology (keeping the old one when no node
        answers) and return the member to use next — another one than *failed* when there is one."""
        try:
            self.refresh()
        except (RavenMigrateError, OSError):
            pass
        with self._lock:
            urls = [n.url for n in self.nodes] or [self.target.url]
        if failed not in urls:
            return urls[stream % len(urls)]
        if len(urls) == 1:
            return urls[0]
        return urls[(urls.index(failed) + 1) % len(urls)]


def _short(exc: ServerError) -> str:
    text = str(exc)
    try:
        body = json.loads(text[text.index("{"):])
        return str(body.get("Message") or text)[:300]
    except ValueError:
        return text[:300]
