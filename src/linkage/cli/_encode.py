"""``linkage encode`` and ``linkage link --encoded``: linkage on encodings.

Each party runs ``encode`` on its own machine, with the exchange's key file; the
linking party runs ``link --encoded`` on the two files, with no key.
"""

from __future__ import annotations

import argparse
import json
import logging
import tomllib
from pathlib import Path

from linkage import presets
from linkage.encoding import EncodingParams, encode, link_encoded
from linkage.exceptions import ConfigError
from linkage.io import check_output, read_table, write_table
from linkage.keys import KeyRing
from linkage.presets import load_spec

from ._keys import _passphrase, _passphrase_option

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "encode",
        help="encode a table for linkage on encodings (no clear value leaves)",
        description="Prepare TABLE's fields as the spec says and write only their "
        "encodings (keyed HMAC tokens, hardened keyed Bloom filters, keyed blocking "
        "bands) and the record ids, for `linkage link --encoded` by a party without "
        "the key. See docs/encodings.md.",
    )
    parser.add_argument("table", type=Path, help="the party's table (CSV or Parquet)")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--preset", choices=("enterprises", "establishments"), help="a ready spec")
    how.add_argument("--spec", type=Path, help="a TOML link spec")
    parser.add_argument("--key", required=True, type=Path, metavar="FILE", help="key file")
    _passphrase_option(parser)
    parser.add_argument("--out", type=Path, required=True, help="encodings to write (Parquet)")
    parser.add_argument(
        "--side",
        choices=("left", "right"),
        help="which side of the spec the table is (default: found from its id column)",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COLUMN",
        help="an id column to pass through besides the record id: the parent id of a "
        "unit or site (enterprise_number, employer_id), for `link --encoded --parents`",
    )
    parser.add_argument(
        "--params",
        type=Path,
        help="encoding parameters (TOML: bits, hashes, q, flip, ...); both parties "
        "must use the same",
    )
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")
    parser.set_defaults(handler=_encode)


def _params(path: Path | None) -> EncodingParams:
    if path is None:
        return EncodingParams()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=path.name) from None
    return EncodingParams.from_dict(raw, source=path.name)


def _encode(args: argparse.Namespace) -> int:
    check_output(args.out)
    if args.out.suffix.lower() not in (".parquet", ".pq"):
        raise ConfigError(f"encodings are written as Parquet (.parquet), not {args.out.name!r}")
    spec = load_spec(args.spec) if args.spec else presets.get(args.preset)
    params = _params(args.params)
    ring = KeyRing.load(args.key, passphrase=_passphrase(args))
    log.info("reading %s...", args.table)
    table = read_table(args.table, arrow_strings=True)  # text as Arrow reads it, no Python strings
    encoded = encode(
        table, spec, ring, side=args.side, params=params, keep=args.keep, name=args.table.name
    )
    encoded.write(args.out)
    summary = {
        "table": str(args.table),
        "rows": encoded.table.num_rows,
        "side": encoded.description["side"],
        "columns": encoded.table.column_names[1:],
        "key_version": encoded.description["key_version"],
        "key_id": encoded.description["key_id"],
        "out": str(args.out),
        "seconds": {k: round(v, 3) for k, v in encoded.timings.items()},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"encoded {summary['rows']:,} records ({summary['side']} side, key version "
            f"{summary['key_version']}, key id {summary['key_id']}) to {args.out}"
        )
    return 0


def link_files(args: argparse.Namespace) -> int:
    """``linkage link --encoded LEFT RIGHT --out LINKS``: the spec is the files'."""
    check_output(args.out)
    for option in ("model", "save_model", "pairs_out", "overrides"):
        if getattr(args, option, None):
            flag = "--" + option.replace("_", "-")
            raise ConfigError(f"{flag} is not available with --encoded")
    parents = None
    if args.parents:
        links = read_table(args.parents)
        if len(links.columns) < 2:
            raise ConfigError("needs two id columns", source=args.parents.name)
        parents = (links, str(links.columns[0]), str(links.columns[1]))
    result = link_encoded(args.left, args.right, threshold=args.threshold, parents=parents)
    write_table(result.links, args.out)
    if args.json:
        print(
            json.dumps(
                {
                    "left": str(args.left),
                    "right": str(args.right),
                    "candidate_pairs": len(result.pairs),
                    "links": len(result.links),
                    "threshold": result.spec.threshold,
                    "out": str(args.out),
                    "seconds": {k: round(v, 3) for k, v in result.timings.items()},
                },
                indent=2,
            )
        )
    else:
        print(result.summary())
        print(f"wrote {len(result.links):,} links to {args.out}")
    return 0
