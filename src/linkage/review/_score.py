"""Accuracy from labels: precision, recall and F1 of the links, with 95 % intervals.

Each stratum's share of matches is estimated from its labels and scaled by its size
(its sampling weight), so a 400-pair sample speaks for every candidate pair:
true links are the matches of the link strata, false links their non-matches, and
missed matches the matches of the strata lost in the one-to-one step and under the
threshold. (Matches that blocking never proposed are out of sight.)

The intervals come from the posterior of each stratum's matches: a Beta prior per
stratum centred on the model's mean probability there, worth half a pair on its
rarer side (Jeffreys' prior where the model is unsure, and for the lost pairs, of
which it knows nothing) but never more pairs than the stratum has labels, updated
by the labels; the unlabelled pairs'
matches drawn as binomials. So a stratum's labels decide as soon as they say
anything, and where they cannot (no match among 50 labels of 80,000 pairs far under
the threshold), the model says how rare matches are. "Unsure" labels are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.exceptions import SchemaError
from linkage.io import require_columns
from linkage.trace import LINK, LOST

__all__ = ["DESIGN_COLUMNS", "Estimate", "ReviewScore", "score"]

DESIGN_COLUMNS = (
    "stratum",
    "stratum_pairs",
    "stratum_model_mean",
    "status",
    "match_weight",
    "threshold_weight",
    "label",
)
_DRAWS = 4000


@dataclass(frozen=True)
class Estimate:
    """A figure and its 95 % interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True, kw_only=True)
class ReviewScore:
    """What a review's labels say of the links.

    Attributes
    ----------
    precision, recall, f1 : Estimate
        Of the links, with 95 % intervals.
    expected_precision, expected_recall : float
        What the model's own probabilities expect (lost pairs left out of recall).
    threshold : float
        The recommended threshold (bits): the labelled weight that maximises the
        estimated F1 (the one-to-one step aside).
    threshold_probability : float
    strata : DataFrame
        Per stratum: ``pairs``, ``labelled``, ``matches``, ``rate`` (matches per
        labelled pair) with ``rate_low``/``rate_high``, ``model_mean`` and
        ``calibrated`` (the model's mean inside the rate's interval).
    labelled, unsure : int
    """

    precision: Estimate
    recall: Estimate
    f1: Estimate
    expected_precision: float
    expected_recall: float
    threshold: float
    threshold_probability: float
    strata: pd.DataFrame
    labelled: int
    unsure: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        figures = {
            name: {"value": e.value, "low": e.low, "high": e.high}
            for name, e in (("precision", self.precision), ("recall", self.recall), ("f1", self.f1))
        }
        return {
            **figures,
            "expected_precision": self.expected_precision,
            "expected_recall": self.expected_recall,
            "recommended_threshold": {
                "weight": self.threshold,
                "probability": self.threshold_probability,
            },
            "labelled": self.labelled,
            "unsure": self.unsure,
            "strata": self.strata.reset_index().to_dict(orient="records"),
        }

    def __str__(self) -> str:
        strata = self.strata.to_string(float_format=lambda x: f"{x:.4f}")
        return (
            f"{self.labelled} pairs labelled ({self.unsure} unsure, left out)\n"
            f"precision {self.precision}\nrecall    {self.recall}\nF1        {self.f1}\n"
            f"the model expects precision {self.expected_precision:.4f}, "
            f"recall {self.expected_recall:.4f}\n"
            f"recommended threshold: match weight {self.threshold:.2f} "
            f"(probability {self.threshold_probability:.4f})\n{strata}"
        )


def _normalise_labels(labels: pd.Series) -> pd.Series:
    """``match`` / ``non-match`` / ``unsure`` / '' from what a person or sheet wrote."""
    text = labels.astype("string").fillna("").str.strip().str.lower()
    text = text.replace({"m": "match", "1": "match", "true": "match", "yes": "match"})
    text = text.replace(
        {"n": "non-match", "0": "non-match", "false": "non-match", "no": "non-match"}
    )
    text = text.replace({"nonmatch": "non-match", "non match": "non-match", "u": "unsure"})
    wrong = ~text.isin(["match", "non-match", "unsure", ""])
    if wrong.any():
        row = int(np.flatnonzero(wrong.to_numpy())[0])
        raise SchemaError(
            f"a label is match, non-match, unsure or empty, got {labels.iloc[row]!r}",
            column="label",
            row=row + 2,
        )
    return text


def _beta_prior(
    mean: NDArray[np.float64], lost: NDArray[np.bool_], labelled: NDArray[np.int64]
) -> tuple[NDArray, NDArray]:
    """A Beta centred on the model's mean, worth half a pair on its rarer side (so
    a model sure of a band far under the threshold keeps its rare matches rare), but
    never more pairs than the stratum has labels, where it has some."""
    mu = np.clip(np.where(lost, 0.5, mean), 1e-9, 1 - 1e-9)
    strength = 0.5 / np.minimum(mu, 1 - mu)
    strength = np.maximum(1.0, np.where(labelled > 0, np.minimum(strength, labelled), strength))
    return strength * mu, strength * (1 - mu)


