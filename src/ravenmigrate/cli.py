"""The ``ravenmigrate`` command line: a thin layer over the Python API.

argparse (stdlib) rather than click: no extra dependency, and every subcommand lives in its own
module under ``ravenmigrate.commands`` exposing ``register(subparsers)``; ``register`` sets
``func`` (``args -> exit code``) on its parser.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
from typing import NoReturn

from . import __version__, commands
from .errors import RavenMigrateError


def _command_names() -> set[str]:
    """The modules of ``ravenmigrate.commands`` (a directory listing: pkgutil costs 6 ms of start-up)."""
    return {name[:-3] for name in os.listdir(commands.__path__[0])
            if name.endswith(".py") and not name.startswith("_")}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or only *only* (the one being run: its module alone is imported)."""
    parser = argparse.ArgumentParser(
        prog="ravenmigrate",
        description="Migrate RavenDB 3.x data (dumps, raw storage) into RavenDB 4.x.",
    )
    parser.add_argument("--version", action="version", version=f"ravenmigrate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in sorted(_command_names()):
        if only is None or name == only:
            importlib.import_module(f"{commands.__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line *argv* (default ``sys.argv[1:]``); its exit code."""
    return run(parse(argv))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse *argv*, importing only the command it names (and what that command imports)."""
    words = sys.argv[1:] if argv is None else argv
    first = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(first if first in _command_names() else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = lambda _: parser.print_help() or 2
    return args


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; its exit code (1 with the message on stderr for a RavenMigrateError)."""
    try:
        return int(args.func(args) or 0)
    except RavenMigrateError as exc:
        print(f"ravenmigrate: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ravenmigrate: interrupted", file=sys.stderr)
        return 130


def console_main() -> NoReturn:
    """The ``ravenmigrate`` command: :func:`main`, with start-up outside the cyclic GC, then
    :func:`exit_now`.

    Start-up (parsing, importing the command and everything it needs) allocates what lives until
    the process ends: modules, classes, functions, about 12 000 objects. Left on, the collector
    passed over them about 20 times for nothing, 4 ms of a 20 MB convert (docs/benchmarks.md). So
    it is off while they are made, and they are frozen (``gc.freeze``) out of every later pass.
    """
    gc.disable()
    try:
        args = parse()
    finally:
        gc.enable()
    gc.freeze()
    exit_now(run(args))


def exit_now(code: int) -> NoReturn:
    """End the process with *code* once nothing is left to do but flush, without the interpreter's
    teardown.

    Python's normal exit frees every module and object one by one; after a convert that is about
    11 ms, a sixth of converting a 20 MB dump (docs/benchmarks.md). When a command has returned,
    its outputs are closed and its own threads are daemons that exit with the process anyway
    (the inflate, deflate and stream threads). So: run the ``atexit`` handlers, flush stdout
    and stderr, and ``os._exit``. mypy ends its runs the same way. Whenever that could lose
    something the normal exit would do, it is taken instead: a non-daemon thread still runs
    (the normal exit waits for it), or a flush fails (the normal exit reports it).
    """
    threading = sys.modules.get("threading")
    if threading is not None and any(not t.daemon for t in threading.enumerate()
                                     if t is not threading.main_thread()):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":
    console_main()
