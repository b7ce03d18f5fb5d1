"""A RavenDB 3.x server emulator for the live-import tests (docs/live3x.md).

No 3.x server runs on Linux, so this serves any source ravenmigrate reads (a dump, raw Voron
storage) as one 3.x database, with the endpoints, parameters, headers, status codes and stream
formats of the 3.x controllers the live import uses; every behaviour is cited in docs/live3x.md
to its file on the public 3.x source (mynkow/ravendb, branches v3.0 and v3.5)::

    python tests/emulator3x.py SRC --port P [--name db] [--api-key NAME/SECRET] [--build 35xxx|3xxx]

Test knobs that no 3.x server has are marked as such: ``--token-ttl`` (3.x: 30 minutes),
``--docs-per-second`` (a slow export), ``--stall-after-docs`` (the export stops sending, so a
test can kill the emulator mid-stream), ``--windows USER:PASSWORD`` (NTLM through pyspnego's
acceptor), and ``GET /__emulator/state`` (what was asked and issued, for assertions).

Data can change between runs through the 3.x batch endpoint ``POST /databases/{db}/bulk_docs``
(PUT and DELETE commands), with the PeriodicExport bundle's tombstones, so deletions are exported.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import re
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ravenmigrate.records import (
    Attachment,
    AttachmentDeletion,
    Document,
    DocumentDeletion,
    File,
    Identity,
    Index,
)
from ravenmigrate.sinks.server.jsonout import dumps
from ravenmigrate.sources import open_source
from ravenmigrate.sources.live3x import oauth
from ravenmigrate.sources.live3x.etag import to_int, to_str

# 3.x etags of one run of a server: the "restarts" half fixed, "changes" counting (Etag.cs).
RESTARTS = 0x0100000000000001 << 64
TOKEN_TTL = 30 * 60  # AccessTokenBody.IsExpired: 30 minutes
MAX_CHALLENGE_AGE = 10 * 60  # OAuthController.MaxChallengeAge
MAX_OAUTH_CONTENT = 1500  # OAuthController.MaxOAuthContentLength
NEVER_SECRET = ("/", "/build/version", "/OAuth/API-Key")  # NeverSecret.cs (the ones used here)
# SmugglerDatabaseApiBase.FilterIdentity: never exported.
SKIPPED_IDENTITIES = ("raven/etag", "indexid", "raven/subscriptions")
ETAG_IN_METADATA = re.compile(rb'"@etag"\s*:\s*(?:"[^"]*"|null)')
FLUSH_EVERY = 64  # documents between flushes of the gzip stream


class Database:
    """One 3.x database in memory: documents and attachments by etag, PeriodicExport tombstones,
    indexes, identities. Guarded by ``lock``; every change takes the next etag."""

    def __init__(self, name: str, periodic_export: bool = True) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.changes = 0
        self.docs: dict[str, tuple[str, bytes, int]] = {}  # lower key -> (key, JSON bytes, etag)
        self.attachments: dict[str, tuple[str, bytes, Any, int]] = {}
        self.doc_tombstones: dict[str, tuple[str, int]] = {}
        self.attachment_tombstones: dict[str, tuple[str, int]] = {}
        self.indexes: list[tuple[str, Any]] = []
        self.identities: dict[str, int] = {}
        self.files: dict[str, tuple[str, bytes | None, Any, int]] = {}  # a RavenFS source: served as /fs/NAME
        self.periodic_export = periodic_export

    def next_etag(self) -> int:
        self.changes += 1
        return RESTARTS | self.changes

    def load(self, source: str) -> None:
        for rec in open_source(source).records():
            if isinstance(rec, Document):
                self.put_raw(rec.id, rec.data, rec.metadata_span)
            elif isinstance(rec, Attachment):
                self.attachments[rec.key.lower()] = (rec.key, rec.data, rec.metadata, self.next_etag())
            elif isinstance(rec, Index):
                self.indexes.append((rec.name, rec.definition))
            elif isinstance(rec, Identity):
                self.identities[rec.key] = rec.value
            elif isinstance(rec, DocumentDeletion):
                self.delete(rec.key)
            elif isinstance(rec, AttachmentDeletion):
                self.attachments.pop(rec.key.lower(), None)
            elif isinstance(rec, File):
                data = None if rec.content is None else b"".join(rec.content.chunks())
                self.files[rec.key.lower()] = (rec.key, data, rec.metadata, self.next_etag())

    def put_raw(self, key: str, data: bytes, span: tuple[int, int] | None) -> int:
        """Store *data* (a whole 3.x document, ``@metadata`` included) under the next etag; its
        ``@etag`` is rewritten when served."""
        etag = self.next_etag()
        if span is None:
            data = data.rstrip()[:-1] + b', "@metadata": {}}'
        self.docs[key.lower()] = (key, data, etag)
        self.doc_tombstones.pop(key.lower(), None)  # AncestryPutTrigger
        return etag

    def put(self, key: str, document: dict, metadata: dict) -> int:
        """A PUT of the batch endpoint: the document as 3.x returns it (``ToJson``: body, then
        ``@metadata`` with ``@id``, ``Last-Modified``, ``Raven-Last-Modified``, ``@etag``)."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
        meta = {k: v for k, v in metadata.items() if not k.startswith("@")}
        meta.update({"@id": key, "Last-Modified": stamp + "Z", "Raven-Last-Modified": stamp,
                     "@etag": None, "Non-Authoritative-Information": False})
        data = dumps({**{k: v for k, v in document.items() if k != "@metadata"}, "@metadata": meta})
        return self.put_raw(key, data, (0, 0))

    def delete(self, key: str) -> int | None:
        """A DELETE; with the PeriodicExport bundle a tombstone (VirtualDeleteTrigger)."""
        found = self.docs.pop(key.lower(), None)
        if found is None:
            return None
        etag = self.next_etag()
        if self.periodic_export:
            self.doc_tombstones[key.lower()] = (found[0], etag)
        return etag

    def put_attachment(self, key: str, data: bytes, metadata: dict) -> int:
        """StaticController.StaticPut; AttachmentAncestryPutTrigger drops the key's tombstone."""
        etag = self.next_etag()
        self.attachments[key.lower()] = (key, data, metadata, etag)
        self.attachment_tombstones.pop(key.lower(), None)
        return etag

    def delete_attachment(self, key: str) -> bool:
        """StaticController.StaticDelete; with the PeriodicExport bundle a tombstone
        (VirtualAttachmentDeleteTrigger)."""
        found = self.attachments.pop(key.lower(), None)
        if found is not None and self.periodic_export:
            self.attachment_tombstones[key.lower()] = (found[0], self.next_etag())
        return found is not None

    def stats(self) -> dict[str, Any]:
        last_doc = max((e for _, _, e in self.docs.values()), default=0)
        last_att = max((a[3] for a in self.attachments.values()), default=0)
        return {"LastDocEtag": to_str(last_doc), "LastAttachmentEtag": to_str(last_att),
                "CountOfDocuments": len(self.docs), "CountOfAttachments": len(self.attachments),
                "CountOfIndexes": len(self.indexes), "DatabaseId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.name))}


def served_document(data: bytes, etag: int) -> bytes:
    """The stored document with its ``@etag`` set to *etag*."""
    value = f'"@etag": "{to_str(etag)}"'.encode()
    new, n = ETAG_IN_METADATA.subn(value, data, count=1)
    if n:
        return new
    at = data.find(b'"@metadata"')
    brace = data.find(b"{", at)
    inner = data[brace + 1:].lstrip()
    return data[:brace + 1] + value + (b"" if inner.startswith(b"}") else b",") + data[brace + 1:]


class Export:
    """One ``studio-tasks/exportDatabase`` answer, written as 3.x's DatabaseDataDumper does
    (SmugglerDatabaseApiBase.ExportData, RunSingleExportAsync, RunLastExportAsync; SmugglerExporter)."""

    def __init__(self, db: Database, options: dict[str, Any], settings: argparse.Namespace) -> None:
        self.db = db
        self.o = options
        self.settings = settings
        self.documents_sent = 0
        types = int(options.get("OperateOnTypes") or 0)
        self.documents, self.indexes, self.attachments = types & 1, types & 2, types & 4
        self.deletions = bool(options.get("ExportDeletions"))
        self.start = {k: to_int(options.get(k)) for k in ("StartDocsEtag", "StartAttachmentsEtag",
                                                          "StartDocsDeletionEtag", "StartAttachmentsDeletionEtag")}
        self.state = {"LastDocsEtag": options.get("StartDocsEtag"),
                      "LastAttachmentsEtag": options.get("StartAttachmentsEtag"),
                      "LastDocDeleteEtag": options.get("StartDocsDeletionEtag"),
                      "LastAttachmentsDeleteEtag": options.get("StartAttachmentsDeletionEtag")}

    def chunks(self):
        """The export's JSON text, in pieces (the caller gzips them)."""
        db = self.db
        with db.lock:  # a snapshot: nothing changes during an emulated export
            docs = sorted((e, k, d) for k, d, e in db.docs.values() if e > self.start["StartDocsEtag"])
            atts = sorted((a[3], a[0], a[1], a[2]) for a in db.attachments.values()
                          if a[3] > self.start["StartAttachmentsEtag"])
            doc_dels = sorted((e, k) for k, e in db.doc_tombstones.values() if e > self.start["StartDocsDeletionEtag"])
            att_dels = sorted((e, k) for k, e in db.attachment_tombstones.values()
                              if e > self.start["StartAttachmentsDeletionEtag"])
            indexes = list(db.indexes)
            identities = dict(db.identities)
        yield b'{\r\n  "Docs": ['
        if self.documents:
            for i, (etag, _key, data) in enumerate(docs):
                yield (b"," if i else b"") + b"\r\n    " + served_document(data, etag)
                self.documents_sent += 1
                self.state["LastDocsEtag"] = to_str(etag)
                yield from self._pace(i + 1)
        yield b'\r\n  ],\r\n  "Attachments": ['
        if self.attachments:
            for i, (etag, key, data, meta) in enumerate(atts):
                item = {"Data": base64.b64encode(data).decode(), "Metadata": meta, "Key": key, "Etag": to_str(etag)}
                yield (b"," if i else b"") + b"\r\n    " + dumps(item)
                self.state["LastAttachmentsEtag"] = to_str(etag)
        yield b"\r\n  ]"
        if self.deletions:  # DatabaseDataDumper.ExportDeletions
            for name, items, field in (("DocsDeletions", doc_dels, "LastDocDeleteEtag"),
                                       ("AttachmentsDeletions", att_dels, "LastAttachmentsDeleteEtag")):
                yield f',\r\n  "{name}": ['.encode()
                for i, (etag, key) in enumerate(items):
                    yield (b"," if i else b"") + b"\r\n    " + dumps({"Key": key})
                    self.state[field] = to_str(etag)
                yield b"\r\n  ]"
        yield b',\r\n  "Indexes": ['
        if self.indexes:
            yield b",".join(b"\r\n    " + dumps({"name": n, "definition": d}) for n, d in indexes)
        yield b'\r\n  ],\r\n  "Transformers": []'
        # RunLastExportAsync. Multi-part export (3.5; 3.0 from build 30100, DetectServerSupportedFeatures):
        # ExportItems writes what changed meanwhile (nothing here), then the identities with string
        # values (SmugglerExporter.WriteIdentities), the section only when there are some. Otherwise
        # ExportIdentities: always the section, integer values.
        kept = [(k, v) for k, v in identities.items() if k.lower() not in SKIPPED_IDENTITIES and self.documents]
        multi_part = self.settings.build >= 35000
        if kept or not multi_part:
            yield b',\r\n  "Identities": [' + b",".join(
                b"\r\n    " + dumps({"Key": k, "Value": str(v) if multi_part else v}) for k, v in kept) + b"\r\n  ]"
        yield b"\r\n}"
        if self.deletions:  # ExportData: Operations.PurgeTombstones after an export with deletions
            with db.lock:
                for table, field in ((db.doc_tombstones, "LastDocDeleteEtag"),
                                     (db.attachment_tombstones, "LastAttachmentsDeleteEtag")):
                    upto = to_int(self.state[field])
                    for low in [k for k, (_, e) in table.items() if e < upto]:
                        del table[low]

    def _pace(self, sent: int):
        s = self.settings
        if sent % FLUSH_EVERY == 0:
            yield None  # flush
        if s.docs_per_second:
            time.sleep(1.0 / s.docs_per_second)
        if s.stall_after_docs and sent == s.stall_after_docs:
            yield None
            threading.Event().wait()  # until the test kills the emulator


class Tokens:
    """The OAuth side of a 3.x server: its RSA key pair and challenge AES key
    (OAuthServerHelper), the API key (Raven/ApiKeys/NAME), signed access tokens (AccessToken)."""

    def __init__(self, api_key: str, ttl: float) -> None:
        self.name, self.secret = oauth.split_api_key(api_key)
        self.ttl = ttl
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.private.public_key().public_numbers()
        self.exponent = base64.b64encode(numbers.e.to_bytes(3, "big")).decode()
        self.modulus = base64.b64encode(numbers.n.to_bytes(256, "big")).decode()
        self.aes_key, self.aes_iv = os.urandom(32), os.urandom(16)
        self.issued = 0

    def challenge_header(self) -> str:
        """RespondWithChallenge: ``Raven `` + `` `` + exponent, modulus and the encrypted challenge."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        salt = base64.b64encode(os.urandom(oauth.CHALLENGE_SALT_LENGTH)).decode()
        plain = oauth.dictionary_to_string({"pepper": now, "salt": salt})
        challenge = base64.b64encode(oauth.aes_cbc(self.aes_key, self.aes_iv, plain.encode(), True)).decode()
        return "Raven  " + oauth.dictionary_to_string({"exponent": self.exponent, "modulus": self.modulus,
                                                       "challenge": challenge})

    def answer(self, body: str) -> tuple[int, Any]:
        """ApiKeyPost for a non-empty body: (status, JSON or None for a new challenge)."""
        fields = oauth.parse_dictionary(body)
        if fields.get("exponent") != self.exponent or fields.get("modulus") != self.modulus or not fields.get("data"):
            return 412, None
        raw = base64.b64decode(fields["data"])
        try:
            sealed = self.private.decrypt(raw[:256], oauth.OAEP_SHA1)
            inner = oauth.aes_cbc(sealed[:32], sealed[32:], raw[256:], False).decode()
        except ValueError:
            return 412, None
        data = oauth.parse_dictionary(inner)
        name, challenge, response = data.get("api key name"), data.get("challenge"), data.get("response")
        if not name or not challenge or not response:
            return 412, None
        try:
            pepper = oauth.parse_dictionary(oauth.aes_cbc(self.aes_key, self.aes_iv, base64.b64decode(challenge),
                                                          False).decode()).get("pepper", "")
            issued = datetime.datetime.strptime(pepper[:26], "%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            return 412, None
        age = (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - issued).total_seconds()
        if age > MAX_CHALLENGE_AGE or age < -1:
            return 412, None
        if name != self.name:
            return 401, {"error": "unauthorized_client", "error_description": "Unknown API Key"}
        if response != oauth.challenge_response(challenge, self.secret):
            return 401, {"error": "unauthorized_client", "error_description": "Invalid challenge response"}
        return 200, self.token(name)

    def token(self, name: str) -> dict[str, str]:
        """AccessToken.Create: a compact JSON body signed (RSA, SHA-1) over its UTF-16LE bytes."""
        self.issued += 1
        epoch = datetime.datetime(1, 1, 1)
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        body = json.dumps({"UserId": name, "AuthorizedDatabases": [{"TenantId": "*", "Admin": False,
                                                                    "ReadOnly": False}],
                           "Issued": (now - epoch).total_seconds() * 1000}, separators=(",", ":"))
        signature = self.private.sign(body.encode("utf-16-le"), padding.PKCS1v15(), hashes.SHA1())
        return {"Body": body, "Signature": base64.b64encode(signature).decode()}

    def check(self, header: str | None) -> str | None:
        """None when the bearer token is good, else the reason (OAuthRequestAuthorizer.TryAuthorize)."""
        if not header or not header.startswith("Bearer ") or len(header) <= len("Bearer "):
            return "The access token is required"
        try:
            token = json.loads(header[len("Bearer "):])
            self.private.public_key().verify(base64.b64decode(token["Signature"]), token["Body"].encode("utf-16-le"),
                                             padding.PKCS1v15(), hashes.SHA1())
            body = json.loads(token["Body"])
        except Exception:  # noqa: BLE001 - any malformed token is "invalid", as AccessToken.TryParseBody
            return "The access token is invalid"
        issued = datetime.datetime(1, 1, 1) + datetime.timedelta(milliseconds=body["Issued"])
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if (now - issued).total_seconds() > self.ttl:
            return "The access token is expired"
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, settings: argparse.Namespace, db: Database) -> None:
        super().__init__(address, Handler)
        self.settings = settings
        self.db = db
        self.tokens = Tokens(settings.api_key, settings.token_ttl) if settings.api_key else None
        self.operations: dict[int, dict[str, Any]] = {}
        self.next_operation = 0
        self.log: dict[str, Any] = {"exports": [], "rejected": [], "windows_logins": 0}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.settings.verbose:
            super().log_message(fmt, *args)

    # -- plumbing ------------------------------------------------------------------------------
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: Any = b"", headers: dict[str, Any] | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            for one in v if isinstance(v, list) else [v]:
                self.send_header(k, one)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _own_url(self) -> str:
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return f"http://{host}"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        body = self._body()
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if path.startswith("/__emulator/"):
            return self._emulator(path)
        if self.server.settings.windows and not self._windows_ok():
            return
        if path == "/OAuth/API-Key" and method == "POST" and self.server.tokens:
            return self._oauth(body)
        if self.server.tokens and path not in NEVER_SECRET and not self._token_ok():
            return
        self._route(method, path, query, body)

    # -- authentication --------------------------------------------------------------------------
    def _token_ok(self) -> bool:
        """MixedModeRequestAuthorizer: no bearer token -> the Windows authorizer's 401 with
        ``Raven-Required-Auth`` and ``OAuth-Source``; a bad or expired one -> OAuthRequestAuthorizer's
        401 with a Bearer ``WWW-Authenticate``."""
        header = self.headers.get("Authorization")
        source = self._own_url() + "/OAuth/API-Key"
        if not header or not header.startswith("Bearer "):
            self.server.log["rejected"].append("no token")
            self._send(401, b"", {"Raven-Required-Auth": "Windows", "OAuth-Source": source})
            return False
        reason = self.server.tokens.check(header)
        if reason is None:
            return True
        self.server.log["rejected"].append(reason)
        self._send(401, b"", {"OAuth-Source": source, "Access-Control-Expose-Headers": "WWW-Authenticate, OAuth-Source",
                              "WWW-Authenticate": f'Bearer realm="Raven", error="invalid_token",'
                                                  f'error_description="{reason}"'})
        return False

    def _oauth(self, body: bytes) -> None:
        tokens = self.server.tokens
        if len(body) > MAX_OAUTH_CONTENT:
            return self._send(400, {"error": "invalid_request",
                                    "error_description": f"Content length should not be over {MAX_OAUTH_CONTENT} bytes"})
        status, answer = (412, None) if not body else tokens.answer(body.decode("utf-8", "replace"))
        if status == 412:
            return self._send(412, b"", {"WWW-Authenticate": tokens.challenge_header(),
                                         "Access-Control-Expose-Headers": "WWW-Authenticate, OAuth-Source"})
        self._send(status, answer)

    def _windows_ok(self) -> bool:
        """HttpListener with Windows authentication: 401 offering Negotiate and NTLM, then the NTLM
        exchange on this connection (pyspnego's acceptor with the emulator's one user)."""
        import spnego

        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme not in ("NTLM", "Negotiate") or not token:
            self._send(401, b"", {"WWW-Authenticate": ["Negotiate", "NTLM"], "Raven-Required-Auth": "Windows"})
            return False
        ctx = getattr(self, "_ntlm", None)
        if ctx is None or ctx.complete:
            ctx = self._ntlm = spnego.server(protocol="ntlm")
        try:
            out = ctx.step(base64.b64decode(token))
        except Exception:  # noqa: BLE001 - a failed login is a 401, as HttpListener answers
            self._ntlm = None
            self._send(401, b"", {"WWW-Authenticate": ["Negotiate", "NTLM"]})
            return False
        if not ctx.complete:
            self._send(401, b"", {"WWW-Authenticate": f"{scheme} {base64.b64encode(out).decode()}"})
            return False
        self._ntlm = None
        self.server.log["windows_logins"] += 1
        return True

    # -- the 3.x endpoints ---------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        s = self.server.settings
        if path == "/build/version" and method == "GET":  # BuildController
            return self._send(200, {"ProductVersion": s.product, "BuildVersion": str(s.build)})
        db = self.server.db
        if path == "/databases" and method == "GET":  # DatabasesController
            return self._send(200, [] if db.files else [db.name])
        if path == "/fs" and method == "GET":  # FileSystemsController
            return self._send(200, [db.name] if db.files else [])
        m = re.fullmatch(r"/fs/([^/]+)/(streams/files|files/.+)", path)
        if m and db.files and m.group(1).lower() == db.name.lower() and method == "GET":
            return self._files_stream(query) if m.group(2) == "streams/files" else self._file(m.group(2)[6:])
        m = re.fullmatch(r"/databases/([^/]+)/(.+)", path)
        if not m or m.group(1).lower() != db.name.lower() or db.files:
            # an unknown database or file system is 503 (3.5 Raven.Database/Common/ResourceApiController.cs)
            name = re.match(r"/(?:databases|fs)/([^/]+)", path)
            return self._send(503, {"Error": f"Could not find a resource named: {name.group(1) if name else path}"})
        rest = m.group(2)
        if rest == "studio-tasks/next-operation-id" and method == "GET" and s.build >= 35000:
            with self.server.lock:
                self.server.next_operation += 1
                return self._send(200, self.server.next_operation)
        if rest == "studio-tasks/exportDatabase" and method == "POST":
            return self._export(body)
        if rest == "operation/status" and method == "GET" and s.build >= 35000:
            return self._status(query.get("id", ""))
        if rest == "stats" and method == "GET":
            with self.server.db.lock:
                return self._send(200, self.server.db.stats())
        if rest == "bulk_docs" and method == "POST":
            return self._batch(body)
        if rest.startswith("static/") and method in ("PUT", "DELETE"):
            return self._static(method, rest[len("static/"):], body)
        self._send(400, {"Error": f"emulator: no route for {method} {path}"})

    def _files_stream(self, query: dict[str, str]) -> None:
        """FilesStreamsController.StreamFilesGet: up to ``pageSize`` FileHeaders after ``etag``, each
        followed by a new line, in ``{"Results": [...]}``."""
        db = self.server.db
        after, size = to_int(query.get("etag")), int(query.get("pageSize") or 2**31 - 1)
        with db.lock:
            files = sorted((e, k, d, m) for k, d, m, e in db.files.values() if e > after)[:size]
        headers = []
        for e, key, data, meta in files:
            name = key.rsplit("/", 1)[-1]
            directory = "/" + key.rsplit("/", 1)[0] if "/" in key else "/"
            length = None if data is None else len(data)
            headers.append(dumps({"Name": name, "FullPath": "/" + key, "Directory": directory, "Path": directory,
                                  "Extension": os.path.splitext(name)[1], "TotalSize": length, "UploadedSize": length or 0,
                                  "Metadata": meta, "Etag": to_str(e), "IsTombstone": False}))
        self._send(200, b'{"Results":[' + b",".join(h + b"\r\n" for h in headers) + b"]}")

    def _file(self, escaped: str) -> None:
        """FilesController.Get: the bytes, 404 for an unknown (or deleted) file."""
        found = self.server.db.files.get(escaped.lower())
        if found is None or found[1] is None:
            return self._send(404, b"")
        self._send(200, found[1], content_type="application/octet-stream")

    def _export(self, body: bytes) -> None:
        """StudioTasksController.ExportDatabase: 3.5 reads ``DownloadOptions`` and
        ``ProgressTaskId``, 3.0 ``SmugglerOptions``; a PushStreamContent (chunked) of the gzip export."""
        s = self.server.settings
        request = json.loads(body or b"{}")
        inner = request.get("SmugglerOptions" if s.build < 35000 else "DownloadOptions")
        if not isinstance(inner, str):
            return self._send(500, {"Error": "Value cannot be null.\r\nParameter name: s"})
        options = json.loads(inner)
        task = int(request.get("ProgressTaskId") or 0)
        self.server.log["exports"].append({"request": request, "options": options})
        export = Export(self.server.db, options, s)
        status = {"Completed": False, "Faulted": False, "Canceled": False, "State": {"Progress": None},
                  "ExceptionDetails": None, "OperationState": None}
        if s.build >= 35000:
            self.server.operations[task] = status
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", f'attachment; filename="Dump of {self.server.db.name}.ravendbdump"')
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        gz = zlib.compressobj(6, zlib.DEFLATED, 31)
        started = time.monotonic()
        for piece in export.chunks():
            out = gz.flush(zlib.Z_SYNC_FLUSH) if piece is None else gz.compress(piece)
            self._chunk(out)
        self._chunk(gz.flush())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        status.update(Completed=True, State={"Progress": f"Completed export, took: {int(time.monotonic() - started)} "
                                                         "seconds"},
                      OperationState={"FilePath": None, "NumberOfExportedDocuments": export.documents_sent,
                                      "NumberOfExportedAttachments": 0, **export.state})

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def _status(self, text: str) -> None:
        """OperationsController.OperationStatusGet: 400 for a bad id, 404 for an unknown one."""
        try:
            task = int(text)
        except ValueError:
            return self._send(400, {"Error": "Query string variable id must be a valid int64"})
        status = self.server.operations.get(task)
        if status is None:
            return self._send(404, b"")
        self._send(200, status)

    def _batch(self, body: bytes) -> None:
        """DocumentsBatchController.BulkPost: PUT and DELETE commands, one etag each."""
        db = self.server.db
        results = []
        with db.lock:
            for cmd in json.loads(body, parse_float=Decimal):
                key, method = cmd.get("Key"), cmd.get("Method")
                if method == "PUT":
                    etag = db.put(key, cmd.get("Document") or {}, cmd.get("Metadata") or {})
                    results.append({"Method": "PUT", "Key": key, "Etag": to_str(etag), "Metadata": cmd.get("Metadata")})
                elif method == "DELETE":
                    deleted = db.delete(key)
                    results.append({"Method": "DELETE", "Key": key, "Etag": None, "Deleted": deleted is not None})
                else:
                    return self._send(500, {"Error": f"emulator: batch method {method!r} is not emulated"})
        self._send(200, results)

    def _static(self, method: str, key: str, body: bytes) -> None:
        """StaticController: PUT stores the body with the request's non-standard headers as metadata
        (``FilterHeadersAttachment``; here: ``Content-Type`` and ``Raven-*``/``X-*``), 201 and the
        ``ETag``; DELETE 204."""
        db = self.server.db
        with db.lock:
            if method == "DELETE":
                db.delete_attachment(key)
                return self._send(204, b"")
            meta = {k: v for k, v in self.headers.items()
                    if k.lower() == "content-type" or k.lower().startswith(("raven-", "x-"))}
            etag = db.put_attachment(key, body, meta)
        self._send(201, b"", {"ETag": f'"{to_str(etag)}"'})

    def _emulator(self, path: str) -> None:
        """Test-only: what the emulator was asked and issued."""
        tokens = self.server.tokens
        self._send(200, {**self.server.log, "tokens_issued": tokens.issued if tokens else 0,
                         "stats": self.server.db.stats()})


def self_signed(folder: Path, host: str) -> tuple[str, str]:
    """A new key and self-signed certificate for *host* (an IP address), as PEM files in *folder*."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SRC", help="any source ravenmigrate reads")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--name", default="db", help="the database name (default db)")
    p.add_argument("--api-key", metavar="NAME/SECRET", help="require this API key (OAuth)")
    p.add_argument("--build", type=int, default=35261, help="BuildVersion: 35xxx (3.5) or 3xxx (3.0, e.g. 3690); default 35261")
    p.add_argument("--windows", metavar="USER:PASSWORD", help="test knob: require NTLM for this user")
    p.add_argument("--token-ttl", type=float, default=TOKEN_TTL, help="test knob: token lifetime (s)")
    p.add_argument("--docs-per-second", type=float, default=0.0, help="test knob: a slow export")
    p.add_argument("--stall-after-docs", type=int, default=0, help="test knob: stop sending after N documents")
    p.add_argument("--no-periodic-export", action="store_true",
                   help="without the PeriodicExport bundle: deletions leave no tombstones")
    p.add_argument("--https", metavar="DIR",
                   help="test knob: serve HTTPS with a new self-signed certificate for 127.0.0.1, written to DIR/cert.pem")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    args.product = "3.5" if args.build >= 35000 else "3.0"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.windows:
        user, _, password = args.windows.partition(":")
        users = Path(tempfile.mkdtemp(prefix="emulator3x-")) / "ntlm-users"
        users.write_text(f":{user}:{password}\n")
        os.environ["NTLM_USER_FILE"] = str(users)
    db = Database(args.name, periodic_export=not args.no_periodic_export)
    db.load(args.source)
    server = Server((args.host, args.port), args, db)
    scheme = "http"
    if args.https:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self_signed(Path(args.https), args.host))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print(f"emulator3x: {args.source} as {args.name} (build {args.build}, {len(db.docs)} documents) on "
          f"{scheme}://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
