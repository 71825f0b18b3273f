"""Learning from labels: ``m`` (and ``u`` where enough) re-estimated from labelled pairs.

As Splink's ``estimate_m_from_pairwise_labels``, each comparison's ``m`` is the share
of its levels among pairs a person labelled as matches; unlike it, non-matches are
used too (``u``, where a comparison has at least :data:`MIN_LABELS` of them), each
pair counts by its sampling weight (a stratified review sample speaks for all
candidate pairs only so weighted), and the fitted value is kept as a prior worth
:data:`PRIOR_PAIRS` pairs, so a few labels move it a little and many decide.

* the main model's ``m`` from every labelled match, ``u`` from every labelled
  non-match;
* the settled sub-model's ``m`` (pairs with equal numbers) from the labelled matches
  among those pairs (``u`` stays the random pairs');
* the joint sub-model (pairs without a number) keeps each pattern's whole weight,
  learnt from every pair a number labels (more than a review's few hundred): its
  dependence takes up what the per-comparison weights moved, so those pairs score as
  before.

The priors (shares of matches) are left as fitted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from linkage.exceptions import SchemaError
from linkage.model._params import FittedParams, JointModel, SettledModel
from linkage.model._patterns import (
    M_FLOOR,
    Layout,
    Probabilities,
    level_counts,
    unpack,
    weight_table,
)

__all__ = ["MIN_LABELS", "PRIOR_PAIRS", "LabelFit", "fit_labels"]

#: A comparison's u is re-estimated only from at least this many labelled non-matches.
MIN_LABELS = 50
#: The fitted m or u counts as this many labelled pairs.
PRIOR_PAIRS = 10.0


@dataclass(frozen=True)
class LabelFit:
    """What the labels changed: the new parameters, and per comparison how many
    labelled matches and non-matches (comparison present) informed ``m`` and ``u``."""

    params: FittedParams
    matches: dict[str, int]
    non_matches: dict[str, int]
    u_updated: tuple[str, ...]


def _blend(
    fitted: NDArray[np.float64],
    levels: NDArray[np.int8],
    weights: NDArray[np.float64],
    n_levels: int,
    floor: float,
) -> NDArray[np.float64]:
    """Labelled levels' weighted shares, with the fitted probabilities worth
    :data:`PRIOR_PAIRS` pairs. ``weights`` are scaled to sum to the number of
    labelled pairs present, so that sampling weights tilt, not multiply, the count."""
    present = levels >= 0
    n = int(present.sum())
    if n == 0:
        return fitted
    w = weights[present] * (n / weights[present].sum())
    counts = level_counts(levels[present], n_levels, w)
    p = (counts + PRIOR_PAIRS * fitted) / (n + PRIOR_PAIRS)
    p = np.maximum(p, floor)
    return p / p.sum()


def fit_labels(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    is_match: NDArray[np.bool_],
    weights: NDArray[np.float64] | None = None,
) -> LabelFit:
    """Re-estimate ``m`` (and ``u``) from labelled pairs (see the module's docstring).

    Parameters
    ----------
    gamma : ndarray of shape (n_labelled, n_comparisons), dtype int8
        The labelled pairs' levels.
    is_match : ndarray of shape (n_labelled,), dtype bool
        The labels (pairs labelled unsure are left out before).
    weights : ndarray of shape (n_labelled,), dtype float64, optional
        Each pair's sampling weight (a review sample's ``sampling_weight``); equal
        by default.
    """
    gamma = layout.check(gamma, "labelled gamma")
    is_match = np.asarray(is_match, dtype=bool)
    w = np.ones(len(gamma)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (len(is_match) == len(w) == len(gamma)):
        raise SchemaError(
            f"labels: {len(gamma)} pairs, {len(is_match)} labels and {len(w)} weights"
        )
    if not is_match.any():
        raise SchemaError("labels: no pair labelled a match; m cannot be learnt")
    if (w <= 0).any() or not np.isfinite(w).all():
        raise SchemaError("labels: sampling weights must be positive numbers")
    settled = layout.split(gamma)[0]
    m: Probabilities = []
    u: Probabilities = []
    matches, non_matches, u_updated = {}, {}, []
    for k, c in enumerate(layout.comparisons):
        levels = gamma[:, k]
        m.append(_blend(params.m[k], levels[is_match], w[is_match], c.n_levels, M_FLOOR))
        matches[c.name] = int((levels[is_match] >= 0).sum())
        n_non = int((levels[~is_match] >= 0).sum())
        non_matches[c.name] = n_non
        if n_non >= MIN_LABELS:
            u.append(_blend(params.u[k], levels[~is_match], w[~is_match], c.n_levels, 1e-9))
            u_updated.append(c.name)
        else:
            u.append(params.u[k])
    sub = params.settled
    if sub is not None:
        rows = is_match & settled
        sub = SettledModel(
            m=[
                sub.m[k]
                if c.decisive
                else _blend(sub.m[k], gamma[rows, k], w[rows], c.n_levels, M_FLOOR)
                for k, c in enumerate(layout.comparisons)
            ],
            share=sub.share,
        )
    joint = params.joint
    if joint is not None:
        joint = _keep_joint(layout, params, joint, m, u)
    new = replace(params, m=m, u=u, settled=sub, joint=joint)
    return LabelFit(
        params=new, matches=matches, non_matches=non_matches, u_updated=tuple(u_updated)
    )


def _keep_joint(
    layout: Layout, params: FittedParams, joint: JointModel, m: Probabilities, u: Probabilities
) -> JointModel:
    """The joint sub-model with each pattern's whole weight unchanged: its dependence
    takes up what the per-comparison weights moved."""
    others = layout.others
    levels = unpack(joint.codes, layout.base, len(others))

    def product(mm: Probabilities, uu: Probabilities) -> NDArray[np.float64]:
        tables = [weight_table(mm[k], uu[k]) for k in others]
        return sum(
            (tables[j][levels[:, j] + 1] for j in range(len(others))),
            start=np.zeros(len(joint.codes)),
        )

    moved = product(params.m, params.u) - product(m, u)
    return replace(joint, dependence=joint.dependence + moved)
