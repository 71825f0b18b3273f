"""Performance: time (and memory) against the number of enterprises."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from linkage.charts._base import CYCLE, GREY, new_figure, plain_numbers

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["time_vs_scale"]

_LABELS = {"seconds": "seconds", "peak_mib": "peak memory (MiB)", "f1": "F1"}


def time_vs_scale(
    runs: pd.DataFrame,
    *,
    metrics: tuple[str, ...] = ("seconds", "peak_mib"),
    log: bool = True,
    title: str | None = None,
) -> Figure:
    """Time against scale: one line per tool and task, one panel per metric.

    Parameters
    ----------
    runs : DataFrame
        Columns ``tool``, ``task``, ``n_enterprises`` and the metrics, as
        :func:`linkage.charts.data.load_benchmark_runs` or
        :func:`linkage.charts.data.time_linkage` give them. Repeated runs of one
        size are averaged.
    metrics : tuple of str
        Columns to draw; those missing or empty in ``runs`` are left out.
    log : bool
        Sizes in log scale, and values too where they span more than a factor of
        ten; a dotted line through the smallest run of the first series shows
        linear scaling.
    """
    shown = [m for m in metrics if m in runs.columns and runs[m].notna().any()]
    if not shown:
        raise ValueError(f"time_vs_scale: none of {list(metrics)} has values in the runs")
    fig = new_figure(figsize=(6 * len(shown), 4.5))
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    frame = runs.assign(tool=runs["tool"].fillna("linkage"), task=runs["task"].fillna(""))
    series = list(frame.groupby(["tool", "task"], sort=True))
    for ax, metric in zip(axes, shown, strict=True):
        for i, ((tool, task), part) in enumerate(series):
            mean = part.groupby("n_enterprises")[metric].mean().dropna()
            if mean.empty:
                continue
            label = f"{tool} · {task}" if task else str(tool)
            ax.plot(
                mean.index,
                mean.to_numpy(),
                marker="o",
                color=CYCLE[i % len(CYCLE)],
                linewidth=2,
                label=label,
            )
        values = frame[metric].dropna()
        if log:
            ax.set_xscale("log")
            plain_numbers(ax.xaxis, ticks=sorted(frame["n_enterprises"].dropna().unique()))
            if len(values) and values.min() > 0 and values.max() / values.min() > 10:
                ax.set_yscale("log")
                plain_numbers(ax.yaxis)
            _linear_guide(ax, frame, metric)
        if metric == "f1":
            ax.set_ylim(0, 1.02)
        elif ax.get_yscale() == "linear" and len(values):
            ax.set_ylim(0, float(values.max()) * 1.15)
        ax.set_xlabel("enterprises" + (" (log scale)" if log else ""))
        ax.set_ylabel(_LABELS.get(metric, metric))
        ax.set_gid(metric)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title or "Time against scale")
    return fig


def _linear_guide(ax, frame: pd.DataFrame, metric: str) -> None:
    """A dotted line of linear scaling from the smallest run of the first series."""
    part = frame.dropna(subset=[metric]).sort_values(["tool", "task", "n_enterprises"])
    if part["n_enterprises"].nunique() < 2:
        return
    first = part.iloc[0]
    n = part["n_enterprises"].to_numpy(dtype=float)
    xs = [float(first["n_enterprises"]), float(n.max())]
    ys = [float(first[metric]), float(first[metric]) * xs[1] / xs[0]]
    ax.plot(xs, ys, color=GREY, linestyle=":", linewidth=1.2, label="linear scaling")
