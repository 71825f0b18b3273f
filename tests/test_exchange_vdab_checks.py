"""The checks' defects (``found``) and vdab_disagreements: which employer record a link
compares with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.exchange._checks import _linked_rows, found, vdab_disagreements


@pytest.mark.parametrize("ids", ["text", "numbers"])
def test_vdab_disagreements_take_each_employers_first_record(ids: str) -> None:
    # A repeated employer id is its first record; an unknown one disagrees with nothing.
    enterprises = pd.DataFrame(
        {
            "enterprise_number": ["0403170701", "0403170702", "0403170703"],
            "party": ["VLAIO", "VLAIO", "TBT"],
            "postcode": ["1000", "2000", "3000"],
            "_file": "f.csv",
            "_row": [0, 1, 2],
        }
    ).astype({"enterprise_number": "string[pyarrow]", "party": "string[pyarrow]"})
    delivered = enterprises[["enterprise_number", "party"]].assign(
        enterprise_key=pd.Series(["k1", "k2", "k3"], dtype="string[pyarrow]")
    )
    employer = ["E1", "E2", "E9"] if ids == "text" else [1, 2, 9]
    links = pd.DataFrame(
        {"enterprise_key": delivered["enterprise_key"], "party": delivered["party"]}
    ).assign(employer_id=pd.Series(employer, dtype=object))
    employers = pd.DataFrame(
        {
            "employer_id": employer[:2] + employer[:1],
            "postcode": ["1000", "2001", "9999"],
        }
    )
    if ids == "text":
        employers = employers.astype("string[pyarrow]")
    disagree = vdab_disagreements(enterprises, delivered, links, employers)
    assert [f["record_id"].tolist() for f in disagree] == [["0403170702"]]


numbers = st.sampled_from(["0403170701", "0403170702", "0403170703", None])
parties = st.sampled_from(["VLAIO", "TBT", None])


@given(
    st.lists(st.tuples(numbers, parties), max_size=12),
    st.lists(st.tuples(numbers, parties), max_size=8),
    st.lists(st.tuples(st.integers(0, 3), parties), max_size=8),
)
def test_linked_rows_are_the_merges_on_the_text(sent, delivered_rows, link_rows) -> None:
    # Repeats and missing values on every side: the joint codes merge as the text does.
    text = "string[pyarrow]"
    enterprises = pd.DataFrame(sent, columns=["enterprise_number", "party"], dtype=text)
    delivered = pd.DataFrame(delivered_rows, columns=["enterprise_number", "party"], dtype=text)
    delivered["enterprise_key"] = ("k" + delivered["enterprise_number"].fillna("-")).astype(text)
    keys = ["k0403170701", "k0403170702", "k0403170703", None]
    links = pd.DataFrame(
        {
            "enterprise_key": pd.array([keys[k] for k, _ in link_rows], dtype=text),
            "party": pd.array([p for _, p in link_rows], dtype=text),
            "employer_id": pd.Series([f"E{i}" for i in range(len(link_rows))], dtype=object),
        }
    )
    at, employer_ids = _linked_rows(enterprises, delivered, links)
    keyed = links.merge(
        delivered.drop_duplicates(["enterprise_key", "party"]), on=["enterprise_key", "party"]
    )
    pairs = keyed.merge(
        enterprises.assign(at=np.arange(len(enterprises))), on=["enterprise_number", "party"]
    )
    assert at.tolist() == pairs["at"].tolist()
    assert employer_ids.tolist() == pairs["employer_id"].tolist()


def test_a_defect_keeps_the_extracts_text_and_names_its_row() -> None:
    # Arrow text stays Arrow text: no Python string per defect (551,479 outdated
    # assessments at 485k); the row is the file's, 1-based.
    frame = pd.DataFrame(
        {
            "party": pd.array(["VLAIO", "TBT", "TBT"], dtype="string[pyarrow]"),
            "enterprise_number": pd.array(
                ["0403170701", "0403170702", None], dtype="string[pyarrow]"
            ),
            "_file": ["VLAIO/e.csv", "TBT/e.parquet", "TBT/e.parquet"],
            "_row": [0, 7, 8],
        }
    )
    out = found(
        frame,
        [False, True, True],
        table="enterprises",
        column="name",
        defect="missing required field",
        detail=pd.Series(["a", "b", "c"]),
    )
    assert out["party"].dtype == out["record_id"].dtype == pd.StringDtype("pyarrow")
    assert out.astype(object).where(out.notna(), None).to_dict("records") == [
        {
            "party": "TBT",
            "table": "enterprises",
            "record_id": "0403170702",
            "column": "name",
            "defect": "missing required field",
            "detail": "b",
            "file": "TBT/e.parquet",
            "row": 8,
        },
        {
            "party": "TBT",
            "table": "enterprises",
            "record_id": None,
            "column": "name",
            "defect": "missing required field",
            "detail": "c",
            "file": "TBT/e.parquet",
            "row": 9,
        },
    ]
