"""Shared benchmark data and measurement: synthetic exchanges at 10k / 100k / 485k.

Data
    ``synthetic_exchange`` is a session fixture parametrised over the selected sizes
    (enterprises), generated once per size per session (seed 7); pytest orders the
    tests so that all tests of one size run together, and only one size's stage
    inputs are held at a time. ``synthetic_factory(n)`` gives any size from the same
    cache (the two most recently used sizes stay in memory). ``stage_inputs`` holds
    the input of every stage of the enterprise link at that size, built once with
    the stage functions and the ``enterprises`` preset.

Sizes
    ``LINKAGE_BENCH_SIZES=10000,485000`` keeps only those sizes: in every module, a
    test parametrised by a size (``size``, ``n`` or the ``synthetic_exchange``
    fixture) at another size is deselected. Unset: 10k, 100k and 485k.

Memory
    :func:`measured` reports the peak resident memory (RSS) a call added to the
    process: on Linux the kernel's high-water mark (``VmHWM``) is reset to the
    current RSS before the call (``/proc/self/clear_refs``, value 5) and read after
    it, so every allocation counts (numpy, Arrow, rapidfuzz, DuckDB, not just Python
    objects as with tracemalloc), however briefly it lived. It is growth over what
    the process already held, the inputs included, measured in the first round of a
    benchmark; times are the fastest round (one round at 485k). Before the call, freed memory is
    handed back to the system (``malloc_trim``, Arrow's ``release_unused``) so that
    reusing it counts too; what an allocator keeps for itself during the call is
    counted as used, which is what it costs the machine.

Output
    Every benchmark calls :func:`record`: one printed line, ``benchmark.extra_info``
    (seconds, throughput, ``peak_mib``), and a row of the table printed at the end of
    the session. ``LINKAGE_BENCH_JSON=benchmarks/results.json`` also writes the rows
    into that file under ``"stages"`` (other keys are kept), or under the key
    ``LINKAGE_BENCH_KEY`` names: ``encoding`` for ``bench_encoding.py`` alone.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _provenance
import numpy as np
import pytest

from linkage.synthetic import SyntheticExchange, generate

SIZES = (10_000, 100_000, 485_000)
SEED = 7
_KEEP = 2
_SIZE_PARAMS = ("size", "n", "n_enterprises", "synthetic_exchange")

# ---------------------------------------------------------------------- sizes


def selected_sizes() -> tuple[int, ...] | None:
    """The sizes of ``LINKAGE_BENCH_SIZES``, or None for all."""
    raw = os.environ.get("LINKAGE_BENCH_SIZES", "").replace("_", "").strip()
    if not raw:
        return None
    return tuple(int(float(s)) for s in raw.split(",") if s.strip())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = selected_sizes()
    if wanted is None:
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        sizes = [v for k, v in params.items() if k in _SIZE_PARAMS and isinstance(v, int)]
        (drop if any(s not in wanted for s in sizes) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---------------------------------------------------------------------- data


@pytest.fixture(scope="session")
def synthetic_factory() -> Callable[[int], SyntheticExchange]:
    cache: OrderedDict[int, SyntheticExchange] = OrderedDict()

    def get(n_enterprises: int) -> SyntheticExchange:
        if n_enterprises in cache:
            cache.move_to_end(n_enterprises)
        else:
            cache[n_enterprises] = generate(n_enterprises=n_enterprises, seed=SEED)
            while len(cache) > _KEEP:
                cache.popitem(last=False)
        return cache[n_enterprises]

    return get


@pytest.fixture(scope="session", params=SIZES, ids=lambda n: f"{n // 1000}k")
def synthetic_exchange(
    request: pytest.FixtureRequest, synthetic_factory: Callable[[int], SyntheticExchange]
) -> SyntheticExchange:
    return synthetic_factory(request.param)


@dataclass(frozen=True)
class StageInputs:
    """Everything the stages of the enterprise link read, at one size."""

    exchange: SyntheticExchange
    spec: Any
    left: Any  # prepared enterprises (DataFrame)
    right: Any  # prepared employers
    pairs: Any  # linkage.blocking.Pairs
    gamma: np.ndarray
    gamma_random: np.ndarray
    tf: dict[str, np.ndarray]
    model: Any  # fitted FellegiSunter
    weights: np.ndarray
    min_weight: float


@pytest.fixture(scope="session")
def stage_inputs(synthetic_exchange: SyntheticExchange) -> StageInputs:
    """The enterprise link cut at every stage, built with the stage functions."""
    from linkage.blocking import candidate_pairs
    from linkage.compare import compare, term_frequencies
    from linkage.model import FellegiSunter
    from linkage.pipeline import random_pairs
    from linkage.prepare import prepare
    from linkage.presets import enterprises
    from linkage.resolve import probability_to_weight

    x = synthetic_exchange
    spec = enterprises()
    lp = prepare(x.enterprises, spec.fields, side="left")
    rp = prepare(x.employers, spec.fields, side="right")
    pairs = candidate_pairs(lp, rp, spec.blocking)
    gamma = compare(lp, rp, pairs.left, pairs.right, spec.comparisons, chunk_size=spec.chunk_size)
    tf = {
        c.name: term_frequencies(lp[c.column], rp[c.column], pairs.left, pairs.right)
        for c in spec.comparisons
        if c.term_frequency
    }
    rl, rr = random_pairs(FellegiSunter.from_spec(spec), len(lp), len(rp))
    gamma_random = compare(lp, rp, rl, rr, spec.comparisons, chunk_size=spec.chunk_size)
    model = FellegiSunter.from_spec(spec).fit(gamma, gamma_random=gamma_random, tf=tf)
    weights = model.match_weight(gamma, tf=tf)
    return StageInputs(
        exchange=x,
        spec=spec,
        left=lp,
        right=rp,
        pairs=pairs,
        gamma=gamma,
        gamma_random=gamma_random,
        tf=tf,
        model=model,
        weights=weights,
        min_weight=probability_to_weight(spec.threshold),
    )


# ---------------------------------------------------------------------- memory

_STATUS = Path("/proc/self/status")
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 (glibc only)
except (OSError, AttributeError):
    _LIBC = None
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _settle() -> None:
    """Hand freed memory back to the system, so that reusing it counts as growth.

    Without this, a stage run after the fixtures that built its inputs reuses their
    freed pages (glibc keeps them in its heap, Arrow in its mimalloc pool) and shows
    almost no growth.
    """
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _reset_peak() -> bool:
    _settle()
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """Peak RSS growth of the first of several calls: :meth:`start` before, :meth:`stop` after.

    ``start`` settles the allocators and resets the high-water mark (untimed, as
    pytest-benchmark's ``setup``); ``stop`` reads it (as its ``teardown``). Only the
    first round is measured: settling makes the next call fault its pages in afresh,
    which is what a fresh process pays, so later rounds run warm and the fastest
    round is the time reported. ``peak_mib`` is None where the kernel lacks the mark.
    """

    def __init__(self) -> None:
        self.peak_mib: float | None = None
        self._before: int | None = None
        self._calls = 0

    def start(self, *_: Any, **__: Any) -> None:
        if self._calls == 0:
            self._before = _status_kib("VmRSS:") if _reset_peak() else None

    def stop(self, *_: Any, **__: Any) -> None:
        self._calls += 1
        if self._calls > 1:
            return
        after = _status_kib("VmHWM:")
        if self._before is not None and after is not None:
            self.peak_mib = max(after - self._before, 0) / 1024


# ---------------------------------------------------------------------- output

_ROWS: list[dict[str, Any]] = []


class Bench:
    """The ``bench`` fixture: :func:`run` and :func:`record` bound to ``benchmark``."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        size: int,
        rounds: int | None = None,
        **kwargs: Any,
    ) -> tuple[Any, float, float | None]:
        return run(self.benchmark, fn, *args, size=size, rounds=rounds, **kwargs)

    def record(self, **figures: Any) -> None:
        record(self.benchmark, **figures)


