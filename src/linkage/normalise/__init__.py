"""Normalisers: Series in, Series (or DataFrame) out, vectorised and idempotent."""

from __future__ import annotations

from linkage.normalise._addresses import (
    normalise_address,
    normalise_postcodes,
    normalise_street,
    split_address,
)
from linkage.normalise._contacts import normalise_emails, normalise_phones, normalise_websites
from linkage.normalise._core import WHITESPACE, WHITESPACE_CHARS, collapse_whitespace
from linkage.normalise._names import LEGAL_FORMS, legal_forms, normalise_names, sort_tokens

__all__ = [
    "LEGAL_FORMS",
    "WHITESPACE",
    "WHITESPACE_CHARS",
    "collapse_whitespace",
    "legal_forms",
    "normalise_address",
    "normalise_emails",
    "normalise_names",
    "normalise_phones",
    "normalise_postcodes",
    "normalise_street",
    "normalise_websites",
    "sort_tokens",
    "split_address",
]
