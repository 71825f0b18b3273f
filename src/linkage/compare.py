"""Comparison: an int8 level per candidate pair and comparison.

For each comparison the two columns are coded jointly once (``pd.factorize``), so
missing values and exact agreement are integer tests; only the pairs that are
neither go to one rapidfuzz ``cpdist`` call per chunk, on all cores, and the scores
are binned into levels by counting the thresholds met.

An edit distance that only asks "at most one edit?" (an identifier with a typo) on
short values is answered without rapidfuzz: two strings of one length are one edit
apart when they differ in one position, or (Damerau-Levenshtein) in two adjacent
positions swapped; that is a comparison of fixed-width character arrays, about four
times faster than ``cpdist`` on the 2 M enterprise-number pairs of the full exchange.

Levels: -1 null, 0 else, 1 .. n-2 the fuzzy thresholds from loose to tight,
n-1 exact (see :class:`linkage.config.Comparison`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Jaro, JaroWinkler, Levenshtein

from linkage.config import Comparison, Scorer
from linkage.exceptions import SchemaError

__all__ = [
    "Encoded",
    "compare",
    "compare_reference",
    "distance",
    "encode",
    "exact_match",
    "similarity",
    "term_frequencies",
]

# Similarities are scaled to [0, 1]; distances are edit counts.
_SCORERS: dict[str, tuple[Callable[..., float], float]] = {
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0),
    "jaro": (Jaro.normalized_similarity, 1.0),
    "ratio": (fuzz.ratio, 100.0),
    "token_sort_ratio": (fuzz.token_sort_ratio, 100.0),
    "token_set_ratio": (fuzz.token_set_ratio, 100.0),
    "levenshtein": (Levenshtein.distance, 1.0),
    "damerau_levenshtein": (DamerauLevenshtein.distance, 1.0),
}


def exact_match(
    column: str, *, term_frequency: bool = False, decisive: bool = False, name: str = ""
) -> Comparison:
    """Two levels: else, exact."""
    return Comparison(column=column, term_frequency=term_frequency, decisive=decisive, name=name)


def similarity(
    column: str,
    *,
    scorer: Scorer = "jaro_winkler",
    thresholds: Sequence[float] = (0.92, 0.8),
    term_frequency: bool = False,
    name: str = "",
) -> Comparison:
    """Levels else, one per similarity threshold (tightest first), exact."""
    return Comparison(
        column=column,
        kind="similarity",
        scorer=scorer,
        thresholds=tuple(thresholds),
        term_frequency=term_frequency,
        name=name,
    )


def distance(
    column: str,
    *,
    scorer: Scorer = "damerau_levenshtein",
    thresholds: Sequence[int] = (1,),
    decisive: bool = False,
    name: str = "",
) -> Comparison:
    """Levels else, one per edit-distance threshold (smallest first), exact.

    Damerau-Levenshtein distance 1 catches one wrong digit and one transposition.
    """
    return Comparison(
        column=column,
        kind="distance",
        scorer=scorer,
        thresholds=tuple(thresholds),
        decisive=decisive,
        name=name,
    )


@dataclass(frozen=True)
class Encoded:
    """One column of both frames as joint integer codes (-1 where missing).

    Attributes
    ----------
    left, right : ndarray of shape (n_left,) and (n_right,), dtype int64
    values : ndarray of object
        The distinct values; a code indexes into it.
    """

    left: NDArray[np.int64]
    right: NDArray[np.int64]
    values: NDArray[np.object_]

    @cached_property
    def fixed_width(self) -> tuple[NDArray[np.str_], NDArray[np.int64]] | None:
        """The values as fixed-width strings, and their lengths; None when the longest
        is over ``_FIXED_WIDTH_MAX`` characters."""
        lengths = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        if not len(lengths) or lengths.max() > _FIXED_WIDTH_MAX:
            return None
        return self.values.astype(f"U{max(int(lengths.max()), 1)}"), lengths


def encode(left: pd.Series, right: pd.Series) -> Encoded:
    """Code a column of both frames jointly, once for every use of it."""
    codes, uniques = pd.factorize(pd.concat([left, right], ignore_index=True))
    codes = codes.astype(np.int64)
    return Encoded(codes[: len(left)], codes[len(left) :], np.asarray(uniques, dtype=object))


# Values longer than this go to rapidfuzz: the character arrays would be too large.
_FIXED_WIDTH_MAX = 32
# Edit distances whose "at most one edit" is tested on character arrays; the flag:
# does swapping two adjacent characters count as one edit.
_ONE_EDIT = {"damerau_levenshtein": True, "levenshtein": False}


def _one_edit_apart(
    fixed: NDArray[np.str_], left: NDArray[np.int64], right: NDArray[np.int64], *, swaps: bool
) -> NDArray[np.bool_]:
    """Whether the values at codes ``left`` and ``right`` (distinct, of one length) are
    one substitution apart, or with ``swaps`` one swap of adjacent characters."""
    width = fixed.dtype.itemsize // 4
    # np.take on the 1-D strings, then a view as code points: a plain copy of rows.
    a = np.take(fixed, left).view(np.uint32).reshape(-1, width)
    b = np.take(fixed, right).view(np.uint32).reshape(-1, width)
    differ = a != b
    n_differ = np.count_nonzero(differ, axis=1)
    close = n_differ == 1
    two = np.flatnonzero(n_differ == 2)
    if swaps and width > 1 and two.size:
        first = differ[two].argmax(axis=1)
        second = np.minimum(first + 1, width - 1)
        close[two] = (
            differ[two, second]
            & (a[two, first] == b[two, second])
            & (a[two, second] == b[two, first])
        )
    return close


def _bin(scores: NDArray, comparison: Comparison) -> NDArray[np.int8]:
    """Fuzzy levels 0 .. len(thresholds) from raw scores."""
    t = np.asarray(comparison.thresholds, dtype=np.float64)
    # The level is the number of thresholds met; there are only a few thresholds.
    met = scores[:, None] >= t if comparison.kind == "similarity" else scores[:, None] <= t
    return met.sum(axis=1).astype(np.int8)


def _levels(
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    encoded: Encoded,
    comparison: Comparison,
    *,
    workers: int,
) -> NDArray[np.int8]:
    top = comparison.n_levels - 1
    null = (lcode < 0) | (rcode < 0)
    exact = (lcode == rcode) & ~null
    levels = np.where(null, -1, np.where(exact, top, 0)).astype(np.int8)
    if comparison.kind == "exact":
        return levels
    fuzzy = np.flatnonzero(~null & ~exact)
    fixed = encoded.fixed_width if _one_edit_is_enough(comparison) else None
    if fuzzy.size and fixed is not None:
        strings, lengths = fixed
        same_length = lengths[lcode[fuzzy]] == lengths[rcode[fuzzy]]
        rows = fuzzy[same_length]
        swaps = _ONE_EDIT[comparison.scorer]  # type: ignore[index]
        close = _one_edit_apart(strings, lcode[rows], rcode[rows], swaps=swaps)
        # Distance 1 or "more than one", binned like a score: equal lengths need no
        # insertion, so nothing else is one edit apart.
        levels[rows] = _bin(np.where(close, 1.0, 2.0), comparison)
        fuzzy = fuzzy[~same_length]
    if fuzzy.size:
        scorer, scale = _SCORERS[comparison.scorer]  # type: ignore[index]
        scores = process.cpdist(
            encoded.values[lcode[fuzzy]],
            encoded.values[rcode[fuzzy]],
            scorer=scorer,
            workers=workers,
            dtype=np.float32 if comparison.kind == "similarity" else np.int32,
        )
        levels[fuzzy] = _bin(np.asarray(scores, np.float64) / scale, comparison)
    return levels


def _one_edit_is_enough(comparison: Comparison) -> bool:
    """A distance comparison whose thresholds only ask "at most one edit?"."""
    return (
        comparison.kind == "distance"
        and comparison.scorer in _ONE_EDIT
        and max(comparison.thresholds, default=2) <= 1
    )


def compare(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    comparisons: Sequence[Comparison],
    *,
    chunk_size: int = 1_000_000,
    workers: int = -1,
    encoded: Mapping[str, Encoded] | None = None,
) -> NDArray[np.int8]:
    """Agreement levels of every candidate pair.

    Parameters
    ----------
    left, right : DataFrame
        Prepared frames holding each comparison's column (strings or missing).
    left_pos, right_pos : ndarray of shape (n_pairs,), dtype int32
        Candidate pairs as positions.
    comparisons : sequence of Comparison
    chunk_size : int
        Pairs per rapidfuzz call; bounds the memory of the gathered strings.
    workers : int
        Threads for rapidfuzz; -1 is all cores.
    encoded : dict of str to Encoded, optional
        Columns already coded by :func:`encode` (by column name), reused as they are.

    Returns
    -------
    gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
    """
    for comparison in comparisons:
        for frame, side in ((left, "left"), (right, "right")):
            if comparison.column not in frame.columns:
                raise SchemaError(
                    f"comparison {comparison.name!r}: {side} table lacks column "
                    f"{comparison.column!r}"
                )
    n = len(left_pos)
    gamma = np.empty((n, len(comparisons)), dtype=np.int8)
    for k, comparison in enumerate(comparisons):
        column = comparison.column
        codes = (encoded or {}).get(column) or encode(left[column], right[column])
        for start in range(0, n, chunk_size):
            chunk = slice(start, start + chunk_size)
            gamma[chunk, k] = _levels(
                codes.left[left_pos[chunk]],
                codes.right[right_pos[chunk]],
                codes,
                comparison,
                workers=workers,
            )
    return gamma


def compare_reference(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_pos: Sequence[int],
    right_pos: Sequence[int],
    comparisons: Sequence[Comparison],
) -> NDArray[np.int8]:
    """Plain-Python levels, pair by pair: the reference :func:`compare` is tested against."""
    gamma = np.empty((len(left_pos), len(comparisons)), dtype=np.int8)
    for k, c in enumerate(comparisons):
        for i, (lp, rp) in enumerate(zip(left_pos, right_pos, strict=True)):
            a, b = left[c.column].iloc[lp], right[c.column].iloc[rp]
            if pd.isna(a) or pd.isna(b):
                gamma[i, k] = -1
            elif a == b:
                gamma[i, k] = c.n_levels - 1
            elif c.kind == "exact":
                gamma[i, k] = 0
            else:
                scorer, scale = _SCORERS[c.scorer]  # type: ignore[index]
                score = scorer(a, b) / scale
                met = [score >= t if c.kind == "similarity" else score <= t for t in c.thresholds]
                gamma[i, k] = sum(met)
    return gamma


def term_frequencies(
    left: pd.Series | Encoded,
    right: pd.Series | None,
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
) -> NDArray[np.float64]:
    """Per pair, the share of all present values (both sides) equal to the pair's value.

    NaN where the two values differ or one is missing; a common name gets a high
    frequency, a rare one a low frequency. ``left`` may be the column already
    coded by :func:`encode` (``right`` then None).
    """
    codes = left if isinstance(left, Encoded) else encode(left, right)
    lcode, rcode = codes.left, codes.right
    both = np.concatenate([lcode, rcode])
    counts = np.bincount(both[both >= 0])
    total = counts.sum()
    lc, rc = lcode[left_pos], rcode[right_pos]
    same = (lc == rc) & (lc >= 0)
    tf = np.full(len(lc), np.nan)
    tf[same] = counts[lc[same]] / total
    return tf
