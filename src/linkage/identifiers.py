"""Belgian identifiers: enterprise numbers, establishment-unit numbers, national numbers.

Enterprise numbers (KBO/BCE, *ondernemingsnummer*) and establishment-unit numbers
(*vestigingseenheidsnummer*) are parsed from any common written form to their
canonical 10 digits and checked: the last two digits are ``97 - (first eight mod 97)``;
an enterprise number starts with 0 or 1, an establishment-unit number with 2 to 8.

National register numbers and BIS numbers are *detected* (by :mod:`linkage.national`,
the one detector) so that later stages can refuse them as key material. No function
here ever puts the value of an identifier in a message: an enterprise number of a
sole proprietorship identifies a person.

Each check has a scalar form in plain Python (the reference) and a vectorised form
over a pandas Series (the fast kernel, on Arrow compute); tests hold them equal.

Any value is accepted and none raises: a value is read as text by one rule in both
forms (:func:`_as_text`): bytes as UTF-8, a whole float as its integer (``403170701.0``
is ``403170701``), anything else by ``str``. What cannot be read so is invalid with a
reason, never an exception: bytes that are not UTF-8 and text with a lone surrogate
(a file decoded with ``surrogateescape``) are "not text", and a float with a fraction,
or an infinite one, is "not a whole number".

>>> parse_enterprise_number("BE 0403.170.701")
'0403170701'
>>> format_enterprise_number("403170701")
'0403.170.701'
>>> is_national_register_number("85.07.30-033.28")
True
"""

from __future__ import annotations

import re
from typing import Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.exceptions import InvalidIdentifier
from linkage.national import contains_national_number, national_number_mask
from linkage.normalise._core import WHITESPACE_CHARS

__all__ = [
    "LEADING_DIGITS",
    "enterprise_number_reasons",
    "establishment_number_reasons",
    "format_enterprise_number",
    "format_establishment_number",
    "is_national_register_number",
    "national_register_mask",
    "number_digits",
    "parse_enterprise_number",
    "parse_enterprise_numbers",
    "parse_establishment_number",
    "parse_establishment_numbers",
]

Kind = Literal["enterprise", "establishment"]
Errors = Literal["coerce", "raise"]

# Reasons, by code; 0 is valid, 1 is missing (not an error: missing stays missing).
REASONS = (
    "",
    "",
    "characters other than digits",
    "wrong length",
    "wrong leading digit",
    "check digits do not match (mod 97)",
    "an establishment-unit number, not an enterprise number",
    "an enterprise number, not an establishment-unit number",
    "not text (bytes that are not UTF-8, or a lone surrogate)",
    "not a whole number",
)
(
    _OK,
    _MISSING,
    _CHARS,
    _LENGTH,
    _LEADING,
    _CHECK,
    _IS_ESTABLISHMENT,
    _IS_ENTERPRISE,
    _NOT_TEXT,
    _FRACTION,
) = range(10)
#: The first digit a valid number may have, lowest and highest, by kind.
LEADING_DIGITS: dict[Kind, tuple[int, int]] = {"enterprise": (0, 1), "establishment": (2, 8)}
_LABEL = {"enterprise": "enterprise number", "establishment": "establishment-unit number"}

# One pattern for both kernels (Python re and Arrow's RE2), so that they agree:
# separators are white space (every Unicode space, as linkage.normalise counts it:
# RE2's \s would be ASCII only), dots, dashes and slashes. Both kernels first trim
# the same white space (str.strip() and utf8_trim_whitespace).
_CLEAN_PATTERN = f"(?i)^BE|^\\(0\\)|[{WHITESPACE_CHARS}.\\-/]"
_CLEAN = re.compile(_CLEAN_PATTERN)
#: A whole number written as a float ("403170701.0"): its digits, not a separator.
_FLOAT_TEXT, _FLOAT_DIGITS = r"^([0-9]+)\.0+$", r"\1"


# --------------------------------------------------------------------------- scalar


