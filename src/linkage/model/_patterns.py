"""Agreement patterns: the shapes every part of the model shares.

A pattern is one row of ``gamma`` (a level per comparison, -1 for null). The
:class:`Layout` of a model's comparisons says which are decisive, how patterns pack
into one integer, and which pairs a decisive comparison labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from linkage.comparisons import Comparison
from linkage.exceptions import SchemaError

FLOOR = 1e-9  # no probability is allowed to reach zero: log(0) has no weight
# No level is impossible among matches: data drifts (a new website, a moved office),
# and one disagreement unseen in training must not cost a true pair 30 bits.
M_FLOOR = 1e-3
MIN_ANCHORS = 50  # fewer anchor (or labelled) pairs than this leave a sub-model out
# Pseudo-pairs pulling a rare pattern's joint estimate toward the independent one.
KAPPA = 10.0

Probabilities = list[NDArray[np.float64]]


def pack(gamma: NDArray[np.int8], base: int) -> NDArray[np.int64]:
    """One integer per row: the pattern in base ``base`` (levels shifted so null is 0)."""
    codes = np.zeros(len(gamma), dtype=np.int64)
    for k in range(gamma.shape[1]):
        codes = codes * base + (gamma[:, k].astype(np.int64) + 1)
    return codes


def pattern_counts(
    gamma: NDArray[np.int8], base: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct patterns of ``gamma`` packed, in order, and how often each occurs:
    ``np.unique(pack(gamma, base), return_counts=True)``, by a count per possible
    pattern where there are no more of those than rows (no sort of the rows)."""
    packed = pack(gamma, base)
    possible = base ** gamma.shape[1]
    if possible > max(len(packed), 1 << 16):
        codes, counts = np.unique(packed, return_counts=True)
        return codes, counts.astype(np.int64, copy=False)
    every = np.bincount(packed, minlength=possible)
    codes = np.flatnonzero(every).astype(np.int64, copy=False)
    return codes, every[codes].astype(np.int64, copy=False)


def unpack(codes: NDArray[np.int64], base: int, n_comparisons: int) -> NDArray[np.int8]:
    """The patterns :func:`pack` made."""
    patterns = np.empty((len(codes), n_comparisons), dtype=np.int8)
    for k in range(n_comparisons - 1, -1, -1):
        patterns[:, k] = codes % base - 1
        codes = codes // base
    return patterns


def level_counts(
    levels: NDArray[np.integer], n_levels: int, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """How often (or with what total weight) each level occurs; nulls left out."""
    present = levels >= 0
    w = None if weights is None else weights[present]
    return np.bincount(levels[present], weights=w, minlength=n_levels).astype(np.float64)


def normalise(counts: NDArray[np.float64], floor: float = FLOOR) -> NDArray[np.float64]:
    """Counts to probabilities, none below ``floor``."""
    p = np.maximum(counts / max(counts.sum(), FLOOR), floor)
    return p / p.sum()


def log_likelihood(
    patterns: NDArray[np.integer], probs: Sequence[NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Per pattern, the natural log of the product of its levels' probabilities (null: 1)."""
    total = np.zeros(len(patterns))
    for k, p in enumerate(probs):
        # Index 0 is the null level, which adds nothing.
        table = np.concatenate([[0.0], np.log(np.maximum(p, FLOOR))])
        total += table[patterns[:, k].astype(np.int64) + 1]
    return total


def weight_table(m: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.float64]:
    """The match weight (log2 Bayes factor) of each level; null (0 bits) first."""
    return np.concatenate([[0.0], np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR))])


@dataclass(frozen=True)
class Layout:
    """What the model needs to know of its comparisons' shape."""

    comparisons: tuple[Comparison, ...]

    @cached_property
    def n_levels(self) -> list[int]:
        return [c.n_levels for c in self.comparisons]

    @cached_property
    def decisive(self) -> list[int]:
        """Indices of the decisive comparisons (an exact level settles a pair)."""
        return [k for k, c in enumerate(self.comparisons) if c.decisive]

    @cached_property
    def others(self) -> list[int]:
        """Indices of the comparisons that are not decisive."""
        return [k for k, c in enumerate(self.comparisons) if not c.decisive]

    @cached_property
    def base(self) -> int:
        return max(self.n_levels) + 1

    def check(self, gamma: NDArray[np.int8], what: str) -> NDArray[np.int8]:
        """``gamma`` as int8, or a SchemaError when its shape or levels do not fit."""
        gamma = np.asarray(gamma)
        if gamma.ndim != 2 or gamma.shape[1] != len(self.comparisons):
            raise SchemaError(
                f"{what} must have shape (n_pairs, {len(self.comparisons)}), got {gamma.shape}"
            )
        highest = np.array(self.n_levels) - 1
        if gamma.size and ((gamma < -1).any() or (gamma > highest).any()):
            raise SchemaError(f"{what} holds levels outside -1 .. n_levels - 1")
        return gamma.astype(np.int8, copy=False)

    def split(
        self, patterns: NDArray[np.int8]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
        """Rows settled (a decisive comparison exact: labelled match), labelled non-match
        (every decisive comparison present and at ``else``) and unlabelled (every one
        null)."""
        levels = patterns[:, self.decisive]
        top = np.array([self.n_levels[k] - 1 for k in self.decisive])
        return (
            np.asarray((levels == top).any(axis=1)),
            np.asarray((levels == 0).all(axis=1)),
            np.asarray((levels < 0).all(axis=1)),
        )

    def other_codes(self, patterns: NDArray[np.int8]) -> NDArray[np.int64]:
        """The patterns of the non-decisive comparisons, packed."""
        return pack(patterns[:, self.others], self.base)
