"""HTTP to a running 3.x server, with its three kinds of authentication (docs/live3x.md "Auth").

- none: plain requests;
- API key (``NAME/SECRET``): on 401 or 412 the token is fetched (``oauth.py``) from the
  ``OAuth-Source`` the server names (default ``{server}/OAuth/API-Key``) and the request re-sent
  with ``Authorization: Bearer``; an expired token (30 minutes in 3.x) is renewed the same way.
  Up to 3 tries per request, as Migrator_V3's ``RunWithAuthRetryInternal``;
- Windows credentials: NTLM through pyspnego, the handshake repeated on the request's own
  connection whenever the server answers 401 with ``WWW-Authenticate: NTLM``/``Negotiate``.

Every request opens its connection (the export stream keeps its own until read to the end).
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

from ...errors import SourceError
from ..stream import StreamError
from . import oauth

AUTH_RETRIES = 3
TIMEOUT = 300.0


class LiveError(SourceError):
    """The 3.x server could not be reached, refused us, or answered something unexpected."""


@dataclass(frozen=True)
class LiveOptions:
    """How to reach the server: ``api_key`` (NAME/SECRET), or ``user``/``password``/``domain``
    (Windows, NTLM); ``verify`` False or a CA bundle path for HTTPS; ``basic_over_http`` allows a
    legacy (non ``/OAuth/API-Key``) token source over plain http, as Migrator_V3's
    ``EnableBasicAuthenticationOverUnsecuredHttp``."""

    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    domain: str | None = None
    verify: bool | str = True
    basic_over_http: bool = False
    timeout: float = TIMEOUT


class Response:
    """A response whose body is read by the caller (``read``), as a binary stream; transport
    failures while reading become :class:`StreamError` (the reader names the source and offset)."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, url: str) -> None:
        self._conn = conn
        self._resp = resp
        self.status = resp.status
        self.headers = resp.headers
        self.url = url
        self.received = 0

    def read(self, size: int = -1) -> bytes:
        try:
            # read1: what has arrived (up to *size*), so records reach the loader as the server sends them
            data = self._resp.read1(size) if size >= 0 else self._resp.read()
        except (http.client.HTTPException, OSError) as exc:
            raise StreamError(f"the connection to the 3.x server {self.url} broke after {self.received:,} bytes "
                              f"of the response ({type(exc).__name__}: {exc})") from None
        self.received += len(data)
        return data

    def text(self) -> str:
        try:
            return self.read().decode("utf-8", "replace")
        except StreamError as exc:
            raise LiveError(str(exc), path=self.url) from None
        finally:
            self.close()

    def json(self) -> Any:
        text = self.text()
        try:
            return json.loads(text)
        except ValueError:
            raise LiveError(f"expected JSON from the 3.x server, got {text[:200]!r}", path=self.url) from None

    def close(self) -> None:
        self._resp.close()
        self._conn.close()


