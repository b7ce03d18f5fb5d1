"""Pre-flight: what the target server is and what this client certificate may do there, checked
before anything is sent (``load`` runs it first; ``ravenmigrate check-target`` runs it alone).

Facts (docs/security.md, from the 4.1 sources):
- every request of a secured server is authorized by the clearance of the client certificate's
  registration (``src/Raven.Server/Routing/RequestRouter.cs`` TryAuthorize): ClusterAdmin and
  Operator may do everything a load needs; a ValidUser certificate only reaches the databases of
  its ``Permissions``, with ``ReadWrite`` or ``Admin`` access;
- ``/certificates/whoami`` (ValidUser) answers the registration: Name, SecurityClearance,
  Permissions (``AdminCertificatesHandler.cs`` WhoAmI); an unknown, expired or missing
  certificate gets 403 ``InvalidAuth`` on every endpoint but a few public ones;
- the steps' endpoints: the import (``/databases/*/smuggler/import``) and bulk insert need
  database access (ReadWrite); creating a database (``PUT /admin/databases``) and the secrets
  endpoints need Operator; ``POST /databases/*/admin/revisions/config`` and ``PUT
  /databases/*/admin/indexes`` need DatabaseAdmin (Admin access to that database).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ...errors import RavenMigrateError, ServerError
from .client import AuthorizationError, RavenClient, TlsError
from .http import TransientError, classify
from .target import Target

OPERATOR = ("ClusterAdmin", "ClusterNode", "Operator")
TESTED_MAJOR = 4


class PreflightError(RavenMigrateError):
    """The target cannot take this load: the message names the step, the clearance it needs and
    the endpoint."""


@dataclass
class Needs:
    """What a load will do on the target."""

    write: bool = True
    create: bool = False
    encrypted: bool = False
    revisions: bool = False  # the revisions configuration must be written (merged)
    admin_indexes: bool = False  # bulk-insert transport: indexes through admin/indexes


@dataclass
class Facts:
    url: str
    build: dict[str, Any] = field(default_factory=dict)
    secure: bool = False
    certificate: dict[str, Any] | None = None
    database: str | None = None
    database_exists: bool | None = None
    topology: list[dict[str, Any]] = field(default_factory=list)
    license: dict[str, Any] = field(default_factory=dict)
    revisions_config: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def major(self) -> int | None:
        version = str(self.build.get("ProductVersion") or self.build.get("FullVersion") or "")
        head = version.split(".", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def clearance(self) -> str | None:
        """The certificate's clearance (``None`` on an unsecured server, where everything is allowed)."""
        return self.certificate.get("SecurityClearance") if self.certificate else None

    def access(self, database: str) -> str | None:
        """``Admin``, ``ReadWrite`` (``Read`` on 5.2+) or ``None``: what the certificate may do on *database*."""
        if not self.secure or self.clearance in OPERATOR:
            return "Admin"
        perms = (self.certificate or {}).get("Permissions") or {}
        return next((v for k, v in perms.items() if k.lower() == database.lower()), None)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "build": self.build, "secure": self.secure, "certificate": self.certificate,
                "database": self.database, "database_exists": self.database_exists, "topology": self.topology,
                "license": self.license, "revisions_config": self.revisions_config, "warnings": self.warnings,
                "problems": self.problems}


def inspect(target: Target, database: str | None) -> Facts:
    """Read the server's build, the certificate's registration, the database and the license.

    Raises :class:`PreflightError` when the server cannot be talked to at all (TLS, refused
    certificate, http against https)."""
    facts = Facts(target.url, secure=target.secure, database=database)
    with target.client(timeout=30) as client:
        facts.build = _get(client, "/build/version", "read the server's version")
        facts.warnings.extend(version_warnings(facts))
        if target.secure:
            status, data = _request(client, "/certificates/whoami", "identify the client certificate")
            if status == 204 or not data:
                raise PreflightError(f"{target.url} did not see a client certificate (GET /certificates/whoami "
                                     f"answered {status}): pass --certificate FILE")
            who = json.loads(data)
            facts.certificate = {"Name": who.get("Name"), "Thumbprint": who.get("Thumbprint"),
                                 "SecurityClearance": who.get("SecurityClearance"),
                                 "Permissions": who.get("Permissions") or {}, "NotAfter": who.get("NotAfter")}
        try:
            facts.license = client.json("GET", "/license/status")
        except ServerError:
            facts.license = {}
    if database:
        for i, url in enumerate(target.urls):  # several nodes of one cluster: any that knows the database
            try:
                with target.client(url, timeout=30) as client:
                    _database(client, facts, database)
            except ServerError as exc:
                if i + 1 == len(target.urls) or not isinstance(classify(exc), TransientError):
                    raise
                continue
            if facts.database_exists:
                break
    return facts


