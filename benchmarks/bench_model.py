"""The Fellegi-Sunter model: EM fit and scoring.

Run: ``pytest benchmarks/bench_model.py -q -s``.

``fit``: ``u`` from the random pairs' levels, then EM over the distinct agreement
patterns of the candidate pairs (its cost is patterns x iterations, not pairs; the
one pass over the pairs is ``np.unique`` of a packed code). ``score``: match
weights of every candidate pair, with term-frequency adjustment on the name.
``u sample``: the pipeline's fit also compares ``u_sample_size`` random pairs
(300,000 by default) to start ``u``; that comparison is timed on its own.
"""

from __future__ import annotations

import warnings

import pytest

from linkage.compare import compare
from linkage.exceptions import ConvergenceWarning
from linkage.model import FellegiSunter
from linkage.pipeline import random_pairs

pytestmark = pytest.mark.benchmark


def _fit(spec, gamma, gamma_random, tf) -> FellegiSunter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return FellegiSunter.from_spec(spec).fit(gamma, gamma_random=gamma_random, tf=tf)


def test_fit(bench, stage_inputs) -> None:
    s = stage_inputs
    model, seconds, peak = bench.run(
        _fit, s.spec, s.gamma, s.gamma_random, s.tf, size=s.exchange.n_enterprises
    )
    bench.record(
        stage="fit (EM)",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=len(s.gamma),
        unit="pairs",
        peak_mib=peak,
        patterns=model.n_patterns_,
        iterations=model.n_iter_,
        random_pairs=len(s.gamma_random),
        converged=bool(model.converged_),
        note=f"{model.n_patterns_:,} patterns, {model.n_iter_} iterations",
    )


def test_u_sample(bench, stage_inputs) -> None:
    """The other half of the pipeline's fit: the levels of the random pairs for ``u``."""
    s = stage_inputs
    rl, rr = random_pairs(FellegiSunter.from_spec(s.spec), len(s.left), len(s.right))
    _, seconds, peak = bench.run(
        compare,
        s.left,
        s.right,
        rl,
        rr,
        s.spec.comparisons,
        chunk_size=s.spec.chunk_size,
        size=s.exchange.n_enterprises,
    )
    bench.record(
        stage="fit: u sample (compare)",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=len(rl),
        unit="pairs",
        peak_mib=peak,
        note="random pairs: nearly all go to the fuzzy kernels",
    )


def test_score(bench, stage_inputs) -> None:
    s = stage_inputs
    weights, seconds, peak = bench.run(
        s.model.match_weight, s.gamma, tf=s.tf, size=s.exchange.n_enterprises
    )
    assert len(weights) == len(s.gamma)
    bench.record(
        stage="score",
        size=s.exchange.n_enterprises,
        seconds=seconds,
        items=len(s.gamma),
        unit="pairs",
        peak_mib=peak,
    )
