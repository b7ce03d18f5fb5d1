"""A small RavenDB 4.x HTTP client on the standard library (one keep-alive connection per object).

Only what ravenmigrate needs: database admin, documents, operations, streams. Endpoints are
those of target-4x.md §10. Not thread-safe: parallel streams each own a client.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

from .errors import ServerError


class RavenClient:
    def __init__(self, url: str, timeout: float = 300.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http":
            raise ValueError(f"only http:// server URLs are supported, got {url!r}")
        self.url = url.rstrip("/")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RavenClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200, 201, 204)) -> tuple[int, bytes]:
        """Send one request; return (status, body). Raises ServerError on a status not in *ok*."""
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            self.close()
            raise ServerError(f"{method} {self.url}{path}: {exc}", url=self.url + path) from exc
        if resp.status not in ok:
            raise ServerError(f"{method} {self.url}{path} answered {resp.status}: {data[:2000].decode('utf-8', 'replace')}",
                              status=resp.status, url=self.url + path)
        return resp.status, data

    def json(self, method: str, path: str, payload: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        _, data = self.request(method, path, body, headers, ok)
        return json.loads(data) if data else None

    # -- databases ---------------------------------------------------------------------------
    def database_names(self) -> list[str]:
        return self.json("GET", "/databases?namesOnly=true&pageSize=1024").get("Databases", [])

    def create_database(self, name: str) -> None:
        """``PUT /admin/databases?name=..&replicationFactor=1`` (target-4x.md §10)."""
        q = urllib.parse.urlencode({"name": name, "replicationFactor": 1})
        self.json("PUT", f"/admin/databases?{q}", {"DatabaseName": name, "Settings": {}, "Disabled": False})

    def delete_database(self, name: str) -> None:
        q = urllib.parse.urlencode({"name": name, "hardDelete": "true"})
        self.request("DELETE", f"/admin/databases?{q}", ok=(200, 204, 404))

    # -- documents ---------------------------------------------------------------------------
    def put_document(self, database: str, doc_id: str, document: dict[str, Any]) -> Any:
        q = urllib.parse.urlencode({"id": doc_id})
        return self.json("PUT", f"/databases/{urllib.parse.quote(database)}/docs?{q}", document)

    def get_document(self, database: str, doc_id: str) -> dict[str, Any] | None:
        q = urllib.parse.urlencode({"id": doc_id})
        status, data = self.request("GET", f"/databases/{urllib.parse.quote(database)}/docs?{q}", ok=(200, 404))
        if status == 404:
            return None
        results = json.loads(data)["Results"]
        return results[0] if results else None

    def stats(self, database: str) -> dict[str, Any]:
        return self.json("GET", f"/databases/{urllib.parse.quote(database)}/stats")
