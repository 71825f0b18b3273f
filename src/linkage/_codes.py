"""Joint integer codes of one column of two frames: the currency of blocking and comparison.

A column of the left and the right frame is factorized once, together, so that equal
values get equal codes on both sides and a missing value gets -1. Blocking joins on
the codes, comparison tests exact agreement on them and sends only the distinct
values of the rest to a string kernel, and term frequencies count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["FIXED_WIDTH_MAX", "Encoded", "encode"]

# Values longer than this have no fixed-width form: the character arrays would be too large.
FIXED_WIDTH_MAX = 32
# A missing value's hash in :attr:`Encoded.value_hashes`.
_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


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
    def value_hashes(self) -> NDArray[np.uint64]:
        """Per distinct value, the SipHash of the value (not of its code, which
        follows the order values first appear in); the last slot is a missing value's."""
        return np.append(pd.util.hash_array(self.values, categorize=False), _NULL_HASH)

    @cached_property
    def fixed_width(self) -> tuple[NDArray[np.str_], NDArray[np.int64]] | None:
        """The values as fixed-width strings, and their lengths; None when the longest
        is over ``FIXED_WIDTH_MAX`` characters."""
        lengths = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        if not len(lengths) or lengths.max() > FIXED_WIDTH_MAX:
            return None
        return self.values.astype(f"U{max(int(lengths.max()), 1)}"), lengths


def encode(left: pd.Series, right: pd.Series) -> Encoded:
    """Code a column of both frames jointly, once for every use of it.

    >>> coded = encode(pd.Series(["a", None, "b"]), pd.Series(["b", "c"]))
    >>> coded.left.tolist(), coded.right.tolist()
    ([0, -1, 1], [1, 2])
    """
    codes, uniques = pd.factorize(pd.concat([left, right], ignore_index=True))
    codes = codes.astype(np.int64)
    return Encoded(codes[: len(left)], codes[len(left) :], np.asarray(uniques, dtype=object))
