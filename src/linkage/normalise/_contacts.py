"""Contact details: phone numbers (E.164), e-mail addresses, web hosts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial, reduce
from typing import Any, Literal

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exceptions import ConfigError
from linkage.normalise._core import (
    MAX_CHARS,
    TOO_LONG,
    WHITESPACE,
    WHITESPACE_CHARS,
    Kernel,
    collapse_whitespace,
    finish,
    keep_reason,
    no_reasons,
    null_where,
    run,
    to_arrow,
)

__all__ = ["Keep", "normalise_emails", "normalise_phones", "normalise_websites"]

_E164 = phonenumbers.PhoneNumberFormat.E164
#: The normalisers' logger (:func:`on_uniques` warns there too).
_log = logging.getLogger("linkage.normalise._core")

#: Which numbers :func:`normalise_phones` keeps: those ``phonenumbers`` knows as
#: assigned (``is_valid_number``), or every number of a possible length
#: (``is_possible_number``), valid or not.
Keep = Literal["valid", "possible"]
_KEEP: tuple[Keep, ...] = ("valid", "possible")
#: The reason of a number that parses but is not of a possible length (keep="possible").
WRONG_LENGTH = "wrong length"


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
    values: pa.Array, *, region: str, keep: Keep = "valid"
) -> tuple[dict[str, pa.Array], pa.Array]:
    """``phonenumbers`` on every distinct cleaned value: the slow path, and the
    reference that the fast path is tested against."""
    encoded = _clean_phones(values).dictionary_encode()
    phone, valid, why = _parse_phones(encoded.dictionary, region, keep)
    indices = encoded.indices
    why = keep_reason(pc.take(why, indices), pc.is_null(indices), "not a phone number")
    return {"phone": pc.take(phone, indices), "valid": pc.take(valid, indices)}, why


def _phone_kernel(
    values: pa.Array, *, region: str, keep: Keep = "valid"
) -> tuple[dict[str, pa.Array], pa.Array]:
    # A number written as the fast path reads it ("+32..." or, in BE, "0...": ASCII
    # digits only) is one that cleaning leaves as it is: decided as it comes, in
    # bulk; only the others are cleaned (and deduplicated again) first.
    phone, valid, why, decided = _belgian_fast_path(values, national=region == "BE", keep=keep)
    if pc.all(decided).as_py():
        return {"phone": phone, "valid": valid}, why
    left = pc.invert(decided)
    columns, reasons = _cleaned_kernel(pc.filter(values, left), region=region, keep=keep)
    return {
        "phone": pc.replace_with_mask(phone, left, columns["phone"]),
        "valid": pc.replace_with_mask(valid, left, columns["valid"]),
    }, pc.replace_with_mask(why, left, reasons)


def _cleaned_kernel(
    values: pa.Array, *, region: str, keep: Keep = "valid"
) -> tuple[dict[str, pa.Array], pa.Array]:
    """The phone kernel on values cleaned first: the fast path, then ``phonenumbers``."""
    # Separators are gone, so "09 123 45 67" and "09/123.45.67" share one parse.
    encoded = _clean_phones(values).dictionary_encode()
    distinct = encoded.dictionary
    phone, valid, why, decided = _belgian_fast_path(distinct, national=region == "BE", keep=keep)
    if not pc.all(decided).as_py():
        # Foreign numbers, odd characters: the one per-value loop, over what is left.
        left = pc.invert(decided)
        slow_phone, slow_valid, slow_why = _parse_phones(pc.filter(distinct, left), region, keep)
        phone = pc.replace_with_mask(phone, left, slow_phone)
        valid = pc.replace_with_mask(valid, left, slow_valid)
        why = pc.replace_with_mask(why, left, slow_why)
    indices = encoded.indices
    why = keep_reason(pc.take(why, indices), pc.is_null(indices), "not a phone number")
    return {"phone": pc.take(phone, indices), "valid": pc.take(valid, indices)}, why


def _parse_phones(distinct: pa.Array, region: str, keep: Keep) -> tuple[pa.Array, ...]:
    """E.164 numbers, validity and reasons of distinct cleaned values, one parse each."""
    parsed = [_parse_phone(raw, region, keep) for raw in distinct.to_pylist()]
    numbers, valid, reasons = zip(*parsed, strict=True) if parsed else ((), (), ())
    return (
        pa.array(numbers, pa.string()),
        pa.array(valid, pa.bool_()),
        pa.array(reasons, pa.string()),
    )


def _parse_phone(raw: str, region: str, keep: Keep) -> tuple[str | None, bool | None, str | None]:
    """One value's E.164 form (or None), whether it is valid (None if unparsed), and
    why it is None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, None, "not a phone number"
    valid = phonenumbers.is_valid_number(number)
    if keep == "valid" and not valid:
        return None, False, "invalid number"
    # Leading zeros in the national number: its E.164 form would read again as a
    # trunk 0 and a shorter number.
    if not valid and (number.italian_leading_zero or not phonenumbers.is_possible_number(number)):
        return None, False, WRONG_LENGTH
    return phonenumbers.format_number(number, _E164), valid, None


