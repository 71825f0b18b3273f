"""The blocking-rule library: each kind of rule is one class, with the kernel that pairs.

A rule proposes candidate pairs of a left and a right frame as two arrays of
positions (:meth:`BlockingRule.pairs`); :func:`linkage.blocking.candidate_pairs`
unions the rules of a spec. Kinds (the ``kind`` key of a TOML spec):

* :class:`BlockOn` (``equal``, :func:`block_on`) — equal values on one or more
  columns (all present);
* :class:`SplitBlockOn` (``equal_split``, :func:`block_on` with ``split_by``) — the
  same, a block over the cap split by more columns instead of skipped whole (the
  children of one linked parent, split by postcode);
* :class:`SharedToken` (``tokens``, :func:`block_on_tokens`) — at least one shared
  token of a list column (say, the words of a name), or of a text column read as
  space-separated tokens (the ``unit_numbers`` preparer's), tokens too common to
  discriminate left out;
* :class:`SortedNeighbourhood` (``window``, :func:`sorted_neighbourhood`) — records
  within a window of each other once both sides are sorted together on a key
  (catches typos early in no key, late in the string).

A block whose pairs would exceed ``max_block_size`` is skipped and counted, so a
chain of hundreds of units or a very common name never blows up memory; other rules
still reach those records. With ``split_by`` (:class:`SplitBlockOn`) such a block is
split by more columns instead, and only what is still over the cap, or across its
parts, is left out (and counted, :class:`SplitCount`). Where a rule has to order
records of equal key (the window of :class:`SortedNeighbourhood`), it orders them by
their values, never by their rows, so that the same records give the same pairs in
any row order. A new kind is one subclass here, registered by its ``kind`` class
keyword.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage._codes import encode
from linkage._kinds import Kind, Kinds
from linkage.exceptions import ConfigError

__all__ = [
    "BlockOn",
    "BlockingRule",
    "Codes",
    "Focus",
    "SharedToken",
    "SortedNeighbourhood",
    "SplitBlockOn",
    "SplitCount",
    "block_on",
    "block_on_tokens",
    "rule_from_dict",
    "sorted_neighbourhood",
]

Codes = Mapping[str, tuple[NDArray[np.int64], NDArray[np.int64]]]
PairArrays = tuple[NDArray[np.int64], NDArray[np.int64], int]


@dataclass(frozen=True)
class Focus:
    """The pairs an incremental link asks blocking for (:class:`linkage.pipeline.Increment`):
    those of two ``free`` records (neither in a link kept as it was) of which at
    least one is ``changed``. Boolean arrays by row of each side.

    A rule proposes, of the pairs it would propose, those in focus, and no other: a
    block over the cap is still judged by all its records, so the pairs are the
    whole blocking's in focus, at the cost of the changed records alone.
    """

    left_changed: NDArray[np.bool_]
    right_changed: NDArray[np.bool_]
    left_free: NDArray[np.bool_]
    right_free: NDArray[np.bool_]

    def keep(self, lefts: NDArray[np.integer], rights: NDArray[np.integer]) -> NDArray[np.bool_]:
        """Which of the pairs (positions) are in focus."""
        changed = self.left_changed[lefts] | self.right_changed[rights]
        return changed & self.left_free[lefts] & self.right_free[rights]

    def of(self, lrec: NDArray[np.integer], rrec: NDArray[np.integer]) -> Focus:
        """The focus on rows that stand for records (``lrec``, ``rrec``: each row's
        record), a rule's tokens."""
        return Focus(
            self.left_changed[lrec],
            self.right_changed[rrec],
            self.left_free[lrec],
            self.right_free[rrec],
        )


