"""Resolution: greedy one-to-one assignment of the scored candidate pairs.

Run: ``pytest benchmarks/bench_resolve.py -q -s``.

Pairs below the link threshold are dropped first; the rest are assigned in
vectorised mutual-best rounds (a sort, then a few ``np.unique`` passes).
"""

from __future__ import annotations

import pytest

from linkage.resolve import one_to_one

pytestmark = pytest.mark.benchmark


def test_one_to_one(bench, stage_inputs) -> None:
    s = stage_inputs
    chosen, seconds, peak = bench.run(
        one_to_one,
        s.pairs.left,
        s.pairs.right,
        s.weights,
        min_weight=s.min_weight,
        size=s.exchange.n_enterprises,
    )
    above = int((s.weights >= s.min_weight).sum())
    bench.record(
        stage="resolve (one-to-one)",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=len(s.weights),
        unit="pairs",
        peak_mib=peak,
        above_threshold=above,
        links=int(chosen.sum()),
        note=f"{above:,} above threshold -> {int(chosen.sum()):,} links",
    )
