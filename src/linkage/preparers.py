"""The preparer library: how a derived column is made from one or more input columns.

A :class:`~linkage.config.Field` names a preparer (its ``prepare`` key); the prepare
stage (:mod:`linkage.prepare`) looks it up in :data:`PREPARERS` and applies it to
whole columns. A new preparer is one decorated function here::

    @preparer("vat_number")
    def _vat(values: pd.Series) -> pd.Series: ...

Preparers registered with ``from_names=True`` receive the normalised company name
(:func:`linkage.normalise.normalise_names`) of their source column, which the stage
computes once for every field made from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.identifiers import (
    number_digits,
    parse_enterprise_numbers,
    parse_establishment_numbers,
)
from linkage.normalise import (
    collapse_whitespace,
    legal_forms,
    normalise_address,
    normalise_emails,
    normalise_phones,
    normalise_postcodes,
    normalise_street,
    normalise_websites,
    sort_tokens,
    split_address,
)

__all__ = ["LIST_SEPARATOR", "PREPARERS", "Preparer", "join_listed", "listed_values", "preparer"]

#: What separates the values of a listed cell written as text (a plural cell of the
#: exchange: "2.123.456.789; 2.234.567.891").
LIST_SEPARATOR = ";"

Make = Callable[..., pd.Series]


@dataclass(frozen=True)
class Preparer:
    """A registered preparer: its name, its function and how many source columns it takes."""

    name: str
    make: Make
    max_sources: int = 1
    from_names: bool = False


PREPARERS: dict[str, Preparer] = {}


def preparer(
    name: str, *, max_sources: int = 1, from_names: bool = False
) -> Callable[[Make], Make]:
    """Register the decorated function as the preparer ``name``."""

    def register(make: Make) -> Make:
        PREPARERS[name] = Preparer(name, make, max_sources, from_names)
        return make

    return register


@preparer("text")
def _text(values: pd.Series) -> pd.Series:
    """Lower case, white space collapsed (:data:`linkage.normalise.WHITESPACE`), blank missing.

    >>> _text(pd.Series(["  Jan\u00a0PEETERS ", " "])).tolist()
    ['jan peeters', <NA>]
    """
    return collapse_whitespace(values).str.lower()


@preparer("company_name", from_names=True)
def _company_name(names: pd.Series) -> pd.Series:
    return names


@preparer("name_sorted", from_names=True)
def _name_sorted(names: pd.Series) -> pd.Series:
    return sort_tokens(names)


@preparer("name_tokens", from_names=True)
def _name_tokens(names: pd.Series) -> pd.Series:
    return names.str.split()


@preparer("name_prefix", from_names=True)
def _name_prefix(names: pd.Series) -> pd.Series:
    return names.str.replace(" ", "", regex=False).str.slice(0, 4)


@preparer("address", max_sources=3)
def _address(*columns: pd.Series) -> pd.Series:
    """Street and house number, from one address line or from (street, number[, box])."""
    parts = split_address(columns[0]) if len(columns) == 1 else normalise_address(*columns)
    return (parts["street"] + " " + parts["house_number"].fillna("")).str.strip()


@preparer("email")
def _email(values: pd.Series) -> pd.Series:
    return normalise_emails(values)["email"]


@preparer("email_domain")
def _email_domain(values: pd.Series) -> pd.Series:
    return normalise_emails(values)["domain"]


preparer("legal_form")(legal_forms)
preparer("enterprise_number")(parse_enterprise_numbers)
preparer("establishment_number")(parse_establishment_numbers)
preparer("number_digits")(number_digits)
preparer("street")(normalise_street)
preparer("postcode")(normalise_postcodes)


@preparer("phone")
def _phone(values: pd.Series) -> pd.Series:
    """E.164 of every *possible* number, valid or not (``keep="possible"``): a number in
    a range that ``phonenumbers`` does not know as assigned ("03 907 37 57") is still
    the same number on both sides. Validity is the quality report's to flag
    (:func:`linkage.normalise.normalise_phones` with its default ``keep="valid"``).

    >>> _phone(pd.Series(["03 907 37 57", "+32 3 907 37 57", "123"])).tolist()
    ['+3239073757', '+3239073757', <NA>]
    """
    return normalise_phones(values, keep="possible")


preparer("website")(normalise_websites)


def listed_values(values: pd.Series) -> tuple[NDArray[np.int64], pd.Series]:
    """Every value listed in a column, with the position of its row.

    A cell is a list (or array) of values, a text of values joined by
    :data:`LIST_SEPARATOR`, or missing; each value is stripped, blanks left out.

    >>> rows, items = listed_values(pd.Series(["a; b", None, ["c", " "]]))
    >>> rows.tolist(), items.tolist()
    ([0, 0, 2], ['a', 'b', 'c'])
    """
    cells = values.reset_index(drop=True)
    if cells.dtype == object:
        cells = cells.explode()  # list cells to one row a value; text stays whole
    rows = cells.index.to_numpy(dtype=np.int64)
    text = pa.array(cells.astype("string").to_numpy(object), pa.string(), from_pandas=True)
    lists = pc.split_pattern(text, LIST_SEPARATOR)
    parent = pc.list_parent_indices(lists).to_numpy()
    items = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.fill_null(pc.not_equal(items, ""), False)
    items = items.filter(keep)
    rows = rows[parent[keep.to_numpy(zero_copy_only=False)]]
    return rows, pd.Series(pd.arrays.ArrowStringArray(items))


def join_listed(rows: NDArray[np.int64], items: pd.Series, n: int, *, sep: str = " ") -> pd.Series:
    """One text per row of ``n``: its distinct ``items`` joined by ``sep``, missing
    where a row has none. ``rows`` gives each item's row.

    The items of a row are put in the order of their 64-bit hashes: one order for
    the same items whatever the rows they came in, so that two rows listing the same
    items get the same text (equal, for blocking and comparison), without sorting
    text.

    >>> out = join_listed(np.array([2, 0, 2, 2]), pd.Series(["b", "x", "a", "b"]), 3)
    >>> out[0], out[1], sorted(out[2].split(" "))
    ('x', <NA>, ['a', 'b'])
    >>> out[2] == join_listed(np.array([0, 0]), pd.Series(["a", "b"]), 1)[0]
    True
    """
    text = items.astype("string")
    present = text.notna().to_numpy()
    values = text.to_numpy(object)[present]
    rows = rows[present].astype(np.int64)
    hashes = pd.util.hash_array(values, categorize=False)
    order = np.lexsort((hashes, rows))
    rows, hashes = rows[order], hashes[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (hashes[1:] != hashes[:-1])]
    order, rows = order[first], rows[first]
    counts = np.bincount(rows, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values[order], pa.string()))
    joined = pc.if_else(
        pa.array(counts > 0), pc.binary_join(lists, sep), pa.scalar(None, pa.string())
    )
    return pd.Series(pd.arrays.ArrowStringArray(joined.cast(pa.string())))


@preparer("unit_numbers")
def _unit_numbers(values: pd.Series) -> pd.Series:
    """The establishment-unit numbers a cell lists (:func:`listed_values`), each in
    canonical form (:func:`linkage.identifiers.parse_establishment_numbers`; one that
    is not valid left out), distinct, joined by a space (:func:`join_listed`);
    missing where none.

    On the enterprises' side the numbers of an enterprise's units, on the employers'
    side those its sites carry: a unit belongs to one enterprise, so a shared number
    names the employer's enterprise when the employer's own number is missing.

    >>> out = _unit_numbers(pd.Series(["2.073.157.343; 2248887095", None, "2.073.157.344"]))
    >>> sorted(out[0].split(" ")), out[1], out[2]
    (['2073157343', '2248887095'], <NA>, <NA>)
    """
    rows, items = listed_values(values)
    numbers = parse_establishment_numbers(items)
    out = join_listed(rows, numbers, len(values))
    out.index = values.index
    return out.rename(values.name)
