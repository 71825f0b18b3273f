"""Preparation: the derived columns a link spec compares and blocks on.

Each :class:`~linkage.config.Field` names a preparer (:mod:`linkage.preparers`),
applied here to whole columns; the normalised company name is computed once per
source column for every field made from it. The result has one row per input
row, in the same order, so that pair positions point into both.

With ``threads=2`` the independent groups of fields (those made from one
normalised name, and each other field) are made in two threads: the normalisers
spend much of their time in Arrow kernels, which release the GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Literal

import pandas as pd

from linkage.config import Field
from linkage.io import require_columns
from linkage.normalise import normalise_names
from linkage.preparers import PREPARERS

__all__ = ["prepare"]

Side = Literal["left", "right"]


def prepare(
    table: pd.DataFrame,
    fields: Sequence[Field],
    *,
    side: Side,
    source: str = "",
    done: Mapping[str, pd.Series] | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """The derived columns of ``fields`` for one side of a link.

    Parameters
    ----------
    table : DataFrame
        Input records.
    fields : sequence of Field
    side : {"left", "right"}
        Which source columns to read (a preset may map the two sides differently).
    source : str
        Name of the table, for error messages.
    done : dict of str to Series, optional
        Fields already prepared from this table (by field name, as this function
        makes them), taken as they are.
    threads : int
        How many threads make the field groups (:func:`field_groups`); the
        result is the same.

    Returns
    -------
    DataFrame
        One column per field, a RangeIndex of positions.
    """
    require_columns(
        table, [c for f in fields for c in f.source_for(side)], source=source or f"{side} table"
    )
    table = table.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for f in fields:
        if done is not None and f.name in done:  # set_axis refuses another length
            out[f.name] = done[f.name].set_axis(table.index)
    groups = field_groups([f for f in fields if f.name not in out], side)
    for made in _map(partial(_make_group, table, side=side), groups, threads):
        out.update(made)
    return pd.DataFrame({f.name: out[f.name] for f in fields}, index=table.index)


def field_groups(fields: Sequence[Field], side: Side) -> list[list[Field]]:
    """``fields`` in groups that can be made apart: those made from the normalised
    name of one source (which is computed once for them) together, every other
    field alone. The name groups come first (the longest work, begun first), the
    others in the order of their first field."""
    groups: dict[object, list[Field]] = {}
    for at, f in enumerate(fields):
        key = ("names", f.source_for(side)) if PREPARERS[f.prepare].from_names else at
        groups.setdefault(key, []).append(f)
    return sorted(groups.values(), key=lambda group: not PREPARERS[group[0].prepare].from_names)


def _make_group(table: pd.DataFrame, group: list[Field], *, side: Side) -> dict[str, pd.Series]:
    """The fields of one group (see :func:`field_groups`), by name."""
    first = PREPARERS[group[0].prepare]
    if first.from_names:
        names = normalise_names(table[group[0].source_for(side)[0]])
        return {f.name: PREPARERS[f.prepare].make(names) for f in group}
    (f,) = group
    return {f.name: first.make(*(table[c] for c in f.source_for(side)))}


def _map(
    make: Callable[[list[Field]], dict[str, pd.Series]], groups: list[list[Field]], threads: int
) -> list[dict[str, pd.Series]]:
    """``make`` of each group, in order: in this thread, or in a pool of ``threads``."""
    if threads <= 1 or len(groups) <= 1:
        return [make(group) for group in groups]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(make, groups))
