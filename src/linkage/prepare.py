"""Preparation: the derived columns a link spec compares and blocks on.

Each :class:`~linkage.config.Field` names a preparer; this module maps the name to
the normaliser that makes it, over whole columns. The result has one row per input
row, in the same order, so that pair positions point into both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import pandas as pd

from linkage.config import Field
from linkage.exceptions import SchemaError
from linkage.identifiers import (
    number_digits,
    parse_enterprise_numbers,
    parse_establishment_numbers,
)
from linkage.normalise import (
    legal_forms,
    normalise_address,
    normalise_emails,
    normalise_names,
    normalise_phones,
    normalise_postcodes,
    normalise_street,
    normalise_websites,
    sort_tokens,
    split_address,
)

__all__ = ["prepare"]

Side = Literal["left", "right"]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.lower().str.split().str.join(" ").replace("", pd.NA)


def _address(*columns: pd.Series) -> pd.Series:
    parts = split_address(columns[0]) if len(columns) == 1 else normalise_address(*columns)
    return (parts["street"] + " " + parts["house_number"].fillna("")).str.strip()


# Made from the normalised name, which is computed once per source column.
_FROM_NAMES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "company_name": lambda names: names,
    "name_sorted": sort_tokens,
    "name_tokens": lambda names: names.str.split(),
    "name_prefix": lambda names: names.str.replace(" ", "", regex=False).str.slice(0, 4),
}

_PREPARERS: dict[str, Callable[..., pd.Series]] = {
    "text": _text,
    "legal_form": legal_forms,
    "enterprise_number": parse_enterprise_numbers,
    "establishment_number": parse_establishment_numbers,
    "number_digits": number_digits,
    "street": normalise_street,
    "address": _address,
    "postcode": normalise_postcodes,
    "phone": normalise_phones,
    "email": lambda s: normalise_emails(s)["email"],
    "email_domain": lambda s: normalise_emails(s)["domain"],
    "website": normalise_websites,
}


def prepare(
    table: pd.DataFrame, fields: Sequence[Field], *, side: Side, source: str = ""
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

    Returns
    -------
    DataFrame
        One column per field, a RangeIndex of positions.
    """
    where = source or f"{side} table"
    missing = sorted({c for f in fields for c in f.source_for(side)} - set(table.columns))
    if missing:
        raise SchemaError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(repr, table.columns))}"
        )
    table = table.reset_index(drop=True)
    out, names = {}, {}
    for f in fields:
        sources = f.source_for(side)
        if f.prepare in _FROM_NAMES:
            if sources not in names:
                names[sources] = normalise_names(table[sources[0]])
            out[f.name] = _FROM_NAMES[f.prepare](names[sources])
        else:
            out[f.name] = _PREPARERS[f.prepare](*(table[c] for c in sources))
    return pd.DataFrame(out, index=table.index)
