"""Linkage on encodings beside the clear mode: encode, link, attack.

Run: ``LINKAGE_BENCH_SIZES=20000,100000 pytest benchmarks/bench_encoding.py -q -s``
(sizes 20k / 100k / 485k enterprises; 485k takes a few GiB). With
``LINKAGE_BENCH_JSON=benchmarks/results.json LINKAGE_BENCH_KEY=encoding`` the rows go
to ``results.json`` under ``encoding`` (RESULTS.md and the performance notebook).

* ``encode``: both parties' tables to encodings (``linkage.encoding.encode``, the
  enterprise preset, default hardening): records per second, with the prepare stage
  and the encoding itself (tokens, blocking bands, filters) apart, and the encoding's
  records per CPU second (per core: it runs on one); with the synthetic names as
  generated (about half of them distinct) and with every name made distinct by a
  word of its own;
* ``link (encoded)`` and ``link (clear)``: the enterprise link on the encodings and
  on the clear tables, with precision / recall / F1 against the synthetic truth and
  the recall on employers without an enterprise number;
* ``link: units``: establishments to sites within their linked enterprises, on
  encodings (parents: the encoded enterprise link) and clear (parents: the clear one),
  F1 against the synthetic truth;
* ``attack``: the pattern-mining attack on the name filters, unhardened (no BLIP, a
  fixed count of positions per q-gram, bands across the file) and hardened (the
  defaults), the frequency alignment on the blocking bands, and the F1 of the link
  on unhardened encodings (what the hardening costs).
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest

import linkage
from linkage.encoding import EncodingParams, attack_encoded, encode, link_encoded
from linkage.evaluate import link_quality
from linkage.keys import KeyRing
from linkage.pipeline import ParentLinks
from linkage.presets import enterprises, establishments

pytestmark = pytest.mark.benchmark

SIZES = (20_000, 100_000, 485_000)
ON = ("enterprise_number", "employer_id")
UNITS_ON = ("establishment_number", "site_id")
_ENCODED: dict[tuple[int, str], tuple[object, object]] = {}


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="bench-encoding")


def _encodings(x, ring, size: int, hardening: str = "default"):
    key = (size, hardening)
    if key not in _ENCODED:
        _ENCODED.clear()  # one size's encodings at a time
        # Unhardened: no BLIP, a fixed count of positions per q-gram, bands across the
        # whole file (a plain keyed CLK-like encoding).
        plain = EncodingParams(flip=0.0, target_bits=0, lsh_salt=None)
        params = EncodingParams() if hardening == "default" else plain
        spec = enterprises()
        _ENCODED[key] = (
            encode(x.enterprises, spec, ring, params=params),
            encode(x.employers, spec, ring, params=params),
        )
    return _ENCODED[key]


def _no_number_recall(links, x) -> float:
    without = x.employers.loc[x.employers["enterprise_number"].isna(), "employer_id"]
    truth = x.truth_enterprises[x.truth_enterprises["employer_id"].isin(without)]
    return link_quality(links[links["employer_id"].isin(without)], truth, on=ON).recall


def _record_link(bench, stage, size, seconds, peak, result, q, items, **extra) -> None:
    """One link's row: time, memory, pairs, quality (and ``extra`` figures)."""
    note = f"F1 {q.f1:.4f} (P {q.precision:.4f}, R {q.recall:.4f}); "
    if "no_number_recall" in extra:
        note += f"no number: R {extra['no_number_recall']:.4f}; "
    note += f"{len(result.pairs):,} pairs"
    if "timings" in extra:
        note += "; " + ", ".join(f"{k} {v:.2f}" for k, v in extra["timings"].items())
    bench.record(
        stage=stage,
        size=size,
        seconds=seconds,
        items=items,
        unit="records",
        peak_mib=peak,
        pairs=len(result.pairs),
        links=len(result.links),
        **extra,
        **q.to_dict(),
        note=note,
    )


