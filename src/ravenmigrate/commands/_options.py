"""Options several commands share, defined once (the leading ``_``: not a subcommand). Each ``add_*``
adds a group of options to a subcommand's parser; the functions beside it read them back from the
parsed namespace.

Commands add their own options next to these in their modules; an option two commands take
belongs here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import RavenMigrateError
from ..progress import LOG_FORMATS, choose_mode
from ..records import ITEM_TYPES as TYPES


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--quiet``, ``--progress-interval``, ``--log-format`` (docs: ``ravenmigrate.progress``)."""
    g = p.add_argument_group("progress")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress reports")
    g.add_argument("--progress-interval", type=positive_float, metavar="SECONDS",
                   help="seconds between progress reports (default: 0.5 on a terminal, 10 in a log)")
    g.add_argument("--log-format", choices=LOG_FORMATS, default="text",
                   help="progress as text (default: a live line on a terminal, plain lines otherwise) or one "
                        "JSON object per line")


def progress_mode(args: argparse.Namespace) -> str:
    """The ``ravenmigrate.progress`` mode the options ask for."""
    return choose_mode(args.quiet, args.log_format)


def positive_float(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def add_selection(p: argparse.ArgumentParser, transform: bool = True) -> None:
    """What to migrate (``ravenmigrate.convert.selection``) and the import options 4.x users know."""
    g = p.add_argument_group("what to migrate")
    g.add_argument("--collections", type=_names, metavar="A,B", default=(),
                   help="only documents of these 4.x collections (case-insensitive; legacy attachments are "
                        "@files; Raven/Hilo/<name> follows its collection)")
    g.add_argument("--exclude-collections", type=_names, metavar="A,B", default=(),
                   help="leave out documents of these collections")
    g.add_argument("--types", type=_types, metavar="T,T", default=TYPES,
                   help=f"item types to migrate (default all: {','.join(TYPES)})")
    g.add_argument("--exclude-expired", action="store_true",
                   help="leave out documents whose 3.x Raven-Expiration-Date (4.x @expires) has passed")
    g.add_argument("--remove-analyzers", action="store_true", help="indexes without their fields' analyzers")
    if transform:
        g.add_argument("--transform-script", metavar="FILE",
                       help="a JavaScript patch run on every document as RavenDB's smuggler TransformScript: "
                            "`this` is the document; throw 'skip' leaves it out")
    g.add_argument("--id-prefix-map", action="append", type=_prefix_pair, default=[], metavar="OLD=NEW",
                   help="rename document ids starting with OLD (case-insensitive) to start with NEW; also their "
                        "revisions, deletions and identities, not references inside documents (repeatable)")


def selection_from(args: argparse.Namespace) -> tuple[Any, Any]:
    """``(Selection, ConvertOptions)`` from the options of :func:`add_selection`."""
    from ..convert import ConvertOptions
    from ..convert.selection import Selection
    from ..convert.transform import TransformScript

    script = getattr(args, "transform_script", None)
    transform = None
    if script:
        try:
            transform = TransformScript(Path(script).read_text(encoding="utf-8"), f"--transform-script {script}")
        except OSError as exc:
            raise RavenMigrateError(f"--transform-script: cannot read {script}: {exc.strerror}") from None
    selection = Selection(args.collections, args.exclude_collections, args.types, tuple(args.id_prefix_map),
                          transform)
    return selection, ConvertOptions(include_expired=not args.exclude_expired,
                                     remove_analyzers=args.remove_analyzers,
                                     rewrite_indexes=getattr(args, "index_rewrite", "on") == "on")


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated collection names")
    return names


def _types(text: str) -> tuple[str, ...]:
    types = _names(text)
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown type {unknown[0]!r} (expected some of {','.join(TYPES)})")
    return types


def _prefix_pair(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old:
        raise argparse.ArgumentTypeError(f"expected OLD=NEW, got {text!r}")
    return old, new


def add_index_options(p: argparse.ArgumentParser) -> None:
    """``--index-rewrite`` (inspect, load and convert; docs/indexes.md)."""
    p.add_argument("--index-rewrite", choices=("on", "off"), default="on",
                   help="rewrite the 3.x indexes 4.x rejects into ones it creates (default on; docs/indexes.md)")
