"""``ravenmigrate doctor``: native/pure twin per hot module, dependency versions, server status."""

from __future__ import annotations

import argparse
import importlib.metadata
import json

from .. import __version__, _twins, server

DEPENDENCIES = ("lz4", "cryptography", "msgpack", "cython", "isal", "zlib-ng", "orjson", "pybase64", "quickjs")


def register(sub) -> None:
    p = sub.add_parser("doctor", help="show which native twins are in use, dependency versions, server status")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-server", action="store_true", help="do not try to start the embedded RavenDB")
    p.set_defaults(func=run)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def server_status(try_start: bool = True) -> dict:
    inst = server.Installation(server.cache_dir())
    status = {"installed": inst.is_complete(), "path": str(inst.root)}
    if not try_start:
        return status
    try:
        with server.EmbeddedServer(installation=server.install()) as srv:
            status["installed"] = True
            status["started"] = True
            status["version"] = json_get(srv.url + "/build/version").get("FullVersion")
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure
        status["started"] = False
        status["error"] = str(exc)[:500]
    return status


def json_get(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def run(args: argparse.Namespace) -> int:
    report = {
        "ravenmigrate": __version__,
        "pure_forced": _twins.pure_forced(),
        "modules": _twins.status(),
        "dependencies": {d: _version(d) for d in DEPENDENCIES},
        "server": server_status(not args.no_server),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"ravenmigrate {__version__}" + ("  (RAVENMIGRATE_PUREPYTHON=1)" if report["pure_forced"] else ""))
    print("hot modules:")
    for name, kind in report["modules"].items():
        print(f"  {name:<20} {kind}")
    print("dependencies:")
    for name, ver in report["dependencies"].items():
        print(f"  {name:<20} {ver or '-'}")
    srv = report["server"]
    state = "started OK, " + str(srv.get("version")) if srv.get("started") else (
        "not tried" if args.no_server else "FAILED: " + srv.get("error", ""))
    print(f"RavenDB 4.1 server: installed={srv['installed']} ({srv['path']}); {state}")
    return 0
