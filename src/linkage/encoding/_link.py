"""Link two parties' encodings: no key, no clear value.

The stages of :func:`linkage.pipeline.link`, on encodings: blocking on equal
tokens (:mod:`linkage.rules`' ``BlockOn`` over their joint codes) and on LSH bands
of the Bloom filters (:mod:`linkage.encoding._lsh`); comparison levels from equal
tokens and binned Dice similarities (:mod:`linkage.encoding._dice`); the same
Fellegi-Sunter model (:mod:`linkage.model`), fitted with random pairs as the clear
link fits it; greedy one-to-one (:func:`linkage.resolve.one_to_one`). Term
frequencies are those of the tokens; a Bloom filter, hardened, has none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.blocking import PARENT_BLOCK_PAIRS, Pairs, candidate_pairs
from linkage.comparisons import Comparison, ExactMatch, Similarity
from linkage.config import LinkSpec, spec_from_dict
from linkage.encoding._dice import dice, popcount
from linkage.encoding._encode import Encoded
from linkage.encoding._params import EncodingParams
from linkage.encoding._plan import plan
from linkage.encoding._read import as_words, read_encoded
from linkage.exceptions import ConfigError
from linkage.io import require_columns
from linkage.model import FellegiSunter
from linkage.pipeline import links_table, timed
from linkage.resolve import consistent_with_parents, one_to_one, probability_to_weight
from linkage.rules import BlockingRule, SplitBlockOn, block_on

__all__ = ["EncodedLinkResult", "link_encoded"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class EncodedLinkResult:
    """Links made on encodings, and what made them (as :class:`linkage.pipeline.LinkResult`).

    ``links`` has the two id columns (the right one suffixed ``_right`` if they
    share a name), ``match_weight`` and ``match_probability``: a plain table that
    names records only by the ids the parties passed through.
    """

    spec: LinkSpec
    params: EncodingParams
    links: pd.DataFrame
    pairs: Pairs
    gamma: NDArray[np.int8]
    weights: NDArray[np.float64]
    model: FellegiSunter
    left_ids: pd.Index
    right_ids: pd.Index
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: pairs per rule, links, seconds per stage."""
        rules = ", ".join(f"{k} {v:,}" for k, v in self.pairs.by_rule.items())
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        return (
            f"{len(self.pairs):,} candidate pairs ({rules}); {len(self.links):,} links at "
            f"probability >= {self.spec.threshold:g}\n"
            f"stages: {stages}; total {sum(self.timings.values()):.2f}s"
        )


@dataclass
class _Bloom:
    left: NDArray[np.uint64]
    right: NDArray[np.uint64]
    left_present: NDArray[np.bool_]
    right_present: NDArray[np.bool_]
    left_counts: NDArray[np.int32]
    right_counts: NDArray[np.int32]


def _token_codes(left: Encoded, right: Encoded, column: str) -> tuple[NDArray[np.int64], ...]:
    """Joint integer codes of a token column on both sides (-1 missing)."""
    lw, lp = as_words(left.table[column])
    rw, rp = as_words(right.table[column])
    # 64 of the 128 bits code a token: a collision among a million values is 1 in 10**7.
    keys = np.concatenate([lw[:, 0], rw[:, 0]])
    codes, _ = pd.factorize(keys)
    codes = codes.astype(np.int64)
    codes[~np.concatenate([lp, rp])] = -1
    return codes[: len(lw)], codes[len(lw) :]