@dataclass(frozen=True, kw_only=True)
class BlockingRule(Kind):
    """One blocking rule (the base of every kind).

    Attributes
    ----------
    columns : tuple of str
        Prepared columns the rule reads.
    max_block_size : int, optional
        Blocks with more pairs than this are skipped (and counted).
    name : str
        How the rule is named in counts and charts.
    """

    kinds: ClassVar[Kinds[BlockingRule]] = Kinds(default="equal")
    columns: tuple[str, ...]
    max_block_size: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        columns = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        object.__setattr__(self, "columns", columns)
        if not self.columns:
            raise ConfigError(
                "a blocking rule needs at least one column, e.g. block_on('postcode')"
            )
        if self.max_block_size is not None and self.max_block_size < 1:
            raise ConfigError(f"max_block_size must be positive, got {self.max_block_size}")
        if not self.name:
            object.__setattr__(self, "name", self._default_name())

    def _default_name(self) -> str:
        return "+".join(self.columns)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every column the rule reads."""
        return self.columns

    def pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> PairArrays:
        """Left and right positions of the pairs the rule proposes (int64, with
        repeats allowed), and the number of pairs skipped in oversized blocks.

        ``codes`` holds columns already coded jointly (-1 where missing), by name;
        with ``focus``, only the pairs in it are proposed (the skipped count is the
        whole blocking's).
        """
        raise NotImplementedError


def rule_from_dict(raw: Mapping[str, Any], *, where: str = "blocking rule") -> BlockingRule:
    """A rule from plain data: ``kind`` (default ``equal``) picks the class.

    >>> rule_from_dict({"kind": "window", "columns": ["name"], "window": 5}).name
    'window(name, 5)'
    """
    return BlockingRule.kinds.from_dict(raw, where=where)


def _column_codes(
    left: pd.DataFrame, right: pd.DataFrame, column: str, known: Codes
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    if column in known:
        return known[column]
    coded = encode(left[column], right[column])
    return coded.left, coded.right


def _counts(
    lcode: NDArray[np.int64], rcode: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per code, how many left and how many right records hold it."""
    n_codes = int(max(lcode.max(initial=-1), rcode.max(initial=-1))) + 1
    return (
        np.bincount(lcode[lcode >= 0], minlength=n_codes),
        np.bincount(rcode[rcode >= 0], minlength=n_codes),
    )


def join_codes(
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    *,
    max_block_size: int | None,
    focus: Focus | None = None,
) -> PairArrays:
    """All (left, right) positions with equal non-negative codes: an inner merge.

    Returns left positions, right positions (int64) and the number of pairs skipped
    in blocks over ``max_block_size``. With ``focus``, only the pairs in it, from
    blocks judged by all their records: a changed left record with every free right
    one, then an unchanged free left record with every changed free right one.
    """
    left_counts, right_counts = _counts(lcode, rcode)
    skipped = 0
    too_big = None
    if max_block_size is not None:
        block_pairs = left_counts * right_counts
        too_big = block_pairs > max_block_size
        skipped = int(block_pairs[too_big].sum())
    if focus is None:
        return (*_joined(lcode, rcode, too_big), skipped)
    lf, rf, lc, rc = focus.left_free, focus.right_free, focus.left_changed, focus.right_changed
    first = _joined(np.where(lc & lf, lcode, -1), np.where(rf, rcode, -1), too_big)
    then = _joined(np.where(~lc & lf, lcode, -1), np.where(rc & rf, rcode, -1), too_big)
    return np.concatenate([first[0], then[0]]), np.concatenate([first[1], then[1]]), skipped


def _joined(
    lcode: NDArray[np.int64], rcode: NDArray[np.int64], too_big: NDArray[np.bool_] | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The pairs of equal non-negative codes, but in the blocks ``too_big`` marks."""
    _, right_counts = _counts(lcode, rcode)
    right_valid = np.flatnonzero(rcode >= 0)
    right_order = right_valid[np.argsort(rcode[right_valid], kind="stable")]
    right_starts = np.cumsum(right_counts) - right_counts
    left_pos = np.flatnonzero(lcode >= 0)
    codes = lcode[left_pos]
    if too_big is not None:
        keep = ~too_big[codes]
        left_pos, codes = left_pos[keep], codes[keep]
    per_left = right_counts[codes]
    total = int(per_left.sum())
    lefts = np.repeat(left_pos, per_left)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per_left) - per_left, per_left)
    rights = right_order[np.repeat(right_starts[codes], per_left) + offsets]
    return lefts, rights


def _refine(
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    lnext: NDArray[np.int64],
    rnext: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Codes of the pairs of values (-1 where either is missing), numbered densely so
    that a product of codes never overflows."""
    width = int(max(lnext.max(initial=-1), rnext.max(initial=-1))) + 1
    packed = np.concatenate(
        [
            np.where((lcode < 0) | (lnext < 0), -1, lcode * width + lnext),
            np.where((rcode < 0) | (rnext < 0), -1, rcode * width + rnext),
        ]
    )
    joint = np.where(packed < 0, -1, pd.factorize(packed)[0]).astype(np.int64)
    return joint[: len(lcode)], joint[len(lcode) :]


def _arrow(values: pd.Series) -> pa.ChunkedArray | None:
    """A column as Arrow, or None where Arrow cannot hold or sort it (lists, mixed)."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if pa.types.is_nested(arr.type):
        return None
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _order_by_values(
    left: pd.DataFrame,
    right: pd.DataFrame,
    present: NDArray[np.bool_],
    leading: Sequence[NDArray[np.integer]],
) -> NDArray[np.intp]:
    """An order of the ``present`` rows of both frames (left rows, then right): by the
    ``leading`` keys (arrays over those rows), then by the values of every column the
    frames share, the last key breaking what ties remain.

    Arrow's multi-column sort looks at a column only to break a tie of the columns
    before it, so the values cost only where the leading keys tie.
    """
    columns = {f"k{i}": pa.array(key) for i, key in enumerate(leading[:-1])}
    mask = None if present.all() else pa.array(present)  # no copy of every column
    for name in left.columns.intersection(right.columns):
        lcol, rcol = _arrow(left[name]), _arrow(right[name])
        if lcol is None or rcol is None:
            continue
        kind = rcol.type if pa.types.is_null(lcol.type) else lcol.type  # one side all missing
        try:
            both = pa.chunked_array([*lcol.cast(kind).chunks, *rcol.cast(kind).chunks], kind)
        except (pa.ArrowException, TypeError, ValueError):
            continue
        columns[f"v{len(columns)}"] = both if mask is None else both.filter(mask)
    columns["last"] = pa.array(leading[-1])
    table = pa.table(columns)
    order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in columns])
    return order.to_numpy().astype(np.intp)


@dataclass(frozen=True, kw_only=True)
class BlockOn(BlockingRule, kind="equal"):
    """Pairs whose values agree on every one of ``columns`` (missing never agrees)."""

    def _codes(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        lcode, rcode = _column_codes(left, right, self.columns[0], codes)
        for column in self.columns[1:]:
            lcode, rcode = _refine(lcode, rcode, *_column_codes(left, right, column, codes))
        return lcode, rcode

    def pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> PairArrays:
        lcode, rcode = self._codes(left, right, codes)
        return join_codes(lcode, rcode, max_block_size=self.max_block_size, focus=focus)


@dataclass(frozen=True, kw_only=True)
class SplitBlockOn(BlockOn, kind="equal_split"):
    """Pairs whose values agree on every one of ``columns``; a block over
    ``max_block_size`` is split by ``split_by`` rather than skipped whole.

    The records of an oversized block pair only where they also agree on the first
    column of ``split_by``; a part still over the cap is split by the next column
    too, and so on. What is over the cap after the last is skipped. The count of
    skipped pairs is every pair of the oversized blocks that the rule does not
    propose: those of parts left over, and those across the parts
    (:meth:`split_pairs` counts each apart, :class:`SplitCount`). Blocks under the
    cap pair as :class:`BlockOn` pairs them; with ``split_by`` empty (a spec that
    compares no column exactly), an oversized block is skipped whole, as there. A
    ``split_by`` column the frames do not hold is passed over (an optional field
    left out of a spec for a table without its column), so the rule still runs.
    Every step is a join of integer codes: no loop over blocks or records.
    """

    split_by: tuple[str, ...]
    max_block_size: int | None = 1_000_000

    def __post_init__(self) -> None:
        split = (self.split_by,) if isinstance(self.split_by, str) else tuple(self.split_by)
        object.__setattr__(self, "split_by", split)
        super().__post_init__()
        if self.max_block_size is None:
            raise ConfigError(
                f"blocking rule {self.name!r}: split_by needs a max_block_size to split at"
            )

    @property
    def reads(self) -> tuple[str, ...]:
        # The split columns are not required: a spec whose optional field was left
        # out for a table without its column (``LinkSpec.for_columns``) keeps the
        # rule and splits by the columns it has.
        return self.columns

    def pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> PairArrays:
        lefts, rights, count = self.split_pairs(left, right, codes, focus)
        return lefts, rights, count.skipped

    def split_pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], SplitCount]:
        """The pairs, as :meth:`pairs`, and what became of the oversized blocks (the
        whole blocking's, whatever the focus)."""
        lcode, rcode = self._codes(left, right, codes)
        size = self.max_block_size
        lefts, rights, oversized = join_codes(lcode, rcode, max_block_size=size, focus=focus)
        found_l, found_r = [lefts], [rights]
        proposed, still = 0, oversized
        split_by = [c for c in self.split_by if c in codes or (c in left and c in right)]
        for column in split_by:
            if not still:
                break
            # Only the records of the blocks over the cap go on, split by one more column.
            left_counts, right_counts = _counts(lcode, rcode)
            over = np.r_[left_counts * right_counts > (size or 0), False]
            lcode = np.where(over[lcode], lcode, -1)
            rcode = np.where(over[rcode], rcode, -1)
            lcode, rcode = _refine(lcode, rcode, *_column_codes(left, right, column, codes))
            lefts, rights, still = join_codes(lcode, rcode, max_block_size=size, focus=focus)
            found_l.append(lefts)
            found_r.append(rights)
            # The pairs of the parts under the cap, in focus or not.
            proposed += int(np.dot(*_counts(lcode, rcode))) - still
        count = SplitCount(oversized=oversized, proposed=proposed, over_cap=still)
        return np.concatenate(found_l), np.concatenate(found_r), count


@dataclass(frozen=True)
class SplitCount:
    """What became of the pairs of a :class:`SplitBlockOn` rule's blocks over the cap.

    Attributes
    ----------
    oversized : int
        Pairs in the blocks over the cap, before splitting.
    proposed : int
        Of those, the pairs of the parts under the cap, which the rule proposes.
    over_cap : int
        Pairs of the parts still over the cap after the last ``split_by`` column:
        left out although their records agree on every column.
    """

    oversized: int
    proposed: int
    over_cap: int

    @property
    def across(self) -> int:
        """Pairs across parts: they disagree (or one is missing) on a ``split_by`` column."""
        return self.oversized - self.proposed - self.over_cap

    @property
    def skipped(self) -> int:
        """Every pair of the oversized blocks the rule does not propose."""
        return self.oversized - self.proposed


@dataclass(frozen=True, kw_only=True)
class _OneColumn(BlockingRule):
    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.columns) != 1:
            raise ConfigError(f"a {self.kind} rule takes one column, got {list(self.columns)}")


@dataclass(frozen=True, kw_only=True)
class SharedToken(_OneColumn, kind="tokens"):
    """Pairs that share a token of a list column; blocks over the cap are skipped."""

    max_block_size: int | None = 10_000

    def _default_name(self) -> str:
        return f"tokens({self.columns[0]})"

    def pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> PairArrays:
        column = self.columns[0]
        (lrec, ltok), (rrec, rtok) = (_tokens(frame[column]) for frame in (left, right))
        coded = encode(ltok, rtok)
        lefts, rights, skipped = join_codes(
            coded.left,
            coded.right,
            max_block_size=self.max_block_size,
            focus=focus.of(lrec, rrec) if focus is not None else None,
        )
        return lrec[lefts], rrec[rights], skipped


def _tokens(values: pd.Series) -> tuple[NDArray[np.int64], pd.Series]:
    """Every token of a column and the position of its record: a list cell's items,
    a text cell's space-separated words (missing cells and empty lists give none)."""
    cells = values.reset_index(drop=True)
    text = _arrow(cells)
    if text is None:  # list cells (or text in an object column)
        split = cells.str.split(" ")  # text gives lists, a list cell NaN
        items = split.where(split.notna(), cells).explode().dropna()
        items = items[items.astype(str) != ""]
        return items.index.to_numpy(np.int64), items.reset_index(drop=True)
    flat = text.combine_chunks()  # one chunk: parent indices count from the first row
    if not (pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)):
        flat = flat.cast(pa.string())
    lists = pc.split_pattern(flat, " ")
    rows = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    words = pc.list_flatten(lists)
    word = pc.not_equal(words, "").to_numpy(zero_copy_only=False)  # no empty token
    return rows[word], pd.Series(pd.arrays.ArrowStringArray(words.filter(pa.array(word))))


@dataclass(frozen=True, kw_only=True)
class SortedNeighbourhood(_OneColumn, kind="window"):
    """Each record with the ``window`` nearest records of the other side in key order."""

    window: int = 3

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ConfigError(f"sorted_neighbourhood needs window >= 1, got {self.window}")
        super().__post_init__()

    def _default_name(self) -> str:
        return f"window({self.columns[0]}, {self.window})"

    def pairs(
        self, left: pd.DataFrame, right: pd.DataFrame, codes: Codes, focus: Focus | None = None
    ) -> PairArrays:
        column = self.columns[0]
        keys, _ = pd.factorize(
            pd.concat([left[column], right[column]], ignore_index=True), sort=True
        )
        present = keys >= 0
        side = np.r_[np.zeros(len(left), np.int8), np.ones(len(right), np.int8)][present]
        pos = np.r_[np.arange(len(left)), np.arange(len(right))][present]
        keys = keys[present]
        group = keys * 2 + side
        if (np.bincount(group) > 1).any():
            # Records of equal key on one side are ordered by their values (then by
            # position, which only orders records equal in every column), so that the
            # same records fall in the same windows in any row order.
            order = _order_by_values(left, right, present, (keys, side, pos))
        else:
            order = np.lexsort((pos, side, keys))
        side, pos = side[order], pos[order]
        lefts, rights = [], []
        for d in range(1, self.window + 1):
            a, b = slice(None, -d), slice(d, None)
            cross = side[a] != side[b]
            first_left = side[a][cross] == 0
            pos_a, pos_b = pos[a][cross], pos[b][cross]
            lefts.append(np.where(first_left, pos_a, pos_b))
            rights.append(np.where(first_left, pos_b, pos_a))
        found = np.concatenate(lefts), np.concatenate(rights)
        if focus is not None:
            keep = focus.keep(*found)
            found = found[0][keep], found[1][keep]
        return *found, 0


def block_on(
    *columns: str,
    max_block_size: int | None = None,
    split_by: Sequence[str] = (),
    name: str = "",
) -> BlockOn:
    """Pair records whose values agree on every one of ``columns`` (missing never agrees).

    With ``split_by``, a block over ``max_block_size`` is split by those columns in
    turn instead of skipped whole (see :class:`SplitBlockOn`).

    >>> block_on("postcode", "name_prefix").name
    'postcode+name_prefix'
    >>> block_on("parent", max_block_size=10_000, split_by=("postcode",)).kind
    'equal_split'
    """
    if split_by:
        split = (split_by,) if isinstance(split_by, str) else tuple(split_by)
        return SplitBlockOn(
            columns=columns, max_block_size=max_block_size, split_by=split, name=name
        )
    return BlockOn(columns=columns, max_block_size=max_block_size, name=name)


def block_on_tokens(
    column: str, *, max_block_size: int | None = 10_000, name: str = ""
) -> SharedToken:
    """Pair records that share a token of a list column (or of a text column, split at
    spaces); blocks over the cap are skipped."""
    return SharedToken(columns=(column,), max_block_size=max_block_size, name=name)


def sorted_neighbourhood(column: str, *, window: int = 3, name: str = "") -> SortedNeighbourhood:
    """Pair each record with the ``window`` nearest records of the other side in key order.

    >>> sorted_neighbourhood("name_sorted").name
    'window(name_sorted, 3)'
    """
    return SortedNeighbourhood(columns=(column,), window=window, name=name)
