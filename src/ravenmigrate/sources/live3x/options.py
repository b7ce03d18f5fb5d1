"""Command-line options of a live 3.x source (docs/live3x.md "Auth")."""

from __future__ import annotations

import argparse
import os
from typing import Any

API_KEY_ENV = "RAVENMIGRATE_API_KEY"
PASSWORD_ENV = "RAVENMIGRATE_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live 3.x server (SRC = http(s)://HOST:PORT/databases/NAME)")
    group.add_argument("--api-key", metavar="NAME/SECRET",
                       help=f"authenticate with this 3.x API key (default: ${API_KEY_ENV})")
    group.add_argument("--user", help="Windows user (NTLM)")
    group.add_argument("--password", help=f"Windows password (default: ${PASSWORD_ENV})")
    group.add_argument("--domain", help="Windows domain")
    group.add_argument("--source-ca", metavar="PEM", help="verify the 3.x server's HTTPS certificate against these CAs")
    group.add_argument("--source-insecure", action="store_true",
                       help="do not verify the 3.x server's HTTPS certificate (test servers only)")
    group.add_argument("--basic-auth-over-http", action="store_true",
                       help="allow a legacy OAuth source over plain http (sends the API key in clear text)")


def from_namespace(ns: argparse.Namespace) -> dict[str, Any]:
    verify: bool | str = True
    if getattr(ns, "source_insecure", False):
        verify = False
    elif getattr(ns, "source_ca", None):
        verify = ns.source_ca
    return {"api_key": getattr(ns, "api_key", None) or os.environ.get(API_KEY_ENV) or None,
            "user": getattr(ns, "user", None), "domain": getattr(ns, "domain", None),
            "password": getattr(ns, "password", None) or os.environ.get(PASSWORD_ENV) or None,
            "verify": verify, "basic_over_http": getattr(ns, "basic_auth_over_http", False)}
