"""Data quality per sending party: valid, missing and invalid values per field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.charts._base import GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, YELLOW, new_figure
from linkage.io import require_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["data_quality"]

# Reasons keep their colour from chart to chart; others take the rest in turn.
_KNOWN = {"invalid number": ORANGE, "check digits do not match (mod 97)": VERMILLION}
_REASON_COLOURS = (PURPLE, YELLOW, SKY, VERMILLION, ORANGE)


def data_quality(
    table: pd.DataFrame,
    *,
    by: str = "party",
    title: str | None = None,
) -> Figure:
    """Per group (sending party), a stacked bar per field: shares valid, missing, invalid.

    Parameters
    ----------
    table : DataFrame
        Long form with columns ``by``, ``field``, ``status`` and ``share``, as
        :func:`linkage.charts.data.field_quality` gives it; statuses other than
        ``valid`` and ``missing`` are reasons a value is invalid.
    by : str
        The group column: one panel per group.

    Each panel has gid ``quality:<group>``; the legend lists every status.
    """
    require_columns(table, (by, "field", "status", "share"), source="data_quality table")
    groups = list(dict.fromkeys(table[by]))
    fields = list(dict.fromkeys(table["field"]))
    reasons = sorted(set(table["status"]) - {"valid", "missing"})
    statuses = ["valid", "missing", *reasons]
    others = iter(_REASON_COLOURS * (len(reasons) // len(_REASON_COLOURS) + 1))
    colours = {
        "valid": GREEN,
        "missing": GREY,
        **{r: _KNOWN[r] if r in _KNOWN else next(others) for r in reasons},
    }
    wide = table.pivot_table(
        index=[by, "field"], columns="status", values="share", aggfunc="sum", fill_value=0.0
    )

    fig = new_figure(figsize=(9, 1.4 + 0.45 * len(fields) * len(groups)))
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    y = np.arange(len(fields))[::-1]
    for ax, group in zip(axes, groups, strict=True):
        left = np.zeros(len(fields))
        for status in statuses:
            shares = np.array(
                [
                    wide.at[(group, f), status]
                    if (group, f) in wide.index and status in wide.columns
                    else 0.0
                    for f in fields
                ]
            )
            ax.barh(
                y,
                shares,
                left=left,
                color=colours[status],
                height=0.65,
                label=status if ax is axes[0] else None,
            )
            for yi, lft, s in zip(y, left, shares, strict=True):
                if s >= 0.04:
                    ax.text(lft + s / 2, yi, f"{s:.0%}", ha="center", va="center", fontsize=7)
            left += shares
        ax.set_yticks(y, fields)
        ax.set_xlim(0, 1)
        ax.set_title(str(group), loc="left", fontsize=10, fontweight="bold")
        ax.set_gid(f"quality:{group}")
    axes[-1].set_xlabel("share of the party's records")
    fig.legend(loc="outside lower center", ncols=min(len(statuses), 4), fontsize=8)
    fig.suptitle(title or "Data quality per sending party")
    return fig
