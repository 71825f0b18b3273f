"""The checks' defects (``found``) and vdab_disagreements: which employer record a link
compares with."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.exchange._checks import found, vdab_disagreements


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
