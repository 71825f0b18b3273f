"""The quality page's rules (:func:`linkage.exchange._report.ranked`) and the defect
ids (:func:`linkage.exchange._defects.defect_ids`): the plain formulas' results."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from linkage.exchange import _defects
from linkage.exchange._art8 import SEVERITIES
from linkage.exchange._defects import defect_ids
from linkage.exchange._report import ranked
from linkage.keys import KeyRing


def _ranked_plainly(defects: pd.DataFrame, examples: int = 5) -> pd.DataFrame:
    """:func:`._report.ranked` written plainly, row by row in pandas (the reference)."""
    rules = defects.groupby("defect", sort=False).agg(
        kind=("kind", "first"), severity=("severity", "first"), count=("defect", "size")
    )
    where = (defects["table"].astype(str) + "." + defects["column"].astype(str)).rename("field")
    fields = (
        pd.DataFrame({"defect": defects["defect"], "field": where})
        .value_counts()
        .reset_index()
        .groupby("defect", sort=False)["field"]
        .agg(lambda f: ", ".join(f.head(4)) + (", ..." if len(f) > 4 else ""))
    )
    ids = defects[["defect", "table", "record_id"]].dropna()
    ids = ids[ids["record_id"].astype(str) != ""].drop_duplicates()
    shown = ids.groupby("defect", sort=False).head(examples)
    some = (shown["table"].astype(str) + " " + shown["record_id"].astype(str)).groupby(
        shown["defect"], sort=False
    )
    rules["fields"] = fields.reindex(rules.index)
    rules["examples"] = some.agg("; ".join).reindex(rules.index).fillna("")
    rules["_sev"] = rules["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    rules = rules.sort_values(["_sev", "count"], ascending=[True, False], kind="stable")
    return rules.reset_index()[["defect", "kind", "severity", "count", "fields", "examples"]]


@pytest.mark.parametrize("text", ["string[pyarrow]", "object"])
def test_ranked_is_the_plain_formula(text: str) -> None:
    """The page's rules (counted once per rule and field, examples from a rule's first
    rows unless they repeat) are what the plain pandas formula gives."""
    rng = np.random.default_rng(3)
    n = 5000
    rules = np.array(["missing name", "invalid phone", "stale size", "repeated"])
    rule = rng.choice(rules, n)
    # "repeated": one record for its first 200 rows, then others (the examples look further)
    record = np.where(rule == "repeated", "R1", [f"C{i % 900}" for i in range(n)]).astype(object)
    late = np.flatnonzero(rule == "repeated")[200:]
    record[late] = [f"X{i}" for i in range(len(late))]
    record[rng.random(n) < 0.05] = None
    record[rng.random(n) < 0.05] = ""
    column = rng.choice(np.array(["phone", "name", "size", None], dtype=object), n)
    defects = pd.DataFrame(
        {
            "defect": rule,
            "kind": "wrong",
            "severity": rng.choice(np.array(["high", "medium", "low"]), n),
            "table": rng.choice(np.array(["contacts", "enterprises"]), n),
            "record_id": record,
            "column": column,
        }
    ).astype(text)
    # (The counts as plain integers, whatever the text's dtype.)
    expected = _ranked_plainly(defects).astype({"count": "int64"})
    pd.testing.assert_frame_equal(ranked(defects), expected)


def test_defect_ids_of_repeated_and_missing_names() -> None:
    """Each row's id: the same name the same id, a name that cannot be made (no
    record id, file or row) no id."""
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    defects = pd.DataFrame(
        {
            "party": ["VLAIO", "VLAIO", "TBT", "VLAIO"],
            "table": "contacts",
            "record_id": ["C1", "C1", "C1", None],
            "column": "phone",
            "defect": "invalid phone",
            "file": [None, None, None, None],
            "row": pd.array([1, 2, 3, None], dtype="Int64"),
        }
    ).astype(
        {c: "string[pyarrow]" for c in ("party", "table", "record_id", "column", "defect", "file")}
    )
    ids = defect_ids(defects, ring)
    assert ids[0] == ids[1] != ids[2]
    assert ids[:3].str.match(r"^d1\.[a-z2-7]{26}$").all()
    assert pd.isna(ids[3])


def test_a_defect_id_is_the_one_reports_carry_in_slices_of_any_size(monkeypatch) -> None:
    """The id: ``d<version>.`` and the base32 of the name's two SipHashes under the
    halves of the defect key, each hash's bytes little-endian. Ids stay in the reports
    from run to run: these are the ids the code made before the names were hashed in
    slices (a key made for this test), whatever slices hash them now."""
    master = "v1:" + base64.b64encode(bytes(range(32))).decode("ascii")
    ring = KeyRing.from_env(exchange="vlaio-vdab-2025", environ={"LINKAGE_MASTER_KEY": master})
    defects = pd.DataFrame(
        {
            "party": ["VLAIO", "TBT", "VLAIO", "TBT", "VLAIO"],
            "table": "contacts",
            "record_id": ["C1", "C1", "C2", "C3", "C1"],
            "column": "phone",
            "defect": "invalid phone",
            "file": None,
            "row": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
        }
    ).astype({c: "string[pyarrow]" for c in ("party", "table", "record_id", "column", "file")})
    known = [
        "d1.ist3ndofrcllbapaykmmhvm4ki",
        "d1.wr6ptexpphjmywzpyqqxfrojpa",
        "d1.g2elab6iqso663v567z3p3w4iy",
        "d1.zd2jzsisrgb3mzakt644hbkwqe",
        "d1.ist3ndofrcllbapaykmmhvm4ki",
    ]
    assert defect_ids(defects, ring).tolist() == known
    monkeypatch.setattr(_defects, "_HASHED_AT_ONCE", 2)
    assert defect_ids(defects, ring).tolist() == known
    # By hand: the name's two keyed hashes, little-endian, in base32.
    name = np.array(["TBT\x1fcontacts\x1fC1\x1fphone\x1finvalid phone"], dtype=object)
    key = base64.b64encode(ring.key("defect").reveal()).decode("ascii")
    digest = b"".join(
        pd.util.hash_array(name, hash_key=key[k : k + 16], categorize=False).astype("<u8").tobytes()
        for k in (0, 16)
    )
    assert known[1] == "d1." + base64.b32encode(digest).decode("ascii").lower()[:26]
