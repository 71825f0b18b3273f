"""Pseudonyms per second, against the limit of HMAC-SHA256.

Run: ``pytest benchmarks/bench_pseudonymise.py -q -s``. ``size`` counts values here
(distinct enterprise numbers), up to a million.

The one unavoidable work per distinct value is the HMAC. Its floor on one core is
printed beside the measurement: a plain ``hmac.digest`` loop over the same canonical
bytes (what most code would write), our loop alone (``hmac_sha256_many``: inner and
outer SHA-256 states copied, RFC 2104), one bare SHA-256 per value in CPython (half of
the work of an HMAC, the floor of a loop), and the column kernel the pseudonyms use
(``hmac_sha256_column``: DataFusion's SHA-256 over Arrow's buffers, no loop here).
"""

from __future__ import annotations

import hashlib
import hmac
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from linkage.keys import KeyRing
from linkage.pseudonymise import hmac_sha256_column, hmac_sha256_many, pseudonymise

pytestmark = pytest.mark.benchmark

SIZES = (10_000, 100_000, 485_000, 1_000_000)
N = max(SIZES)


def enterprise_numbers(n: int, seed: int = 485) -> pd.Series:
    """``n`` distinct valid enterprise numbers (10 digits, check = 97 - base mod 97)."""
    rng = np.random.default_rng(seed)
    base = rng.permutation(np.arange(2_000_000, 19_999_999, 17, dtype=np.int64))[:n]
    numbers = base * 100 + (97 - base % 97)
    return pd.Series(np.char.zfill(numbers.astype("U10"), 10).astype(object), name="kbo")


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def numbers() -> pd.Series:
    return enterprise_numbers(N)


@pytest.fixture(scope="module")
def staff_refs() -> pd.Series:
    """Dossier rows pointing at ~450 staff ids: a column with many repeats."""
    rng = np.random.default_rng(450)
    ids = np.array([f"TBT-{i:05d}" for i in range(450)], dtype=object)
    return pd.Series(ids[rng.integers(0, 450, N)], name="staff")


def _rate(seconds: float, n: int) -> str:
    return f"{seconds:6.3f} s, {n / seconds:>12,.0f} /s"


@pytest.mark.parametrize("size", SIZES)
def test_enterprise_pseudonyms_per_second(bench, ring, numbers, size: int) -> None:
    data = numbers.iloc[:size]
    out, seconds, peak = bench.run(pseudonymise, data, ring, domain="enterprise", size=size)
    assert out.notna().all() and out.is_unique
    bench.record(
        stage="pseudonymise",
        size=size,
        seconds=seconds,
        items=size,
        unit="values",
        peak_mib=peak,
        scale_unit="values",
        note="distinct enterprise numbers",
    )


def test_repeated_ids_per_second(bench, ring, staff_refs) -> None:
    out, seconds, peak = bench.run(pseudonymise, staff_refs, ring, domain="staff", size=N, rounds=3)
    assert out.nunique() == 450
    bench.record(
        stage="pseudonymise: repeats",
        size=N,
        seconds=seconds,
        items=N,
        unit="values",
        peak_mib=peak,
        scale_unit="values",
        note="450 distinct staff ids",
    )


def test_against_the_physical_limit(bench, benchmark, ring, numbers) -> None:
    """The whole column against HMAC alone over the same canonical bytes."""
    key = ring.key("enterprise").reveal()
    messages = [v.encode("ascii") for v in numbers]

    def best(fn) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times)

    full = benchmark.pedantic(
        lambda: pseudonymise(numbers, ring, domain="enterprise"), rounds=3, iterations=1
    )
    assert len(full) == N
    ours = benchmark.stats.stats.min
    stdlib = best(lambda: [hmac.digest(key, m, "sha256") for m in messages])
    kernel = best(lambda: hmac_sha256_many(key, messages))
    sha = best(lambda: [hashlib.sha256(m).digest() for m in messages])
    binary = pa.array(messages, pa.binary())
    column = best(lambda: hmac_sha256_column(key, binary))
    benchmark.extra_info.update(
        pseudonyms_per_s=N / ours,
        hmac_digest_per_s=N / stdlib,
        kernel_per_s=N / kernel,
        column_kernel_per_s=N / column,
    )
    for stage, seconds in (
        ("pseudonymise: hmac.digest", stdlib),
        ("pseudonymise: HMAC kernel", kernel),
        ("pseudonymise: bare SHA-256", sha),
    ):
        bench.record(
            stage=stage,
            size=N,
            seconds=seconds,
            items=N,
            unit="values",
            peak_mib=None,
            scale_unit="values",
            note="floor, one core",
        )
    print(
        f"\n{N:,} distinct enterprise numbers, one core:"
        f"\n  pseudonymise (parse, refuse, dedupe, HMAC, base32): {_rate(ours, N)}"
        f"\n  hmac.digest loop over the canonical bytes:         {_rate(stdlib, N)}"
        f"\n  hmac_sha256_many kernel alone:                     {_rate(kernel, N)}"
        f"\n  one bare SHA-256 per value (half an HMAC):         {_rate(sha, N)}"
        f"\n  hmac_sha256_column (DataFusion), the one used:      {_rate(column, N)}"
        f"\n  HMAC share of the whole: {column / ours:.0%}"
    )
