"""Scoring: the one path from levels to match weights, used by ``match_weight``,
``partial_weights`` and ``explain`` alike.

A pair's weight is its prior plus each comparison's contribution plus, for a pair
no decisive comparison labels, its pattern's dependence:

* a settled pair (a decisive comparison exact) takes the settled sub-model's prior
  and level weights (``m`` among settled pairs, ``u`` from random pairs), the
  decisive comparison adding nothing; without that sub-model the other
  comparisons' weights are clipped at zero;
* an unlabelled pair takes the joint sub-model's prior and dependence;
* an exact match on a comparison with term frequencies gains
  ``log2(reference / tf)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from linkage.model._params import FittedParams
from linkage.model._patterns import FLOOR, Layout, weight_table


def log_odds(share: float) -> float:
    """``log2(share / (1 - share))``: the weight of a prior share of matches."""
    return float(np.log2(share / (1 - share)))


@dataclass(frozen=True)
class Terms:
    """The parts of each pair's match weight.

    ``prior`` and ``dependence`` are arrays of shape (n_pairs,); ``columns`` yields
    each comparison's contribution in turn, so a sum never holds them all at once.
    """

    prior: NDArray[np.float64]
    dependence: NDArray[np.float64]
    columns: Iterator[NDArray[np.float64]]
    settled: NDArray[np.bool_]
    unlabelled: NDArray[np.bool_]


def terms(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]] | None,
) -> Terms:
    """Split the weight of each pair of ``gamma`` into its :class:`Terms`."""
    settled, _, unlabelled = layout.split(gamma)
    prior = np.full(len(gamma), log_odds(params.share))
    dependence = np.zeros(len(gamma))
    if params.settled is not None:
        prior[settled] = log_odds(params.settled.share)
    joint = params.joint
    if joint is not None:
        codes = layout.other_codes(gamma[unlabelled])
        at = np.minimum(np.searchsorted(joint.codes, codes), len(joint.codes) - 1)
        known = joint.codes[at] == codes
        prior[unlabelled] = log_odds(joint.share)
        # A pattern unseen in fitting adds nothing.
        dependence[unlabelled] = np.where(known, joint.dependence[at], 0.0)
    return Terms(
        prior=prior,
        dependence=dependence,
        columns=_columns(layout, params, gamma, tf, settled),
        settled=settled,
        unlabelled=unlabelled,
    )


def _columns(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]] | None,
    settled: NDArray[np.bool_],
) -> Iterator[NDArray[np.float64]]:
    settled_rows = np.flatnonzero(settled)
    sub = params.settled
    for k, c in enumerate(layout.comparisons):
        levels = gamma[:, k]
        column = weight_table(params.m[k], params.u[k])[levels + 1]
        if c.term_frequency and tf is not None and c.name in tf:
            freq = np.asarray(tf[c.name], dtype=np.float64)
            rows = np.flatnonzero((levels == c.n_levels - 1) & ~np.isnan(freq))
            reference = params.tf_reference.get(c.name, params.u_random[k][-1])
            column[rows] += np.log2(reference / np.maximum(freq[rows], FLOOR))
        if sub is not None:
            # Settled pairs: their own model; the number is what settles them.
            table = (
                np.zeros(c.n_levels + 1)
                if c.decisive
                else weight_table(sub.m[k], params.u_random[k])
            )
            column[settled_rows] = table[levels[settled_rows] + 1]
        elif not c.decisive:
            column[settled_rows] = np.maximum(column[settled_rows], 0.0)
        yield column


#: Pairs scored at once: the terms' arrays are this long, not as long as all pairs.
SCORE_CHUNK = 1_000_000


def match_weight(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]] | None,
) -> NDArray[np.float64]:
    """Each pair's match weight in bits: the sum of its :class:`Terms`.

    Summed a chunk of :data:`SCORE_CHUNK` pairs at a time (each pair's weight is its
    own, so the chunks give the same floats): at 15 M pairs, the terms' arrays of a
    chunk are 8 MB each where all pairs' would be 120 MB. Two chunks at a time
    (numpy's gathers and sums let go of the GIL).
    """
    weight = np.empty(len(gamma))

    def score(start: int) -> None:
        rows = slice(start, start + SCORE_CHUNK)
        part_tf = None if tf is None else {name: freq[rows] for name, freq in tf.items()}
        parts = terms(layout, params, gamma[rows], part_tf)
        chunk = parts.prior
        chunk += parts.dependence
        for column in parts.columns:
            chunk += column
        weight[rows] = chunk

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(score, range(0, len(gamma), SCORE_CHUNK)))
    return weight
