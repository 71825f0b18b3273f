"""Blocking: candidate pairs as two int32 position arrays.

Each rule of a spec (see :mod:`linkage.rules`) proposes pairs; their pairs are
unioned by packing ``left * n_right + right`` into int64 and taking the unique
values, so a pair found by several rules is kept once, in a fixed order. Pairs left
out of oversized blocks are counted per rule and logged.

Children linked within their parents' links are blocked by one more rule,
:func:`within_linked_parent`: each child with the children of the parent its own
parent is linked to. A parent's block over :data:`PARENT_BLOCK_PAIRS` (a chain of
thousands of units) is split by the columns the spec compares exactly (the postcode),
and what is still over is skipped and counted like any other rule's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.comparisons import Comparison, ExactMatch
from linkage.exceptions import ConfigError
from linkage.io import require_columns
from linkage.rules import (
    BlockingRule,
    Codes,
    Focus,
    SortedNeighbourhood,
    SplitBlockOn,
    SplitCount,
)

__all__ = [
    "PARENT_BLOCK_PAIRS",
    "Pairs",
    "candidate_pairs",
    "one_table",
    "pair_completeness",
    "within_linked_parent",
]

log = logging.getLogger(__name__)

#: Pairs the children of one linked parent may make before their block is split.
#: Over twice the largest at full scale (418 units x 355 sites: 148,390), a
#: thousand by a thousand; 20,000 by 20,000 (400 million) is split.
PARENT_BLOCK_PAIRS = 1_000_000


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
        Per rule, the pairs left out because their block was over ``max_block_size``
        (for a rule that splits such blocks, those it still does not propose).
    split : dict of str to SplitCount
        Per rule that split oversized blocks (:class:`~linkage.rules.SplitBlockOn`),
        the pairs of those blocks, those proposed from their parts, those left in
        parts still over the cap, and those across parts.
    """

    left: NDArray[np.int32]
    right: NDArray[np.int32]
    n_left: int
    n_right: int
    by_rule: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    split: dict[str, SplitCount] = field(default_factory=dict)

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


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    rules: Sequence[BlockingRule],
    *,
    codes: Codes | None = None,
    focus: Focus | None = None,
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
    focus : Focus, optional
        Only the pairs in focus (an incremental link's), as the whole blocking would
        propose them: ``by_rule`` then counts those, ``skipped`` the whole blocking's.

    Returns
    -------
    Pairs
        Sorted by left then right position, without duplicates.
    """
    if not rules:
        raise ConfigError("candidate_pairs needs at least one blocking rule")
    for rule in rules:
        for frame, side in ((left, "left"), (right, "right")):
            require_columns(frame, rule.reads, source=f"blocking rule {rule.name!r}, {side} table")
    n_right = len(right)
    by_rule: dict[str, int] = {}
    skipped: dict[str, int] = {}
    split: dict[str, SplitCount] = {}

    def proposed(rule: BlockingRule) -> tuple[NDArray[np.int64], int | SplitCount]:
        """A rule's pairs, each packed in one integer and sorted, and what it skipped."""
        counted: int | SplitCount
        if isinstance(rule, SplitBlockOn):
            lefts, rights, counted = rule.split_pairs(left, right, codes or {}, focus)
        else:
            lefts, rights, counted = rule.pairs(left, right, codes or {}, focus)
        packed = lefts.astype(np.int64) * n_right + rights
        packed.sort()
        return packed, counted

    # Two rules at a time: numpy's sorts and gathers and pandas' integer hashing let
    # go of the GIL. A window rule sorts both sides whole, the longest of the rules
    # (0.57 s of 1.4 at 485k): it starts first, so that the others share the time.
    first = sorted(range(len(rules)), key=lambda k: not isinstance(rules[k], SortedNeighbourhood))
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = dict(zip(first, pool.map(proposed, [rules[k] for k in first]), strict=True))
    packed = [made.pop(k) for k in range(len(rules))]
    for rule, (pairs, counted) in zip(rules, packed, strict=True):
        if isinstance(counted, SplitCount):
            lost = counted.skipped
            if counted.oversized:
                split[rule.name] = counted
        else:
            lost = counted
        by_rule[rule.name] = int(pairs.size)
        if lost:
            skipped[rule.name] = lost
            _log_skipped(rule, lost, split.get(rule.name))
    # Sort in place and drop repeats: far faster than np.unique's hash path on
    # millions of int64, and one array of all the rules' pairs at a time, not three.
    # Each rule's pairs came sorted from its thread: a stable sort (timsort) merges
    # those runs in a fifth of the time a sort of the whole takes.
    unique = np.concatenate([pairs for pairs, _ in packed])
    del packed
    unique.sort(kind="stable")
    unique = unique[np.r_[True, unique[1:] != unique[:-1]]] if unique.size else unique
    return Pairs(
        left=(unique // max(n_right, 1)).astype(np.int32),
        right=(unique % max(n_right, 1)).astype(np.int32),
        n_left=len(left),
        n_right=n_right,
        by_rule=by_rule,
        skipped=skipped,
        split=split,
    )


def _log_skipped(rule: BlockingRule, lost: int, count: SplitCount | None) -> None:
    split = getattr(rule, "split_by", ())
    detail = ""
    if count is not None and split:
        detail = (
            f": of {count.oversized:,} pairs in those blocks, {count.proposed:,} proposed "
            f"from their parts, {count.across:,} across parts, {count.over_cap:,} in parts "
            "still over the cap"
        )
    log.warning(
        "blocking rule %s: skipped %s pairs in blocks over %s pairs%s%s",
        rule.name,
        f"{lost:,}",
        f"{rule.max_block_size:,}",
        f" (after splitting them by {', '.join(split)})" if split else "",
        detail,
    )


def one_table(pairs: Pairs) -> Pairs:
    """The pairs of a table blocked against itself: each pair of two records once.

    Self-pairs go and ``(j, i)`` is folded onto ``(i, j)``: every pair has ``left <
    right``, sorted and unique. ``by_rule`` and ``skipped`` stay as the rules counted
    them, ordered pairs and self-pairs included.
    """
    low = np.minimum(pairs.left, pairs.right).astype(np.int64)
    high = np.maximum(pairs.left, pairs.right).astype(np.int64)
    keep = low < high
    n = max(pairs.n_right, 1)
    unique = np.unique(low[keep] * n + high[keep])
    return Pairs(
        left=(unique // n).astype(np.int32),
        right=(unique % n).astype(np.int32),
        n_left=pairs.n_left,
        n_right=pairs.n_right,
        by_rule=pairs.by_rule,
        skipped=pairs.skipped,
        split=pairs.split,
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


def within_linked_parent(
    column: str, comparisons: Sequence[Comparison], *, max_block_size: int = PARENT_BLOCK_PAIRS
) -> SplitBlockOn:
    """The rule that pairs children within their linked parents.

    Parameters
    ----------
    column : str
        The children's block key: for a left child, the right parent its own parent
        is linked to; for a right child, its parent.
    comparisons : sequence of Comparison
        The spec's comparisons: a block over ``max_block_size`` pairs is split by
        the columns of the exact, not decisive, ones (the postcode), in their order.
    max_block_size : int
        Pairs a parent's block may make before it is split.

    Returns
    -------
    SplitBlockOn
        Named "within linked parent".
    """
    split = tuple(
        dict.fromkeys(c.column for c in comparisons if isinstance(c, ExactMatch) and not c.decisive)
    )
    return SplitBlockOn(
        columns=(column,),
        split_by=split,
        max_block_size=max_block_size,
        name="within linked parent",
    )
