"""Blocking: candidate pairs of the enterprise preset's rules.

Run: ``pytest benchmarks/bench_blocking.py -q -s``.

Input: both sides prepared once per scale (``stage_inputs``). Throughput is records
in (both sides) per second; the pairs out per second are recorded beside it, with
pair completeness (the share of true pairs proposed; issue 17: >= 0.999 at 485k), the
true pairs missed, and per rule the pairs of oversized blocks left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linkage.blocking import candidate_pairs, pair_completeness

pytestmark = pytest.mark.benchmark


def test_candidate_pairs(bench, stage_inputs) -> None:
    s = stage_inputs
    pairs, seconds, peak = bench.run(
        candidate_pairs, s.left, s.right, s.spec.blocking, size=s.exchange.n_enterprises
    )
    assert len(pairs) == len(s.pairs)
    records = len(s.left) + len(s.right)
    x = s.exchange
    truth = x.truth_enterprises
    tl = pd.Index(x.enterprises["enterprise_number"]).get_indexer(truth["enterprise_number"])
    tr = pd.Index(x.employers["employer_id"]).get_indexer(truth["employer_id"])
    completeness = pair_completeness(pairs, tl, tr)
    found = pairs.left.astype(np.int64) * pairs.n_right + pairs.right
    missed = int((~np.isin(tl.astype(np.int64) * pairs.n_right + tr, found)).sum())
    split = {k: vars(v) for k, v in pairs.split.items()}
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
        pair_completeness=completeness,
        true_pairs_missed=missed,
        skipped=dict(pairs.skipped),
        split=split,
        note=(
            f"-> {len(pairs):,} pairs, {len(pairs) / seconds:,.0f} pairs/s; pair completeness "
            f"{completeness:.5f} ({missed:,} of {len(truth):,} true pairs missed)"
        ),
    )
