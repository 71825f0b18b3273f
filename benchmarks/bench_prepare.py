"""Normalisation as the pipeline runs it: every field of the enterprise preset.

Run: ``pytest benchmarks/bench_prepare.py -q -s``.

``linkage.prepare.prepare`` makes the derived columns of the ``enterprises`` preset
(number digits, normalised and sorted names, name prefix and tokens, postcode,
address, E.164 phone, e-mail, web host) on both sides of the synthetic exchange.
``bench_normalise.py`` times each normaliser alone on a generated column.
"""

from __future__ import annotations

import pytest

from linkage.prepare import prepare
from linkage.presets import enterprises

pytestmark = pytest.mark.benchmark


def _both(x, fields):
    return (
        prepare(x.enterprises, fields, side="left"),
        prepare(x.employers, fields, side="right"),
    )


def test_prepare_enterprises(bench, synthetic_exchange) -> None:
    x = synthetic_exchange
    fields = enterprises().fields
    (left, right), seconds, peak = bench.run(_both, x, fields, size=x.n_enterprises)
    rows = len(left) + len(right)
    assert rows == len(x.enterprises) + len(x.employers)
    bench.record(
        stage="prepare (normalise)",
        size=x.n_enterprises,
        seconds=seconds,
        items=rows,
        unit="rows",
        peak_mib=peak,
        fields=len(fields),
        field_values_per_s=rows * len(fields) / seconds,
    )
