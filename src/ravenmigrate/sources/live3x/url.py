"""What a live 3.x source URL names: ``http(s)://HOST:PORT`` (the server: ``inspect`` lists its
databases and file systems), ``.../databases/NAME`` (a database) or ``.../fs/NAME`` (a file system)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from ...errors import SourceError


@dataclass(frozen=True)
class LiveUrl:
    server: str  # scheme://host[:port], as Migrator_V3 keeps it (its migration-state key uses it)
    kind: str | None  # "databases", "fs" or None (the whole server)
    name: str | None

    @property
    def text(self) -> str:
        if self.kind is None:
            return self.server
        return f"{self.server}/{self.kind}/{self.name}"

    def path(self, rest: str) -> str:
        """The server path of *rest* inside this database or file system."""
        return f"/{self.kind}/{urllib.parse.quote(self.name or '', safe='')}/{rest}"


def parse(text: str) -> LiveUrl:
    u = urllib.parse.urlsplit(text)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise SourceError("expected http(s)://HOST:PORT[/databases/NAME | /fs/NAME]", path=text)
    if u.query or u.fragment:
        raise SourceError("a 3.x source URL takes no query or fragment", path=text)
    try:
        port = u.port
    except ValueError:
        raise SourceError("the port is not a number", path=text) from None
    host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
    # As .NET's Uri.GetLeftPart(UriPartial.Authority), which Migrator_V3 keeps in its state key:
    # lower-case host, the port only when it is not the scheme's default.
    default = 443 if u.scheme == "https" else 80
    server = f"{u.scheme}://{host}" + (f":{port}" if port and port != default else "")
    parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
    if not parts:
        return LiveUrl(server, None, None)
    if len(parts) == 2 and parts[0].lower() in ("databases", "fs"):
        return LiveUrl(server, parts[0].lower(), parts[1])
    raise SourceError("expected the server URL alone, or /databases/NAME or /fs/NAME after it", path=text)
