"""``linkage check-numbers``: validate a column of enterprise or unit numbers."""

from __future__ import annotations

import argparse
import json
import logging

from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers
from linkage.io import check_output, read_table, write_table

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-numbers",
        help="validate enterprise or establishment-unit numbers in a table",
        description="Parse a column of enterprise (KBO/BCE) or establishment-unit numbers "
        "in any written form, count the invalid ones by reason, and optionally write "
        "the canonical numbers. Exits 1 when any number is invalid.",
    )
    parser.add_argument("table", help="CSV or Parquet file")
    parser.add_argument("--column", required=True, help="column holding the numbers")
    parser.add_argument(
        "--kind",
        choices=("enterprise", "establishment"),
        default="enterprise",
        help="which kind of number (default: enterprise)",
    )
    parser.add_argument(
        "--out", help="write the table with columns '<column>_canonical' and '<column>_reason'"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the counts as JSON on stdout, for scripts"
    )
    parser.set_defaults(handler=_check_numbers)


def _check_numbers(args: argparse.Namespace) -> int:
    if args.out:
        check_output(args.out)
    table = read_table(args.table, required=(args.column,))
    parse = parse_enterprise_numbers if args.kind == "enterprise" else parse_establishment_numbers
    checked = parse(table[args.column], return_reasons=True)
    reasons = checked["reason"].value_counts()
    reasons = reasons[reasons > 0]
    # All three counts from the parser, which also counts a blank cell as missing.
    valid, invalid = int(checked["number"].notna().sum()), int(reasons.sum())
    missing = len(table) - valid - invalid
    if args.json:
        summary = {
            "file": str(args.table),
            "column": args.column,
            "kind": args.kind,
            "rows": len(table),
            "valid": valid,
            "missing": missing,
            "invalid": invalid,
            "reasons": {str(reason): int(count) for reason, count in reasons.items()},
            "out": args.out,
        }
        print(json.dumps(summary, indent=2))
    else:
        print(f"{len(table):,} rows: {valid:,} valid, {missing:,} missing, {invalid:,} invalid")
        for reason, count in reasons.items():
            print(f"  {count:>10,}  {reason}")
    if args.out:
        table[f"{args.column}_canonical"] = checked["number"]
        table[f"{args.column}_reason"] = checked["reason"].astype("string")
        write_table(table, args.out)
        log.info("wrote %s", args.out)
    return 1 if invalid else 0
