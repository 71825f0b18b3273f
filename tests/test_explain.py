"""Explanations are the scorer's own weights: over every candidate pair of a real run,
term by term, to the last bit; a pair's explanation names the sub-model that scores
it and both records' values; an explanation without the term frequencies the pair was
scored with is refused rather than wrong."""

from __future__ import annotations

import numpy as np
import pytest

import linkage
from linkage.charts import data as cd
from linkage.exceptions import ConfigError
from linkage.model import DEPENDENCE, EQUAL_NUMBERS, NO_NUMBER, OTHER_PAIRS


@pytest.fixture(scope="module", params=[3, 11], ids=lambda s: f"seed{s}")
def run(request):
    exchange = linkage.synthetic.generate(n_enterprises=3_000, seed=request.param)
    result = linkage.link(exchange.enterprises, exchange.employers, linkage.presets.enterprises())
    return exchange, result


def test_explanation_of_every_pair_is_its_scored_weight(run) -> None:
    exchange, result = run
    wide = cd.explain_pairs(result, exchange.enterprises, exchange.employers)
    assert len(wide) == len(result.pairs)
    # Bit for bit, every pair.
    np.testing.assert_array_equal(wide["total"].to_numpy(), result.weights)
    names = [c.name for c in result.spec.comparisons]
    terms = wide[["prior", *names, "dependence"]].to_numpy()
    np.testing.assert_allclose(terms.sum(axis=1), result.weights, rtol=0, atol=1e-9)
    # All three sub-models score pairs in a run on the synthetic exchange.
    assert set(wide["scored_by"]) == {EQUAL_NUMBERS, NO_NUMBER, OTHER_PAIRS}
    # Only pairs without a number have a dependence term.
    assert (wide.loc[wide["scored_by"] != NO_NUMBER, "dependence"] == 0).all()


def test_one_pair_explained_is_its_row_of_every_pair(run) -> None:
    exchange, result = run
    wide = cd.explain_pairs(result, exchange.enterprises, exchange.employers)
    rng = np.random.default_rng(0)
    for by, group in wide.groupby("scored_by"):
        for position in rng.choice(group.index.to_numpy(), size=min(5, len(group)), replace=False):
            table = cd.explain_pair(result, int(position), exchange.enterprises, exchange.employers)
            assert table["weight"].iloc[-1] == result.weights[position]
            assert table.loc[0, "level"] == by
            steps = table.set_index("comparison")["weight"]
            for name in [c.name for c in result.spec.comparisons]:
                assert steps[name] == wide.loc[position, name]
            assert ("dependence" in steps.index) == (by == NO_NUMBER)
            if by == NO_NUMBER:
                assert table.set_index("comparison").loc["dependence", "level"] == DEPENDENCE


def test_explain_pair_shows_both_records(run) -> None:
    exchange, result = run
    position = int(np.flatnonzero(result.linked)[0])
    table = cd.explain_pair(result, position, exchange.enterprises, exchange.employers).set_index(
        "comparison"
    )
    left = exchange.enterprises.iloc[result.pairs.left[position]]
    right = exchange.employers.iloc[result.pairs.right[position]]
    assert table.loc["name", "left"] == str(left["name"])
    assert table.loc["name", "right"] == str(right["name"])
    assert table.loc["prior", "left"] == table.loc["total", "right"] == ""


def test_explain_without_the_scored_term_frequency_is_refused(run) -> None:
    _, result = run
    model = result.model
    name = [c.name for c in result.spec.comparisons].index("name")
    settled = model.explain_pairs(result.gamma[:0]).columns  # no pair: nothing to refuse
    assert "total" in settled
    exact = (result.gamma[:, name] == result.spec.comparisons[name].n_levels - 1) & (
        result.gamma[:, 0] < 0
    )
    position = int(np.flatnonzero(exact)[0])
    with pytest.raises(ConfigError, match=r"term frequency.*explain_pair"):
        model.explain(result.gamma[position])
    with pytest.raises(ConfigError, match="'name'"):
        model.explain_pairs(result.gamma)


def test_waterfall_names_the_dependence_in_words(run) -> None:
    pytest.importorskip("matplotlib")
    from linkage import charts

    exchange, result = run
    wide = cd.explain_pairs(result, exchange.enterprises, exchange.employers)
    position = int(wide["dependence"].abs().idxmax())
    table = cd.explain_pair(result, position, exchange.enterprises, exchange.employers)
    fig = charts.waterfall(table)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert any(t.startswith("dependence\n" + DEPENDENCE) for t in ticks)
    notes = [t for t in fig.texts if t.get_gid() == "dependence_note"]
    assert notes and "whole pattern" in notes[0].get_text().replace("\n", " ")
    # A pair with a number has no dependence bar, and no note.
    other = int(np.flatnonzero(wide["scored_by"] == EQUAL_NUMBERS)[0])
    fig = charts.waterfall(cd.explain_pair(result, other, exchange.enterprises, exchange.employers))
    assert not [t for t in fig.texts if t.get_gid() == "dependence_note"]
