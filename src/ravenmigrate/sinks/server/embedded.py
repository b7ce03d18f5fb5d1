"""The embedded RavenDB 4.1 that ``load``/``verify`` use when no ``--url`` is given: one server with
a persistent data directory under the cache, started on first use and left running (its Studio is
the point), found again by later commands through a small state file."""

from __future__ import annotations

import json
import os
from pathlib import Path

# ravenmigrate.server (the installer and process control, ~50 ms of imports) is imported only when
# the embedded server is asked for: not at the start of every command that takes --url.


def data_dir() -> Path:
    from ...server import cache_dir

    return cache_dir().parent / "embedded-data"


def _state_file() -> Path:
    return data_dir() / "server.json"


def running_url() -> str | None:
    """The URL of the embedded server when it is already running."""
    try:
        state = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    from ...server import EmbeddedServer

    srv = EmbeddedServer.__new__(EmbeddedServer)
    srv.port = state["port"]
    return srv.url if srv.is_up() else None


def ensure_running() -> tuple[str, int | None]:
    """(URL, pid) of the embedded server, starting it (same port as last time when free) if needed."""
    url = running_url()
    if url:
        return url, json.loads(_state_file().read_text()).get("pid")
    port = None
    try:
        port = json.loads(_state_file().read_text()).get("port")
    except (OSError, ValueError):
        pass
    from ...server import EmbeddedServer

    srv = EmbeddedServer(data_dir(), port=port, die_with_parent=False)
    try:
        srv.start()
    except Exception:  # noqa: BLE001 - the old port may be taken: take a free one
        srv = EmbeddedServer(data_dir(), die_with_parent=False)
        srv.start()
    _state_file().write_text(json.dumps({"port": srv.port, "pid": srv.proc.pid, "url": srv.url}))
    return srv.url, srv.proc.pid


def stop() -> bool:
    """Stop the embedded server recorded in the state file; ``False`` when none was running."""
    try:
        state = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return False
    pid = state.get("pid")
    if not pid or running_url() is None:
        return False
    os.killpg(pid, 15)
    return True


def studio_url(url: str, database: str) -> str:
    return f"{url}/studio/index.html#databases/documents?&database={database}"
