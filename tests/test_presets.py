"""The exchange presets end to end on the committed synthetic sample."""

from __future__ import annotations

import pandas as pd
import pytest

import linkage
from linkage.evaluate import link_quality
from linkage.pipeline import ParentLinks, link


@pytest.fixture(scope="module")
def sample() -> linkage.synthetic.SyntheticExchange:
    return linkage.synthetic.load_sample()


@pytest.fixture(scope="module")
def enterprise_links(sample):
    return link(sample.enterprises, sample.employers, linkage.presets.enterprises())


def test_enterprises_meet_the_quality_target(sample, enterprise_links) -> None:
    quality = link_quality(
        enterprise_links.links, sample.truth_enterprises, on=("enterprise_number", "employer_id")
    )
    assert quality.f1 >= 0.99, quality
    # EM lands near the true share of matches among the candidate pairs.
    truth = set(
        zip(
            sample.truth_enterprises.enterprise_number,
            sample.truth_enterprises.employer_id,
            strict=True,
        )
    )
    pairs = enterprise_links.scored_pairs()
    is_true = pd.Series(
        [(a, b) in truth for a, b in zip(pairs.left_id, pairs.right_id, strict=True)]
    )
    assert enterprise_links.model.lambda_ == pytest.approx(is_true.mean(), abs=0.02)
    # So does the prior of the pairs without a number, scored by their joint pattern.
    no_number = pairs["gamma_number"].to_numpy() < 0
    assert enterprise_links.model.params_.joint.share == pytest.approx(
        is_true[no_number].mean(), abs=0.02
    )


def test_units_linked_within_their_employer(sample, enterprise_links) -> None:
    parents = ParentLinks.of(enterprise_links)
    units = link(
        sample.establishments, sample.sites, linkage.presets.establishments(), parents=parents
    )
    quality = link_quality(
        units.links, sample.truth_establishments, on=("establishment_number", "site_id")
    )
    assert quality.f1 >= 0.98, quality
    # No unit lands on a site of an employer other than its enterprise's.
    unit_parent = sample.establishments.set_index("establishment_number")["enterprise_number"]
    site_parent = sample.sites.set_index("site_id")["employer_id"]
    employer_of = enterprise_links.links.set_index("enterprise_number")["employer_id"]
    linked = units.links.assign(
        employer=units.links["establishment_number"].map(unit_parent).map(employer_of),
        site_employer=units.links["site_id"].map(site_parent),
    ).dropna(subset=["employer"])
    assert (linked["employer"] == linked["site_employer"]).all()


def test_column_mapping_reads_other_names(sample) -> None:
    renamed = sample.employers.rename(columns={"name": "naam", "postcode": "postnummer"})
    spec = linkage.presets.enterprises(right_columns={"name": "naam", "postcode": "postnummer"})
    mapped = link(sample.enterprises, renamed, spec)
    plain = link(sample.enterprises, sample.employers, linkage.presets.enterprises())
    pd.testing.assert_frame_equal(mapped.links, plain.links)


def test_preset_by_name() -> None:
    assert linkage.presets.get("enterprises").left_id == "enterprise_number"
    with pytest.raises(
        linkage.ConfigError, match="no preset 'x'; choose one of enterprises, establishments"
    ):
        linkage.presets.get("x")
