"""The pipeline: chains the stages, and nothing else.

``link(left, right, spec)`` prepares both tables, proposes candidate pairs, compares
them, fits (or reuses) a Fellegi-Sunter model, scores and resolves. Given the links
of the parents, it links children consistently with them (establishment units
within the employer their enterprise was linked to).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage._codes import Encoded, encode
from linkage.blocking import Pairs, candidate_pairs, within_linked_parent
from linkage.compare import compare, compare_with_frequencies, record_keys
from linkage.config import LinkSpec
from linkage.exceptions import ConfigError, SchemaError
from linkage.io import check_unique, require_columns
from linkage.model import FellegiSunter, weight_to_probability
from linkage.overrides import Overrides, merge, override_names
from linkage.prepare import prepare
from linkage.preparers import LIST_SEPARATOR, join_listed
from linkage.resolve import consistent_with_parents, one_to_one, probability_to_weight
from linkage.rules import Focus
from linkage.trace import first_rule, level_names, partners, status

__all__ = [
    "Increment",
    "LinkResult",
    "ParentLinks",
    "child_values",
    "fit_model",
    "link",
    "random_pairs",
    "score_pairs",
    "timed",
]

log = logging.getLogger(__name__)

PARENT = "_parent"


@dataclass(frozen=True, kw_only=True)
class ParentLinks:
    """Links between the parents of two child tables.

    Each left child names its parent in column ``left_parent``, each right child in
    column ``right_parent``; ``links`` holds the linked parents' ids in columns of
    the same two names (or in ``link_columns``, left then right). Build it from the
    parents' link with :meth:`of`.
    """

    links: pd.DataFrame
    left_parent: str
    right_parent: str
    link_columns: tuple[str, str] | None = None

    @classmethod
    def of(cls, parents: LinkResult) -> ParentLinks:
        """The links of a parent link, for children that name their parent by the
        parent link's ids (units by ``enterprise_number``, sites by ``employer_id``)."""
        # By name, as link() wrote them: the links' columns may have been reordered since.
        left, right = _id_columns(parents.spec)
        return cls(
            links=parents.links[[left, right]],
            left_parent=parents.spec.left_id,
            right_parent=parents.spec.right_id,
            link_columns=(left, right),
        )


def child_values(
    parents: pd.DataFrame,
    parent_id: str,
    children: pd.DataFrame,
    child_parent: str,
    values: str,
) -> pd.Series:
    """Per parent record, the ``values`` of its children as one listed cell.

    The children name their parent in ``child_parent`` by the parents' ``parent_id``;
    a parent's cell holds its children's distinct present values joined by ``"; "``
    (the exchange's plural cell; in the order of
    :func:`linkage.preparers.join_listed`), missing where it has none. An
    enterprise's unit numbers, or those an employer's sites carry, for
    ``enterprises(unit_numbers=True)``::

        enterprises["unit_numbers"] = child_values(
            enterprises, "enterprise_number", units, "enterprise_number",
            "establishment_number")

    >>> parents = pd.DataFrame({"id": ["a", "b", "c"]})
    >>> children = pd.DataFrame({"parent": ["c", "a", "c", "x"], "n": ["2", "1", "3", "9"]})
    >>> cells = child_values(parents, "id", children, "parent", "n")
    >>> cells[0], cells[1], sorted(cells[2].split("; "))
    ('1', <NA>, ['2', '3'])
    """
    require_columns(parents, (parent_id,), source="parents")
    require_columns(children, (child_parent, values), source="children")
    rows = _positions(parents[parent_id], children[child_parent])
    found = rows >= 0
    items = pd.Series(children[values].to_numpy(object)[found])
    out = join_listed(rows[found].astype(np.int64), items, len(parents), sep=f"{LIST_SEPARATOR} ")
    out.index = parents.index
    return out.rename(values)


