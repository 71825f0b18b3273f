"""``linkage keys ...`` and ``linkage pseudonymise``: the exchange key ring on the command line.

Passphrases never come from the command line (they would end up in shell history):
they come from an environment variable (``--passphrase-env``, by default
``LINKAGE_KEY_PASSPHRASE``) or, when stdin is a terminal, from a prompt (twice for a
new file). Nothing here prints key bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from linkage.exceptions import KeyringError, LinkageError
from linkage.io import check_output, read_table, write_table
from linkage.keys import MASTER_KEY_ENV, MIN_PASSPHRASE, PASSPHRASE_ENV, KeyRing
from linkage.pseudonymise import crosswalk, pseudonymise


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keys`` group and the ``pseudonymise`` command."""
    keys = subparsers.add_parser(
        "keys",
        help="make and manage the key ring of an exchange",
        description="Make and manage the encrypted key ring of an exchange. "
        "Passphrases come from an environment variable or a prompt, never an argument.",
    )
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    new = actions.add_parser(
        "new",
        help="make a new key ring",
        description="Make a key ring with one fresh "
        "32-byte master secret (version 1) and write it encrypted, mode 0600.",
    )
    new.add_argument("--exchange", required=True, help="exchange id, e.g. vlaio-vdab-2025")
    new.add_argument("--out", required=True, type=Path, help="key file to write")
    new.add_argument("--force", action="store_true", help="replace an existing key file")
    _passphrase_option(new)
    new.set_defaults(handler=_new)

    rotate = actions.add_parser(
        "rotate",
        help="add a new key version",
        description="Add a key version with a "
        "fresh secret; new pseudonyms use it. Make crosswalks, then retire the old one.",
    )
    _key_option(rotate)
    _passphrase_option(rotate)
    rotate.set_defaults(handler=_rotate)

    retire = actions.add_parser(
        "retire",
        help="drop an old key version",
        description="Drop an old key version "
        "from the ring once the receiver has re-keyed with a crosswalk.",
    )
    _key_option(retire)
    retire.add_argument("--version", required=True, type=int, help="version number to retire")
    _passphrase_option(retire)
    retire.set_defaults(handler=_retire)

    show = actions.add_parser(
        "show",
        help="show exchange id and versions",
        description="Show the exchange id, "
        "the key versions and when they were made. Never shows key bytes.",
    )
    _key_option(show)
    _passphrase_option(show)
    show.add_argument(
        "--json",
        action="store_true",
        help="print the exchange id and versions as JSON on stdout (never key bytes)",
    )
    show.set_defaults(handler=_show)

    walk = actions.add_parser(
        "crosswalk",
        help="old pseudonym to new pseudonym for a column",
        description="Write a table 'old','new' of the pseudonyms of a column under two key "
        "versions, so that the receiver can re-key what it holds. It holds no identifiers.",
    )
    walk.add_argument("input", type=Path, metavar="IN", help="CSV or Parquet file")
    walk.add_argument("--column", required=True, help="column of identifiers")
    walk.add_argument("--domain", required=True, help="key domain, e.g. enterprise, staff")
    walk.add_argument("--old", required=True, type=int, help="old key version")
    walk.add_argument("--new", type=int, help="new key version (default: the current one)")
    walk.add_argument("--out", required=True, type=Path, help="CSV or Parquet file to write")
    _key_option(walk)
    _passphrase_option(walk)
    walk.set_defaults(handler=_crosswalk)

    pseud = subparsers.add_parser(
        "pseudonymise",
        help="replace identifier columns by exchange pseudonyms",
        description="Replace the values of one or more columns by their pseudonyms "
        "(HMAC-SHA256 under the domain key) and write the table atomically. Rows in "
        "error messages count data rows from 1.",
    )
    pseud.add_argument("input", type=Path, metavar="IN", help="CSV or Parquet file")
    pseud.add_argument(
        "--column", required=True, action="append", help="column to pseudonymise (repeatable)"
    )
    pseud.add_argument("--domain", required=True, help="key domain, e.g. enterprise, staff")
    pseud.add_argument("--out", required=True, type=Path, help="CSV or Parquet file to write")
    pseud.add_argument("--version", type=int, help="key version (default: the current one)")
    source = pseud.add_mutually_exclusive_group(required=True)
    source.add_argument("--key", type=Path, metavar="FILE", help="encrypted key file")
    source.add_argument(
        "--master-env",
        metavar="NAME",
        const=MASTER_KEY_ENV,
        nargs="?",
        help=f"take the master secret (base64) from this variable (default {MASTER_KEY_ENV}); "
        "needs --exchange",
    )
    pseud.add_argument("--exchange", help="exchange id, with --master-env")
    _passphrase_option(pseud)
    pseud.set_defaults(handler=_pseudonymise)


# --------------------------------------------------------------------------- options


def _key_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, type=Path, metavar="FILE", help="key file")


