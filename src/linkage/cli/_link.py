"""``linkage link`` and ``linkage evaluate``: the engine on files."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from linkage import presets
from linkage.config import LinkSpec
from linkage.evaluate import check_pairs, link_quality, threshold_sweep
from linkage.exceptions import ConfigError, SchemaError
from linkage.io import check_output, read_table, require_columns, write_table
from linkage.model import FellegiSunter
from linkage.overrides import read_overrides
from linkage.pipeline import LinkResult, ParentLinks, link
from linkage.presets import load_spec

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "link",
        help="link two tables with a preset or a spec",
        description="Link LEFT to RIGHT (CSV or Parquet) with a preset or a TOML spec and "
        "write the links with their match weights and probabilities (Parquet or CSV).",
    )
    parser.add_argument("left", type=Path, help="left table, e.g. enterprises.parquet")
    parser.add_argument("right", type=Path, help="right table, e.g. employers.parquet")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--preset", choices=("enterprises", "establishments"), help="a ready spec")
    how.add_argument(
        "--spec",
        type=Path,
        help="a TOML link spec (start from `linkage spec show --preset enterprises` or examples/)",
    )
    how.add_argument(
        "--encoded",
        action="store_true",
        help="LEFT and RIGHT are encodings (`linkage encode`): link them without a key, "
        "with the spec they were encoded with",
    )
    parser.add_argument("--out", type=Path, required=True, help="links file to write")
    parser.add_argument("--threshold", type=float, help="match probability cut-off")
    parser.add_argument(
        "--parents",
        type=Path,
        help="links of the parents (e.g. enterprise links) to link children within",
    )
    parser.add_argument("--model", type=Path, help="reuse a fitted model (JSON) instead of fitting")
    parser.add_argument("--save-model", type=Path, help="write the fitted model (JSON)")
    parser.add_argument("--pairs-out", type=Path, help="also write every scored candidate pair")
    parser.add_argument(
        "--overrides",
        type=Path,
        help="must-link / cannot-link decisions to apply (CSV or Parquet: left_id, "
        "right_id, decision, who, when, why)",
    )
    for side in ("left", "right"):
        parser.add_argument(
            f"--{side}-columns",
            metavar="NAME=YOURS,...",
            help=f"the {side} table's own column names for the spec's, e.g. "
            "name=naam,postcode=postcode_nr (the spec's names: its id and its fields' "
            "sources; address=adres for a one-line address). A preset's columns other "
            "than the name may be absent: their fields are left out, with a note",
        )
    parser.add_argument(
        "--json", action="store_true", help="print a summary as JSON on stdout, for scripts"
    )
    _dialect_options(parser)
    parser.set_defaults(handler=_link)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="score links against the truth",
        description="Precision, recall and F1 of LINKS against TRUTH; the first two columns "
        "of each are the pair's ids unless --on / --truth-on name them.",
    )
    evaluate.add_argument("links", type=Path)
    evaluate.add_argument("truth", type=Path)
    evaluate.add_argument("--on", help="left,right id columns of LINKS")
    evaluate.add_argument("--truth-on", help="left,right id columns of TRUTH")
    evaluate.add_argument("--sweep", action="store_true", help="also a threshold sweep")
    evaluate.add_argument("--json", action="store_true", help="print JSON for scripts")
    _dialect_options(evaluate)
    evaluate.set_defaults(handler=_evaluate)


def _dialect_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sep",
        help="separator of the CSV inputs: ',', ';', tab as '\\t' (default: found from "
        "the header and first rows)",
    )
    parser.add_argument(
        "--encoding",
        help="encoding of the CSV inputs, e.g. utf-8, cp1252 (default: found: UTF-8 "
        "with or without a byte-order mark, UTF-16 with one, else Windows-1252)",
    )


def _read(path: Path, args: argparse.Namespace) -> pd.DataFrame:
    """A table as ``--sep`` and ``--encoding`` say, or as found."""
    log.info("reading %s...", path)
    return read_table(path, sep=args.sep, encoding=args.encoding)


def _link(args: argparse.Namespace) -> int:
    if args.encoded:
        from linkage.cli._encode import link_files

        return link_files(args)
    # Every output refused now, not after the link: a name no writer takes, a folder.
    check_output(args.out)
    if args.pairs_out:
        check_output(args.pairs_out)
    if args.save_model:
        check_output(args.save_model, table=False)
    spec = _read_spec(args.spec) if args.spec else presets.get(args.preset)
    if args.threshold is not None:
        spec = replace(spec, threshold=args.threshold)
    spec = spec.with_columns(
        left=_columns(args.left_columns, "--left-columns"),
        right=_columns(args.right_columns, "--right-columns"),
    )
    overrides = read_overrides(args.overrides) if args.overrides else None
    model = None
    if args.model:  # refused now if it cannot score this spec's pairs, not after compare
        model = FellegiSunter.load(args.model)
        model.check_spec(_as_fitted(spec, model), source=args.model.name)
    left, right = _read(args.left, args), _read(args.right, args)
    parents = None
    if args.parents:
        parent_links = _read(args.parents, args)
        lcol, rcol = _id_columns(parent_links, None, source=args.parents.name, what="--parents")
        if lcol not in left.columns and rcol in left.columns and lcol in right.columns:
            lcol, rcol = rcol, lcol  # the file's two columns the other way round
        parents = ParentLinks(links=parent_links[[lcol, rcol]], left_parent=lcol, right_parent=rcol)
    result = link(
        left,
        right,
        spec,
        model=model,
        parents=parents,
        names=(args.left.name, args.right.name),
        trace=args.pairs_out is not None,
        overrides=overrides,
    )
    write_table(result.links, args.out)
    if args.save_model:
        result.model.save(args.save_model)
    if args.pairs_out:
        write_table(result.scored_pairs(left, right), args.pairs_out)
    if args.json:
        print(json.dumps(_summary(result, args, fitted=model is None), indent=2))
    else:
        print(result.summary())
        print(f"wrote {len(result.links):,} links to {args.out}")
    return 0


def _as_fitted(spec: LinkSpec, model: FellegiSunter) -> LinkSpec:
    """The spec without the optional fields the model does not compare: a model
    fitted where a table lacked them (link() checks it again on the tables)."""
    compared = {c.column for c in model.comparisons}
    try:
        return spec.without(f.name for f in spec.fields if f.optional and f.name not in compared)
    except ConfigError:  # nothing left to link with: the model is for another spec
        return spec


def _columns(option: str | None, flag: str) -> dict[str, str]:
    """``name=naam,postcode=postcode_nr`` as ``{"name": "naam", ...}``."""
    if option is None:
        return {}
    mapping: dict[str, str] = {}
    for part in option.split(","):
        name, sep, yours = (p.strip() for p in part.partition("="))
        if not (sep and name and yours):
            raise ConfigError(
                f"{flag} takes NAME=YOURS pairs separated by commas "
                f"(e.g. name=naam,postcode=postcode_nr), got {part.strip()!r}"
            )
        if name in mapping:
            raise ConfigError(f"{flag} names {name!r} twice")
        mapping[name] = yours
    return mapping


def _summary(result: LinkResult, args: argparse.Namespace, *, fitted: bool) -> dict[str, Any]:
    """What ``link --json`` prints: the inputs, the pairs, the links, the model."""
    model = result.model
    return {
        "left": {"file": str(args.left), "rows": len(result.left_ids)},
        "right": {"file": str(args.right), "rows": len(result.right_ids)},
        "candidate_pairs": len(result.pairs),
        "pairs_by_rule": result.pairs.by_rule,
        "skipped_by_rule": result.pairs.skipped,
        "threshold": result.spec.threshold,
        "links": len(result.links),
        "notes": list(result.notes),
        "out": str(args.out),
        "model": {
            "fitted": fitted,
            "from": None if args.model is None else str(args.model),
            "saved": None if args.save_model is None else str(args.save_model),
            "converged": bool(model.converged_),
            "iterations": int(model.n_iter_),
            "match_share": float(model.lambda_),
        },
        "pairs_out": None if args.pairs_out is None else str(args.pairs_out),
        "seconds": {stage: round(t, 3) for stage, t in result.timings.items()},
    }


def _read_spec(path: Path) -> LinkSpec:
    try:
        return load_spec(path)
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text, so not a TOML spec", source=path.name) from None


def _id_columns(
    table: pd.DataFrame, option: str | None, *, source: str, what: str
) -> tuple[str, str]:
    """The pair's two id columns: named by ``option`` ("a,b"), else the first two."""
    if option is None:
        if len(table.columns) < 2:
            raise SchemaError(f"needs two id columns, found {list(table.columns)}", source=source)
        return table.columns[0], table.columns[1]
    names = option.split(",")
    if len(names) != 2:
        raise ConfigError(f"{what} takes two column names separated by a comma, got {option!r}")
    require_columns(table, names, source=source)
    return names[0], names[1]