def _weighted_f1(
    weight: NDArray[np.float64],
    match: NDArray[np.float64],
    link_ok: NDArray[np.bool_],
    w: NDArray[np.float64],
    total: float,
) -> tuple[float, float]:
    """The threshold (among the labelled weights) of the highest estimated F1."""
    order = np.argsort(-w, kind="stable")
    ws, wt, mt, ok = w[order], weight[order], match[order], link_ok[order]
    links = np.cumsum(np.where(ok, wt, 0.0))
    true = np.cumsum(np.where(ok, wt * mt, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(links + total > 0, 2 * true / (links + total), 0.0)
    # A threshold between two weights: only where the next weight differs.
    last = np.r_[ws[1:] != ws[:-1], True] & ok
    if not last.any():
        return float("nan"), float("nan")
    best = int(np.flatnonzero(last)[np.argmax(f1[last])])
    return float(ws[best]), float(f1[best])


def score(labels: pd.DataFrame, *, seed: int = 0) -> ReviewScore:
    """Precision, recall and F1 of the links from a labelled review sample.

    Parameters
    ----------
    labels : DataFrame
        A sample from :func:`linkage.review.sample` with its ``label`` column filled
        in (``match``, ``non-match``, ``unsure``, or empty: not looked at).
    seed : int
        Of the posterior draws the intervals are read from.

    Returns
    -------
    ReviewScore
    """
    require_columns(labels, DESIGN_COLUMNS, source="labels")
    labels = labels.reset_index(drop=True)
    for column in ("stratum_pairs", "stratum_model_mean", "match_weight", "threshold_weight"):
        labels[column] = pd.to_numeric(labels[column], errors="raise")
    label = _normalise_labels(labels["label"])
    known = label.isin(["match", "non-match"]).to_numpy()
    is_match = (label == "match").to_numpy()
    frame = pd.DataFrame(
        {
            "stratum": labels["stratum"].astype(str).to_numpy(),
            "status": labels["status"].astype(str).to_numpy(),
            "pairs": labels["stratum_pairs"].to_numpy(np.int64),
            "model_mean": labels["stratum_model_mean"].to_numpy(np.float64),
            "labelled": known.astype(np.int64),
            "matches": (known & is_match).astype(np.int64),
        }
    )
    strata = frame.groupby("stratum", sort=False).agg(
        status=("status", "first"),
        pairs=("pairs", "first"),
        model_mean=("model_mean", "first"),
        labelled=("labelled", "sum"),
        matches=("matches", "sum"),
    )
    n_h = strata["labelled"].to_numpy(np.int64)
    x_h = strata["matches"].to_numpy(np.int64)
    big_n = strata["pairs"].to_numpy(np.int64)
    lost = (strata["status"] == LOST).to_numpy()
    is_link = (strata["status"] == LINK).to_numpy()
    a, b = _beta_prior(strata["model_mean"].to_numpy(np.float64), lost, n_h)
    rng = np.random.default_rng(seed)
    p = rng.beta(a + x_h, b + n_h - x_h, size=(_DRAWS, len(strata)))
    matches = x_h + rng.binomial(np.maximum(big_n - n_h, 0), p)
    tp = matches[:, is_link].sum(axis=1)
    fp = (big_n[is_link] - matches[:, is_link]).sum(axis=1)
    fn = matches[:, ~is_link].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * tp / (2 * tp + fp + fn)

    def estimate(draws: NDArray[np.float64]) -> Estimate:
        lo, mid, hi = np.nanquantile(draws, [0.025, 0.5, 0.975])
        return Estimate(float(mid), float(lo), float(hi))

    # Labels per stratum: Jeffreys' interval of the rate, against the model's mean.
    # (None seen: the interval reaches 0; all: it reaches 1.)
    lo_rate = np.where(x_h > 0, _beta_quantile(x_h + 0.5, n_h - x_h + 0.5, 0.025), 0.0)
    hi_rate = np.where(x_h < n_h, _beta_quantile(x_h + 0.5, n_h - x_h + 0.5, 0.975), 1.0)
    lo_rate = np.where(n_h > 0, lo_rate, np.nan)
    hi_rate = np.where(n_h > 0, hi_rate, np.nan)
    strata["rate"] = np.where(n_h > 0, x_h / np.maximum(n_h, 1), np.nan)
    strata["rate_low"], strata["rate_high"] = lo_rate, hi_rate
    mean = strata["model_mean"].to_numpy()
    strata["calibrated"] = np.where(lost | (n_h == 0), pd.NA, (mean >= lo_rate) & (mean <= hi_rate))
    expected_tp = float((big_n * mean)[is_link].sum())
    expected_fn = float((big_n * mean)[~is_link & ~lost].sum())
    links = float(big_n[is_link].sum())
    # The recommended threshold, from the labelled pairs weighted by their stratum.
    row_n = strata["labelled"].reindex(frame["stratum"]).to_numpy(np.float64)
    weight = np.where(known, frame["pairs"].to_numpy() / np.maximum(row_n, 1), 0.0)
    status = frame["status"].to_numpy()
    total = float(np.median(tp + fn))
    cut, _ = _weighted_f1(
        weight,
        is_match.astype(np.float64),
        known & (status != LOST),
        labels["match_weight"].to_numpy(np.float64),
        total,
    )
    return ReviewScore(
        precision=estimate(precision),
        recall=estimate(recall),
        f1=estimate(f1),
        expected_precision=expected_tp / links if links else float("nan"),
        expected_recall=expected_tp / (expected_tp + expected_fn)
        if expected_tp + expected_fn
        else float("nan"),
        threshold=cut,
        threshold_probability=float(1.0 / (1.0 + 2.0**-cut)),
        strata=strata,
        labelled=int(known.sum()),
        unsure=int((label == "unsure").sum()),
    )


def _beta_quantile(a: NDArray, b: NDArray, q: float) -> NDArray[np.float64]:
    """Quantiles of Beta(a, b), from draws (no scipy at run time)."""
    rng = np.random.default_rng(12345)
    draws = rng.beta(np.asarray(a, np.float64), np.asarray(b, np.float64), size=(20000, len(a)))
    return np.quantile(draws, q, axis=0)
