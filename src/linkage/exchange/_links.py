"""The feed's links to VDAB: frozen models, incremental and stable from run to run.

The first delivery fits a model per link (enterprises to employers, establishment
units to sites) and freezes it: the delivery's ``state/`` folder keeps the models,
the hash of the spec they belong to, and a fingerprint of every record each link
read (a 64-bit hash of the columns its spec reads). Every later run re-links with the
frozen models and only what changed: a link is kept, probability and all, unless one
of its two records is new, changed, gone, or had its earlier link let go
(:class:`linkage.pipeline.Increment`). A unit counts as changed too when its
enterprise's link changed, and a site when its employer's did, so that units stay
within their linked employer. Each changed link is reported with its reason.

Refitting is explicit (``refit=True``, ``linkage exchange refit``): new models, a
whole re-link, and every changed link reported as ``refit``.

What the links do with VDAB's records alone (the columns they read, their
fingerprints, every field prepared: :class:`VdabSide`) is made first
(:func:`prepare_vdab_side`; a feed run makes it in a thread beside its shaping);
the links then prepare only the senders' side, on both cores.

The bookkeeping around the two links is columnar (at 485,000 enterprises it took 25 s
as merges on string keys, a few now): the fingerprints by :mod:`._fingerprints`, and
every id a run meets on one side of a link coded once (:class:`_Side`), so that the
changed records, the earlier links' rows (:attr:`Increment.rows`), the links that
moved and the delivered link tables are integer work. The pandas merges the first
implementation made are the reference tests hold it to, output for output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray
from pandas.api.extensions import ExtensionArray

from linkage._memory import give_back
from linkage.config import LinkSpec
from linkage.exceptions import ConfigError
from linkage.exchange._aside import Beside
from linkage.exchange._config import LinkSettings
from linkage.exchange._delivery import Delivery
from linkage.exchange._extract import list_items
from linkage.exchange._fingerprints import (
    Coded,
    Fingerprinted,
    Prints,
    changed,
    codes,
    fingerprint,
    fingerprinted,
    first_rows,
    text,
)
from linkage.exchange._schema import EXTRACTS, LIST_SEPARATOR
from linkage.io import write_table
from linkage.model import FellegiSunter
from linkage.overrides import read_overrides
from linkage.pipeline import Increment, LinkResult, ParentLinks, link
from linkage.prepare import prepare

__all__ = [
    "FeedLinks",
    "VdabSide",
    "carry_state",
    "link_to_vdab",
    "prepare_vdab_side",
    "write_state",
]

STATE = "state"
PROBABILITY = "match_probability"
LINKS = ("enterprises", "establishments")
# Per link: the delivered link table, the left key and number, the right id.
_DELIVERED = {
    "enterprises": ("links_enterprises", "enterprise_key", "enterprise_number", "employer_id"),
    "establishments": (
        "links_establishments",
        "establishment_key",
        "establishment_number",
        "site_id",
    ),
}


def spec_hash(spec: LinkSpec) -> str:
    """A stable hash of everything a spec says (its frozen dataclasses' repr)."""
    return hashlib.sha256(repr(spec).encode("utf-8")).hexdigest()


def fingerprints(frame: pd.DataFrame, spec: LinkSpec, side: str) -> pd.DataFrame:
    """Per record (its id and sending party), a 64-bit hash of the input columns the
    spec reads. VDAB's records (no ``party`` column) are VDAB's: a purge of a sender
    can then prove the state holds none of its rows (see :func:`.scan_store`)."""
    return fingerprint(frame, spec, side)[0]


@dataclass(frozen=True)
class FeedLinks:
    """What the feed's linking produced.

    ``tables``: the delivered link tables; ``state``: models and fingerprints for the
    next run (written by :func:`write_state`); ``changes``: per link, the changed
    links with their reason; ``timings``: seconds per link; ``rows``: per delivered
    link table, where known, each link's row in the senders' records as linked and in
    VDAB's (for the quality pass, which would otherwise merge on keys to find them).
    """

    tables: dict[str, pd.DataFrame]
    specs: dict[str, LinkSpec]
    models: dict[str, FellegiSunter]
    fingerprints: dict[str, Fingerprinted]
    changes: dict[str, pd.DataFrame]
    timings: dict[str, float]
    refitted: bool
    rows: dict[str, tuple[NDArray[np.intp], NDArray[np.intp]]] = field(default_factory=dict)

    def changed_links(self) -> pd.DataFrame:
        """Every changed link of both links in one table: ``link``, ``record`` (the
        enterprise or establishment number), ``before`` and ``after`` (VDAB's employer
        or site id, missing where there was or is no link) and ``reason``."""
        frames = []
        for name, frame in self.changes.items():
            _, _, number, right = _DELIVERED[name]
            frames.append(
                pd.DataFrame(
                    {
                        "link": name,
                        "record": frame[number].astype("string"),
                        "before": frame[f"{right}_before"].astype("string"),
                        "after": frame[f"{right}_after"].astype("string"),
                        "reason": frame["reason"].astype("string"),
                    }
                )
            )
        columns = ["link", "record", "before", "after", "reason"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    def summary(self) -> dict[str, Any]:
        """Counts of changed links by reason, and the models' hashes, for the manifest."""
        return {
            "models": {
                name: {
                    "sha256": _model_hash(model),
                    "frozen": not self.refitted,
                    "spec_sha256": spec_hash(self.specs[name]),
                }
                for name, model in self.models.items()
            },
            "changed": {
                name: {
                    str(k): int(v) for k, v in frame["reason"].value_counts().sort_index().items()
                }
                for name, frame in self.changes.items()
            },
        }


def _model_hash(model: FellegiSunter) -> str:
    text = json.dumps(model.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_state(folder: Path, feed: FeedLinks) -> None:
    """The next run's state, into a delivery being staged: ``state/``."""
    state = folder / STATE
    state.mkdir()
    for name, model in feed.models.items():
        model.save(state / f"model_{name}.json")
        (state / f"spec_{name}.sha256").write_text(spec_hash(feed.specs[name]) + "\n")
    for name, done in feed.fingerprints.items():
        pq.write_table(done.arrow(), state / f"fingerprints_{name}.parquet")
    for name, frame in feed.changes.items():
        write_table(frame, state / f"link_changes_{name}.parquet")


def _pair_keys(ids: Any, parties: Any) -> pa.ChunkedArray | pa.Array:
    """One text per (id, party), to match pairs with Arrow's hash set."""
    text = pa.string()
    return pc.binary_join_element_wise(pc.cast(parties, text), pc.cast(ids, text), "\x1f")


def carry_state(old: Path, new: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Bring a delivery's link state into its rewrite (a purge, an erasure): the frozen
    models and VDAB's fingerprints as they were, the senders' fingerprints only of the
    records still delivered, so that nothing of a removed record stays behind."""
    if not (old / STATE).is_dir():
        return
    state = new / STATE
    state.mkdir()
    for path in (*(old / STATE).glob("model_*.json"), *(old / STATE).glob("spec_*.sha256")):
        shutil.copy2(path, state / path.name)
    for name in LINKS:
        number = _DELIVERED[name][2]
        left = pq.read_table(old / STATE / f"fingerprints_{name}_left.parquet")
        delivered = tables[name]
        sent = _pair_keys(
            pa.array(delivered[number].astype("string").array, type=pa.string()),
            pa.array(delivered["party"].astype("string").array, type=pa.string()),
        )
        still = pc.is_in(_pair_keys(left["id"], left["party"]), value_set=sent)
        pq.write_table(left.filter(still), state / f"fingerprints_{name}_left.parquet")
        shutil.copy2(
            old / STATE / f"fingerprints_{name}_right.parquet",
            state / f"fingerprints_{name}_right.parquet",
        )


@dataclass(frozen=True)
class _Earlier:
    """What the delivery in force left for this run: models, fingerprints, links."""

    models: dict[str, FellegiSunter]
    fingerprints: dict[str, Prints]
    links: dict[str, pa.Table]


def _earlier_links(previous: Delivery, name: str) -> pa.Table:
    """The links a delivery made, by number: its link table joined to its left table
    on the key (the key's first row), read columnar: number, right id (as text) and
    probability, in the link table's order. A number sent by two parties is there
    twice (see :func:`_deduplicated`)."""
    table, key, number, right = _DELIVERED[name]
    links = pq.read_table(previous.path / f"{table}.parquet", columns=[key, right, PROBABILITY])
    numbers = pq.read_table(previous.path / f"{name}.parquet", columns=[key, number])
    at = pc.index_in(text(links[key]), value_set=text(numbers[key]))
    found = at.is_valid()
    return pa.table(
        {
            number: text(numbers[number]).take(at.filter(found)),
            right: text(links[right]).filter(found),
            PROBABILITY: links[PROBABILITY].filter(found),
        }
    )


def _state(previous: Delivery | None, specs: dict[str, LinkSpec]) -> Path | None:
    """The state folder a delivery left for the next run, or None (none, or made
    before it existed); its frozen models must belong to today's specs."""
    if previous is None or not (previous.path / STATE).is_dir():
        return None
    state = previous.path / STATE
    for name in LINKS:
        frozen = (state / f"spec_{name}.sha256").read_text().strip()
        if frozen != spec_hash(specs[name]):
            raise ConfigError(
                f"the {name} link spec changed since its model was frozen (delivery "
                f"{previous.run_id}); refit it: linkage exchange refit --config ... --apply"
            )
    return state


def _read_earlier(previous: Delivery, name: str) -> _Earlier:
    """What the delivery in force left for one link: its model, fingerprints, links."""
    state = previous.path / STATE
    return _Earlier(
        {name: FellegiSunter.load(state / f"model_{name}.json")},
        {
            f"{name}_{side}": Prints.read(state / f"fingerprints_{name}_{side}.parquet")
            for side in ("left", "right")
        },
        {name: _earlier_links(previous, name)},
    )


def _deduplicated(
    links: pa.Table, sides: tuple[_Side, _Side]
) -> tuple[pd.DataFrame, tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """The earlier links, one per number (its first row), as :class:`Increment` takes
    them (ids as ``string[pyarrow]``, :func:`_reasons` makes them ``string``), and
    their codes in ``sides``."""
    keep = first_rows(sides[0].linked)
    frame = links.take(pa.array(keep)).to_pandas(
        types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get
    )
    return frame, (sides[0].linked[keep], sides[1].linked[keep])


@dataclass(frozen=True)
class _Side:
    """One side of one link, its ids coded jointly (:func:`.codes`): of the records
    sent now (``now``, a code per fingerprint row), of the earlier fingerprints
    (``before``) and of the earlier links (``linked``, a code per row of
    :func:`_earlier_links`); and which rows of ``now`` are linked (``rows``: the first
    of each id)."""

    coded: Coded
    now: NDArray[np.intp]
    before: NDArray[np.intp]
    linked: NDArray[np.intp]
    rows: NDArray[np.intp]
    earlier: Prints | None

    @classmethod
    def of(
        cls, prints: Prints, earlier: Prints | None = None, linked: pa.ChunkedArray | None = None
    ) -> _Side:
        empty = pa.array([], type=pa.large_string())
        coded = codes(
            prints.ids,
            earlier.ids if earlier is not None else empty,
            text(linked) if linked is not None else empty,
        )
        now, before, linked_codes = coded.codes
        return cls(coded, now, before, linked_codes, first_rows(now), earlier)

    def code_of(self, rows: NDArray[np.intp]) -> NDArray[np.intp]:
        """The code of each linked row."""
        return self.now[self.rows[rows]]

    def row_of(self, codes: NDArray[np.intp]) -> NDArray[np.intp]:
        """The linked row of each code (-1: none sent now)."""
        row = np.full(len(self.coded), -1, dtype=np.intp)
        row[self.now[self.rows]] = np.arange(len(self.rows))
        return row[codes]

    def sets(self, prints: Prints) -> dict[str, pd.Index]:
        """The ids changed (see :func:`.changed`), new and gone since the earlier
        fingerprints."""
        assert self.earlier is not None
        present = np.zeros(len(self.coded), dtype=bool)
        earlier = np.zeros(len(self.coded), dtype=bool)
        present[self.now], earlier[self.before] = True, True
        moved = changed(prints, self.earlier, self.now, self.before, len(self.coded))
        return {
            "changed": self.coded.ids(moved & present),
            "new": self.coded.ids(present & ~earlier),
            "gone": self.coded.ids(earlier & ~present),
        }


def _reads(spec: LinkSpec, side: str, *more: str) -> list[str]:
    """The columns a link reads of one side: the id, the fields' sources and ``more``."""
    ident = spec.left_id if side == "left" else spec.right_id
    sources = (c for f in spec.fields for c in f.source_for(side))  # type: ignore[arg-type]
    return list(dict.fromkeys([ident, *sources, *more]))


def one_value(
    left: pd.DataFrame,
    right: pd.DataFrame,
    spec: LinkSpec,
    right_prepared: Mapping[str, pd.Series] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """``left`` with each plural cell (``"a; b"``, see :data:`._schema.LIST_SEPARATOR`)
    reduced to the one value the link reads: the first whose prepared value a record
    of ``right`` has, else the first. Blocking and an exact comparison on the field
    then agree wherever any of the values does: an enterprise is linked on any of its
    e-mail addresses, phone numbers and web addresses.

    Also the fields of ``right`` it prepared (by field name), for the link to reuse;
    those in ``right_prepared`` are taken from there."""
    plural = [c for c, col in EXTRACTS["enterprises"].columns.items() if col.plural]
    prepared: dict[str, pd.Series] = {}
    for f in spec.fields:
        sources = f.source_for("left")
        column = sources[0]
        if len(sources) > 1 or column not in plural or column not in left:
            continue
        several = pc.fill_null(
            pc.match_substring(text(left[column]), LIST_SEPARATOR.strip()), False
        )
        rows = np.flatnonzero(several.to_numpy(zero_copy_only=False))
        if not rows.size:
            continue
        items = list_items(left[column].iloc[rows].reset_index(drop=True))
        mine = prepare(items.to_frame(column).reset_index(drop=True), [f], side="left")[f.name]
        theirs = prepared[f.name] = prepare(right, [f], side="right", done=right_prepared)[f.name]
        shared = pc.fill_null(
            pc.is_in(text(mine), value_set=text(theirs), skip_nulls=True), False
        ).to_numpy(zero_copy_only=False)
        cell = items.index.to_numpy()
        # per cell, its first shared value, else its first value
        order = np.lexsort((np.arange(cell.size), ~shared, cell))
        first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]]
        chosen = left[column].copy()
        chosen.iloc[rows[cell[first]]] = items.to_numpy(dtype=object)[first]
        left = left.assign(**{column: chosen})
    return left, prepared


def _subframe(frame: pd.DataFrame, rows: NDArray[np.intp], columns: list[str]) -> pd.DataFrame:
    """``frame``'s ``rows`` in those of ``columns`` it has, in one copy."""
    at = [frame.columns.get_loc(c) for c in columns if c in frame]
    return frame.iloc[rows, at].reset_index(drop=True)


def _maybe_moved(
    before: tuple[NDArray[np.intp], NDArray[np.intp]],
    after: tuple[NDArray[np.intp], NDArray[np.intp]],
    left: Coded,
    right: Coded,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The rows of the links before and after whose outer merge on the left id holds
    every row of the whole merge whose partner changed, in the same order and with
    the same dtypes. Each link is given by its two ids' codes (in ``left``, ``right``).

    A left id is taken whole when its partner differs (absent or missing counts as
    missing) or when it repeats on a side (the merge pairs such rows every way). So
    that the merge fills and types its columns as the whole merge does, one id on
    both sides, one only before and one only after come too, where there are any;
    :func:`_reasons` filters them out with every other unchanged row."""
    n = len(left)
    no_partner = right.missing()
    was, now = np.full(n, -1, dtype=np.intp), np.full(n, -1, dtype=np.intp)
    was[before[0]] = np.where(no_partner[before[1]], -1, before[1])
    now[after[0]] = np.where(no_partner[after[1]], -1, after[1])
    count_before = np.bincount(before[0], minlength=n)
    count_after = np.bincount(after[0], minlength=n)
    take = (was != now) | (count_before > 1) | (count_after > 1)
    for kind in (
        (count_before > 0) & (count_after > 0),
        (count_before > 0) & (count_after == 0),
        (count_before == 0) & (count_after > 0),
    ):
        take[np.flatnonzero(kind)[:1]] = True
    return take[before[0]], take[after[0]]


def _outer_merge(before: pd.DataFrame, after: pd.DataFrame, on: str) -> pd.DataFrame:
    """``before.merge(after, on=on, how="outer", suffixes=("_before", "_after"))``,
    joined on each id's rank among both sides' ids rather than on the text: pandas
    then sorts integers, not Python strings (1.5-2.8 s a link at 485k). UTF-8 bytes
    sort as their code points, so the ranks keep the text's order, and the rows,
    their order and dtypes are the merge's. With nothing before (a first delivery)
    and one set of columns on both sides, the rows after sorted by id, without a
    merge. Ids that are not all text, or missing, are merged as they are."""
    try:
        ids = pa.chunked_array(
            [
                pa.array(side[on], type=pa.large_string(), from_pandas=True)
                for side in (before, after)
            ]
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ids = None
    if ids is None or ids.null_count:
        return before.merge(after, on=on, how="outer", suffixes=("_before", "_after"))
    # The key's dtype as pandas makes it (an empty side's counts for nothing).
    dtype = before.iloc[:1].merge(after.iloc[:1], on=on, how="outer")[on].dtype
    others = list(after.columns[1:])
    if not len(before) and list(before.columns) == [on, *others] and dtype == after[on].dtype:
        # Nothing before (a first delivery): the rows after, in the order of their ids.
        order = pc.sort_indices(ids).to_numpy()  # stable: repeated ids as they come
        missing = np.full(len(order), -1)
        return pd.DataFrame(
            {
                on: _take_rows(after[on], order),
                **{f"{c}_before": before[c].array.take(missing, allow_fill=True) for c in others},
                **{f"{c}_after": _take_rows(after[c], order) for c in others},
            }
        )
    ranks = pc.rank(ids, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)
    first = np.zeros(int(ranks.max(initial=0)) + 1, dtype=np.int64)
    first[ranks[::-1]] = np.arange(len(ranks) - 1, -1, -1)  # a row of each rank
    n = len(before)
    both = before.assign(**{on: ranks[:n]}).merge(
        after.assign(**{on: ranks[n:]}), on=on, how="outer", suffixes=("_before", "_after")
    )
    text = ids.take(pa.array(first[both[on].to_numpy()])).to_pandas().to_numpy(dtype=object)
    both[on] = text if pd.api.types.is_object_dtype(dtype) else pd.array(text, dtype=dtype)
    return both


def _take_rows(values: pd.Series, rows: NDArray[np.intp]) -> NDArray[Any] | ExtensionArray:
    """``values``' rows, as a frame's column: text of Python objects as a numpy array
    (pandas checks a wrapped one for missing values when it makes the frame)."""
    if values.dtype == object:
        return values.to_numpy()[rows]
    return values.array.take(rows)


def _reasons(
    before: pd.DataFrame,
    after: pd.DataFrame,
    number: str,
    right: str,
    sets: dict[str, dict[str, pd.Index]],
    *,
    whole: str | None,
    rows: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = None,
) -> pd.DataFrame:
    """Per left record whose link changed: the link before and after, and why
    (``whole``: the one reason of a whole link, "first delivery" or "refit").

    ``rows``: the rows of ``before`` and ``after`` that may have moved (see
    :func:`_maybe_moved`); by default all."""
    if rows is not None:
        before, after = before[rows[0]], after[rows[1]]
    before = before.astype({number: "string", right: "string"})
    both = _outer_merge(before[[number, right]], after[[number, right]], number)
    was, now = both[f"{right}_before"], both[f"{right}_after"]
    if len(before):
        moved = both[~((was == now) | (was.isna() & now.isna())).fillna(False)].copy()
    else:  # nothing before (a first delivery): each link after with a partner
        partnered = now.notna()
        moved = both if partnered.all() else both[partnered].copy()
    if whole is not None:
        moved["reason"] = whole
        return moved.reset_index(drop=True)
    changed, new, gone, parent = (sets[k] for k in ("changed", "new", "gone", "parent"))
    none = {"left": pd.Index([]), "right": pd.Index([])}
    decided = sets.get("override", none)  # the records an analyst's override names
    ids = moved[number]
    partner = moved[f"{right}_before"].fillna(moved[f"{right}_after"])
    reason = np.select(
        [
            ids.isin(decided["left"])
            & (
                moved[f"{right}_after"].isin(decided["right"])
                | moved[f"{right}_before"].isin(decided["right"])
            ),
            ids.isin(new["left"]),
            ids.isin(gone["left"]),
            ids.isin(changed["left"]),
            partner.isin(new["right"]) | moved[f"{right}_after"].isin(new["right"]),
            partner.isin(gone["right"]),
            partner.isin(changed["right"]) | moved[f"{right}_after"].isin(changed["right"]),
            ids.isin(parent["left"]) | partner.isin(parent["right"]),
        ],
        [
            "override",
            "left new",
            "left gone",
            "left changed",
            "right new",
            "right gone",
            "right changed",
            "parent's link changed",
        ],
        default="partner let go",
    )
    moved["reason"] = reason
    return moved.reset_index(drop=True)


@dataclass(frozen=True)
class VdabSide:
    """VDAB's side of both links, made before the links and apart from the senders'
    records (:func:`prepare_vdab_side`), by link name: the columns each link reads
    of the employers or sites (``frames``), their fingerprints (``prints``) and
    every field of the link's spec prepared from them (``prepared``)."""

    frames: dict[str, pd.DataFrame]
    prints: dict[str, Fingerprinted]
    prepared: dict[str, dict[str, pd.Series]]


def prepare_vdab_side(
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    settings: dict[str, LinkSettings],
    *,
    threads: int = 2,
) -> VdabSide:
    """Everything the two links do with VDAB's records alone, done at once (see
    :class:`VdabSide`). In ``threads`` threads: the fingerprints of employers and
    sites side by side, then each link's fields (``prepare(threads=)``)."""
    specs = {name: settings[name].spec for name in LINKS}
    given = {"enterprises": employers, "establishments": sites}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        jobs = {
            name: pool.submit(fingerprinted, given[name], specs[name], "right") for name in LINKS
        }
        prints = {name: job.result() for name, job in jobs.items()}
    frames = {name: _right_frame(given[name], specs[name], name) for name in LINKS}
    prepared = {name: _prepared_right(frames[name], specs[name], threads) for name in LINKS}
    return VdabSide(frames, prints, prepared)


def _right_frame(frame: pd.DataFrame, spec: LinkSpec, name: str) -> pd.DataFrame:
    """The columns a link reads of VDAB's records (sites also their employer)."""
    parent = ("employer_id",) if name == "establishments" else ()
    return frame[[c for c in _reads(spec, "right", *parent) if c in frame]]


def _prepared_right(frame: pd.DataFrame, spec: LinkSpec, threads: int) -> dict[str, pd.Series]:
    """Every field of ``spec`` whose right-hand columns ``frame`` has, prepared as the
    link prepares them (from its ids as text, see :func:`link_to_vdab`). A field
    missing a column is left to the link, which leaves it out or narrows it
    (:meth:`LinkSpec.for_columns`: narrowing keeps a side that has all its columns as
    it is)."""
    fields = [f for f in spec.fields if all(c in frame for c in f.source_for("right"))]
    text_ids = frame.astype({spec.right_id: "string"})
    made = prepare(text_ids, fields, side="right", threads=threads)
    return {name: made[name] for name in made}


def link_to_vdab(
    enterprises: pd.DataFrame,
    establishments: pd.DataFrame,
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    delivered: dict[str, pd.DataFrame],
    previous: Delivery | None,
    settings: dict[str, LinkSettings],
    refit: bool = False,
    vdab_side: VdabSide | None = None,
) -> FeedLinks:
    """Link enterprises to employers and establishment units to sites, for the feed.

    Parameters
    ----------
    enterprises, establishments : DataFrame
        Validated extracts, clear numbers, all parties (an enterprise sent by two
        parties is linked once).
    employers, sites : DataFrame
        VDAB's records, with ``employer_id`` and ``site_id`` (and ``employer_id``).
    delivered : dict
        The shaped tables (see :func:`linkage.exchange._shape.shape`), for keys and parties.
    previous : Delivery or None
        The delivery in force: its state makes this run incremental.
    settings : dict of str to LinkSettings
        Per link, its spec and, optionally, a saved model to freeze instead of fitting.
    refit : bool
        Fit new models and re-link everything, whatever the state says.
    vdab_side : VdabSide, optional
        VDAB's side, made before (:func:`prepare_vdab_side` of ``employers``, ``sites``
        and ``settings``); made here by default.
    """
    timings: dict[str, float] = {}
    specs = {name: settings[name].spec for name in LINKS}
    if vdab_side is None:
        vdab_side = prepare_vdab_side(employers, sites, settings)
    frames = {"enterprises": (enterprises, employers), "establishments": (establishments, sites)}
    # The records sent with a number, as rows (copying whole extracts costs seconds).
    sent = {
        name: np.flatnonzero(left[specs[name].left_id].notna().to_numpy())
        for name, (left, _) in frames.items()
    }
    state = None if refit else _state(previous, specs)
    earlier: _Earlier | None = None
    # Two threads: Arrow's kernels and pandas' SipHash let go of the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        reads = (
            [pool.submit(_read_earlier, previous, n) for n in LINKS] if previous and state else []
        )
        jobs = {
            f"{name}_left": pool.submit(fingerprinted, left, specs[name], "left", rows=sent[name])
            for name, (left, _) in frames.items()
        }
        prints = {key: job.result() for key, job in jobs.items()}
        prints.update({f"{name}_right": vdab_side.prints[name] for name in LINKS})
        if reads:
            earlier = _Earlier({}, {}, {})
            for read in reads:
                part = read.result()
                earlier.models.update(part.models)
                earlier.fingerprints.update(part.fingerprints)
                earlier.links.update(part.links)
        sides_of = {
            f"{name}_{side}": pool.submit(
                _Side.of,
                prints[f"{name}_{side}"].prints,
                *(
                    (earlier.fingerprints[f"{name}_{side}"], earlier.links[name][ident])
                    if earlier is not None
                    else ()
                ),
            )
            for name in LINKS
            for side, ident in (("left", specs[name].left_id), ("right", specs[name].right_id))
        }
        coded = {
            name: (sides_of[f"{name}_left"].result(), sides_of[f"{name}_right"].result())
            for name in LINKS
        }
    give_back()  # what reading and coding the records made and let go

    def left_frame(name: str) -> pd.DataFrame:
        """What a link reads of the senders' records: an enterprise (unit) sent by
        both parties once (its first row), each plural cell as the value linked."""
        parent = ("enterprise_number",) if name == "establishments" else ()  # units name theirs
        rows = sent[name][coded[name][0].rows]
        lframe = _subframe(frames[name][0], rows, _reads(specs[name], "left", *parent))
        return one_value(lframe, vdab_side.frames[name], specs[name], vdab_side.prepared[name])[0]

    # The enterprises' side of their link is prepared here (two threads); where the
    # links are made whole (no earlier links), the units' side then beside the rest of
    # that link (Arrow's normalisers let go of the GIL while it blocks, compares and
    # fits): it needs nothing of the enterprises' links. Not in an incremental run,
    # whose writes of the enterprises and units (with their diffs) still run then: its
    # peak rose from 1.83-1.93 to 1.95-2.05 GB (benchmarks/runs/exchange_485k_stop38.txt).
    mark = time.perf_counter()  # the enterprises' stage time includes their side's
    ahead = {"enterprises": _left_prepared(left_frame, "enterprises", specs, vdab_side)}
    units = (
        Beside(_left_prepared, left_frame, "establishments", specs, vdab_side)
        if earlier is None
        else None
    )
    results: dict[str, LinkResult] = {}
    changes: dict[str, pd.DataFrame] = {}
    # Where the links are made whole, each link's reasons (all "first delivery" or
    # "refit", sorted by record) in a thread beside the next link or the tables.
    reasoning: dict[str, Beside[pd.DataFrame]] = {}
    linked: dict[str, tuple[NDArray[np.intp], NDArray[np.intp]]] = {}
    moved: dict[str, pd.Index] = {"left": pd.Index([]), "right": pd.Index([])}
    for name in LINKS:
        started = mark if name == "enterprises" else time.perf_counter()
        spec, sides = specs[name], coded[name]
        rframe = vdab_side.frames[name]
        number, right = spec.left_id, spec.right_id
        now = (prints[f"{name}_left"].prints, prints[f"{name}_right"].prints)
        if earlier is None:
            before_links, before = _no_links(number, right), (sides[0].linked, sides[1].linked)
        else:
            before_links, before = _deduplicated(earlier.links[name], sides)
        if name in ahead:
            lframe, left_prepared = ahead.pop(name)
        elif units is not None:
            lframe, left_prepared = units.result()
        else:
            lframe, left_prepared = left_frame(name), None
        parents = (
            _parents(results, coded, linked, vdab_side.frames["enterprises"])
            if name == "establishments"
            else None
        )
        increment = None
        sets: dict[str, dict[str, pd.Index]] = {
            "changed": {},
            "new": {},
            "gone": {},
            "parent": {},
        }
        if earlier is not None:
            for k, side in enumerate(("left", "right")):
                for kind, ids in sides[k].sets(now[k]).items():
                    sets[kind][side] = ids
            # Units of an enterprise whose link moved, sites of an employer whose did.
            left_also = lframe.loc[lframe["enterprise_number"].isin(moved["left"]), number]
            right_also = rframe.loc[rframe["employer_id"].isin(moved["right"]), right]
            sets["parent"] = {
                "left": pd.Index(left_also.astype("string")),
                "right": pd.Index(right_also.astype("string")),
            }
            increment = Increment(
                links=before_links,
                left_changed=sets["changed"]["left"].union(sets["parent"]["left"]),
                right_changed=sets["changed"]["right"].union(sets["parent"]["right"]),
                rows=(sides[0].row_of(before[0]), sides[1].row_of(before[1])),
            )
        decisions = settings[name].overrides
        overrides = read_overrides(decisions) if decisions is not None else None
        if overrides is not None:
            sets["override"] = {
                "left": pd.Index(overrides.table["left_id"].astype("string")),
                "right": pd.Index(overrides.table["right_id"].astype("string")),
            }
        result = link(
            lframe.astype({number: "string"}),
            rframe.astype({right: "string"}),
            spec,
            model=earlier.models[name] if earlier is not None else _given(settings[name]),
            parents=parents,
            increment=increment,
            overrides=overrides,
            names=(name, "employers" if name == "enterprises" else "sites"),
            left_prepared=left_prepared,
            right_prepared=vdab_side.prepared[name],
            # Each number once (the first row of each, see _Side), VDAB's ids checked
            # when read.
            checked_ids=True,
        )
        results[name] = result
        timings[f"link_{name}"] = time.perf_counter() - started
        assert result.rows is not None
        after = (sides[0].code_of(result.rows[0]), sides[1].code_of(result.rows[1]))
        linked[name] = after
        reasons = partial(
            _reasons,
            before_links,
            result.links,
            number,
            right,
            sets,
            whole=None if earlier else "first delivery" if previous is None else "refit",
            rows=_maybe_moved(before, after, sides[0].coded, sides[1].coded),
        )
        if earlier is None:  # made whole: no link waits on another's reasons
            reasoning[name] = Beside(reasons)
        else:
            changes[name] = reasons()
        if name == "enterprises" and earlier is not None:
            moved = {
                "left": pd.Index(changes[name][number]),
                "right": pd.Index(
                    pd.concat(
                        [changes[name][f"{right}_before"], changes[name][f"{right}_after"]]
                    ).dropna()
                ),
            }
        give_back()  # what the link made and let go, before the next
    tables, rows = _delivered_links(results, delivered, sites, coded, prints, sent)
    changes.update((name, job.result()) for name, job in reasoning.items())
    return FeedLinks(
        tables=tables,
        specs=specs,
        models={name: r.model for name, r in results.items()}
        if earlier is None
        else earlier.models,
        fingerprints=prints,
        changes=changes,
        timings=timings,
        refitted=earlier is None,
        rows=rows,
    )


def _left_prepared(
    left_frame: Callable[[str], pd.DataFrame],
    name: str,
    specs: dict[str, LinkSpec],
    vdab_side: VdabSide,
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """``left_frame(name)`` and the fields of the link ``name`` prepared from it (those
    its spec keeps for these columns), for :func:`linkage.pipeline.link` to take."""
    lframe = left_frame(name)
    spec, _ = specs[name].for_columns(lframe.columns, vdab_side.frames[name].columns)
    prepared = prepare(lframe, spec.fields, side="left", source=name, threads=2)
    return lframe, {column: prepared[column] for column in prepared.columns}


def _parents(
    results: dict[str, LinkResult],
    coded: dict[str, tuple[_Side, _Side]],
    linked: dict[str, tuple[NDArray[np.intp], NDArray[np.intp]]],
    employers: pd.DataFrame,
) -> ParentLinks:
    """The enterprises' links as the units' parents (``ParentLinks.of``), their numbers
    Arrow text like the units' (pandas then factorizes the two by Arrow, not as Python
    strings: the same codes), and their employers' ids too where VDAB's are (taken
    from ``employers``, the rows the links were made on)."""
    numbers = coded["enterprises"][0].coded.values.take(pa.array(linked["enterprises"][0]))
    result = results["enterprises"]
    employer: Any = result.links["employer_id"]
    if employers["employer_id"].dtype == pd.StringDtype("pyarrow") and result.rows is not None:
        ids = pa.array(employers["employer_id"].array).take(pa.array(result.rows[1]))
        employer = pd.arrays.ArrowStringArray(ids)
    return ParentLinks(
        links=pd.DataFrame(
            {"enterprise_number": pd.arrays.ArrowStringArray(numbers), "employer_id": employer}
        ),
        left_parent="enterprise_number",
        right_parent="employer_id",
    )


def _given(settings: LinkSettings) -> FellegiSunter | None:
    """The saved model the configuration freezes, if any; it must fit the spec."""
    if settings.model is None:
        return None
    model = FellegiSunter.load(settings.model)
    if model.comparisons != settings.spec.comparisons:
        raise ConfigError(
            "the saved model compares other columns than the link's spec",
            source=settings.model.name,
        )
    return model


def _no_links(number: str, right: str) -> pd.DataFrame:
    return pd.DataFrame({number: pd.Series(dtype="string"), right: pd.Series(dtype="string")})


def _take(frame: pd.DataFrame, columns: list[str], rows: NDArray[np.intp]) -> pd.DataFrame:
    return frame[columns].iloc[rows].reset_index(drop=True)


def _delivered_links(
    results: dict[str, LinkResult],
    delivered: dict[str, pd.DataFrame],
    sites: pd.DataFrame,
    coded: dict[str, tuple[_Side, _Side]],
    prints: dict[str, Fingerprinted],
    sent: dict[str, NDArray[np.intp]],
) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[NDArray[np.intp], NDArray[np.intp]]]]:
    """The link tables as delivered: one row per link and sending party, by key; and
    each delivered link's rows (``FeedLinks.rows``).

    The merges of :func:`_merged_links` as rows: a delivered table holds the rows
    sent (checked: the same numbers in the same order; ``sent``: their rows in the
    records as linked), so each delivered row's record, and that record's link, are
    known by position. Where that does not hold, or a record has more than one link,
    the merges (and no rows)."""
    ent, est = results["enterprises"], results["establishments"]
    tables = {}
    for name, result, key, number in (
        ("enterprises", ent, "enterprise_key", "enterprise_number"),
        ("establishments", est, "establishment_key", "establishment_number"),
    ):
        left = coded[name][0]
        same = text(delivered[name][number]).equals(prints[f"{name}_left"].prints.ids)
        assert result.rows is not None
        if not same or np.bincount(result.rows[0], minlength=1).max() > 1:
            return _merged_links(results, delivered, sites), {}
        link_of = np.full(len(left.rows) + 1, -1, dtype=np.intp)  # row -1: none
        link_of[result.rows[0]] = np.arange(len(result.rows[0]))
        at = link_of[left.row_of(left.now)]
        rows = np.flatnonzero(at >= 0)
        tables[name] = (_take(delivered[name], [key, "party"], rows), at[rows], sent[name][rows])
    (ent_keys, ent_at, ent_rows), (est_keys, est_at, est_rows) = (
        tables["enterprises"],
        tables["establishments"],
    )
    assert ent.rows is not None and est.rows is not None
    employer = sites["employer_id"].iloc[est.rows[1][est_at]].reset_index(drop=True)
    links_ent = pd.concat(
        [ent_keys, _take(ent.links, ["employer_id", PROBABILITY, *_marked(ent)], ent_at)], axis=1
    )
    links_est = pd.concat(
        [
            est_keys,
            _take(est.links, ["site_id"], est_at),
            employer,
            _take(est.links, [PROBABILITY, *_marked(est)], est_at),
        ],
        axis=1,
    )
    positions = {
        "links_enterprises": (ent_rows, ent.rows[1][ent_at]),
        "links_establishments": (est_rows, est.rows[1][est_at]),
    }
    return {"links_enterprises": links_ent, "links_establishments": links_est}, positions


def _marked(result: LinkResult) -> list[str]:
    """The column that marks what an override decided, where overrides were given."""
    return ["override"] if "override" in result.links else []


def _merged_links(
    results: dict[str, LinkResult], delivered: dict[str, pd.DataFrame], sites: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The link tables as delivered, by merges on the records' numbers (the reference
    of :func:`_delivered_links`)."""
    ent, est = results["enterprises"], results["establishments"]
    ent_keys = delivered["enterprises"][["enterprise_key", "enterprise_number", "party"]]
    links_ent = ent_keys.astype({"enterprise_number": "string"}).merge(
        ent.links, on="enterprise_number"
    )[["enterprise_key", "party", "employer_id", "match_probability", *_marked(ent)]]
    est_keys = delivered["establishments"][["establishment_key", "establishment_number", "party"]]
    site_employer = sites[["site_id", "employer_id"]].drop_duplicates("site_id")
    site_employer = site_employer.astype({"site_id": "string"})
    links_est = (
        est_keys.astype({"establishment_number": "string"})
        .merge(est.links, on="establishment_number")
        .merge(site_employer, on="site_id", how="left")
    )[
        [
            "establishment_key",
            "party",
            "site_id",
            "employer_id",
            "match_probability",
            *_marked(est),
        ]
    ]
    return {"links_enterprises": links_ent, "links_establishments": links_est}
