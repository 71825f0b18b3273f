"""Dice similarity of packed Bloom filters, for millions of pairs, in chunks.

``dice = 2 |a & b| / (|a| + |b|)`` with the counts of set bits by
``np.bitwise_count`` (numpy 2) or a byte table; the pairs' filters are gathered
a chunk at a time, so that memory stays ``chunk * bits / 8`` bytes per side.

>>> import numpy as np
>>> a = np.array([[0b1011]], dtype=np.uint64)  # bits 0, 1, 3
>>> b = np.array([[0b0110]], dtype=np.uint64)  # bits 1, 2
>>> round(float(dice(a, b, np.array([0]), np.array([0]))[0]), 6)  # 2 * 1 / (3 + 2)
0.4
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["dice", "popcount"]

_BYTE_COUNTS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(words: NDArray[np.uint64]) -> NDArray[np.int32]:
    """Set bits per row of packed words: shape (n,), dtype int32."""
    if hasattr(np, "bitwise_count"):
        counts = np.bitwise_count(words)
    else:  # numpy < 2
        counts = _BYTE_COUNTS[words.view(np.uint8)].reshape(*words.shape, 8).sum(axis=-1)
    return counts.sum(axis=-1, dtype=np.int32)


def dice(
    left: NDArray[np.uint64],
    right: NDArray[np.uint64],
    left_pos: NDArray[np.integer],
    right_pos: NDArray[np.integer],
    *,
    chunk_size: int = 1_000_000,
    left_counts: NDArray[np.int32] | None = None,
    right_counts: NDArray[np.int32] | None = None,
    flip: float = 0.0,
) -> NDArray[np.float32]:
    """Dice coefficient of each pair of filters (0 where both are empty).

    With ``flip`` (the BLIP probability the filters were hardened with), the Dice
    of the filters before the flips, estimated without bias from the expected
    counts: a bit reads 1 with probability ``p + (1 - 2p) x`` for its true value
    ``x``, so ``|a| = (|a'| - L p) / (1 - 2p)`` and
    ``|a & b| = (|a' & b'| - L p^2 - p (1 - 2p) (|a| + |b|)) / (1 - 2p)^2``;
    clipped to [0, 1]. Linking needs no key to undo the noise's bias, only ``p``.

    Parameters
    ----------
    left, right : ndarray of shape (n_left, words) and (n_right, words), dtype uint64
    left_pos, right_pos : ndarray of shape (n_pairs,), integer
    chunk_size : int
        Pairs gathered at a time.
    left_counts, right_counts : ndarray of dtype int32, optional
        Set bits per filter (:func:`popcount`), computed if not given.

    Returns
    -------
    ndarray of shape (n_pairs,), dtype float32
    """
    lc = popcount(left) if left_counts is None else left_counts
    rc = popcount(right) if right_counts is None else right_counts
    out = np.empty(len(left_pos), np.float32)
    bits = left.shape[1] * 64
    keep = 1.0 - 2.0 * flip
    if flip:
        lc = ((lc - bits * flip) / keep).astype(np.float32)
        rc = ((rc - bits * flip) / keep).astype(np.float32)
    for start in range(0, len(left_pos), chunk_size):
        lp = left_pos[start : start + chunk_size]
        rp = right_pos[start : start + chunk_size]
        shared = popcount(left[lp] & right[rp]).astype(np.float32)
        total = lc[lp] + rc[rp]
        if flip:
            shared = (shared - bits * flip**2 - flip * keep * total) / keep**2
        score = np.where(total > 0, 2.0 * shared / np.maximum(total, 1), 0.0)
        out[start : start + chunk_size] = np.clip(score, 0.0, 1.0)
    return out
