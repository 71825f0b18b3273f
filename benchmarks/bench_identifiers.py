"""Identifier parsing: enterprise and establishment-unit numbers of both sides.

Run: ``pytest benchmarks/bench_identifiers.py -q -s``.

The column is both sides of the synthetic exchange at each scale: VLAIO/TBT's
canonical numbers and VDAB's as written (dots, spaces, ``BE`` prefixes, nine digits,
typos, missing), parsed to canonical 10 digits with the mod-97 check.
"""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers

pytestmark = pytest.mark.benchmark


def test_parse_enterprise_numbers(bench, synthetic_exchange) -> None:
    x = synthetic_exchange
    column = pd.concat(
        [x.enterprises["enterprise_number"], x.employers["enterprise_number"]], ignore_index=True
    )
    out, seconds, peak = bench.run(parse_enterprise_numbers, column, size=x.n_enterprises)
    assert len(out) == len(column)
    bench.record(
        stage="identifiers: enterprise",
        size=x.n_enterprises,
        seconds=seconds,
        items=len(column),
        unit="rows",
        peak_mib=peak,
        valid=int(out.notna().sum()),
    )


def test_parse_establishment_numbers(bench, synthetic_exchange) -> None:
    x = synthetic_exchange
    column = pd.concat(
        [x.establishments["establishment_number"], x.sites["establishment_number"]],
        ignore_index=True,
    )
    out, seconds, peak = bench.run(parse_establishment_numbers, column, size=x.n_enterprises)
    assert len(out) == len(column)
    bench.record(
        stage="identifiers: establishment",
        size=x.n_enterprises,
        seconds=seconds,
        items=len(column),
        unit="rows",
        peak_mib=peak,
        valid=int(out.notna().sum()),
    )