def _as_text(value: object, *, floats: bool = True) -> str | int:
    """The text of one value, or the reason code of a value that has none.

    The one rule both kernels follow (:func:`_texts` is its vectorised form):
    missing values (None, NA, NaN, NaT) are ``_MISSING``; bytes are UTF-8 or
    ``_NOT_TEXT``; a string with a lone surrogate is ``_NOT_TEXT``; a whole finite
    float is its integer's digits, any other float ``_FRACTION`` (or ``_MISSING``
    for every float when ``floats`` is false); anything else is ``str(value)``.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _NOT_TEXT
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return _NOT_TEXT
    missing = pd.isna(value)
    if isinstance(missing, (bool, np.bool_)) and missing:
        return _MISSING
    if isinstance(value, (float, np.floating)):
        if not floats:
            return _MISSING
        number = float(value)
        if not np.isfinite(number) or number % 1:
            return _FRACTION
        return str(int(number))
    return str(value)


def _clean(text: str) -> str:
    """Drop separators and a leading ``BE`` or ``(0)``."""
    return _CLEAN.sub("", re.sub(_FLOAT_TEXT, _FLOAT_DIGITS, text.strip()))


def _check_one(value: object, kind: Kind) -> tuple[str | None, int]:
    text = _as_text(value)
    if isinstance(text, int):
        return None, text
    digits = _clean(text)
    if not digits:
        return None, _MISSING
    if not (digits.isascii() and digits.isdigit()):
        return None, _CHARS
    if kind == "enterprise" and len(digits) == 9:
        digits = "0" + digits  # the legacy 9-digit form
    if len(digits) != 10:
        return None, _LENGTH
    if int(digits[-2:]) != 97 - int(digits[:8]) % 97:
        return None, _CHECK
    low, high = LEADING_DIGITS[kind]
    if not low <= int(digits[0]) <= high:
        if int(digits[0]) <= 8:
            return None, _IS_ESTABLISHMENT if kind == "enterprise" else _IS_ENTERPRISE
        return None, _LEADING
    return digits, _OK


def _parse_one(text: object, kind: Kind) -> str:
    canonical, code = _check_one(text, kind)
    if canonical is None:
        reason = "missing" if code == _MISSING else REASONS[code]
        raise InvalidIdentifier(f"invalid {_LABEL[kind]}: {reason}", reason=reason)
    return canonical


def parse_enterprise_number(text: object) -> str:
    """Canonical 10 digits of an enterprise number written in any common form.

    Accepts ``0403.170.701``, ``0403170701``, ``BE0403170701``, ``BE 0403 170 701``,
    ``0403-170-701`` and the legacy nine-digit ``403170701``.

    Raises
    ------
    InvalidIdentifier
        With ``reason`` set to what is wrong: characters, length, leading digit or
        check digits. The message never contains the value.
    """
    return _parse_one(text, "enterprise")


def parse_establishment_number(text: object) -> str:
    """Canonical 10 digits of an establishment-unit number (first digit 2 to 8).

    Raises
    ------
    InvalidIdentifier
        As :func:`parse_enterprise_number`.
    """
    return _parse_one(text, "establishment")


def format_enterprise_number(text: str | int) -> str:
    """Dotted display form ``0403.170.701`` of a valid enterprise number."""
    d = parse_enterprise_number(text)
    return f"{d[:4]}.{d[4:7]}.{d[7:]}"


def format_establishment_number(text: str | int) -> str:
    """Dotted display form ``2.123.456.789`` of a valid establishment-unit number."""
    d = parse_establishment_number(text)
    return f"{d[0]}.{d[1:4]}.{d[4:7]}.{d[7:]}"


def is_national_register_number(text: object) -> bool:
    """Whether ``text`` holds a valid national register number or BIS number.

    :func:`linkage.national.contains_national_number`, the one detector: any value
    (text, a number, bytes), any separators and Unicode digits, a number inside
    text (``RRN 85073003328``); a mobile written as ``+32 4..`` is a phone.
    """
    return contains_national_number(text)


# ----------------------------------------------------------------------- vectorised


def _texts(values: pd.Series, *, floats: bool = True) -> tuple[pa.StringArray, NDArray[np.int8]]:
    """Vectorised :func:`_as_text`: the text of each value (null where it has none)
    and a code per value, 0 for text, else the reason it has none.

    Columns of text, whole numbers and floats take Arrow's casts; only a column
    that mixes kinds of value, or holds text Arrow refuses (bytes that are not
    UTF-8, a lone surrogate), is read value by value, by the scalar rule itself.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _texts_by_value(values, floats=floats)
    if pd.api.types.is_float_dtype(dtype):
        return _float_texts(values.to_numpy(dtype=np.float64, na_value=np.nan), floats=floats)
    if pd.api.types.is_integer_dtype(dtype):
        return _present(pc.cast(_one_chunk(pa.Array.from_pandas(values)), pa.string()))
    if isinstance(dtype, pd.StringDtype) and dtype.storage != "python":
        return _present(_one_chunk(pa.array(values.array)).cast(pa.string()))
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "bytes", "empty"):
        try:
            return _present(
                pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError):
            pass  # bytes that are not UTF-8, a lone surrogate: by value below
    elif kind == "floating":
        return _float_texts(values.to_numpy(dtype=np.float64, na_value=np.nan), floats=floats)
    return _texts_by_value(values, floats=floats)


