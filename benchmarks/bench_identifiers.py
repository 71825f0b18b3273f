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


KINDS = {
    "enterprise": (parse_enterprise_numbers, ("enterprises", "employers"), "enterprise_number"),
    "establishment": (
        parse_establishment_numbers,
        ("establishments", "sites"),
        "establishment_number",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_parse_numbers(bench, synthetic_exchange, kind: str) -> None:
    x = synthetic_exchange
    parse, tables, name = KINDS[kind]
    column = pd.concat([getattr(x, t)[name] for t in tables], ignore_index=True)
    out, seconds, peak = bench.run(parse, column, size=x.n_enterprises)
    assert len(out) == len(column)
    bench.record(
        stage=f"identifiers: {kind}",
        size=x.n_enterprises,
        seconds=seconds,
        items=len(column),
        unit="rows",
        peak_mib=peak,
        valid=int(out.notna().sum()),
    )
