"""The ``linkage`` command (also ``python -m linkage``).

The only place that configures logging and progress output. Each group of
subcommands lives in its own private module with a ``register(subparsers)``
function; expected failures (bad input, a missing file, a wrong passphrase) end in
one line on stderr and a non-zero exit code, never a traceback.

Exit codes: 0 success, 1 a failure the command reports (e.g. a quality target
missed), 2 wrong usage, 3 bad input or configuration, 4 a file that cannot be read
or written, 130 interrupted.

A :class:`~linkage.exceptions.LinkageError` is printed from its fields, as
``linkage: error: {source}, column '{column}', row {row}: {detail}``; the library
raises every failure of user input as one, so none ends in a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib import import_module

from linkage._version import __version__
from linkage.exceptions import LinkageError

EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_IO = 4

_GROUPS = ("_identifiers", "_keys", "_synth", "_link", "_exchange")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="linkage",
        description="Privacy-preserving record linkage for the VLAIO/TBT - VDAB exchange.",
    )
    parser.add_argument("--version", action="version", version=f"linkage {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _GROUPS:
        import_module(f"{__name__}.{name}").register(subparsers)
    _logging_flags_after(parser)
    return parser


def _logging_flags_after(parser: argparse.ArgumentParser) -> None:
    """Accept -q / -v after every command and action too (`linkage keys show ... -q`),
    as jobs write them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.add_argument(
                    "-q", "--quiet", action="store_true", default=argparse.SUPPRESS
                )
                command.add_argument(
                    "-v", "--verbose", action="store_true", default=argparse.SUPPRESS
                )
                _logging_flags_after(command)


def _configure_logging(*, quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(quiet=args.quiet, verbose=args.verbose)
    try:
        return int(args.handler(args) or 0)
    except LinkageError as exc:
        _error(f"{exc.where}: {exc.detail}" if exc.where else exc.detail)
        return EXIT_INPUT
    except FileNotFoundError as exc:
        _error(f"no such file: {exc.filename}")
        return EXIT_IO
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _error(f"{exc.strerror or exc}{where}")
        return EXIT_IO
    except KeyboardInterrupt:
        print("linkage: interrupted", file=sys.stderr)
        return 130


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds (a parser's line breaks too)."""
    print(f"linkage: error: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
