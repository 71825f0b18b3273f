"""Benchmark runs as one table: read from ``benchmarks/results.json``, or timed live."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RUN_COLUMNS", "load_benchmark_runs", "runs_frame", "time_linkage"]

RUN_COLUMNS = ("tool", "task", "n_enterprises", "seconds", "peak_mib", "f1")

# Other names the same quantity goes by in benchmark files.
_ALIASES = {
    "n_enterprises": (
        "n_enterprises",
        "enterprises",
        "n",
        "size",
        "rows",
        "n_rows",
        "n_records",
        "scale",
    ),
    "seconds": ("seconds", "time_s", "elapsed", "elapsed_s", "wall_seconds", "time", "mean"),
    "peak_mib": ("peak_mib", "peak_rss_mib", "peak_memory_mib", "memory_mib", "max_rss_mib"),
    "tool": ("tool", "library", "implementation", "engine"),
    "task": ("task", "preset", "table", "group", "stage"),
}


def _flatten(run: Mapping[str, Any]) -> dict[str, Any]:
    """One run as a flat dict; pytest-benchmark's ``params``, ``stats`` and
    ``extra_info`` are merged in, its ``stats.mean`` counting as seconds."""
    flat = {k: v for k, v in run.items() if not isinstance(v, Mapping)}
    for key in ("params", "extra_info", "stats"):
        nested = run.get(key)
        if isinstance(nested, Mapping):
            for k, v in nested.items():
                flat.setdefault(k, v)
    return flat


def runs_frame(runs: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Runs (dicts) as a table with at least :data:`RUN_COLUMNS`, other keys kept.

    Missing values become NaN (``tool`` defaults to ``linkage``, ``task`` to ``""``);
    runs without a size or a time are dropped.
    """
    rows = []
    for run in runs:
        flat = _flatten(run)
        row = dict(flat)
        for column, names in _ALIASES.items():
            row[column] = next((flat[n] for n in names if flat.get(n) is not None), None)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(RUN_COLUMNS))
    for column in RUN_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    frame["tool"] = frame["tool"].fillna("linkage").astype(str)
    frame["task"] = frame["task"].fillna("").astype(str)
    for column in ("n_enterprises", "seconds", "peak_mib", "f1"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.dropna(subset=["n_enterprises", "seconds"])
    ordered = [*RUN_COLUMNS, *(c for c in frame.columns if c not in RUN_COLUMNS)]
    return frame[ordered].sort_values(["tool", "task", "n_enterprises"]).reset_index(drop=True)


def load_benchmark_runs(path: str | Path, key: str | None = None) -> pd.DataFrame:
    """Read benchmark runs from a JSON file.

    Tolerant of the shape: ``{"runs": [...]}`` (with ``machine`` and other keys
    beside it), ``{"results": [...]}``, pytest-benchmark's ``{"benchmarks": [...]}``,
    or a bare list of runs. See :func:`runs_frame` for the columns. ``key``: the rows
    of one stage run of ``benchmarks/results.json`` (``"stages"``, ``"encoding"``),
    each stage a task.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if key is not None:
        if not isinstance(data, Mapping) or not isinstance(data.get(key), Mapping):
            raise ValueError(f"{path}: no run stored under {key!r}")
        return runs_frame(data[key].get("rows", []))
    if isinstance(data, Mapping) and isinstance(data.get("comparison"), Mapping):
        return runs_frame(_comparison_runs(data["comparison"].get("rows", [])))
    if isinstance(data, Mapping):
        for key in ("runs", "results", "benchmarks"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            raise ValueError(
                f"{path}: expected a list of runs under 'runs', 'results' or "
                f"'benchmarks', found keys {sorted(data)}"
            )
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of runs, got {type(data).__name__}")
    return runs_frame(r for r in data if isinstance(r, Mapping))


def _comparison_runs(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The side-by-side rows of ``benchmarks/compare_tools.py``: one run per tool and
    decision variant (``splink + 1:1``), with that variant's F1."""
    runs = []
    for row in rows:
        if row.get("status", "ok") != "ok":
            continue
        base = {k: v for k, v in row.items() if k != "variants"}
        for variant in row.get("variants") or [{}]:
            name = variant.get("variant", "")
            runs.append(
                {
                    **base,
                    **variant,
                    "task": "enterprises",
                    "tool": f"{row['tool']} {name}".strip(),
                    "seconds": row.get("seconds", 0.0) + variant.get("extra_s", 0.0),
                }
            )
    return runs


def time_linkage(
    sizes: Sequence[int] = (10_000, 20_000),
    *,
    seed: int = 0,
    preset: str = "enterprises",
) -> pd.DataFrame:
    """Generate synthetic exchanges of each size and time linking them.

    Only the link is timed, not the generation. For quick figures where no
    benchmark file exists; the benchmarks are the place for real measurements.

    Returns
    -------
    DataFrame
        :data:`RUN_COLUMNS` (``peak_mib`` NaN), ``pairs``, ``links`` and seconds per stage.
    """
    from linkage import presets, synthetic
    from linkage.evaluate import link_quality
    from linkage.pipeline import ParentLinks, link

    rows = []
    for n in sizes:
        exchange = synthetic.generate(int(n), seed=seed)
        spec = presets.enterprises()
        started = time.perf_counter()
        result = link(exchange.enterprises, exchange.employers, spec)
        truth, on = exchange.truth_enterprises, (spec.left_id, spec.right_id)
        if preset == "establishments":
            parents = ParentLinks.of(result)
            spec = presets.establishments()
            started = time.perf_counter()
            result = link(exchange.establishments, exchange.sites, spec, parents=parents)
            truth, on = exchange.truth_establishments, (spec.left_id, spec.right_id)
        elif preset != "enterprises":
            raise ValueError(f"preset must be 'enterprises' or 'establishments', not {preset!r}")
        seconds = time.perf_counter() - started
        quality = link_quality(
            result.links, truth, on=(result.links.columns[0], result.links.columns[1]), truth_on=on
        )
        rows.append(
            {
                "tool": "linkage",
                "task": preset,
                "n_enterprises": int(n),
                "seconds": seconds,
                "peak_mib": np.nan,
                "f1": quality.f1,
                "pairs": len(result.pairs),
                "links": len(result.links),
                **{f"{k}_seconds": v for k, v in result.timings.items()},
            }
        )
    return runs_frame(rows)
