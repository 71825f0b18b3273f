"""Learning m and u from labels (``review.fit``, ``FellegiSunter.with_labels``,
``linkage review fit``): known answers on simulated levels, what is kept, weights,
and a labelled review of a real run end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage import review
from linkage.cli import EXIT_INPUT, main
from linkage.comparisons import exact_match, similarity
from linkage.exceptions import SchemaError
from linkage.model import FellegiSunter
from linkage.model._labels import MIN_LABELS, PRIOR_PAIRS
from linkage.presets import enterprises
from linkage.synthetic import generate

IDS = ["enterprise_number", "employer_id"]
NUMBER = (exact_match("number", decisive=True), similarity("name", thresholds=(0.9,)))


def _model(rng: np.random.Generator) -> FellegiSunter:
    """A model of a decisive number and a name, fitted on simulated pairs."""
    n = 20_000
    match = rng.random(n) < 0.3
    number = np.where(
        match, np.where(rng.random(n) < 0.9, 1, -1), np.where(rng.random(n) < 0.5, 0, -1)
    )
    name = np.where(
        match, rng.choice(3, n, p=[0.1, 0.2, 0.7]), rng.choice(3, n, p=[0.8, 0.15, 0.05])
    )
    gamma = np.column_stack([number, name]).astype(np.int8)
    random = np.column_stack([np.zeros(5_000), rng.choice(3, 5_000, p=[0.97, 0.02, 0.01])])
    return FellegiSunter(NUMBER).fit(gamma, gamma_random=random.astype(np.int8))  # fmt: skip


def test_m_is_the_labelled_matches_shares_with_the_fit_worth_ten_pairs() -> None:
    model = _model(np.random.default_rng(0))
    # 90 labelled matches, all exact on the name: m(exact) = (90 + 10 m0) / 100.
    gamma = np.array([[0, 2]] * 90, np.int8)
    learnt = model.with_labels(gamma, np.ones(90, bool))
    m0 = model.m_[1]
    np.testing.assert_allclose(learnt.m_[1], (np.array([0, 0, 90]) + PRIOR_PAIRS * m0) / 100)
    # Only matches: u as fitted (Splink's estimate from pairwise labels learns m only).
    for k in range(2):
        np.testing.assert_array_equal(learnt.u_[k], model.u_[k])
    assert learnt.label_fit_.u_updated == ()
    assert learnt.label_fit_.matches == {"number": 90, "name": 90}
    # The original model is left as it was.
    assert model.m_[1] is m0


def test_u_needs_enough_labelled_non_matches() -> None:
    model = _model(np.random.default_rng(1))
    few = np.array([[0, 0]] * (MIN_LABELS - 1) + [[0, 2]], np.int8)
    labels = np.array([False] * (MIN_LABELS - 1) + [True])
    assert model.with_labels(few, labels).label_fit_.u_updated == ()
    enough = np.array([[0, 0]] * MIN_LABELS + [[0, 2]], np.int8)
    learnt = model.with_labels(enough, np.array([False] * MIN_LABELS + [True]))
    assert learnt.label_fit_.u_updated == ("number", "name")
    expected = (np.array([MIN_LABELS, 0, 0]) + PRIOR_PAIRS * model.u_[1]) / (
        MIN_LABELS + PRIOR_PAIRS
    )
    np.testing.assert_allclose(learnt.u_[1], expected)


def test_a_pair_counts_by_its_sampling_weight() -> None:
    model = _model(np.random.default_rng(2))
    gamma = np.array([[1, 2], [1, 0]], np.int8)
    weighted = model.with_labels(gamma, np.ones(2, bool), weights=np.array([3.0, 1.0]))
    repeated = model.with_labels(gamma[[0, 0, 0, 1]], np.ones(4, bool))
    # Weights tilt the shares, the count of labels stays what it is: 2 labels, 3:1.
    shares = (np.array([0.5, 0, 1.5]) + PRIOR_PAIRS * model.m_[1]) / (2 + PRIOR_PAIRS)
    np.testing.assert_allclose(weighted.m_[1], shares / shares.sum())
    assert weighted.m_[1][2] < repeated.m_[1][2]


def test_pairs_without_a_number_score_as_before() -> None:
    model = _model(np.random.default_rng(3))
    assert model.params_.joint is not None
    gamma = np.array([[1, 0]] * 40 + [[0, 2]] * 60, np.int8)
    learnt = model.with_labels(gamma, np.array([True] * 40 + [False] * 60))
    no_number = np.array([[-1, 0], [-1, 1], [-1, 2]], np.int8)
    np.testing.assert_allclose(learnt.match_weight(no_number), model.match_weight(no_number))
    with_number = np.array([[0, 2], [1, 0]], np.int8)
    assert not np.allclose(learnt.match_weight(with_number), model.match_weight(with_number))


def test_labels_refused() -> None:
    model = _model(np.random.default_rng(4))
    with pytest.raises(SchemaError, match="no pair labelled a match"):
        model.with_labels(np.array([[0, 0]], np.int8), np.array([False]))
    with pytest.raises(SchemaError, match="shape"):
        model.with_labels(np.array([[0]], np.int8), np.array([True]))
    with pytest.raises(SchemaError, match="sampling weights"):
        model.with_labels(np.array([[1, 2]], np.int8), np.array([True]), weights=np.array([0.0]))


def _f1(links: pd.DataFrame, truth: pd.MultiIndex) -> float:
    ok = pd.MultiIndex.from_frame(links[IDS]).isin(truth)
    p, r = ok.mean(), ok.sum() / len(truth)
    return float(2 * p * r / (p + r))


def test_a_labelled_review_teaches_a_pilot_model(tmp_path: Path, capsys) -> None:
    x = generate(n_enterprises=6_000, seed=7)
    spec = enterprises()
    truth = pd.MultiIndex.from_frame(x.truth_enterprises[IDS])
    pilot = generate(n_enterprises=1_000, seed=1)
    pilot_model = linkage.link(pilot.enterprises, pilot.employers, spec).model
    before = linkage.link(x.enterprises, x.employers, spec, model=pilot_model)
    drawn = review.sample(before.scored_pairs(), n=400, seed=0)
    match = pd.MultiIndex.from_frame(drawn[["left_id", "right_id"]]).isin(truth)
    drawn["label"] = np.where(match, "match", "non-match")
    drawn.loc[drawn.index[:5], "label"] = "unsure"
    learnt = review.fit(drawn, before.model)
    assert learnt.spec_digest == before.model.spec_digest
    after = linkage.link(x.enterprises, x.employers, spec, model=learnt)
    assert _f1(after.links, truth) >= _f1(before.links, truth) - 0.001

    # The same from files.
    drawn.to_csv(tmp_path / "labels.csv", index=False)
    before.model.save(tmp_path / "pilot.json")
    out = tmp_path / "learnt.json"
    args = ["review", "fit", str(tmp_path / "labels.csv"), "--model", str(tmp_path / "pilot.json")]
    assert main([*args, "--out", str(out)]) == 0
    assert "name" in capsys.readouterr().out
    saved = FellegiSunter.load(out)
    for a, b in zip(saved.m_, learnt.m_, strict=True):
        np.testing.assert_allclose(a, b)
    drawn.drop(columns=["gamma_name"]).to_csv(tmp_path / "bad.csv", index=False)
    bad = ["review", "fit", str(tmp_path / "bad.csv"), "--model", str(tmp_path / "pilot.json")]
    assert main([*bad, "--out", str(out)]) == EXIT_INPUT
    assert "gamma_name" in capsys.readouterr().err
