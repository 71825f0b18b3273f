"""Clerical review: a stratified sample of pairs to label, the labelling page, and
the accuracy of the links estimated from the labels.

    >>> from linkage import review                                  # doctest: +SKIP
    >>> drawn = review.sample(result.scored_pairs(), left=a, right=b, n=400)  # doctest: +SKIP
    >>> review.write(drawn, "review/")  # sample.csv, sample.parquet, review.html  # doctest: +SKIP
    >>> print(review.score(review.read_labels("labels.csv")))      # doctest: +SKIP
    >>> better = review.fit(review.read_labels("labels.csv"), result.model)  # doctest: +SKIP

The sample (:func:`sample`) is drawn over match-weight bands around the threshold
(:mod:`linkage.review._strata`), with the pairs lost in the one-to-one step as a
stratum of their own; every row carries its stratum's size and sampling weight, so
the labels file alone is enough to score (:func:`score`) and to learn the model's
``m`` and ``u`` from (:func:`fit`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from linkage.io import read_table, write_table
from linkage.review._fit import fit
from linkage.review._page import render, write_page
from linkage.review._sample import LABELS, sample
from linkage.review._score import Estimate, ReviewScore, score

__all__ = [
    "LABELS",
    "Estimate",
    "ReviewScore",
    "fit",
    "read_labels",
    "render",
    "sample",
    "score",
    "write",
    "write_page",
]


def write(drawn: pd.DataFrame, folder: str | Path, *, title: str = "review sample") -> Path:
    """Write a sample as ``sample.csv``, ``sample.parquet`` and ``review.html``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_table(drawn, folder / "sample.csv")
    write_table(drawn, folder / "sample.parquet")
    write_page(drawn, folder / "review.html", title=title)
    return folder


def read_labels(path: str | Path) -> pd.DataFrame:
    """A labelled sample (the page's ``labels.csv``, or a sample filled in by hand)."""
    return read_table(path, required=("stratum", "label"))
