"""Bounded and order-free on hostile input: row order, a huge parent block.

The figures (time and memory of a 20,000 x 20,000 parent block, tied resolution,
giant fields) are in ``benchmarks/bench_resources.py``; here the behaviour: the same
records in another order give the same weights and links, and a parent block over
the cap is split and what it leaves out reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage.blocking import PARENT_BLOCK_PAIRS
from linkage.pipeline import LinkResult, ParentLinks
from linkage.presets import enterprises, establishments


@pytest.fixture(scope="module")
def sample() -> linkage.synthetic.SyntheticExchange:
    return linkage.synthetic.load_sample()


def _weights(result: LinkResult) -> pd.Series:
    scored = result.scored_pairs()
    return scored.set_index(["left_id", "right_id"])["match_weight"].sort_index()


def _links(result: LinkResult) -> pd.DataFrame:
    return result.links.sort_values(list(result.links.columns[:2])).reset_index(drop=True)


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_same_records_in_another_order_give_the_same_weights(sample, seed) -> None:
    # Before, the random pairs that estimate u were drawn by row, windows of equal
    # names were cut by row and tied pairs were resolved by row: shuffled employers
    # gave the same links but changed every weight (6,085 of 6,085 pairs here).
    x = sample
    ent = linkage.link(x.enterprises, x.employers, enterprises())
    units = linkage.link(x.establishments, x.sites, establishments(), parents=ParentLinks.of(ent))
    ent_shuffled = linkage.link(
        _shuffled(x.enterprises, seed), _shuffled(x.employers, seed + 10), enterprises()
    )
    units_shuffled = linkage.link(
        _shuffled(x.establishments, seed + 20),
        _shuffled(x.sites, seed + 30),
        establishments(),
        parents=ParentLinks.of(ent_shuffled),
    )
    for before, after in ((ent, ent_shuffled), (units, units_shuffled)):
        pd.testing.assert_series_equal(_weights(before), _weights(after), check_exact=True)
        pd.testing.assert_frame_equal(_links(before), _links(after), check_exact=True)


def test_a_parent_block_over_the_cap_is_split_by_postcode_and_reported(sample, caplog) -> None:
    # 1,100 units of one enterprise, 1,100 sites of the employer it is linked to:
    # 1,210,000 pairs within the parent, over the cap. Uncapped, 5,000 a side took
    # 2 GB and 20,000 a side ran out of memory.
    x = sample
    n = 1_100
    truth = x.truth_establishments.head(n)
    units = x.establishments.set_index("establishment_number").loc[truth["establishment_number"]]
    sites = x.sites.set_index("site_id").loc[truth["site_id"]]
    units = units.reset_index().assign(enterprise_number="0200000000")
    sites = sites.reset_index().assign(employer_id="W00000000")
    parents = ParentLinks(
        links=pd.DataFrame({"enterprise_number": ["0200000000"], "employer_id": ["W00000000"]}),
        left_parent="enterprise_number",
        right_parent="employer_id",
    )
    assert n * n > PARENT_BLOCK_PAIRS
    with caplog.at_level("WARNING", logger="linkage.blocking"):
        result = linkage.link(units, sites, establishments(), parents=parents)
    skipped = result.pairs.skipped["within linked parent"]
    assert 0 < skipped < n * n
    assert len(result.pairs) < n * n - skipped + 50_000  # what the other rules add
    assert (
        f"blocking rule within linked parent: skipped {skipped:,} pairs in blocks over "
        f"{PARENT_BLOCK_PAIRS:,} pairs (after splitting them by postcode)" in caplog.text
    )
    assert f"skipped {skipped:,} pairs of oversized blocks in within linked parent" in (
        result.summary()
    )
    # Within a postcode every unit still meets every site: nearly all true pairs link.
    found = result.links.merge(truth, on=["establishment_number", "site_id"])
    assert len(found) >= 0.9 * n
    # Pairs of units and sites with the same postcode were all proposed.
    lp = units["postcode"].to_numpy()[result.pairs.left]
    rp = sites["postcode"].to_numpy()[result.pairs.right]
    same = int(
        (
            units["postcode"].value_counts()
            * sites["postcode"].value_counts().reindex(units["postcode"].unique(), fill_value=0)
        ).sum()
    )
    assert int(np.sum(lp == rp)) >= same