def _passphrase_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-env",
        default=PASSPHRASE_ENV,
        metavar="NAME",
        help=f"environment variable holding the passphrase (default {PASSPHRASE_ENV}); "
        "without it, a prompt when run in a terminal",
    )


def _passphrase(args: argparse.Namespace, *, confirm: bool = False, writes: bool = False) -> str:
    """The passphrase, from the environment or a prompt (twice with ``confirm``).

    ``writes``: the command writes the key file under it, so it must have
    MIN_PASSPHRASE characters, wherever it came from; checked before any work.
    """
    value = os.environ.get(args.passphrase_env)
    if value:
        _long_enough(value, writes=writes, where=f" in {args.passphrase_env}")
        return value
    if not sys.stdin.isatty():
        raise KeyringError(
            f"no passphrase: set the environment variable {args.passphrase_env} "
            "or run in a terminal to be asked"
        )
    value = getpass.getpass("Passphrase: ")
    if not value:
        raise KeyringError("the passphrase is empty")
    _long_enough(value, writes=writes, where="")
    if confirm and getpass.getpass("Passphrase again: ") != value:
        raise KeyringError("the two passphrases differ")
    return value


def _long_enough(value: str, *, writes: bool, where: str) -> None:
    # Counted as the key file counts it: characters of its UTF-8 bytes.
    characters = len(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    if writes and characters < MIN_PASSPHRASE:
        raise KeyringError(
            f"the passphrase{where} is too short: a key file's passphrase needs at least "
            f"{MIN_PASSPHRASE} characters"
        )


# -------------------------------------------------------------------------- handlers


def _new(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise KeyringError(f"{args.out} exists; give --force to replace it")
    check_output(args.out, table=False)
    ring = KeyRing.generate(exchange=args.exchange)
    ring.save(args.out, passphrase=_passphrase(args, confirm=True, writes=True))
    print(f"wrote key ring of {ring.exchange} (version {ring.current}) to {args.out}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args, writes=True)
    ring = KeyRing.load(args.key, passphrase=passphrase)
    number = ring.rotate()
    ring.save(args.key, passphrase=passphrase)
    print(f"{ring.exchange}: added key version {number}; versions now {_versions(ring)}")
    return 0


def _retire(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args, writes=True)
    ring = KeyRing.load(args.key, passphrase=passphrase)
    ring.retire(args.version)
    ring.save(args.key, passphrase=passphrase)
    print(f"{ring.exchange}: retired key version {args.version}; versions now {_versions(ring)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    ring = KeyRing.load(args.key, passphrase=_passphrase(args))
    if args.json:  # built from named fields only: no path from the ring to a secret
        summary = {
            "exchange": ring.exchange,
            "current": ring.current,
            "versions": [
                {"version": n, "created": ring.created(n).isoformat()} for n in ring.versions
            ],
            "retired": list(ring.retired),
        }
        print(json.dumps(summary, indent=2))
        return 0
    print(f"exchange  {ring.exchange}")
    print(f"current   v{ring.current}")
    for number in ring.versions:
        print(f"v{number:<8} created {ring.created(number).isoformat()}")
    if ring.retired:
        print(f"retired   {', '.join(f'v{n}' for n in ring.retired)}")
    return 0


def _crosswalk(args: argparse.Namespace) -> int:
    check_output(args.out)
    ring = KeyRing.load(args.key, passphrase=_passphrase(args))
    table = _read(args.input, [args.column])
    new = ring.current if args.new is None else args.new
    with _naming(args.input):
        walk = crosswalk(table[args.column], ring, domain=args.domain, old=args.old, new=new)
    write_table(walk, args.out)
    print(f"wrote {len(walk):,} pairs v{args.old} -> v{new} to {args.out}")
    return 0


def _pseudonymise(args: argparse.Namespace) -> int:
    check_output(args.out)
    if args.key is not None:
        ring = KeyRing.load(args.key, passphrase=_passphrase(args))
    else:
        if not args.exchange:
            raise KeyringError("--master-env needs --exchange")
        ring = KeyRing.from_env(exchange=args.exchange, var=args.master_env)
    table = _read(args.input, args.column)
    with _naming(args.input):
        for column in args.column:
            table[column] = pseudonymise(
                table[column], ring, domain=args.domain, version=args.version
            )
    write_table(table, args.out)
    version = ring.current if args.version is None else args.version
    print(f"wrote {len(table):,} rows to {args.out} ({', '.join(args.column)}: v{version})")
    return 0


# ------------------------------------------------------------------------------- io


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    table = read_table(path, required=columns)
    # Rows in messages count data rows from 1, as linkage.io does.
    table.index = pd.RangeIndex(1, len(table) + 1)
    return table


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Name the file in an error about one of its columns (the library saw a Series)."""
    try:
        yield
    except LinkageError as exc:
        if exc.source is None and exc.column is not None:
            exc.source = path.name
            exc.args = (str(exc),)
        raise


def _versions(ring: KeyRing) -> str:
    return ", ".join(f"v{n}" for n in ring.versions)
