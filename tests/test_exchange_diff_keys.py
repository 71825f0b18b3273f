"""The delivery's sort by key words and the diff's binary search of sorted keys
(:mod:`linkage.exchange._diff`) give Arrow's order and a pandas merge's pairs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from linkage.exchange import _diff
from linkage.exchange._diff import diff, key_order


def _pseudonyms(rng: np.random.Generator, n: int, distinct: int) -> list[str]:
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz234567"))
    pool = ["v1." + "".join(rng.choice(alphabet, 26)) for _ in range(distinct)]
    return [pool[i] for i in rng.integers(0, distinct, n)]


def _table(rng: np.random.Generator, n: int, distinct: int) -> pa.Table:
    keys = _pseudonyms(rng, n, distinct)
    # Values that share their first 8 bytes after the common prefix, and differ after.
    keys[:10] = ["v1.aaaaaaaa" + "b" * 18, "v1.aaaaaaaa" + "a" * 18] * 5
    return pa.table(
        {
            "key": keys,
            "party": rng.choice(np.array(["VLAIO", "TBT"], dtype=object), n),
            "other": [None if i % 7 == 0 else f"id{i % 37}" for i in range(n)],
            "value": rng.integers(0, 3, n),
        }
    )


@pytest.mark.parametrize("distinct", [1, 3, 50, 5000])
def test_key_order_is_arrows(distinct: int) -> None:
    table = _table(np.random.default_rng(distinct), 4000, distinct)
    for key in (["key"], ["key", "party"], ["key", "party", "other"], ["other", "party"]):
        expected = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in key])
        assert np.array_equal(key_order(table, key).to_numpy(), expected.to_numpy())
    assert key_order(table, ["value"]) is None  # not text: Arrow's sort


def _sorted(table: pa.Table, key: list[str]) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in key]))


def _general(old: pa.Table, new: pa.Table, key: list[str], monkeypatch) -> dict[str, int]:
    with monkeypatch.context() as patch:
        patch.setattr(_diff, "_sorted_match", lambda *args: None)
        return _count(old, new, key)


def _count(old: pa.Table, new: pa.Table, key: list[str]) -> dict[str, int]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(_diff.OUTPUTS, "t", type("Output", (), {"key": tuple(key)})())
        return diff({"t": old}, {"t": new})["t"]


@pytest.mark.parametrize("seed", range(6))
def test_sorted_match_counts_as_the_general_diff(seed: int, monkeypatch) -> None:
    """Sorted tables of unique keys (as delivered) by the binary search, others by the
    general path: the same counts either way; nulls in a key match each other."""
    rng = np.random.default_rng(seed)
    key = ["key", "party"] if seed % 2 else ["key", "party", "other"]
    base = _table(rng, 3000, 2500).drop_columns(["value"])
    base = base.append_column("value", pa.array(rng.integers(0, 3, base.num_rows)))
    frame = base.to_pandas().drop_duplicates(key)
    old = frame.sample(frac=0.9, random_state=seed)
    new = frame.sample(frac=0.9, random_state=seed + 100).copy()
    new["value"] = np.where(rng.random(len(new)) < 0.1, 9, new["value"])
    old_t = _sorted(pa.Table.from_pandas(old, preserve_index=False), key)
    new_t = _sorted(pa.Table.from_pandas(new, preserve_index=False), key)
    assert _diff._sorted_match(old_t, new_t, key) is not None
    expected = _general(old_t, new_t, key, monkeypatch)
    assert _count(old_t, new_t, key) == expected
    merged = old.merge(new, on=key, how="outer", indicator=True)
    assert expected["added"] == int((merged["_merge"] == "right_only").sum())
    assert expected["removed"] == int((merged["_merge"] == "left_only").sum())
    # Not sorted, or a key twice: the general path.
    shuffled = pa.Table.from_pandas(new, preserve_index=False)
    twice = pa.concat_tables([new_t, new_t.slice(0, 5)])
    for other in (shuffled, twice):
        assert _count(old_t, other, key) == _general(old_t, other, key, monkeypatch)


def test_sorted_match_of_empty_tables() -> None:
    empty = pa.table({"key": pa.array([], pa.string()), "party": pa.array([], pa.string())})
    one = pa.table({"key": ["v1." + "a" * 26], "party": ["TBT"]})
    assert _count(empty, one, ["key", "party"]) == {"added": 1, "changed": 0, "removed": 0}
    assert _count(one, empty, ["key", "party"]) == {"added": 0, "changed": 0, "removed": 1}
    assert _count(empty, empty, ["key", "party"]) == {"added": 0, "changed": 0, "removed": 0}
