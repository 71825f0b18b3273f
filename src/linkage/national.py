"""National register numbers and BIS numbers: the one detector, for every check.

The protocol (art. 3) forbids national register numbers (*rijksregisternummer*,
``YYMMDD SSS CC``) and BIS numbers (the same, month field + 20 or + 40) anywhere in a
delivery and as key material. Everything that must refuse or withhold one asks this
module: :func:`contains_national_number` for one value (the reference, plain Python,
character by character) and :func:`national_number_mask` for a column (the kernel:
Arrow and numpy, no Python per value), held equal by a property test.

The rule, exactly
-----------------
1. **Reading a value.** Text as it is; bytes as UTF-8 (an undecodable byte reads as
   U+FFFD); an integer, or a whole finite float, as its decimal digits
   (``85073003328.0`` is ``"85073003328"``: a float column is checked like any
   other); any other object by ``str``. Missing values, booleans, dates and times,
   fractional, infinite and NaN floats hold no number. Text that ends in a
   decimal point or comma and zeros after a digit (a float written out,
   ``"85073003328.0"``, ``"1000000021,00"``) is read without them, so that a
   number of 10 digits written so does not become 11.
2. **Characters.** A *digit* is any Unicode decimal digit (category Nd: ASCII,
   full-width, Arabic-Indic, Devanagari, ...; :data:`DIGITS`), read as its value. A
   *separator* (:data:`SEPARATORS`) is white space (every Unicode space, the
   no-break ones too), an invisible format character (zero-width space, soft hyphen,
   direction marks, ...), a dash (every Unicode dash, the minus sign), a dot, a
   slash or an underscore. Every other character (letters, ``+``, commas,
   semicolons, pipes, colons, brackets) ends a number.
3. **Candidates.** A *group* is a maximal run of digits; groups with only separators
   between them form a *sequence*. Every run of consecutive groups of one sequence
   that holds exactly 11 digits is a *candidate*, its digits read in order. So
   ``85.07.30-033.28``, ``85/07/30/033/28``, ``RRN 85073003328``,
   ``EMP-85073003328``, ``aanvraag INSZ 85073003328 van ...`` and ``85073003328.0``
   all hold the candidate ``85073003328``; ``185073003328`` (12 digits in one
   group) holds none.
4. **Valid.** A candidate is a national register or BIS number when it is not all
   zeros, its month field (digits 3-4) is 00-12 (national number), 20-32 or 40-52
   (BIS), and its check digits (10-11) are ``97 - (first nine mod 97)``, or, for a
   birth in the 2000s, ``97 - (2 followed by the first nine, mod 97)`` where
   ``2000 + YY`` is not after this year: python-stdnum's ``be.nn`` / ``be.bis``.
5. **Phones.** Belgium's country code followed by a mobile number without its trunk
   0 is 11 digits, ``32 4[5-9]x xx xx xx`` (mobile ranges 045-049, libphonenumber's
   ``4[5-9]\\d{7}`` for BE), and its month field 45-49 is a BIS month: about one
   mobile in a hundred has valid check digits. Such a valid candidate is taken for a
   phone number, not a national number, when it is written as an international
   number, that is the sequence starts right after a ``+`` (separators allowed in
   between: ``+32 475 ...``) or the candidate follows a group ``00`` of its sequence
   (``00 32 475 ...``), or when the column holds phone numbers (``phone=True``).
   Anywhere else a bare ``32475...`` is a national number: withholding a row costs
   a report line, delivering a BIS number costs a breach. What this gives up: a BIS
   number of a person born in 1932 with month field 45-49, written in a phone
   column or after ``+`` or ``00``.
6. **A float that lost its leading zero.** The number of a birth in 2001-2009
   starts with 0, which a float drops (``03073003381`` stored as a float is
   ``3073003381.0``). So a float of 10 digits, not starting with 0 (a whole float,
   or text that is only one written out: an optional minus sign, 10 ASCII digits,
   a decimal point or comma and zeros, white space around) is also read with its 0
   back, and is a national number when that passes step 4 with the check digits
   of the 2000s. Only those: every 10-digit enterprise or establishment number
   passes the check of the 1900s read so (its own check digits are the same mod
   97), and none passes the 2000s one. Not integers, nor text without the
   decimals: ids of 10 digits are common, and one in about 250 would pass. Not in
   a column of phone numbers (``32`` + a fixed number is 10 digits).

A value *holds* a national number when one of its candidates is valid and not a
phone, or step 6 finds one. Nothing here ever puts a value in a message.

>>> contains_national_number("aanvraag RRN 85.07.30-033.28")
True
>>> contains_national_number(85073003328.0)
True
>>> contains_national_number("+32 470 00 00 31"), contains_national_number("32470000031")
(False, True)
>>> contains_national_number("32470000031", phone=True)
False
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

__all__ = ["DIGITS", "SEPARATORS", "contains_national_number", "national_number_mask"]

#: The zero of each run of ten decimal digits (Unicode category Nd, what Python's
#: ``str.isdecimal`` and ``re``'s ``\d`` count) in Unicode 14, Python 3.11's; a test
#: holds the list to :mod:`unicodedata`.
_ZEROS = (
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6,
    0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
    0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0,
    0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136,
    0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2,
    0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
)  # fmt: skip
#: Every decimal digit, to its value.
DIGITS: dict[str, int] = {chr(zero + k): k for zero in _ZEROS for k in range(10)}

_WHITE_SPACE = (  # what str.isspace and re's \s count
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INVISIBLE = (  # format characters that show nothing: soft hyphen, zero widths, bidi
    "\xad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d"
    "\u206e\u206f\ufeff"
)
_DASHES = (  # every dash (category Pd), the minus sign and the hyphen bullet
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a"
    "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    "\u2212\u2043"
)
_DOTS = ".\xb7\u2024\u2027\u2219\u22c5\u3002\uff0e\uff61"
_SLASHES = "/\\\u2044\u2215\u29f8\uff0f\uff3c"
_UNDERSCORES = "_\u203f\u2040\u2054\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f"  # category Pc
#: The characters that may stand between the digits of one number.
SEPARATORS: frozenset[str] = frozenset(
    _WHITE_SPACE + _INVISIBLE + _DASHES + _DOTS + _SLASHES + _UNDERSCORES
)

_LENGTH = 11
_MOBILE = range(3245, 3250)  # the first four digits of 32 + a mobile number (045-049)
#: Step 1: the decimal zeros that end a float written out.
_DECIMAL_ZEROS = re.compile(f"(\\d)[.,]0+([{re.escape(_WHITE_SPACE)}]*)\\Z")
#: Step 6: text that is only a float of 10 digits, as a program writes one.
_FLOAT = re.compile(
    f"[{re.escape(_WHITE_SPACE)}]*-?([1-9][0-9]{{9}})[.,]0+[{re.escape(_WHITE_SPACE)}]*"
)


# --------------------------------------------------------------------------- scalar


def _text(value: object) -> str | None:
    """Step 1 of the rule: the text of one value, or None where it holds no number."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if value is None or value is pd.NA or value is pd.NaT or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if math.isfinite(number) and number.is_integer() else None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (dt.date, dt.time, dt.timedelta, np.datetime64, np.timedelta64)):
        return None
    return str(value)


