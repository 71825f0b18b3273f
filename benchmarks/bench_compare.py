"""Comparison: the int8 level matrix of every candidate pair, against rapidfuzz alone.

Run: ``pytest benchmarks/bench_compare.py -q -s``.

``test_compare`` times :func:`linkage.compare.compare` over the candidate pairs of the
enterprise preset (seven comparisons: number by Damerau-Levenshtein, name and
address by Jaro-Winkler, four exact). ``test_against_rapidfuzz`` is the physical
limit: rapidfuzz's own ``cpdist`` (all cores) on the same string pairs, already
gathered into lists, for the three fuzzy comparisons, i.e. only the kernel. Ours
codes each column once, settles null and exact pairs with integer tests and sends
only the rest to ``cpdist``, so it can come in under the kernel alone.
"""

from __future__ import annotations

import time

import pytest
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from linkage.compare import compare

pytestmark = pytest.mark.benchmark


def test_compare(bench, stage_inputs) -> None:
    s = stage_inputs
    gamma, seconds, peak = bench.run(
        compare,
        s.left,
        s.right,
        s.pairs.left,
        s.pairs.right,
        s.spec.comparisons,
        chunk_size=s.spec.chunk_size,
        size=s.exchange.n_enterprises,
    )
    assert gamma.shape == (len(s.pairs), len(s.spec.comparisons))
    bench.record(
        stage="compare",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=len(s.pairs),
        unit="pairs",
        peak_mib=peak,
        comparisons=len(s.spec.comparisons),
    )


def test_against_rapidfuzz(bench, stage_inputs) -> None:
    """rapidfuzz ``cpdist`` over the gathered strings: the floor for the fuzzy part."""
    s = stage_inputs
    fuzzy = [c for c in s.spec.comparisons if c.kind != "exact"]
    gathered, present = [], []
    for c in fuzzy:
        left = s.left[c.column].astype(object).to_numpy(na_value=None)[s.pairs.left]
        right = s.right[c.column].astype(object).to_numpy(na_value=None)[s.pairs.right]
        # cpdist refuses None; a pair with a missing side needs no kernel anyway.
        both = (left != None) & (right != None)  # noqa: E711 (elementwise)
        present.append(int(both.sum()))
        scorer = (
            JaroWinkler.normalized_similarity
            if c.kind == "similarity"
            else DamerauLevenshtein.distance
        )
        gathered.append((left[both].tolist(), right[both].tolist(), scorer))

    def kernel_only() -> None:
        for left, right, scorer in gathered:
            process.cpdist(left, right, scorer=scorer, workers=-1)

    _, kernel, _ = bench.run(kernel_only, size=s.exchange.n_enterprises)
    started = time.perf_counter()
    compare(
        s.left,
        s.right,
        s.pairs.left,
        s.pairs.right,
        s.spec.comparisons,
        chunk_size=s.spec.chunk_size,
    )
    ours = time.perf_counter() - started
    n = len(s.pairs)
    bench.record(
        stage="compare: rapidfuzz floor",
        size=s.exchange.n_enterprises,
        seconds=kernel,
        items=n,
        unit="pairs",
        peak_mib=None,
        ours_seconds=ours,
        ours_over_kernel=ours / kernel,
        kernel_string_pairs=sum(present),
        note=f"cpdist alone on {len(fuzzy)} fuzzy comparisons ({sum(present):,} "
        f"non-null string pairs); ours, all 7: {ours:.3f} s = "
        f"{ours / kernel:.2f}x the kernel",
    )
