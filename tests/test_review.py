"""Review samples and accuracy from labels (``linkage.review``), and the CLI end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage import review
from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import SchemaError
from linkage.presets import enterprises
from linkage.review._strata import allocate, assign
from linkage.synthetic import generate

IDS = ("enterprise_number", "employer_id")


@pytest.fixture(scope="module")
def run():
    x = generate(n_enterprises=3000, seed=11)
    result = linkage.link(x.enterprises, x.employers, enterprises(), trace=True)
    return x, result, result.scored_pairs()


def _truth_labels(drawn: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    true = pd.MultiIndex.from_frame(truth[list(IDS)].astype(str))
    pairs = pd.MultiIndex.from_frame(drawn[["left_id", "right_id"]].astype(str))
    return pd.Series(np.where(pairs.isin(true), "match", "non-match"), index=drawn.index)


def test_strata_bands_known_answers() -> None:
    weights = np.array([3.0, 4.99, 5.0, 30.0, 3.0, 2.9, 1.0, -7.0, -17.0, -100.0])
    status = np.array(["link"] * 4 + ["lost"] + ["below"] * 5)
    got = list(assign(weights, status, 3.0))
    assert got == [
        "link [+0, +2)",
        "link [+0, +2)",
        "link [+2, +5)",
        "link [+20, inf)",
        "lost",
        "below [-2, -0)",
        "below [-2, -0)",
        "below [-10, -5)",
        "below [-20, -10)",
        "below (-inf, -20)",
    ]


@pytest.mark.parametrize("n", [1, 7, 40, 400, 10_000])
def test_allocation_sums_to_n_and_fits_the_strata(n: int) -> None:
    sizes = pd.Series({"a": 5, "b": 50_000, "c": 300, "d": 12})
    means = pd.Series({"a": 0.9, "b": 1e-6, "c": 0.05, "d": 0.5})
    take = allocate(sizes, means, n, lost=pd.Series(False, index=sizes.index))
    assert take.sum() == min(n, sizes.sum())
    assert (take <= sizes).all() and (take >= 0).all()
    if n >= 40:
        assert (take > 0).all()  # every stratum is seen


def test_sample_is_stratified_and_shows_both_records(run) -> None:
    x, _result, pairs = run
    left = x.enterprises.rename(columns={"name": "naam"})
    drawn = review.sample(
        pairs,
        left=left,
        right=x.employers,
        n=200,
        seed=3,
        left_columns=["naam", "postcode"],
        right_columns=["name", "postcode"],
    )
    assert len(drawn) == 200 and drawn["pair"].tolist() == list(range(200))
    assert {"lost", "link [+0, +2)", "below [-2, -0)"} <= set(drawn["stratum"])
    sizes = pairs.assign(stratum=assign(pairs["match_weight"], pairs["status"], 0.0))
    sizes = sizes.groupby("stratum", observed=True).size()
    per = drawn.groupby("stratum")
    assert (per["stratum_pairs"].first() == sizes.reindex(per.size().index)).all()
    assert (per.size() == per["stratum_sampled"].first()).all()
    assert np.allclose(drawn["sampling_weight"], drawn["stratum_pairs"] / drawn["stratum_sampled"])
    # Values side by side, under the two tables' own names.
    row = drawn.iloc[0]
    assert (
        row["left.naam / name"] == left.set_index("enterprise_number").loc[row["left_id"], "naam"]
    )
    assert (
        row["right.naam / name"]
        == x.employers.set_index("employer_id").loc[row["right_id"], "name"]
    )
    assert drawn["rule"].notna().all() and set(drawn["label"]) == {""}
    # Seeded: the same sample again, another with another seed.
    again = review.sample(pairs, left=left, right=x.employers, n=200, seed=3)
    other = review.sample(pairs, left=left, right=x.employers, n=200, seed=4)
    assert again["left_id"].tolist() == drawn["left_id"].tolist()
    assert other["left_id"].tolist() != drawn["left_id"].tolist()


def test_sample_from_links_when_pairs_have_no_status(run) -> None:
    _, result, pairs = run
    bare = pairs[["left_id", "right_id", "match_weight", "match_probability"]]
    links = result.links.iloc[:, :2]
    drawn = review.sample(bare, links=links, n=100, threshold=0.5)
    full = review.sample(pairs, n=100)
    assert drawn["stratum"].value_counts().to_dict() == full["stratum"].value_counts().to_dict()
    with pytest.raises(SchemaError, match="status"):
        review.sample(bare, n=100)


def test_a_full_census_scores_exactly(run) -> None:
    """Every pair labelled: the estimates are the truth, the intervals closed on it."""
    x, _result, pairs = run
    drawn = review.sample(pairs, n=len(pairs))
    drawn["label"] = _truth_labels(drawn, x.truth_enterprises)
    got = review.score(drawn)
    tp = int(((drawn["status"] == "link") & (drawn["label"] == "match")).sum())
    fp = int(((drawn["status"] == "link") & (drawn["label"] != "match")).sum())
    fn = int(((drawn["status"] != "link") & (drawn["label"] == "match")).sum())
    assert got.precision.low == got.precision.value == got.precision.high == tp / (tp + fp)
    assert got.recall.low == got.recall.value == got.recall.high == tp / (tp + fn)
    assert got.labelled == len(pairs)


def test_score_covers_the_truth_and_left_out_unsure(run) -> None:
    x, result, pairs = run
    drawn = review.sample(pairs, n=300, seed=1)
    drawn["label"] = _truth_labels(drawn, x.truth_enterprises)
    labels = pd.MultiIndex.from_frame(x.truth_enterprises[list(IDS)])
    links = pd.MultiIndex.from_frame(result.links[list(IDS)])
    precision = links.isin(labels).mean()
    got = review.score(drawn)
    assert got.precision.low <= precision <= got.precision.high
    assert got.precision.high - got.precision.low < 0.02
    assert got.recall.high - got.recall.low < 0.05
    assert -20 < got.threshold < 20
    # Unsure labels are left out, not counted as either.
    drawn.loc[:9, "label"] = "unsure"
    assert (review.score(drawn).labelled, review.score(drawn).unsure) == (290, 10)
    drawn.loc[0, "label"] = "maybe"
    with pytest.raises(SchemaError, match="row 2"):
        review.score(drawn)


def test_cli_link_sample_label_score(tmp_path: Path, capsys) -> None:
    x = generate(n_enterprises=1500, seed=5)
    x.write(tmp_path)
    main(
        [
            "link",
            str(tmp_path / "enterprises.parquet"),
            str(tmp_path / "employers.parquet"),
            "--preset",
            "enterprises",
            "--out",
            str(tmp_path / "links.parquet"),
            "--pairs-out",
            str(tmp_path / "pairs.csv"),
        ]
    )
    pairs = pd.read_csv(tmp_path / "pairs.csv", dtype=str)
    assert {"status", "rule", "level_name", "left_linked_to", "threshold_weight"} <= set(pairs)
    assert set(pairs["status"]) <= {"link", "lost", "below"}
    # both records' values beside each pair, as the tables hold them
    ent = x.enterprises.set_index("enterprise_number")
    emp = x.employers.set_index("employer_id")
    sample = pairs.sample(50, random_state=1)
    assert sample["left_name"].tolist() == ent.loc[sample["left_id"], "name"].tolist()
    assert sample["right_name"].tolist() == emp.loc[sample["right_id"], "name"].tolist()
    assert "left_postcode" in pairs and "right_phone" in pairs
    code = main(
        [
            "review",
            "sample",
            "--pairs",
            str(tmp_path / "pairs.csv"),
            "--left",
            str(tmp_path / "enterprises.parquet"),
            "--right",
            str(tmp_path / "employers.parquet"),
            "--columns",
            "name,postcode,street",
            "--n",
            "120",
            "--out",
            str(tmp_path / "review"),
        ]
    )
    assert code == 0
    assert "wrote 120 pairs" in capsys.readouterr().out
    page = (tmp_path / "review" / "review.html").read_text(encoding="utf-8")
    # offline: nothing fetched (a website among the records' values is data, not a link)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page) and "<script src" not in page
    drawn = pd.read_csv(tmp_path / "review" / "sample.csv", dtype=str, keep_default_na=False)
    drawn["label"] = _truth_labels(drawn, x.truth_enterprises)
    drawn.to_csv(tmp_path / "labels.csv", index=False)
    assert main(["review", "score", str(tmp_path / "labels.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["labelled"] == 120
    assert 0.9 < out["precision"]["value"] <= 1.0
    assert out["precision"]["low"] <= out["precision"]["value"] <= out["precision"]["high"]
    drawn.drop(columns=["stratum_pairs"]).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["review", "score", str(tmp_path / "bad.csv")]) == EXIT_INPUT
    assert "stratum_pairs" in capsys.readouterr().err