def _kind(char: str) -> str:
    if char in DIGITS:
        return "digit"
    if char in SEPARATORS:
        return "separator"
    return "plus" if char == "+" else "other"


def _candidates(text: str) -> Iterator[tuple[str, bool]]:
    """Steps 2-3: each candidate's 11 ASCII digits, and whether it is written as an
    international number (right after ``+``, or after a group ``00``)."""
    text = _DECIMAL_ZEROS.sub(r"\1\2", text)
    tokens = [(kind, "".join(chars)) for kind, chars in groupby(text, key=_kind)]
    i = 0
    while i < len(tokens):
        if tokens[i][0] != "digit":
            i += 1
            continue
        before = [kind for kind, _ in tokens[max(i - 2, 0) : i] if kind != "separator"]
        plus = bool(before) and before[-1] == "plus"
        groups = ["".join(str(DIGITS[c]) for c in tokens[i][1])]
        i += 1
        while i + 1 < len(tokens) and tokens[i][0] == "separator" and tokens[i + 1][0] == "digit":
            groups.append("".join(str(DIGITS[c]) for c in tokens[i + 1][1]))
            i += 2
        for first in range(len(groups)):
            digits, last = "", first
            while last < len(groups) and len(digits) < _LENGTH:
                digits += groups[last]
                last += 1
            if len(digits) == _LENGTH:
                yield digits, (plus if first == 0 else groups[first - 1] == "00")


