"""Speed and memory of the synthetic generator.

Run: ``pytest benchmarks/bench_synthetic.py -q -s`` (prints records per second and
peak memory). Full scale is one pedantic round: it takes tens of seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from linkage.synthetic import SyntheticExchange, generate

pytestmark = pytest.mark.benchmark

SIZES = (10_000, 100_000, 485_000)


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"{n // 1000}k")
def test_generate(benchmark, n):
    exchange = benchmark.pedantic(
        generate, kwargs={"n_enterprises": n, "seed": 7}, rounds=1, iterations=1
    )
    records = sum(exchange.counts().values())
    seconds = benchmark.stats.stats.mean
    print(
        f"\ngenerate {n:,} enterprises: {records:,} records in {seconds:.1f} s, "
        f"{records / seconds:,.0f} records/s"
    )


def test_write_parquet(benchmark, synthetic_exchange: SyntheticExchange, tmp_path):
    counter = iter(range(1_000))
    benchmark.pedantic(
        lambda: synthetic_exchange.write(tmp_path / str(next(counter))), rounds=1, iterations=1
    )
    records = sum(synthetic_exchange.counts().values())
    seconds = benchmark.stats.stats.mean
    size = sum(p.stat().st_size for p in (tmp_path / "0").iterdir())
    print(
        f"\nwrite {synthetic_exchange.n_enterprises:,} enterprises: {records / seconds:,.0f} "
        f"records/s, {size / 2**20:.1f} MiB of Parquet"
    )


_PEAK = """
import json, resource, time
from pathlib import Path
from linkage.synthetic import generate
t = time.perf_counter()
x = generate(n_enterprises={n}, seed=7)
s = time.perf_counter() - t
status = Path("/proc/self/status")
if status.exists():  # VmHWM starts afresh at exec; ru_maxrss may carry the parent's peak
    kib = next(int(line.split()[1]) for line in status.read_text().splitlines()
               if line.startswith("VmHWM:"))
else:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": s, "records": sum(x.counts().values()), "peak_mib": kib / 1024}}))
"""


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"{n // 1000}k")
def test_peak_memory(n):
    """Peak resident memory of a fresh process that generates ``n`` enterprises."""
    if sys.platform == "win32":
        pytest.skip("resource is POSIX only")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK.format(n=n)], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\ngenerate {n:,} enterprises in a fresh process: {figures['seconds']:.1f} s, "
        f"peak RSS {figures['peak_mib']:,.0f} MiB "
        f"(with interpreter start: {time.perf_counter() - started:.1f} s)"
    )
    assert figures["peak_mib"] < 4096
