"""Candidate pairs against the truth: labels, errors, review samples, threshold sweeps.

Like :mod:`linkage.evaluate`, these read a run's outputs (a
:class:`~linkage.pipeline.LinkResult`, the input tables, a truth table). Pairs are
matched by packed positions (``left * n_right + right``) with ``np.isin``, never
pair by pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.comparisons import Comparison
from linkage.evaluate import threshold_sweep
from linkage.exceptions import SchemaError
from linkage.model import weight_to_probability
from linkage.resolve import one_to_one, probability_to_weight

if TYPE_CHECKING:
    from linkage.config import LinkSpec
    from linkage.pipeline import LinkResult

__all__ = [
    "classify_pairs",
    "level_labels",
    "linked_mask",
    "misclassified",
    "record_columns",
    "review_sample",
    "sweep",
    "threshold_weight",
    "truth_labels",
    "truth_positions",
]

NOT_A_CANDIDATE = "not a candidate"


# ------------------------------------------------------------------ pairs and truth


def _pack(left: NDArray[np.integer], right: NDArray[np.integer], n_right: int) -> NDArray[np.int64]:
    return np.asarray(left, np.int64) * max(n_right, 1) + np.asarray(right, np.int64)


def _truth_on(result: LinkResult, on: Sequence[str] | None) -> tuple[str, str]:
    if on is None:
        return result.spec.left_id, result.spec.right_id
    if len(on) != 2:
        raise ValueError(f"on: expected the left and right id columns of the truth, got {on!r}")
    return on[0], on[1]


def threshold_weight(result: LinkResult) -> float:
    """The link threshold of ``result``'s spec, in match-weight bits."""
    return probability_to_weight(result.spec.threshold)


