"""Shared fixtures: the real RavenDB 4.1 server (session-scoped) and a fresh database per test."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from ravenmigrate.server import EmbeddedServer
from ravenmigrate.sinks.server.client import RavenClient

REPO = Path(__file__).resolve().parent.parent
REAL = REPO.parent / "shared" / "fixtures" / "real"
REFERENCE = REPO.parent / "shared" / "reference"


def real(name: str) -> Path:
    """A real RavenDB-written file from ../shared/fixtures/real (never copied into the repo)."""
    path = REAL / name
    if not path.exists():
        raise FileNotFoundError(f"real fixture {path} is missing (../shared must sit beside the checkout)")
    return path


# Clones of RavenDB's public repository (ravendb/ravendb, or its mirror mynkow/ravendb) to read more real
# RavenDB-written files from by git blob id: RAVENMIGRATE_RAVENDB_GIT (os.pathsep-separated git dirs),
# else the clones the project's research tools leave on this machine.
RAVENDB_GIT = [Path(p) for p in os.environ.get("RAVENMIGRATE_RAVENDB_GIT", "").split(os.pathsep) if p] or [
    Path("/work/.mirror/mynkow+ravendb/repo"), Path("/work/.mirror/ravendb+ravendb/repo")]


def public_ravendb_file(name: str, blob: str, out_dir: Path) -> Path:
    """A real file of RavenDB's public repository: from ../shared/fixtures/real when it is there, else its
    exact bytes by git blob id from a local clone (:data:`RAVENDB_GIT`); the test is skipped without either."""
    import subprocess

    if (REAL / name).exists():
        return REAL / name
    for clone in RAVENDB_GIT:
        if clone.exists():
            found = subprocess.run(["git", "--git-dir", str(clone), "cat-file", "blob", blob],
                                   capture_output=True, check=False)
            if found.returncode == 0:
                out = out_dir / name
                out.write_bytes(found.stdout)
                return out
    pytest.skip(f"{name} (git blob {blob[:8]} of RavenDB's public repository) is not available here")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--twin-pass", action="store_true",
                     help="run a test marked twin_pinned(kind) (a pure and a native variant, tests/twins.py) only "
                          "in the pass whose twins are all of that kind: scripts/test.sh runs the native pass and "
                          "the RAVENMIGRATE_PUREPYTHON=1 pass with it, so each variant runs once, in its own kind")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The session's import of the given dump (given_dump_imported: a database of 658 indexes) slows every
    # database the server creates or drops while it exists: the tests that read it run last.
    last = [i for i in items
            if "given_dump_imported" in getattr(i, "fixturenames", ()) or i.get_closest_marker("given_dump")]
    items[:] = [i for i in items if i not in last] + last
    if not config.getoption("--twin-pass"):
        return
    from ravenmigrate import _twins

    kinds = set(_twins.status().values())
    if len(kinds) != 1:  # some native twin not built: this pass is neither kind, every variant runs
        return
    this = kinds.pop()
    other = [i for i in items if (m := i.get_closest_marker("twin_pinned")) and m.args[0] != this]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [i for i in items if i not in other]


@pytest.fixture(scope="session")
def ravendb():
    """A RavenDB 4.1 server on loopback for the whole session; stopped (not left behind) at the end."""
    srv = EmbeddedServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def ravendb_url(ravendb) -> str:
    return ravendb.url


@pytest.fixture
def new_database(ravendb):
    """Factory: ``new_database()`` creates a fresh database and returns its name; dropped afterwards."""
    created: list[str] = []
    client = RavenClient(ravendb.url)

    def make(prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        client.create_database(name)
        created.append(name)
        return name

    yield make
    if os.environ.get("RAVENMIGRATE_KEEP_DATABASES") != "1":
        for name in created:
            try:
                client.delete_database(name)
            except Exception:  # noqa: BLE001 - a killed server cannot delete; the data dir is temporary
                pass
    client.close()


GIVEN_DUMP = "Indexes_And_Transformers_3.5.ravendump"


@dataclass
class ServerImport:
    """A real 3.x dump imported by RavenDB 4.1 itself (``smuggler/import``, default options)."""

    database: str
    result: dict  # the server's SmugglerResult
    seconds: float


@pytest.fixture(scope="session")
def given_dump_imported(ravendb) -> ServerImport:
    """The given dump's 658 indexes imported by the server once per session (minutes and GBs of
    index storage each time), for the tests that compare against what the server made of it.
    Tests only read this database; it is dropped at the end of the session."""
    import time

    from differential import gzipped

    client = RavenClient(ravendb.url, timeout=1800)
    name = f"given-{uuid.uuid4().hex[:10]}"
    client.create_database(name)
    try:
        started = time.monotonic()
        imported = ServerImport(name, client.smuggler_import(name, [gzipped(real(GIVEN_DUMP))]), time.monotonic() - started)
        print(f"server import of {GIVEN_DUMP} took {imported.seconds:.0f} s")
        yield imported
    finally:
        if os.environ.get("RAVENMIGRATE_KEEP_DATABASES") != "1":
            try:
                client.delete_database(name)
            except Exception:  # noqa: BLE001 - a killed server cannot delete; the data dir is temporary
                pass
        client.close()


@dataclass
class Secured:
    """The secured RavenDB 4.1 and the certificate files the tests use (all made in the session)."""

    server: EmbeddedServer
    ca: Path  # the server's self-signed certificate, PEM: what a client trusts
    admin_pem: Path  # the server certificate with its key, PEM (cluster admin)
    admin_pfx: Path  # the same as PFX, password PFX_PASSWORD
    readwrite_pem: Path  # registered with ReadWrite on READWRITE_DB only
    unknown_pem: Path  # never registered
    expired_pem: Path  # expired yesterday
    other_ca: Path  # a certificate that vouches for nothing here
    dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> RavenClient:
        return RavenClient(self.url, ssl_context=self.server.ssl_context())


PFX_PASSWORD = "pfx-Pa55word"
READWRITE_DB = "rw-only"


@pytest.fixture(scope="session")
def secured(tmp_path_factory):
    """A RavenDB 4.1 started secured (HTTPS on loopback, a server certificate made here) for the
    whole session, with a second client certificate registered with ReadWrite on one database."""
    import certs

    d = tmp_path_factory.mktemp("secured")
    cert, key = certs.make("ravenmigrate-test-server", server=True)
    server_pfx = certs.write_pfx(d / "server.pfx", cert, key, "server-pfx", legacy=True)
    srv = EmbeddedServer(certificate=server_pfx, certificate_password="server-pfx")
    srv.start()
    try:
        rw_cert, rw_key = certs.make("ravenmigrate-readwrite")
        with RavenClient(srv.url, ssl_context=srv.ssl_context()) as admin:
            admin.json("PUT", "/admin/certificates", {
                "Name": "ravenmigrate-readwrite", "Certificate": certs.der_base64(rw_cert),
                "SecurityClearance": "ValidUser", "Permissions": {READWRITE_DB: "ReadWrite"}})
            admin.create_database(READWRITE_DB)
        yield Secured(
            server=srv, ca=certs.write_cert(d / "ca.pem", cert), admin_pem=certs.write_pem(d / "admin.pem", cert, key),
            admin_pfx=certs.write_pfx(d / "admin.pfx", cert, key, PFX_PASSWORD),
            readwrite_pem=certs.write_pem(d / "readwrite.pem", rw_cert, rw_key),
            unknown_pem=certs.write_pem(d / "unknown.pem", *certs.make("ravenmigrate-unknown")),
            expired_pem=certs.write_pem(d / "expired.pem", *certs.make("ravenmigrate-expired", expired=True)),
            other_ca=certs.write_cert(d / "other-ca.pem", certs.make("ravenmigrate-other-ca", server=True)[0]), dir=d)
    finally:
        srv.close()
