"""How well the links separate: the weight distribution, and quality against threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from linkage.charts._base import BLUE, GREEN, ORANGE, new_figure, threshold_line
from linkage.io import require_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["threshold_curves", "weight_distribution"]


def _mask(values: ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    mask = np.asarray(values, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"{name}: expected one bool per weight, shape ({n},), got {mask.shape}")
    return mask


def weight_distribution(
    weights: ArrayLike,
    *,
    truth: ArrayLike | None = None,
    links_mask: ArrayLike | None = None,
    threshold: float | None = None,
    bins: int = 60,
    log: bool = True,
    title: str | None = None,
) -> Figure:
    """Histogram of candidate pairs' match weights, split by truth class or link status.

    Parameters
    ----------
    weights : array-like of shape (n_pairs,)
        Match weights in bits, e.g. ``result.weights``.
    truth : array-like of bool, shape (n_pairs,), optional
        True matches (:func:`linkage.charts.data.truth_labels`): two histograms,
        ``true match`` and ``non-match``.
    links_mask : array-like of bool, shape (n_pairs,), optional
        Pairs that became links (:func:`linkage.charts.data.linked_mask`): ``linked``
        and ``not linked``. Give ``truth`` or ``links_mask``, not both.
    threshold : float, optional
        The link threshold in bits, drawn as a dashed line (gid ``threshold``).
    bins : int
        Bins shared by the classes.
    log : bool
        Count axis in log scale: non-matches outnumber matches by far.
    """
    w = np.asarray(weights, dtype=np.float64)
    if truth is not None and links_mask is not None:
        raise ValueError("weight_distribution: give truth= or links_mask=, not both")
    truth_m = _mask(truth, len(w), "truth")
    links_m = _mask(links_mask, len(w), "links_mask")
    if truth_m is not None:
        classes = [("non-match", ~truth_m, ORANGE), ("true match", truth_m, BLUE)]
    elif links_m is not None:
        classes = [("not linked", ~links_m, ORANGE), ("linked", links_m, BLUE)]
    else:
        classes = [("candidate pairs", np.ones(len(w), bool), BLUE)]
    finite = w[np.isfinite(w)]
    edges = np.histogram_bin_edges(finite if finite.size else [0.0, 1.0], bins=bins)

    fig = new_figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for label, mask, colour in classes:
        values = w[mask]
        ax.hist(
            values,
            bins=edges.tolist(),
            histtype="stepfilled",
            alpha=0.55,
            color=colour,
            edgecolor=colour,
            linewidth=1.0,
            label=f"{label} ({mask.sum():,})",
        )
    if threshold is not None:
        threshold_line(ax, threshold, label=f"threshold {threshold:.3g} bits", gid="threshold")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("match weight (bits)")
    ax.set_ylabel("candidate pairs" + (" (log scale)" if log else ""))
    ax.set_title(title or f"Match weights of {len(w):,} candidate pairs")
    ax.legend(loc="best")
    ax.grid(axis="y", alpha=0.3)
    return fig


def threshold_curves(
    sweep: pd.DataFrame,
    *,
    chosen: float | None = None,
    xlabel: str = "match weight threshold (bits)",
    title: str | None = None,
) -> Figure:
    """Precision, recall and F1 against the link threshold.

    Parameters
    ----------
    sweep : DataFrame
        Columns ``threshold``, ``precision``, ``recall``, ``f1``: the output of
        :func:`linkage.charts.data.sweep` (weights) or
        :func:`linkage.evaluate.threshold_sweep`.
    chosen : float, optional
        The threshold in use: a dashed line (gid ``chosen``), with its precision,
        recall and F1 (at the nearest swept threshold) in the legend.
    xlabel : str
        Say ``"match probability threshold"`` if the sweep was over probabilities.
    """
    require_columns(
        sweep, ("threshold", "precision", "recall", "f1"), source="threshold_curves sweep"
    )
    data = sweep.sort_values("threshold")
    fig = new_figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for column, label, colour in (
        ("precision", "precision", BLUE),
        ("recall", "recall", ORANGE),
        ("f1", "F1", GREEN),
    ):
        ax.plot(data["threshold"], data[column], color=colour, linewidth=2, label=label)
    if chosen is not None:
        label = f"chosen {chosen:.3g}"
        if len(data):
            at = data.iloc[int(np.argmin(np.abs(data["threshold"].to_numpy() - chosen)))]
            label += f": P {at['precision']:.3f}, R {at['recall']:.3f}, F1 {at['f1']:.3f}"
        threshold_line(ax, chosen, label=label, gid="chosen")
    lowest = float(np.nanmin(data[["precision", "recall", "f1"]].to_numpy())) if len(data) else 0.0
    ax.set_ylim(max(0.0, lowest - 0.05), 1.005)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("precision / recall / F1")
    ax.set_title(title or "Link quality against threshold")
    ax.legend(loc="lower center")
    ax.grid(alpha=0.3)
    return fig