def _positions(ids: pd.Series, keys: pd.Series) -> NDArray[np.int64]:
    """Each key's position among ``ids`` (unique, checked), -1 where absent; by an
    Arrow hash join where both columns are Arrow strings or numbers alike (3-4 times
    pandas' on object ids), else by a pandas index."""
    try:
        id_array = pa.array(ids, from_pandas=True)
        key_array = pa.array(keys, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        id_array = key_array = None
    if id_array is None or key_array is None or id_array.type != key_array.type:
        index = pd.Index(ids)
        if index.hasnans or not index.is_unique:
            check_unique(ids, source="parents")
        return index.get_indexer(keys).astype(np.int64)
    if id_array.null_count or len(pc.unique(id_array)) != len(id_array):
        check_unique(ids, source="parents")
    at = pc.index_in(key_array, value_set=id_array)
    return pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class Increment:
    """Earlier links to keep, and the records that changed since they were made.

    A link with an increment keeps, as it was (its probability too), every earlier
    link whose two records are present and unchanged, and links anew only the pairs
    that involve a changed record and no record of a kept link. A record counts as
    changed when it is new, when its values changed, or when its earlier link was
    let go (its partner changed or went), so that it may link again. With the model
    the earlier links were made with, a link then changes only when one of its
    records did.

    Attributes
    ----------
    links : DataFrame
        The earlier links: the spec's two id columns and ``match_probability``.
    left_changed, right_changed : sequence
        Ids of the records new or changed since.
    rows : pair of ndarray of shape (n_links,), dtype intp, optional
        Where the caller knows them: each earlier link's row in ``left`` and in
        ``right`` (-1: no longer there). Otherwise they are found by id.
    """

    links: pd.DataFrame
    left_changed: Sequence[object] | pd.Index
    right_changed: Sequence[object] | pd.Index
    rows: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None


@dataclass(frozen=True, kw_only=True)
class LinkResult:
    """Links and everything needed to look into them.

    Attributes
    ----------
    links : DataFrame
        One row per link: the two ids, ``match_weight`` and ``match_probability``
        (and, linked with an :class:`Increment`, ``kept``: an earlier link kept as
        it was).
    pairs : Pairs
        The candidate pairs (positions) blocking proposed.
    gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
    weights : ndarray of shape (n_pairs,), dtype float64
    model : FellegiSunter
    timings : dict of str to float
        Seconds per stage.
    rows : pair of ndarray of shape (n_links,), dtype intp
        Each link's row in ``left`` and in ``right`` (positions), in the order of
        ``links``.
    linked : ndarray of shape (n_pairs,), dtype bool
        Which candidate pairs became links.
    pair_rule : ndarray of shape (n_pairs,), dtype int8, optional
        Linked with ``trace=True``: the first rule of ``rule_names`` that proposed
        each pair (-1: none).
    rule_names : tuple of str
    override : ndarray of shape (n_pairs,), dtype int8, optional
        Linked with overrides: 1 for a must-link pair, 2 for a cannot-link, else 0.
    notes : tuple of str
        What the spec lost to the tables' columns: one line per optional field left
        out or made from fewer columns (:meth:`LinkSpec.for_columns`); ``spec`` is
        the spec as it ran.
    """

    spec: LinkSpec
    links: pd.DataFrame
    pairs: Pairs
    gamma: NDArray[np.int8]
    weights: NDArray[np.float64]
    model: FellegiSunter
    left_ids: pd.Index
    right_ids: pd.Index
    timings: dict[str, float] = field(default_factory=dict)
    rows: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None
    linked: NDArray[np.bool_] | None = None
    pair_rule: NDArray[np.int8] | None = None
    rule_names: tuple[str, ...] = ()
    override: NDArray[np.int8] | None = None
    notes: tuple[str, ...] = ()

    def scored_pairs(
        self, left: pd.DataFrame | None = None, right: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Every candidate pair, for analysis and review; given the two tables, with
        both records' values of the columns the spec compares (``left_<column>``,
        ``right_<column>``) after the ids.

        Columns: ``left_id``, ``right_id``; per comparison ``gamma_<name>`` (the
        level) and ``level_<name>`` (its label); ``match_weight``,
        ``match_probability``; ``status`` (``link``, ``lost`` in the one-to-one
        step, ``below`` the threshold) and ``threshold_weight`` (the spec's, in
        bits); ``left_linked_to`` / ``right_linked_to`` (where a pair's records
        are linked instead, by id); and, linked with
        ``trace=True``, ``rule`` (the first blocking rule that proposed the pair).
        """
        left_ids, right_ids = self.left_ids[self.pairs.left], self.right_ids[self.pairs.right]
        frame = pd.DataFrame({"left_id": left_ids, "right_id": right_ids})
        for k, c in enumerate(self.spec.comparisons):
            frame[f"gamma_{c.name}"] = self.gamma[:, k]
        for k, c in enumerate(self.spec.comparisons):
            frame[f"level_{c.name}"] = level_names(c, self.gamma[:, k])
        frame["match_weight"] = self.weights
        frame["match_probability"] = weight_to_probability(self.weights)
        if self.linked is not None:
            min_weight = probability_to_weight(self.spec.threshold)
            frame["status"] = status(self.linked, self.weights, min_weight)
            frame["threshold_weight"] = np.float64(min_weight)
            to_left, to_right = partners(
                self.pairs.left,
                self.pairs.right,
                self.linked,
                len(self.left_ids),
                len(self.right_ids),
            )
            frame["left_linked_to"] = _ids_or_none(self.right_ids, to_left)
            frame["right_linked_to"] = _ids_or_none(self.left_ids, to_right)
        if self.override is not None:
            frame["override"] = override_names(self.override)
        if self.pair_rule is not None:
            frame["rule"] = pd.Categorical.from_codes(
                self.pair_rule.astype(np.int64) + 1, categories=("", *self.rule_names)
            )
        if left is not None and right is not None:
            values = [
                _values(table, side, ids, getattr(self.spec, f"{side}_id"), self.spec)
                for side, table, ids in (("left", left, left_ids), ("right", right, right_ids))
            ]
            frame = pd.concat([frame.iloc[:, :2], *values, frame.iloc[:, 2:]], axis=1)
        return frame

    def summary(self) -> str:
        """A few lines: pairs per rule, links, seconds per stage."""
        rules = ", ".join(f"{k} {v:,}" for k, v in self.pairs.by_rule.items())
        skipped = "".join(
            f"; skipped {v:,} pairs of oversized blocks in {k}"
            for k, v in self.pairs.skipped.items()
        )
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        return (
            f"{len(self.pairs):,} candidate pairs ({rules}{skipped}); "
            f"{len(self.links):,} links at probability >= {self.spec.threshold:g}\n"
            f"stages: {stages}; total {sum(self.timings.values()):.2f}s"
        )


def _ids_or_none(ids: pd.Index, positions: NDArray[np.int64]) -> pd.Series:
    """The ids at ``positions``, None where a position is -1."""
    out = pd.Series(ids[np.maximum(positions, 0)], dtype=object)
    out[positions < 0] = None
    return out


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Time a stage into ``timings`` (added up when it runs twice) and log it."""
    start = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
    # Progress, one line a stage: the command line shows it unless --quiet.
    log.info("  %-8s %6.2f s", stage, timings[stage])


def links_table(
    spec: LinkSpec,
    left_ids: pd.Index,
    right_ids: pd.Index,
    pairs: Pairs,
    weights: NDArray[np.float64],
    chosen: NDArray[np.bool_],
) -> pd.DataFrame:
    """The chosen pairs as links: both ids (the right one suffixed ``_right`` where
    the two share a name), ``match_weight`` and ``match_probability``."""
    left_col, right_col = _id_columns(spec)
    return pd.DataFrame(
        {
            left_col: left_ids[pairs.left[chosen]],
            right_col: right_ids[pairs.right[chosen]],
            "match_weight": weights[chosen],
            "match_probability": weight_to_probability(weights[chosen]),
        }
    )


def _ids(table: pd.DataFrame, column: str, name: str, *, checked: bool = False) -> pd.Index:
    require_columns(table, (column,), source=name)
    if not checked:
        check_unique(table[column].reset_index(drop=True), source=name)
    return pd.Index(table[column].to_numpy())


def _id_columns(spec: LinkSpec) -> tuple[str, str]:
    """The id columns of the links: the spec's ids, the right one suffixed if they clash."""
    right = spec.right_id if spec.right_id != spec.left_id else f"{spec.right_id}_right"
    return spec.left_id, right


def _increment(
    increment: Increment,
    spec: LinkSpec,
    left_ids: pd.Index,
    right_ids: pd.Index,
) -> tuple[pd.DataFrame, tuple[NDArray[np.intp], NDArray[np.intp]], Focus]:
    """The earlier links kept (and their rows), and the pairs to link anew: those of
    a changed record and no record of a kept link (:class:`~linkage.rules.Focus`)."""
    lcol, rcol = _id_columns(spec)
    earlier = increment.links
    require_columns(earlier, (lcol, rcol, "match_probability"), source="earlier links")
    left_changed = np.asarray(left_ids.isin(increment.left_changed))
    right_changed = np.asarray(right_ids.isin(increment.right_changed))
    if increment.rows is None:
        lpos = left_ids.get_indexer(earlier[lcol])
        rpos = right_ids.get_indexer(earlier[rcol])
    else:
        lpos, rpos = increment.rows
        if not len(lpos) == len(rpos) == len(earlier):
            raise ConfigError(
                f"an increment's rows ({len(lpos):,} and {len(rpos):,}) must be one per "
                f"earlier link ({len(earlier):,})"
            )
    present = (lpos >= 0) & (rpos >= 0)
    keep = present.copy()
    keep[present] = ~left_changed[lpos[present]] & ~right_changed[rpos[present]]
    # A record whose earlier link is let go may link again.
    left_changed[lpos[(lpos >= 0) & ~keep]] = True
    right_changed[rpos[(rpos >= 0) & ~keep]] = True
    taken_left = np.zeros(len(left_ids), dtype=bool)
    taken_right = np.zeros(len(right_ids), dtype=bool)
    taken_left[lpos[keep]] = True
    taken_right[rpos[keep]] = True
    probability = earlier.loc[keep, "match_probability"].to_numpy(np.float64)
    # Weights past +-50 bits have no probability but 0 or 1: kept at that bound.
    bounded = np.clip(probability, 2.0**-50, 1 - 2.0**-50)
    kept = pd.DataFrame(
        {
            lcol: left_ids[lpos[keep]],
            rcol: right_ids[rpos[keep]],
            "match_weight": np.log2(bounded / (1 - bounded)),
            "match_probability": probability,
            "kept": True,
        }
    )
    focus = Focus(left_changed, right_changed, ~taken_left, ~taken_right)
    return kept, (lpos[keep], rpos[keep]), focus


def _encoded(left: pd.Series, right: pd.Series) -> Encoded:
    """:func:`encode`, its values' hashes made (:attr:`Encoded.value_hashes`)."""
    coded = encode(left, right)
    coded.value_hashes  # noqa: B018 (cached on it)
    return coded


def _parent_codes(
    left: pd.DataFrame, right: pd.DataFrame, parents: ParentLinks
) -> tuple[NDArray[np.int64], NDArray[np.int64], pd.Series]:
    """Each child's parent as an integer code (-1: none), and the parents' links in codes."""
    require_columns(left, (parents.left_parent,), source="left children")
    require_columns(right, (parents.right_parent,), source="right children")
    lcol, rcol = parents.link_columns or (parents.left_parent, parents.right_parent)
    require_columns(parents.links, (lcol, rcol), source="parent links")
    left_codes, _ = pd.factorize(pd.concat([left[parents.left_parent], parents.links[lcol]]))
    right_codes, _ = pd.factorize(pd.concat([right[parents.right_parent], parents.links[rcol]]))
    n_left, n_right = len(left), len(right)
    parent_link = pd.Series(right_codes[n_right:], index=left_codes[n_left:])
    return left_codes[:n_left], right_codes[:n_right], parent_link


def score_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    pairs: Pairs,
    spec: LinkSpec,
    *,
    encoded: dict[str, Encoded],
    keys: Any,
    model: FellegiSunter | None,
    timings: dict[str, float],
) -> tuple[NDArray[np.int8], dict[str, Any], FellegiSunter, NDArray[np.float64]]:
    """The stages after blocking, timed: compare (``gamma``, term frequencies), fit
    (unless ``model`` is given) and score. Returns ``gamma, tf, model, weights``."""
    with timed(timings, "compare"):
        gamma, tf = compare_with_frequencies(
            left,
            right,
            pairs.left,
            pairs.right,
            spec.comparisons,
            chunk_size=spec.chunk_size,
            encoded=encoded,
        )
    if model is None:
        with timed(timings, "fit"):
            model = fit_model(left, right, gamma, spec, tf=tf, encoded=encoded, keys=keys)
    with timed(timings, "score"):
        weights = model.match_weight(gamma, tf=tf)
    return gamma, tf, model, weights


