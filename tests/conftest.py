"""Shared fixtures: the real RavenDB 4.1 server (session-scoped) and a fresh database per test."""

from __future__ import annotations

import os
import uuid
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
