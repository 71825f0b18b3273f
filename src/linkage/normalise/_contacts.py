"""Contact details: phone numbers (E.164), e-mail addresses, web hosts."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exceptions import ConfigError
from linkage.normalise._core import collapse, keep_reason, no_reasons, null_where, run

__all__ = ["normalise_emails", "normalise_phones", "normalise_websites"]

_E164 = phonenumbers.PhoneNumberFormat.E164


def _phone_kernel(values: pa.Array, *, region: str) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^(\+?\d+)\.0+$", r"\1")  # read as a float
    # "+32 (0)9 ..." carries the trunk 0 that E.164 drops.
    text = pc.replace_substring(text, "(0)", "")
    text = pc.replace_substring_regex(text, r"[\s./()\-\x{a0}]+", "")
    text = pc.replace_substring_regex(text, "^00", "+")
    # Separators are gone, so "09 123 45 67" and "09/123.45.67" share one parse.
    encoded = null_where(text, pc.equal(text, "")).dictionary_encode()
    numbers: list[str | None] = []
    reasons: list[str | None] = []
    for raw in encoded.dictionary.to_pylist():  # the one per-value loop, over distinct values
        number, reason = _parse_phone(raw, region)
        numbers.append(number)
        reasons.append(reason)
    indices = encoded.indices
    phone = pc.take(pa.array(numbers, pa.string()), indices)
    why = pc.take(pa.array(reasons, pa.string()), indices)
    why = keep_reason(why, pc.is_null(indices), "not a phone number")
    return {"phone": phone}, why


def _parse_phone(raw: str, region: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid number"
    return phonenumbers.format_number(number, _E164), None


def normalise_phones(
    phones: pd.Series | Iterable[Any], *, region: str = "BE", return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Return phone numbers in E.164 form ("+3291234567"), with ``phonenumbers``.

    Separators, "(0)" and a leading "00" are handled in bulk; ``phonenumbers``
    then parses each distinct remaining value once.

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


_EMAIL_VALID = r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$"


def _email_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^.*<([^<>]*)>.*$", r"\1")  # "Jan <jan@x.be>"
    text = pc.replace_substring_regex(text, r"^\s*mailto:", "")
    text = pc.utf8_trim(pc.utf8_trim_whitespace(text), ".,;")
    ats = pc.count_substring(text, "@")
    valid = pc.match_substring_regex(text, _EMAIL_VALID)
    reasons = no_reasons(len(values))
    reasons = keep_reason(reasons, pc.equal(ats, 0), "no @")
    reasons = keep_reason(reasons, pc.greater(ats, 1), "several @")
    reasons = keep_reason(reasons, pc.match_substring_regex(text, r"\s"), "contains spaces")
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
    host = pc.struct_field(pc.extract_regex(text, r"^(?P<host>[^/?#\\\s]*)"), "host")
    host = pc.replace_substring_regex(host, r"^[^@]*@", "")  # user info
    host = pc.replace_substring_regex(host, r":\d*$", "")  # port
    host = pc.utf8_rtrim(host, ".")
    # "www." goes, unless nothing but a top-level domain would be left ("www.be").
    host = pc.replace_substring_regex(host, r"^(?:www\d*\.)+([^.]+\.)", r"\1")
    host = collapse(host)
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
