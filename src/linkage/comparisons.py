"""The comparison library: each kind of comparison is one class, its levels and its kernel.

A comparison turns a candidate pair's two values of one column into an ordered
level: -1 where either value is missing, 0 for no agreement, one level per
threshold from loose to tight, and ``n_levels - 1`` for an exact match. Each kind
knows how to compute its levels for millions of pairs at once (:meth:`levels`, on
joint codes, see :mod:`linkage._codes`) and for one pair in plain Python
(:meth:`level_of`, the reference the kernel is tested against).

Kinds (the ``kind`` key of a TOML spec):

* :class:`ExactMatch` (``exact``) — else, exact;
* :class:`Similarity` (``similarity``) — a rapidfuzz similarity in [0, 1], binned by
  thresholds;
* :class:`Distance` (``distance``) — an edit distance, binned by thresholds; "at most
  one edit?" on short values is answered on fixed-width character arrays, about four
  times faster than ``cpdist`` on the 2 M enterprise-number pairs of the full exchange;
* :class:`SharedValue` (``shared``) — else, shared: two lists of values (written as
  one text, space-separated) with at least one value in common.

A new kind is one subclass here, registered by its ``kind`` class keyword: the
compare stage, the model, persistence and TOML specs find it in ``Comparison.kinds``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Jaro, JaroWinkler, Levenshtein

from linkage._codes import Encoded
from linkage._kinds import Kind, Kinds
from linkage.exceptions import ConfigError

__all__ = [
    "SCORERS",
    "Comparison",
    "Distance",
    "ExactMatch",
    "SharedValue",
    "Similarity",
    "comparison_from_dict",
    "distance",
    "exact_match",
    "shared_value",
    "similarity",
]

Scorer = Literal[
    "jaro_winkler",
    "jaro",
    "ratio",
    "token_sort_ratio",
    "token_set_ratio",
    "levenshtein",
    "damerau_levenshtein",
]
SCORERS: tuple[str, ...] = get_args(Scorer)
TfReference = Literal["pairs", "tables"]

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


@dataclass(frozen=True, kw_only=True)
class Comparison(Kind):
    """Ordered agreement levels of one column (the base of every kind).

    ``term_frequency`` makes an exact match on a common value count for less than one
    on a rare value. ``decisive`` marks a comparison whose exact level settles a pair
    (two equal, valid enterprise numbers; see :mod:`linkage.model`).

    Attributes
    ----------
    tf_reference : {"pairs", "tables"}
        What a value's frequency is judged against, with ``term_frequency``: the
        mean frequency of the candidate pairs that agree (``pairs``), or of every
        pair of the two tables that agrees (``tables``), which does not move when
        blocking splits the blocks of common values or the tables grow; ``tables``
        where blocking pairs records by equal values, ``pairs`` where it pairs them
        within something else they share (units within their linked enterprise).
    """

    kinds: ClassVar[Kinds[Comparison]] = Kinds(default="exact")
    column: str
    term_frequency: bool = False
    tf_reference: TfReference = "pairs"
    decisive: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.column)
        if self.tf_reference not in get_args(TfReference):
            raise ConfigError(
                f"comparison {self.name!r}: tf_reference must be one of "
                f"{', '.join(get_args(TfReference))}, not {self.tf_reference!r}"
            )

    @property
    def n_levels(self) -> int:
        """Levels other than null: else, the fuzzy ones, exact."""
        return 2

    @property
    def level_labels(self) -> tuple[str, ...]:
        """A label per level, from ``else`` (0) to ``exact`` (``n_levels - 1``)."""
        return ("else", "exact")

    def levels(
        self,
        lcode: NDArray[np.int64],
        rcode: NDArray[np.int64],
        encoded: Encoded,
        *,
        workers: int = -1,
    ) -> NDArray[np.int8]:
        """The level of each pair, given both values' joint codes (see :mod:`linkage._codes`).

        Parameters
        ----------
        lcode, rcode : ndarray of shape (n_pairs,), dtype int64
        encoded : Encoded
            The column's codes and distinct values.
        workers : int
            Threads for a string kernel; -1 is all cores.
        """
        null = (lcode < 0) | (rcode < 0)
        exact = (lcode == rcode) & ~null
        levels = np.where(null, -1, np.where(exact, self.n_levels - 1, 0)).astype(np.int8)
        fuzzy = np.flatnonzero(~null & ~exact)
        if fuzzy.size:
            levels[fuzzy] = self._fuzzy_levels(lcode[fuzzy], rcode[fuzzy], encoded, workers)
        return levels

    def _fuzzy_levels(
        self,
        lcode: NDArray[np.int64],
        rcode: NDArray[np.int64],
        encoded: Encoded,
        workers: int,
    ) -> NDArray[np.int8] | int:
        """Levels of pairs present on both sides and not equal."""
        return 0

    def level_of(self, a: object, b: object) -> int:
        """One pair's level, in plain Python: the reference :meth:`levels` is tested against."""
        if pd.isna(a) or pd.isna(b):
            return -1
        if a == b:
            return self.n_levels - 1
        return self._fuzzy_level_of(str(a), str(b))

    def _fuzzy_level_of(self, a: str, b: str) -> int:
        return 0


