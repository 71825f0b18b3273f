"""Field-level data quality per sending party: missing and invalid values, and why.

Per field and party, beside the record-level article-8 report of
:func:`linkage.exchange.quality_defects`: it uses the same parsers and normalisers
the pipeline prepares fields with, each asked for its reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers
from linkage.io import require_columns
from linkage.normalise import normalise_emails, normalise_phones, normalise_websites

__all__ = ["CHECKS", "field_quality"]

VALID = "valid"
MISSING = "missing"


def _reasons(parse: Callable[..., pd.DataFrame]) -> Callable[[pd.Series], pd.Series]:
    def reasons(values: pd.Series) -> pd.Series:
        return parse(values, return_reasons=True)["reason"].astype("string")

    return reasons


# Each check gives, per value, why it is invalid (missing where valid or absent).
CHECKS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "enterprise_number": _reasons(parse_enterprise_numbers),
    "establishment_number": _reasons(parse_establishment_numbers),
    "phone": _reasons(normalise_phones),
    "email": _reasons(normalise_emails),
    "website": _reasons(normalise_websites),
    "present": lambda values: pd.Series(pd.NA, index=values.index, dtype="string"),
}


def _absent(values: pd.Series) -> pd.Series:
    blank = values.astype("string").str.strip().fillna("") == ""
    return values.isna() | blank


def field_quality(
    table: pd.DataFrame,
    fields: Mapping[str, str],
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Per group and field, how many values are valid, missing, or invalid and why.

    Parameters
    ----------
    table : DataFrame
    fields : mapping of column to check
        The check of each column: one of ``enterprise_number``,
        ``establishment_number``, ``phone``, ``email``, ``website`` or ``present``
        (only missing values count).
    by : str, optional
        Column to group by, such as the sending ``party``; one group ``all`` if None.

    Returns
    -------
    DataFrame
        Long form: ``party`` (or ``by``), ``field``, ``status`` (``valid``,
        ``missing`` or the reason), ``count`` and ``share`` of the group's records.

    Examples
    --------
    >>> t = pd.DataFrame({"party": ["A", "A", "B"], "phone": ["09 225 12 34", None, "12"]})
    >>> table = field_quality(t, {"phone": "phone"}, by="party")
    >>> table[["party", "status", "count"]].values.tolist()
    [['A', 'valid', 1], ['A', 'missing', 1], ['B', 'invalid number', 1]]
    """
    unknown = sorted(set(fields.values()) - set(CHECKS))
    if unknown:
        raise ValueError(f"field_quality: unknown check(s) {unknown}; choose from {sorted(CHECKS)}")
    require_columns(table, fields, source="field_quality table")
    group_name = by or "party"
    if by:
        groups = table[by].astype("string").fillna("(none)")
    else:
        groups = pd.Series("all", index=table.index)
    parts = []
    for column, check in fields.items():
        values = table[column]
        status = CHECKS[check](values).reindex(values.index)
        status = status.mask(_absent(values), MISSING).fillna(VALID)
        parts.append(
            pd.DataFrame(
                {group_name: groups.to_numpy(), "field": column, "status": status.to_numpy()}
            )
        )
    long = pd.concat(parts, ignore_index=True)
    counts = long.value_counts([group_name, "field", "status"], sort=False).rename("count")
    out = counts.reset_index()
    sizes = groups.value_counts()
    out["share"] = out["count"] / out[group_name].map(sizes).to_numpy()
    field_order = {f: k for k, f in enumerate(fields)}
    out = out.sort_values(
        [group_name, "field", "status"], key=lambda s: _sort_key(s, field_order), kind="stable"
    )
    return out.reset_index(drop=True)


def _sort_key(column: pd.Series, field_order: Mapping[str, int]) -> pd.Series:
    """Fields in the order given; statuses valid, missing, then reasons by name."""
    if column.name == "field":
        return column.map(field_order)
    if column.name == "status":
        return column.map(lambda s: (0, "") if s == VALID else (1, "") if s == MISSING else (2, s))
    return column
