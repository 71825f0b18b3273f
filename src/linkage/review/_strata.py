"""Strata of the candidate pairs: match-weight bands around the threshold, by status.

Links are cut into bands above the threshold, pairs under it into bands below; the
pairs lost in the one-to-one step (at or over the threshold, a record linked to a
better partner) are a stratum of their own. Bands are narrow near the threshold,
where a reviewer's labels change the estimates most.

The sample's size per stratum is half equal (so that every stratum is seen, the
small ones near the threshold too) and half Neyman (in proportion to the stratum's
size times the spread the model expects of its labels, so the large bands under the
threshold, where the missed matches hide, get more).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.trace import BELOW, LINK, LOST

__all__ = ["BANDS", "allocate", "assign"]

#: Band edges in bits from the threshold: links in [0, 2), [2, 5), ... and pairs
#: under it in [-2, 0), [-5, -2), ...; the outer bands are open.
BANDS = (2.0, 5.0, 10.0, 20.0)

# The least spread a stratum's labels are assumed to have: a model sure of a band
# (p = 1e-6) still gets a few of its pairs looked at.
_MIN_SPREAD = 1e-3


def _band_names() -> tuple[list[str], list[str]]:
    edges = (0.0, *BANDS)
    above = [f"[{lo:+g}, {hi:+g})" for lo, hi in itertools.pairwise(edges)]
    above.append(f"[{edges[-1]:+g}, inf)")
    below = [f"[{-hi:+g}, {-lo:+g})" for lo, hi in itertools.pairwise(edges)]
    below.append(f"(-inf, {-edges[-1]:+g})")
    return above, below


def assign(
    weights: NDArray[np.floating], status: NDArray[np.object_] | pd.Series, threshold: float
) -> pd.Categorical:
    """Each pair's stratum, e.g. ``link [+0, +2)``, ``lost``, ``below [-5, -2)``.

    Parameters
    ----------
    weights : ndarray of shape (n_pairs,)
        Match weights (bits).
    status : array of str
        ``link``, ``lost`` or ``below`` per pair.
    threshold : float
        The link threshold in bits.
    """
    above, below = _band_names()
    names = [f"{LINK} {b}" for b in above] + [LOST] + [f"{BELOW} {b}" for b in below]
    offset = np.asarray(weights, np.float64) - threshold
    edges = np.asarray(BANDS)
    band_up = np.searchsorted(edges, offset, side="right")  # 0 .. len(BANDS)
    band_down = np.searchsorted(edges, -offset, side="left")  # -offset > 0 below
    s = np.asarray(status, dtype=object)
    codes = np.where(
        s == LINK,
        band_up,
        np.where(s == LOST, len(above), len(above) + 1 + band_down),
    )
    return pd.Categorical.from_codes(codes, categories=names)


def allocate(sizes: pd.Series, means: pd.Series, n: int, *, lost: pd.Series) -> pd.Series:
    """How many pairs to draw from each stratum.

    Parameters
    ----------
    sizes : Series of int
        Pairs per stratum (non-empty strata only).
    means : Series of float
        The model's mean match probability per stratum.
    n : int
        The sample size; every stratum gets at most its size.
    lost : Series of bool
        The strata of pairs lost in the one-to-one step (the model's probability
        says nothing of them: taken as 0.5).

    Returns
    -------
    Series of int
    """
    p = means.where(~lost, 0.5).clip(0.0, 1.0)
    spread = np.sqrt(np.maximum(p * (1 - p), _MIN_SPREAD**2))
    share = 0.5 / len(sizes) + 0.5 * (sizes * spread) / float((sizes * spread).sum())
    take = pd.Series(0, index=sizes.index, dtype=np.int64)
    left = min(n, int(sizes.sum()))
    # Shares of what is left go to the strata not yet full, until n is drawn.
    while left > 0:
        room = sizes - take
        open_ = room > 0
        want = share[open_] / share[open_].sum() * left
        add = np.minimum(np.floor(want).astype(np.int64), room[open_])
        if add.sum() == 0:  # fewer than one each: the largest shares first
            order = want.sort_values(ascending=False, kind="stable").index[:left]
            add = pd.Series(1, index=order)
        take = take.add(add, fill_value=0).astype(np.int64)
        left = min(n, int(sizes.sum())) - int(take.sum())
    return take