@pytest.fixture
def bench(benchmark: Any) -> Bench:
    return Bench(benchmark)


def run(
    benchmark: Any,
    fn: Callable[..., Any],
    *args: Any,
    size: int,
    rounds: int | None = None,
    **kwargs: Any,
) -> tuple[Any, float, float | None]:
    """Time ``fn(*args, **kwargs)`` with pytest-benchmark and measure its peak memory.

    One round at 485k enterprises, three below. Returns the last result, the fastest
    round's seconds and the peak RSS growth in MiB.
    """
    if rounds is None:
        rounds = 1 if size >= 485_000 else 3
    memory = PeakMemory()
    result = benchmark.pedantic(
        fn,
        args=args,
        kwargs=kwargs,
        setup=memory.start,
        teardown=memory.stop,
        rounds=rounds,
        iterations=1,
    )
    return result, benchmark.stats.stats.min, memory.peak_mib


def record(
    benchmark: Any,
    *,
    stage: str,
    size: int,
    seconds: float,
    items: int,
    unit: str,
    peak_mib: float | None,
    note: str = "",
    scale_unit: str = "enterprises",
    **extra: Any,
) -> None:
    """Print one line, fill ``extra_info`` and add a row to the session's table.

    ``size`` is the scale (enterprises unless ``scale_unit`` says otherwise);
    ``items`` how many ``unit`` (rows, records, pairs, values) the stage processed.
    """
    rate = items / seconds if seconds > 0 else float("inf")
    row = {
        "stage": stage,
        "scale": size,
        "scale_unit": scale_unit,
        "items": items,
        "unit": unit,
        "seconds": seconds,
        "per_s": rate,
        "peak_mib": peak_mib,
        **extra,
    }
    benchmark.extra_info.update({k: v for k, v in row.items() if k != "stage"})
    benchmark.extra_info[f"{unit}_per_s"] = rate
    _ROWS.append(row)
    peak = "   n/a" if peak_mib is None else f"{peak_mib:6,.0f}"
    print(
        f"\n{stage:<26} {size:>9,} {scale_unit[:4]:<4} {items:>11,} {unit:<8} {seconds:8.3f} s "
        f"{rate:>13,.0f} {unit}/s  peak +{peak} MiB{'  ' + note if note else ''}"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    tr = terminalreporter
    tr.write_sep("=", "linkage stage benchmarks: throughput and peak memory")
    tr.write_line(
        f"{'stage':<26} {'scale':>9} {'of':<11} {'items':>11} {'unit':<9} {'seconds':>8} "
        f"{'throughput /s':>14} {'peak MiB':>9}"
    )
    for r in sorted(_ROWS, key=lambda r: (r["stage"], r["scale"])):
        peak = "n/a" if r["peak_mib"] is None else f"{r['peak_mib']:,.0f}"
        tr.write_line(
            f"{r['stage']:<26} {r['scale']:>9,} {r['scale_unit']:<11} {r['items']:>11,} "
            f"{r['unit']:<9} {r['seconds']:>8.3f} {r['per_s']:>14,.0f} {peak:>9}"
        )
    machine = _provenance.machine(_PACKAGES)
    load = _provenance.load_average()
    tr.write_line(
        f"machine: {machine.get('cpu', '?')}, {machine.get('cores')} cores, "
        f"{machine.get('memory_gib', '?')} GiB, Python {machine['python']}; "
        f"load average at the end {load}"
    )
    target = os.environ.get("LINKAGE_BENCH_JSON")
    if target:
        path = Path(target)
        stages = {
            "git": _STARTED["git"],
            "git_at_end": _provenance.git_state(),
            "started": _STARTED["at"],
            "finished": _now(),
            "elapsed_s": round(time.time() - _STARTED["time"], 1),
            "load_average_start": _STARTED["load"],
            "load_average_end": load,
            "machine": {**machine, "load_average": load},
            "command": " ".join(
                [
                    *(f"{k}={os.environ[k]}" for k in _ENV if k in os.environ),
                    "pytest",
                    *_STARTED["args"],
                ]
            ),
            "sizes": list(selected_sizes() or SIZES),
            "seed": SEED,
            "peak_mib_measures": "peak RSS growth during the call (VmHWM reset before it)",
            "rows": _ROWS,
        }
        key = os.environ.get("LINKAGE_BENCH_KEY", "stages")
        _provenance.update_json(path, lambda data: data.__setitem__(key, stages))
        tr.write_line(f"wrote {len(_ROWS)} rows to {path} under {key!r}")


_PACKAGES = (
    "linkage",
    "numpy",
    "pandas",
    "pyarrow",
    "rapidfuzz",
    "phonenumbers",
    "pytest-benchmark",
)
_ENV = ("LINKAGE_BENCH_SIZES", "LINKAGE_BENCH_JSON", "LINKAGE_BENCH_KEY")
_STARTED: dict[str, Any] = {}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def pytest_sessionstart(session: pytest.Session) -> None:
    _STARTED.update(
        git=_provenance.git_state(),
        at=_now(),
        time=time.time(),
        load=_provenance.load_average(),
        args=list(session.config.invocation_params.args),
    )
