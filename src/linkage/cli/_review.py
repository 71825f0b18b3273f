"""``linkage review sample`` and ``linkage review score``: clerical review on files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from linkage import review
from linkage.io import read_table
from linkage.model import FellegiSunter


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "review",
        help="draw pairs to label, and score the links from the labels",
        description="Clerical review: a stratified sample of candidate pairs to label in "
        "an offline page, then precision, recall and F1 of the links from the labels.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    draw = actions.add_parser(
        "sample",
        help="draw a review sample and write its labelling page",
        description="Draw N candidate pairs over match-weight bands (denser near the "
        "threshold, with the pairs lost in the one-to-one step) and write OUT/sample.csv, "
        "OUT/sample.parquet and OUT/review.html (open it in a browser: keys m, n, u).",
    )
    draw.add_argument("--pairs", type=Path, required=True, help="linkage link --pairs-out")
    draw.add_argument("--links", type=Path, help="the links (if the pairs have no status)")
    draw.add_argument("--left", type=Path, help="left table, for the records' values")
    draw.add_argument("--right", type=Path, help="right table, for the records' values")
    draw.add_argument("--n", type=int, default=400, help="pairs to draw (default 400)")
    draw.add_argument("--threshold", type=float, help="link threshold (probability)")
    draw.add_argument("--seed", type=int, default=0)
    draw.add_argument("--left-id", help="the left table's id column (default: its first)")
    draw.add_argument("--right-id", help="the right table's id column (default: its first)")
    draw.add_argument(
        "--columns",
        metavar="LEFT[=RIGHT],...",
        help="values to show side by side, e.g. name=naam,postcode (default: the "
        "columns the tables share)",
    )
    draw.add_argument("--out", type=Path, required=True, help="folder to write")
    draw.set_defaults(handler=_sample)

    score = actions.add_parser(
        "score",
        help="precision, recall and F1 of the links from labels",
        description="Estimate precision, recall and F1 of the links, with 95%% intervals, "
        "from a labelled sample (the page's labels.csv, or sample.csv filled in), and "
        "recommend a threshold.",
    )
    score.add_argument("labels", type=Path)
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--json", action="store_true", help="print JSON for scripts")
    score.set_defaults(handler=_score)
    _register_fit(actions)


def _register_fit(actions: argparse._SubParsersAction) -> None:
    learn = actions.add_parser(
        "fit",
        help="learn the model's m (and u) from labels",
        description="Re-estimate a saved model's m probabilities (and u where a "
        "comparison has at least 50 labelled non-matches) from a labelled sample, each "
        "pair weighted by its stratum, the fitted values counting as 10 labels; write "
        "the new model, which linkage link --model uses.",
    )
    learn.add_argument("labels", type=Path, help="labels.csv (a labelled review sample)")
    learn.add_argument("--model", type=Path, required=True, help="the model that scored the pairs")
    learn.add_argument("--out", type=Path, required=True, help="where to write the new model")
    learn.set_defaults(handler=_fit)


def _fit(args: argparse.Namespace) -> int:
    model = FellegiSunter.load(args.model)
    learnt = review.fit(review.read_labels(args.labels), model)
    learnt.save(args.out)
    summary = learnt.label_fit_
    for c in model.comparisons:
        u = "m and u" if c.name in summary.u_updated else "m"
        print(
            f"  {c.name:<12} {u:<8} from {summary.matches[c.name]:>5,} matches, "
            f"{summary.non_matches[c.name]:>5,} non-matches"
        )
    print(f"wrote {args.out}")
    return 0


def _columns(option: str | None) -> tuple[list[str] | None, list[str] | None]:
    if option is None:
        return None, None
    left, right = [], []
    for part in option.split(","):
        name, _, theirs = (p.strip() for p in part.partition("="))
        left.append(name)
        right.append(theirs or name)
    return left, right


def _sample(args: argparse.Namespace) -> int:
    pairs = read_table(args.pairs)
    links = read_table(args.links) if args.links else None
    left = read_table(args.left, sep=None, encoding=None) if args.left else None
    right = read_table(args.right, sep=None, encoding=None) if args.right else None
    left_columns, right_columns = _columns(args.columns)
    drawn = review.sample(
        pairs,
        links=links,
        left=left,
        right=right,
        n=args.n,
        threshold=args.threshold,
        seed=args.seed,
        left_id=args.left_id,
        right_id=args.right_id,
        left_columns=left_columns,
        right_columns=right_columns,
    )
    review.write(drawn, args.out, title=args.pairs.name)
    strata = drawn.groupby("stratum", sort=False)["stratum_pairs"].agg(["first", "size"])
    for name, row in strata.iterrows():
        print(f"  {name:<20} {row['size']:>4} of {row['first']:>10,} pairs")
    print(f"wrote {len(drawn):,} pairs to {args.out}/ (open review.html to label them)")
    return 0


def _score(args: argparse.Namespace) -> int:
    result = review.score(review.read_labels(args.labels), seed=args.seed)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result)
    return 0
