"""Evaluation against hand-counted answers."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.evaluate import LinkQuality, link_quality, threshold_sweep
from linkage.exceptions import SchemaError

TRUTH = pd.DataFrame(
    {"enterprise_number": ["a", "b", "c", "d"], "employer_id": ["w", "x", "y", "z"]}
)
LINKS = pd.DataFrame(
    {
        "left": ["a", "b", "c", "e"],
        "right": ["w", "x", "q", "v"],
        "match_probability": [0.99, 0.9, 0.6, 0.3],
    }
)


def test_link_quality_hand_counted() -> None:
    q = link_quality(
        LINKS, TRUTH, on=("left", "right"), truth_on=("enterprise_number", "employer_id")
    )
    assert (q.true_positives, q.false_positives, q.false_negatives) == (2, 2, 2)
    assert q.precision == 0.5 and q.recall == 0.5 and q.f1 == 0.5
    assert str(q).startswith("precision 0.5000, recall 0.5000, F1 0.5000")


def test_empty_links() -> None:
    q = link_quality(
        LINKS.iloc[:0], TRUTH, on=("left", "right"), truth_on=("enterprise_number", "employer_id")
    )
    assert q.precision == 1.0 and q.recall == 0.0 and q.f1 == 0.0


def test_threshold_sweep_hand_counted() -> None:
    sweep = threshold_sweep(
        LINKS,
        TRUTH,
        on=("left", "right"),
        truth_on=("enterprise_number", "employer_id"),
        thresholds=[0.95, 0.8, 0.5, 0.0],
    )
    assert sweep["links"].tolist() == [1, 2, 3, 4]
    assert sweep["true_positives"].tolist() == [1, 2, 2, 2]
    assert sweep["precision"].tolist() == pytest.approx([1.0, 1.0, 2 / 3, 0.5])
    assert sweep["recall"].tolist() == pytest.approx([0.25, 0.5, 0.5, 0.5])


def test_quality_dict() -> None:
    assert LinkQuality(3, 1, 0).to_dict()["precision"] == 0.75


def test_a_missing_id_or_score_column_is_a_schema_error() -> None:
    truth_on = ("enterprise_number", "employer_id")
    with pytest.raises(SchemaError) as caught:
        link_quality(LINKS, TRUTH, on=("left", "rigth"), truth_on=truth_on)
    assert (caught.value.source, caught.value.column) == ("links", "rigth")
    with pytest.raises(SchemaError, match=r"^truth, column 'kbo'"):
        link_quality(LINKS, TRUTH, on=("left", "right"), truth_on=("kbo", "employer_id"))
    with pytest.raises(SchemaError, match=r"column 'weight'"):
        threshold_sweep(LINKS, TRUTH, on=("left", "right"), truth_on=truth_on, score="weight")
