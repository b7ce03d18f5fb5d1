"""HTTP plumbing shared by the live-server transports: streamed (chunked) requests, the
operation-state look-up, and the transient/permanent split that drives retries.

Each stream owns one :class:`ravenmigrate.sinks.server.client.RavenClient` (one keep-alive connection); the
requests here reuse its connection. Endpoints are those of docs/formats/import-4x.md §2, §9 and §10.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ...errors import ServerError
from .client import AuthorizationError, RavenClient, TlsError

T = TypeVar("T")

# Statuses a busy, starting or restarting server answers with; the request is simply re-sent.
TRANSIENT_STATUSES = (502, 503, 504, 410)  # 410: DatabaseNotRelevant, the node does not host the database
# Phrases of a 500 that mean "the database is not there yet" (after a restart), not a bad record.
TRANSIENT_MESSAGES = ("DatabaseLoadTimeoutException", "DatabaseDisabledException", "is being loaded",
                      "DatabaseConcurrentLoadTimeoutException", "DatabaseNotRelevantException",
                      "NodeIsPassiveException", "Failed to retrieve cluster topology")


class TransientError(ServerError):
    """The server is unreachable, restarting or overloaded: the operation may be re-sent."""


class PermanentError(ServerError):
    """The server rejected what was sent; re-sending the same data fails the same way.

    ``document_id`` names the rejected document when the server said which one.
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None,
                 document_id: str | None = None) -> None:
        super().__init__(message, status=status, url=url)
        self.document_id = document_id


def db_path(database: str, rest: str) -> str:
    return f"/databases/{urllib.parse.quote(database, safe='')}/{rest}"


def classify(exc: ServerError) -> ServerError:
    """Turn a ServerError of RavenClient into a Transient- or PermanentError."""
    if isinstance(exc, (TransientError, PermanentError)):
        return exc
    text = str(exc)
    if isinstance(exc, (TlsError, AuthorizationError)):
        return PermanentError(text, status=exc.status, url=exc.url)
    if exc.status is None or exc.status in TRANSIENT_STATUSES or any(m in text for m in TRANSIENT_MESSAGES):
        return TransientError(text, status=exc.status, url=exc.url)
    return PermanentError(text, status=exc.status, url=exc.url)


def stream_request(client: RavenClient, method: str, path: str, body: Iterable[bytes],
                   headers: dict[str, str]) -> tuple[int, bytes]:
    """Send *body* with ``Transfer-Encoding: chunked`` on the client's connection; (status, body).

    A connection that breaks while sending (the server answered early and closed, or died) raises
    :class:`TransientError` after trying to read the early answer; callers then read the
    operation state to tell a rejected record from a crash (docs/formats/import-4x.md §9 "Failure mid-stream").
    """
    conn = client._connection()
    url = client.url + path
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for chunk in body:
                if chunk:
                    conn.send(b"%X\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError as exc:
            early = None if isinstance(exc, ssl.SSLError) else _early_answer(conn)
            client.close()
            if early is not None:
                return early
            if isinstance(exc, ssl.SSLError):
                raise client.failure(method, path, exc) from exc
            raise TransientError(f"{method} {url}: connection lost while sending: {exc}", url=url) from exc
        resp = conn.getresponse()
        data = resp.read()
        if resp.getheader("Connection", "").lower() == "close":
            client.close()
        return resp.status, data
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        client.close()
        if isinstance(exc, ssl.SSLError):
            raise client.failure(method, path, exc) from exc
        raise TransientError(f"{method} {url}: {exc}", url=url) from exc


def _early_answer(conn: http.client.HTTPConnection) -> tuple[int, bytes] | None:
    """The response a server sent before it stopped reading the body, if any arrived."""
    try:
        if conn.sock is None:
            return None
        conn.sock.settimeout(2.0)
        resp = http.client.HTTPResponse(conn.sock, method="POST")
        resp.begin()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None


def operation_state(client: RavenClient, database: str, op_id: int) -> dict[str, Any] | None:
    """``GET operations/state?id=`` (docs/formats/import-4x.md §2); ``None`` when the server does not know it."""
    status, data = client.request("GET", db_path(database, f"operations/state?id={op_id}"), ok=(200, 404))
    if status == 404 or not data:
        return None
    return json.loads(data)


def fault_message(state: dict[str, Any] | None) -> str | None:
    """The error text of a Faulted operation state, else ``None``."""
    if not state or state.get("Status") != "Faulted":
        return None
    result = state.get("Result") or {}
    return result.get("Message") or result.get("Error") or json.dumps(result)[:2000]


def error_message(text: str) -> str:
    """The ``Message`` (else ``Error``) of a server's JSON error body, else the text; 1000 chars at most."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:1000]
    return str(body.get("Message") or body.get("Error") or text)[:1000] if isinstance(body, dict) else text[:1000]


_INTERRUPTED = ("unexpected end", "connection", "aborted", "reset", "shutdown", "disposed", "canceled", "cancelled")


def interrupted(message: str) -> bool:
    """Whether a faulted operation failed because its connection went away (kill, stop), not its data."""
    low = message.lower()
    return any(s in low for s in _INTERRUPTED)


class Retry:
    """Exponential back-off over transient failures, for at most ``budget`` seconds in a row."""

    def __init__(self, budget: float, on_retry: Callable[[Exception, float], None] | None = None) -> None:
        self.budget = budget
        self.on_retry = on_retry
        self.retries = 0

    def run(self, attempt: Callable[[], T]) -> T:
        started = time.monotonic()
        delay = 0.25
        while True:
            try:
                return attempt()
            except ServerError as exc:
                err = classify(exc)
                if isinstance(err, PermanentError):
                    if err is exc:
                        raise
                    raise err from exc
                if time.monotonic() - started + delay > self.budget:
                    raise TransientError(f"gave up after {self.budget:.0f} s of retries: {err}",
                                         status=err.status, url=err.url) from exc
                self.retries += 1
                if self.on_retry:
                    self.on_retry(err, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