def fit_model(
    left: pd.DataFrame,
    right: pd.DataFrame,
    gamma: NDArray[np.int8],
    spec: LinkSpec,
    *,
    tf: dict[str, NDArray[np.float64]] | None = None,
    encoded: dict[str, Encoded] | None = None,
    keys: tuple[NDArray[np.uint64], NDArray[np.uint64]] | None = None,
) -> FellegiSunter:
    """A Fellegi-Sunter model fitted to candidate pairs' levels and seeded random pairs.

    Parameters
    ----------
    left, right : DataFrame
        The prepared frames (random pairs are drawn from them and compared).
    gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
        Levels of the candidate pairs.
    spec : LinkSpec
    tf : dict of str to ndarray, optional
        Term frequencies of the candidate pairs, per comparison that uses them.
    encoded : dict of str to Encoded, optional
        The compared columns, already coded (see :func:`linkage.compare.encode`).
    keys : pair of ndarray of dtype uint64, optional
        The records' keys (:func:`linkage.compare.record_keys`), computed if not given.
    """
    model = FellegiSunter.from_spec(spec)
    if keys is None:
        keys = record_keys(left, right, spec.comparisons, encoded=encoded)
    random_left, random_right = random_pairs(model, len(left), len(right), keys=keys)
    gamma_random = compare(
        left,
        right,
        random_left,
        random_right,
        spec.comparisons,
        chunk_size=spec.chunk_size,
        encoded=encoded,
    )
    return model.fit(gamma, gamma_random=gamma_random, tf=tf)


