"""The 4.x server a command talks to: its URL(s) and, for a secured server, the TLS settings.

Command-line options shared by every command that talks to a 4.x server (``load``, ``verify``,
``check-target``): ``--url`` (repeatable or comma-separated: several nodes of one cluster),
``--certificate`` (PEM or PFX), ``--certificate-password``, ``--ca``; the environment variables
``RAVENMIGRATE_URL``, ``RAVENMIGRATE_CERTIFICATE`` and ``RAVENMIGRATE_CERTIFICATE_PASSWORD`` keep
them out of the shell history (docs/security.md). The password is prompted for (not echoed) when a
key needs one and none was given; it is never printed nor written to a report.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import RavenMigrateError
from ...fields import Fields
from .client import RavenClient

if TYPE_CHECKING:  # tls is imported where a secured server needs it: not on every command's start-up
    from . import tls

TRANSPORTS = ("import", "bulk-insert")  # how documents are sent (docs/loading.md)
DEFAULT_TRANSPORT = "import"
ENV_URL = "RAVENMIGRATE_URL"
ENV_CERTIFICATE = "RAVENMIGRATE_CERTIFICATE"
ENV_PASSWORD = "RAVENMIGRATE_CERTIFICATE_PASSWORD"


class Target(Fields):
    """One or more URLs of the same cluster (the first answering one is asked for the topology)
    and the TLS context every connection to it uses. (A ``Fields`` class, not a dataclass: verify
    asks the server for its documents before ``dataclasses`` would be imported.)"""

    __slots__ = ("urls", "ssl_context", "certificate", "ca")

    def __init__(self, urls: tuple[str, ...], ssl_context: ssl.SSLContext | None = None,
                 certificate: tls.ClientCertificate | None = None, ca: str | None = None) -> None:
        self.urls = urls
        self.ssl_context = ssl_context
        self.certificate = certificate
        self.ca = ca

    def __repr__(self) -> str:  # without the certificate and its key
        return f"Target(urls={self.urls!r}, ssl_context={self.ssl_context!r}, ca={self.ca!r})"

    @classmethod
    def parse(cls, url: str, **kw) -> Target:
        return cls(split_urls([url]), **kw)

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def secure(self) -> bool:
        return self.url.startswith("https://")

    def client(self, url: str | None = None, timeout: float = 300.0) -> RavenClient:
        return RavenClient(url or self.url, timeout=timeout, ssl_context=self.ssl_context, ca=self.ca)

    def describe(self) -> str:
        return ", ".join(self.urls)


def split_urls(values: list[str]) -> tuple[str, ...]:
    """``--url`` values (each may hold several, comma-separated), checked and without a trailing /."""
    urls: list[str] = []
    for value in values:
        for url in value.split(","):
            url = url.strip().rstrip("/")
            if not url:
                continue
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise RavenMigrateError(f"--url {url!r}: expected http://HOST:PORT or https://HOST:PORT")
            urls.append(url)
    if not urls:
        raise RavenMigrateError("--url: no server URL given")
    schemes = {u.split(":", 1)[0] for u in urls}
    if len(schemes) > 1:
        raise RavenMigrateError(f"--url {', '.join(urls)}: a cluster is either all https:// or all http://")
    return tuple(urls)


def add_arguments(p: argparse.ArgumentParser, default_help: str) -> None:
    g = p.add_argument_group("target server (docs/security.md)")
    g.add_argument("--url", action="append", metavar="URL",
                   help=f"RavenDB 4.x server URL, http:// or https:// (repeat, or separate with commas, for several "
                        f"nodes of one cluster; env {ENV_URL}; default: {default_help})")
    g.add_argument("--certificate", metavar="FILE",
                   help=f"client certificate for a secured server: PEM (certificate and private key) or "
                        f"PFX/PKCS#12 (env {ENV_CERTIFICATE})")
    g.add_argument("--certificate-password", metavar="PASSWORD",
                   help=f"password of the certificate's key (better: env {ENV_PASSWORD}, or leave it out to be "
                        f"asked without echo)")
    g.add_argument("--ca", metavar="FILE",
                   help="PEM file of the CA (or the self-signed server certificate) to trust instead of the "
                        "system trust store")


def from_namespace(args: argparse.Namespace) -> Target | None:
    """The target of the parsed options; ``None`` when no URL was given (the embedded server)."""
    values = args.url or ([os.environ[ENV_URL]] if os.environ.get(ENV_URL) else [])
    if not values:
        if args.certificate or args.ca:
            raise RavenMigrateError("--certificate/--ca need --url https://... (the embedded server is not secured)")
        return None
    return build(split_urls(values), args.certificate or os.environ.get(ENV_CERTIFICATE) or None,
                 args.certificate_password, args.ca)


def build(urls: tuple[str, ...], certificate: str | None = None, password: str | None = None,
          ca: str | None = None) -> Target:
    """Decode the certificate (asking for its password when needed) and make the TLS context."""
    if not urls[0].startswith("https://"):
        if certificate:
            raise RavenMigrateError(f"--certificate is for a secured server; {urls[0]} is http:// (use https://)")
        return Target(urls)
    from . import tls

    cert = None
    if certificate:
        if password is None:
            password = os.environ.get(ENV_PASSWORD)
        if password is None and _needs_password(certificate):
            password = _prompt(certificate)
        cert = tls.load_certificate(certificate, password)
        cert.check_validity()
    if ca and not Path(ca).is_file():
        raise RavenMigrateError(f"--ca {ca}: no such file")
    return Target(urls, tls.context(cert, ca), cert, ca)


def _needs_password(path: str) -> bool:
    from . import tls

    try:
        return tls.needs_password(Path(path).read_bytes())
    except OSError:
        return False  # load_certificate reports the unreadable file


def _prompt(path: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    try:
        import getpass

        return getpass.getpass(f"password for {path}: ")
    except (EOFError, KeyboardInterrupt):
        return None
