"""Preparation: the derived columns a link spec compares and blocks on.

Each :class:`~linkage.config.Field` names a preparer (:mod:`linkage.preparers`),
applied here to whole columns; the normalised company name is computed once per
source column for every field made from it. The result has one row per input
row, in the same order, so that pair positions point into both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    names: dict[tuple[str, ...], pd.Series] = {}
    for f in fields:
        if done is not None and f.name in done:  # set_axis refuses another length
            out[f.name] = done[f.name].set_axis(table.index)
            continue
        sources = f.source_for(side)
        preparer = PREPARERS[f.prepare]
        if preparer.from_names:
            if sources not in names:
                names[sources] = normalise_names(table[sources[0]])
            out[f.name] = preparer.make(names[sources])
        else:
            out[f.name] = preparer.make(*(table[c] for c in sources))
    return pd.DataFrame(out, index=table.index)
