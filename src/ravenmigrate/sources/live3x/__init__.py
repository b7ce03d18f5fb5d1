"""A running RavenDB 3.x server as a source (docs/live3x.md).

``http(s)://HOST:PORT/databases/NAME`` reads a database through the export Migrator_V3 asks for;
``http(s)://HOST:PORT/fs/NAME`` a file system through its streams/files endpoints;
``http(s)://HOST:PORT`` alone is listed by ``inspect`` (:func:`listing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import UnsupportedSource

if TYPE_CHECKING:  # URL parsing, the HTTP client and cryptography are imported only when a URL is read
    from .client import LiveOptions
    from .filesystem import LiveFileSystemSource
    from .source import LiveDatabaseSource

__all__ = ["is_live", "is_server", "open_live", "listing"]


def is_live(text: object) -> bool:
    """Whether a SRC argument is a 3.x server URL (a string check: nothing is imported for files)."""
    return isinstance(text, str) and text[:8].lower().startswith(("http://", "https://"))


def is_server(text: str) -> bool:
    """A server URL naming no database or file system (what ``inspect`` lists)."""
    from .url import parse

    return parse(text).kind is None

OPTION_NAMES = ("api_key", "user", "password", "domain", "verify", "basic_over_http")


def live_options(options: dict[str, Any]) -> LiveOptions:
    from .client import LiveOptions

    return LiveOptions(**{k: options[k] for k in OPTION_NAMES if options.get(k) is not None})


def open_live(text: str, *, compact: bool = False, salvage: bool = False, runs: bool = False,
              rejects: Any = None, **options: Any) -> LiveDatabaseSource | LiveFileSystemSource:
    """The source *text* names; options other than the connection ones (raw-storage ones) are ignored."""
    from .source import LiveDatabaseSource
    from .url import parse

    url = parse(text)
    if url.kind == "databases":
        return LiveDatabaseSource(url, live_options(options), compact=compact, salvage=salvage, runs=runs,
                                  rejects=rejects)
    if url.kind == "fs":
        from .filesystem import LiveFileSystemSource

        return LiveFileSystemSource(url, live_options(options))
    raise UnsupportedSource("a server URL names no database: add /databases/NAME (inspect lists them)", path=text)


def listing(text: str, **options: Any) -> dict[str, Any]:
    """What the server at *text* holds: its build, databases and file systems (``inspect``)."""
    from .client import LiveClient
    from .export import build_version
    from .url import parse

    url = parse(text)
    client = LiveClient(url.server, live_options(options))
    build = build_version(client)
    databases = client.ok("GET", "/databases", what="the database list").json()
    resp = client.request("GET", "/fs")
    file_systems = resp.json() if resp.status == 200 else (resp.close() or [])
    return {"source": url.server, "kind": "live 3.x server", "build": build.version, "product": build.product,
            "databases": databases, "file_systems": file_systems}
