"""Evaluation: how good are the links, and how good was blocking.

Reads outputs (links, candidate pairs, truth); no stage imports it. Pairs are
compared by their ids with inner merges, never pair by pair.

:func:`check_pairs` checks that the columns named as ids are ids before anything
is counted, so that two columns that are not ids give an error rather than a
precision of zero (``linkage evaluate`` calls it on the files it is given). The
counting functions themselves only need the columns to exist: they count each
pair once, and a slice of links may share no id with its slice of the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.exceptions import SchemaError
from linkage.io import require_columns

__all__ = ["LinkQuality", "check_pairs", "link_quality", "threshold_sweep"]


@dataclass(frozen=True)
class LinkQuality:
    """Pairwise counts and rates of a set of links against the truth."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f}, recall {self.recall:.4f}, F1 {self.f1:.4f} "
            f"({self.true_positives:,} true, {self.false_positives:,} false links, "
            f"{self.false_negatives:,} missed)"
        )


def _key(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.loc[:, list(columns)].astype("string").set_axis(["_l", "_r"], axis=1)


def check_pairs(
    links: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    on: Sequence[str],
    truth_on: Sequence[str] | None = None,
) -> None:
    """Raise :class:`SchemaError` unless ``on`` and ``truth_on`` are id columns.

    Each pair of columns must exist in its table and be two columns; no id may be
    missing and no pair repeat; and the links' ids must meet the truth's: some
    left id of the links is a left id of the truth, and likewise on the right
    (unless either table is empty). Errors name ``links`` or ``truth``, the
    column and the row, never an id.
    """
    truth_on = truth_on or on
    for table, columns, source in ((links, on, "links"), (truth, truth_on, "truth")):
        if len(columns) != 2 or columns[0] == columns[1]:
            raise SchemaError(
                f"expected two different id columns, got {list(columns)}", source=source
            )
        require_columns(table, columns, source=source)
        for column in columns:
            absent = table[column].isna().to_numpy(dtype=bool)
            if absent.any():
                raise SchemaError(
                    "missing id", source=source, column=column, row=int(absent.argmax()) + 1
                )
        repeated = table.duplicated(subset=list(columns), keep="first").to_numpy(dtype=bool)
        if repeated.any():
            row = int(repeated.argmax())
            raise SchemaError(
                f"the pair ({columns[0]!r}, {columns[1]!r}) repeats: not id columns?",
                source=source,
                column=columns[0],
                row=row + 1,
            )
    if links.empty or truth.empty:
        return
    for side in (0, 1):
        ours = links[on[side]].astype("string")
        if not ours.isin(truth[truth_on[side]].astype("string")).any():
            other = truth[truth_on[1 - side]].astype("string")
            swapped = " (left and right swapped?)" if ours.isin(other).any() else ""
            raise SchemaError(
                f"no id is an id of truth column {truth_on[side]!r}{swapped}: "
                "not the id columns, or links and truth of different tables?",
                source="links",
                column=on[side],
            )


def _is_true(
    links: pd.DataFrame, truth: pd.DataFrame, on: Sequence[str], truth_on: Sequence[str]
) -> np.ndarray:
    flagged = _key(links, on).merge(
        _key(truth, truth_on).drop_duplicates(), how="left", on=["_l", "_r"], indicator=True
    )
    return (flagged["_merge"] == "both").to_numpy()


def link_quality(
    links: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    on: Sequence[str],
    truth_on: Sequence[str] | None = None,
) -> LinkQuality:
    """Precision, recall and F1 of ``links`` against ``truth``.

    Parameters
    ----------
    links, truth : DataFrame
        One row per pair.
    on : pair of str
        The left and right id columns of ``links``.
    truth_on : pair of str, optional
        The same columns in ``truth``, if named otherwise.
    """
    truth_on = truth_on or on
    require_columns(links, on, source="links")
    require_columns(truth, truth_on, source="truth")
    unique = links.drop_duplicates(subset=list(on))
    hits = int(_is_true(unique, truth, on, truth_on).sum())
    n_truth = len(truth.drop_duplicates(subset=list(truth_on)))
    return LinkQuality(hits, len(unique) - hits, n_truth - hits)


def _scores(values: pd.Series) -> NDArray[np.float64]:
    """The score column as floats; a value that is not a number is a SchemaError."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(
            "expected a number", source="links", column=str(values.name), row=int(bad.argmax()) + 1
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def threshold_sweep(
    links: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    on: Sequence[str],
    truth_on: Sequence[str] | None = None,
    score: str = "match_probability",
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 of the links whose ``score`` reaches each threshold.

    For links from a greedy one-to-one assignment at a low threshold this is exact:
    raising the threshold removes the weakest links and changes no other.
    """
    truth_on = truth_on or on
    require_columns(links, (*on, score), source="links")
    require_columns(truth, truth_on, source="truth")
    n_truth = len(truth.drop_duplicates(subset=list(truth_on)))
    hits = _is_true(links, truth, on, truth_on)
    scores = _scores(links[score])
    cuts: Sequence[float] | NDArray[np.float64] = (
        thresholds
        if thresholds is not None
        else np.unique(np.quantile(scores, np.linspace(0, 1, 101)))
        if len(scores)
        else ()
    )
    order = np.argsort(-scores, kind="stable")
    ranked, cum_hits = scores[order], np.cumsum(hits[order])
    rows = []
    for t in cuts:
        n = int(np.searchsorted(-ranked, -t, side="right"))
        tp = int(cum_hits[n - 1]) if n else 0
        q = LinkQuality(tp, n - tp, n_truth - tp)
        rows.append({"threshold": float(t), "links": n, **q.to_dict()})
    return pd.DataFrame(rows)
