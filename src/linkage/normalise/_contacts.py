"""Contact details: phone numbers (E.164), e-mail addresses, web hosts."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial, reduce
from typing import Any

import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exceptions import ConfigError
from linkage.normalise._core import (
    WHITESPACE,
    WHITESPACE_CHARS,
    collapse_whitespace,
    keep_reason,
    no_reasons,
    null_where,
    run,
)

__all__ = ["normalise_emails", "normalise_phones", "normalise_websites"]

_E164 = phonenumbers.PhoneNumberFormat.E164


def _clean_phones(values: pa.Array) -> pa.Array:
    """Drop separators and "(0)", turn a leading "00" into "+"; empty becomes null."""
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^(\+?\d+)\.0+$", r"\1")  # read as a float
    # "+32 (0)9 ..." carries the trunk 0 that E.164 drops.
    text = pc.replace_substring(text, "(0)", "")
    text = pc.replace_substring_regex(text, f"[{WHITESPACE_CHARS}./()\\-]+", "")
    text = pc.replace_substring_regex(text, "^00", "+")
    return null_where(text, pc.equal(text, ""))


def _reference_phone_kernel(
    values: pa.Array, *, region: str
) -> tuple[dict[str, pa.Array], pa.Array]:
    """``phonenumbers`` on every distinct cleaned value: the slow path, and the
    reference that the fast path is tested against."""
    encoded = _clean_phones(values).dictionary_encode()
    phone, why = _parse_phones(encoded.dictionary, region)
    indices = encoded.indices
    why = keep_reason(pc.take(why, indices), pc.is_null(indices), "not a phone number")
    return {"phone": pc.take(phone, indices)}, why


def _phone_kernel(values: pa.Array, *, region: str) -> tuple[dict[str, pa.Array], pa.Array]:
    # Separators are gone, so "09 123 45 67" and "09/123.45.67" share one parse.
    encoded = _clean_phones(values).dictionary_encode()
    distinct = encoded.dictionary
    phone, why, decided = _belgian_fast_path(distinct, national=region == "BE")
    if not pc.all(decided).as_py():
        # Foreign numbers, odd characters: the one per-value loop, over what is left.
        left = pc.invert(decided)
        slow_phone, slow_why = _parse_phones(pc.filter(distinct, left), region)
        phone = pc.replace_with_mask(phone, left, slow_phone)
        why = pc.replace_with_mask(why, left, slow_why)
    indices = encoded.indices
    why = keep_reason(pc.take(why, indices), pc.is_null(indices), "not a phone number")
    return {"phone": pc.take(phone, indices)}, why


def _parse_phones(distinct: pa.Array, region: str) -> tuple[pa.Array, pa.Array]:
    numbers: list[str | None] = []
    reasons: list[str | None] = []
    for raw in distinct.to_pylist():
        number, reason = _parse_phone(raw, region)
        numbers.append(number)
        reasons.append(reason)
    return pa.array(numbers, pa.string()), pa.array(reasons, pa.string())


def _parse_phone(raw: str, region: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid number"
    return phonenumbers.format_number(number, _E164), None


# The fast path repeats, in Arrow kernels, what ``phonenumbers.parse`` and
# ``is_valid_number`` do to a cleaned "+32<digits>" (any default region) or, with
# default region BE, "0<digits>" (a leading "00" is already "+"):
#
# - "+32": country code 32 goes; a trunk "0" after it goes too, but only when at
#   least the shortest Belgian length is left ("+32 09 ..." is "+32 9 ...");
# - "0": the trunk "0" goes when at least the shortest length is left, otherwise
#   it stays and the number is invalid;
# - a national significant number (NSN) of more than 17 digits fails to parse,
#   any other is valid if it matches the general pattern and the pattern of one
#   number type, each with its possible lengths: the same regexes, from the same
#   metadata, here run by RE2.
#
# "+32" with fewer than two digits after it, other country codes, other regions'
# national numbers and anything not plain ASCII digits go to ``phonenumbers``.
_BE_OR_NONE = phonenumbers.PhoneMetadata.metadata_for_region("BE")
if _BE_OR_NONE is None:  # pragma: no cover - every phonenumbers release carries BE
    raise ImportError("phonenumbers carries no metadata for region BE")
_BE: phonenumbers.PhoneMetadata = _BE_OR_NONE
_MAX_NSN = 17
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
          "uan", "voicemail", "fixed_line", "mobile")  # fmt: skip
# A desc without a pattern never matches (``_match_national_number``).
_TYPE_DESCS = [
    desc
    for desc in (getattr(_BE, name) for name in _TYPES)
    if desc is not None and desc.national_number_pattern
]


def _fast_path_holds() -> bool:
    """Whether the metadata still has the shape that the fast path relies on."""
    general = _BE.general_desc
    if general is None:
        return False
    lengths = tuple(general.possible_length)
    return (
        _BE.country_code == 32
        and phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(32) == ("BE",)
        and _BE.international_prefix == "00"
        and _BE.national_prefix_for_parsing == "0"
        and not _BE.national_prefix_transform_rule
        and bool(lengths)
        and bool(_TYPE_DESCS)
        # contiguous lengths, none local-only: only "too short" keeps a trunk "0"
        and lengths == tuple(range(lengths[0], lengths[-1] + 1))
        and not general.possible_length_local_only
        and getattr(phonenumbers.phonenumberutil, "_MAX_LENGTH_FOR_NSN", None) == _MAX_NSN
    )


_FAST = _fast_path_holds()
_SHORTEST = _BE.general_desc.possible_length[0] if _FAST and _BE.general_desc is not None else 0


def _valid_nsn(nsn: pa.Array) -> pa.Array:
    """Whether each Belgian NSN (ASCII digits) is valid, as ``is_valid_number``."""

    def matches(desc: Any) -> pa.Array:
        hit = pc.match_substring_regex(nsn, f"^(?:{desc.national_number_pattern})$")
        if desc.possible_length:
            lengths = pa.array(desc.possible_length, length.type)
            hit = pc.and_(hit, pc.is_in(length, value_set=lengths))
        return hit

    length = pc.utf8_length(nsn)
    valid = matches(_BE.general_desc)
    return pc.and_(valid, reduce(pc.or_, [matches(desc) for desc in _TYPE_DESCS]))


def _belgian_fast_path(
    distinct: pa.Array, *, national: bool
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """E.164 numbers and reasons for the cleaned values the fast path can decide.

    Parameters
    ----------
    distinct : Array of string
        Cleaned phone numbers, distinct.
    national : bool
        Whether "0<digits>" is a Belgian national number (default region BE).

    Returns
    -------
    phone, reason : Array of string, of the same length as ``distinct``
        Null where not decided.
    decided : Array of bool
        Where the fast path decided; elsewhere ``phonenumbers`` must.
    """
    n = len(distinct)
    nothing = pa.nulls(n, pa.string())
    if not _FAST:
        return nothing, nothing, pc.is_valid(nothing)  # nothing decided
    shape = r"^(?:\+32[0-9]{2,}|0[1-9][0-9]*)$" if national else r"^\+32[0-9]{2,}$"
    decided = pc.fill_null(pc.match_substring_regex(distinct, shape), False)
    if not pc.any(decided).as_py():
        return nothing, nothing, decided
    values = pc.filter(distinct, decided).cast(pa.string())
    # A trunk "0" goes only when at least the shortest length is left; the "0?" is
    # greedy, so "+32 0" followed by a short number keeps its "0" (and is invalid).
    full = rf"^(?:\+320?|0)([0-9]{{{_SHORTEST},}})$"
    long = pc.match_substring_regex(values, full)
    nsn = pc.replace_substring_regex(values, full, r"\1")
    valid = pc.and_(long, _valid_nsn(nsn))
    plus = pa.scalar("+32", pa.string())
    phone = null_where(pc.binary_join_element_wise(plus, nsn, pa.scalar("")), pc.invert(valid))
    too_long = pc.and_(long, pc.greater(pc.utf8_length(nsn), _MAX_NSN))
    why = pc.if_else(too_long, "not a phone number", pa.scalar("invalid number"))
    why = null_where(why, valid)
    return (
        pc.replace_with_mask(nothing, decided, phone),
        pc.replace_with_mask(nothing, decided, why),
        decided,
    )


def normalise_phones(
    phones: pd.Series | Iterable[Any], *, region: str = "BE", return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Return phone numbers in E.164 form ("+3292657211"), as ``phonenumbers`` does.

    Separators, "(0)" and a leading "00" are handled in bulk. Belgian numbers
    ("+32..." and, with region "BE", "0...") are then parsed and validated in bulk
    against the ``phonenumbers`` metadata, with the same result as
    ``phonenumbers.parse`` and ``is_valid_number``; ``phonenumbers`` itself parses
    each distinct remaining value (foreign numbers, odd characters) once.

    Parameters
    ----------
    phones : Series of str
        Numbers in any written form; national numbers are read in ``region``.
    region : str, default "BE"
        ISO 3166-1 alpha-2 code for numbers without a country code.
    return_reasons : bool, default False
        Return a DataFrame with columns ``phone`` and ``reason`` instead
        ("not a phone number", "invalid number").

    Returns
    -------
    Series of string[pyarrow], same index and name as ``phones``

    Raises
    ------
    ConfigError
        If ``region`` is not a region that ``phonenumbers`` knows.

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_phones(pd.Series(["09 265 72 11", "+32 (0)475 12 34 56"])).tolist()
    ['+3292657211', '+32475123456']
    """
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"normalise_phones: region {region!r} is unknown; "
            "expected an ISO 3166 code such as 'BE'"
        )
    kernel = partial(_phone_kernel, region=region)
    return run(phones, kernel, return_reasons=return_reasons, as_series=True)


