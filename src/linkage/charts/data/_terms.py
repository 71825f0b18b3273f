"""Term frequencies: how common each value is, and what the model saw for each pair.

They call the preparers the pipeline used, on the columns they need only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.compare import term_frequencies
from linkage.comparisons import Comparison
from linkage.config import LinkSpec
from linkage.prepare import prepare

if TYPE_CHECKING:
    from linkage.pipeline import LinkResult

__all__ = [
    "explain_pair",
    "explain_pairs",
    "pair_term_frequencies",
    "prepared_column",
    "value_frequencies",
]


def _comparison(spec: LinkSpec, comparison: str | None) -> tuple[int, Comparison]:
    found = [
        (k, c)
        for k, c in enumerate(spec.comparisons)
        if (c.name == comparison if comparison is not None else c.term_frequency)
    ]
    if not found:
        names = [c.name for c in spec.comparisons]
        wanted = repr(comparison) if comparison is not None else "one with term_frequency=True"
        raise ValueError(f"no comparison {wanted} in the spec; it has {names}")
    return found[0]


def prepared_column(
    left: pd.DataFrame, right: pd.DataFrame, spec: LinkSpec, column: str
) -> tuple[pd.Series, pd.Series]:
    """One derived column of both tables, as the pipeline prepares it."""
    fields = [f for f in spec.fields if f.name == column]
    lp = prepare(left, fields, side="left", source="left")
    rp = prepare(right, fields, side="right", source="right")
    return lp[column], rp[column]


def value_frequencies(
    left: pd.DataFrame, right: pd.DataFrame, spec: LinkSpec, *, comparison: str | None = None
) -> pd.Series:
    """How common each prepared value of a comparison's column is, both tables together.

    The same frequency the model's term-frequency adjustment uses: the share of all
    present values (left and right) equal to this one. ``comparison`` defaults to
    the first comparison with ``term_frequency``.

    Returns
    -------
    Series of float
        Indexed by value, most common first.
    """
    _, c = _comparison(spec, comparison)
    lcol, rcol = prepared_column(left, right, spec, c.column)
    values = pd.concat([lcol, rcol], ignore_index=True).dropna()
    freq = values.value_counts(normalize=True, sort=True)
    freq.name = "frequency"
    return freq


def pair_term_frequencies(
    result: LinkResult, left: pd.DataFrame, right: pd.DataFrame
) -> dict[str, NDArray[np.float64]]:
    """Per comparison with ``term_frequency``, each candidate pair's value frequency.

    What the pipeline gave the model when it scored: pass a pair's entries as
    ``tf=`` to :meth:`~linkage.model.FellegiSunter.explain`.
    """
    out = {}
    for c in result.spec.comparisons:
        if c.term_frequency:
            lcol, rcol = prepared_column(left, right, result.spec, c.column)
            out[c.name] = term_frequencies(lcol, rcol, result.pairs.left, result.pairs.right)
    return out


def explain_pairs(result: LinkResult, left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Every candidate pair's weight by term, with the term frequencies the pipeline
    scored it with: :meth:`~linkage.model.FellegiSunter.explain_pairs`, whose
    ``total`` is ``result.weights``.

    Returns
    -------
    DataFrame of shape (n_pairs, n_comparisons + 4)
    """
    tf = pair_term_frequencies(result, left, right)
    return result.model.explain_pairs(result.gamma, tf=tf)


def _source_values(spec: LinkSpec, table: pd.DataFrame, row: int, column: str, side: str) -> str:
    """The input values a compared column is prepared from, of one record, as text."""
    fields = [f for f in spec.fields if f.name == column]
    if not fields:
        return ""
    field = fields[0]
    sources = (field.left_source if side == "left" else field.right_source) or field.source
    values = table.iloc[row][[c for c in sources if c in table.columns]]
    return " ".join(str(v) for v in values if not pd.isna(v) and str(v) != "")


def explain_pair(
    result: LinkResult, position: int, left: pd.DataFrame, right: pd.DataFrame
) -> pd.DataFrame:
    """:meth:`~linkage.model.FellegiSunter.explain` for one candidate pair, with the
    term frequencies the pipeline scored it with and both records' values.

    Parameters
    ----------
    position : int
        The pair's position among ``result.pairs`` (a row of ``classify_pairs``).
    left, right : DataFrame
        The tables that were linked.

    Returns
    -------
    DataFrame
        The explanation, plus ``left`` and ``right``: each comparison's input values
        of the two records (the columns its field is prepared from), '' on the
        other rows. Its ``total`` is ``result.weights[position]``.
    """
    tf = pair_term_frequencies(result, left, right)
    at = {name: float(freq[position]) for name, freq in tf.items()}
    table = result.model.explain(result.gamma[position], tf=at)
    rows = {"left": int(result.pairs.left[position]), "right": int(result.pairs.right[position])}
    columns = {c.name: c.column for c in result.spec.comparisons}
    for side, frame in (("left", left), ("right", right)):
        table[side] = [
            _source_values(result.spec, frame, rows[side], columns[name], side)
            if name in columns
            else ""
            for name in table["comparison"]
        ]
    return table
