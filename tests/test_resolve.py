"""One-to-one resolution against a plain greedy reference; ties; parent consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.resolve import consistent_with_parents, one_to_one, probability_to_weight, tie_hash


def greedy_reference(left, right, weight, min_weight=-np.inf, *, by_hash=True):
    """Pair by pair, best weight first; ties by the hash of the two positions (as
    documented), or, with ``by_hash=False``, by left then right position (as before)."""
    chosen = np.zeros(len(weight), bool)
    used_l, used_r = set(), set()
    tie = tie_hash(left, right) if by_hash else np.zeros(len(weight), np.uint64)
    for i in sorted(range(len(weight)), key=lambda i: (-weight[i], tie[i], left[i], right[i])):
        if weight[i] >= min_weight and left[i] not in used_l and right[i] not in used_r:
            chosen[i] = True
            used_l.add(left[i])
            used_r.add(right[i])
    return chosen


pairs = st.lists(
    st.tuples(
        st.integers(0, 6), st.integers(0, 6), st.sampled_from([-3.0, 0.0, 1.0, 2.5, 2.5, 7.0])
    ),
    unique_by=lambda t: (t[0], t[1]),
    max_size=40,
)


@given(pairs, st.sampled_from([-np.inf, 0.0, 2.5]))
def test_rounds_equal_greedy(rows, min_weight) -> None:
    left = np.array([r[0] for r in rows], dtype=np.int32)
    right = np.array([r[1] for r in rows], dtype=np.int32)
    weight = np.array([r[2] for r in rows])
    got = one_to_one(left, right, weight, min_weight=min_weight)
    np.testing.assert_array_equal(got, greedy_reference(left, right, weight, min_weight))
    assert len(set(left[got])) == got.sum() == len(set(right[got]))


@given(pairs, st.sampled_from([-np.inf, 0.0, 2.5]))
def test_untied_weights_link_as_before(rows, min_weight) -> None:
    # Where no two pairs tie, the order of ties cannot matter: the result is the
    # greedy one by weight, as it was with ties broken by position.
    weight = np.array([r[2] for r in rows]) + np.arange(len(rows)) * 1e-3
    left = np.array([r[0] for r in rows], dtype=np.int32)
    right = np.array([r[1] for r in rows], dtype=np.int32)
    got = one_to_one(left, right, weight, min_weight=min_weight)
    expected = greedy_reference(left, right, weight, min_weight, by_hash=False)
    np.testing.assert_array_equal(got, expected)


def test_hand_worked() -> None:
    # a-x 9 is best; then b-x 8 is blocked (x taken); b-y 5 and c-y 5 tie, and the
    # one whose hash comes first links; the other left is unlinked.
    left = np.array([0, 1, 1, 2])
    right = np.array([0, 0, 1, 1])
    weight = np.array([9.0, 8.0, 5.0, 5.0])
    got = one_to_one(left, right, weight)
    first = (
        2
        if tie_hash(np.array([1]), np.array([1]))[0] < tie_hash(np.array([2]), np.array([1]))[0]
        else 3
    )
    assert got.tolist() == [True, False, first == 2, first == 3]


def _tied_block(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    left, right = (a.astype(np.int32) for a in np.divmod(np.arange(n * n), n))
    return left, right, np.full(n * n, 5.0)


def test_a_tied_block_links_every_record_once() -> None:
    # 400 x 400 pairs of one weight: a perfect matching (by position ties this took
    # one round per record, n**3.4 in all; by hash a handful of rounds).
    left, right, weight = _tied_block(400)
    chosen = one_to_one(left, right, weight)
    assert chosen.sum() == 400
    assert sorted(left[chosen]) == sorted(right[chosen]) == list(range(400))
    np.testing.assert_array_equal(chosen, greedy_reference(left, right, weight))


@given(pairs, st.randoms(use_true_random=False))
def test_ties_follow_the_records_not_their_rows(rows, rnd) -> None:
    # The same records in another row order, with keys that follow the records, link
    # the same pairs (the keys here: a record's position in the first order).
    left = np.array([r[0] for r in rows], dtype=np.int32)
    right = np.array([r[1] for r in rows], dtype=np.int32)
    weight = np.array([r[2] for r in rows])
    keys = np.arange(7)
    first = one_to_one(left, right, weight, left_key=keys, right_key=keys)
    lperm, rperm = rnd.sample(range(7), 7), rnd.sample(range(7), 7)
    # Record k moves to row lperm[k]; its key goes with it.
    lkey, rkey = np.empty(7, np.int64), np.empty(7, np.int64)
    lkey[lperm], rkey[rperm] = keys, keys
    rows_order = rnd.sample(range(len(rows)), len(rows))
    moved = one_to_one(
        np.array(lperm)[left][rows_order],
        np.array(rperm)[right][rows_order],
        weight[rows_order],
        left_key=lkey,
        right_key=rkey,
    )
    linked = {(left[i], right[i]) for i in np.flatnonzero(first)}
    assert {(left[rows_order][i], right[rows_order][i]) for i in np.flatnonzero(moved)} == linked


def test_parent_consistency() -> None:
    parent_link = pd.Series([10], index=[3])  # enterprise 3 linked to employer 10
    left_parent = np.array([3, 3, 4, -1, 4])
    right_parent = np.array([10, 11, 10, 11, 12])
    assert consistent_with_parents(left_parent, right_parent, parent_link).tolist() == [
        True,  # unit of 3 to a site of 10: the parents' own link
        False,  # unit of 3 to a site of 11: its parent is linked elsewhere
        False,  # unit of unlinked 4 to a site of 10, whose employer is taken by 3
        True,  # no parent, employer 11 unlinked
        True,  # both parents unlinked
    ]


def test_probability_to_weight() -> None:
    assert probability_to_weight(0.5) == 0.0
    assert probability_to_weight(0.8) == pytest.approx(2.0)