# The fast path repeats, in Arrow kernels, what ``phonenumbers.parse``,
# ``is_valid_number`` and ``is_possible_number`` do to a cleaned "+32<digits>" (any
# default region) or, with default region BE, "0<digits>" (a leading "00" is
# already "+"):
#
# - "+32": country code 32 goes; a trunk "0" after it goes too, but only when at
#   least the shortest Belgian length is left ("+32 09 ..." is "+32 9 ...");
# - "0": the trunk "0" goes when at least the shortest length is left, otherwise
#   it stays, part of the national significant number (NSN);
# - an NSN of more than 17 digits fails to parse; any other is valid if it matches
#   the general pattern and the pattern of one number type, each with its possible
#   lengths: the same regexes, from the same metadata, here run by RE2; and it is
#   possible if its length is one of the general possible lengths (none local-only).
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
_POSSIBLE = tuple(_BE.general_desc.possible_length) if _BE.general_desc is not None else ()


def _valid_nsn(nsn: pa.Array) -> pa.Array:
    """Whether each Belgian NSN (ASCII digits) is valid, as ``is_valid_number``: of a
    general possible length, matching the general pattern and that of one number
    type of that length. Two searches per length: the general pattern, and the
    types' patterns as one alternation."""
    length = pc.utf8_length(nsn).to_numpy(zero_copy_only=False)
    valid = np.zeros(len(nsn), dtype=bool)
    general = _BE.general_desc
    if general is None:  # not the fast path's premise (:func:`_fast_path_holds`)
        return pa.array(valid)
    for size in general.possible_length:  # some, the fast path's premise
        patterns = [
            f"(?:{desc.national_number_pattern})"
            for desc in _TYPE_DESCS
            if not desc.possible_length or size in desc.possible_length
        ]
        at = np.flatnonzero(length == size)
        if not patterns or not at.size:
            continue
        some = nsn.take(pa.array(at))
        hit = pc.and_(
            pc.match_substring_regex(some, f"^(?:{general.national_number_pattern})$"),
            pc.match_substring_regex(some, f"^(?:{'|'.join(patterns)})$"),
        )
        valid[at] = hit.to_numpy(zero_copy_only=False)
    return pa.array(valid)


def _reference_valid_nsn(nsn: pa.Array) -> pa.Array:
    """:func:`_valid_nsn` a pattern at a time: each type's test as ``phonenumbers``
    makes it (the reference for tests)."""

    def matches(desc: Any) -> pa.Array:
        hit = pc.match_substring_regex(nsn, f"^(?:{desc.national_number_pattern})$")
        if desc.possible_length:
            lengths = pa.array(desc.possible_length, length.type)
            hit = pc.and_(hit, pc.is_in(length, value_set=lengths))
        return hit

    length = pc.utf8_length(nsn)
    valid = matches(_BE.general_desc)
    return pc.and_(valid, reduce(pc.or_, [matches(desc) for desc in _TYPE_DESCS]))


def _belgian_nsn(values: pa.Array) -> pa.Array:
    """The NSN of cleaned "+32<digits>" and "0<digits>" (ASCII, non-null) values: what
    follows "+32", less a trunk "0" after it, or a national number less its trunk
    "0"; a trunk "0" stays where fewer than the shortest length would be left.
    The bytes are cut by numpy, no regex (the first bytes say what goes)."""
    wide = pa.types.is_large_string(values.type)
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    if data is None or not len(values):
        return values.cast(pa.string())
    starts, size = offsets[:-1], np.diff(offsets)
    plus = data[starts] == ord("+")
    trunk = data[np.minimum(starts + np.where(plus, 3, 0), offsets[-1] - 1)] == ord("0")
    kept = size - np.where(plus, 3, 0)  # digits after "+32", or the national number's
    skip = np.where(plus, 3, 0) + (trunk & (kept - 1 >= _SHORTEST))
    drop = np.zeros(int(offsets[-1] - offsets[0]), dtype=bool)
    for k in range(int(skip.max(initial=0))):
        drop[starts[skip > k] + k - offsets[0]] = True
    cut = data[offsets[0] : offsets[-1]][~drop]
    bounds = np.concatenate([[0], np.cumsum(size - skip)]).astype(np.int32)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(bounds), pa.py_buffer(cut))


