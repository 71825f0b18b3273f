"""Blocking: how many pairs each rule proposes, and how many true pairs it finds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.blocking import Pairs
from linkage.charts._base import BLUE, GREEN, GREY, VERMILLION, new_figure, plain_numbers
from linkage.io import require_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["blocking"]

UNION = "all rules"


def _as_report(pairs: Pairs | pd.DataFrame | Mapping[str, int]) -> pd.DataFrame:
    if isinstance(pairs, Pairs):
        report = pd.DataFrame({"pairs": pd.Series(pairs.by_rule, dtype=np.int64)})
        report["skipped"] = pd.Series(pairs.skipped, dtype=np.int64).reindex(report.index).fillna(0)
        report.loc[UNION] = [len(pairs), sum(pairs.skipped.values())]
        return report
    if isinstance(pairs, pd.DataFrame):
        require_columns(pairs, ("pairs",), source="blocking (see charts.data.blocking_report)")
        return pairs
    return pd.DataFrame({"pairs": pd.Series(dict(pairs), dtype=np.int64)})


def blocking(
    pairs: Pairs | pd.DataFrame | Mapping[str, int],
    *,
    completeness: Mapping[str, float] | pd.Series | None = None,
    title: str | None = None,
) -> Figure:
    """Candidate pairs per blocking rule, and pair completeness per rule if known.

    Parameters
    ----------
    pairs : Pairs, DataFrame or mapping of rule to count
        ``result.pairs`` (pairs per rule from ``by_rule``, skipped pairs from
        ``skipped``, and the union), or the table of
        :func:`linkage.charts.data.blocking_report`, indexed by rule, which brings
        its own ``completeness``.
    completeness : mapping or Series of rule to float, optional
        Share of the true pairs each rule finds; adds a second panel.

    The left panel (gid ``pairs``) has one bar per rule, in log scale: rules differ
    by orders of magnitude. Pairs a rule skipped in oversized blocks are hatched.
    """
    report = _as_report(pairs).copy()
    if completeness is None and "completeness" in report.columns:
        completeness = report["completeness"]
    rules = list(report.index)
    y = np.arange(len(rules))[::-1]  # first rule on top
    union = np.array([r == UNION for r in rules])

    panels = 2 if completeness is not None else 1
    fig = new_figure(figsize=(10 if panels == 2 else 7, 1.2 + 0.42 * len(rules)))
    axes = fig.subplots(
        1, panels, sharey=True, squeeze=False, gridspec_kw={"width_ratios": (1.4, 1)[:panels]}
    )[0]
    ax = axes[0]
    counts = report["pairs"].to_numpy(np.float64)
    skipped = (
        report["skipped"].fillna(0).to_numpy(np.float64)
        if "skipped" in report.columns
        else np.zeros(len(rules))
    )
    # The union's skipped pairs may well be found by another rule: not drawn.
    skipped[union] = 0
    bars = ax.barh(y, counts, color=[GREY if u else BLUE for u in union], height=0.6)
    if skipped.any():
        shown = skipped > 0
        ax.barh(
            y[shown],
            skipped[shown],
            left=counts[shown],
            height=0.6,
            color="white",
            edgecolor=VERMILLION,
            hatch="///",
            label="skipped (blocks over the cap)",
        )
        ax.legend(loc="lower right", fontsize=8)
    for bar, n in zip(bars, counts, strict=True):
        ax.annotate(
            f"{int(n):,}",
            (max(n, 1), bar.get_y() + bar.get_height() / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xscale("log")
    plain_numbers(ax.xaxis)
    ax.set_xlim(right=float(np.nanmax(counts + skipped)) * 3)
    ax.set_yticks(y, rules)
    ax.set_xlabel("candidate pairs (log scale)")
    ax.set_gid("pairs")
    ax.grid(axis="x", alpha=0.3)

    if completeness is not None:
        values = pd.Series(completeness, dtype=np.float64).reindex(rules).to_numpy()
        ax2 = axes[1]
        ax2.barh(y, np.nan_to_num(values), color=[GREY if u else GREEN for u in union], height=0.6)
        for yi, v in zip(y, values, strict=True):
            if np.isfinite(v):
                ax2.annotate(
                    f"{v:.1%}",
                    (v, yi),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
        ax2.set_xlim(0, 1.15)
        ax2.set_xlabel("pair completeness (share of true pairs found)")
        ax2.set_gid("completeness")
        ax2.grid(axis="x", alpha=0.3)
    total = f"{int(counts[union][0]):,} candidate pairs" if union.any() else ""
    fig.suptitle(title or f"Blocking rules{': ' + total if total else ''}")
    return fig
