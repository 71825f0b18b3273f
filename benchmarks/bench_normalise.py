"""Throughput of linkage.normalise on generated Flemish-looking columns.

Run: ``pytest benchmarks/bench_normalise.py -q -s`` (prints rows per second and peak
memory). ``size`` is rows here; the whole normalisation of the synthetic exchange, as
the pipeline runs it, is in ``bench_prepare.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pytest

from linkage.normalise import (
    normalise_emails,
    normalise_names,
    normalise_phones,
    normalise_postcodes,
    normalise_websites,
    split_address,
)

pytestmark = pytest.mark.benchmark

SIZES = (10_000, 100_000, 485_000)
N = max(SIZES)

_SURNAMES = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De",
    "Smet",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Hermans",
    "Van",
    "den",
    "Broeck",
    "Desmet",
    "Vermeulen",
    "Pauwels",
    "Mommaerts",
    "Lemaire",
    "Müller",
    "Geerts",
    "Coppens",
    "Lenaerts",
    "D'Hondt",
    "Van",
    "Damme",
    "Verstraete",
    "Cools",
    "Smets",
]
_TRADES = [
    "Bakkerij",
    "Slagerij",
    "Bouw",
    "Transport",
    "Garage",
    "Brouwerij",
    "Schrijnwerkerij",
    "Elektro",
    "Dakwerken",
    "Kapsalon",
    "Apotheek",
    "Boekhouding",
    "Consult",
    "Immo",
    "Tuinaanleg",
    "Schilderwerken",
    "Loodgieterij",
    "Drukkerij",
    "Architecten",
    "Advocaten",
    "Frituur",
    "Café",
    "Hôtel",
    "Établissements",
]
_EXTRAS = ("", "", "", "& Zonen", "en Zonen", "& Co", "Het Anker", "De Linde", "Group", "Belgium")
_FORMS = ("BV", "B.V.", "BVBA", "B.V.B.A.", "NV", "N.V.", "CommV", "Comm. V.", "VOF", "CVBA",
          "VZW", "SRL", "SA", "S.A.", "SPRL", "S.P.R.L.", "ASBL", "", "", "")  # fmt: skip
_STREETS = [
    "Kerk",
    "Stations",
    "Molen",
    "Dorp",
    "School",
    "Nieuw",
    "Hoog",
    "Beek",
    "Kapel",
    "Linden",
    "Eiken",
    "Kouter",
    "Veld",
    "Heide",
    "Bosch",
    "Markt",
    "Brugse",
    "Gentse",
    "Antwerpse",
    "Mechelse",
    "Leuvense",
    "Kortrijkse",
    "Koning",
    "Albert",
    "Sint-Jans",
]
_TYPES = ("straat", "str.", "str", "laan", "ln.", "steenweg", " stwg", " Steenweg", "plein",
          "pl.", "dreef", "dr.", "kaai", "lei", "weg", "baan")  # fmt: skip
_BOXES = ("", "", "", "", " bus 1", " bus 3", "/2", " b2", " bte 4", " boîte 1", " B", " A")
_PHONES = ("0{a} {b} {c} {d}", "+32 {a} {b} {c} {d}", "+32 (0){a} {b}.{c}.{d}",
           "0032{a}{b}{c}{d}", "0{a}/{b}.{c}.{d}")  # fmt: skip


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


@pytest.fixture(scope="module")
def columns() -> dict[str, pd.Series]:
    """Generated once per module, seeded: names, address lines, phones and more."""
    rng = np.random.default_rng(485_000)
    cat = pd.Series(_pick(rng, _SURNAMES, N))
    ids = pd.Series(rng.integers(1, 2_000, N).astype(str))
    form = pd.Series(_pick(rng, _FORMS, N))
    front = pd.Series(rng.random(N) < 0.2)
    body = pd.Series(_pick(rng, _TRADES, N)).str.cat(
        [cat, pd.Series(_pick(rng, _EXTRAS, N)), ids.where(rng.random(N) < 0.5, "")], sep=" "
    )
    names = (form + " " + body).where(front, body + " " + form).str.strip()

    street = pd.Series(_pick(rng, _STREETS, N)) + pd.Series(_pick(rng, _TYPES, N))
    number = pd.Series(rng.integers(1, 400, N).astype(str))
    letter = pd.Series(_pick(rng, ("", "", "", "", "", "A", "b"), N))
    lines = street + " " + number + letter + pd.Series(_pick(rng, _BOXES, N))

    # about 60,000 distinct numbers, each written in several ways
    pool = rng.integers(0, 60_000, N)
    area = np.where(pool % 3 == 0, "475", np.where(pool % 3 == 1, "9", "2"))
    digits = (pool * 7919 % 1_000_000).astype(str)
    digits = pd.Series(digits).str.zfill(6)
    fmt = _pick(rng, _PHONES, N)
    phones = pd.Series(
        [
            f.format(a=a, b="2" + d[:2], c=d[2:4], d=d[4:])
            for f, a, d in zip(fmt, area, digits, strict=True)
        ]
    )

    postcodes = pd.Series(rng.integers(1000, 10_000, N).astype(str))
    postcodes = ("B-" + postcodes).where(rng.random(N) < 0.3, postcodes)
    host = cat.str.lower().str.replace(r"\W+", "", regex=True) + ids
    emails = "Info@" + host + ".be"
    websites = "https://www." + host + ".be/contact"
    return {
        "names": names,
        "lines": lines,
        "phones": phones,
        "postcodes": postcodes,
        "emails": emails,
        "websites": websites,
    }


_CASES: dict[str, tuple[str, Callable[[pd.Series], object]]] = {
    "names": ("names", normalise_names),
    "addresses": ("lines", split_address),
    "phones": ("phones", normalise_phones),
    # what the "phone" preparer runs: every possible number kept, validity apart
    "phones_possible": ("phones", partial(normalise_phones, keep="possible")),
    "postcodes": ("postcodes", normalise_postcodes),
    "emails": ("emails", normalise_emails),
    "websites": ("websites", normalise_websites),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", list(_CASES))
def test_normalise_throughput(bench, columns, case: str, size: int) -> None:
    column, fn = _CASES[case]
    data = columns[column].iloc[:size]
    out, seconds, peak = bench.run(fn, data, size=size)
    assert len(out) == size
    distinct = int(data.nunique())
    bench.record(
        stage=f"normalise: {case}",
        size=size,
        seconds=seconds,
        items=size,
        unit="rows",
        peak_mib=peak,
        scale_unit="rows",
        distinct=distinct,
        note=f"({distinct:,} distinct)",
    )