def _belgian_fast_path(
    distinct: pa.Array, *, national: bool, keep: Keep = "valid"
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """E.164 numbers, validity and reasons for the cleaned values the fast path can decide.

    Parameters
    ----------
    distinct : Array of string
        Cleaned phone numbers, distinct.
    national : bool
        Whether "0<digits>" is a Belgian national number (default region BE).
    keep : {"valid", "possible"}
        Which numbers keep their E.164 form (see :func:`normalise_phones`).

    Returns
    -------
    phone : Array of string
    valid : Array of bool
    reason : Array of string
        Of the same length as ``distinct``; null where not decided.
    decided : Array of bool
        Where the fast path decided; elsewhere ``phonenumbers`` must.
    """
    n = len(distinct)
    nothing = pa.nulls(n, pa.string())
    unknown = pa.nulls(n, pa.bool_())
    if not _FAST:
        return nothing, unknown, nothing, pc.is_valid(nothing)  # nothing decided
    shape = r"^(?:\+32[0-9]{2,}|0[1-9][0-9]*)$" if national else r"^\+32[0-9]{2,}$"
    decided = pc.fill_null(pc.match_substring_regex(distinct, shape), False)
    if not pc.any(decided).as_py():
        return nothing, unknown, nothing, decided
    values = pc.filter(distinct, decided).cast(pa.string())
    phone, valid, why = _belgian_numbers(_belgian_nsn(values), keep)
    return (
        pc.replace_with_mask(nothing, decided, phone),
        pc.replace_with_mask(unknown, decided, valid),
        pc.replace_with_mask(nothing, decided, why),
        decided,
    )


def _belgian_numbers(nsn: pa.Array, keep: Keep) -> tuple[pa.Array, pa.Array, pa.Array]:
    """E.164 numbers, validity and reasons of Belgian NSNs (see
    :func:`_belgian_fast_path`)."""
    valid = _valid_nsn(nsn)
    length = pc.utf8_length(nsn)
    too_long = pc.greater(length, _MAX_NSN)
    if keep == "valid":
        kept = valid
        why = pc.if_else(too_long, "not a phone number", pa.scalar("invalid number"))
    else:
        # A number starting with 0 after the trunk 0 is dropped: "+32" and it would
        # read again as a trunk 0 and a shorter number (a normaliser is a fixed point).
        possible = pc.and_(
            pc.is_in(length, value_set=pa.array(_POSSIBLE, length.type)),
            pc.invert(pc.starts_with(nsn, "0")),
        )
        kept = pc.or_(valid, possible)
        why = pc.if_else(too_long, "not a phone number", pa.scalar(WRONG_LENGTH))
    plus = pa.scalar("+32", pa.string())
    phone = null_where(pc.binary_join_element_wise(plus, nsn, pa.scalar("")), pc.invert(kept))
    return phone, null_where(valid, too_long), null_where(why, kept)


def normalise_phones(
    phones: pd.Series | Iterable[Any],
    *,
    region: str = "BE",
    keep: Keep = "valid",
    return_reasons: bool = False,
) -> pd.Series | pd.DataFrame:
    """Return phone numbers in E.164 form ("+3292657211"), as ``phonenumbers`` does.

    Separators, "(0)" and a leading "00" are handled in bulk. Belgian numbers
    ("+32..." and, with region "BE", "0...") are then parsed and checked in bulk
    against the ``phonenumbers`` metadata, with the same result as
    ``phonenumbers.parse``, ``is_valid_number`` and ``is_possible_number``;
    ``phonenumbers`` itself parses each distinct remaining value (foreign numbers,
    odd characters) once.

    Parameters
    ----------
    phones : Series of str
        Numbers in any written form; national numbers are read in ``region``.
    region : str, default "BE"
        ISO 3166-1 alpha-2 code for numbers without a country code.
    keep : {"valid", "possible"}, default "valid"
        ``"valid"`` keeps the numbers in the ranges ``phonenumbers`` knows as
        assigned, what a quality check asks. ``"possible"`` keeps every number of
        a possible length for its country, valid or not, what linkage asks: a
        number in a range assigned after the metadata was written ("03 907 37 57")
        is still the same number on both sides.
    return_reasons : bool, default False
        Return a DataFrame instead, with columns ``phone``, ``reason`` (why a
        present value is missing: "not a phone number", and "invalid number" or,
        with ``keep="possible"``, "wrong length") and, with ``keep="possible"``,
        ``valid`` (boolean: whether the number is valid; missing where it did not
        parse), so that validity is reported apart from what is kept.

    Returns
    -------
    Series of string[pyarrow], same index and name as ``phones``

    Raises
    ------
    ConfigError
        If ``region`` is not a region that ``phonenumbers`` knows, or ``keep``
        is not "valid" or "possible".

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_phones(pd.Series(["09 265 72 11", "+32 (0)475 12 34 56"])).tolist()
    ['+3292657211', '+32475123456']
    >>> normalise_phones(pd.Series(["03 907 37 57"])).tolist()  # not an assigned range
    [<NA>]
    >>> normalise_phones(pd.Series(["03 907 37 57"]), keep="possible").tolist()
    ['+3239073757']
    """
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"normalise_phones: region {region!r} is unknown; "
            "expected an ISO 3166 code such as 'BE'"
        )
    if keep not in _KEEP:
        raise ConfigError(
            f"normalise_phones: keep must be one of {', '.join(map(repr, _KEEP))}, not {keep!r}"
        )
    kernel = partial(_phone_kernel, region=region, keep=keep)
    return _phones(phones, kernel, keep=keep, return_reasons=return_reasons)