def _one_chunk(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _present(text: pa.StringArray) -> tuple[pa.StringArray, NDArray[np.int8]]:
    """The codes of an array that is all text: missing where null."""
    return text, np.where(text.is_null().to_numpy(zero_copy_only=False), _MISSING, _OK).astype(
        np.int8
    )


def _float_texts(
    numbers: NDArray[np.float64], *, floats: bool
) -> tuple[pa.StringArray, NDArray[np.int8]]:
    """Whole floats as their integers' digits; NaN missing; the rest not whole."""
    if not floats:
        return pa.nulls(len(numbers), pa.string()), np.full(len(numbers), _MISSING, np.int8)
    nan = np.isnan(numbers)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (np.mod(numbers, 1) == 0)
    small = whole & (np.abs(numbers) < 2.0**63)
    text = pc.cast(pa.array(np.where(small, numbers, 0).astype(np.int64), mask=~small), pa.string())
    huge = np.flatnonzero(whole & ~small)
    if huge.size:  # beyond int64 (1e20): Python's exact integers, for these few
        exact = np.full(len(numbers), None, dtype=object)
        exact[huge] = [str(int(numbers[i])) for i in huge]
        text = pc.coalesce(text, pa.array(exact, type=pa.string()))
    codes = np.select([nan, ~whole], [_MISSING, _FRACTION], default=_OK).astype(np.int8)
    return text, codes


def _texts_by_value(values: pd.Series, *, floats: bool) -> tuple[pa.StringArray, NDArray[np.int8]]:
    """:func:`_as_text` value by value: for columns that mix kinds or hold bad text."""
    read = [_as_text(v, floats=floats) for v in values.to_numpy(dtype=object)]
    text = pa.array([r if isinstance(r, str) else None for r in read], type=pa.string())
    codes = np.array([_OK if isinstance(r, str) else r for r in read], dtype=np.int8)
    return text, codes


def _cleaned(values: pd.Series, *, pad_nine: bool) -> tuple[pa.StringArray, NDArray[np.int8]]:
    """Separators and prefixes dropped; a nine-digit value gets its leading zero back.

    Also the codes of :func:`_texts` (0 where the value was read as text)."""
    raw, codes = _texts(values)
    # Ten ASCII digits (most numbers as sent) are clean already: the patterns only
    # for the others.
    plain = pc.and_(pc.equal(pc.utf8_length(raw), 10), pc.ascii_is_decimal(raw))
    rest = pc.invert(pc.fill_null(plain, False))
    whole = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(raw.filter(rest)), _FLOAT_TEXT, _FLOAT_DIGITS
    )
    cleaned = pc.replace_with_mask(raw, rest, pc.replace_substring_regex(whole, _CLEAN_PATTERN, ""))
    if pad_nine:
        nine = pc.equal(pc.utf8_length(cleaned), 9)
        cleaned = pc.if_else(nine, pc.utf8_lpad(cleaned, 10, "0"), cleaned)
    return cleaned, codes


