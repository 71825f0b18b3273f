"""Blocking: candidate pairs of the enterprise preset's rules.

Run: ``pytest benchmarks/bench_blocking.py -q -s``.

Input: both sides prepared once per scale (``stage_inputs``). Throughput is records
in (both sides) per second; the pairs out per second are recorded beside it.
"""

from __future__ import annotations

import pytest

from linkage.blocking import candidate_pairs

pytestmark = pytest.mark.benchmark


def test_candidate_pairs(bench, stage_inputs) -> None:
    s = stage_inputs
    pairs, seconds, peak = bench.run(
        candidate_pairs, s.left, s.right, s.spec.blocking, size=s.exchange.n_enterprises
    )
    assert len(pairs) == len(s.pairs)
    records = len(s.left) + len(s.right)
    bench.record(
        stage="block",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=records,
        unit="records",
        peak_mib=peak,
        pairs=len(pairs),
        pairs_per_s=len(pairs) / seconds,
        rules=len(s.spec.blocking),
        note=f"-> {len(pairs):,} pairs, {len(pairs) / seconds:,.0f} pairs/s",
    )
