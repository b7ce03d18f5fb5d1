"""A small RavenDB 4.x HTTP(S) client on the standard library (one keep-alive connection per object).

Only what ravenmigrate needs: database admin, documents, operations, streams. Endpoints are
those of docs/formats/import-4x.md §10; a secured server (``https://``) is reached with the TLS
context of ``sinks.server.tls`` (client certificate, trust; docs/security.md). Not thread-safe:
parallel streams each own a client.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from ...errors import ServerError

# Every type the legacy (3.x) import understands, as in docs/formats/import-4x.md §2 (the request that imports Northwind 3.5).
DEFAULT_IMPORT_OPTIONS: dict[str, Any] = {
    "IncludeExpired": True,
    "OperateOnTypes": "Documents, RevisionDocuments, Indexes, Identities, Tombstones, LegacyAttachments, "
                      "Conflicts, CompareExchange, LegacyDocumentDeletions, LegacyAttachmentDeletions, Counters",
}


# The item types of ``--types`` (ravenmigrate.convert.selection) as import ``OperateOnTypes`` flags.
_OPERATE_ON = {"documents": ("Documents",), "revisions": ("RevisionDocuments",), "indexes": ("Indexes",),
               "identities": ("Identities",), "attachments": ("LegacyAttachments",),
               "deletions": ("LegacyDocumentDeletions", "LegacyAttachmentDeletions")}
_OTHER_TYPES = ("Tombstones", "Conflicts", "CompareExchange", "Counters")


def smuggler_options(types: Iterable[str] | None = None, include_expired: bool = True, remove_analyzers: bool = False,
                     transform_script: str | None = None) -> dict[str, Any]:
    """Import options (docs/formats/import-4x.md §2): :data:`DEFAULT_IMPORT_OPTIONS` with ``OperateOnTypes``
    limited to *types* (``--types`` names; the server still reads legacy attachments whatever the flags
    say, so sinks filter too), ``IncludeExpired``, ``RemoveAnalyzers`` and ``TransformScript``."""
    options = dict(DEFAULT_IMPORT_OPTIONS)
    if types is not None:
        flags = {f for t in types for f in _OPERATE_ON[t]} | set(_OTHER_TYPES)
        order = [f.strip() for f in DEFAULT_IMPORT_OPTIONS["OperateOnTypes"].split(",")]
        options["OperateOnTypes"] = ", ".join(f for f in order if f in flags)
    options["IncludeExpired"] = include_expired
    if remove_analyzers:
        options["RemoveAnalyzers"] = True
    if transform_script:
        options["TransformScript"] = transform_script
    return options
class TlsError(ServerError):
    """The TLS handshake failed (untrusted server certificate, not a TLS server, refused client
    certificate): re-sending cannot help."""


class AuthorizationError(ServerError):
    """A secured server refused the client certificate for this request (403 ``InvalidAuth``)."""


class RavenClient:
    def __init__(self, url: str, timeout: float = 300.0, ssl_context: ssl.SSLContext | None = None,
                 ca: str | None = None) -> None:
        """*ssl_context* is needed for ``https://`` (``sinks.server.tls.context``; without one the
        system trust store and no client certificate are used); *ca* only names the trust in errors."""
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https"):
            raise ServerError(f"server URL {url!r}: expected http:// or https://")
        self.url = url.rstrip("/")
        self.secure = parsed.scheme == "https"
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (443 if self.secure else 80)
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.ca = ca
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.secure:
                ctx = self.ssl_context or ssl.create_default_context()
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def failure(self, method: str, path: str, exc: BaseException) -> ServerError:
        """The ServerError for a request that could not be sent or answered (a TLS failure is a TlsError)."""
        url = self.url + path
        if isinstance(exc, ssl.SSLError):
            from .tls import describe_tls_error  # here: TLS failures only (its imports are not start-up's)

            return TlsError(f"{method} {url}: {describe_tls_error(exc, self.url, self.ca)}", url=url)
        return ServerError(f"{method} {url}: {exc}", url=url)

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
        """Send one request; return (status, body). Raises ServerError on a status not in *ok*.

        A kept-alive connection the server closed meanwhile (idle timeout) is replaced once."""
        reused = self._conn is not None
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            self.close()
            if reused:
                return self.request(method, path, body, headers, ok)
            raise self.failure(method, path, exc) from exc
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            self.close()
            raise self.failure(method, path, exc) from exc
        if resp.status not in ok:
            raise answered(method, self.url + path, resp.status, data)
        return resp.status, data

    def json(self, method: str, path: str, payload: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        _, data = self.request(method, path, body, headers, ok)
        return json.loads(data, strict=False) if data else None

    # -- databases ---------------------------------------------------------------------------
    def database_names(self) -> list[str]:
        return self.json("GET", "/databases?namesOnly=true&pageSize=1024").get("Databases", [])

    def create_database(self, name: str) -> None:
        """``PUT /admin/databases?name=..&replicationFactor=1`` (docs/formats/import-4x.md §10)."""
        q = urllib.parse.urlencode({"name": name, "replicationFactor": 1})
        self.json("PUT", f"/admin/databases?{q}", {"DatabaseName": name, "Settings": {}, "Disabled": False})

    def delete_database(self, name: str) -> None:
        """``DELETE /admin/databases`` with the JSON body 4.1 requires (a query string alone answers 500)."""
        body = json.dumps({"DatabaseNames": [name], "HardDelete": True}).encode()
        self.request("DELETE", "/admin/databases", body, {"Content-Type": "application/json"}, ok=(200, 204, 404))

    # -- documents ---------------------------------------------------------------------------
    def put_document(self, database: str, doc_id: str, document: dict[str, Any]) -> Any:
        q = urllib.parse.urlencode({"id": doc_id})
        return self.json("PUT", f"/databases/{urllib.parse.quote(database)}/docs?{q}", document)

    def get_document(self, database: str, doc_id: str) -> dict[str, Any] | None:
        q = urllib.parse.urlencode({"id": doc_id})
        status, data = self.request("GET", f"/databases/{urllib.parse.quote(database)}/docs?{q}", ok=(200, 404))
        if status == 404:
            return None
        results = json.loads(data, strict=False)["Results"]
        return results[0] if results else None

    # -- operations and the server's own import -------------------------------------------------
    def next_operation_id(self, database: str) -> int:
        return int(self.json("GET", f"/databases/{urllib.parse.quote(database)}/operations/next-operation-id")["Id"])

    def operation_state(self, database: str, op_id: int) -> dict[str, Any]:
        return self.json("GET", f"/databases/{urllib.parse.quote(database)}/operations/state?id={op_id}")

    def smuggler_import(self, database: str, chunks: Iterable[bytes], options: dict[str, Any] | None = None) -> Any:
        """The server's own import: ``POST /databases/{db}/smuggler/import`` with an
        ``importOptions`` form part and one gzip file part streamed from *chunks* (docs/formats/import-4x.md §2).

        Returns the SmugglerResult JSON; a faulted import raises :class:`ServerError`."""
        opts = DEFAULT_IMPORT_OPTIONS if options is None else options
        import uuid  # only for multipart bodies

        boundary = "ravenmigrate-" + uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"importOptions\"\r\n\r\n"
                f"{json.dumps(opts)}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"import.ravendbdump\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body() -> Iterator[bytes]:
            yield head
            for chunk in chunks:
                if chunk:
                    yield chunk
            yield tail

        op_id = self.next_operation_id(database)
        path = f"/databases/{urllib.parse.quote(database)}/smuggler/import?operationId={op_id}"
        conn = self._connection()
        try:
            conn.request("POST", path, body=body(), encode_chunked=True,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                  "Transfer-Encoding": "chunked"})
            resp = conn.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            self.close()
            raise self.failure("POST", path, exc) from exc
        if resp.status != 200:
            raise ServerError(f"import into {database} failed ({resp.status}): {data[:2000].decode('utf-8', 'replace')}",
                              status=resp.status, url=self.url + path)
        return json.loads(data, strict=False) if data else None

    def import_file(self, database: str, path: str, options: dict[str, Any] | None = None,
                    chunk_size: int = 1 << 20) -> Any:
        """:meth:`smuggler_import` of a (gzip) dump file on disk."""
        with open(path, "rb") as f:
            return self.smuggler_import(database, iter(lambda: f.read(chunk_size), b""), options)

    def stats(self, database: str) -> dict[str, Any]:
        return self.json("GET", f"/databases/{urllib.parse.quote(database)}/stats")


def answered(method: str, url: str, status: int, data: bytes) -> ServerError:
    """The error for an unexpected status: a 403 ``InvalidAuth`` is an :class:`AuthorizationError`
    carrying the server's message (which names the certificate and the clearance it lacks)."""
    text = data[:2000].decode("utf-8", "replace")
    if status == 403:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("Message"):
            return AuthorizationError(f"{method} {url}: refused (403): {body['Message']}", status=status, url=url)
    return ServerError(f"{method} {url} answered {status}: {text}", status=status, url=url)