def _valid(digits: str, *, lost_zero: bool = False) -> bool:
    """Step 4, on 11 ASCII digits; ``lost_zero``: the 2000s check only (step 6)."""
    number = int(digits)
    month = number // 10**7 % 100
    if number == 0 or not (month <= 12 or 20 <= month <= 32 or 40 <= month <= 52):
        return False
    body, check = number // 100, number % 100
    if check == 97 - body % 97 and not lost_zero:
        return True
    born_2000s_possible = 2000 + number // 10**9 <= dt.date.today().year
    return born_2000s_possible and check == 97 - (2_000_000_000 + body) % 97


def contains_national_number(value: object, *, phone: bool = False) -> bool:
    """Whether ``value`` holds a national register or BIS number (the module's rule).

    Parameters
    ----------
    value : object
        Any value: text, bytes, a number, missing.
    phone : bool
        The value is in a column of phone numbers (step 5 of the rule).
    """
    text = _text(value)
    if text is None:
        return False
    if not phone:  # step 6
        if isinstance(value, (float, np.floating)):
            ten = text.lstrip("-") if len(text.lstrip("-")) == 10 else None
        else:
            written = _FLOAT.fullmatch(text)
            ten = None if written is None else written[1]
        if ten is not None and _valid("0" + ten, lost_zero=True):
            return True
    for digits, international in _candidates(text):
        if _valid(digits) and not (int(digits[:4]) in _MOBILE and (phone or international)):
            return True
    return False


# ----------------------------------------------------------------------- vectorised


