"""Blocking rules one by one: pairs, skipped pairs, and the true pairs each finds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from linkage.blocking import candidate_pairs
from linkage.charts.data._pairs import _pack
from linkage.config import LinkSpec
from linkage.prepare import prepare

__all__ = ["blocking_report"]


def blocking_report(
    left: pd.DataFrame,
    right: pd.DataFrame,
    spec: LinkSpec,
    truth: pd.DataFrame | None = None,
    *,
    on: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per blocking rule: pairs, pairs skipped in oversized blocks and, with
    ``truth``, the true pairs found, pair completeness and the true pairs only that
    rule finds. A last row ``all rules`` gives the union.

    Runs each rule on its own over freshly prepared tables (parent blocking of
    child tables is not included).
    """
    needed = {c for rule in spec.blocking for c in rule.columns}
    fields = [f for f in spec.fields if f.name in needed]
    lp = prepare(left, fields, side="left", source="left")
    rp = prepare(right, fields, side="right", source="right")
    n_right = len(rp)
    wanted = None
    if truth is not None:
        lcol, rcol = on if on is not None else (spec.left_id, spec.right_id)
        lpos = pd.Index(left[spec.left_id].to_numpy()).get_indexer(truth[lcol].to_numpy())
        rpos = pd.Index(right[spec.right_id].to_numpy()).get_indexer(truth[rcol].to_numpy())
        known = (lpos >= 0) & (rpos >= 0)
        wanted = np.unique(_pack(lpos[known], rpos[known], n_right))
    rows: list[dict[str, Any]] = []
    found = []
    for rule in spec.blocking:
        pairs = candidate_pairs(lp, rp, [rule])
        row = {"rule": rule.name, "pairs": len(pairs), "skipped": pairs.skipped.get(rule.name, 0)}
        if wanted is not None:
            hit = np.isin(wanted, _pack(pairs.left, pairs.right, n_right))
            found.append(hit)
            row["true_pairs"] = int(hit.sum())
        rows.append(row)
    union = candidate_pairs(lp, rp, spec.blocking)
    total = {"rule": "all rules", "pairs": len(union), "skipped": sum(r["skipped"] for r in rows)}
    report = pd.DataFrame(rows)
    if wanted is not None:
        hits = np.vstack(found) if found else np.zeros((0, len(wanted)), bool)
        report["only_rule"] = (hits & (hits.sum(axis=0) == 1)).sum(axis=1)
        total["true_pairs"] = int(hits.any(axis=0).sum())
        total["only_rule"] = np.nan
    report = pd.concat([report, pd.DataFrame([total])], ignore_index=True)
    if wanted is not None:
        report["completeness"] = report["true_pairs"] / len(wanted) if len(wanted) else 1.0
    return report.set_index("rule")
