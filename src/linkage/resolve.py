"""Resolution: from scored pairs to links.

One-to-one assignment is greedy by match weight — the best remaining pair first,
ties broken by left then right position — computed in rounds: every pair that is
the best of both its records is accepted at once, their records leave, repeat.
That yields exactly the greedy result with a handful of vectorised rounds instead
of a loop over pairs.

Child records (establishment units, sites) are linked consistently with their
parents: :func:`consistent_with_parents` drops the candidate pairs whose parents
are linked elsewhere, before the one-to-one step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["consistent_with_parents", "one_to_one", "probability_to_weight"]


def probability_to_weight(probability: float) -> float:
    """The match weight (bits) at which a pair reaches ``probability``."""
    return float(np.log2(probability / (1.0 - probability)))


def _first_of_each(keys: NDArray[np.integer]) -> NDArray[np.bool_]:
    first = np.zeros(len(keys), dtype=bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return first


def one_to_one(
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    weight: NDArray[np.floating],
    *,
    min_weight: float = -np.inf,
) -> NDArray[np.bool_]:
    """Which pairs a greedy one-to-one assignment keeps.

    Parameters
    ----------
    left_pos, right_pos : ndarray of shape (n_pairs,), dtype int32
    weight : ndarray of shape (n_pairs,), dtype float64
    min_weight : float
        Pairs below it are never linked.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype bool
        True for the links; no left and no right position appears twice.
    """
    weight = np.asarray(weight, np.float64)
    left_pos, right_pos = np.asarray(left_pos), np.asarray(right_pos)
    # Rank the pairs that may link: best weight first, then lowest left, then lowest
    # right; deterministic.
    order = np.flatnonzero(weight >= min_weight)
    order = order[np.lexsort((right_pos[order], left_pos[order], -weight[order]))]
    left, right = left_pos[order], right_pos[order]
    used_left = np.zeros(int(left.max(initial=-1)) + 1, dtype=bool)
    used_right = np.zeros(int(right.max(initial=-1)) + 1, dtype=bool)
    chosen = np.zeros(len(weight), dtype=bool)
    active = np.arange(len(order))
    while active.size:
        mutual = _first_of_each(left[active]) & _first_of_each(right[active])
        accepted = active[mutual]
        chosen[order[accepted]] = True
        used_left[left[accepted]] = True
        used_right[right[accepted]] = True
        active = active[~used_left[left[active]] & ~used_right[right[active]]]
    return chosen


def consistent_with_parents(
    left_parent: NDArray[np.integer],
    right_parent: NDArray[np.integer],
    parent_link: pd.Series,
) -> NDArray[np.bool_]:
    """Which child pairs agree with the links of their parents.

    Parameters
    ----------
    left_parent, right_parent : ndarray of shape (n_pairs,)
        Per candidate child pair, the position of each child's parent (-1: none).
    parent_link : Series
        Linked parents: index left parent position, value right parent position.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype bool
        False where a parent is linked, but not to the other child's parent.
    """
    linked_left = parent_link.index.to_numpy(np.int64)
    linked_right = parent_link.to_numpy(np.int64)
    # One slot more than any position: index -1 (no parent) lands there, holding -1.
    partner_of_left = np.full(max(left_parent.max(initial=-1), linked_left.max(initial=-1)) + 2, -1)
    partner_of_right = np.full(
        max(right_parent.max(initial=-1), linked_right.max(initial=-1)) + 2, -1
    )
    partner_of_left[linked_left] = linked_right
    partner_of_right[linked_right] = linked_left
    lp, rp = partner_of_left[left_parent], partner_of_right[right_parent]
    return ((lp < 0) | (lp == right_parent)) & ((rp < 0) | (rp == left_parent))