def _database(client: RavenClient, facts: Facts, database: str) -> None:
    q = urllib.parse.urlencode({"name": database})
    try:
        status, data = client.request("GET", f"/topology?{q}", ok=(200, 503))
    except AuthorizationError:
        facts.database_exists = None  # the certificate may not even see it
        return
    if status == 503:
        if b"wasn't found" not in data:  # a passive or busy node, not an answer about the database
            raise ServerError(f"GET {client.url}/topology?{q} answered 503", status=503, url=client.url)
        facts.database_exists = False
        return
    facts.database_exists = True
    facts.topology = json.loads(data).get("Nodes") or []
    path = f"/databases/{urllib.parse.quote(database, safe='')}/revisions/config"
    try:
        status, data = client.request("GET", path, ok=(200, 404))
        facts.revisions_config = json.loads(data) if status == 200 and data else None
    except ServerError:
        facts.revisions_config = None


def version_warnings(facts: Facts) -> list[str]:
    major = facts.major
    if major is None or major == TESTED_MAJOR:
        return []
    if major < TESTED_MAJOR:
        return [f"{facts.url} runs RavenDB {facts.build.get('FullVersion')}: ravenmigrate loads RavenDB 4.x and newer"]
    return [f"{facts.url} runs RavenDB {facts.build.get('FullVersion')} (build {facts.build.get('BuildVersion')}); "
            f"ravenmigrate was only tested against RavenDB 4.1: the legacy (3.x) smuggler import, bulk insert, "
            f"the certificate and topology endpoints and the revisions configuration are used as 4.1 defines them "
            f"(docs/security.md \"Newer servers\"); run verify after the load"]


def check(facts: Facts, needs: Needs) -> list[str]:
    """The problems of running *needs* on the target (also stored in ``facts.problems``)."""
    problems: list[str] = []
    db = facts.database or "?"
    who = _who(facts)
    if facts.database_exists is None and facts.secure:
        problems.append(f"{who} may not access database {db!r} (GET /topology?name={db} was refused; the "
                        f"server does not say whether it exists): loading needs ReadWrite or Admin access to "
                        f"{db!r} in the certificate's registration, or Operator clearance; it has "
                        f"{facts.clearance}")
        if needs.create:
            problems.append(f"--create needs the Operator (or ClusterAdmin) clearance for PUT /admin/databases; "
                            f"{who} has {facts.clearance}")
    elif facts.database_exists is False:
        if not needs.create:
            problems.append(f"database {db!r} does not exist on {facts.url} (pass --create to create it)")
        elif facts.secure and facts.clearance not in OPERATOR:
            problems.append(f"--create needs the Operator (or ClusterAdmin) clearance for PUT /admin/databases; "
                            f"{who} has {facts.clearance}")
    if needs.encrypted and needs.create:
        if not facts.secure:
            problems.append("--encrypted needs an https:// server: RavenDB 4.x only serves encrypted databases over "
                            "HTTPS and the key must not travel in clear")
        elif facts.clearance not in OPERATOR:
            problems.append(f"--encrypted needs the Operator (or ClusterAdmin) clearance for /admin/secrets; "
                            f"{who} has {facts.clearance}")
    if facts.database_exists:
        access = facts.access(db)
        if needs.write and access not in ("ReadWrite", "Admin"):  # 5.2+ also registers read-only "Read"
            problems.append(f"{who} has {access or 'no'} access to database {db!r}: loading needs ReadWrite "
                            f"(POST /databases/{db}/smuggler/import, /bulk_insert)")
        if needs.revisions and access != "Admin":
            problems.append(f"the source holds revisions and the revisions configuration of {db!r} must be "
                            f"written (POST /databases/{db}/admin/revisions/config), which needs DatabaseAdmin "
                            f"(Admin access to {db!r}, or Operator); {who} has {facts.clearance} with "
                            f"{access or 'no'} access to {db!r}")
        if needs.admin_indexes and access != "Admin":
            problems.append(f"--transport bulk-insert creates the source's indexes through PUT "
                            f"/databases/{db}/admin/indexes, which needs DatabaseAdmin; {who} has {facts.clearance} "
                            f"with {access} access to {db!r} (the import transport creates them with ReadWrite)")
    facts.problems = problems
    return problems


def _who(facts: Facts) -> str:
    cert = facts.certificate or {}
    return f"certificate {cert.get('Name')!r} ({cert.get('Thumbprint')})" if cert else "the client"


def _get(client: RavenClient, path: str, what: str) -> dict[str, Any]:
    status, data = _request(client, path, what)
    return json.loads(data) if data else {}


def _request(client: RavenClient, path: str, what: str) -> tuple[int, bytes]:
    """GET *path*; a refusal becomes a :class:`PreflightError` saying what could not be done and why."""
    try:
        return client.request("GET", path, ok=(200, 204))
    except (TlsError, AuthorizationError) as exc:
        raise PreflightError(f"cannot {what}: {exc}") from None
    except ServerError as exc:
        if isinstance(classify(exc), TransientError):
            raise  # unreachable or restarting: the caller may retry
        raise PreflightError(f"cannot {what}: {explain(exc)}") from None


_MESSAGE = re.compile(r'"Message":"((?:[^"\\]|\\.)*)"')


def explain(exc: ServerError) -> str:
    """A server error with the server's own message when it sent one (e.g. http:// against https)."""
    text = str(exc)
    m = _MESSAGE.search(text)
    if m:
        return f"{text[:text.find('{')].rstrip(': ')}: {json.loads(chr(34) + m.group(1) + chr(34))}"
    return text[:600]
