"""Fitting: from the levels of candidate and random pairs to :class:`FittedParams`.

1. ``u_random`` from random pairs (nearly all non-matches);
2. ``m`` read off anchor pairs where a decisive comparison exists (:func:`_anchored_m`);
3. EM over the distinct candidate patterns for the prior, ``u`` among candidates and
   any ``m`` not anchored;
4. the settled sub-model (pairs with equal numbers) and the joint sub-model (pairs
   without a number), each by the same EM routine (:func:`linkage.model._em.em`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from linkage.exceptions import SchemaError
from linkage.model._em import em
from linkage.model._params import FittedParams, JointModel, SettledModel
from linkage.model._patterns import (
    KAPPA,
    M_FLOOR,
    MIN_ANCHORS,
    Layout,
    level_counts,
    normalise,
    pattern_counts,
    unpack,
    weight_table,
)


def fit_params(
    layout: Layout,
    gamma: NDArray[np.int8],
    gamma_random: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]] | None,
    *,
    max_iter: int,
    tol: float,
    fix_u: bool,
    joint_unlabelled: bool,
    settled_mixture: bool,
) -> FittedParams:
    """Fit the model's parameters (see :class:`linkage.model.FellegiSunter`)."""
    gamma = layout.check(gamma, "gamma")
    gamma_random = layout.check(gamma_random, "gamma_random")
    if len(gamma) == 0 or len(gamma_random) == 0:
        raise SchemaError("fit needs at least one candidate pair and one random pair")
    # u: smoothed with half a count per level, so that a level no random pair
    # reached (an equal enterprise number) gets a small, finite u.
    u_random = []
    for k, n in enumerate(layout.n_levels):
        counts = level_counts(gamma_random[:, k], n) + 0.5
        u_random.append(counts / counts.sum())

    codes, seen = pattern_counts(gamma, layout.base)
    patterns = unpack(codes, layout.base, len(layout.comparisons))
    counts = seen.astype(np.float64)

    # Start from "agreement is far likelier among matches": m grows 8-fold a level.
    m = [np.power(8.0, np.arange(n)) / np.power(8.0, np.arange(n)).sum() for n in layout.n_levels]
    n_anchors, fixed = _anchored_m(layout, gamma)
    main = em(
        patterns,
        counts,
        m=[fixed.get(k, x) for k, x in enumerate(m)],
        u=[x.copy() for x in u_random],
        share=0.1,
        fit_m=[k not in fixed for k in range(len(m))],
        fit_u=not fix_u,
        m_floor=M_FLOOR,
        max_iter=max_iter,
        tol=tol,
        what="candidate pairs",
    )
    params = FittedParams(
        m=main.m,
        u=main.u,
        u_random=u_random,
        share=main.share,
        tf_reference=_tf_reference(layout, gamma, tf),
        n_iter=main.n_iter,
        converged=main.converged,
        n_anchors=n_anchors,
        n_patterns=len(patterns),
    )
    settled = (
        _fit_settled(layout, params, patterns, counts, max_iter, tol) if settled_mixture else None
    )
    joint = (
        _fit_joint(layout, params, patterns, counts, max_iter, tol) if joint_unlabelled else None
    )
    return replace(params, settled=settled, joint=joint)


def _tf_reference(
    layout: Layout, gamma: NDArray[np.int8], tf: Mapping[str, NDArray[np.float64]] | None
) -> dict[str, float]:
    """The frequency an exact match is judged against, per comparison with term
    frequencies.

    For a comparison with ``tf_reference="tables"``, the term frequencies' own
    ``reference`` (:class:`linkage.compare.TermFrequencies`: the mean over every pair
    of the two tables that agrees, whatever blocking proposed); else the mean over the
    candidate pairs that agree exactly (common values dominate those, rare ones stand
    out), which falls as blocking splits the blocks of common values.
    """
    reference = {}
    for k, c in enumerate(layout.comparisons):
        if c.term_frequency and tf is not None and c.name in tf:
            given = getattr(tf[c.name], "reference", None)
            if c.tf_reference == "tables" and given is not None:
                reference[c.name] = float(given)
                continue
            at_top = gamma[:, k] == c.n_levels - 1
            freq = np.asarray(tf[c.name], dtype=np.float64)[at_top]
            freq = freq[np.isfinite(freq)]
            if freq.size:
                # Summed in sorted order: the same pairs in another order give the same
                # float to the last bit (a sum in pair order does not).
                reference[c.name] = float(np.sort(freq).mean())
    return reference


