"""Company names: case, diacritics, connectors, punctuation and Belgian legal forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.normalise._core import (
    collapse_whitespace,
    fold,
    keep_reason,
    no_reasons,
    null_where,
    on_matches,
    pad,
    plain_words,
    replace_tokens,
    run,
    token_alternation,
    unpad,
    until_stable,
)

__all__ = ["LEGAL_FORMS", "legal_forms", "normalise_names", "sort_tokens"]

#: Every spelling of a legal form, as it reads after cleaning (lower case, no
#: diacritics, no dots: "B.V.B.A." -> "bvba", "Comm. V." -> "comm v"), mapped to
#: its canonical abbreviation. Forms of the 2019 Code (BV, CV, NV, CommV, VOF, SRL,
#: SC, SA, SComm, SNC), the older ones still on file (BVBA, CVBA, SPRL, SCRL, ...),
#: associations (VZW, ASBL) and a few foreign ones.
LEGAL_FORMS: dict[str, str] = {
    "bv": "BV",
    "besloten vennootschap": "BV",
    "bvba": "BVBA",
    "besloten vennootschap met beperkte aansprakelijkheid": "BVBA",
    "ebvba": "EBVBA",
    "eenpersoons besloten vennootschap met beperkte aansprakelijkheid": "EBVBA",
    "nv": "NV",
    "naamloze vennootschap": "NV",
    "cv": "CV",
    "cooperatieve vennootschap": "CV",
    "cvba": "CVBA",
    "cooperatieve vennootschap met beperkte aansprakelijkheid": "CVBA",
    "cvoa": "CVOA",
    "cooperatieve vennootschap met onbeperkte aansprakelijkheid": "CVOA",
    "vof": "VOF",
    "vennootschap onder firma": "VOF",
    "commv": "CommV",
    "comm v": "CommV",
    "commanditaire vennootschap": "CommV",
    "gcv": "GCV",
    "gewone commanditaire vennootschap": "GCV",
    "commva": "CommVA",
    "comm va": "CommVA",
    "commanditaire vennootschap op aandelen": "CommVA",
    "vzw": "VZW",
    "vereniging zonder winstoogmerk": "VZW",
    "ivzw": "IVZW",
    "internationale vereniging zonder winstoogmerk": "IVZW",
    "esv": "ESV",
    "economisch samenwerkingsverband": "ESV",
    "eesv": "EESV",
    "europees economisch samenwerkingsverband": "EESV",
    "sa": "SA",
    "societe anonyme": "SA",
    "srl": "SRL",
    "societe a responsabilite limitee": "SRL",
    "sprl": "SPRL",
    "societe privee a responsabilite limitee": "SPRL",
    "sprlu": "SPRLU",
    "sc": "SC",
    "societe cooperative": "SC",
    "scrl": "SCRL",
    "societe cooperative a responsabilite limitee": "SCRL",
    "scri": "SCRI",
    "societe cooperative a responsabilite illimitee": "SCRI",
    "snc": "SNC",
    "societe en nom collectif": "SNC",
    "scs": "SCS",
    "societe en commandite simple": "SCS",
    "scomm": "SComm",
    "societe en commandite": "SComm",
    "sca": "SCA",
    "societe en commandite par actions": "SCA",
    "asbl": "ASBL",
    "association sans but lucratif": "ASBL",
    "aisbl": "AISBL",
    "association internationale sans but lucratif": "AISBL",
    "gie": "GIE",
    "groupement dinteret economique": "GIE",
    "gmbh": "GmbH",
    "sarl": "SARL",
    "ltd": "Ltd",
    "llc": "LLC",
    "inc": "Inc",
}

#: Connectors that all become the one token "en": "&", "and", "et", "und".
_CONNECTORS = ("and", "et", "und")
_CONNECTOR = "en"

_FORMS_RE = f" (?:{token_alternation(LEGAL_FORMS)}) "
# A whole form or connector in a value as it is (not padded): the values the
# rewrites below change (plain words leave no space at an end, no empty value).
_HOLDS_FORM = f"(?:^| )(?:{token_alternation(LEGAL_FORMS, padded=False)})(?: |$)"
_HOLDS_CONNECTOR = f"(?:^| )(?:{token_alternation(_CONNECTORS, padded=False)})(?: |$)"
_FORM_GROUP_RE = f" (?P<form>{token_alternation(LEGAL_FORMS)}) "
_MULTI_START_RE = f" (?:{token_alternation({f.split()[0] for f in LEGAL_FORMS if ' ' in f})}) "
_SPELLINGS = pa.array(list(LEGAL_FORMS))
_CANONICAL = pa.array(list(LEGAL_FORMS.values()))


def _clean(values: pa.Array) -> pa.Array:
    """Fold case and diacritics, unify connectors, drop punctuation (null if nothing left)."""
    # "&" after folding (NFKD makes one of the full-width ampersand); "Comm. V." ->
    # "comm v", "Peeters.be" -> "peeters be".
    arr = plain_words(pc.replace_substring(fold(values), "&", " and "))
    return on_matches(arr, _HOLDS_CONNECTOR, _connected)  # most names hold none


def _connected(arr: pa.Array) -> pa.Array:
    """Every connector as the one token (:func:`_clean` of the names that hold one)."""
    return unpad(replace_tokens(pad(arr), _CONNECTORS, _CONNECTOR))


def _strip_forms(arr: pa.Array) -> pa.Array:
    """Remove legal forms until none is left, from the names that hold one.

    A removal can only make a new form where it brings together the words of a
    multi-word form ("comm commv v" -> "comm v"), so later rounds revisit just the
    values that changed and hold the first word of one.
    """
    return on_matches(arr, _HOLDS_FORM, _stripped)


def _stripped(arr: pa.Array) -> pa.Array:
    """:func:`_strip_forms` of every value."""
    return until_stable(
        arr,
        _strip_once,
        again=lambda stripped: pc.match_substring_regex(pad(stripped), _MULTI_START_RE),
    )


def _strip_once(arr: pa.Array) -> pa.Array:
    padded = pad(arr)
    removed = pc.replace_substring_regex(padded, _FORMS_RE, "")
    changed = pc.fill_null(pc.not_equal(removed, padded), False)
    return pc.if_else(changed, unpad(removed), arr)


def _names_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    reasons = no_reasons(len(values))
    clean = _clean(values)
    reasons = keep_reason(reasons, pc.is_null(clean), "no letters or digits")
    out = _strip_forms(clean)
    reasons = keep_reason(reasons, pc.is_null(out), "only a legal form")
    return {"name": out}, reasons


def _forms_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    found = pc.extract_regex(pad(_clean(values)), _FORM_GROUP_RE)
    spelling = collapse_whitespace(pc.struct_field(found, "form"))
    form = null_where(pc.take(_CANONICAL, pc.index_in(spelling, _SPELLINGS)), pc.is_null(found))
    reasons = keep_reason(no_reasons(len(values)), pc.is_null(form), "no legal form")
    return {"legal_form": form}, reasons


def _sort_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    tokens = pc.utf8_split_whitespace(values)
    parents = pc.list_parent_indices(tokens)
    flat = pc.list_flatten(tokens)
    keys = [("row", "ascending"), ("token", "ascending")]
    order = pc.sort_indices(pa.table({"row": parents, "token": flat}), sort_keys=keys)
    ordered = pa.ListArray.from_arrays(tokens.offsets, pc.take(flat, order))
    joined = pc.binary_join(ordered, pa.scalar(" ", values.type))
    return {"name": joined}, no_reasons(len(values))


def normalise_names(
    names: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Normalise company names for comparison.

    Lower-case, strip diacritics, turn "&", "and", "et", "und" into "en", drop
    apostrophes and other punctuation, collapse spaces and remove legal forms
    (``LEGAL_FORMS``) as whole tokens anywhere in the name: "SA Peeters" ->
    "peeters", while "Sabena" keeps its letters. Idempotent.

    Parameters
    ----------
    names : Series of str
        Company names in any spelling; missing and blank values stay missing.
    return_reasons : bool, default False
        Return a DataFrame with columns ``name`` and ``reason`` instead, the
        reason being set where a present name became missing ("no letters or
        digits", "only a legal form").

    Returns
    -------
    Series of string[pyarrow], same index and name as ``names``

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_names(pd.Series(["B.V.B.A. Peeters & Zonen"])).tolist()
    ['peeters en zonen']
    """
    return run(names, _names_kernel, return_reasons=return_reasons, as_series=True)


