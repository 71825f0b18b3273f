"""What every chart shares: a lazily imported ``Figure``, the palette, small helpers.

matplotlib is imported inside :func:`new_figure`, never at module level, so that
``import linkage`` (and ``import linkage.charts``) works without it. Charts use the
object API (``Figure()``, ``fig.subplots()``): no pyplot, no global state, no
backend chosen, so they are safe in tests, servers and threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
GREY = "#999999"
BLACK = "#000000"
CYCLE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)

INSTALL_HINT = (
    "linkage.charts needs matplotlib: pip install 'linkage[notebooks]' (or matplotlib>=3.8)"
)


def new_figure(**kwargs: Any) -> Figure:
    """A ``Figure`` with constrained layout, made without pyplot."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from exc
    kwargs.setdefault("layout", "constrained")
    return Figure(**kwargs)


def threshold_line(ax: Any, x: float, *, label: str, gid: str) -> None:
    """A dashed vertical line at ``x``; ``gid`` lets tests and callers find it."""
    line = ax.axvline(x, color=BLACK, linestyle="--", linewidth=1.2, label=label)
    line.set_gid(gid)


def plain_numbers(axis: Any, *, ticks: Any = None) -> None:
    """Plain tick labels (``2,000``, ``0.0005``) on a log axis: at 1, 2 and 5 times each
    power of ten, or at ``ticks``; minor ticks unlabelled."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    locator = FixedLocator(list(ticks)) if ticks is not None else LogLocator(subs=(1.0, 2.0, 5.0))
    axis.set_major_locator(locator)
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
