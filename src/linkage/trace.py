"""What each candidate pair went through: the rule that proposed it, its levels by
name, and what the one-to-one step made of it.

These are the columns a reviewer needs beside a pair (``linkage link --pairs-out``,
:meth:`linkage.pipeline.LinkResult.scored_pairs`) and that a review sample is drawn
over (:mod:`linkage.review`). Everything is computed on whole arrays; pairs are
matched by packed positions (``left * n_right + right``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.comparisons import Comparison
from linkage.rules import BlockingRule

__all__ = ["BELOW", "LINK", "LOST", "STATUSES", "first_rule", "level_names", "partners", "status"]

#: A pair's status: linked; at or over the threshold but lost in the one-to-one
#: step (one of its records linked to a better partner); under the threshold.
LINK, LOST, BELOW = "link", "lost", "below"
STATUSES = (LINK, LOST, BELOW)


def first_rule(
    left: pd.DataFrame,
    right: pd.DataFrame,
    rules: Sequence[BlockingRule],
    pair_left: NDArray[np.integer],
    pair_right: NDArray[np.integer],
    *,
    codes: Mapping[str, tuple[NDArray[np.int64], NDArray[np.int64]]] | None = None,
) -> NDArray[np.int8]:
    """The first rule (by position in ``rules``) that proposes each pair.

    Runs every rule again on the prepared frames, so it costs one more blocking.

    Parameters
    ----------
    left, right : DataFrame
        The prepared frames blocking read.
    rules : sequence of BlockingRule
    pair_left, pair_right : ndarray of shape (n_pairs,), integer
        The candidate pairs, sorted by packed position (as blocking returns them).

    Returns
    -------
    ndarray of shape (n_pairs,), dtype int8
        The rule's index; -1 for a pair no rule proposes (one added by an override).
    """
    n_right = max(len(right), 1)
    packed = np.asarray(pair_left, np.int64) * n_right + np.asarray(pair_right, np.int64)
    order = np.argsort(packed, kind="stable")
    rule_of = np.full(len(packed), -1, dtype=np.int8)
    for k, rule in enumerate(rules):
        lefts, rights, _ = rule.pairs(left, right, dict(codes or {}))
        found = lefts.astype(np.int64) * n_right + rights
        at = np.searchsorted(packed, found, sorter=order)
        inside = at < len(packed)
        hits = order[at[inside]]
        hits = hits[(packed[hits] == found[inside]) & (rule_of[hits] < 0)]
        rule_of[hits] = k
    return rule_of


def level_names(comparison: Comparison, levels: NDArray[np.int8]) -> pd.Categorical:
    """Each level's label (``"null"`` for -1), as a categorical of the pairs.

    >>> from linkage.comparisons import exact_match
    >>> list(level_names(exact_match("postcode"), np.array([1, 0, -1], np.int8)))
    ['exact', 'else', 'null']
    """
    labels = ("null", *comparison.level_labels)
    return pd.Categorical.from_codes(np.asarray(levels, np.int64) + 1, categories=labels)


def status(
    linked: NDArray[np.bool_], weights: NDArray[np.floating], min_weight: float
) -> pd.Categorical:
    """``link``, ``lost`` (at or over the threshold, not linked) or ``below``, per pair."""
    codes = np.where(linked, 0, np.where(np.asarray(weights) >= min_weight, 1, 2))
    return pd.Categorical.from_codes(codes, categories=STATUSES)


def partners(
    pair_left: NDArray[np.integer],
    pair_right: NDArray[np.integer],
    linked: NDArray[np.bool_],
    n_left: int,
    n_right: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For each pair not linked, where its records are linked instead (positions).

    Returns
    -------
    left_linked_to, right_linked_to : ndarray of shape (n_pairs,), dtype int64
        The right record the pair's left record is linked to, and the left record
        its right record is linked to; -1 where it is not linked, or linked by this
        very pair.
    """
    pl, pr = np.asarray(pair_left, np.int64), np.asarray(pair_right, np.int64)
    partner_of_left = np.full(n_left, -1, dtype=np.int64)
    partner_of_right = np.full(n_right, -1, dtype=np.int64)
    partner_of_left[pl[linked]] = pr[linked]
    partner_of_right[pr[linked]] = pl[linked]
    to_left, to_right = partner_of_left[pl], partner_of_right[pr]
    to_left[linked] = -1
    to_right[linked] = -1
    return to_left, to_right
