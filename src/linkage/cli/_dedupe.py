"""``linkage dedupe``: one table against itself, its records in clusters."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from linkage import presets
from linkage.cli._link import _columns, _dialect_options, _read, _read_spec
from linkage.dedupe import dedupe
from linkage.io import check_output, write_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dedupe",
        help="find the records of one table that are the same entity",
        description="Link TABLE (CSV or Parquet) against itself with one side of a preset or "
        "a TOML spec, and write each record's cluster (cluster_id: the smallest id of its "
        "cluster). A cluster over --max-cluster-size records is reported, not merged.",
    )
    parser.add_argument("table", type=Path, help="the table, e.g. employers.parquet")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--preset", choices=("enterprises", "establishments"), help="a ready spec")
    how.add_argument("--spec", type=Path, help="a TOML link spec")
    parser.add_argument("--out", type=Path, required=True, help="clusters file to write")
    parser.add_argument(
        "--side",
        choices=("left", "right"),
        help="which side of the spec the table is (default: the side whose id it has)",
    )
    parser.add_argument("--threshold", type=float, help="match probability cut-off")
    parser.add_argument(
        "--max-cluster-size", type=int, default=50, help="records a cluster may hold (50)"
    )
    parser.add_argument(
        "--columns",
        metavar="NAME=YOURS,...",
        help="the table's own column names for the spec's (as link --left-columns)",
    )
    parser.add_argument("--pairs-out", type=Path, help="also write the pairs over the threshold")
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")
    _dialect_options(parser)
    parser.set_defaults(handler=_dedupe)


def _dedupe(args: argparse.Namespace) -> int:
    check_output(args.out)
    if args.pairs_out:
        check_output(args.pairs_out)
    spec = _read_spec(args.spec) if args.spec else presets.get(args.preset)
    if args.threshold is not None:
        spec = replace(spec, threshold=args.threshold)
    mapping = _columns(args.columns, "--columns")
    table = _read(args.table, args)
    side = args.side
    if side is None and mapping:  # the side whose id the table has (by its own name)
        ids = {s: getattr(spec, f"{s}_id") for s in ("left", "right")}
        named = [s for s, i in ids.items() if mapping.get(i, i) in table]
        side = named[0] if len(named) == 1 else None
    if mapping:
        spec = spec.with_columns(**{side or "left": mapping})
    result = dedupe(
        table, spec, side=side, max_cluster_size=args.max_cluster_size, name=args.table.name
    )
    write_table(result.clusters, args.out)
    if args.pairs_out:
        write_table(result.links, args.pairs_out)
    if args.json:
        sizes = result.clusters.drop_duplicates("cluster_id")["cluster_size"]
        summary = {
            "table": {"file": str(args.table), "rows": len(result.ids)},
            "candidate_pairs": len(result.pairs),
            "pairs_over_threshold": len(result.links),
            "threshold": result.spec.threshold,
            "clusters": int((sizes > 1).sum()),
            "records_in_clusters": int(sizes[sizes > 1].sum()),
            "oversized": result.oversized.to_dict(orient="records"),
            "notes": list(result.notes),
            "out": str(args.out),
            "seconds": {stage: round(t, 3) for stage, t in result.timings.items()},
        }
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(result.summary())
        print(f"wrote {len(result.clusters):,} records' clusters to {args.out}")
    return 0
