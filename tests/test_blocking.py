"""Blocking: the vectorised join against a pandas merge, rules, caps and unions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage._codes import encode
from linkage.blocking import candidate_pairs, pair_completeness
from linkage.exceptions import ConfigError, SchemaError
from linkage.rules import Focus, block_on, block_on_tokens, sorted_neighbourhood

values = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"]))


def frame(rows: list[tuple[str | None, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["x", "y", "z", "w"][: len(rows[0])] if rows else ["x", "y"], dtype=object
    )


def merge_reference(left: pd.DataFrame, right: pd.DataFrame, columns: list[str]) -> set:
    """The naive answer: an inner merge on the columns, missing never equal."""
    lpos = left.dropna(subset=columns).reset_index(names="l")
    rpos = right.dropna(subset=columns).reset_index(names="r")
    merged = lpos.merge(rpos, on=columns)
    return set(zip(merged["l"], merged["r"], strict=True))


rows = st.lists(st.tuples(values, values), max_size=25)


@given(rows, rows)
def test_equal_rule_equals_merge(left_rows, right_rows) -> None:
    left, right = frame(left_rows), frame(right_rows)
    for columns in (["x"], ["x", "y"]):
        pairs = candidate_pairs(left, right, [block_on(*columns)])
        assert set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == merge_reference(
            left, right, columns
        )
        assert pairs.left.dtype == np.int32 and pairs.right.dtype == np.int32
        # Columns coded beforehand (as the pipeline shares them with comparison)
        # give the same pairs.
        coded = encode(left["y"], right["y"])
        shared = candidate_pairs(
            left, right, [block_on(*columns)], codes={"y": (coded.left, coded.right)}
        )
        np.testing.assert_array_equal(shared.left, pairs.left)
        np.testing.assert_array_equal(shared.right, pairs.right)


wide_rows = st.lists(st.tuples(values, values, values, values), min_size=1, max_size=25)


@given(wide_rows, wide_rows)
def test_one_to_four_columns_equal_merge(left_rows, right_rows) -> None:
    # Each added column packs into the codes of the ones before (a rebinding bug
    # once made three columns a TypeError).
    left, right = frame(left_rows), frame(right_rows)
    for columns in (["x"], ["x", "y"], ["x", "y", "z"], ["x", "y", "z", "w"]):
        pairs = candidate_pairs(left, right, [block_on(*columns)])
        assert set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == merge_reference(
            left, right, columns
        )


@given(rows, rows)
def test_union_is_sorted_and_unique(left_rows, right_rows) -> None:
    left, right = frame(left_rows), frame(right_rows)
    pairs = candidate_pairs(left, right, [block_on("x"), block_on("y"), block_on("x", "y")])
    expected = merge_reference(left, right, ["x"]) | merge_reference(left, right, ["y"])
    got = list(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    assert got == sorted(expected)


def test_hand_worked_example() -> None:
    left = pd.DataFrame({"postcode": ["9000", "9000", "2000", None]})
    right = pd.DataFrame({"postcode": ["2000", "9000", "9000", "9000"]})
    pairs = candidate_pairs(left, right, [block_on("postcode")])
    assert list(zip(pairs.left, pairs.right, strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 0),
    ]
    assert pairs.by_rule == {"postcode": 7}
    assert pairs.reduction_ratio == pytest.approx(1 - 7 / 16)
    index = pairs.to_index(pd.Index(list("abcd")), pd.Index(list("wxyz")))
    assert index[0] == ("a", "x")


@given(rows, rows)
def test_the_rules_together_are_each_rule_alone_in_their_order(left_rows, right_rows) -> None:
    """A window rule runs first, whatever its place: the pairs are the union of each
    rule's, and the counts come in the rules' order."""
    left, right = frame(left_rows), frame(right_rows)
    rules = [block_on("x"), sorted_neighbourhood("y", window=2), block_on("x", "y")]
    together = candidate_pairs(left, right, rules)
    alone = [candidate_pairs(left, right, [rule]) for rule in rules]
    union = set().union(*(set(zip(p.left, p.right, strict=True)) for p in alone))
    assert set(zip(together.left, together.right, strict=True)) == union
    assert len(together) == len(union)
    assert together.by_rule == {rule.name: len(p) for rule, p in zip(rules, alone, strict=True)}
    assert list(together.by_rule) == [rule.name for rule in rules]


def test_oversized_block_is_skipped_and_counted() -> None:
    left = pd.DataFrame({"name": ["peeters"] * 30 + ["maes"]})
    right = pd.DataFrame({"name": ["peeters"] * 30 + ["maes"]})
    pairs = candidate_pairs(left, right, [block_on("name", max_block_size=100)])
    assert len(pairs) == 1
    assert pairs.skipped == {"name": 900}


def test_tokens_rule_pairs_shared_words_and_caps_common_ones() -> None:
    left = pd.DataFrame({"tokens": [["bakkerij", "peeters"], ["garage", "maes"], [], None]})
    right = pd.DataFrame({"tokens": [["peeters", "bakkerij"], ["bakkerij", "janssens"], ["maes"]]})
    pairs = candidate_pairs(left, right, [block_on_tokens("tokens", max_block_size=1)])
    # 'bakkerij' makes a 1 x 2 block, over the cap of 1; 'peeters' and 'maes' stay.
    assert list(zip(pairs.left, pairs.right, strict=True)) == [(0, 0), (1, 2)]
    assert pairs.skipped == {"tokens(tokens)": 2}


def test_sorted_neighbourhood_catches_nearby_keys() -> None:
    left = pd.DataFrame({"name": ["bakkerij peeters", "garage maes", None]})
    right = pd.DataFrame({"name": ["bakkerij peters", "zuivel", "garage maas"]})
    pairs = candidate_pairs(left, right, [sorted_neighbourhood("name", window=1)])
    # Sorted: bakkerij peeters (L0), bakkerij peters (R0), garage maas (R2),
    # garage maes (L1), zuivel (R1); neighbours from different sides pair up.
    assert set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == {
        (0, 0),
        (1, 2),
        (1, 1),
    }


def test_pair_completeness() -> None:
    left = pd.DataFrame({"k": ["a", "b", "c"]})
    right = pd.DataFrame({"k": ["a", "b", "x"]})
    pairs = candidate_pairs(left, right, [block_on("k")])
    assert pair_completeness(pairs, np.array([0, 1, 2]), np.array([0, 1, 2])) == pytest.approx(
        2 / 3
    )


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match="at least one column"):
        block_on()
    with pytest.raises(
        SchemaError, match=r"blocking rule 'k', right table, column 'k': missing column"
    ):
        candidate_pairs(pd.DataFrame({"k": [1]}), pd.DataFrame({"j": [1]}), [block_on("k")])


def test_large_join_is_fast_enough_to_be_vectorised() -> None:
    rng = np.random.default_rng(0)
    left = pd.DataFrame({"k": rng.integers(0, 50_000, 200_000).astype(str)})
    right = pd.DataFrame({"k": rng.integers(0, 50_000, 200_000).astype(str)})
    pairs = candidate_pairs(left, right, [block_on("k")])
    counts_l = left["k"].value_counts()
    counts_r = right["k"].value_counts()
    assert len(pairs) == int((counts_l * counts_r.reindex(counts_l.index, fill_value=0)).sum())


split_rows = st.lists(
    st.tuples(st.sampled_from(["p", "q", None]), st.sampled_from(["1000", "2000", None])),
    max_size=30,
)


@given(split_rows, split_rows, st.integers(1, 40))
def test_split_rule_equals_its_reference(left_rows, right_rows, cap) -> None:
    # Reference: blocks on x under the cap pair whole; those over pair within x and y
    # if that part is under the cap; everything else of an oversized block is skipped.
    left = frame(left_rows or [("p", "1000")])
    right = frame(right_rows or [("p", "1000")])
    pairs = candidate_pairs(
        left, right, [block_on("x", max_block_size=cap, split_by=("y",), name="r")]
    )
    whole = merge_reference(left, right, ["x"])
    by_x = pd.Series([left["x"][i] for i, _ in whole]).value_counts()
    fine = merge_reference(left, right, ["x", "y"])
    by_xy = pd.Series([(left["x"][i], left["y"][i]) for i, _ in fine]).value_counts()
    whole_kept = {p for p in whole if by_x[left["x"][p[0]]] <= cap}
    split_kept = {
        p
        for p in fine
        if by_x[left["x"][p[0]]] > cap and by_xy[(left["x"][p[0]], left["y"][p[0]])] <= cap
    }
    got = set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    assert got == whole_kept | split_kept
    # Skipped: every pair of an oversized block that is not proposed.
    oversized = sum(n for n in by_x if n > cap)
    assert pairs.skipped.get("r", 0) == oversized - len(split_kept)
    # Of those, the pairs of parts still over the cap, and the rest across parts.
    over_cap = sum(n for (x, _), n in by_xy.items() if by_x[x] > cap and n > cap)
    if oversized:
        count = pairs.split["r"]
        assert (count.oversized, count.proposed, count.over_cap) == (
            oversized,
            len(split_kept),
            over_cap,
        )
        assert count.across == oversized - len(split_kept) - over_cap >= 0
    else:
        assert "r" not in pairs.split


def test_a_parent_block_over_the_cap_is_split_and_the_rest_reported(caplog) -> None:
    # One parent, 40 x 40 children: over a cap of 500 pairs. Split by postcode: the
    # 1000 part (20 x 20 = 400) pairs; the 2000 part (20 x 20) too; pairs across the
    # two postcodes are left out, 800 of them, and reported as skipped.
    postcode = ["1000"] * 20 + ["2000"] * 20
    left = pd.DataFrame({"parent": ["E"] * 40, "postcode": postcode})
    right = pd.DataFrame({"parent": ["E"] * 40, "postcode": postcode})
    rule = block_on("parent", max_block_size=500, split_by=("postcode",), name="within parent")
    with caplog.at_level("WARNING", logger="linkage.blocking"):
        pairs = candidate_pairs(left, right, [rule])
    assert len(pairs) == 800
    assert (left["postcode"][pairs.left].to_numpy() == right["postcode"][pairs.right]).all()
    assert pairs.skipped == {"within parent": 800}
    assert (
        "blocking rule within parent: skipped 800 pairs in blocks over 500 pairs "
        "(after splitting them by postcode): of 1,600 pairs in those blocks, 800 proposed "
        "from their parts, 800 across parts, 0 in parts still over the cap" in caplog.text
    )
    count = pairs.split["within parent"]
    assert (count.oversized, count.proposed, count.across, count.over_cap) == (1600, 800, 800, 0)
    # Under the cap nothing changes: the same pairs as the plain rule.
    small = candidate_pairs(
        left, right, [block_on("parent", max_block_size=1_600, split_by="postcode")]
    )
    assert len(small) == 1_600 and not small.skipped


def test_split_needs_a_cap() -> None:
    with pytest.raises(ConfigError, match="split_by needs a max_block_size"):
        block_on("parent", split_by=("postcode",), max_block_size=None)


@given(
    st.lists(st.tuples(st.sampled_from(["aa", "ab", "b"]), st.integers(0, 3)), max_size=20),
    st.lists(st.tuples(st.sampled_from(["aa", "ab", "b"]), st.integers(0, 3)), max_size=20),
    st.randoms(use_true_random=False),
)
def test_sorted_neighbourhood_pairs_the_same_records_in_any_row_order(
    left_rows, right_rows, rnd
) -> None:
    # Many records share a key: which of them fall in a window must follow their
    # values, not their rows. Rows equal in every column are interchangeable, so the
    # pairs are compared as pairs of values.
    left = pd.DataFrame(left_rows or [("aa", 0)], columns=["key", "other"])
    right = pd.DataFrame(right_rows or [("aa", 0)], columns=["key", "other"])
    rule = [sorted_neighbourhood("key", window=2)]

    def pairs_of_values(lf: pd.DataFrame, rf: pd.DataFrame) -> list:
        p = candidate_pairs(lf, rf, rule)
        return sorted(
            zip(
                map(tuple, lf.to_numpy()[p.left].tolist()),
                map(tuple, rf.to_numpy()[p.right].tolist()),
                strict=True,
            )
        )

    shuffled_left = left.iloc[rnd.sample(range(len(left)), len(left))].reset_index(drop=True)
    shuffled_right = right.iloc[rnd.sample(range(len(right)), len(right))].reset_index(drop=True)
    assert pairs_of_values(left, right) == pairs_of_values(shuffled_left, shuffled_right)


def test_a_split_column_the_tables_lack_is_passed_over() -> None:
    # A spec whose optional field was left out (no postcode column) keeps the rule:
    # the block is split by the columns there are, here none, so skipped whole.
    left = pd.DataFrame({"name": ["peeters"] * 30, "address": ["a"] * 15 + ["b"] * 15})
    right = pd.DataFrame({"name": ["peeters"] * 30, "address": ["a"] * 15 + ["b"] * 15})
    rule = block_on("name", max_block_size=300, split_by=("postcode", "address"))
    assert rule.reads == ("name",)
    pairs = candidate_pairs(left, right, [rule])
    assert len(pairs) == 2 * 15 * 15 and pairs.skipped == {"name": 900 - 450}
    assert pairs.split["name"].across == 450
    only = candidate_pairs(left[["name"]], right[["name"]], [rule])
    assert len(only) == 0 and only.skipped == {"name": 900}


def test_the_preset_splits_oversized_blocks_and_keeps_them_without_a_postcode() -> None:
    from linkage.presets import enterprises
    from linkage.rules import SplitBlockOn

    spec = enterprises()
    capped = [r for r in spec.blocking if r.max_block_size is not None]
    assert capped and all(isinstance(r, SplitBlockOn) and r.split_by for r in capped)
    columns = [c for f in spec.fields for c in f.source if c not in ("postcode", "phone")]
    columns += ["enterprise_number", "employer_id"]
    without, notes = spec.for_columns(columns, columns)
    names = [r.name for r in without.blocking]
    assert "name" in names and "email" in names and "phone" not in names
    assert any("'postcode' left out" in note for note in notes)


masks = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=25, max_size=25)


@given(wide_rows, wide_rows, masks, masks, st.sampled_from([1, 2, 4, None]))
def test_a_focus_gives_the_whole_blockings_pairs_in_focus(
    left_rows, right_rows, left_marks, right_marks, cap
) -> None:
    """An incremental link's focus: every kind of rule proposes exactly the pairs of
    the whole blocking that are in it, and skips what the whole blocking skips."""
    left = frame(left_rows).assign(t=lambda f: f["x"].fillna("") + " " + f["y"].fillna(""))
    right = frame(right_rows).assign(t=lambda f: f["x"].fillna("") + " " + f["y"].fillna(""))
    lm, rm = np.array(left_marks[: len(left)]), np.array(right_marks[: len(right)])
    focus = Focus(lm[:, 0], rm[:, 0], lm[:, 1], rm[:, 1])
    rules = [
        block_on("x", max_block_size=cap),
        block_on("x", max_block_size=cap or 3, split_by=("y", "z")),
        block_on_tokens("t", max_block_size=cap),
        sorted_neighbourhood("w", window=2),
    ]
    for rule in rules:
        whole = candidate_pairs(left, right, [rule])
        focused = candidate_pairs(left, right, [rule], focus=focus)
        keep = focus.keep(whole.left, whole.right)
        np.testing.assert_array_equal(focused.left, whole.left[keep])
        np.testing.assert_array_equal(focused.right, whole.right[keep])
        assert focused.skipped == whole.skipped


def _window_pairs_reference(left: pd.DataFrame, right: pd.DataFrame, column: str, window: int):
    """Sorted neighbourhood as first written: every present record of both sides
    sorted by key, side, the values of every shared column, then position."""
    both = pd.concat([left.assign(_side=0), right.assign(_side=1)], ignore_index=True)
    both["_pos"] = np.r_[np.arange(len(left)), np.arange(len(right))]
    both["_key"] = pd.factorize(both[column], sort=True)[0]
    both = both[both["_key"] >= 0]
    shared = [c for c in left.columns if c in right.columns]
    table = pa.table(
        {
            "k": both["_key"].to_numpy(),
            "s": both["_side"].to_numpy(),
            **{f"v{i}": pa.array(both[c], from_pandas=True) for i, c in enumerate(shared)},
            "p": both["_pos"].to_numpy(),
        }
    )
    order = pc.sort_indices(table, sort_keys=[(n, "ascending") for n in table.column_names])
    side = both["_side"].to_numpy()[order.to_numpy()]
    pos = both["_pos"].to_numpy()[order.to_numpy()]
    pairs = set()
    for d in range(1, window + 1):
        for i in range(len(side) - d):
            if side[i] != side[i + d]:
                a, b = (pos[i], pos[i + d]) if side[i] == 0 else (pos[i + d], pos[i])
                pairs.add((int(a), int(b)))
    return pairs


@given(
    st.lists(st.tuples(st.sampled_from(["aa", "ab", "b", None]), values, values), max_size=20),
    st.lists(st.tuples(st.sampled_from(["aa", "ab", "b", None]), values, values), max_size=20),
    st.integers(1, 3),
)
def test_sorted_neighbourhood_orders_tied_records_by_all_their_values(
    left_rows, right_rows, window
) -> None:
    """Records of one key on one side are ordered by the values of every column both
    sides hold, a column missing on one side too: the pairs of sorting every record
    by its values."""
    left = pd.DataFrame(left_rows or [("aa", "a", None)], columns=["key", "x", "y"], dtype=object)
    right = pd.DataFrame(right_rows or [("aa", None, "b")], columns=["key", "x", "y"], dtype=object)
    pairs = candidate_pairs(left, right, [sorted_neighbourhood("key", window=window)])
    found = set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    assert found == _window_pairs_reference(left, right, "key", window)
