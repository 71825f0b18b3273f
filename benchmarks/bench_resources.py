"""Bounded resources on hostile input: a huge parent block, tied weights, giant fields.

Run: ``pytest benchmarks/bench_resources.py -q -s`` (prints seconds and peak memory).

* ``parent block``: one enterprise with ``units`` establishment units linked to one
  employer with as many sites (the units and their true sites of a 30,000-enterprise
  synthetic exchange, all given the one parent), linked with the ``establishments``
  preset within that parent link. Uncapped, the "within linked parent" rule paired
  every unit with every site (5,000: 25 million pairs).
* ``tied resolution``: one-to-one resolution of ``tied`` left by ``tied`` right
  records, every pair at the same weight (``tied`` squared pairs).
* ``long field``: one value of ``chars`` characters among 10,000 ordinary ones, a
  company name (legal-form words, the worst case of the form-stripping rounds) and
  an address box ("bus bus ... 3", the worst case of the box-word rounds).

Sizes are this module's own (``units``, ``tied``, ``chars``), not the enterprise
scales of ``LINKAGE_BENCH_SIZES``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage.normalise import normalise_address, normalise_names
from linkage.pipeline import ParentLinks
from linkage.presets import establishments
from linkage.resolve import one_to_one

pytestmark = pytest.mark.benchmark

PARENT_SIZES = (5_000, 10_000, 20_000)
TIED_SIZES = (1_000, 2_000, 10_000)


@pytest.fixture(scope="module")
def chain_source(synthetic_factory):
    """Units and their true sites (in truth order), from which each size takes the first."""
    x = synthetic_factory(30_000)
    truth = x.truth_establishments
    units = x.establishments.set_index("establishment_number").loc[truth["establishment_number"]]
    sites = x.sites.set_index("site_id").loc[truth["site_id"]]
    return units.reset_index(), sites.reset_index()


def one_parent(chain_source, n: int) -> tuple[pd.DataFrame, pd.DataFrame, ParentLinks]:
    """``n`` units of one enterprise, ``n`` sites of the one employer it is linked to."""
    units, sites = (frame.head(n).copy() for frame in chain_source)
    assert len(units) == n, f"the source holds {len(units):,} units, not {n:,}"
    units["enterprise_number"] = "0200000000"
    sites["employer_id"] = "W00000000"
    parents = ParentLinks(
        links=pd.DataFrame({"enterprise_number": ["0200000000"], "employer_id": ["W00000000"]}),
        left_parent="enterprise_number",
        right_parent="employer_id",
    )
    return units, sites, parents


@pytest.mark.parametrize("units", PARENT_SIZES, ids=lambda n: f"{n // 1000}k")
def test_parent_block(bench, chain_source, units: int) -> None:
    left, right, parents = one_parent(chain_source, units)
    result, seconds, peak = bench.run(
        linkage.link, left, right, establishments(), parents=parents, size=units, rounds=1
    )
    skipped = sum(result.pairs.skipped.values())
    # Unit i and site i are a true pair (both come from the truth table, in its order).
    true = int(
        (
            result.links["establishment_number"].to_numpy()
            == left["establishment_number"].to_numpy()[
                pd.Index(right["site_id"]).get_indexer(result.links["site_id"])
            ]
        ).sum()
    )
    bench.record(
        stage="parent block",
        size=units,
        scale_unit="units a side",
        seconds=seconds,
        items=2 * units,
        unit="records",
        peak_mib=peak,
        pairs=len(result.pairs),
        skipped=skipped,
        links=len(result.links),
        true_links=true,
        note=(
            f"{len(result.pairs):,} pairs, {skipped:,} skipped, "
            f"{len(result.links):,} links of which {true:,} true"
        ),
    )


@pytest.mark.parametrize("tied", TIED_SIZES, ids=lambda n: f"{n // 1000}k")
def test_tied_resolution(bench, tied: int) -> None:
    left, right = (a.astype(np.int32) for a in np.divmod(np.arange(tied * tied), tied))
    weight = np.full(tied * tied, 5.0)
    chosen, seconds, peak = bench.run(one_to_one, left, right, weight, size=tied, rounds=1)
    assert chosen.sum() == tied
    bench.record(
        stage="tied resolution",
        size=tied,
        scale_unit="records a side",
        seconds=seconds,
        items=tied * tied,
        unit="pairs",
        peak_mib=peak,
        links=int(chosen.sum()),
        note=f"{int(chosen.sum()):,} links",
    )


def _ordinary(n: int) -> pd.Series:
    rng = np.random.default_rng(7)
    words = np.array(["Peeters", "Bakkerij", "Bouw", "Maes", "Transport", "NV", "BV", "Immo"])
    return pd.Series([" ".join(w) for w in rng.choice(words, size=(n, 3))])


@pytest.mark.parametrize("chars", (100_000, 1_000_000), ids=lambda n: f"{n // 1000}KB")
def test_long_name(bench, chars: int) -> None:
    half = chars // 12
    names = pd.concat([_ordinary(10_000), pd.Series(["comm " * half + "v " * half])])
    out, seconds, peak = bench.run(normalise_names, names, size=chars, rounds=1)
    bench.record(
        stage="long field: name",
        size=chars,
        scale_unit="characters",
        seconds=seconds,
        items=len(names),
        unit="values",
        peak_mib=peak,
        note=f"long value -> {out.iloc[-1]!r:.40}",
    )


@pytest.mark.parametrize("chars", (100_000, 1_000_000), ids=lambda n: f"{n // 1000}KB")
def test_long_box(bench, chars: int) -> None:
    n = 10_000
    street = pd.Series(["Kerkstraat"] * (n + 1))
    number = pd.Series(np.arange(1, n + 2).astype(str))
    box = pd.Series([str(i % 20) for i in range(n)] + ["bus " * (chars // 4) + "3"])
    out, seconds, peak = bench.run(normalise_address, street, number, box, size=chars, rounds=1)
    bench.record(
        stage="long field: box",
        size=chars,
        scale_unit="characters",
        seconds=seconds,
        items=n + 1,
        unit="values",
        peak_mib=peak,
        note=f"long value -> {out['box'].iloc[-1]!r:.40}",
    )