def truth_positions(
    result: LinkResult, truth: pd.DataFrame, *, on: Sequence[str] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The true pairs as positions into the linked tables.

    Parameters
    ----------
    result : LinkResult
    truth : DataFrame
        One row per true pair.
    on : pair of str, optional
        The left and right id columns of ``truth``; by default the spec's id columns.

    Returns
    -------
    left, right : ndarray of shape (n_true,), dtype int64
        Unique pairs; ids absent from either table are left out.
    """
    lcol, rcol = _truth_on(result, on)
    missing = [c for c in (lcol, rcol) if c not in truth.columns]
    if missing:
        raise SchemaError(
            f"truth: missing id column(s) {missing}; found {list(truth.columns)}; "
            f"pass on=(left_id_column, right_id_column)"
        )
    left = result.left_ids.get_indexer(truth[lcol].to_numpy())
    right = result.right_ids.get_indexer(truth[rcol].to_numpy())
    known = (left >= 0) & (right >= 0)
    packed = np.unique(_pack(left[known], right[known], len(result.right_ids)))
    n_right = max(len(result.right_ids), 1)
    return packed // n_right, packed % n_right


def truth_labels(
    result: LinkResult, truth: pd.DataFrame, *, on: Sequence[str] | None = None
) -> NDArray[np.bool_]:
    """Whether each candidate pair is a true match.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype bool
    """
    tl, tr = truth_positions(result, truth, on=on)
    n_right = len(result.right_ids)
    return np.isin(_pack(result.pairs.left, result.pairs.right, n_right), _pack(tl, tr, n_right))


def linked_mask(result: LinkResult) -> NDArray[np.bool_]:
    """Whether each candidate pair became a link.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype bool
    """
    links = result.links
    left = result.left_ids.get_indexer(links.iloc[:, 0].to_numpy())
    right = result.right_ids.get_indexer(links.iloc[:, 1].to_numpy())
    n_right = len(result.right_ids)
    candidates = _pack(result.pairs.left, result.pairs.right, n_right)
    return np.isin(candidates, _pack(left, right, n_right))


def level_labels(gamma: NDArray[np.int8], comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Levels as their labels (``null``, ``else``, ..., ``exact``), a column per comparison.

    Parameters
    ----------
    gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
    comparisons : sequence of Comparison
    """
    columns = {}
    for k, c in enumerate(comparisons):
        categories = ["null", *c.level_labels]
        columns[c.name] = pd.Categorical.from_codes(
            np.asarray(gamma[:, k], np.int64) + 1, categories=categories
        )
    return pd.DataFrame(columns)


def _sides(
    columns: Sequence[str] | Mapping[str, str],
    left: pd.DataFrame | None,
    right: pd.DataFrame | None,
) -> tuple[list[str], list[str]]:
    """The columns to show of each table: the same names, or a mapping of the left
    table's to the right's (``{"name": "bedrijfsnaam"}``); each checked against its
    table."""
    if isinstance(columns, Mapping):
        lcols, rcols = [str(c) for c in columns], [str(c) for c in columns.values()]
    else:
        lcols = rcols = [str(c) for c in columns]
    hint = (
        "; columns named differently in the two tables: pass a mapping, e.g. "
        "columns={'name': 'bedrijfsnaam'}, or cd.record_columns(spec)"
    )
    for table, cols, side in ((left, lcols, "left"), (right, rcols, "right")):
        if table is None:
            continue
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise SchemaError(
                f"no column(s) {missing} in the {side} table (it has {list(table.columns)})" + hint,
                source=side,
            )
    return lcols, rcols


def _records(
    frame: pd.DataFrame,
    table: pd.DataFrame | None,
    positions: NDArray[np.integer],
    columns: Sequence[str],
    suffix: str,
) -> pd.DataFrame:
    """Columns of the input records beside each pair (``-1`` positions give missing)."""
    if table is None or not columns:
        return frame
    positions = np.asarray(positions, np.int64)
    part = table.reset_index(drop=True).loc[:, list(columns)]
    part = part.reindex(np.where(positions < 0, len(part), positions)).reset_index(drop=True)
    return frame.join(part.add_suffix(suffix))


def record_columns(spec: LinkSpec, fields: Sequence[str] | None = None) -> dict[str, str]:
    """The input columns the spec's fields read, left name to right name: what
    ``columns=`` of :func:`review_sample` and :func:`misclassified` takes when the
    two tables name them differently.

    Parameters
    ----------
    fields : sequence of str, optional
        Names of the spec's fields (``name``, ``address``, ...); all by default.
    """
    out: dict[str, str] = {}
    for f in spec.fields:
        if fields is not None and f.name not in fields:
            continue
        lsrc = f.left_source or f.source
        rsrc = f.right_source or f.source
        out.update(zip(lsrc, rsrc, strict=False))
    return out


def classify_pairs(
    result: LinkResult,
    truth: pd.DataFrame | None = None,
    *,
    on: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every candidate pair: ids, level labels, weight, probability, ``linked``.

    With ``truth``, also ``is_match`` and ``outcome`` (``true link``, ``false link``,
    ``missed``, ``true non-link``).
    """
    frame = pd.DataFrame(
        {
            "left_id": result.left_ids[result.pairs.left],
            "right_id": result.right_ids[result.pairs.right],
            "match_weight": result.weights,
            "match_probability": weight_to_probability(result.weights),
            "linked": linked_mask(result),
        }
    )
    frame = frame.join(level_labels(result.gamma, result.spec.comparisons))
    if truth is not None:
        frame["is_match"] = truth_labels(result, truth, on=on)
        frame["outcome"] = np.select(
            [frame["linked"] & frame["is_match"], frame["linked"], frame["is_match"]],
            ["true link", "false link", "missed"],
            default="true non-link",
        )
    return frame


def misclassified(
    result: LinkResult,
    truth: pd.DataFrame,
    *,
    on: Sequence[str] | None = None,
    left: pd.DataFrame | None = None,
    right: pd.DataFrame | None = None,
    columns: Sequence[str] | Mapping[str, str] = (),
) -> pd.DataFrame:
    """False links and missed true pairs, with their comparison levels.

    Missed pairs that blocking never proposed have no weight and the level
    ``not a candidate``. Give ``left``, ``right`` and ``columns`` to see those
    columns of both records beside each pair (suffixes ``_l`` and ``_r``);
    ``columns`` maps the left table's names to the right's where they differ
    (``{"name": "bedrijfsnaam"}``, or :func:`record_columns` of the spec).

    Returns
    -------
    DataFrame
        False links first, then missed pairs, each by descending weight.
    """
    lcols, rcols = _sides(columns, left, right)
    frame = classify_pairs(result, truth, on=on)
    frame["left_pos"], frame["right_pos"] = result.pairs.left, result.pairs.right
    wrong = frame[frame["outcome"].isin(["false link", "missed"])]
    # True pairs blocking never proposed.
    tl, tr = truth_positions(result, truth, on=on)
    n_right = len(result.right_ids)
    unseen = ~np.isin(_pack(tl, tr, n_right), _pack(result.pairs.left, result.pairs.right, n_right))
    names = [c.name for c in result.spec.comparisons]
    lost = pd.DataFrame(
        {
            "left_id": result.left_ids[tl[unseen]],
            "right_id": result.right_ids[tr[unseen]],
            "match_weight": np.nan,
            "match_probability": np.nan,
            "linked": False,
            **dict.fromkeys(names, NOT_A_CANDIDATE),
            "is_match": True,
            "outcome": "missed",
            "left_pos": tl[unseen],
            "right_pos": tr[unseen],
        }
    )
    parts = [p for p in (wrong.astype({n: "object" for n in names}), lost) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else wrong.reset_index(drop=True)
    out = out.sort_values(
        ["outcome", "match_weight"], ascending=[True, False], na_position="last", kind="stable"
    ).reset_index(drop=True)
    out = _records(out, left, out["left_pos"].to_numpy(), lcols, "_l")
    out = _records(out, right, out["right_pos"].to_numpy(), rcols, "_r")
    return out.drop(columns=["left_pos", "right_pos", "is_match"])


def review_sample(
    result: LinkResult,
    *,
    n: int = 20,
    width: float = 5.0,
    seed: int = 0,
    truth: pd.DataFrame | None = None,
    on: Sequence[str] | None = None,
    left: pd.DataFrame | None = None,
    right: pd.DataFrame | None = None,
    columns: Sequence[str] | Mapping[str, str] = (),
) -> pd.DataFrame:
    """A clerical review sample: candidate pairs within ``width`` bits of the threshold.

    Pairs on both sides of the threshold, so that a reviewer sees links that nearly
    were not and pairs that nearly were; ``linked`` tells which. Sorted by weight,
    highest first; fewer than ``n`` rows if fewer pairs are that close. ``columns``
    of both records are shown beside each pair (suffixes ``_l`` and ``_r``): the same
    names in both tables, or a mapping of the left table's names to the right's
    (``{"name": "bedrijfsnaam"}``, or :func:`record_columns` of the spec).

    For a stratified sample to label, with accuracy estimated from the labels, see
    :func:`linkage.review.sample`.
    """
    lcols, rcols = _sides(columns, left, right)
    frame = classify_pairs(result, truth, on=on)
    frame["left_pos"], frame["right_pos"] = result.pairs.left, result.pairs.right
    cut = threshold_weight(result)
    near = frame[(frame["match_weight"] - cut).abs() <= width]
    if len(near) > n:
        near = near.sample(n=n, random_state=seed)
    near = near.sort_values("match_weight", ascending=False, kind="stable").reset_index(drop=True)
    near = _records(near, left, near["left_pos"].to_numpy(), lcols, "_l")
    near = _records(near, right, near["right_pos"].to_numpy(), rcols, "_r")
    return near.drop(columns=["left_pos", "right_pos"])


def sweep(
    result: LinkResult,
    truth: pd.DataFrame,
    *,
    on: Sequence[str] | None = None,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 against the match-weight threshold.

    The candidate pairs are resolved again (one-to-one if the spec says so) at the
    lowest threshold, then :func:`linkage.evaluate.threshold_sweep` raises it; for
    the greedy assignment that gives the links each threshold would have given.

    Parameters
    ----------
    thresholds : sequence of float, optional
        Match weights (bits); by default every half bit within 20 bits of the spec's
        threshold.

    Returns
    -------
    DataFrame
        Columns ``threshold`` (bits), ``links``, counts, ``precision``, ``recall``, ``f1``.
    """
    cut = threshold_weight(result)
    cuts = np.sort(
        np.arange(np.floor(cut) - 20, np.ceil(cut) + 20.25, 0.5)
        if thresholds is None
        else np.asarray(thresholds, np.float64)
    )
    lowest = float(cuts[0]) if cuts.size else cut
    pairs, weights = result.pairs, result.weights
    if result.spec.one_to_one:
        chosen = one_to_one(pairs.left, pairs.right, weights, min_weight=lowest)
    else:
        chosen = weights >= lowest
    lcol, rcol = _truth_on(result, on)
    links = pd.DataFrame(
        {
            lcol: result.left_ids[pairs.left[chosen]],
            rcol: result.right_ids[pairs.right[chosen]],
            "match_weight": weights[chosen],
        }
    )
    return threshold_sweep(
        links, truth, on=(lcol, rcol), score="match_weight", thresholds=cuts.tolist()
    )
