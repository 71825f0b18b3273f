"""Accuracy from a clerical review: do the intervals cover the truth?

Run: ``python benchmarks/bench_review.py`` (or ``pytest benchmarks/bench_review.py -q -s``).

The synthetic exchange at 100,000 enterprises is linked once (enterprises preset);
then, 100 times, a 400-pair review sample is drawn with its own seed, labelled from
the truth as a perfect reviewer would, and scored by :func:`linkage.review.score`.
Printed: how often the 95 % intervals of precision and recall hold the true values
(against the whole truth, so recall counts the matches blocking never proposed),
and the median absolute error of the estimates, in points. One linkage, 100
samples: linking 100 synthetic exchanges at 100k would take longer than the review
itself needs to show, and the sample's randomness is what the intervals are about.

Learning from labels (``--learn``): the exchange at 100,000 enterprises is linked
with its own model, and with a weaker one (fitted on 1,000 enterprises of another
seed, as a model reused from a small pilot); for each, a few 400-pair samples are
labelled from the truth, the model re-estimated by :func:`linkage.review.fit`, the
exchange linked again with it, and precision, recall and F1 printed before and after.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage import review
from linkage.presets import enterprises
from linkage.synthetic import generate

pytestmark = pytest.mark.benchmark

IDS = ["enterprise_number", "employer_id"]


@dataclass(frozen=True)
class Coverage:
    trials: int
    precision: float
    recall: float
    precision_covered: float
    recall_covered: float
    precision_error: float  # median absolute error, points
    recall_error: float
    precision_width: float  # median interval width, points
    recall_width: float
    seconds_per_trial: float

    def __str__(self) -> str:
        return (
            f"{self.trials} trials: true precision {self.precision:.4f}, recall "
            f"{self.recall:.4f}; 95% intervals cover precision in "
            f"{self.precision_covered:.0%}, recall in {self.recall_covered:.0%}; median "
            f"absolute error {self.precision_error:.3f} / {self.recall_error:.3f} points; "
            f"median width {self.precision_width:.3f} / {self.recall_width:.3f} points; "
            f"{self.seconds_per_trial:.2f} s a trial"
        )


def coverage(n_enterprises: int = 100_000, *, trials: int = 100, n: int = 400) -> Coverage:
    x = generate(n_enterprises=n_enterprises, seed=7)
    result = linkage.link(x.enterprises, x.employers, enterprises(), trace=True)
    pairs = result.scored_pairs()
    truth = pd.MultiIndex.from_frame(x.truth_enterprises[IDS])
    linked = pd.MultiIndex.from_frame(result.links[IDS]).isin(truth)
    precision, recall = linked.mean(), linked.sum() / len(truth)
    got = []
    start = time.perf_counter()
    for seed in range(trials):
        drawn = review.sample(pairs, n=n, seed=seed)
        match = pd.MultiIndex.from_frame(drawn[["left_id", "right_id"]]).isin(truth)
        drawn["label"] = np.where(match, "match", "non-match")
        s = review.score(drawn, seed=seed)
        got.append([s.precision.value, s.precision.low, s.precision.high,
                    s.recall.value, s.recall.low, s.recall.high])  # fmt: skip
    seconds = (time.perf_counter() - start) / trials
    g = np.asarray(got)
    return Coverage(
        trials=trials,
        precision=float(precision),
        recall=float(recall),
        precision_covered=float(((g[:, 1] <= precision) & (precision <= g[:, 2])).mean()),
        recall_covered=float(((g[:, 4] <= recall) & (recall <= g[:, 5])).mean()),
        precision_error=float(np.median(np.abs(g[:, 0] - precision)) * 100),
        recall_error=float(np.median(np.abs(g[:, 3] - recall)) * 100),
        precision_width=float(np.median(g[:, 2] - g[:, 1]) * 100),
        recall_width=float(np.median(g[:, 5] - g[:, 4]) * 100),
        seconds_per_trial=seconds,
    )


def _quality(links: pd.DataFrame, truth: pd.MultiIndex) -> tuple[float, float, float, int, int]:
    ok = pd.MultiIndex.from_frame(links[IDS]).isin(truth)
    p, r = float(ok.mean()), float(ok.sum() / len(truth))
    return p, r, 2 * p * r / (p + r), int((~ok).sum()), int(len(truth) - ok.sum())


def learning(n_enterprises: int = 100_000, *, trials: int = 3, n: int = 400) -> pd.DataFrame:
    """F1 before and after learning m and u from a labelled review, per model and trial."""
    x = generate(n_enterprises=n_enterprises, seed=7)
    spec = enterprises()
    truth = pd.MultiIndex.from_frame(x.truth_enterprises[IDS])
    pilot = generate(n_enterprises=1_000, seed=1)
    models = {
        "own": None,
        "pilot (1,000)": linkage.link(pilot.enterprises, pilot.employers, spec).model,
    }
    rows = []
    for name, given in models.items():
        before = linkage.link(x.enterprises, x.employers, spec, model=given)
        pairs = before.scored_pairs()
        for seed in range(trials):
            drawn = review.sample(pairs, n=n, seed=seed)
            match = pd.MultiIndex.from_frame(drawn[["left_id", "right_id"]]).isin(truth)
            drawn["label"] = np.where(match, "match", "non-match")
            learnt = review.fit(drawn, before.model)
            after = linkage.link(x.enterprises, x.employers, spec, model=learnt)
            row = {"model": name, "seed": seed}
            for suffix, links in (("0", before.links), ("1", after.links)):
                names = (f"p{suffix}", f"r{suffix}", f"f1_{suffix}", f"false_{suffix}")
                values = _quality(links, truth)
                row |= dict(zip((*names, f"missed_{suffix}"), values, strict=True))
            rows.append(row)
    return pd.DataFrame(rows)


def _print_learning(table: pd.DataFrame, n_enterprises: int, n: int) -> None:
    print(
        f"learning m/u from {n}-pair reviews labelled from the truth, {n_enterprises:,} enterprises"
    )
    for _, r in table.iterrows():
        print(
            f"  {r['model']:<14} seed {r['seed']}: F1 {r['f1_0']:.5f} -> {r['f1_1']:.5f} "
            f"(precision {r['p0']:.5f} -> {r['p1']:.5f}, recall {r['r0']:.5f} -> {r['r1']:.5f}; "
            f"false links {r['false_0']} -> {r['false_1']}, "
            f"missed {r['missed_0']} -> {r['missed_1']})"
        )
    for name, g in table.groupby("model", sort=False):
        print(f"  {name}: median F1 {g['f1_0'].median():.5f} -> {g['f1_1'].median():.5f}")


@pytest.mark.parametrize("n", [100_000], ids=["100k"])
def test_learning_from_labels(n: int) -> None:
    table = learning(n)
    _print_learning(table, n, 400)
    # Labels never make a link run much worse, and help a weaker model.
    assert (table["f1_1"] >= table["f1_0"] - 0.001).all()
    pilot = table[table["model"] != "own"]
    assert (pilot["f1_1"] > pilot["f1_0"]).all()


@pytest.mark.parametrize("n", [100_000], ids=["100k"])
def test_review_intervals_cover_the_truth(n: int) -> None:
    figures = coverage(n)
    print(f"\nreview at {n:,} enterprises: {figures}")
    assert figures.precision_covered >= 0.9 and figures.recall_covered >= 0.9
    assert figures.precision_error <= 0.5 and figures.recall_error <= 0.5


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--learn", action="store_true", help="F1 before/after learning m/u")
    args = parser.parse_args()
    if args.learn:
        _print_learning(learning(args.enterprises, trials=3, n=args.n), args.enterprises, args.n)
    else:
        print(coverage(args.enterprises, trials=args.trials, n=args.n))