def _distinct_names(table: pd.DataFrame, tag: str) -> pd.DataFrame:
    """``table`` with every name made distinct, as a register's names mostly are: the
    record's own word appended (a word no other name shares: the costliest case)."""
    suffix = pd.Series(range(len(table)), index=table.index).astype(str)
    return table.assign(name=table["name"].astype(str) + f" {tag}" + suffix)


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
@pytest.mark.parametrize("names", ["as generated", "every name distinct"])
def test_encode(bench, synthetic_factory, ring, size: int, names: str) -> None:
    x = synthetic_factory(size)
    spec = enterprises()
    left_table, right_table = x.enterprises, x.employers
    if names == "every name distinct":
        left_table = _distinct_names(left_table, "a")
        right_table = _distinct_names(right_table, "b")

    def both():
        return encode(left_table, spec, ring), encode(right_table, spec, ring)

    (left, right), seconds, peak = bench.run(both, size=size)
    records = len(x.enterprises) + len(x.employers)
    steps = {k: left.timings.get(k, 0) + right.timings.get(k, 0) for k in left.timings}
    bench.record(
        stage="encode (both parties)" + ("" if names == "as generated" else f", {names}"),
        size=size,
        seconds=seconds,
        items=records,
        unit="records",
        peak_mib=peak,
        timings=steps,
        encode_records_per_s=records / steps["encode"],
        encode_records_per_cpu_s=records / steps["encode_cpu"],
        note=f"encoding alone {records / steps['encode']:,.0f} records/s, "
        f"{records / steps['encode_cpu']:,.0f} per core (CPU seconds); "
        + ", ".join(f"{k} {v:.2f}" for k, v in steps.items() if not k.endswith("_cpu")),
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
@pytest.mark.parametrize("mode", ["encoded", "clear"])
def test_link_enterprises(bench, synthetic_factory, ring, size: int, mode: str) -> None:
    x = synthetic_factory(size)
    logging.getLogger("linkage").setLevel(logging.ERROR)  # one line per oversized band
    if mode == "encoded":
        left, right = _encodings(x, ring, size)
        result, seconds, peak = bench.run(link_encoded, left, right, size=size)
    else:
        result, seconds, peak = bench.run(
            linkage.link, x.enterprises, x.employers, enterprises(), size=size
        )
    q = link_quality(result.links, x.truth_enterprises, on=ON)
    _record_link(
        bench,
        f"link: enterprises ({mode})",
        size,
        seconds,
        peak,
        result,
        q,
        len(x.enterprises) + len(x.employers),
        no_number_recall=_no_number_recall(result.links, x),
        timings=result.timings,
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
@pytest.mark.parametrize("mode", ["encoded", "clear"])
def test_link_units(bench, synthetic_factory, ring, size: int, mode: str) -> None:
    x = synthetic_factory(size)
    spec = establishments()
    logging.getLogger("linkage").setLevel(logging.ERROR)
    if mode == "encoded":
        parents = link_encoded(*_encodings(x, ring, size)).links
        left = encode(x.establishments, spec, ring, keep=("enterprise_number",))
        right = encode(x.sites, spec, ring, keep=("employer_id",))
        result, seconds, peak = bench.run(
            link_encoded, left, right, parents=(parents, *ON), size=size
        )
    else:
        clear = ParentLinks.of(linkage.link(x.enterprises, x.employers, enterprises()))
        result, seconds, peak = bench.run(
            linkage.link, x.establishments, x.sites, spec, parents=clear, size=size
        )
    q = link_quality(result.links, x.truth_establishments, on=UNITS_ON)
    _record_link(
        bench,
        f"link: units ({mode})",
        size,
        seconds,
        peak,
        result,
        q,
        len(x.establishments) + len(x.sites),
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
def test_attack(bench, synthetic_factory, ring, size: int) -> None:
    x = synthetic_factory(size)
    spec = enterprises()
    left, right = _encodings(x, ring, size, "none")
    logging.getLogger("linkage").setLevel(logging.ERROR)
    f1_unhardened = link_quality(link_encoded(left, right).links, x.truth_enterprises, on=ON).f1
    unhardened = attack_encoded(left, x.enterprises, spec)
    hardened, seconds, peak = bench.run(
        attack_encoded, _encodings(x, ring, size)[0], x.enterprises, spec, size=size, rounds=1
    )
    found = {"none": unhardened, "default": hardened, "f1_unhardened": f1_unhardened}
    none, hard = found["none"]["pattern_mining"], found["default"]["pattern_mining"]
    frequency = found["default"]["frequency"]
    unique = found["default"].get("frequency_unique", frequency)
    bench.record(
        stage="attack: names (mining)",
        size=size,
        seconds=seconds,
        items=hard.attacked,
        unit="filters",
        peak_mib=peak,
        reidentified_unhardened=none.share,
        reidentified_hardened=hard.share,
        reidentified_bands=frequency.share,
        reidentified_bands_across=unique.share,
        f1_unhardened=found["f1_unhardened"],
        note=f"re-identified: unhardened {100 * none.share:.3f} % ({none}), hardened "
        f"{100 * hard.share:.3f} % ({hard}); frequency alignment on the bands "
        f"{100 * frequency.share:.3f} % (across postcodes {100 * unique.share:.3f} %); "
        f"F1 unhardened {found['f1_unhardened']:.4f}",
    )
