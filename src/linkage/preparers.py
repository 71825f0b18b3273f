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

import pandas as pd

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

__all__ = ["PREPARERS", "Preparer", "preparer"]

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
