"""The ``linkage`` command (also ``python -m linkage``).

The only place that configures logging and progress output. Each group of
subcommands lives in its own private module with a ``register(subparsers)``
function; expected failures (bad input, a missing file, a wrong passphrase) end in
one line on stderr and a non-zero exit code, never a traceback.

Exit codes: 0 success, 1 a failure the command reports (e.g. a quality target
missed), 2 wrong usage, 3 bad input or configuration, 4 a file that cannot be read
or written, 70 an unexpected error (a bug, or memory exhausted), 130 interrupted.

A :class:`~linkage.exceptions.LinkageError` is printed from its fields, as
``linkage: error: {source}, column '{column}', row {row}: {detail}``; the library
raises every failure of user input as one, so none ends in a traceback.

Anything else is unexpected, and still one line: an error of a file format
library (Arrow, gzip, a decoder) that a reader let through is bad input (exit 3),
named by the file if the error names one; any other exception is a bug (exit 70),
named by its type and the line of linkage that raised it, never by its message (it
may hold a value from the data). Both say ``run with -v for the traceback``, and
``-v`` prints it above the line.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import sys
import tomllib
import traceback
import warnings
import zlib
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import TextIO

from linkage._memory import few_arenas
from linkage._version import __version__
from linkage.exceptions import LinkageError

EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_IO = 4
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE

_GROUPS = (
    "_identifiers",
    "_keys",
    "_synth",
    "_spec",
    "_link",
    "_encode",
    "_dedupe",
    "_review",
    "_exchange",
)


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
    """Progress (INFO) on stderr, only warnings with ``-q``, debug with ``-v``.

    The level is also set on the ``linkage`` logger, so that ``-q`` and ``-v`` hold
    where logging was configured before (``main`` called from a notebook or a test);
    :func:`main` gives the logger its level back when it returns.
    """
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    logging.getLogger("linkage").setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    few_arenas()  # a command's threads share two heaps (see linkage._memory)
    parser = build_parser()
    args = parser.parse_args(argv)
    package_log = logging.getLogger("linkage")
    previous = package_log.level
    _configure_logging(quiet=args.quiet, verbose=args.verbose)
    try:
        return _run(args)
    finally:
        package_log.setLevel(previous)


def _warning_line(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line of the log (no file path, no source line)."""
    logging.getLogger("linkage").warning("warning: %s", message)


def _run(args: argparse.Namespace) -> int:
    """The command's handler, its failures mapped to exit codes, its warnings to one
    line each."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
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
    except Exception as exc:  # the last resort: one line, not a traceback
        return _unexpected(exc, verbose=args.verbose)


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds (a parser's line breaks too)."""
    print(f"linkage: error: {' '.join(message.split())}", file=sys.stderr)


def _format_errors() -> tuple[type[BaseException], ...]:
    """What the file-format libraries raise on a damaged or foreign file (decoding
    only: a UnicodeEncodeError is about what is written, not what was read)."""
    import pyarrow as pa

    return (
        pa.ArrowException,
        UnicodeDecodeError,
        EOFError,
        zlib.error,
        json.JSONDecodeError,
        tomllib.TOMLDecodeError,
        csv.Error,
    )


# Arrow names the file it could not read in quotes: "... source '/x/y.parquet': ...".
_QUOTED_PATH = re.compile(r"'([^'\n]+\.(?:parquet|pq|csv|csv\.gz|txt|json|toml|key|gz))'")


def _unexpected(exc: Exception, *, verbose: bool) -> int:
    """One line for an exception no handler expected; the traceback only under -v.

    A file-format error is bad input, named by its file where the error names one.
    Anything else is a bug: named by its type and the line of linkage that raised
    it, not by its message, which may hold a value from the data.
    """
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    kind = type(exc).__name__
    if isinstance(exc, _format_errors()):
        filename = getattr(exc, "filename", None)
        found = _QUOTED_PATH.search(str(exc))
        where = filename or (found.group(1) if found else None)
        name = f"{_shown(where)}: " if where else ""
        more = "the traceback is above" if verbose else "run with -v for the traceback"
        _error(f"{name}cannot be read: damaged, or not the format its name says ({kind}; {more})")
        return EXIT_INPUT
    if isinstance(exc, MemoryError):
        _error("out of memory" + ("" if verbose else " (run with -v for the traceback)"))
        return EXIT_INTERNAL
    more = "report it with the traceback above" if verbose else "run with -v for the traceback"
    _error(f"unexpected {kind} at {_origin(exc)}: a bug in linkage ({more})")
    return EXIT_INTERNAL


def _shown(path: str) -> str:
    """A path as short as is unambiguous: relative to the working folder if inside it."""
    full = Path(path).resolve()
    return str(full.relative_to(Path.cwd())) if full.is_relative_to(Path.cwd()) else path


def _origin(exc: BaseException) -> str:
    """``linkage/x.py:123``: the innermost line of linkage the exception passed."""
    package = Path(__file__).resolve().parent.parent  # .../linkage
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(package):
            return f"{path.relative_to(package.parent).as_posix()}:{frame.lineno}"
    return "a library it calls"
