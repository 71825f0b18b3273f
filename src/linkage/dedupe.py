"""Deduplication: one table linked against itself, its records grouped into clusters.

``dedupe(table, spec)`` reads one side of a link spec (the side whose id the table
has, or ``side=``), prepares the table once, blocks it against itself keeping each
pair of two records once (no record paired with itself), compares, fits or reuses
a Fellegi-Sunter model, scores, and joins every pair over the threshold. The
clusters are the connected components of those pairs
(:func:`linkage.resolve.connected_components`), each named by the smallest record
id in it, so the same input gives the same cluster ids in any row order.

A component of more than ``max_cluster_size`` records is a chain of weak pairs more
often than one entity held that many times: it is not merged. Its records stay
clusters of their own, and it is reported (``DedupeResult.oversized``, a warning),
so that it can be reviewed or the threshold raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage._codes import encode
from linkage.blocking import Pairs, candidate_pairs, one_table
from linkage.compare import record_keys
from linkage.config import LinkSpec
from linkage.exceptions import ConfigError
from linkage.io import check_unique, require_columns
from linkage.model import FellegiSunter, weight_to_probability
from linkage.pipeline import score_pairs, timed
from linkage.prepare import prepare
from linkage.resolve import connected_components, probability_to_weight

__all__ = ["DedupeResult", "dedupe", "dedupe_quality"]

log = logging.getLogger(__name__)

Side = Literal["left", "right"]


@dataclass(frozen=True, kw_only=True)
class DedupeResult:
    """Clusters and the pairs they were made of.

    Attributes
    ----------
    spec : LinkSpec
        The spec as it ran: both sides the table's (see :func:`one_sided`).
    clusters : DataFrame
        One row per record, in the table's order: the id, ``cluster_id`` (the
        smallest id of its cluster), ``cluster_size`` and ``oversized`` (the
        ``cluster_id`` its component would have had if it was not merged for being
        over ``max_cluster_size``, else None).
    links : DataFrame
        The pairs over the threshold: ``<id>`` and ``<id>_right`` (the smaller
        position first), ``match_weight``, ``match_probability``.
    oversized : DataFrame
        The components not merged: ``component`` (their smallest id) and ``size``.
    pairs : Pairs
        The candidate pairs, ``left < right``.
    gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
    weights : ndarray of shape (n_pairs,), dtype float64
    model : FellegiSunter
    ids : Index
    notes : tuple of str
        Optional fields left out for the table's columns.
    timings : dict of str to float
    """

    spec: LinkSpec
    clusters: pd.DataFrame
    links: pd.DataFrame
    oversized: pd.DataFrame
    pairs: Pairs
    gamma: NDArray[np.int8]
    weights: NDArray[np.float64]
    model: FellegiSunter
    ids: pd.Index
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: pairs, clusters, what was not merged, seconds per stage."""
        sizes = self.clusters.drop_duplicates("cluster_id")["cluster_size"]
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        over = (
            f"; {len(self.oversized):,} component(s) over the size limit not merged "
            f"(largest {int(self.oversized['size'].max()):,} records)"
            if len(self.oversized)
            else ""
        )
        return (
            f"{len(self.ids):,} records, {len(self.pairs):,} candidate pairs, "
            f"{len(self.links):,} over probability {self.spec.threshold:g}; "
            f"{int((sizes > 1).sum()):,} clusters of 2 or more records "
            f"({int(sizes[sizes > 1].sum()):,} records){over}\n"
            f"stages: {stages}; total {sum(self.timings.values()):.2f}s"
        )


def one_sided(spec: LinkSpec, side: Side) -> LinkSpec:
    """The spec with both sides reading ``side``'s columns and id: one table's."""
    fields = tuple(
        replace(f, left_source=f.source_for(side), right_source=f.source_for(side))
        for f in spec.fields
    )
    id_ = spec.left_id if side == "left" else spec.right_id
    return replace(spec, fields=fields, left_id=id_, right_id=id_)


