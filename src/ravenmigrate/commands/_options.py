"""Options several commands share, defined once (the leading ``_``: not a subcommand). Each ``add_*``
adds a group of options to a subcommand's parser; the functions beside it read them back from the
parsed namespace.

Commands add their own options next to these in their modules; an option two commands take
belongs here.
"""

from __future__ import annotations

import argparse

from ..progress import LOG_FORMATS, choose_mode


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
