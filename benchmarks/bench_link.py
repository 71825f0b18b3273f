"""Whole links: enterprises to employers, establishment units to sites.

Run: ``pytest benchmarks/bench_link.py -q -s``.

At scale, on request only (not in the default sizes, nor in CI):
``LINKAGE_BENCH_SIZES=2000000 pytest benchmarks/bench_link.py -q -s -k scale`` links
2,000,000 enterprises (issue 17 "Scale": no more per record than at 485k, peak under
6 GiB, unit precision holding); about 10 minutes and 9 GiB, the generation included.

``linkage.link`` from the raw synthetic tables to links (prepare, block, compare,
fit, score, resolve), with the presets. The establishment link runs within the
enterprise links (``parents=``), computed once per scale outside the timing.
Throughput is input records (both sides) per second; precision, recall and F1
against the synthetic truth are recorded beside it, and for the enterprises the same
over the employers without an enterprise number (issue 17: recall >= 0.99).
"""

from __future__ import annotations

import os

import pytest

import linkage
from linkage.evaluate import link_quality
from linkage.pipeline import ParentLinks
from linkage.presets import enterprises, establishments

pytestmark = pytest.mark.benchmark

ENT = ("enterprise_number", "employer_id")
EST = ("establishment_number", "site_id")
#: Sizes run only when LINKAGE_BENCH_SIZES names them.
SCALE_SIZES = (2_000_000,)


@pytest.fixture(scope="session")
def enterprise_links(synthetic_exchange):
    x = synthetic_exchange
    return linkage.link(x.enterprises, x.employers, enterprises())


def _record(bench, task, x, result, seconds, peak, truth, on, records, extra=None) -> None:
    """One whole link's figures: throughput, memory, quality and seconds per stage."""
    q = link_quality(result.links, truth, on=on)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
    extra = extra or {}
    bench.record(
        stage=f"link: {task}",
        size=x.n_enterprises,
        seconds=seconds,
        items=records,
        unit="records",
        peak_mib=peak,
        pairs=len(result.pairs),
        links=len(result.links),
        timings=result.timings,
        **q.to_dict(),
        **extra,
        note=f"F1 {q.f1:.4f} (P {q.precision:.4f}, R {q.recall:.4f}); {stages}",
    )


def _without_number(x, result) -> dict[str, float]:
    """Quality over the employers whose enterprise number is empty."""
    none = x.employers["enterprise_number"].isna()
    ids = set(x.employers["employer_id"][none])
    links = result.links[result.links["employer_id"].isin(ids)]
    truth = x.truth_enterprises[x.truth_enterprises["employer_id"].isin(ids)]
    q = link_quality(links, truth, on=ENT)
    return {f"without_number_{k}": v for k, v in q.to_dict().items()}


def test_link_enterprises(bench, synthetic_exchange) -> None:
    x = synthetic_exchange
    result, seconds, peak = bench.run(
        linkage.link, x.enterprises, x.employers, enterprises(), size=x.n_enterprises
    )
    _record(
        bench,
        "enterprises",
        x,
        result,
        seconds,
        peak,
        x.truth_enterprises,
        ENT,
        len(x.enterprises) + len(x.employers),
        extra=_without_number(x, result),
    )


def test_link_establishments(bench, synthetic_exchange, enterprise_links) -> None:
    x = synthetic_exchange
    parents = ParentLinks.of(enterprise_links)
    result, seconds, peak = bench.run(
        linkage.link,
        x.establishments,
        x.sites,
        establishments(),
        parents=parents,
        size=x.n_enterprises,
    )
    _record(
        bench,
        "establishments",
        x,
        result,
        seconds,
        peak,
        x.truth_establishments,
        EST,
        len(x.establishments) + len(x.sites),
    )


@pytest.mark.parametrize("size", SCALE_SIZES, ids=lambda n: f"{n // 1000}k")
def test_link_at_scale(bench, synthetic_factory, size) -> None:
    """Both links at a size over the default ones, each timed once."""
    asked = os.environ.get("LINKAGE_BENCH_SIZES", "").replace("_", "").split(",")
    if str(size) not in asked:
        pytest.skip(f"{size:,} enterprises only on request: LINKAGE_BENCH_SIZES={size}")
    x = synthetic_factory(size)
    result, seconds, peak = bench.run(
        linkage.link, x.enterprises, x.employers, enterprises(), size=size
    )
    records = len(x.enterprises) + len(x.employers)
    extra = _without_number(x, result)
    _record(
        bench, "enterprises", x, result, seconds, peak, x.truth_enterprises, ENT, records, extra
    )
    units = linkage.link(
        x.establishments, x.sites, establishments(), parents=ParentLinks.of(result)
    )
    q = link_quality(units.links, x.truth_establishments, on=EST)
    print(f"units -> sites at {size:,}: P {q.precision:.6f} R {q.recall:.6f} F1 {q.f1:.6f}")