def dedupe(
    table: pd.DataFrame,
    spec: LinkSpec,
    *,
    side: Side | None = None,
    model: FellegiSunter | None = None,
    max_cluster_size: int = 50,
    name: str = "table",
) -> DedupeResult:
    """Find the records of ``table`` that are the same entity, as ``spec`` says.

    Parameters
    ----------
    table : DataFrame
        Records with unique ids and the columns of one side of the spec.
    spec : LinkSpec
        A link spec (a preset); its threshold cuts the pairs.
    side : {"left", "right"}, optional
        The side of the spec the table is: by default the side whose id column
        it has (left first). ``enterprises()`` deduplicates employers as "right".
    model : FellegiSunter, optional
        A fitted model to reuse; by default one is fitted on the table's pairs.
    max_cluster_size : int
        Records a cluster may hold; a larger component is reported, not merged.
    name : str
        The table, in messages.

    Returns
    -------
    DedupeResult
    """
    if max_cluster_size < 2:
        raise ConfigError(f"max_cluster_size is at least 2, got {max_cluster_size}")
    if side is None:
        side = _side(spec, set(table.columns), name)
    spec = one_sided(spec, side)
    spec, notes = spec.for_columns(table.columns, table.columns, names=(name, name))
    for note in notes:
        log.warning("%s", note)
    if model is not None:
        model.check_spec(spec)
    require_columns(table, (spec.left_id,), source=name)
    check_unique(table[spec.left_id].reset_index(drop=True), source=name)
    ids = pd.Index(table[spec.left_id].to_numpy())
    timings: dict[str, float] = {}
    with timed(timings, "prepare"):
        prepared = prepare(table, spec.fields, side="left", source=name)
    with timed(timings, "block"):
        encoded = {
            c.column: encode(prepared[c.column], prepared[c.column]) for c in spec.comparisons
        }
        codes = {column: (e.left, e.right) for column, e in encoded.items()}
        keys = record_keys(prepared, prepared, spec.comparisons, encoded=encoded)
        pairs = one_table(candidate_pairs(prepared, prepared, spec.blocking, codes=codes))
    gamma, _, model, weights = score_pairs(
        prepared, prepared, pairs, spec, encoded=encoded, keys=keys, model=model, timings=timings
    )
    with timed(timings, "cluster"):
        joined = weights >= probability_to_weight(spec.threshold)
        clusters, oversized = _clusters(
            ids, pairs.left[joined], pairs.right[joined], max_cluster_size
        )
        links = pd.DataFrame(
            {
                spec.left_id: ids[pairs.left[joined]],
                f"{spec.left_id}_right": ids[pairs.right[joined]],
                "match_weight": weights[joined],
                "match_probability": weight_to_probability(weights[joined]),
            }
        )
    clusters.insert(0, spec.left_id, ids)
    if len(oversized):
        log.warning(
            "%s: %s component(s) over %s records not merged (largest %s): review them or "
            "raise the threshold",
            name,
            f"{len(oversized):,}",
            f"{max_cluster_size:,}",
            f"{int(oversized['size'].max()):,}",
        )
    result = DedupeResult(
        spec=spec,
        clusters=clusters,
        links=links,
        oversized=oversized,
        pairs=pairs,
        gamma=gamma,
        weights=weights,
        model=model,
        ids=ids,
        notes=notes,
        timings=timings,
    )
    log.debug("%s", result.summary())
    return result


def _side(spec: LinkSpec, columns: set[str], name: str) -> Side:
    """The side whose id the table has; both (or neither) is for the caller to say."""
    has = {"left": spec.left_id in columns, "right": spec.right_id in columns}
    if has["left"] != has["right"] or spec.left_id == spec.right_id:
        return "right" if has["right"] and not has["left"] else "left"
    raise ConfigError(
        f"has {'both' if has['left'] else 'neither'} of the spec's ids {spec.left_id!r} "
        f"(its left side) and {spec.right_id!r} (its right side): say which side the "
        "table is (side=, --side)",
        source=name,
    )