def legal_forms(
    names: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Return the canonical legal form in each name ("BVBA", "NV", "SRL", "CommV", ...).

    The first form in reading order wins ("Bekaert NV/SA" -> "NV"); missing where
    the name has none (reason "no legal form"). Idempotent: a canonical form
    reads as itself.

    Parameters
    ----------
    names : Series of str
        Raw company names, as given to ``normalise_names``.
    return_reasons : bool, default False
        Return a DataFrame with columns ``legal_form`` and ``reason`` instead.

    Returns
    -------
    Series of string[pyarrow], same index and name as ``names``

    Examples
    --------
    >>> import pandas as pd
    >>> legal_forms(pd.Series(["N.V. Bekaert", "Sabena"])).tolist()
    ['NV', <NA>]
    """
    return run(names, _forms_kernel, return_reasons=return_reasons, as_series=True)


def sort_tokens(
    names: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Sort the space-separated tokens of each value, for word-order-free comparison.

    Meant for the output of ``normalise_names``; it does not normalise by itself.
    Tokens sort by their UTF-8 bytes. Idempotent.

    Parameters
    ----------
    names : Series of str
    return_reasons : bool, default False
        Return a DataFrame with columns ``name`` and ``reason`` (never set: a
        present value always has a token).

    Returns
    -------
    Series of string[pyarrow], same index and name as ``names``

    Examples
    --------
    >>> import pandas as pd
    >>> sort_tokens(pd.Series(["peeters bakkerij"])).tolist()
    ['bakkerij peeters']
    """
    return run(names, _sort_kernel, return_reasons=return_reasons, as_series=True)
