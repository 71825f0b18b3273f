"""Resolution: from scored pairs to links.

One-to-one assignment is greedy by match weight: the best remaining pair first. Pairs
of equal weight are taken in the order of a 64-bit hash of their two records' keys
(their positions, or keys the caller derives from the records' values, so that the
same records tie the same way in any row order), then by left and right position.
The greedy result is computed in rounds: every pair that is the best of both its
records is accepted at once, their records leave, repeat. A hashed order lets a
block of tied pairs resolve in a handful of rounds (1,000 x 1,000 tied pairs: 11
rounds); an order by position made such a block take one round per record.

Child records (establishment units, sites) are linked consistently with their
parents: :func:`consistent_with_parents` drops the candidate pairs whose parents
are linked elsewhere, before the one-to-one step.

Records of one table (deduplication) are resolved into clusters instead:
:func:`connected_components` of the pairs over the threshold, by
``scipy.sparse.csgraph`` where SciPy is installed, else by a vectorised union-find
(minimum-label hooking and pointer jumping), held equal by a test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "connected_components",
    "consistent_with_parents",
    "one_to_one",
    "probability_to_weight",
    "tie_hash",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def probability_to_weight(probability: float) -> float:
    """The match weight (bits) at which a pair reaches ``probability``."""
    return float(np.log2(probability / (1.0 - probability)))


def _mix(x: NDArray[np.uint64]) -> None:
    """SplitMix64's finaliser, in place: every input bit reaches every output bit."""
    shifted = np.empty_like(x)
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, 0)):
        np.right_shift(x, np.uint64(shift), out=shifted)
        x ^= shifted
        if factor:
            x *= np.uint64(factor)


def tie_hash(left_key: NDArray[np.integer], right_key: NDArray[np.integer]) -> NDArray[np.uint64]:
    """The order in which pairs of equal weight are taken: a hash of the two keys.

    Parameters
    ----------
    left_key, right_key : ndarray of shape (n_pairs,), integer
        The two records' keys, pair by pair.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype uint64
    """
    with np.errstate(over="ignore"):
        tie = np.asarray(left_key).astype(np.uint64)
        tie += _GOLDEN
        _mix(tie)
        right = np.asarray(right_key).astype(np.uint64)
        right *= _GOLDEN
        tie ^= right
        del right
        _mix(tie)
    return tie


def _priority(weight: NDArray[np.float64], tie: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """One sortable key per pair (``tie`` is reused): the weight's rank, best first, in
    the high bits and the tie hash in the rest. Sorting one uint64 takes half the
    time of a lexsort of the two, and the memory of one key."""
    distinct = np.unique(weight)
    bits = (len(distinct) - 1).bit_length()
    if bits == 0:
        return tie
    # The rank from the best weight down: searchsorted on the few distinct weights.
    position = np.searchsorted(distinct, weight)
    np.subtract(len(distinct) - 1, position, out=position)
    rank = position.view(np.uint64)
    rank <<= np.uint64(64 - bits)
    tie >>= np.uint64(bits)
    rank |= tie
    return rank


def one_to_one(
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    weight: NDArray[np.floating],
    *,
    min_weight: float = -np.inf,
    left_key: NDArray[np.integer] | None = None,
    right_key: NDArray[np.integer] | None = None,
) -> NDArray[np.bool_]:
    """Which pairs a greedy one-to-one assignment keeps.

    Parameters
    ----------
    left_pos, right_pos : ndarray of shape (n_pairs,), dtype int32
    weight : ndarray of shape (n_pairs,), dtype float64
    min_weight : float
        Pairs below it are never linked.
    left_key, right_key : ndarray of shape (n_left,) and (n_right,), integer, optional
        A key per record (by position) from which ties are broken (see
        :func:`tie_hash`); by default the positions. Keys that follow the records,
        not their rows, resolve ties the same way in any row order.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype bool
        True for the links; no left and no right position appears twice.
    """
    weights = np.asarray(weight, np.float64)
    left, right = np.asarray(left_pos), np.asarray(right_pos)
    chosen = np.zeros(len(weights), dtype=bool)
    passing = weights >= min_weight
    candidates = None if passing.all() else np.flatnonzero(passing)
    del passing
    if candidates is not None:
        left, right, weights = left[candidates], right[candidates], weights[candidates]
    if not len(weights):
        return chosen
    tie = tie_hash(
        left if left_key is None else np.asarray(left_key)[left],
        right if right_key is None else np.asarray(right_key)[right],
    )
    # Stable: pairs whose keys collide keep their given order (pairs come sorted by
    # left, then right position).
    order = np.argsort(_priority(weights, tie), kind="stable")
    del tie
    left, right = left[order], right[order]
    if candidates is not None:
        order = candidates[order]
    # From here a pair is its rank: the lower, the earlier the greedy takes it.
    n = len(order)
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    used_left = np.zeros(int(left.max()) + 1, dtype=bool)
    used_right = np.zeros(int(right.max()) + 1, dtype=bool)
    best_left = np.empty(len(used_left), dtype=index)
    best_right = np.empty(len(used_right), dtype=index)
    active = np.arange(n, dtype=index)
    while active.size:
        lefts, rights = left[active], right[active]
        # Each record's best active pair: the lowest rank among its pairs.
        best_left.fill(n)
        best_right.fill(n)
        np.minimum.at(best_left, lefts, active)
        np.minimum.at(best_right, rights, active)
        accepted = active[(best_left[lefts] == active) & (best_right[rights] == active)]
        chosen[order[accepted]] = True
        used_left[left[accepted]] = True
        used_right[right[accepted]] = True
        active = active[~used_left[lefts] & ~used_right[rights]]
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


def connected_components(
    n: int, left: NDArray[np.integer], right: NDArray[np.integer], *, scipy: bool | None = None
) -> NDArray[np.int64]:
    """Each record's component, by the pairs that join records.

    Parameters
    ----------
    n : int
        Records (positions ``0 .. n - 1``).
    left, right : ndarray of shape (n_pairs,), dtype integer
        The pairs' two positions.
    scipy : bool, optional
        Use ``scipy.sparse.csgraph`` (True), the union-find here (False), or SciPy
        if it is installed (None).

    Returns
    -------
    ndarray of shape (n,), dtype int64
        The smallest position of each record's component: equal for two records
        exactly when a chain of pairs joins them.

    Examples
    --------
    >>> connected_components(5, np.array([3, 1]), np.array([4, 3])).tolist()
    [0, 1, 2, 1, 1]
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if scipy is not False:
        try:
            from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
            from scipy.sparse.csgraph import (  # type: ignore[import-untyped]
                connected_components as scipy_components,
            )
        except ImportError:
            if scipy:
                raise
        else:
            graph = coo_matrix((np.ones(left.size, np.int8), (left, right)), shape=(n, n))
            _, labels = scipy_components(graph, directed=False)
            # SciPy numbers components in no stated order: name each by its smallest record.
            smallest = np.full(labels.max(initial=-1) + 1, n, dtype=np.int64)
            np.minimum.at(smallest, labels, np.arange(n, dtype=np.int64))
            return smallest[labels]
    labels = np.arange(n, dtype=np.int64)
    while True:  # a loop over rounds (about log of the longest chain), not records
        low = np.minimum(labels[left], labels[right])
        hooked = labels.copy()
        # Hook each pair's two roots under the smaller label, then jump pointers.
        np.minimum.at(hooked, labels[left], low)
        np.minimum.at(hooked, labels[right], low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return labels
        labels = hooked
