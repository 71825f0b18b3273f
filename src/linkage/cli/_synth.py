"""``linkage synth``: write a synthetic exchange (both sides and the truth)."""

from __future__ import annotations

import argparse
import json
import logging
import time

from linkage.exceptions import ConfigError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="generate a synthetic VLAIO/TBT - VDAB exchange with its truth",
        description="Generate enterprises, establishment units, dossiers, contacts and staff "
        "(VLAIO/TBT's side), VDAB's noisy employer and site records, and the true links "
        "between them; write one file per table and a manifest.json. The same seed gives "
        "the same bytes.",
    )
    parser.add_argument(
        "--enterprises",
        type=int,
        default=485_000,
        metavar="N",
        help="number of enterprises (default: 485000, full scale)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output directory (new, empty, or an earlier synth output)",
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="file format (default: parquet)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a summary as JSON on stdout, for scripts"
    )
    parser.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from linkage.synthetic import generate
    from linkage.synthetic._io import check_target

    if args.enterprises < 1:
        raise ConfigError(f"--enterprises: expected a positive number, got {args.enterprises}")
    if args.seed < 0:
        raise ConfigError(f"--seed: expected a non-negative number, got {args.seed}")
    check_target(args.out)
    # Progress on stderr: at full scale generation takes half a minute.
    log.info("generating %s enterprises (seed %d)...", f"{args.enterprises:,}", args.seed)
    started = time.perf_counter()
    exchange = generate(n_enterprises=args.enterprises, seed=args.seed)
    generated = time.perf_counter() - started
    log.info("generated in %.1f s; writing %s...", generated, args.out)
    out = exchange.write(args.out, format=args.format)
    written = time.perf_counter() - started - generated
    log.info("written in %.1f s", written)
    if args.json:
        summary = {
            "out": str(out),
            "format": args.format,
            "enterprises": args.enterprises,
            "seed": args.seed,
            "rows": dict(exchange.counts()),
            "seconds": {"generate": round(generated, 3), "write": round(written, 3)},
        }
        print(json.dumps(summary, indent=2))
        return 0
    counts = ", ".join(f"{name} {rows:,}" for name, rows in exchange.counts().items())
    print(f"wrote {out}: {counts}")
    return 0
