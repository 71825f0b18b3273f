"""Deduplication of the synthetic employers: pairwise and cluster precision / recall.

Run: ``python benchmarks/bench_dedupe.py [--enterprises 50000] [--share 0.05]`` (or
``pytest benchmarks/bench_dedupe.py -q -s``).

The synthetic exchange is generated with ``duplicate_employers`` (a share of the
employers that copy an enterprise held twice by VDAB, each copy independently noisy;
:mod:`linkage.synthetic._duplicates`), and its employers are deduplicated with the
right side of the ``enterprises`` preset at a few thresholds. Printed per threshold:
pairs over it, clusters, pairwise and cluster precision / recall against
``truth_duplicates``, and seconds. Without one-to-one resolution a link's 0.5
threshold lets through same-address pairs of different enterprises; 0.9 is the
better cut for dedupe here.
"""

from __future__ import annotations

import argparse
import time

import pytest

import linkage
from linkage.presets import enterprises

pytestmark = pytest.mark.benchmark

THRESHOLDS = (0.5, 0.9, 0.99)


def run(n_enterprises: int, share: float) -> list[dict[str, float]]:
    """Dedupe the employers at each threshold; one printed line and one row each."""
    exchange = linkage.synthetic.generate(n_enterprises, seed=7, duplicate_employers=share)
    employers, truth = exchange.employers, exchange.truth_duplicates
    print(
        f"{n_enterprises:,} enterprises: {len(employers):,} employers, "
        f"{len(truth):,} of them duplicated (share {share:g})"
    )
    rows = []
    for threshold in THRESHOLDS:
        started = time.perf_counter()
        result = linkage.dedupe(employers, enterprises(threshold=threshold), side="right")
        seconds = time.perf_counter() - started
        q = linkage.dedupe_quality(result.clusters, truth, on="employer_id")
        print(
            f"  threshold {threshold:<5g} pairs {q['found_pairs']:>6,}  clusters "
            f"{q['found_clusters']:>6,}  pair P {q['pair_precision']:.4f} "
            f"R {q['pair_recall']:.4f}  cluster P {q['cluster_precision']:.4f} "
            f"R {q['cluster_recall']:.4f}  {seconds:.2f} s"
        )
        rows.append({"threshold": threshold, "seconds": seconds, **q})
    return rows


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_dedupe_employers(n: int) -> None:
    rows = run(n, 0.05)
    best = max(rows, key=lambda r: r["pair_f1"])
    assert best["pair_recall"] > 0.9 and best["pair_precision"] > 0.9


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--share", type=float, default=0.05)
    args = parser.parse_args()
    run(args.enterprises, args.share)
