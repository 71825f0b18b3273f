"""Fellegi-Sunter: EM recovers the parameters it was generated from; weights by hand."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linkage
from linkage.comparisons import distance, exact_match, similarity
from linkage.config import ModelSettings
from linkage.exceptions import ConfigError, ConvergenceWarning, NotFittedError, SchemaError
from linkage.model import FellegiSunter, FittedParams, weight_to_probability
from linkage.model._patterns import pack, pattern_counts

COMPARISONS = (
    distance("kbo", thresholds=(1,), decisive=True),  # 3 levels
    similarity("name", thresholds=(0.9, 0.8)),  # 4 levels
    exact_match("postcode"),  # 2 levels
    exact_match("phone"),  # 2 levels
)
M = [
    np.array([0.05, 0.05, 0.90]),
    np.array([0.05, 0.05, 0.15, 0.75]),
    np.array([0.15, 0.85]),
    np.array([0.3, 0.7]),
]
U = [
    np.array([0.998, 0.0015, 0.0005]),
    np.array([0.80, 0.12, 0.06, 0.02]),
    np.array([0.90, 0.10]),
    np.array([0.99, 0.01]),
]
LAMBDA = 0.2


def simulate(
    n: int, prior: float, rng: np.random.Generator, null_rate: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    is_match = rng.random(n) < prior
    gamma = np.empty((n, len(M)), dtype=np.int8)
    for k, (m, u) in enumerate(zip(M, U, strict=True)):
        levels_m = rng.choice(len(m), size=n, p=m)
        levels_u = rng.choice(len(u), size=n, p=u)
        gamma[:, k] = np.where(is_match, levels_m, levels_u)
        gamma[rng.random(n) < null_rate, k] = -1
    return gamma, is_match


def test_em_recovers_generating_parameters() -> None:
    rng = np.random.default_rng(42)
    gamma, _ = simulate(200_000, LAMBDA, rng)
    gamma_random, _ = simulate(400_000, 0.0, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma_random)
    assert model.converged_
    assert model.lambda_ == pytest.approx(LAMBDA, abs=0.01)
    for k in range(len(M)):
        np.testing.assert_allclose(model.m_[k], M[k], atol=0.02)
        np.testing.assert_allclose(model.u_[k], U[k], atol=0.01)
        np.testing.assert_allclose(model.u_random_[k], U[k], atol=0.01)
    fixed = FellegiSunter(COMPARISONS, fix_u=True).fit(gamma, gamma_random=gamma_random)
    assert fixed.lambda_ == pytest.approx(LAMBDA, abs=0.01)
    assert all((a == b).all() for a, b in zip(fixed.u_, fixed.u_random_, strict=True))
    # EM ran on distinct patterns, not on 200,000 pairs.
    assert model.n_patterns_ <= 4 * 5 * 3 * 3


def test_weights_worked_by_hand() -> None:
    model = FellegiSunter(COMPARISONS[2:])
    u = [np.array([0.8, 0.2]), np.array([0.5, 0.5])]
    model.params_ = FittedParams(
        m=[np.array([0.2, 0.8]), np.array([0.5, 0.5])], u=u, u_random=u, share=0.2
    )
    # prior log2(0.2/0.8) = -2; postcode exact log2(0.8/0.2) = +2; phone: 0; null adds 0.
    gamma = np.array([[1, 1], [0, -1], [-1, -1]], dtype=np.int8)
    np.testing.assert_allclose(model.match_weight(gamma), [0.0, -2 + np.log2(0.25), -2.0])
    np.testing.assert_allclose(model.match_probability(gamma)[0], 0.5)


def test_term_frequency_makes_common_names_count_less() -> None:
    model = FellegiSunter([exact_match("name", term_frequency=True)])
    model.params_ = FittedParams(
        m=[np.array([0.1, 0.9])],
        u=[np.array([0.7, 0.3])],
        u_random=[np.array([0.99, 0.01])],
        share=0.5,
    )
    gamma = np.array([[1], [1], [1], [0]], dtype=np.int8)
    tf = {"name": np.array([0.001, 0.01, 0.1, np.nan])}
    weights = model.match_weight(gamma, tf=tf)
    # Level weight log2(0.9 / 0.3), then log2(u_random_exact / tf): a name ten times
    # rarer than average gains log2(10) bits, one ten times commoner loses as much.
    assert weights[0] == pytest.approx(np.log2(0.9 / 0.3) + np.log2(10))
    assert weights[1] == pytest.approx(np.log2(0.9 / 0.3))
    assert weights[2] == pytest.approx(np.log2(0.9 / 0.3) - np.log2(10))
    assert weights[3] == pytest.approx(np.log2(0.1 / 0.7))


def test_the_tf_reference_is_the_candidates_or_the_tables() -> None:
    from linkage.compare import TermFrequencies

    rng = np.random.default_rng(3)
    gamma = np.where(rng.random((1_000, 1)) < 0.3, 1, 0).astype(np.int8)
    gamma_random = np.zeros((1_000, 1), np.int8)
    freq = np.where(gamma[:, 0] == 1, 0.01, np.nan)
    tf = freq.view(TermFrequencies)
    tf.reference = 0.04
    candidates = FellegiSunter([exact_match("name", term_frequency=True)])
    candidates.fit(gamma, gamma_random=gamma_random, tf={"name": tf})
    assert candidates.params_.tf_reference == {"name": pytest.approx(0.01)}
    tables = FellegiSunter([exact_match("name", term_frequency=True, tf_reference="tables")])
    tables.fit(gamma, gamma_random=gamma_random, tf={"name": tf})
    assert tables.params_.tf_reference == {"name": 0.04}
    # A plain array carries no reference: the candidates' mean, as before.
    tables.fit(gamma, gamma_random=gamma_random, tf={"name": freq})
    assert tables.params_.tf_reference == {"name": pytest.approx(0.01)}
    with pytest.raises(ConfigError, match="tf_reference must be one of pairs, tables"):
        exact_match("name", tf_reference="rows")  # type: ignore[arg-type]


def test_settled_pairs_are_judged_by_their_own_mixture() -> None:
    rng = np.random.default_rng(1)
    gamma, _ = simulate(200_000, LAMBDA, rng)
    gamma_random, _ = simulate(200_000, 0.0, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma_random)
    # Equal numbers: matches 0.2 * 0.9 of the pairs, non-matches 0.8 * 0.0005.
    share = LAMBDA * M[0][2] / (LAMBDA * M[0][2] + (1 - LAMBDA) * U[0][2])
    assert model.params_.settled.share == pytest.approx(share, abs=0.001)
    # Same number, but a trade name, a moved address and another phone: the odds of
    # the share times m / u of those levels, worked from the generating parameters.
    moved = np.array([[2, 0, 0, 0]], dtype=np.int8)
    odds = share / (1 - share) * (0.05 * 0.15 * 0.3) / (0.80 * 0.90 * 0.99)
    assert model.match_probability(moved)[0] == pytest.approx(odds / (1 + odds), abs=0.1)
    # The number settles the pair; the others are weighed against random pairs.
    parts = model.partial_weights(moved)[0]
    assert parts[0] == 0 and (parts[1:] < 0).all()
    assert model.match_probability(np.array([[2, 3, 1, 1]], dtype=np.int8))[0] > 0.999
    # Without the number the same disagreements are strong evidence against.
    assert model.match_probability(np.array([[-1, 0, 0, 0]], dtype=np.int8))[0] < 0.01


def test_another_entitys_number_is_not_decisive() -> None:
    # 990 pairs with equal numbers agree on name and address; 10 carry another
    # entity's number and agree on nothing else, like random pairs.
    comparisons = (
        exact_match("number", decisive=True),
        exact_match("name"),
        exact_match("address"),
    )
    rows = [([1, 1, 1], 990), ([1, 0, 0], 10), ([0, 0, 0], 5_000), ([0, 1, 0], 500)]
    gamma = np.repeat(np.array([r for r, _ in rows], np.int8), [n for _, n in rows], axis=0)
    gamma_random = np.zeros((10_000, 3), np.int8)
    wrong = np.array([[1, 0, 0]], np.int8)
    model = FellegiSunter(comparisons).fit(gamma, gamma_random=gamma_random)
    assert model.params_.settled.share == pytest.approx(0.99, abs=0.001)
    assert model.match_probability(wrong)[0] < 0.01
    # The older rule clipped the other comparisons at zero: the number alone linked.
    clipped = FellegiSunter(comparisons, settled_mixture=False).fit(
        gamma, gamma_random=gamma_random
    )
    assert clipped.params_.settled is None
    assert clipped.match_probability(wrong)[0] > 0.5


def test_explain_adds_up() -> None:
    rng = np.random.default_rng(2)
    gamma, _ = simulate(20_000, LAMBDA, rng)
    gamma_random, _ = simulate(20_000, 0.0, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma_random)
    row = [1, 3, -1, 0]
    table = model.explain(row)
    assert table["comparison"].tolist() == ["prior", "kbo", "name", "postcode", "phone", "total"]
    assert table["level"].tolist()[1:5] == ["damerau_levenshtein <= 1", "exact", "null", "else"]
    assert table["weight"].iloc[-1] == pytest.approx(
        model.match_weight(np.array([row], np.int8))[0]
    )
    # A settled pair shows its own model's m and the random pairs' u.
    settled = model.explain([2, 3, 1, 0])
    assert settled["weight"].iloc[-1] == pytest.approx(
        model.match_weight(np.array([[2, 3, 1, 0]], np.int8))[0]
    )
    assert settled["m"].iloc[2] == model.params_.settled.m[1][3]
    assert settled["u"].iloc[2] == model.u_random_[1][3]


def _correlated(scale: int) -> np.ndarray:
    """Number (decisive), address, postcode: address and postcode always agree or
    disagree together, as when an employer moves."""
    rows = [
        ([1, 1, 1], 90),  # equal numbers: 90 % at the same address
        ([1, 0, 0], 10),
        ([0, 1, 1], 10),  # different numbers: 10 % at the same address
        ([0, 0, 0], 90),
        ([-1, 1, 1], 50),  # no number: half and half
        ([-1, 0, 0], 50),
    ]
    return np.repeat(np.array([r for r, _ in rows], np.int8), [n * scale for _, n in rows], axis=0)


JOINT = (exact_match("number", decisive=True), exact_match("address"), exact_match("postcode"))


def test_joint_pattern_does_not_count_a_move_twice() -> None:
    gamma = _correlated(1_000)
    gamma_random = np.zeros((1_000, 3), np.int8)
    model = FellegiSunter(JOINT).fit(gamma, gamma_random=gamma_random)
    # Without a number, "same address and postcode" is one piece of evidence: matches
    # show it 9 times in 10, non-matches 1 in 10, so log2(0.9 / 0.1) bits, and the
    # pairs' own prior is 1/2 (0.5 * 0.9 + 0.5 * 0.1 = the observed half).
    no_number = np.array([[-1, 1, 1], [-1, 0, 0]], np.int8)
    np.testing.assert_allclose(model.match_weight(no_number), [np.log2(9), -np.log2(9)], atol=0.01)
    assert model.params_.joint.share == pytest.approx(0.5, abs=0.001)
    # The product of the two comparisons' weights would count it twice.
    independent = FellegiSunter(JOINT, joint_unlabelled=False).fit(gamma, gamma_random=gamma_random)
    parts = independent.partial_weights(no_number)
    assert parts[0, 1:].sum() > 1.5 * np.log2(9)
    # Pairs the number labels are scored as before.
    labelled = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], np.int8)
    np.testing.assert_array_equal(model.match_weight(labelled), independent.match_weight(labelled))
    table = model.explain([-1, 1, 1])
    names = [c.name for c in JOINT]
    assert table["comparison"].tolist() == ["prior", *names, "dependence", "total"]
    assert table["weight"].iloc[-1] == pytest.approx(model.match_weight(no_number)[0])


def test_joint_pattern_needs_labelled_pairs() -> None:
    gamma = _correlated(1_000)
    no_non_matches = gamma[gamma[:, 0] != 0]
    model = FellegiSunter(JOINT).fit(no_non_matches, gamma_random=np.zeros((100, 3), np.int8))
    assert model.params_.joint is None
    no_decisive = FellegiSunter(COMPARISONS[1:]).fit(
        simulate(2_000, LAMBDA, np.random.default_rng(5))[0][:, 1:],
        gamma_random=np.zeros((100, 3), np.int8),
    )
    assert no_decisive.params_.joint is None


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    gamma, _ = simulate(20_000, LAMBDA, rng)
    gamma_random, _ = simulate(20_000, 0.0, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma_random)
    model.save(tmp_path / "model.json")
    loaded = FellegiSunter.load(tmp_path / "model.json")
    np.testing.assert_array_equal(loaded.match_weight(gamma), model.match_weight(gamma))
    saved = json.loads((tmp_path / "model.json").read_text())
    assert saved["format"] == "linkage.FellegiSunter/3"
    assert loaded.get_params() == model.get_params()
    # Format 2 wrote every comparison with all fuzzy fields, settings without the
    # random-pair sample, no diagnostics: it loads and scores the same.
    v2 = {
        **{k: v for k, v in saved.items() if k not in ("n_anchors", "n_patterns")},
        "format": "linkage.FellegiSunter/2",
        "comparisons": [
            {"scorer": None, "thresholds": [], **c, "kind": c["kind"]} for c in saved["comparisons"]
        ],
        "settings": {
            k: v for k, v in saved["settings"].items() if k not in ("u_sample_size", "seed")
        },
    }
    np.testing.assert_array_equal(
        FellegiSunter.from_dict(v2).match_weight(gamma), model.match_weight(gamma)
    )
    # A model saved before the dependence existed scores as it did then.
    old = {**v2, "format": "linkage.FellegiSunter/1"}
    del old["dependence"], old["settled"]
    without = FellegiSunter(COMPARISONS, joint_unlabelled=False, settled_mixture=False).fit(
        gamma, gamma_random=gamma_random
    )
    np.testing.assert_allclose(
        FellegiSunter.from_dict(old).match_weight(gamma), without.match_weight(gamma)
    )


def test_loading_something_else_says_so(tmp_path: Path) -> None:
    for name, text in (
        ("a.json", "not json"),
        ("b.json", '{"format": "other"}'),
        ("c.json", '{"format": "linkage.FellegiSunter/3"}'),
    ):
        (tmp_path / name).write_text(text)
        with pytest.raises(SchemaError, match=f"^{name}: not a saved"):
            FellegiSunter.load(tmp_path / name)


def test_non_convergence_warns_and_still_fits() -> None:
    rng = np.random.default_rng(4)
    gamma, _ = simulate(5_000, LAMBDA, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = FellegiSunter(COMPARISONS, max_iter=2).fit(gamma, gamma_random=gamma)
    # Each of the three fits warns for itself: candidates, equal numbers, no number.
    said = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert [m.split(":")[0] for m in said] == [
        "candidate pairs",
        "pairs with equal numbers",
        "pairs without a number",
    ]
    assert not model.converged_ and model.n_iter_ == 2


def test_settings_come_from_one_place() -> None:
    # The estimator's keyword parameters are ModelSettings' fields, with its defaults,
    # so that FellegiSunter.from_spec copies nothing by hand.
    model = FellegiSunter(COMPARISONS)
    params = model.get_params()
    assert params.pop("comparisons") == COMPARISONS
    assert params == dataclasses.asdict(ModelSettings())
    spec_model = FellegiSunter.from_spec(
        dataclasses.replace(linkage.presets.enterprises(), model=ModelSettings(max_iter=7, seed=3))
    )
    assert (spec_model.max_iter, spec_model.seed) == (7, 3)


def test_set_params_and_clone() -> None:
    rng = np.random.default_rng(5)
    gamma, _ = simulate(5_000, LAMBDA, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma)
    twin = model.clone()
    assert twin.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        twin.match_weight(gamma)
    # Changing a setting forgets the fit, which no longer matches it.
    assert model.set_params(fix_u=True) is model and model.fix_u
    with pytest.raises(NotFittedError):
        _ = model.lambda_
    with pytest.raises(ConfigError, match="no parameter"):
        model.set_params(colour="red")


def test_contract_errors() -> None:
    model = FellegiSunter(COMPARISONS)
    with pytest.raises(NotFittedError):
        model.match_weight(np.zeros((1, 4), np.int8))
    with pytest.raises(SchemaError, match=r"shape \(n_pairs, 4\)"):
        model.fit(np.zeros((3, 2), np.int8), gamma_random=np.zeros((3, 2), np.int8))
    with pytest.raises(SchemaError, match="levels outside"):
        model.fit(np.full((3, 4), 7, np.int8), gamma_random=np.zeros((3, 4), np.int8))
    assert "kbo, name, postcode, phone" in repr(model)


def test_weight_to_probability_is_stable() -> None:
    np.testing.assert_allclose(
        weight_to_probability(np.array([0.0, 1.0, 2000.0, -2000.0])),
        [0.5, 2 / 3, 1.0, 0.0],
        atol=1e-12,
    )


def test_scoring_in_chunks_gives_the_same_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    from linkage.model import _score

    rng = np.random.default_rng(5)
    gamma, _ = simulate(20_000, LAMBDA, rng)
    gamma_random, _ = simulate(20_000, 0.0, rng)
    model = FellegiSunter(COMPARISONS).fit(gamma, gamma_random=gamma_random)
    whole = model.match_weight(gamma)
    monkeypatch.setattr(_score, "SCORE_CHUNK", 777)
    np.testing.assert_array_equal(model.match_weight(gamma), whole)


@given(
    rows=st.integers(0, 300),
    width=st.integers(1, 9),
    base=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_pattern_counts_are_those_of_a_sort(rows: int, width: int, base: int, seed: int) -> None:
    """Counted per possible pattern (few of them) or by a sort (more of them than rows):
    the distinct packed patterns in order and their counts, as ``np.unique`` gives."""
    levels = np.random.default_rng(seed).integers(-1, base - 1, size=(rows, width))
    gamma = levels.astype(np.int8)
    codes, counts = pattern_counts(gamma, base)
    want_codes, want_counts = np.unique(pack(gamma, base), return_counts=True)
    assert codes.dtype == np.int64 and counts.dtype == np.int64
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(counts, want_counts)