def _check_many(values: pd.Series, kind: Kind) -> tuple[pa.StringArray, np.ndarray]:
    """Canonical numbers (null where not valid) and a reason code per value."""
    cleaned, read = _cleaned(values, pad_nine=kind == "enterprise")
    missing = pc.fill_null(pc.equal(pc.utf8_length(cleaned), 0), True).to_numpy(
        zero_copy_only=False
    )
    digits_only = pc.fill_null(pc.ascii_is_decimal(cleaned), False)
    length = pc.fill_null(pc.utf8_length(cleaned), 0).to_numpy(zero_copy_only=False)
    digits_only = digits_only.to_numpy(zero_copy_only=False)
    candidate = digits_only & (length == 10)

    numbers = pc.cast(pc.if_else(pa.array(candidate), cleaned, "0"), pa.int64()).to_numpy()
    check_ok = numbers % 100 == 97 - (numbers // 100) % 97
    leading = numbers // 1_000_000_000
    low, high = LEADING_DIGITS[kind]
    leading_ok = (leading >= low) & (leading <= high)
    other_kind = _IS_ESTABLISHMENT if kind == "enterprise" else _IS_ENTERPRISE

    codes = np.select(
        [
            missing,
            ~digits_only,
            length != 10,
            ~check_ok,
            ~leading_ok & (leading <= 8),
            ~leading_ok,
        ],
        [_MISSING, _CHARS, _LENGTH, _CHECK, other_kind, _LEADING],
        default=_OK,
    ).astype(np.int8)
    codes = np.where(read == _OK, codes, read).astype(np.int8)
    canonical = pc.if_else(pa.array(codes == _OK), cleaned, pa.scalar(None, pa.string()))
    return canonical, codes


def _reason_series(codes: np.ndarray, index: pd.Index) -> pd.Series:
    categories = pd.CategoricalDtype(list(REASONS[2:]))
    reasons = pd.Categorical.from_codes(np.where(codes >= 2, codes - 2, -1), dtype=categories)
    return pd.Series(reasons, index=index, name="reason")


def _raise_first(values: pd.Series, codes: np.ndarray, kind: Kind) -> None:
    bad = np.flatnonzero(codes >= 2)
    if bad.size:
        column = None if values.name is None else str(values.name)
        # The row is the index label, the caller's numbering; one that is not a
        # number goes into the text.
        label = values.index[bad[0]]
        row = int(label) if isinstance(label, (int, np.integer)) else None
        at = "" if row is not None else f"row {label!r}: "
        more = f" (and {bad.size - 1:,} more rows)" if bad.size > 1 else ""
        reason = REASONS[codes[bad[0]]]
        raise InvalidIdentifier(
            f"{at}invalid {_LABEL[kind]}: {reason}{more}", reason=reason, column=column, row=row
        )


@overload
def _parse_many(
    values: pd.Series, kind: Kind, errors: Errors, return_reasons: Literal[False]
) -> pd.Series: ...
@overload
def _parse_many(
    values: pd.Series, kind: Kind, errors: Errors, return_reasons: Literal[True]
) -> pd.DataFrame: ...
@overload
def _parse_many(
    values: pd.Series, kind: Kind, errors: Errors, return_reasons: bool
) -> pd.Series | pd.DataFrame: ...
def _parse_many(
    values: pd.Series, kind: Kind, errors: Errors, return_reasons: bool
) -> pd.Series | pd.DataFrame:
    canonical, codes = _check_many(values, kind)
    if errors == "raise":
        _raise_first(values, codes, kind)
    elif errors != "coerce":
        raise ValueError(f"errors must be 'coerce' or 'raise', not {errors!r}")
    parsed = pd.Series(pd.arrays.ArrowStringArray(canonical), index=values.index, name=values.name)
    if not return_reasons:
        return parsed
    return pd.DataFrame({"number": parsed, "reason": _reason_series(codes, values.index)})


def parse_enterprise_numbers(
    values: pd.Series, *, errors: Errors = "coerce", return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Canonical 10-digit enterprise numbers of a column, in any written form.

    Parameters
    ----------
    values : Series of str, int or float
        Numbers as written; missing values stay missing.
    errors : {"coerce", "raise"}
        ``"coerce"`` makes an invalid number missing; ``"raise"`` raises
        :class:`InvalidIdentifier` naming the column and the first invalid row.
    return_reasons : bool
        Return a DataFrame with columns ``number`` and ``reason`` (categorical,
        missing where the number is valid or was missing).

    Returns
    -------
    Series of string[pyarrow], or DataFrame
        Same index as ``values``.
    """
    return _parse_many(values, "enterprise", errors, return_reasons)


def parse_establishment_numbers(
    values: pd.Series, *, errors: Errors = "coerce", return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Canonical 10-digit establishment-unit numbers; as :func:`parse_enterprise_numbers`."""
    return _parse_many(values, "establishment", errors, return_reasons)


def enterprise_number_reasons(values: pd.Series) -> pd.Series:
    """Why each enterprise number is invalid (categorical; missing where valid)."""
    return parse_enterprise_numbers(values, return_reasons=True)["reason"]


def establishment_number_reasons(values: pd.Series) -> pd.Series:
    """Why each establishment-unit number is invalid (categorical; missing where valid)."""
    return parse_establishment_numbers(values, return_reasons=True)["reason"]


def number_digits(values: pd.Series) -> pd.Series:
    """The digits of enterprise or unit numbers as written, valid or not.

    Separators, ``BE`` and ``(0)`` go and a nine-digit value gets its leading zero
    back, as in :func:`parse_enterprise_numbers`, but the check digits are not
    checked: a mistyped number keeps its digits, so that it can still be compared
    by edit distance. Missing where anything but digits remains.
    """
    cleaned, _ = _cleaned(values, pad_nine=True)
    kept = pc.if_else(pc.ascii_is_decimal(cleaned), cleaned, pa.scalar(None, pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(kept), index=values.index, name=values.name)


def national_register_mask(values: pd.Series) -> pd.Series:
    """True where a value holds a valid national register or BIS number.

    :func:`linkage.national.national_number_mask`, the vectorised form of
    :func:`is_national_register_number`: same rule, same result, any dtype.
    """
    return national_number_mask(values)
