"""The delivery's sort order and key codes (:mod:`linkage.exchange._order`) are
Arrow's sort, by integer sorts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from linkage.exchange._order import codes, dense_ranks, sort_order


def _pseudonyms(rng: np.random.Generator, n: int, distinct: int, width: int = 26) -> list[str]:
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz234567"))
    pool = ["v1." + "".join(rng.choice(alphabet, width)) for _ in range(distinct)]
    return [pool[i] for i in rng.integers(0, distinct, n)]


@pytest.mark.parametrize("distinct", [1, 3, 50, 5000])
def test_sort_order_is_arrows(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    n = 4000
    keys = _pseudonyms(rng, n, distinct)
    # Values that share their first 8 bytes after the common prefix, and differ after.
    keys[:10] = ["v1.aaaaaaaa" + "b" * 17, "v1.aaaaaaaa" + "a" * 17] * 5
    table = pa.table(
        {
            "key": keys,
            "party": rng.choice(np.array(["VLAIO", "TBT"], dtype=object), n),
            "other": [None if i % 7 == 0 else f"id{i % 37}" for i in range(n)],
            "site": [f"S{i % 11}" * (1 + i % 3) for i in range(n)],
        }
    )
    for keys_ in (["key"], ["key", "party"], ["key", "party", "other"], ["other", "site"]):
        expected = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys_])
        assert np.array_equal(sort_order(table, keys_).to_numpy(), expected.to_numpy())


def test_sort_order_of_other_types_and_nulls() -> None:
    table = pa.table(
        {
            "key": ["v1.b", None, "v1.a", "v1.b", None, "v1.a"],
            "n": [3, 1, 2, 3, 1, 0],
            "text": pa.array(["x", "y", "x", "w", "y", "x"], type=pa.large_string()),
        }
    )
    for keys in (["key"], ["key", "n"], ["text", "key"], ["n"]):
        expected = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
        assert np.array_equal(sort_order(table, keys).to_numpy(), expected.to_numpy())


def test_dense_ranks_are_codes_of_equal_values() -> None:
    rng = np.random.default_rng(3)
    values = _pseudonyms(rng, 3000, 700)
    values[::13] = [None] * len(values[::13])
    for array in (pa.array(values), pa.chunked_array([values[:1000], values[1000:]])):
        found = dense_ranks(array)
        assert found is not None
        ranks, count = found
        distinct = sorted({v for v in values if v is not None})
        expected = [len(distinct) if v is None else distinct.index(v) for v in values]
        assert ranks.tolist() == expected
        assert count == len(distinct) + 1
    assert dense_ranks(pa.array([1, 2])) is None
    assert dense_ranks(pa.array([], type=pa.string()))[1] == 0  # type: ignore[index]


def test_codes_are_equal_for_equal_values() -> None:
    values = ["v1.b", None, "x", "v1.b", None, "yy", "x"]
    for array in (pa.array(values), pa.array(["v1.b", "v1.a", "v1.b"])):
        found = codes(array)
        assert found is not None
        got, size = found
        listed = array.to_pylist()
        assert size == len(set(listed))
        for i, a in enumerate(listed):
            for j, b in enumerate(listed):
                assert (got[i] == got[j]) == (a == b)
        assert got.max() < size
    assert codes(pa.array([1, 2])) is None