def _char_class(chars: Iterable[str]) -> str:
    """An RE2 character class of the given characters, as ranges of code points."""
    points = sorted({ord(c) for c in chars})
    parts, i = [], 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        parts.append(f"\\x{{{points[i]:X}}}" + (f"-\\x{{{points[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


_DIGIT_CLASS = _char_class(DIGITS)
_SEPARATOR_CLASS = _char_class(SEPARATORS)
#: Eleven digits with only separators between them: what every candidate is made of.
_CANDIDATE = f"{_DIGIT_CLASS}(?:{_SEPARATOR_CLASS}*{_DIGIT_CLASS}){{{_LENGTH - 1}}}"
_SPACE_CLASS = _char_class(_WHITE_SPACE)
_TEN_DIGITS = f"{_SPACE_CLASS}*-?[1-9][0-9]{{9}}[.,]0+{_SPACE_CLASS}*"
_DECIMAL_ZEROS_END = f"({_DIGIT_CLASS})[.,]0+({_SPACE_CLASS}*)$"
# The same for ASCII text (nearly all of it): Unicode classes cost a third more time.
_ASCII_SEPARATOR_CLASS = _char_class(c for c in SEPARATORS if c.isascii())
_ASCII_SPACE_CLASS = _char_class(c for c in _WHITE_SPACE if c.isascii())
_ASCII_CANDIDATE = f"[0-9](?:{_ASCII_SEPARATOR_CLASS}*[0-9]){{{_LENGTH - 1}}}"
_ASCII_TEN_DIGITS = f"{_ASCII_SPACE_CLASS}*-?[1-9][0-9]{{9}}[.,]0+{_ASCII_SPACE_CLASS}*"
_ASCII_DECIMAL_ZEROS_END = f"([0-9])[.,]0+({_ASCII_SPACE_CLASS}*)$"


@dataclass(frozen=True)
class _Patterns:
    candidate: str  # eleven digits, separators between: every candidate is made so
    number: str  # a float of ten digits written out (step 6)
    joined: str  # either, in values joined by _JOINER: a column worth reading further
    decimals: str  # the decimal zeros that end a float written out (step 1)
    loose: str  # what either holds, in values run together: a column worth joining


_PATTERNS = {
    ascii: _Patterns(
        candidate=candidate,
        number=f"^{ten}$",
        joined=f"{candidate}|(?:^|\\x00){ten}(?:\\x00|$)",
        decimals=decimals,
        loose=f"{candidate}|[1-9][0-9]{{9}}[.,]0",
    )
    for ascii, candidate, ten, decimals in (
        (False, _CANDIDATE, _TEN_DIGITS, _DECIMAL_ZEROS_END),
        (True, _ASCII_CANDIDATE, _ASCII_TEN_DIGITS, _ASCII_DECIMAL_ZEROS_END),
    )
}
_OTHER_DIGITS = _char_class(c for c in DIGITS if not c.isascii())
_DIGIT_OF = [
    _char_class(c for c, k in DIGITS.items() if k == d and not c.isascii()) for d in range(10)
]
_OTHER_SEPARATORS = _char_class(c for c in SEPARATORS if not c.isascii())
_JOINER = "\x00"  # between values joined into one text: not a digit nor a separator
#: What each byte of ASCII text is to step 2: other (0), digit, separator, plus.
_OTHER, _DIGIT, _SEPARATOR, _PLUS = range(4)
_BYTE_KIND = np.zeros(256, dtype=np.uint8)
_BYTE_KIND[[ord(c) for c in SEPARATORS if c.isascii()]] = _SEPARATOR
_BYTE_KIND[ord("0") : ord("9") + 1] = _DIGIT
_BYTE_KIND[ord("+")] = _PLUS


def _valid_numbers(numbers: NDArray[np.int64], *, lost_zero: bool = False) -> NDArray[np.bool_]:
    """Step 4, on 11-digit numbers; ``lost_zero``: the 2000s check only (step 6)."""
    month = numbers // 10**7 % 100
    body, check = numbers // 100, numbers % 100
    month_ok = (month <= 12) | ((month >= 20) & (month <= 32)) | ((month >= 40) & (month <= 52))
    ok_1900s = (check == 97 - body % 97) & (not lost_zero)
    ok_2000s = (2000 + numbers // 10**9 <= dt.date.today().year) & (
        check == 97 - (2_000_000_000 + body) % 97
    )
    result: NDArray[np.bool_] = (numbers > 0) & month_ok & (ok_1900s | ok_2000s)
    return result


def _mobile(numbers: NDArray[np.int64]) -> NDArray[np.bool_]:
    first = numbers // 10**7
    result: NDArray[np.bool_] = (first >= _MOBILE.start) & (first < _MOBILE.stop)
    return result


def _numbers_hit(numbers: NDArray[np.float64], *, phone: bool, floats: bool) -> NDArray[np.bool_]:
    """A column of numbers: a value holds a national number only as its own 11
    digits (one group; a minus sign is a separator, never a ``+``), or, a float,
    as 10 digits that lost their 0 (step 6)."""
    with np.errstate(invalid="ignore"):
        size = np.abs(numbers)
        whole = np.mod(size, 1) == 0
        eleven = (size >= 1e10) & (size < 1e11) & whole
        ten = (size >= 1e9) & (size < 1e10) & whole & (floats and not phone)
    hit = np.zeros(len(numbers), dtype=bool)
    if eleven.any():
        found = size[eleven].astype(np.int64)
        hit[eleven] = _valid_numbers(found) & ~(_mobile(found) & phone)
    if ten.any():
        hit[ten] = _valid_numbers(size[ten].astype(np.int64), lost_zero=True)
    return hit


def _stored(text: pa.StringArray) -> tuple[pa.Buffer | None, int, int]:
    """The data buffer of ``text`` and where its values' bytes start and end in it
    (null values may own some, though Arrow gives them none)."""
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[[text.offset, text.offset + len(text)]]
    return data, int(bounds[0]), int(bounds[1])


def _is_ascii(text: pa.StringArray) -> bool:
    """Whether the bytes of ``text`` are all ASCII (those of null values too)."""
    data, start, end = _stored(text)
    return data is None or start == end or int(np.frombuffer(data, np.uint8)[start:end].max()) < 128


def _may_hold(text: pa.StringArray, patterns: _Patterns) -> bool:
    """Whether any value of ``text`` may hold a number: first by one search of its
    bytes as stored, the values run together (no copy; a number across two values
    only costs the closer look), then by :func:`_joined_may_hold`."""
    data, start, end = _stored(text)
    if data is None or start == end:
        return False
    bounds = pa.py_buffer(np.array([start, end], dtype=np.int32).tobytes())
    together = pa.StringArray.from_buffers(1, bounds, data)
    if not pc.match_substring_regex(together, patterns.loose)[0].as_py():
        return False
    return _joined_may_hold(text, patterns)


def _joined_may_hold(text: pa.StringArray, patterns: _Patterns) -> bool:
    """Whether any value of ``text`` may hold a number, by one search of the values
    joined into one text: a search per value costs its call, for every value.
    Only values of 11 bytes or more can (dates, postcodes, statuses cannot)."""
    long = pc.fill_null(pc.greater_equal(pc.binary_length(text), _LENGTH), False)
    text = text.filter(long)
    size = len(text)
    data = text.buffers()[2]
    if not size or data is None or data.size + size >= 2**31:  # none, or too long to join
        return bool(size)
    values = pa.ListArray.from_arrays(pa.array([0, size], pa.int32()), text)
    joined = pc.binary_join(values, _JOINER)
    return bool(pc.match_substring_regex(joined, patterns.joined)[0].as_py())


def _rows(text: pa.StringArray, pattern: str) -> NDArray[np.intp]:
    found = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    return np.flatnonzero(found.to_numpy(zero_copy_only=False))


def _text_hit(text: pa.StringArray, *, phone: bool) -> NDArray[np.bool_]:
    """Steps 2-6 on Arrow text (null holds nothing)."""
    hit = np.zeros(len(text), dtype=bool)
    if not len(text) or text.null_count == len(text):
        return hit
    ascii = _is_ascii(text)
    patterns = _PATTERNS[ascii]
    if not _may_hold(text, patterns):
        return hit
    others = np.flatnonzero(~_plain_phones(text))
    if others.size < len(text):
        text = text.take(pa.array(others))
    hit[others] = _looked_at(text, phone=phone, ascii=ascii)
    return hit


def _plain_phones(text: pa.StringArray) -> NDArray[np.bool_]:
    """The values that are ``+32`` and 8 digits (a fixed number: 10 digits, no
    candidate), or 9 of a mobile, ``4[5-9]`` first (11 digits right after a ``+``: a
    phone, step 5). They hold none, whatever the column."""
    plain = np.zeros(len(text), dtype=bool)
    data, start, end = _stored(text)
    if data is None or start == end:
        return plain
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    stored = np.frombuffer(data, dtype=np.uint8)
    for digits in (8, 9):
        at = np.flatnonzero(np.diff(offsets) == 3 + digits)
        chars = stored[offsets[at][:, None] + np.arange(3 + digits)]
        ok = (chars[:, :3] == np.frombuffer(b"+32", dtype=np.uint8)).all(axis=1)
        ok &= ((chars[:, 3:] - np.uint8(48)) < 10).all(axis=1)
        if digits == 9:
            ok &= (chars[:, 3] == ord("4")) & (chars[:, 4] >= ord("5"))
        plain[at[ok]] = True
    return plain


def _looked_at(text: pa.StringArray, *, phone: bool, ascii: bool) -> NDArray[np.bool_]:
    """Steps 2-6 on Arrow text, value by value."""
    patterns = _PATTERNS[ascii]
    hit = np.zeros(len(text), dtype=bool)
    where = _rows(text, patterns.candidate)
    if where.size:
        hit[where] = _candidates_hit(text.take(pa.array(where)), phone=phone, ascii=ascii)
    if not phone:
        where = _rows(text, patterns.number)
        if where.size:
            digits = pc.extract_regex(text.take(pa.array(where)), "(?P<d>[1-9][0-9]{9})")
            numbers = pc.cast(digits.field("d"), pa.int64()).to_numpy()
            hit[where] |= _valid_numbers(numbers, lost_zero=True)
    return hit


def _candidates_hit(text: pa.StringArray, *, phone: bool, ascii: bool) -> NDArray[np.bool_]:
    """Steps 2-5 on values that each hold eleven digits with separators between.

    Arrow rewrites what is not ASCII (digits to ``0-9``, separators to a space) and
    puts a ``NUL`` after each value; numpy then finds the groups, sequences and
    candidates of all of them at once, in the bytes.
    """
    text = pc.replace_substring_regex(text, _PATTERNS[ascii].decimals, r"\1\2")
    if not ascii:
        if pc.any(pc.match_substring_regex(text, _OTHER_DIGITS)).as_py():
            for value, pattern in enumerate(_DIGIT_OF):
                text = pc.replace_substring_regex(text, pattern, str(value))
        text = pc.replace_substring_regex(text, _OTHER_SEPARATORS, " ")
    text = pc.binary_join_element_wise(text, _JOINER, "")
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
    offsets = offsets[text.offset : text.offset + len(text) + 1].astype(np.int64)
    data: NDArray[np.uint8] = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    data = data[offsets[0] : offsets[-1]]
    starts = offsets[:-1] - offsets[0]

    kind = _BYTE_KIND[data]
    digit: NDArray[np.bool_] = kind == _DIGIT
    space = kind == _SEPARATOR
    edges = np.diff(digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    group_start = np.flatnonzero(edges == 1)
    group_end = np.flatnonzero(edges == -1)
    length = group_end - group_start
    # Two neighbouring groups are one sequence when only separators lie between them.
    others = np.cumsum(~(digit | space))
    apart = others[group_start[1:] - 1] != others[group_end[:-1] - 1]
    sequence = np.concatenate([[0], np.cumsum(apart)])
    # A candidate per first group: the groups from it that add up to exactly 11.
    total = np.cumsum(length)
    before = total - length
    last = np.searchsorted(total, before + _LENGTH)
    inside = np.minimum(last, len(total) - 1)
    first = np.flatnonzero(
        (last < len(total)) & (total[inside] == before + _LENGTH) & (sequence[inside] == sequence)
    )
    values = (data[digit] - np.uint8(48)).astype(np.int64)
    numbers = values[before[first][:, None] + np.arange(_LENGTH)] @ (
        10 ** np.arange(_LENGTH - 1, -1, -1, dtype=np.int64)
    )
    exempt = _mobile(numbers)
    if not phone and exempt.any():
        exempt &= _international(kind, space, first, group_start, sequence, length, before, values)
    found = first[_valid_numbers(numbers) & ~exempt]
    hit = np.zeros(len(text), dtype=bool)
    hit[np.searchsorted(starts, group_start[found], side="right") - 1] = True
    return hit


def _international(
    kind: NDArray[np.uint8],
    space: NDArray[np.bool_],
    first: NDArray[np.intp],
    group_start: NDArray[np.intp],
    sequence: NDArray[np.int64],
    length: NDArray[np.intp],
    before: NDArray[np.intp],
    values: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Whether each candidate (by its first group) follows a ``+`` (separators
    between) or a group ``00`` of its sequence."""
    solid = np.flatnonzero(~space)
    previous = np.searchsorted(solid, group_start[first]) - 1
    plus = (previous >= 0) & (kind[solid[np.maximum(previous, 0)]] == _PLUS)
    prior = np.maximum(first - 1, 0)
    pair = (first > 0) & (sequence[prior] == sequence[first]) & (length[prior] == 2)
    zeros = np.zeros(len(first), dtype=bool)
    at = before[prior[pair]]
    zeros[pair] = (values[at] == 0) & (values[at + 1] == 0)
    result: NDArray[np.bool_] = plus | zeros
    return result


def _arrow_text(values: pd.Series) -> pa.StringArray | pa.ChunkedArray:
    """Step 1 for a column of text or objects: Arrow text, null where none."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage != "python":
        return pa.array(values.array)
    objects = values.to_numpy(dtype=object)
    try:
        return pa.array(objects, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError):
        pass  # numbers, bytes or booleans among the text; a lone surrogate
    texts = [_text(v) for v in objects]
    # A lone surrogate cannot be Arrow text: "?" stands for it, another "other".
    return pa.array(
        [t if t is None or t.isascii() else t.encode("utf-8", "replace").decode() for t in texts],
        type=pa.string(),
    )


def _objects_hit(values: pd.Series, *, phone: bool) -> NDArray[np.bool_]:
    """A column of text or objects; floats among them as a float column."""
    floats = np.zeros(len(values), dtype=bool)
    # Floats among objects, looked for one by one unless pandas' scan in C finds
    # nothing but text.
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in (
        "string",
        "empty",
    ):
        floats = np.fromiter(
            (isinstance(v, (float, np.floating)) for v in values.to_numpy()), bool, len(values)
        )
    text = _arrow_text(values)
    if isinstance(text, pa.ChunkedArray):  # one call per column, not per chunk
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.string())
    # Arrow text with 32-bit offsets, in pieces under 2 GiB where it is larger.
    step = len(text) if text.nbytes < 2**31 - 1 else 1 << 16
    parts = [
        _text_hit(text.slice(start, step).cast(pa.string()), phone=phone)
        for start in range(0, len(text), max(step, 1))
    ]
    hit = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    if floats.any():
        numbers = values.to_numpy()[floats].astype(np.float64)
        hit[floats] = _numbers_hit(numbers, phone=phone, floats=True)
    return hit


def national_number_mask(values: pd.Series, *, phone: bool = False) -> pd.Series:
    """Vectorised :func:`contains_national_number`: True where a value holds a
    national register or BIS number.

    Parameters
    ----------
    values : Series
        Any dtype: text (Arrow or Python), integers, floats, bytes, mixed objects;
        booleans, dates and times hold none.
    phone : bool
        The column holds phone numbers (step 5 of the rule).

    Returns
    -------
    Series of bool
        Same index and name.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = national_number_mask(pd.Series(dtype.categories), phone=phone).to_numpy()
        codes = values.cat.codes.to_numpy()
        hit = np.where(codes >= 0, categories[np.maximum(codes, 0)], False)
    elif (
        pd.api.types.is_bool_dtype(dtype)
        or dtype.kind in "mM"
        or isinstance(dtype, (pd.DatetimeTZDtype, pd.PeriodDtype, pd.IntervalDtype))
    ):
        hit = np.zeros(len(values), dtype=bool)
    elif dtype.kind in "iuf":
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        hit = _numbers_hit(numbers, phone=phone, floats=dtype.kind == "f")
    else:
        hit = _objects_hit(values, phone=phone)
    return pd.Series(hit, index=values.index, name=values.name, dtype=bool)
