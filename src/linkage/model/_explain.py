"""Explanation: each pair's match weight, term by term (the data of a waterfall).

Both functions read :func:`linkage.model._score.terms`, the path ``match_weight``
sums, so an explanation adds up to the weight the pair was scored with, to the last
bit, provided it is given the same term frequencies. A model fitted with term
frequencies refuses to explain an exact match on such a comparison without them:
that explanation would not be the weight the pair got.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.exceptions import ConfigError
from linkage.model._params import FittedParams
from linkage.model._patterns import Layout, unpack, weight_table
from linkage.model._score import log_odds, terms

__all__ = [
    "DEPENDENCE",
    "EQUAL_NUMBERS",
    "NO_NUMBER",
    "OTHER_PAIRS",
    "dependence_table",
    "explain",
    "explain_pairs",
    "level_weights",
    "prior_weights",
    "scored_by",
]

#: The sub-models that score pairs, as a reader sees them named.
EQUAL_NUMBERS = "pairs with equal numbers"
NO_NUMBER = "pairs without a number"
OTHER_PAIRS = "other pairs"

#: The dependence term's level, in words.
DEPENDENCE = "pattern judged as a whole"


def _check_tf(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]],
    settled: NDArray[np.bool_],
) -> None:
    """Refuse to explain, without its term frequency, an exact match the scorer adjusted."""
    for k, c in enumerate(layout.comparisons):
        if not (c.term_frequency and c.name in params.tf_reference) or c.name in tf:
            continue
        exact = (gamma[:, k] == c.n_levels - 1) & ~settled
        if exact.any():
            raise ConfigError(
                f"explain: pair {int(np.flatnonzero(exact)[0]):,} is an exact match on "
                f"{c.name!r}, which the model weighs by term frequency; pass tf={{"
                f"{c.name!r}: ...}} as the pipeline scored it (linkage.charts.data."
                f"explain_pair(result, position, left, right) finds it)"
            )


def scored_by(layout: Layout, params: FittedParams, gamma: NDArray[np.int8]) -> NDArray[np.str_]:
    """Which sub-model scores each pair: :data:`EQUAL_NUMBERS`, :data:`NO_NUMBER` or
    :data:`OTHER_PAIRS`."""
    settled, _, unlabelled = layout.split(gamma)
    out = np.full(len(gamma), OTHER_PAIRS, dtype=object)
    if params.settled is not None:
        out[settled] = EQUAL_NUMBERS
    if params.joint is not None:
        out[unlabelled] = NO_NUMBER
    return out.astype(str)


def explain_pairs(
    layout: Layout,
    params: FittedParams,
    gamma: NDArray[np.int8],
    tf: Mapping[str, NDArray[np.float64]] | None,
) -> pd.DataFrame:
    """Every pair's weight by term, one row a pair (vectorised).

    Returns
    -------
    DataFrame of shape (n_pairs, n_comparisons + 4)
        Columns ``scored_by`` (the sub-model: :data:`EQUAL_NUMBERS`, :data:`NO_NUMBER`,
        :data:`OTHER_PAIRS`), ``prior``, one per comparison (bits), ``dependence`` and
        ``total``, which is :func:`~linkage.model._score.match_weight`'s weight.
    """
    gamma = layout.check(gamma, "gamma")
    tf = dict(tf or {})
    parts = terms(layout, params, gamma, tf)
    _check_tf(layout, params, gamma, tf, parts.settled)
    frame = pd.DataFrame({"scored_by": scored_by(layout, params, gamma), "prior": parts.prior})
    # Summed in the scorer's order, so the total is its weight bit for bit.
    total = parts.prior + parts.dependence
    for c, column in zip(layout.comparisons, parts.columns, strict=True):
        frame[c.name] = column
        total = total + column
    frame["dependence"] = parts.dependence
    frame["total"] = total
    return frame


def explain(
    layout: Layout,
    params: FittedParams,
    gamma_row: Sequence[int],
    tf: Mapping[str, float] | None,
) -> pd.DataFrame:
    """One pair's weight by term, from the same scoring path as ``match_weight``.

    Returns
    -------
    DataFrame
        Rows: ``prior``, one per comparison, ``dependence`` (only for a pair scored
        as one of :data:`NO_NUMBER`: its joint pattern's weight minus the sum of the
        comparisons'), ``total``; columns ``comparison``, ``level`` (label; the
        prior's names the sub-model that scores the pair), ``m``, ``u``, ``weight``
        (bits) and ``cumulative``.
    """
    gamma = layout.check(np.asarray([gamma_row], dtype=np.int8), "gamma_row")
    tf_arrays = {k: np.asarray([v], dtype=np.float64) for k, v in (tf or {}).items()}
    wide = explain_pairs(layout, params, gamma, tf_arrays).iloc[0]
    by = str(wide["scored_by"])
    # A settled pair is judged by its own model: m among settled pairs, random u.
    sub = params.settled if by == EQUAL_NUMBERS else None
    m, u = (sub.m, params.u_random) if sub is not None else (params.m, params.u)
    rows: list[dict[str, Any]] = [
        {"comparison": "prior", "level": by, "m": np.nan, "u": np.nan, "weight": wide["prior"]}
    ]
    for k, c in enumerate(layout.comparisons):
        level = int(gamma[0, k])
        shown = level >= 0 and not (sub is not None and c.decisive)
        rows.append(
            {
                "comparison": c.name,
                "level": "null" if level < 0 else c.level_labels[level],
                "m": float(m[k][level]) if shown else np.nan,
                "u": float(u[k][level]) if shown else np.nan,
                "weight": float(wide[c.name]),
            }
        )
    if by == NO_NUMBER:
        rows.append(
            {
                "comparison": "dependence",
                "level": DEPENDENCE,
                "m": np.nan,
                "u": np.nan,
                "weight": float(wide["dependence"]),
            }
        )
    table = pd.DataFrame(rows)
    table["cumulative"] = table["weight"].cumsum()
    total = float(wide["total"])
    table.loc[len(table)] = {
        "comparison": "total",
        "level": "",
        "m": np.nan,
        "u": np.nan,
        "weight": total,
        "cumulative": total,
    }
    return table


def prior_weights(params: FittedParams, layout: Layout) -> dict[str, float]:
    """The prior weight (bits) of each sub-model that scores pairs, by its name."""
    out = {OTHER_PAIRS: log_odds(params.share)}
    if params.settled is not None:
        out[EQUAL_NUMBERS] = log_odds(params.settled.share)
    if params.joint is not None:
        out[NO_NUMBER] = log_odds(params.joint.share)
    return out


def level_weights(params: FittedParams, layout: Layout) -> dict[str, list[NDArray[np.float64]]]:
    """Per sub-model that weighs levels one by one, the weight of each level of each
    comparison (null first, as :func:`~linkage.model._patterns.weight_table`).

    :data:`OTHER_PAIRS` (the main model, whose tables also weigh the comparisons of
    :data:`NO_NUMBER` pairs) and :data:`EQUAL_NUMBERS` (m among those pairs, u from
    random pairs; the decisive comparison adds nothing there).
    """
    out = {OTHER_PAIRS: [weight_table(m, u) for m, u in zip(params.m, params.u, strict=True)]}
    sub = params.settled
    if sub is not None:
        out[EQUAL_NUMBERS] = [
            np.zeros(c.n_levels + 1) if c.decisive else weight_table(sub.m[k], params.u_random[k])
            for k, c in enumerate(layout.comparisons)
        ]
    return out


def dependence_table(params: FittedParams, layout: Layout) -> pd.DataFrame:
    """The joint sub-model's patterns: a column per non-decisive comparison (its level
    label, ``null`` for none) and ``dependence`` (bits), largest magnitude first.
    Empty without a joint sub-model."""
    joint = params.joint
    others = [layout.comparisons[k] for k in layout.others]
    if joint is None:
        return pd.DataFrame(columns=[*(c.name for c in others), "dependence"])
    levels = unpack(joint.codes, layout.base, len(others))
    frame = pd.DataFrame(
        {
            c.name: pd.Categorical.from_codes(
                levels[:, j].astype(np.int64) + 1, categories=["null", *c.level_labels]
            )
            for j, c in enumerate(others)
        }
    )
    frame["dependence"] = joint.dependence
    order = np.argsort(-np.abs(joint.dependence), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
