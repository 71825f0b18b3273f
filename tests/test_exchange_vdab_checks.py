"""vdab_disagreements: which employer record a link compares with."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.exchange._checks import vdab_disagreements


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
    found = vdab_disagreements(enterprises, delivered, links, employers)
    assert [f["record_id"].tolist() for f in found] == [["0403170702"]]
