"""Drawing a review sample: stratified over match-weight bands, both records beside it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from linkage.exceptions import ConfigError, SchemaError
from linkage.io import require_columns
from linkage.review._strata import allocate, assign
from linkage.trace import BELOW, LINK, LOST

__all__ = ["LABELS", "sample"]

#: What a reviewer may say of a pair (an empty label: not yet looked at).
LABELS = ("match", "non-match", "unsure")

_PAIR_COLUMNS = ("left_id", "right_id", "match_weight", "match_probability")


def _bits(probability: float) -> float:
    if not 0.0 < probability < 1.0:
        raise ConfigError(f"threshold: a match probability in (0, 1), got {probability!r}")
    return float(np.log2(probability / (1.0 - probability)))


def _status(
    pairs: pd.DataFrame, links: pd.DataFrame | None, threshold: float | None
) -> tuple[pd.Series, float]:
    """Each pair's status and the threshold in bits.

    The status as the pairs file says, else from the links and the threshold; the
    threshold as given (a probability), else the least weight that linked.
    """
    weights = pairs["match_weight"]
    if "status" in pairs.columns:
        status = pairs["status"].astype(str).reset_index(drop=True)
        linked = status.isin([LINK, LOST]).to_numpy()
    elif links is None:
        raise SchemaError(
            "the pairs have no 'status' column: give the links too, or write the pairs "
            "with linkage link --pairs-out",
            source="pairs",
        )
    else:
        ids = links.iloc[:, :2].set_axis(["left_id", "right_id"], axis=1)
        linked = pd.MultiIndex.from_frame(pairs[["left_id", "right_id"]]).isin(
            pd.MultiIndex.from_frame(ids)
        )
    if threshold is not None:
        cut = _bits(threshold)
    elif "threshold_weight" in pairs.columns:
        cut = float(pairs["threshold_weight"].iloc[0])
    elif linked.any():
        cut = float(weights[linked].min())
    else:
        raise ConfigError("no pair reached the threshold: give it (threshold=)")
    if "status" not in pairs.columns:
        over = weights.to_numpy() >= cut
        status = pd.Series(np.where(linked, LINK, np.where(over, LOST, BELOW)))
    return status, cut


def _fields(
    left: pd.DataFrame | None,
    right: pd.DataFrame | None,
    left_columns: Sequence[str] | None,
    right_columns: Sequence[str] | None,
    ids: tuple[str | None, str | None],
) -> list[tuple[str, str | None, str | None]]:
    """The values shown side by side: (label, left column, right column)."""
    if left is None or right is None:
        return []
    if left_columns is None and right_columns is None:
        shared = [c for c in left.columns if c in right.columns and c not in ids]
        if shared:
            return [(c, c, c) for c in shared]
        left_columns = [c for c in left.columns if c != ids[0]]
        right_columns = [c for c in right.columns if c != ids[1]]
    lcols = list(left_columns if left_columns is not None else right_columns or ())
    rcols = list(right_columns if right_columns is not None else left_columns or ())
    require_columns(left, lcols, source="left table")
    require_columns(right, rcols, source="right table")
    n = max(len(lcols), len(rcols))
    lpad = lcols + [None] * (n - len(lcols))
    rpad = rcols + [None] * (n - len(rcols))
    return [(_label(lc, rc), lc, rc) for lc, rc in zip(lpad, rpad, strict=True)]


def _label(left: str | None, right: str | None) -> str:
    """A shown field's name: the column's, or both where they differ."""
    if left is None or right is None or left == right:
        return str(left if right is None else right)
    return f"{left} / {right}"


def _values(table: pd.DataFrame, id_column: str, ids: pd.Series, column: str) -> pd.Series:
    """``table[column]`` of the records with ``ids``, as text ('' for missing)."""
    position = pd.Index(table[id_column]).get_indexer(ids)
    if (position < 0).any():
        missing = ids[position < 0].iloc[0]
        raise SchemaError(f"no record with id {missing!r}", column=id_column)
    values = table[column].to_numpy(dtype=object)[position]
    return pd.Series(values, index=ids.index).astype("string").fillna("")


def sample(
    pairs: pd.DataFrame,
    *,
    links: pd.DataFrame | None = None,
    left: pd.DataFrame | None = None,
    right: pd.DataFrame | None = None,
    n: int = 400,
    threshold: float | None = None,
    seed: int = 0,
    left_id: str | None = None,
    right_id: str | None = None,
    left_columns: Sequence[str] | None = None,
    right_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A stratified review sample of candidate pairs, with both records' values.

    Parameters
    ----------
    pairs : DataFrame
        Every scored candidate pair, as :meth:`LinkResult.scored_pairs` or
        ``linkage link --pairs-out`` writes them.
    links : DataFrame, optional
        The links (first two columns: the ids); needed only if ``pairs`` has no
        ``status``.
    left, right : DataFrame, optional
        The linked tables, for the records' values.
    n : int
        Pairs to draw (fewer if there are fewer).
    threshold : float, optional
        The link threshold as a probability; by default the least weight that linked.
    seed : int
    left_id, right_id : str, optional
        The tables' id columns; by default their first columns.
    left_columns, right_columns : sequence of str, optional
        The values to show, side by side in this order; by default the columns the
        two tables share (ids apart), else all of each.

    Returns
    -------
    DataFrame
        One row per drawn pair, by stratum then weight: ``pair``, ``stratum``,
        ``stratum_pairs`` (N), ``stratum_sampled`` (n), ``sampling_weight`` (N / n),
        ``stratum_model_mean`` (the model's mean probability over the stratum),
        ``threshold_weight``, the pairs' own columns, ``left.<col>`` and
        ``right.<col>`` values, and empty ``label`` and ``notes``.
    """
    require_columns(pairs, _PAIR_COLUMNS, source="pairs")
    numbers = [c for c in ("match_weight", "match_probability", "threshold_weight") if c in pairs]
    pairs = pairs.reset_index(drop=True).astype({c: np.float64 for c in numbers})
    if n < 1:
        raise ConfigError(f"n: the number of pairs to draw, at least 1, got {n!r}")
    status, cut = _status(pairs, links, threshold)
    weights = pairs["match_weight"].to_numpy(np.float64)
    stratum = assign(weights, status.to_numpy(object), cut)
    frame = pd.DataFrame({"stratum": stratum, "q": pairs["match_probability"].to_numpy()})
    grouped = frame.groupby("stratum", observed=True)["q"]
    sizes, means = grouped.size(), grouped.mean()
    take = allocate(sizes, means, n, lost=pd.Series(sizes.index == LOST, index=sizes.index))
    # A seeded random key per pair; the smallest keys of each stratum are drawn.
    key = np.random.default_rng(seed).random(len(pairs))
    order = np.lexsort((key, stratum.codes))
    rank = frame.iloc[order].groupby("stratum", observed=True).cumcount().to_numpy()
    quota = take.reindex(stratum.categories, fill_value=0).to_numpy()
    chosen = np.sort(order[rank < quota[stratum.codes[order]]])
    out = pairs.iloc[chosen].reset_index(drop=True)
    s = pd.Series(stratum[chosen])
    design = pd.DataFrame(
        {
            "stratum": s.astype(str),
            "stratum_pairs": s.map(sizes).astype(np.int64),
            "stratum_sampled": s.map(take).astype(np.int64),
            "stratum_model_mean": s.map(means).astype(np.float64),
        }
    )
    design["sampling_weight"] = design["stratum_pairs"] / design["stratum_sampled"]
    design["threshold_weight"] = cut
    out = out.drop(columns=["status", "threshold_weight"], errors="ignore")
    out = pd.concat([design, out], axis=1)
    out.insert(5, "status", status.iloc[chosen].to_numpy())
    # By stratum (in their order: links from the top, lost, then below), then weight.
    out = out.iloc[np.lexsort((-out["match_weight"].to_numpy(), stratum.codes[chosen]))]
    out = out.reset_index(drop=True)
    out.insert(0, "pair", np.arange(len(out)))
    lid = left_id or (None if left is None else str(left.columns[0]))
    rid = right_id or (None if right is None else str(right.columns[0]))
    for label, lcol, rcol in _fields(left, right, left_columns, right_columns, (lid, rid)):
        assert left is not None and right is not None and lid and rid
        out[f"left.{label}"] = "" if lcol is None else _values(left, lid, out["left_id"], lcol)
        out[f"right.{label}"] = "" if rcol is None else _values(right, rid, out["right_id"], rcol)
    out["label"] = ""
    out["notes"] = ""
    return out
