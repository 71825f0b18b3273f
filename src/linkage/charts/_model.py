"""What the model learnt, and why it scored a pair as it did.

* :func:`parameters` — m and u probabilities and the match weight of every level
  of every comparison (as Splink's m/u and match-weight charts);
* :func:`waterfall` — one pair's match weight, comparison by comparison;
* :func:`term_frequency` — how an exact match's weight falls as its value gets common.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from linkage.charts._base import BLUE, GREEN, GREY, ORANGE, VERMILLION, new_figure, plain_numbers
from linkage.io import require_columns
from linkage.model import EQUAL_NUMBERS, NO_NUMBER, OTHER_PAIRS, weight_to_probability

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from linkage.model import FellegiSunter

__all__ = ["parameters", "term_frequency", "waterfall"]


def _sign_colours(values: np.ndarray) -> list[str]:
    return [GREEN if v >= 0 else VERMILLION for v in values]


def _sub_model_weights(model: FellegiSunter, k: int) -> list[tuple[str, np.ndarray, str]]:
    """Per sub-model that weighs comparison ``k`` level by level: (label, weights of
    each level, colour)."""
    tables = model.sub_model_weight_tables()
    joint = model.params.joint is not None
    main = f"{OTHER_PAIRS} and {NO_NUMBER}" if joint else OTHER_PAIRS
    out = [(main, tables[OTHER_PAIRS][k][1:], BLUE)]
    if EQUAL_NUMBERS in tables and not model.comparisons[k].decisive:
        out.append((EQUAL_NUMBERS, tables[EQUAL_NUMBERS][k][1:], GREEN))
    return out


def parameters(
    model: FellegiSunter,
    *,
    comparisons: Sequence[str] | None = None,
    n_patterns: int = 8,
    title: str | None = None,
) -> Figure:
    """What scores pairs: m and u, and each sub-model's weight per level.

    One row of two panels per comparison, levels from ``else`` (bottom) to
    ``exact`` (top); the null level adds nothing and is not drawn. The left panel
    of comparison ``name`` (gid ``mu:name``) holds m and u of the main model (two
    bars per level); the right one (gid ``weight:name``) the weight of each level
    under each sub-model that scores pairs: the main model (``other pairs``, and
    ``pairs without a number``, whose comparisons it weighs too) and the settled
    one (``pairs with equal numbers``: m among them, u from random pairs; the number
    itself adds nothing). A model with a joint sub-model gets a last panel (gid
    ``dependence``): the ``n_patterns`` patterns whose dependence (the whole
    pattern's weight minus the sum of its comparisons') is largest, as added to a
    pair without a number. The title gives each sub-model's prior.

    Parameters
    ----------
    model : FellegiSunter
        A fitted model, e.g. ``result.model``.
    comparisons : sequence of str, optional
        Names of the comparisons to draw; all by default.
    n_patterns : int
        Patterns in the dependence panel.
    """
    params = model.params  # also checks that the model is fitted
    chosen = [
        k for k, c in enumerate(model.comparisons) if comparisons is None or c.name in comparisons
    ]
    if not chosen:
        names = [c.name for c in model.comparisons]
        raise ValueError(f"parameters: none of {list(comparisons or ())} is among {names}")
    joint = params.joint
    n_levels = [model.comparisons[k].n_levels for k in chosen]
    extra = [min(n_patterns, len(joint.codes)) + 1] if joint is not None else []
    ratios = n_levels + extra
    fig = new_figure(figsize=(10, 1.4 + 0.42 * sum(ratios) + 0.45 * len(ratios)))
    grid = fig.add_gridspec(len(ratios), 2, height_ratios=ratios, width_ratios=(1, 1.2))
    series = {k: _sub_model_weights(model, k) for k in chosen}
    bound = max(float(np.abs(w).max()) for k in chosen for _, w, _ in series[k]) * 1.35 or 1.0
    first_mu = first_w = None
    handles: dict[str, Any] = {}
    for row, k in enumerate(chosen):
        c = model.comparisons[k]
        ax_mu = fig.add_subplot(grid[row, 0], sharex=first_mu)
        ax_w = fig.add_subplot(grid[row, 1], sharex=first_w, sharey=ax_mu)
        first_mu, first_w = first_mu or ax_mu, first_w or ax_w
        y = np.arange(c.n_levels)
        handles["m"] = ax_mu.barh(y + 0.2, model.m_[k], height=0.4, color=BLUE)
        handles["u"] = ax_mu.barh(y - 0.2, model.u_[k], height=0.4, color=ORANGE)
        ax_mu.set_yticks(y, c.level_labels)
        ax_mu.set_xlim(0, 1)
        notes = [
            s for s, on in (("term frequency", c.term_frequency), ("decisive", c.decisive)) if on
        ]
        ax_mu.set_title(
            c.name + (f"  ({', '.join(notes)})" if notes else ""),
            loc="left",
            fontsize=10,
            fontweight="bold",
        )
        ax_mu.set_gid(f"mu:{c.name}")

        height = 0.7 / len(series[k])
        for j, (label, weights, colour) in enumerate(series[k]):
            offset = (len(series[k]) - 1) / 2 * height - j * height
            handles[label] = ax_w.barh(y + offset, weights, height=height, color=colour)
            for yi, w in zip(y + offset, weights, strict=True):
                ax_w.annotate(
                    f"{w:+.1f}",
                    (w, yi),
                    xytext=(4 if w >= 0 else -4, 0),
                    textcoords="offset points",
                    va="center",
                    ha="left" if w >= 0 else "right",
                    fontsize=7,
                )
        ax_w.axvline(0, color="black", linewidth=0.8)
        ax_w.set_xlim(-bound, bound)
        ax_w.tick_params(labelleft=False)
        ax_w.set_gid(f"weight:{c.name}")
        for ax in (ax_mu, ax_w):
            ax.grid(axis="x", alpha=0.3)
            if row < len(chosen) - 1:
                ax.tick_params(labelbottom=False)
        if row == len(chosen) - 1:
            ax_mu.set_xlabel("probability")
            ax_w.set_xlabel("match weight log2(m/u) (bits)")
    if joint is not None:
        _dependence_panel(fig.add_subplot(grid[-1, :]), model, n_patterns)
    labels = {"m": "m (among matches)", "u": "u (among non-matches)"}
    fig.legend(
        list(handles.values()),
        [labels.get(name, f"weight: {name}") for name in handles],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
    )
    priors = [f"{name} {w:+.1f}" for name, w in model.sub_model_priors().items()]
    fig.suptitle(title or f"Model parameters\nprior weights (bits): {', '.join(priors)}")
    return fig


def _dependence_panel(ax: Axes, model: FellegiSunter, n_patterns: int) -> None:
    table = model.dependence_table().head(n_patterns).iloc[::-1]
    names = [c for c in table.columns if c != "dependence"]
    labels = [
        ", ".join(f"{n} {row[n]}" for n in names if row[n] != "null") or "all null"
        for _, row in table.iterrows()
    ]
    values = table["dependence"].to_numpy(np.float64)
    y = np.arange(len(table))
    ax.barh(y, values, height=0.6, color=_sign_colours(values))
    # Each pattern named beside zero, on the side its bar leaves free (as tick labels
    # these long names would narrow every other panel).
    for yi, v, text in zip(y, values, labels, strict=True):
        ax.annotate(
            f"{text}  ({v:+.1f})",
            (0, yi),
            xytext=(-4 if v > 0 else 4, 0),
            textcoords="offset points",
            ha="right" if v > 0 else "left",
            va="center",
            fontsize=7,
        )
    bound = float(np.abs(values).max()) * 1.05 if len(values) else 1.0
    ax.set_xlim(-bound, bound)
    ax.set_yticks([])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("dependence (bits) added to a pair without a number with this pattern")
    ax.set_title(
        f"{NO_NUMBER}: the patterns whose whole weighs most unlike the sum of its parts",
        loc="left",
        fontsize=10,
        fontweight="bold",
    )
    ax.grid(axis="x", alpha=0.3)
    ax.set_gid("dependence")


def waterfall(explain: pd.DataFrame, *, title: str | None = None) -> Figure:
    """One pair's match weight built up comparison by comparison.

    Parameters
    ----------
    explain : DataFrame
        The output of :meth:`FellegiSunter.explain <linkage.model.FellegiSunter.explain>`:
        rows ``prior``, one per comparison and ``total``; columns ``comparison``,
        ``level``, ``weight`` and ``cumulative``.

    Each step is a bar from the running total before it to the one after it; the
    last bar, ``total``, runs from 0 to the pair's match weight.
    """
    require_columns(
        explain,
        ("comparison", "level", "weight", "cumulative"),
        source="waterfall (expects FellegiSunter.explain() output)",
    )
    steps = explain.reset_index(drop=True)
    is_total = (steps["comparison"] == "total").to_numpy()
    weight = steps["weight"].to_numpy(np.float64)
    end = steps["cumulative"].to_numpy(np.float64)
    start = np.where(is_total, 0.0, end - weight)
    height = np.where(is_total, end, weight)
    colours = [
        BLUE if t else GREY if c == "prior" else (GREEN if w >= 0 else VERMILLION)
        for t, c, w in zip(is_total, steps["comparison"], weight, strict=True)
    ]
    labels = [
        c if not lvl else f"{c}\n{lvl}"
        for c, lvl in zip(steps["comparison"], steps["level"].fillna(""), strict=True)
    ]
    if {"left", "right"} <= set(steps.columns):
        # Both records' values under their comparison, so the level can be checked.
        labels = [
            f"{text}\nL: {_short(lv)}\nR: {_short(rv)}" if lv or rv else text
            for text, lv, rv in zip(
                labels, steps["left"].fillna(""), steps["right"].fillna(""), strict=True
            )
        ]
    dependent = bool((steps["comparison"] == "dependence").any())

    fig = new_figure(figsize=(max(7.0, 1.1 * len(steps) + 2), 6.5 if dependent else 5.5))
    ax = fig.subplots()
    x = np.arange(len(steps))
    ax.bar(x, height, bottom=start, color=colours, width=0.65, edgecolor="white")
    for i in range(len(steps) - 1):
        ax.plot([i + 0.33, i + 0.67], [end[i], end[i]], color=GREY, linewidth=0.8, linestyle=":")
    top = np.maximum(start, start + height)
    bottom = np.minimum(start, start + height)
    span = float(np.ptp(np.r_[top, bottom, 0.0])) or 1.0
    for i in range(len(steps)):
        up = height[i] >= 0
        ax.annotate(
            f"{(end[i] if is_total[i] else weight[i]):+.1f}",
            (i, top[i] if up else bottom[i]),
            xytext=(0, 3 if up else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if up else "top",
            fontsize=8,
        )
    ax.set_ylim(bottom.min() - 0.08 * span, top.max() + 0.08 * span)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, labels, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("match weight (bits)")
    total = float(end[is_total][-1]) if is_total.any() else float(end[-1])
    p = float(weight_to_probability(np.array([total]))[0])
    ax.set_title(title or f"Match weight {total:+.2f} bits, probability {p:.4g}")
    ax.grid(axis="y", alpha=0.3)
    if dependent:
        # A figure label, so that the constrained layout makes room for it.
        width = int(fig.get_figwidth() * 15)
        note = fig.supxlabel(textwrap.fill(DEPENDENCE_NOTE, width), fontsize=8, x=0.01, ha="left")
        note.set_gid("dependence_note")
    return fig


#: What the ``dependence`` bar of a waterfall is, in words.
DEPENDENCE_NOTE = (
    "dependence: a pair without a number is scored on its whole pattern of levels at once, "
    "learnt from the pairs whose numbers are equal (matches) or differ (non-matches). "
    "The comparisons are not independent (a move changes address and postcode together; "
    "a pair blocked on its name agrees on little else unless it matches), so the pattern's "
    "weight is not the sum of the comparisons' bars: this bar is the difference."
)


def _short(value: object, width: int = 22) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def term_frequency(
    model: FellegiSunter,
    frequencies: pd.Series,
    *,
    comparison: str | None = None,
    n_labels: int = 10,
    title: str | None = None,
) -> Figure:
    """The weight of an exact match against how common the matched value is.

    With term frequencies, an exact match on a value of frequency ``f`` weighs
    ``w_exact + log2(u_random_exact / f)``: a common name counts for less, a rare one
    for more. The dashed line (gid ``no_tf``) is ``w_exact``, the weight without
    the adjustment; the ``n_labels`` most common values are marked and named.

    Parameters
    ----------
    model : FellegiSunter
    frequencies : Series of float
        Value frequencies indexed by value, as :func:`linkage.charts.data.value_frequencies`
        gives them.
    comparison : str, optional
        Name of the comparison; by default the first with ``term_frequency``.
    """
    tables = model.weight_tables()
    found = [
        k
        for k, c in enumerate(model.comparisons)
        if (c.name == comparison if comparison is not None else c.term_frequency)
    ]
    if not found:
        raise ValueError(
            f"term_frequency: no comparison {comparison or 'with term_frequency'} "
            f"in {[c.name for c in model.comparisons]}"
        )
    k = found[0]
    c = model.comparisons[k]
    base = float(tables[k][-1])
    u_exact = float(model.u_random_[k][-1])
    freq = pd.Series(frequencies, dtype=np.float64).dropna()
    freq = freq[freq > 0].sort_values(ascending=False)
    if freq.empty:
        raise ValueError("term_frequency: no positive frequencies to draw")

    def weight(f: np.ndarray) -> np.ndarray:
        return base + np.log2(u_exact / f)

    lo, hi = min(freq.min(), u_exact) / 2, max(freq.max(), u_exact) * 2
    grid = np.geomspace(lo, hi, 200)
    fig = new_figure(figsize=(8, 5))
    ax = fig.subplots()
    ax.plot(grid, weight(grid), color=BLUE, linewidth=2, label="exact match, adjusted")
    line = ax.axhline(
        base,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"exact match, no adjustment ({base:+.1f} bits)",
    )
    line.set_gid("no_tf")
    ax.axvline(
        u_exact,
        color=GREY,
        linestyle=":",
        linewidth=1,
        label=f"random pairs' exact-agreement rate ({u_exact:.2g})",
    )
    # Many values share a frequency (each seen twice, say): one point per frequency,
    # named by its first values.
    by_freq = freq.groupby(freq, sort=False).apply(lambda s: list(s.index))
    top = by_freq.sort_index(ascending=False).head(n_labels)
    xs = top.index.to_numpy(np.float64)
    ax.scatter(
        xs, weight(xs), color=ORANGE, zorder=3, label=f"most common values ({len(top)} frequencies)"
    ).set_gid("common")
    for i, (f, values) in enumerate(top.items()):
        more = f" and {len(values) - 2:,} more" if len(values) > 2 else ""
        ax.annotate(
            ", ".join(map(str, values[:2])) + more,
            (f, weight(np.array([f]))[0]),
            xytext=(6, 6 if i % 2 else -12),
            textcoords="offset points",
            fontsize=7,
        )
    median = float(freq.median())
    ax.scatter(
        [median],
        weight(np.array([median])),
        color=GREEN,
        marker="D",
        zorder=3,
        label=f"median value frequency ({median:.2g})",
    )
    ax.set_xscale("log")
    plain_numbers(ax.xaxis)
    ax.set_xlabel(f"frequency of the {c.name} value (share of all values, log scale)")
    ax.set_ylabel("match weight of an exact match (bits)")
    ax.set_title(title or f"Term-frequency adjustment of {c.name}")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return fig