def random_pairs(
    model: FellegiSunter,
    n_left: int,
    n_right: int,
    *,
    keys: tuple[NDArray[np.uint64], NDArray[np.uint64]] | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """The seeded random pairs (positions) whose levels start the model's ``u``.

    With ``keys`` (:func:`linkage.compare.record_keys`) the draws pick records in
    the order of their keys, not of their rows: the same records in any row order
    give the same random pairs' levels, hence the same model.
    """
    rng = np.random.default_rng(model.seed)
    n = model.u_sample_size
    left = rng.integers(0, n_left, n)
    right = rng.integers(0, n_right, n)
    if keys is not None:
        left = np.argsort(keys[0], kind="stable")[left]
        right = np.argsort(keys[1], kind="stable")[right]
    return left.astype(np.int32), right.astype(np.int32)


def _values(
    table: pd.DataFrame, side: str, ids: NDArray[Any], id_column: str, spec: LinkSpec
) -> pd.DataFrame:
    """One side's compared input columns for each pair's record, found by id."""
    read = (c for f in spec.fields for c in f.source_for("left" if side == "left" else "right"))
    columns = list(dict.fromkeys(c for c in read if c in table))
    at = pd.Index(table[id_column].astype(str)).get_indexer(pd.Index(ids).astype(str))
    return pd.DataFrame({f"{side}_{c}": table[c].to_numpy()[at] for c in columns if c != id_column})


def _prepared(
    left: pd.DataFrame,
    right: pd.DataFrame,
    spec: LinkSpec,
    names: tuple[str, str],
    left_prepared: Mapping[str, pd.Series] | None,
    right_prepared: Mapping[str, pd.Series] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sides prepared, on two cores: the normalisers spend most of their time in
    Arrow kernels, which release the GIL (3.3 s -> 2.0 s at full scale). The two sides
    in two threads; the left side's fields in two when the right side's are all
    given."""
    given = right_prepared or {}
    if all(f.name in given for f in spec.fields):
        rp = prepare(right, spec.fields, side="right", source=names[1], done=given)
        lp = prepare(left, spec.fields, side="left", source=names[0], threads=2, done=left_prepared)
        return lp, rp
    with ThreadPoolExecutor(max_workers=2) as pool:
        left_job = pool.submit(
            prepare, left, spec.fields, side="left", source=names[0], done=left_prepared
        )
        right_job = pool.submit(
            prepare, right, spec.fields, side="right", source=names[1], done=right_prepared
        )
        return left_job.result(), right_job.result()


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    spec: LinkSpec,
    *,
    model: FellegiSunter | None = None,
    parents: ParentLinks | None = None,
    increment: Increment | None = None,
    names: tuple[str, str] = ("left", "right"),
    trace: bool = False,
    overrides: Overrides | None = None,
    left_prepared: Mapping[str, pd.Series] | None = None,
    right_prepared: Mapping[str, pd.Series] | None = None,
    checked_ids: bool = False,
) -> LinkResult:
    """Link ``left`` to ``right`` as ``spec`` says.

    Parameters
    ----------
    left, right : DataFrame
        Input records with the columns the spec's fields read and unique ids. An
        optional field whose columns a table lacks is left out, with a warning
        (:meth:`LinkSpec.for_columns`; the result's ``notes``).
    spec : LinkSpec
    model : FellegiSunter, optional
        A fitted model to reuse; by default one is fitted on this data.
    parents : ParentLinks, optional
        Links of the parents: children are then also blocked within linked parents,
        and never linked across parents linked elsewhere.
    increment : Increment, optional
        Earlier links and the records changed since: only pairs with a changed
        record are linked anew (needs ``model``).
    names : pair of str
        Names of the tables in messages.
    trace : bool
        Also find the first blocking rule that proposed each pair (for review, in
        :meth:`LinkResult.scored_pairs`); it costs a second blocking.
    overrides : Overrides, optional
        Must-link and cannot-link decisions (:mod:`linkage.overrides`), applied
        before the one-to-one step; the links get a column ``override``. With an
        increment, the records they name count as changed, so that they are linked
        anew under them.
    left_prepared, right_prepared : dict of str to Series, optional
        Fields of ``left`` or ``right`` already prepared
        (:func:`~linkage.prepare.prepare`, by field name), taken as they are.
    checked_ids : bool
        Both tables' ids are known to be there and unique (a caller that made them
        so): not checked again. By default a missing or repeated id is refused.

    Returns
    -------
    LinkResult
    """
    if increment is not None and model is None:
        raise ConfigError(
            "an incremental link needs the model its earlier links were made with (model=)"
        )
    spec, notes = spec.for_columns(left.columns, right.columns, names=names)
    for note in notes:
        log.warning("%s", note)
    if model is not None:
        model.check_spec(spec)  # before any work, not as a gamma of the wrong shape
    timings: dict[str, float] = {}
    left_ids = _ids(left, spec.left_id, names[0], checked=checked_ids)
    right_ids = _ids(right, spec.right_id, names[1], checked=checked_ids)
    with timed(timings, "prepare"):
        lp, rp = _prepared(left, right, spec, names, left_prepared, right_prepared)
    rules = spec.blocking
    if parents is not None:
        left_parent, right_parent, parent_link = _parent_codes(left, right, parents)
        # Block key: for a left child, the right parent its own parent is linked to.
        lp[PARENT] = pd.Series(left_parent).map(parent_link)
        rp[PARENT] = pd.Series(np.where(right_parent < 0, np.nan, right_parent))
        rules = (*rules, within_linked_parent(PARENT, spec.comparisons))
    with timed(timings, "block"):
        # Each compared column coded once, for blocking, comparison, term frequencies
        # and the random pairs of the fit, its values hashed for the records' keys;
        # two at a time (Arrow's hashing and pandas' SipHash let go of the GIL).
        columns = list(dict.fromkeys(c.column for c in spec.comparisons))
        with ThreadPoolExecutor(max_workers=2) as pool:
            made = pool.map(lambda column: _encoded(lp[column], rp[column]), columns)
            encoded = dict(zip(columns, made, strict=True))
        codes = {column: (e.left, e.right) for column, e in encoded.items()}
        keys = record_keys(lp, rp, spec.comparisons, encoded=encoded)
        decided = None
        if overrides is not None:
            decided = overrides.positions(left_ids, right_ids, one_to_one=spec.one_to_one)
            if increment is not None:
                increment = replace(
                    increment,
                    left_changed=[*increment.left_changed, *left_ids[decided[0]]],
                    right_changed=[*increment.right_changed, *right_ids[decided[1]]],
                )
        focus = None
        if increment is not None:  # blocking proposes only the pairs to link anew
            kept, kept_rows, focus = _increment(increment, spec, left_ids, right_ids)
        pairs = candidate_pairs(lp, rp, rules, codes=codes, focus=focus)
        if parents is not None:
            keep = consistent_with_parents(
                left_parent[pairs.left], right_parent[pairs.right], parent_link
            )
            pairs = replace(pairs, left=pairs.left[keep], right=pairs.right[keep])
        override = None
        if decided is not None:
            # (With an increment their records changed, so none of them is kept.)
            left_pos, right_pos, override = merge(pairs.left, pairs.right, pairs.n_right, *decided)
            added = len(left_pos) - len(pairs)
            pairs = replace(
                pairs,
                left=left_pos,
                right=right_pos,
                by_rule={**pairs.by_rule, "must-link": added} if added else pairs.by_rule,
            )
        pair_rule = (
            first_rule(lp, rp, rules, pairs.left, pairs.right, codes=codes) if trace else None
        )
    if model is None and not len(pairs):
        raise SchemaError(
            "the blocking rules found no candidate pair, so no model can be fitted "
            "(do the tables hold the spec's fields?)",
            source=f"{names[0]} and {names[1]}",
        )
    gamma, _, model, weights = score_pairs(
        lp, rp, pairs, spec, encoded=encoded, keys=keys, model=model, timings=timings
    )
    with timed(timings, "resolve"):
        min_weight = probability_to_weight(spec.threshold)
        # A must-link first, whatever its weight; a cannot-link never.
        decided_weights = weights
        if override is not None:
            decided_weights = np.where(
                override == 1, np.inf, np.where(override == 2, -np.inf, weights)
            )
        if spec.one_to_one:
            chosen = one_to_one(
                pairs.left,
                pairs.right,
                decided_weights,
                min_weight=min_weight,
                left_key=keys[0],
                right_key=keys[1],
            )
        else:
            chosen = decided_weights >= min_weight
        links = links_table(spec, left_ids, right_ids, pairs, weights, chosen)
        if override is not None:
            links["override"] = override_names(override[chosen])
        rows = (pairs.left[chosen].astype(np.intp), pairs.right[chosen].astype(np.intp))
        if increment is not None:
            links = pd.concat([kept, links.assign(kept=False)], ignore_index=True)
            rows = (
                np.concatenate([kept_rows[0], rows[0]]),
                np.concatenate([kept_rows[1], rows[1]]),
            )
    result = LinkResult(
        spec=spec,
        links=links,
        pairs=pairs,
        gamma=gamma,
        weights=weights,
        model=model,
        left_ids=left_ids,
        right_ids=right_ids,
        timings=timings,
        rows=rows,
        linked=chosen,
        pair_rule=pair_rule,
        rule_names=tuple(r.name for r in rules),
        override=override,
        notes=notes,
    )
    log.debug("%s", result.summary())
    return result