_EMAIL_VALID = f"^[^@{WHITESPACE_CHARS}]+@[^@{WHITESPACE_CHARS}.]+(?:\\.[^@{WHITESPACE_CHARS}.]+)+$"


def _email_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^.*<([^<>]*)>.*$", r"\1")  # "Jan <jan@x.be>"
    text = pc.replace_substring_regex(text, f"^{WHITESPACE}*mailto:", "")
    text = pc.utf8_trim(pc.utf8_trim_whitespace(text), ".,;")
    ats = pc.count_substring(text, "@")
    valid = pc.match_substring_regex(text, _EMAIL_VALID)
    reasons = no_reasons(len(values))
    reasons = keep_reason(reasons, pc.equal(ats, 0), "no @")
    reasons = keep_reason(reasons, pc.greater(ats, 1), "several @")
    reasons = keep_reason(reasons, pc.match_substring_regex(text, WHITESPACE), "contains spaces")
    reasons = keep_reason(reasons, pc.invert(valid), "bad local part or domain")
    email = null_where(text, pc.invert(valid))
    domain = pc.struct_field(pc.extract_regex(email, r"@(?P<domain>.*)$"), "domain")
    return {"email": email, "domain": null_where(domain, pc.is_null(email))}, reasons


def normalise_emails(
    emails: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.DataFrame:
    """Return e-mail addresses lower-cased and trimmed, and their domain.

    "mailto:" and a display name ("Jan <jan@x.be>") are dropped. An address is
    kept if it has one "@", something before it, a dot in the domain and no
    spaces; otherwise both columns are missing.

    Parameters
    ----------
    emails : Series of str
    return_reasons : bool, default False
        Add a ``reason`` column ("no @", "several @", "contains spaces", "bad
        local part or domain").

    Returns
    -------
    DataFrame with columns email, domain, of string[pyarrow], indexed as ``emails``

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_emails(pd.Series([" Info@Bakkerij.BE "])).iloc[0].tolist()
    ['info@bakkerij.be', 'bakkerij.be']
    """
    return run(emails, _email_kernel, return_reasons=return_reasons, as_series=False)


_LABEL = r"[\pL\pN](?:[\pL\pN-]*[\pL\pN])?"
_HOST_VALID = rf"^(?:{_LABEL}\.)+(?:\pL{{2,}}|xn--[a-z0-9-]+)$"


def _website_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^[a-z][a-z0-9+.\-]*:/+|^//", "")
    host = pc.struct_field(
        pc.extract_regex(text, f"^(?P<host>[^/?#\\\\{WHITESPACE_CHARS}]*)"), "host"
    )
    host = pc.replace_substring_regex(host, r"^[^@]*@", "")  # user info
    host = pc.replace_substring_regex(host, r":\d*$", "")  # port
    host = pc.utf8_rtrim(host, ".")
    # "www." goes, unless nothing but a top-level domain would be left ("www.be").
    host = pc.replace_substring_regex(host, r"^(?:www\d*\.)+([^.]+\.)", r"\1")
    host = collapse_whitespace(host)
    valid = pc.match_substring_regex(host, _HOST_VALID)
    reasons = keep_reason(no_reasons(len(values)), pc.is_null(host), "no host")
    reasons = keep_reason(reasons, pc.invert(valid), "not a domain name")
    return {"website": null_where(host, pc.invert(valid))}, reasons


def normalise_websites(
    urls: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Return the host of each web address, lower-cased, without "www.".

    Scheme, user info, port, path, query and fragment go:
    "https://www.Bakkerij-Peeters.be/contact" -> "bakkerij-peeters.be". A host
    must be dot-separated labels ending in a top-level domain of letters (or
    "xn--"); IP addresses and words are missing.

    Parameters
    ----------
    urls : Series of str
    return_reasons : bool, default False
        Return a DataFrame with columns ``website`` and ``reason`` instead ("no
        host", "not a domain name").

    Returns
    -------
    Series of string[pyarrow], same index and name as ``urls``

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_websites(pd.Series(["https://www.Bakkerij-Peeters.be/contact"])).tolist()
    ['bakkerij-peeters.be']
    """
    return run(urls, _website_kernel, return_reasons=return_reasons, as_series=True)