def _evaluate(args: argparse.Namespace) -> int:
    links, truth = _read(args.links, args), _read(args.truth, args)
    on = _id_columns(links, args.on, source=args.links.name, what="--on")
    truth_on = _id_columns(truth, args.truth_on, source=args.truth.name, what="--truth-on")
    sweep = None
    with _files(args.links, args.truth):
        # Two columns that are not ids are refused, not scored as a precision of 0.
        check_pairs(links, truth, on=on, truth_on=truth_on)
        quality = link_quality(links, truth, on=on, truth_on=truth_on)
        if args.sweep and "match_probability" in links.columns:
            sweep = threshold_sweep(
                links,
                truth,
                on=on,
                truth_on=truth_on,
                thresholds=(0.5, 0.8, 0.9, 0.95, 0.99, 0.999),
            )
    if args.json:
        out = quality.to_dict()
        if sweep is not None:
            out["sweep"] = sweep.to_dict(orient="records")
        print(json.dumps(out, indent=2))
    else:
        print(quality)
        if sweep is not None:
            print(sweep.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    return 0


@contextlib.contextmanager
def _files(links: Path, truth: Path) -> Iterator[None]:
    """Name the files in the errors of :mod:`linkage.evaluate`, which calls its
    tables "links" and "truth"."""
    try:
        yield
    except SchemaError as exc:
        files = {"links": links.name, "truth": truth.name}
        source = files.get(exc.source or "", exc.source)
        raise SchemaError(exc.detail, source=source, column=exc.column, row=exc.row) from None