def _anchored_m(
    layout: Layout, gamma: NDArray[np.int8]
) -> tuple[int, dict[int, NDArray[np.float64]]]:
    """The number of anchor pairs, and ``m`` read off them, held fixed during EM, by
    comparison index.

    Anchors are pairs that are matches beyond doubt on other evidence, as Splink
    trains each comparison on pairs blocked by another rule:

    * for the non-decisive comparisons: pairs at the exact level of a decisive
      comparison (equal, valid enterprise numbers);
    * for a decisive comparison: pairs exact on every other comparison present,
      with at least three present.

    Left free, EM on a million blocked pairs drifts to "pairs at the same
    address" (seen at full scale: F1 0.981, against 0.994 anchored).
    """
    decisive, others = layout.decisive, layout.others
    top = np.array(layout.n_levels) - 1
    by_number = layout.split(gamma)[0]
    n_anchors = int(by_number.sum())
    if n_anchors < MIN_ANCHORS:
        return n_anchors, {}
    rest = gamma[:, others]
    present = rest >= 0
    by_rest = ((rest == top[others]) | ~present).all(axis=1) & (
        present.sum(axis=1) >= min(3, len(others))
    )
    fixed = {}
    for k, c in enumerate(layout.comparisons):
        anchors = by_rest if k in decisive else by_number
        levels = gamma[anchors, k]
        if (levels >= 0).sum() >= MIN_ANCHORS:
            fixed[k] = normalise(level_counts(levels, c.n_levels), floor=M_FLOOR)
    return n_anchors, fixed


def _fit_settled(
    layout: Layout,
    params: FittedParams,
    patterns: NDArray[np.int8],
    counts: NDArray[np.float64],
    max_iter: int,
    tol: float,
) -> SettledModel | None:
    """A two-class model of the pairs a decisive comparison settles (equal numbers).

    Their non-matches are records that carry another entity's number: apart from
    the number they are as unrelated as random pairs, so ``u`` is held at the
    random pairs' ``u_random``; EM over their patterns estimates ``m`` and the
    share of matches. Where every other comparison disagrees, such a pair is then
    judged on that evidence instead of linked on the number alone.
    """
    settled = layout.split(patterns)[0]
    if counts[settled].sum() < MIN_ANCHORS:
        return None
    rows = patterns[settled].copy()
    # The settling comparison is the condition, not evidence: treated as null.
    rows[:, layout.decisive] = -1
    fitted = em(
        rows,
        counts[settled],
        m=[x.copy() for x in params.m],
        u=params.u_random,
        share=0.99,
        fit_m=[True] * len(layout.comparisons),
        fit_u=False,
        m_floor=M_FLOOR,
        max_iter=max_iter,
        tol=tol,
        what="pairs with equal numbers",
    )
    return SettledModel(m=fitted.m, share=fitted.share)


def _fit_joint(
    layout: Layout,
    params: FittedParams,
    patterns: NDArray[np.int8],
    counts: NDArray[np.float64],
    max_iter: int,
    tol: float,
) -> JointModel | None:
    """Joint weights of the other comparisons' patterns, for unlabelled pairs.

    ``m`` and ``u`` of each pattern (null counting as a level) are its shares among
    labelled matches and non-matches, each smoothed with ``KAPPA`` pseudo-pairs
    spread as the product of that set's per-comparison shares. The unlabelled
    pairs' prior is then fitted by EM with those joint probabilities held.
    """
    if not layout.decisive:
        return None
    match, non_match, unlabelled = layout.split(patterns)
    if counts[match].sum() < MIN_ANCHORS or counts[non_match].sum() < MIN_ANCHORS:
        return None
    others = layout.others
    codes, inverse = np.unique(layout.other_codes(patterns), return_inverse=True)
    sub = unpack(codes, layout.base, len(others))

    def joint(rows: NDArray[np.bool_]) -> NDArray[np.float64]:
        weights = np.where(rows, counts, 0.0)
        independent = np.ones(len(codes))
        for j, k in enumerate(others):
            shares = np.bincount(
                patterns[:, k] + 1, weights=weights, minlength=layout.n_levels[k] + 1
            )
            shares = (shares + 0.5) / (shares.sum() + 0.5 * len(shares))
            independent *= shares[sub[:, j] + 1]
        seen = np.bincount(inverse, weights=weights, minlength=len(codes))
        return (seen + KAPPA * independent) / (weights.sum() + KAPPA)

    m_joint, u_joint = joint(match), joint(non_match)
    tables = [weight_table(m, u) for m, u in zip(params.m, params.u, strict=True)]
    product = sum(tables[k][sub[:, j] + 1] for j, k in enumerate(others))
    # Only the ratio matters to the prior: scaled so that the larger of the two is 1,
    # the smaller stays clear of the log's floor.
    larger = np.maximum(m_joint, u_joint)
    prior = em(
        inverse[unlabelled][:, None],
        counts[unlabelled],
        m=[m_joint / larger],
        u=[u_joint / larger],
        share=params.share,
        fit_m=[False],
        fit_u=False,
        max_iter=max_iter,
        tol=tol,
        what="pairs without a number",
    )
    dependence = np.log2(m_joint / u_joint) - product
    return JointModel(codes=codes, dependence=dependence, share=prior.share)