def comparison_from_dict(raw: Mapping[str, Any], *, where: str = "comparison") -> Comparison:
    """A comparison from plain data: ``kind`` (default ``exact``) picks the class.

    >>> comparison_from_dict({"kind": "distance", "column": "number"}).thresholds
    (1,)
    """
    return Comparison.kinds.from_dict(raw, where=where)


@dataclass(frozen=True, kw_only=True)
class ExactMatch(Comparison, kind="exact"):
    """Two levels: else, exact."""


@dataclass(frozen=True, kw_only=True)
class _Scored(Comparison):
    """A comparison that bins a string score by thresholds (tightest first)."""

    scorer: Scorer
    thresholds: tuple[float, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        if self.scorer not in SCORERS:
            raise ConfigError(
                f"comparison {self.name!r}: scorer must be one of {', '.join(SCORERS)}, "
                f"not {self.scorer!r}"
            )
        if not self.thresholds:
            raise ConfigError(f"comparison {self.name!r}: {self.kind} needs thresholds")
        self._check_thresholds()

    def _check_thresholds(self) -> None:
        raise NotImplementedError

    def _met(self, scores: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per score and threshold, whether the threshold is met."""
        raise NotImplementedError

    @property
    def n_levels(self) -> int:
        return len(self.thresholds) + 2

    @property
    def level_labels(self) -> tuple[str, ...]:
        op = ">=" if self.kind == "similarity" else "<="
        fuzzy = [f"{self.scorer} {op} {t:g}" for t in reversed(self.thresholds)]
        return ("else", *fuzzy, "exact")

    def _bin(self, scores: NDArray[np.float64]) -> NDArray[np.int8]:
        """Fuzzy levels 0 .. len(thresholds) from raw scores: the thresholds met."""
        return self._met(scores).sum(axis=1).astype(np.int8)

    def _fuzzy_levels(
        self,
        lcode: NDArray[np.int64],
        rcode: NDArray[np.int64],
        encoded: Encoded,
        workers: int,
    ) -> NDArray[np.int8] | int:
        scorer, scale = _SCORERS[self.scorer]
        scores = process.cpdist(
            encoded.values[lcode],
            encoded.values[rcode],
            scorer=scorer,
            workers=workers,
            dtype=np.float32 if self.kind == "similarity" else np.int32,
        )
        return self._bin(np.asarray(scores, np.float64) / scale)

    def _fuzzy_level_of(self, a: str, b: str) -> int:
        scorer, scale = _SCORERS[self.scorer]
        return int(self._bin(np.array([scorer(a, b) / scale]))[0])


@dataclass(frozen=True, kw_only=True)
class Similarity(_Scored, kind="similarity"):
    """Levels else, one per similarity threshold in (0, 1] (tightest first), exact."""

    scorer: Scorer = "jaro_winkler"
    thresholds: tuple[float, ...] = (0.92, 0.8)

    def _check_thresholds(self) -> None:
        t = self.thresholds
        if not (all(0 < x <= 1 for x in t) and all(a > b for a, b in pairwise(t))):
            raise ConfigError(
                f"comparison {self.name!r}: similarity thresholds must fall within (0, 1], "
                f"tightest first, e.g. (0.95, 0.85); got {t}"
            )

    def _met(self, scores: NDArray[np.float64]) -> NDArray[np.bool_]:
        return scores[:, None] >= np.asarray(self.thresholds, dtype=np.float64)


# Edit distances whose "at most one edit" is tested on character arrays; the flag:
# does swapping two adjacent characters count as one edit.
_ONE_EDIT = {"damerau_levenshtein": True, "levenshtein": False}


@dataclass(frozen=True, kw_only=True)
class Distance(_Scored, kind="distance"):
    """Levels else, one per edit-distance threshold (smallest first), exact.

    Damerau-Levenshtein distance 1 catches one wrong digit and one transposition.
    """

    scorer: Scorer = "damerau_levenshtein"
    thresholds: tuple[float, ...] = (1,)

    def _check_thresholds(self) -> None:
        t = self.thresholds
        if not (
            all(x >= 1 and float(x).is_integer() for x in t) and all(a < b for a, b in pairwise(t))
        ):
            raise ConfigError(
                f"comparison {self.name!r}: distance thresholds must be whole edits, "
                f"tightest first, e.g. (1, 2); got {t}"
            )

    def _met(self, scores: NDArray[np.float64]) -> NDArray[np.bool_]:
        return scores[:, None] <= np.asarray(self.thresholds, dtype=np.float64)

    def _fuzzy_levels(
        self,
        lcode: NDArray[np.int64],
        rcode: NDArray[np.int64],
        encoded: Encoded,
        workers: int,
    ) -> NDArray[np.int8] | int:
        fixed = encoded.fixed_width if self._one_edit_is_enough else None
        if fixed is None:
            return super()._fuzzy_levels(lcode, rcode, encoded, workers)
        strings, lengths = fixed
        levels = np.empty(len(lcode), dtype=np.int8)
        same_length = lengths[lcode] == lengths[rcode]
        rows = np.flatnonzero(same_length)
        close = _one_edit_apart(strings, lcode[rows], rcode[rows], swaps=_ONE_EDIT[self.scorer])
        # Distance 1 or "more than one", binned like a score: equal lengths need no
        # insertion, so nothing else is one edit apart.
        levels[rows] = self._bin(np.where(close, 1.0, 2.0))
        rest = np.flatnonzero(~same_length)
        if rest.size:
            levels[rest] = super()._fuzzy_levels(lcode[rest], rcode[rest], encoded, workers)
        return levels

    @property
    def _one_edit_is_enough(self) -> bool:
        """The thresholds only ask "at most one edit?" of a scorer the arrays can answer."""
        return self.scorer in _ONE_EDIT and max(self.thresholds) <= 1


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


_TOKENS = "_shared_value_tokens"


@dataclass(frozen=True, kw_only=True)
class SharedValue(Comparison, kind="shared"):
    """Two levels of a list column whose values are written as one text, separated by
    spaces (as the ``unit_numbers`` preparer writes them): else, and shared (at least
    one value in both lists; equal lists too).

    Made for identifiers of a record's parts: an enterprise lists its units' numbers,
    an employer the unit numbers its sites carry, and one number in common names the
    enterprise even where nothing else agrees.
    """

    @property
    def level_labels(self) -> tuple[str, ...]:
        return ("else", "shared")

    def _fuzzy_levels(
        self,
        lcode: NDArray[np.int64],
        rcode: NDArray[np.int64],
        encoded: Encoded,
        workers: int,
    ) -> NDArray[np.int8] | int:
        # The values split once per column, for every chunk of pairs and the random
        # pairs of the fit (kept on the column's codes, as its fixed-width form is).
        tokens = encoded.__dict__.get(_TOKENS)
        if tokens is None:
            tokens = encoded.__dict__[_TOKENS] = value_tokens(encoded.values)
        return share_a_value(encoded.values, lcode, rcode, tokens).astype(np.int8)

    def _fuzzy_level_of(self, a: str, b: str) -> int:
        return int(bool(set(a.split(" ")) & set(b.split(" ")) - {""}))


def share_a_value(
    values: NDArray[np.object_],
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    tokens: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> NDArray[np.bool_]:
    """Per pair of codes into ``values`` (texts of space-separated values), whether the
    two lists have a value in common.

    Each pair looks up the values of its shorter list among the (text, value) keys
    of the other, sorted: the work is the shorter lists' length, so a chain's
    hundreds of units cost little but on its own pairs, and pairs of two one-value
    lists (not equal, or they would not be asked) none. ``tokens`` is
    :func:`value_tokens` of ``values``, when the caller keeps it.

    >>> values = np.array(["1 2", "2 3", "4", "1 5 6"], dtype=object)
    >>> share_a_value(values, np.array([0, 0, 2]), np.array([1, 2, 3])).tolist()
    [True, False, False]
    """
    lengths, starts, token = tokens if tokens is not None else value_tokens(values)
    shared = np.zeros(len(lcode), dtype=bool)
    several = np.flatnonzero((lengths[lcode] > 1) | (lengths[rcode] > 1))
    if not several.size:
        return shared
    left, right = lcode[several], rcode[several]
    n_tokens = int(token.max()) + 1
    fewer_left = lengths[left] <= lengths[right]
    short = np.where(fewer_left, left, right)
    other = np.where(fewer_left, right, left)
    # The (text, value) keys of the longer lists' texts, sorted.
    texts = np.unique(other)
    count = lengths[texts]
    owner = np.repeat(texts, count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    theirs = token[starts[owner] + within]
    keys = np.sort((owner * n_tokens + theirs)[theirs >= 0])
    if not keys.size:
        return shared
    count = lengths[short]
    pair = np.repeat(np.arange(len(short)), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    mine = token[starts[short][pair] + within]
    wanted = other[pair] * n_tokens + mine
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    shared[several[pair[(keys[at] == wanted) & (mine >= 0)]]] = True
    return shared


def value_tokens(
    values: NDArray[np.object_],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Each text's number of space-separated values, where its values start, and the
    values as integer codes (one code a distinct value, -1 for an empty one, which
    two spaces in a row make), text after text."""
    words = pc.split_pattern(pa.array(values, pa.string()), " ")
    lengths = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(words)
    token = pd.factorize(pd.arrays.ArrowStringArray(flat))[0].astype(np.int64)
    token[pc.equal(flat, "").to_numpy(zero_copy_only=False)] = -1
    return lengths, np.cumsum(lengths) - lengths, token


def exact_match(
    column: str,
    *,
    term_frequency: bool = False,
    tf_reference: TfReference = "pairs",
    decisive: bool = False,
    name: str = "",
) -> ExactMatch:
    """Two levels: else, exact.

    >>> exact_match("postcode").level_labels
    ('else', 'exact')
    """
    return ExactMatch(
        column=column,
        term_frequency=term_frequency,
        tf_reference=tf_reference,
        decisive=decisive,
        name=name,
    )


def similarity(
    column: str,
    *,
    scorer: Scorer = "jaro_winkler",
    thresholds: Sequence[float] = (0.92, 0.8),
    term_frequency: bool = False,
    tf_reference: TfReference = "pairs",
    name: str = "",
) -> Similarity:
    """Levels else, one per similarity threshold (tightest first), exact.

    >>> similarity("name", thresholds=(0.95, 0.85)).level_labels
    ('else', 'jaro_winkler >= 0.85', 'jaro_winkler >= 0.95', 'exact')
    """
    return Similarity(
        column=column,
        scorer=scorer,
        thresholds=tuple(thresholds),
        term_frequency=term_frequency,
        tf_reference=tf_reference,
        name=name,
    )


def distance(
    column: str,
    *,
    scorer: Scorer = "damerau_levenshtein",
    thresholds: Sequence[float] = (1,),
    decisive: bool = False,
    name: str = "",
) -> Distance:
    """Levels else, one per edit-distance threshold (smallest first), exact."""
    return Distance(
        column=column, scorer=scorer, thresholds=tuple(thresholds), decisive=decisive, name=name
    )


def shared_value(column: str, *, name: str = "") -> SharedValue:
    """Two levels of a list column written as space-separated text: else, shared.

    >>> shared_value("unit_numbers").level_of("2073157343 2248887095", "2248887095")
    1
    """
    return SharedValue(column=column, name=name)
