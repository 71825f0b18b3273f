"""The byte-level checks of reading the extracts and the report's counts (issue 13)
against what they replaced: regexes, pandas' duplicated, a matrix product, a
concat and group-by."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.exchange._defects import status_summary
from linkage.exchange._extract import (
    _canonical,
    _group_codes,
    _holds_separator,
    _plain_dates,
    _seen_before,
    _ten_digits,
)
from linkage.exchange._report import STATUSES

_TEXT = pd.StringDtype("pyarrow")


def _arrays(values: list[str | None]) -> list[pa.Array | pa.ChunkedArray]:
    """The same values as string, large string, a slice's tail and two chunks."""
    text = pa.array(values, pa.string())
    half = len(values) // 2
    return [
        text,
        text.cast(pa.large_string()),
        pa.array([None, *values], pa.string()).slice(1),
        pa.chunked_array([text.slice(0, half), text.slice(half)]),
    ]


def _regex(text: pa.Array | pa.ChunkedArray, pattern: str) -> list[bool]:
    return [
        bool(v) for v in pc.fill_null(pc.match_substring_regex(text, pattern), False).to_pylist()
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(";,|\na b\t1é", max_size=6)), min_size=1, max_size=30))
def test_holds_separator_as_a_regex(values: list[str | None]) -> None:
    for text in _arrays(values):
        assert _holds_separator(text).tolist() == _regex(text, "[;,|\n]")


_DATE_LIKE = st.text("0123456789-/ 2x\u0662", min_size=8, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _DATE_LIKE, st.just("2024-01-31")), min_size=1, max_size=30))
def test_plain_dates_as_the_regex(values: list[str | None]) -> None:
    for text in _arrays(values):
        assert _plain_dates(text).tolist() == _regex(text, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def test_plain_dates_known_answers() -> None:
    text = pa.array(["2024-01-31", "2024-1-31", None, "2024/01/31", "2024-01-3x", "9999-99-99"])
    assert _plain_dates(text).tolist() == [True, False, False, False, False, True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("0123456789:/a", min_size=10, max_size=10), min_size=1, max_size=30))
def test_ten_digits_as_the_matrix_product(values: list[str]) -> None:
    data = np.frombuffer("".join(values).encode(), dtype=np.uint8)
    starts = np.arange(len(values)) * 10
    numbers, digits = _ten_digits(data, starts)
    matrix = data[starts[:, None] + np.arange(10)].astype(np.int64) - 48
    assert digits.tolist() == ((matrix >= 0) & (matrix <= 9)).all(axis=1).tolist()
    want = matrix @ (10 ** np.arange(9, -1, -1, dtype=np.int64))
    assert numbers[digits].tolist() == want[digits].tolist()


def test_canonical_known_answers() -> None:
    text = pa.array(["0403170701", "0403170702", None, "403170701", "a403170701", "2170510602"])
    assert _canonical(text, "enterprise").tolist() == [True, False, True, False, False, False]
    assert _canonical(text, "establishment").tolist() == [False, False, True, False, False, True]


_CELLS = st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "A", ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_CELLS, _CELLS, _CELLS), min_size=1, max_size=40))
def test_group_codes_as_duplicated(rows: list[tuple[str | None, ...]]) -> None:
    whole = pd.DataFrame(rows, columns=["id", "party", "part"]).astype(_TEXT)
    half = len(whole) // 2  # two chunks, as extracts of two parties concatenated
    frame = pd.concat([whole.iloc[:half], whole.iloc[half:]], ignore_index=True)
    frame["number"] = frame["part"].astype(object)  # a column pandas factorizes
    for columns in (["id"], ["id", "party"], ["id", "party", "part"], ["number", "id"]):
        codes = _group_codes(frame, columns)
        want = frame.duplicated(subset=columns, keep="first").to_numpy()
        assert _seen_before(codes).tolist() == want.tolist()
        groups = frame.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
        assert pd.factorize(codes)[0].tolist() == groups.tolist()
    again = _group_codes(frame, ["part"], _group_codes(frame, ["id", "party"]))
    want = frame.duplicated(subset=["id", "party", "part"], keep="first").to_numpy()
    assert _seen_before(again).tolist() == want.tolist()


def _reference_summary(
    defects: pd.DataFrame, closed: pd.DataFrame, parties: tuple[str, ...]
) -> dict[str, dict[str, object]]:
    """``status_summary`` as it was: a concat and pandas' group-by."""
    both = pd.concat(
        [defects[["party", "defect", "status"]], closed[["party", "defect", "status"]]],
        ignore_index=True,
    )
    summary: dict[str, dict[str, object]] = {}
    for party in parties:
        mine = both[(both["party"] == party).to_numpy(dtype=bool)]
        totals = mine["status"].value_counts()
        rules = mine.groupby(["defect", "status"]).size()
        summary[party] = {
            **{s: int(totals.get(s, 0)) for s in STATUSES},
            "by_rule": {
                str(rule): {str(s): int(n) for s, n in per.droplevel(0).items()}
                for rule, per in rules.groupby(level=0)
            },
        }
    return summary


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["VLAIO", "TBT"]),
            st.one_of(st.none(), st.sampled_from(["duplicate", "invalid phone", "Ž rule"])),
            st.one_of(st.none(), st.sampled_from([*STATUSES, "other"])),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 40),
)
def test_status_summary_as_the_group_by(rows: list[tuple[str, ...]], cut: int) -> None:
    frame = pd.DataFrame(rows, columns=["party", "defect", "status"])
    defects, closed = frame.iloc[:cut], frame.iloc[cut:]
    parties = ("VLAIO", "TBT", "X")
    want = json.dumps(_reference_summary(defects, closed, parties))
    assert json.dumps(status_summary(defects, closed, parties)) == want
    arrow = defects.astype({"party": _TEXT, "defect": _TEXT, "status": _TEXT})
    assert json.dumps(status_summary(arrow, closed, parties)) == want
