"""Explanation: one pair's match weight, term by term (the data of a waterfall)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from linkage.model._params import FittedParams
from linkage.model._patterns import Layout
from linkage.model._score import terms


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
        Rows: ``prior``, one per comparison, ``dependence`` (only for a pair no
        decisive comparison labels: its joint pattern's weight minus the sum of the
        comparisons'), ``total``; columns ``comparison``, ``level`` (label), ``m``,
        ``u``, ``weight`` (bits) and ``cumulative``.
    """
    gamma = layout.check(np.asarray([gamma_row], dtype=np.int8), "gamma_row")
    tf_arrays = {k: np.asarray([v], dtype=np.float64) for k, v in (tf or {}).items()}
    parts = terms(layout, params, gamma, tf_arrays)
    columns = [float(column[0]) for column in parts.columns]
    # A settled pair is judged by its own model: m among settled pairs, random u.
    sub = params.settled if parts.settled[0] else None
    settled = sub is not None
    m, u = (sub.m, params.u_random) if sub is not None else (params.m, params.u)
    rows: list[dict[str, Any]] = [
        {"comparison": "prior", "level": "", "m": np.nan, "u": np.nan, "weight": parts.prior[0]}
    ]
    for k, c in enumerate(layout.comparisons):
        level = int(gamma[0, k])
        shown = level >= 0 and not (settled and c.decisive)
        rows.append(
            {
                "comparison": c.name,
                "level": "null" if level < 0 else c.level_labels[level],
                "m": float(m[k][level]) if shown else np.nan,
                "u": float(u[k][level]) if shown else np.nan,
                "weight": columns[k],
            }
        )
    if params.joint is not None and parts.unlabelled[0]:
        rows.append(
            {
                "comparison": "dependence",
                "level": "joint pattern",
                "m": np.nan,
                "u": np.nan,
                "weight": float(parts.dependence[0]),
            }
        )
    table = pd.DataFrame(rows)
    table["cumulative"] = table["weight"].cumsum()
    total = table["weight"].sum()
    table.loc[len(table)] = {
        "comparison": "total",
        "level": "",
        "m": np.nan,
        "u": np.nan,
        "weight": total,
        "cumulative": total,
    }
    return table
