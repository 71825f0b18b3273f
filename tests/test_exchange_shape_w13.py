"""The delivered tables' dedupe by integer codes (:mod:`linkage.exchange._shape`) and
their sort by key (:func:`linkage.exchange._diff.key_order`): as pandas' and Arrow's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.exchange import _shape
from linkage.exchange._diff import key_order
from linkage.keys import KeyRing

RING = KeyRing.generate(exchange="vlaio-vdab-2025")


@settings(max_examples=100)
@given(
    rows=st.lists(
        st.tuples(st.integers(-1, 3), st.integers(-1, 2), st.integers(-1, 1)), max_size=60
    ),
    columns=st.integers(1, 3),
)
def test_first_is_not_duplicated(rows: list[tuple[int, int, int]], columns: int) -> None:
    """Codes (-1: missing) deduped as pandas dedupes the columns they stand for."""
    frame = pd.DataFrame(rows or [(0, 0, 0)], columns=["a", "b", "c"]).iloc[:, :columns]
    codes = [frame[c].to_numpy().astype(np.int32) for c in frame.columns]
    text = frame.astype(str).where(frame >= 0, None)  # -1: missing
    assert np.array_equal(_shape._first(*codes), ~text.duplicated().to_numpy())


def test_first_renumbers_rather_than_overflows() -> None:
    big = np.array([2**31 - 2, 5, 2**31 - 2, 5], dtype=np.int32)
    codes = [big, big, big]
    assert _shape._first(*codes).tolist() == [True, True, False, False]


def _parts(index: list[int]) -> tuple[pd.DataFrame, pd.Series]:
    parts = pd.DataFrame(
        {
            "dossier_id": pd.array(["D1", "D1", "D2", "D3", "D2"], dtype="string[pyarrow]"),
            "party": pd.array(["VLAIO", "TBT", "VLAIO", None, "VLAIO"], dtype="string[pyarrow]"),
        },
        index=index,
    )
    refs = pd.Series(
        pd.array(["S1", "S2", "S1", "S1", "S1", "S2", "S1"], dtype="string[pyarrow]"),
        index=[index[i] for i in (0, 0, 1, 2, 4, 4, 3)],
    )
    return parts, refs


def _before(parts: pd.DataFrame, refs: pd.Series, dossier, staff) -> pd.DataFrame:
    """The bridge as it was made before: ``loc`` by label, ``drop_duplicates``."""
    return pd.DataFrame(
        {
            "dossier_key": dossier.keys.loc[refs.index],
            "staff_key": staff.keys,
            "party": parts["party"].loc[refs.index],
        }
    ).drop_duplicates()


def test_staff_refs_are_the_drop_duplicates_of_before() -> None:
    """One row per dossier, staff and party, the first kept: ``drop_duplicates`` of
    the keys, whatever the (unique) index; repeated labels fail as before."""
    for index in ([10, 11, 12, 13, 14], [3, 1, 4, 0, 2], [0, 0, 1, 2, 3]):
        parts, refs = _parts(index)
        (dossier,) = _shape._keys(RING, "dossier", parts["dossier_id"])
        (staff,) = _shape._keys(RING, "staff", refs)
        party = _shape._codes(parts["party"])
        if len(set(index)) < len(index):
            with pytest.raises(ValueError, match="duplicate labels"):
                _before(parts, refs, dossier, staff)
            with pytest.raises(ValueError, match="duplicate labels"):
                _shape._staff_refs(parts, refs, dossier, staff, party)
            continue
        got = _shape._staff_refs(parts, refs, dossier, staff, party)
        pd.testing.assert_frame_equal(got, _before(parts, refs, dossier, staff))
        assert len(got) == 6  # D2/S1 by VLAIO twice: once


def _pseudonym_like(draw: st.DrawFn) -> str:
    # Few characters after a shared prefix, so that first words tie and differ after.
    head = draw(st.sampled_from(["aaaaaaaa", "aaaaaaab", "baaaaaaa"]))
    tail = draw(st.text(alphabet="ab", min_size=18, max_size=18))
    return "v1." + head + tail


@settings(max_examples=100)
@given(
    keys=st.lists(st.composite(_pseudonym_like)(), min_size=1, max_size=40),
    data=st.data(),
)
def test_key_order_is_arrows_with_ties(keys: list[str], data: st.DataObject) -> None:
    """Repeated pseudonyms and pseudonyms alike in their first word: Arrow's order."""
    n = len(keys)
    pool = st.sampled_from(["v1.x", "v1.y", None]) if n % 2 else st.sampled_from(["s1", "s2"])
    table = pa.table(
        {
            "key": data.draw(st.permutations(keys)),
            # text even where every value is missing (else Arrow types it null)
            "staff": pa.array(data.draw(st.lists(pool, min_size=n, max_size=n)), pa.string()),
            "party": data.draw(st.lists(st.sampled_from(["VLAIO", "TBT"]), min_size=n, max_size=n)),
        }
    )
    for key in (["key"], ["key", "party"], ["key", "staff", "party"]):
        expected = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in key])
        assert key_order(table, key).to_pylist() == expected.to_pylist()