class LiveClient:
    def __init__(self, server: str, options: LiveOptions | None = None) -> None:
        self.server = server
        self.o = options or LiveOptions()
        u = urllib.parse.urlsplit(server)
        self.https = u.scheme == "https"
        self.host = u.hostname or ""
        self.port = u.port or (443 if self.https else 80)
        self.token: str | None = None
        self.token_renewals = 0
        if self.o.api_key:
            try:
                oauth.split_api_key(self.o.api_key)
            except ValueError:
                raise LiveError("--api-key must be NAME/SECRET", path=server) from None
        self._ssl = self._context() if self.https else None

    def _context(self) -> ssl.SSLContext:
        if self.o.verify is False:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        if isinstance(self.o.verify, str):
            return ssl.create_default_context(cafile=self.o.verify)
        return ssl.create_default_context()

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.o.timeout, context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.o.timeout)

    # -- requests ------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send; the response of any status once authentication is settled (the caller checks it)."""
        url = self.server + path
        tries = 0
        while True:
            resp = self._send(method, path, body, headers or {})
            if not self.o.api_key or resp.status not in (401, 412):
                return resp
            tries += 1
            detail = resp.text()
            if tries >= AUTH_RETRIES:
                raise LiveError(f"the 3.x server still refuses the API key after {tries} tries "
                                f"({resp.status}): {detail[:500]}", path=url)
            self.token = self._fetch_token(resp)
            self.token_renewals += 1

    def ok(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
           what: str = "request") -> Response:
        """:meth:`request`, raising :class:`LiveError` unless the status is 2xx."""
        resp = self.request(method, path, body, headers)
        if not 200 <= resp.status < 300:
            text = resp.text()
            raise LiveError(f"{what} failed: {resp.status} {text[:500]}", path=self.server + path)
        return resp

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Response:
        url = self.server + path
        headers = dict(headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = self._connect()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            if resp.status == 401 and self.o.user and not self.o.api_key:
                resp = self._windows(conn, resp, method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise LiveError(f"cannot reach the 3.x server ({type(exc).__name__}: {exc})", path=url) from None
        return Response(conn, resp, url)

    # -- API key -------------------------------------------------------------------------------
    def _fetch_token(self, refused: Response) -> str:
        source = refused.headers.get("OAuth-Source")
        if source and not source.lower().endswith("/oauth/api-key"):
            return self._legacy_token(source)
        source = source or f"{self.server}/OAuth/API-Key"
        u = urllib.parse.urlsplit(source)
        path = u.path + (f"?{u.query}" if u.query else "")
        headers = {"grant_type": "client_credentials", "Accept": "application/json; charset=UTF-8"}
        body = b""
        for _ in range(AUTH_RETRIES):
            saved, self.token = self.token, None
            try:
                resp = self._send("POST", path, body, headers)
            finally:
                self.token = saved
            if resp.status == 200:
                return resp.text()
            text = resp.text()
            if resp.status != 412:
                raise LiveError(f"the 3.x server refused the API key {oauth.split_api_key(self.o.api_key)[0]!r} "
                                f"({resp.status}): {_oauth_error(text)}", path=source)
            try:
                body = oauth.answer(resp.headers.get("WWW-Authenticate", ""), self.o.api_key).encode("utf-8")
            except ValueError as exc:
                raise LiveError(f"unexpected API-key challenge: {exc}", path=source) from None
        raise LiveError(f"no token after {AUTH_RETRIES} API-key handshakes", path=source)

    def _legacy_token(self, source: str) -> str:
        """An ``OAuth-Source`` other than ``/OAuth/API-Key``: GET with the key in ``Api-Key``
        (Authenticator.GetLegacyOAuthToken), refused over http unless allowed."""
        if not source.lower().startswith("https") and not self.o.basic_over_http:
            raise LiveError("the server's OAuth source uses plain http, which would send the API key in clear "
                            "text; pass --basic-auth-over-http to allow it", path=source)
        u = urllib.parse.urlsplit(source)
        other = LiveClient(f"{u.scheme}://{u.netloc}", LiveOptions(verify=self.o.verify, timeout=self.o.timeout))
        resp = other.request("GET", u.path + (f"?{u.query}" if u.query else ""), headers={
            "grant_type": "client_credentials", "Accept": "application/json; charset=UTF-8",
            "Api-Key": self.o.api_key or ""})
        if resp.status != 200:
            raise LiveError(f"the OAuth source refused the API key ({resp.status}): {resp.text()[:500]}", path=source)
        return resp.text()

    # -- Windows -------------------------------------------------------------------------------
    def _windows(self, conn: http.client.HTTPConnection, first: http.client.HTTPResponse, method: str,
                 path: str, body: bytes | None, headers: dict[str, str]) -> http.client.HTTPResponse:
        offered = [v.split(" ", 1)[0] for v in first.headers.get_all("WWW-Authenticate") or []]
        scheme = "NTLM" if "NTLM" in offered else "Negotiate" if "Negotiate" in offered else None
        if scheme is None:
            return first
        first.read()
        import spnego  # only for Windows credentials

        user = f"{self.o.domain}\\{self.o.user}" if self.o.domain else self.o.user
        ctx = spnego.client(user, self.o.password, hostname=self.host, service="HTTP",
                            protocol="ntlm" if scheme == "NTLM" else "negotiate")
        token = ctx.step()
        while True:
            conn.request(method, path, body=body, headers={**headers, "Authorization": f"{scheme} "
                                                           f"{base64.b64encode(token).decode()}"})
            resp = conn.getresponse()
            challenge = next((v.split(" ", 1)[1] for v in resp.headers.get_all("WWW-Authenticate") or []
                              if v.startswith(scheme + " ") and len(v.split(" ", 1)) == 2), None)
            if resp.status != 401 or challenge is None or ctx.complete:
                if resp.status == 401:
                    resp.read()
                    raise LiveError(f"the 3.x server refused the Windows credentials of {user!r}",
                                    path=self.server + path)
                return resp
            resp.read()
            token = ctx.step(base64.b64decode(challenge))


def _oauth_error(text: str) -> str:
    try:
        data = json.loads(text)
        return f"{data.get('error')}: {data.get('error_description')}"
    except (ValueError, AttributeError):
        return text[:500]