def _phones(
    phones: pd.Series | Iterable[Any], kernel: Kernel, *, keep: Keep, return_reasons: bool
) -> pd.Series | pd.DataFrame:
    """Run a phone kernel (fast or reference) and build the result of ``normalise_phones``."""
    arr, index, name = to_arrow(phones)
    columns, reasons = _on_present(arr, kernel, name=name)
    valid = columns.pop("valid")
    out = finish(columns, reasons, index, name, return_reasons=return_reasons, as_series=True)
    if return_reasons and keep == "possible":
        out.insert(1, "valid", pd.array(valid.to_pandas(), dtype="boolean"))
    return out


def _on_present(
    arr: pa.Array, kernel: Kernel, *, name: Any = None
) -> tuple[dict[str, pa.Array], pa.Array]:
    """:func:`on_uniques` without its dictionary: the kernel on every present value.
    Nearly every phone number of a column is distinct, and the phone kernel
    deduplicates what it cleans and parses itself; a value over :data:`MAX_CHARS`
    is left out as there (missing, its reason ``TOO_LONG``, the same warning)."""
    present = pc.is_valid(arr)
    too_long = pc.fill_null(pc.greater(pc.utf8_length(arr), MAX_CHARS), False)
    capped = pc.any(too_long).as_py()
    if capped:
        _log.warning(
            "%s: %s value(s) %s left out (as missing)",
            "a column" if name is None else f"column {name!r}",
            f"{pc.sum(too_long).as_py():,}",
            TOO_LONG,
        )
    columns, reasons = kernel(pc.filter(null_where(arr, too_long), present))
    if capped:
        reasons = pc.if_else(pc.filter(too_long, present), TOO_LONG, reasons)

    def back(values: pa.Array) -> pa.Array:
        return pc.replace_with_mask(pa.nulls(len(arr), values.type), present, values)

    return {key: back(column) for key, column in columns.items()}, back(reasons)


_EMAIL_VALID = f"^[^@{WHITESPACE_CHARS}]+@[^@{WHITESPACE_CHARS}.]+(?:\\.[^@{WHITESPACE_CHARS}.]+)+$"


def _email_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.utf8_lower(values)
    # A display name ("Jan <jan@x.be>") needs a "<", "mailto:" its letters: each
    # rewrite runs only on the values that hold what it looks for.
    text = _rewrite_where(text, "<", r"^.*<([^<>]*)>.*$", r"\1")
    text = _rewrite_where(text, "mailto:", f"^{WHITESPACE}*mailto:", "")
    text = pc.utf8_trim(pc.utf8_trim_whitespace(text), ".,;")
    valid = pc.fill_null(pc.match_substring_regex(text, _EMAIL_VALID), False)
    reasons = no_reasons(len(values))
    if not pc.all(valid).as_py():  # why, for the few that are not
        bad = pc.invert(valid)
        reasons = pc.replace_with_mask(reasons, bad, _email_reasons(text.filter(bad)))
    email = null_where(text, pc.invert(valid))
    # A valid address holds one "@": its domain is what follows it.
    domain = pc.list_element(pc.split_pattern(email, "@", max_splits=1), 1)
    return {"email": email, "domain": domain}, reasons


def _rewrite_where(text: pa.Array, needle: str, pattern: str, replacement: str) -> pa.Array:
    """``replace_substring_regex`` on the values that hold ``needle`` (without it,
    ``pattern`` does not match)."""
    holds = pc.fill_null(pc.match_substring(text, needle), False)
    if not pc.any(holds).as_py():
        return text
    rewritten = pc.replace_substring_regex(text.filter(holds), pattern, replacement)
    return pc.replace_with_mask(text, holds, rewritten)


def _email_reasons(text: pa.Array) -> pa.Array:
    """Why each of these (cleaned, not valid) e-mail addresses is not valid."""
    ats = pc.count_substring(text, "@")
    reasons = keep_reason(no_reasons(len(text)), pc.equal(ats, 0), "no @")
    reasons = keep_reason(reasons, pc.greater(ats, 1), "several @")
    reasons = keep_reason(reasons, pc.match_substring_regex(text, WHITESPACE), "contains spaces")
    return keep_reason(reasons, pc.is_valid(text), "bad local part or domain")


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