def _meeting(left: NDArray[np.uint64], right: NDArray[np.uint64]) -> NDArray[np.int64]:
    """The pairs (``left * n_right + right``, sorted) of rows sharing a token.

    ``left``, ``right``: 64-bit tokens, a row's side by side (0: none). Only the tokens
    found on both sides are joined. A token held by more than :data:`_MEETING_BLOCK`
    pairs (a placeholder number on many records) is left out: such pairs meet on
    nothing.
    """
    codes, distinct = pd.factorize(np.concatenate([left.ravel(), right.ravel()]))
    lc, rc = codes[: left.size], codes[left.size :]
    pairs = np.bincount(lc, minlength=len(distinct)) * np.bincount(rc, minlength=len(distinct))
    shared = (pairs > 0) & (pairs <= _MEETING_BLOCK) & (distinct != 0)  # 0: no token
    lat, rat = np.flatnonzero(shared[lc]), np.flatnonzero(shared[rc])
    met = pd.DataFrame({"c": lc[lat], "l": lat // left.shape[1]}).merge(
        pd.DataFrame({"c": rc[rat], "r": rat // right.shape[1]}), on="c"
    )
    keys = met["l"].to_numpy(np.int64) * len(right) + met["r"].to_numpy(np.int64)
    return np.sort(keys)


def _listed_words(encoded: Encoded, field: str) -> NDArray[np.uint64]:
    """A token field's values as 64-bit tokens side by side: all a cell listed
    (``any:``), else its one token."""
    if f"any:{field}" in encoded.table.column_names:
        return as_words(encoded.table[f"any:{field}"])[0]  # type: ignore[return-value]
    return as_words(encoded.table[f"token:{field}"])[0][:, :1]  # type: ignore[return-value]


def _bloom(left: Encoded, right: Encoded, column: str) -> _Bloom:
    lw, lp = as_words(left.table[column])
    rw, rp = as_words(right.table[column])
    return _Bloom(lw, rw, lp, rp, popcount(lw), popcount(rw))  # type: ignore[arg-type]


_PARENT = "parent"
#: Pairs one near or listed token may join at most (see :func:`_meeting`).
_MEETING_BLOCK = 10_000
#: Pairs whose filters are gathered at once: 2 x 32 MiB of 1024-bit filters.
_DICE_CHUNK = 262_144


def _parent_codes(
    left: Encoded, right: Encoded, links: pd.DataFrame, left_column: str, right_column: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], pd.Series]:
    """Each child's parent as a code (-1: none), and the parents' links in codes."""
    for encoded, column, side in ((left, left_column, "left"), (right, right_column, "right")):
        if f"keep:{column}" not in encoded.table.column_names:
            raise ConfigError(
                f"the {side} encodings do not pass through the parent id {column!r}; "
                f"encode them with keep=({column!r},) (--keep {column})"
            )
    require_columns(links, (left_column, right_column), source="parent links")
    lpar = pd.Series(left.table[f"keep:{left_column}"].to_pylist(), dtype=object)
    rpar = pd.Series(right.table[f"keep:{right_column}"].to_pylist(), dtype=object)
    lc, _ = pd.factorize(pd.concat([lpar, links[left_column].astype(object)]))
    rc, _ = pd.factorize(pd.concat([rpar, links[right_column].astype(object)]))
    parent_link = pd.Series(rc[len(rpar) :], index=lc[len(lpar) :])
    return lc[: len(lpar)].astype(np.int64), rc[: len(rpar)].astype(np.int64), parent_link


def _rule(column: str, cap: int | None, split: tuple[str, ...]) -> BlockingRule:
    """Equal tokens of ``column``; an oversized block split by ``split``'s tokens."""
    if split and cap is not None:
        return SplitBlockOn(
            columns=(column,), max_block_size=cap, split_by=tuple(f"token:{s}" for s in split)
        )
    return block_on(column, max_block_size=cap)


def _check(left: Encoded, right: Encoded) -> None:
    """Refuse two files that cannot be linked, in one line."""
    a, b = left.description, right.description
    if {a.get("side"), b.get("side")} != {"left", "right"}:
        raise ConfigError(
            f"an encoded link needs one left and one right file; got {a.get('side')} "
            f"and {b.get('side')}"
        )
    for item, what in (
        ("base_spec_sha256", "specs"),
        ("params", "encoding parameters"),
        ("key_version", "key versions"),
    ):
        if a.get(item) != b.get(item):
            raise ConfigError(f"the two files were encoded with different {what}")
    if a.get("key_id") != b.get("key_id"):
        raise ConfigError(
            "the two files were encoded under different keys (their key ids differ): "
            "encodings of two exchanges cannot be linked"
        )


def _common_spec(left: Encoded, right: Encoded) -> LinkSpec:
    """The spec both files were encoded with, without the fields either lacks."""
    lspec = spec_from_dict(left.description["spec"])  # type: ignore[arg-type]
    rspec = spec_from_dict(right.description["spec"])  # type: ignore[arg-type]
    missing = {f.name for f in lspec.fields} ^ {f.name for f in rspec.fields}
    return lspec.without(missing) if missing else lspec


def _levels(
    comparison: Comparison,
    lcode: NDArray[np.int64] | None,
    rcode: NDArray[np.int64] | None,
    bloom: _Bloom | None,
    thresholds: tuple[float, ...],
    flip: float,
    lpos: NDArray[np.integer],
    rpos: NDArray[np.integer],
    chunk_size: int,
    met: tuple[NDArray[np.int64], int, int] | None = None,
) -> NDArray[np.int8]:
    """One comparison's levels: equal tokens, tokens met elsewhere (``met``: the pairs
    whose near or listed tokens meet, the right side's size and their level), or Dice
    binned by ``thresholds``."""
    if bloom is None:
        assert lcode is not None and rcode is not None
        lc, rc = lcode[lpos], rcode[rpos]
        top = comparison.n_levels - 1
        levels = np.where(lc == rc, top, 0).astype(np.int8)
        levels[(lc < 0) | (rc < 0)] = -1
        if met is not None and len(met[0]):
            pairs_met, n_right, level = met
            keys = lpos.astype(np.int64) * n_right + rpos
            at = np.minimum(np.searchsorted(pairs_met, keys), len(pairs_met) - 1)
            levels[(levels < level) & (pairs_met[at] == keys)] = level
        return levels
    scores = dice(
        bloom.left,
        bloom.right,
        lpos,
        rpos,
        chunk_size=chunk_size,
        left_counts=bloom.left_counts,
        right_counts=bloom.right_counts,
        flip=flip,
    )
    reached = scores[:, None] >= np.asarray(thresholds, np.float32)[None, :]
    levels = reached.sum(axis=1).astype(np.int8)
    levels[~(bloom.left_present[lpos] & bloom.right_present[rpos])] = -1
    return levels


def link_encoded(
    left: Encoded | str | Path,
    right: Encoded | str | Path,
    *,
    threshold: float | None = None,
    model: FellegiSunter | None = None,
    parents: tuple[pd.DataFrame, str, str] | None = None,
) -> EncodedLinkResult:
    """Link two parties' encodings (see the module docstring).

    Parameters
    ----------
    left, right : Encoded or path
        The two files of :func:`linkage.encoding.encode` (one per side of the spec),
        in either order; made with one spec, one set of parameters, one key.
    threshold : float, optional
        Match probability cut-off; the spec's by default.
    model : FellegiSunter, optional
        A model fitted before on encodings of this spec, to reuse.
    parents : tuple of (DataFrame, str, str), optional
        The parents' links (e.g. the enterprise link table) and the parent id
        columns, which both files passed through (``encode(keep=...)``): children
        are then also blocked within linked parents, and never linked across
        parents linked elsewhere (as :func:`linkage.pipeline.link` does).

    Returns
    -------
    EncodedLinkResult
    """
    left = left if isinstance(left, Encoded) else read_encoded(left)
    right = right if isinstance(right, Encoded) else read_encoded(right)
    if left.description.get("side") == "right":
        left, right = right, left
    _check(left, right)
    spec = _common_spec(left, right)
    if threshold is not None:
        spec = replace(spec, threshold=threshold)
    params = EncodingParams.from_dict(left.description["params"])  # type: ignore[arg-type]
    what = plan(spec)
    timings: dict[str, float] = {}
    lid, rid = str(left.description["id_column"]), str(right.description["id_column"])
    left_ids = pd.Index(left.table[lid].to_numpy(zero_copy_only=False))
    right_ids = pd.Index(right.table[rid].to_numpy(zero_copy_only=False))
    with timed(timings, "block"):
        codes: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
        for f in what.token:
            codes[f"token:{f}"] = _token_codes(left, right, f"token:{f}")  # type: ignore[assignment]
        blooms = {f: _bloom(left, right, f"bloom:{f}") for f in what.bloom}
        both = set(left.table.column_names) & set(right.table.column_names)
        rules: list[BlockingRule] = [
            _rule(f"token:{f}", cap, split) for f, cap, split in what.token_rules
        ]
        for name, _, cap, split in what.block:
            codes[f"block:{name}"] = _token_codes(left, right, f"block:{name}")  # type: ignore[assignment]
            rules.append(_rule(f"block:{name}", cap, split))
        names = set(left.table.column_names) & set(right.table.column_names)
        for f in what.lsh:
            for band in range(params.lsh_bands):
                for kind in ("lsh", "lsh_unique"):
                    column = f"{kind}:{f}:{band}"
                    if column not in names:
                        continue
                    codes[column] = _token_codes(left, right, column)  # type: ignore[assignment]
                    rules.append(block_on(column, max_block_size=params.lsh_max_block))
        if parents is not None:
            left_parent, right_parent, parent_link = _parent_codes(left, right, *parents)
            block_key = pd.Series(left_parent).map(parent_link).fillna(-1).to_numpy(np.int64)
            codes[_PARENT] = (block_key, right_parent)
            split = tuple(
                f"token:{c.column}"
                for c in spec.comparisons
                if isinstance(c, ExactMatch) and not c.decisive and f"token:{c.column}" in codes
            )
            rules.append(
                SplitBlockOn(
                    columns=(_PARENT,),
                    max_block_size=PARENT_BLOCK_PAIRS,
                    split_by=split,
                    name="within linked parent",
                )
                if split
                else block_on(_PARENT, max_block_size=PARENT_BLOCK_PAIRS)
            )
        lframe = pd.DataFrame({c: v[0] for c, v in codes.items()})
        rframe = pd.DataFrame({c: v[1] for c, v in codes.items()})
        pairs = candidate_pairs(lframe, rframe, rules, codes=codes)
        del lframe, rframe
        if parents is not None:
            keep = consistent_with_parents(
                left_parent[pairs.left], right_parent[pairs.right], parent_link
            )
            pairs = replace(pairs, left=pairs.left[keep], right=pairs.right[keep])
    comparisons = spec.comparisons
    thresholds = {
        c.name: params.thresholds(c.name, c.n_levels - 1)
        for c in comparisons
        if isinstance(c, Similarity)
    }

    def gamma_of(lpos: NDArray[np.integer], rpos: NDArray[np.integer]) -> NDArray[np.int8]:
        gamma = np.empty((len(lpos), len(comparisons)), np.int8)
        for k, c in enumerate(comparisons):
            token = codes.get(f"token:{c.column}")
            gamma[:, k] = _levels(
                c,
                None if token is None else token[0],
                None if token is None else token[1],
                blooms.get(c.column) if isinstance(c, Similarity) else None,
                thresholds.get(c.name, ()),
                params.flip,
                lpos,
                rpos,
                min(spec.chunk_size, _DICE_CHUNK),
                (met[c.column][0], len(right_ids), met[c.column][1]) if c.column in met else None,
            )
        return gamma

    with timed(timings, "compare"):
        # Pairs whose numbers are within one edit (one level below exact), and whose
        # cells share one of the values they list (exact).
        met: dict[str, tuple[NDArray[np.int64], int]] = {}
        for c in comparisons:
            if f"near:{c.column}" in both and c.n_levels > 2:
                near = (
                    as_words(left.table[f"near:{c.column}"])[0],
                    as_words(right.table[f"near:{c.column}"])[0],
                )
                met[c.column] = (_meeting(*near), c.n_levels - 2)  # type: ignore[arg-type]
            elif not isinstance(c, Similarity) and any(
                f"any:{c.column}" in e.table.column_names for e in (left, right)
            ):
                listed = (_listed_words(left, c.column), _listed_words(right, c.column))
                met[c.column] = (_meeting(*listed), c.n_levels - 1)
        gamma = gamma_of(pairs.left, pairs.right)
        tf = {
            c.name: _term_frequencies(*codes[f"token:{c.column}"], pairs.left, pairs.right)
            for c in comparisons
            if c.term_frequency and not isinstance(c, Similarity)
        }
    # A Bloom filter has no term frequency: the model's spec says so.
    model_spec = replace(
        spec,
        comparisons=tuple(
            replace(c, term_frequency=False) if isinstance(c, Similarity) else c
            for c in comparisons
        ),
    )
    if model is None:
        with timed(timings, "fit"):
            model = FellegiSunter.from_spec(model_spec)
            rng = np.random.default_rng(model.seed)
            random_left = rng.integers(0, len(left_ids), model.u_sample_size)
            random_right = rng.integers(0, len(right_ids), model.u_sample_size)
            model.fit(gamma, gamma_random=gamma_of(random_left, random_right), tf=tf)
    else:
        model.check_spec(model_spec)
    with timed(timings, "score"):
        weights = model.match_weight(gamma, tf=tf)
    with timed(timings, "resolve"):
        min_weight = probability_to_weight(spec.threshold)
        if spec.one_to_one:
            chosen = one_to_one(pairs.left, pairs.right, weights, min_weight=min_weight)
        else:
            chosen = weights >= min_weight
        links = links_table(spec, left_ids, right_ids, pairs, weights, chosen)
    result = EncodedLinkResult(
        spec=model_spec,
        params=params,
        links=links,
        pairs=pairs,
        gamma=gamma,
        weights=weights,
        model=model,
        left_ids=left_ids,
        right_ids=right_ids,
        timings=timings,
    )
    log.debug("%s", result.summary())
    return result


def _term_frequencies(
    lcode: NDArray[np.int64],
    rcode: NDArray[np.int64],
    lpos: NDArray[np.integer],
    rpos: NDArray[np.integer],
) -> NDArray[np.float64]:
    """Per pair, the share of all present tokens equal to the pair's (NaN unless equal)."""
    both = np.concatenate([lcode, rcode])
    counts = np.bincount(both[both >= 0])
    lc, rc = lcode[lpos], rcode[rpos]
    same = (lc == rc) & (lc >= 0)
    tf = np.full(len(lc), np.nan)
    tf[same] = counts[lc[same]] / max(int(counts.sum()), 1)
    return tf
