"""One-to-one resolution against a plain greedy reference; parent consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.resolve import consistent_with_parents, one_to_one, probability_to_weight


def greedy_reference(left, right, weight, min_weight=-np.inf):
    chosen = np.zeros(len(weight), bool)
    used_l, used_r = set(), set()
    for i in sorted(range(len(weight)), key=lambda i: (-weight[i], left[i], right[i])):
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


def test_hand_worked() -> None:
    # a-x 9 is best; then b-x 8 is blocked (x taken), b-y 5 wins over c-y 5 on the
    # left tie-break; c is left unlinked.
    left = np.array([0, 1, 1, 2])
    right = np.array([0, 0, 1, 1])
    weight = np.array([9.0, 8.0, 5.0, 5.0])
    assert one_to_one(left, right, weight).tolist() == [True, False, True, False]


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
