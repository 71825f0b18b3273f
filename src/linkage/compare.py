"""Comparison: an int8 level per candidate pair and comparison.

For each comparison the two columns are coded jointly once (:func:`linkage._codes.encode`,
reused from blocking), and each comparison computes its levels from the codes in
chunks (:meth:`linkage.comparisons.Comparison.levels`): missing values and exact
agreement are integer tests, and only the pairs that are neither reach a string
kernel (rapidfuzz ``cpdist`` on all cores, or fixed-width character arrays).

Levels: -1 null, 0 else, 1 .. n-2 the fuzzy thresholds from loose to tight,
n-1 exact (see :mod:`linkage.comparisons`).

:func:`record_keys` gives every record a 64-bit key of the values it is compared on:
what follows a record whatever its row, for the random pairs of the fit and for the
order in which tied pairs are resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage._codes import Encoded, encode
from linkage.comparisons import Comparison
from linkage.io import require_columns

__all__ = [
    "TermFrequencies",
    "compare",
    "compare_reference",
    "compare_with_frequencies",
    "record_keys",
    "term_frequencies",
]


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
    gamma, _ = _compared(
        left, right, left_pos, right_pos, comparisons, chunk_size, workers, encoded, False
    )
    return gamma


def compare_with_frequencies(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    comparisons: Sequence[Comparison],
    *,
    chunk_size: int = 1_000_000,
    workers: int = -1,
    encoded: Mapping[str, Encoded] | None = None,
) -> tuple[NDArray[np.int8], dict[str, NDArray[np.float64]]]:
    """:func:`compare`, and the :func:`term_frequencies` of every comparison that
    uses them (by its name), taken from the codes gathered for its levels."""
    return _compared(
        left, right, left_pos, right_pos, comparisons, chunk_size, workers, encoded, True
    )


def _compared(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    comparisons: Sequence[Comparison],
    chunk_size: int,
    workers: int,
    encoded: Mapping[str, Encoded] | None,
    frequencies: bool,
) -> tuple[NDArray[np.int8], dict[str, NDArray[np.float64]]]:
    for frame, side in ((left, "left"), (right, "right")):
        require_columns(frame, [c.column for c in comparisons], source=f"{side} table")
    n = len(left_pos)
    gamma = np.empty((n, len(comparisons)), dtype=np.int8)
    tf: dict[str, NDArray[np.float64]] = {}

    def fill(k: int) -> None:
        comparison = comparisons[k]
        column = comparison.column
        codes = (encoded or {}).get(column) or encode(left[column], right[column])
        shares = None
        if frequencies and comparison.term_frequency:
            shares, reference = _shares(codes)
            tf[comparison.name] = _unset(n, reference)
        for start in range(0, n, chunk_size):
            chunk = slice(start, start + chunk_size)
            lcode, rcode = codes.left[left_pos[chunk]], codes.right[right_pos[chunk]]
            gamma[chunk, k] = comparison.levels(lcode, rcode, codes, workers=workers)
            if shares is not None:
                _set_shares(tf[comparison.name][chunk], lcode, rcode, shares)

    # Two comparisons at a time, each its own column (numpy and rapidfuzz let go of
    # the GIL); an error is raised here.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(fill, range(len(comparisons))))
    return gamma, {c.name: tf[c.name] for c in comparisons if c.name in tf}


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
            gamma[i, k] = c.level_of(left[c.column].iloc[lp], right[c.column].iloc[rp])
    return gamma


class TermFrequencies(np.ndarray):
    """Per pair, the share of all present values equal to the pair's value (NaN where
    the values differ or one is missing); ``reference`` is the share a pair of the
    whole cross product shares when it agrees (see :func:`term_frequencies`).

    A plain float64 array in every other respect: the model reads ``reference`` off
    it when fitting, and only the values when scoring.
    """

    reference: float | None

    def __array_finalize__(self, obj: object) -> None:
        self.reference = getattr(obj, "reference", None)


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

    The result, a :class:`TermFrequencies`, carries ``reference``: the mean
    frequency over every left-right pair of the two tables that agrees,
    ``sum(a * b * f) / sum(a * b)`` over the values (``a``, ``b`` their counts per
    side, ``f`` their share), which a comparison with ``tf_reference="tables"``
    judges an exact match against. It depends on the tables, not on the pairs
    blocking proposed: the mean over the candidate pairs instead falls as blocking
    splits the blocks of common values (a lower cap, a larger table), and with it
    the weight of every exact match. None when no value is on both sides.
    """
    codes = left if isinstance(left, Encoded) else encode(left, right)
    shares, reference = _shares(codes)
    tf = _unset(len(left_pos), reference)
    _set_shares(tf, codes.left[left_pos], codes.right[right_pos], shares)
    return tf


def _shares(codes: Encoded) -> tuple[NDArray[np.float64], float | None]:
    """Each value's share of all present values (both sides), and the reference of
    :func:`term_frequencies`."""
    lcode, rcode = codes.left, codes.right
    n_codes = len(codes.values)
    left_counts = np.bincount(lcode[lcode >= 0], minlength=n_codes)
    right_counts = np.bincount(rcode[rcode >= 0], minlength=n_codes)
    counts = left_counts + right_counts
    total = counts.sum()
    # Sums of integers, exact: the same tables in any row order give the same float.
    agreeing = left_counts * right_counts
    weight = int(agreeing.sum())
    reference = float(int((agreeing * counts).sum()) / total / weight) if weight else None
    return counts / max(total, 1), reference


def _unset(n: int, reference: float | None) -> TermFrequencies:
    tf = np.full(n, np.nan).view(TermFrequencies)
    tf.reference = reference
    return tf


def _set_shares(
    tf: NDArray[np.float64],
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    shares: NDArray[np.float64],
) -> None:
    """Where the pair's two codes are one value, its share (``tf`` is written in place)."""
    same = (lcode == rcode) & (lcode >= 0)
    tf[same] = shares[lcode[same]]


def record_keys(
    left: pd.DataFrame,
    right: pd.DataFrame,
    comparisons: Sequence[Comparison],
    *,
    encoded: Mapping[str, Encoded] | None = None,
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """A 64-bit key per record of each side, from the values its comparisons read.

    Two records with the same compared values have the same key, in any row and
    either side; records that differ have different keys but for a 2**-64 chance.
    Sorting by key puts the records of a table in an order that does not depend on
    the order of its rows.

    Parameters
    ----------
    left, right : DataFrame
        Prepared frames holding each comparison's column.
    comparisons : sequence of Comparison
    encoded : dict of str to Encoded, optional
        Columns already coded by :func:`encode` (by column name), reused as they are.

    Returns
    -------
    left_keys, right_keys : ndarray of shape (n_left,) and (n_right,), dtype uint64
    """
    keys = np.zeros(len(left), np.uint64), np.zeros(len(right), np.uint64)
    for column in dict.fromkeys(c.column for c in comparisons):
        codes = (encoded or {}).get(column) or encode(left[column], right[column])
        hashes = codes.value_hashes
        keys = tuple(
            pd.util.hash_array(key * np.uint64(31) ^ hashes[side])
            for key, side in zip(keys, (codes.left, codes.right), strict=True)
        )
    return keys