def _clusters(
    ids: pd.Index, left: NDArray[np.int32], right: NDArray[np.int32], max_size: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster ids (the smallest id of each component) and the components not merged."""
    n = len(ids)
    # Components named by their smallest id, not position: the same in any row order.
    order = np.argsort(ids.to_numpy(), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    component = connected_components(n, rank[left], rank[right])[rank]
    size = np.bincount(component, minlength=n)[component]
    over = size > max_size
    first = order[np.where(over, rank, component)]
    clusters = pd.DataFrame(
        {
            "cluster_id": ids[first],
            "cluster_size": np.where(over, 1, size),
            "oversized": pd.Series(ids[order[component]], dtype=object).where(over, None),
        }
    )
    counts = pd.Series(ids[order[component[over]]]).value_counts()
    oversized = pd.DataFrame(
        {"component": counts.index.to_numpy(dtype=object), "size": counts.to_numpy(np.int64)}
    ).sort_values("component", ignore_index=True)
    return clusters, oversized


def dedupe_quality(
    clusters: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    on: str,
    truth_on: Sequence[str] | None = None,
) -> dict[str, float]:
    """Pairwise and cluster precision and recall of ``clusters`` against true pairs.

    Parameters
    ----------
    clusters : DataFrame
        ``on`` (the record id) and ``cluster_id``, as :func:`dedupe` gives them.
    truth : DataFrame
        Pairs of records that are the same entity (two id columns, ``truth_on`` or
        the first two); the true clusters are their connected components.
    on : str
        The id column of ``clusters``.

    Returns
    -------
    dict
        ``pair_precision``, ``pair_recall``, ``pair_f1`` over the pairs of records
        that share a cluster; ``cluster_precision`` (clusters of two or more records
        that are exactly a true cluster) and ``cluster_recall`` (true clusters found
        exactly); the counts behind them.
    """
    a, b = truth_on or tuple(truth.columns[:2])
    require_columns(clusters, (on, "cluster_id"), source="clusters")
    require_columns(truth, (a, b), source="truth")
    ids = pd.Index(clusters[on].to_numpy())
    left, right = ids.get_indexer(truth[a]), ids.get_indexer(truth[b])
    if (left < 0).any() or (right < 0).any():
        raise ConfigError("truth names records the clusters do not hold")
    true = connected_components(len(ids), left, right)
    found = pd.factorize(clusters["cluster_id"])[0]
    pairs_true, pairs_found = _pairs(true), _pairs(found)
    hits = int(np.isin(pairs_found, pairs_true).sum())
    exact = _exact(found, true)
    n_found, n_true = _multi(found), _multi(true)
    precision = hits / pairs_found.size if pairs_found.size else 1.0
    recall = hits / pairs_true.size if pairs_true.size else 1.0
    return {
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": 2 * precision * recall / (precision + recall) if hits else 0.0,
        "cluster_precision": exact / n_found if n_found else 1.0,
        "cluster_recall": exact / n_true if n_true else 1.0,
        "true_pairs": int(pairs_true.size),
        "found_pairs": int(pairs_found.size),
        "true_clusters": n_true,
        "found_clusters": n_found,
    }


def _pairs(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Every pair of records that share a label, packed ``i * n + j`` (``i < j``)."""
    n = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, n])
    # For a record at offset k of its group, pair it with the records after it.
    offset = np.arange(n) - np.repeat(starts, sizes)
    after = np.repeat(sizes, sizes) - offset - 1
    first = np.repeat(np.arange(n), after)
    step = np.arange(after.sum()) - np.repeat(np.cumsum(after) - after, after) + 1
    i, j = order[first], order[first + step]
    return np.sort(np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j))


def _multi(labels: NDArray[np.int64]) -> int:
    return int((np.bincount(labels) > 1).sum())


def _exact(found: NDArray[np.int64], true: NDArray[np.int64]) -> int:
    """Clusters of two or more records that are exactly a true cluster."""
    frame = pd.DataFrame({"found": found, "true": true})
    size_found = frame.groupby("found")["true"].transform("size")
    size_true = frame.groupby("true")["found"].transform("size")
    pair_size = frame.groupby(["found", "true"])["found"].transform("size")
    same = (pair_size == size_found) & (pair_size == size_true) & (size_found > 1)
    return int(frame.loc[same, "found"].nunique())
