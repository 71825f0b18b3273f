"""Blocking: candidate pairs as two int32 position arrays.

A rule pairs the records of two frames that agree on a key. Rules compose: their
pairs are unioned by packing ``left * n_right + right`` into int64 and taking the
unique values, so a pair found by several rules is kept once, in a fixed order.

Three kinds of rule:

* :func:`block_on` — equal values on one or more columns (all present);
* :func:`block_on_tokens` — at least one shared token of a list column (say, the
  words of a name), tokens too common to discriminate left out;
* :func:`sorted_neighbourhood` — records within a window of each other once both
  sides are sorted together on a key (catches typos early in no key, late in the
  string).

A block whose pairs would exceed ``max_block_size`` is skipped, counted and logged,
so a chain of hundreds of units or a very common name never blows up memory; other
rules still reach those records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.config import BlockingRule
from linkage.exceptions import ConfigError, SchemaError

__all__ = [
    "BlockingRule",
    "Pairs",
    "block_on",
    "block_on_tokens",
    "candidate_pairs",
    "pair_completeness",
    "sorted_neighbourhood",
]

log = logging.getLogger(__name__)


def block_on(*columns: str, max_block_size: int | None = None, name: str = "") -> BlockingRule:
    """Pair records whose values agree on every one of ``columns`` (missing never agrees).

    >>> block_on("postcode", "name_prefix").name
    'postcode+name_prefix'
    """
    return BlockingRule(columns=columns, max_block_size=max_block_size, name=name)


def block_on_tokens(
    column: str, *, max_block_size: int | None = 10_000, name: str = ""
) -> BlockingRule:
    """Pair records that share a token of a list column; blocks over the cap are skipped."""
    return BlockingRule(columns=(column,), kind="tokens", max_block_size=max_block_size, name=name)


def sorted_neighbourhood(column: str, *, window: int = 3, name: str = "") -> BlockingRule:
    """Pair each record with the ``window`` nearest records of the other side in key order."""
    return BlockingRule(columns=(column,), kind="window", window=window, name=name)


@dataclass(frozen=True)
class Pairs:
    """Candidate pairs: positions into the left and right frames, sorted, unique.

    Attributes
    ----------
    left, right : ndarray of shape (n_pairs,), dtype int32
    n_left, n_right : int
        Sizes of the frames the positions point into.
    by_rule : dict of str to int
        Pairs each rule found (before the union).
    skipped : dict of str to int
        Per rule, the pairs left out because their block was over ``max_block_size``.
    """

    left: NDArray[np.int32]
    right: NDArray[np.int32]
    n_left: int
    n_right: int
    by_rule: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.left.size)

    @property
    def reduction_ratio(self) -> float:
        """Share of all ``n_left * n_right`` pairs that blocking did not propose."""
        total = self.n_left * self.n_right
        return 1.0 - len(self) / total if total else 0.0

    def to_index(self, left_ids: pd.Index, right_ids: pd.Index) -> pd.MultiIndex:
        """The pairs as a MultiIndex of labels (recordlinkage's convention)."""
        return pd.MultiIndex.from_arrays([left_ids[self.left], right_ids[self.right]])


def _codes(left: pd.Series, right: pd.Series) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Joint integer codes of two columns; -1 where missing."""
    codes, _ = pd.factorize(pd.concat([left, right], ignore_index=True), use_na_sentinel=True)
    codes = codes.astype(np.int64)
    return codes[: len(left)], codes[len(left) :]


Codes = Mapping[str, tuple[NDArray[np.int64], NDArray[np.int64]]]


def _joint_codes(
    left: pd.DataFrame, right: pd.DataFrame, columns: Sequence[str], known: Codes
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Codes of a key over several columns; -1 where any part is missing."""

    def codes(column: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        return known[column] if column in known else _codes(left[column], right[column])

    lcode, rcode = codes(columns[0])
    for column in columns[1:]:
        lnext, rnext = codes(column)
        width = int(max(lnext.max(initial=-1), rnext.max(initial=-1))) + 1
        packed = np.concatenate(
            [
                np.where((lcode < 0) | (lnext < 0), -1, lcode * width + lnext),
                np.where((rcode < 0) | (rnext < 0), -1, rcode * width + rnext),
            ]
        )
        # Renumber densely after each column, so that the product never overflows.
        codes = np.where(packed < 0, -1, pd.factorize(packed)[0]).astype(np.int64)
        lcode, rcode = codes[: len(left)], codes[len(left) :]
    return lcode, rcode


def _join_codes(
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    *,
    max_block_size: int | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """All (left, right) positions with equal non-negative codes: an inner merge.

    Returns left positions, right positions (int64) and the number of pairs skipped
    in blocks over ``max_block_size``.
    """
    n_codes = int(max(lcode.max(initial=-1), rcode.max(initial=-1))) + 1
    right_valid = np.flatnonzero(rcode >= 0)
    right_order = right_valid[np.argsort(rcode[right_valid], kind="stable")]
    right_counts = np.bincount(rcode[right_valid], minlength=n_codes)
    right_starts = np.cumsum(right_counts) - right_counts

    left_pos = np.flatnonzero(lcode >= 0)
    codes = lcode[left_pos]
    skipped = 0
    if max_block_size is not None:
        left_counts = np.bincount(codes, minlength=n_codes)
        block_pairs = left_counts * right_counts
        too_big = block_pairs > max_block_size
        if too_big.any():
            skipped = int(block_pairs[too_big].sum())
            keep = ~too_big[codes]
            left_pos, codes = left_pos[keep], codes[keep]
    per_left = right_counts[codes]
    total = int(per_left.sum())
    lefts = np.repeat(left_pos, per_left)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per_left) - per_left, per_left)
    rights = right_order[np.repeat(right_starts[codes], per_left) + offsets]
    return lefts, rights, skipped


def _equal_pairs(left: pd.DataFrame, right: pd.DataFrame, rule: BlockingRule, known: Codes):
    lcode, rcode = _joint_codes(left, right, rule.columns, known)
    return _join_codes(lcode, rcode, max_block_size=rule.max_block_size)


def _token_pairs(left: pd.DataFrame, right: pd.DataFrame, rule: BlockingRule, known: Codes):
    column = rule.columns[0]
    ltokens = left[column].explode()
    rtokens = right[column].explode()
    lcode, rcode = _codes(ltokens.reset_index(drop=True), rtokens.reset_index(drop=True))
    lrec = np.repeat(
        np.arange(len(left)), left[column].str.len().fillna(0).clip(lower=1).astype(int)
    )
    rrec = np.repeat(
        np.arange(len(right)), right[column].str.len().fillna(0).clip(lower=1).astype(int)
    )
    lefts, rights, skipped = _join_codes(lcode, rcode, max_block_size=rule.max_block_size)
    return lrec[lefts], rrec[rights], skipped


def _window_pairs(left: pd.DataFrame, right: pd.DataFrame, rule: BlockingRule, known: Codes):
    column = rule.columns[0]
    keys, _ = pd.factorize(pd.concat([left[column], right[column]], ignore_index=True), sort=True)
    present = keys >= 0
    side = np.r_[np.zeros(len(left), np.int8), np.ones(len(right), np.int8)][present]
    pos = np.r_[np.arange(len(left)), np.arange(len(right))][present]
    # Sort by key, then side and position, so that ties order the same way every run.
    order = np.lexsort((pos, side, keys[present]))
    side, pos = side[order], pos[order]
    lefts, rights = [], []
    for d in range(1, rule.window + 1):
        a, b = slice(None, -d), slice(d, None)
        cross = side[a] != side[b]
        first_left = side[a][cross] == 0
        pa, pb = pos[a][cross], pos[b][cross]
        lefts.append(np.where(first_left, pa, pb))
        rights.append(np.where(first_left, pb, pa))
    return np.concatenate(lefts), np.concatenate(rights), 0


_KINDS = {"equal": _equal_pairs, "tokens": _token_pairs, "window": _window_pairs}


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    rules: Sequence[BlockingRule],
    *,
    codes: Codes | None = None,
) -> Pairs:
    """The union of the pairs every rule proposes.

    Parameters
    ----------
    left, right : DataFrame
        Prepared frames holding the rules' columns; positions refer to their rows.
    rules : sequence of BlockingRule
    codes : dict of str to (left codes, right codes), optional
        Columns already coded jointly (-1 where missing), by name, reused by the
        rules that block on equal values.

    Returns
    -------
    Pairs
        Sorted by left then right position, without duplicates.
    """
    if not rules:
        raise ConfigError("candidate_pairs needs at least one blocking rule")
    for rule in rules:
        for frame, side in ((left, "left"), (right, "right")):
            missing = [c for c in rule.columns if c not in frame.columns]
            if missing:
                raise SchemaError(f"blocking rule {rule.name!r}: {side} table lacks {missing}")
    n_right = len(right)
    packed, by_rule, skipped = [], {}, {}
    for rule in rules:
        lefts, rights, lost = _KINDS[rule.kind](left, right, rule, codes or {})
        by_rule[rule.name] = int(lefts.size)
        if lost:
            skipped[rule.name] = lost
            log.warning(
                "blocking rule %s: skipped %s pairs in blocks over %s pairs",
                rule.name,
                f"{lost:,}",
                f"{rule.max_block_size:,}",
            )
        packed.append(lefts.astype(np.int64) * n_right + rights)
    # Sort and drop repeats: far faster than np.unique's hash path on millions of int64.
    unique = np.sort(np.concatenate(packed))
    unique = unique[np.r_[True, unique[1:] != unique[:-1]]] if unique.size else unique
    return Pairs(
        left=(unique // max(n_right, 1)).astype(np.int32),
        right=(unique % max(n_right, 1)).astype(np.int32),
        n_left=len(left),
        n_right=n_right,
        by_rule=by_rule,
        skipped=skipped,
    )


def pair_completeness(
    pairs: Pairs, true_left: NDArray[np.integer], true_right: NDArray[np.integer]
) -> float:
    """Share of the true pairs (given as positions) that blocking proposed."""
    if len(true_left) == 0:
        return 1.0
    wanted = np.asarray(true_left, np.int64) * pairs.n_right + np.asarray(true_right, np.int64)
    found = pairs.left.astype(np.int64) * pairs.n_right + pairs.right
    return float(np.isin(wanted, found).mean())
