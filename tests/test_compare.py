"""Comparison levels: the vectorised kernel against the pair-by-pair reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.compare import (
    compare,
    compare_reference,
    compare_with_frequencies,
    term_frequencies,
)
from linkage.comparisons import Similarity, comparison_from_dict, distance, exact_match, similarity
from linkage.exceptions import ConfigError, SchemaError

COMPARISONS = (
    exact_match("postcode"),
    similarity("name", thresholds=(0.95, 0.85)),
    similarity("name", scorer="token_sort_ratio", thresholds=(0.9,), name="name_sorted"),
    distance("kbo", thresholds=(1, 2)),
)


def test_hand_worked_levels() -> None:
    left = pd.DataFrame(
        {
            "postcode": ["9000", "9000", None],
            "name": ["bakkerij peeters", "garage maes", "x"],
            "kbo": ["0403170701", "0403170701", None],
        }
    )
    right = pd.DataFrame(
        {
            "postcode": ["9000", "2000"],
            "name": ["bakkerij peters", "maes garage"],
            "kbo": ["0403170710", "0403170701"],
        }
    )
    gamma = compare(left, right, np.array([0, 1, 2]), np.array([0, 1, 1]), COMPARISONS)
    assert gamma.dtype == np.int8
    assert gamma.tolist() == [
        # postcode exact; JW('bakkerij peeters', 'bakkerij peters') = 0.9875 >= 0.95;
        # token sort 'bakkerij peeters' vs 'bakkerij peters' = 96.8 >= 90; '..01' vs
        # '..10' is one transposition.
        [1, 2, 1, 2],
        # postcode differs; word swap: JW below 0.85, token sort 100 (all met, not
        # exact); the number is exact (top level 3).
        [0, 0, 1, 3],
        # missing postcode and number are null
        [-1, 0, 0, -1],
    ]


texts = st.one_of(
    st.none(), st.sampled_from(["peeters", "peters", "maes", "maas", "de smet", "smet de"])
)


@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=20), st.integers(1, 7))
def test_kernel_equals_reference(rows, chunk_size) -> None:
    left = pd.DataFrame(
        {
            "name": [r[0] for r in rows],
            "postcode": [r[0] for r in rows],
            "kbo": [r[0] for r in rows],
        }
    )
    right = pd.DataFrame(
        {
            "name": [r[1] for r in rows],
            "postcode": [r[1] for r in rows],
            "kbo": [r[1] for r in rows],
        }
    )
    pos = np.arange(len(rows), dtype=np.int32)
    fast = compare(left, right, pos, pos[::-1].copy(), COMPARISONS, chunk_size=chunk_size)
    slow = compare_reference(left, right, pos, pos[::-1], COMPARISONS)
    np.testing.assert_array_equal(fast, slow)


ONE_EDIT = (
    distance("kbo", thresholds=(1,)),
    distance("kbo", scorer="levenshtein", thresholds=(1,), name="kbo_lev"),
)


@st.composite
def near_pairs(draw: st.DrawFn) -> tuple[str | None, str | None]:
    """Two short strings, often one substitution, swap, insertion or deletion apart."""
    a = draw(st.text(alphabet="abc", max_size=6))
    edit = draw(st.sampled_from(["swap", "substitute", "insert", "delete", "other", "null"]))
    i = draw(st.integers(0, max(len(a) - 1, 0)))
    if edit == "swap" and len(a) >= 2:
        i = min(i, len(a) - 2)
        b = a[:i] + a[i + 1] + a[i] + a[i + 2 :]
    elif edit == "substitute" and a:
        b = a[:i] + draw(st.sampled_from("abc")) + a[i + 1 :]
    elif edit == "insert":
        b = a[:i] + draw(st.sampled_from("abc")) + a[i:]
    elif edit == "delete" and a:
        b = a[:i] + a[i + 1 :]
    elif edit == "null":
        b = None
    else:
        b = draw(st.text(alphabet="abc", max_size=6))
    return (a, b) if draw(st.booleans()) else (b, a)


@given(st.lists(near_pairs(), min_size=1, max_size=40), st.integers(1, 9))
def test_one_edit_shortcut_equals_rapidfuzz(rows, chunk_size) -> None:
    # "At most one edit" is answered on character arrays, not by rapidfuzz.
    left = pd.DataFrame({"kbo": [r[0] for r in rows]})
    right = pd.DataFrame({"kbo": [r[1] for r in rows]})
    pos = np.arange(len(rows), dtype=np.int32)
    fast = compare(left, right, pos, pos, ONE_EDIT, chunk_size=chunk_size)
    np.testing.assert_array_equal(fast, compare_reference(left, right, pos, pos, ONE_EDIT))


def test_one_edit_hand_worked() -> None:
    left = pd.DataFrame({"kbo": ["0403170701", "0403170701", "0403170701", "abc"]})
    right = pd.DataFrame({"kbo": ["0403170710", "0403170790", "040317070", "acb"]})
    pos = np.arange(4, dtype=np.int32)
    # swap: one edit for Damerau-Levenshtein, two for Levenshtein; two substitutions;
    # a deletion (lengths differ: rapidfuzz answers); a swap.
    expected = [[1, 0], [0, 0], [1, 1], [1, 0]]
    assert compare(left, right, pos, pos, ONE_EDIT).tolist() == expected
    # Values over 32 characters all go to rapidfuzz, with the same answers.
    long = pd.DataFrame({"kbo": [*left["kbo"], "x" * 40]})
    pos = np.arange(5, dtype=np.int32)
    gamma = compare(long, pd.DataFrame({"kbo": [*right["kbo"], "x" * 39]}), pos, pos, ONE_EDIT)
    assert gamma.tolist() == [*expected, [1, 1]]


def test_term_frequencies() -> None:
    left = pd.Series(["peeters", "peeters", "vandevelde", None])
    right = pd.Series(["peeters", "vandevelde", "maes"])
    tf = term_frequencies(left, right, np.array([0, 2, 3, 0]), np.array([0, 1, 0, 2]))
    # 6 present values: peeters 3 times, vandevelde twice.
    np.testing.assert_allclose(tf[:2], [3 / 6, 2 / 6])
    assert np.isnan(tf[2:]).all()
    # The reference: over every left-right pair that agrees (peeters 2 x 1 pairs at
    # 3/6, vandevelde 1 x 1 at 2/6), whichever pairs were asked for.
    assert tf.reference == pytest.approx((2 * 3 / 6 + 1 * 2 / 6) / 3)
    other = term_frequencies(left, right, np.array([1]), np.array([2]))
    assert other.reference == tf.reference and np.isnan(other).all()
    # In another row order, the same float.
    again = term_frequencies(left[::-1].reset_index(drop=True), right[::-1], [0], [0])
    assert again.reference == tf.reference
    # No value on both sides: no reference.
    assert term_frequencies(left, pd.Series(["maes"]), [0], [0]).reference is None


@given(
    st.lists(st.tuples(texts, texts), min_size=1, max_size=20),
    st.lists(st.integers(0, 19), min_size=0, max_size=30),
    st.integers(1, 7),
)
def test_levels_with_frequencies_are_compare_and_term_frequencies(rows, picks, chunk_size):
    left = pd.DataFrame({"name": [r[0] for r in rows], "postcode": [r[1] for r in rows]})
    right = pd.DataFrame({"name": [r[1] for r in rows], "postcode": [r[0] for r in rows]})
    left_pos = np.array([p % len(rows) for p in picks], dtype=np.int64)
    right_pos = np.array([(3 * p + 1) % len(rows) for p in picks], dtype=np.int64)
    comparisons = (
        exact_match("postcode", term_frequency=True),
        similarity("name", thresholds=(0.9,)),
        similarity("name", thresholds=(0.8,), term_frequency=True, name="name_tf"),
    )
    gamma, tf = compare_with_frequencies(
        left, right, left_pos, right_pos, comparisons, chunk_size=chunk_size
    )
    np.testing.assert_array_equal(
        gamma, compare(left, right, left_pos, right_pos, comparisons, chunk_size=chunk_size)
    )
    assert list(tf) == ["postcode", "name_tf"]
    for name, column in (("postcode", "postcode"), ("name_tf", "name")):
        expected = term_frequencies(left[column], right[column], left_pos, right_pos)
        np.testing.assert_array_equal(tf[name], expected)  # NaN where NaN, else equal floats
        assert tf[name].reference == expected.reference


def test_missing_column() -> None:
    with pytest.raises(SchemaError, match="left table, column 'name': missing column"):
        compare(
            pd.DataFrame({"x": []}),
            pd.DataFrame({"name": []}),
            np.array([]),
            np.array([]),
            [similarity("name")],
        )


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="tightest first"):
        similarity("name", thresholds=(0.8, 0.9))
    with pytest.raises(ConfigError, match="scorer must be one of"):
        Similarity(column="name", scorer="soundex", thresholds=(0.9,))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="kind must be one of exact, similarity, distance"):
        comparison_from_dict({"column": "name", "kind": "soundex"})
    assert similarity("name", thresholds=(0.95, 0.85)).level_labels == (
        "else",
        "jaro_winkler >= 0.85",
        "jaro_winkler >= 0.95",
        "exact",
    )
