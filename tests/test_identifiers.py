"""Belgian identifiers: known answers, the scalar reference against the vectorised
kernel, and python-stdnum as a second implementation."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.be import bis, nn, vat

from linkage.exceptions import InvalidIdentifier
from linkage.identifiers import (
    _clean,
    enterprise_number_reasons,
    format_enterprise_number,
    format_establishment_number,
    is_national_register_number,
    national_register_mask,
    number_digits,
    parse_enterprise_number,
    parse_enterprise_numbers,
    parse_establishment_number,
    parse_establishment_numbers,
)
from linkage.normalise import WHITESPACE_CHARS

# Worked by hand: 04031707 mod 97 = 96, so the check digits are 97 - 96 = 01.
KBO = "0403170701"
# 20000000 mod 97 = 55, so the check digits are 97 - 55 = 42.
UNIT = "2000000042"
# 85 07 30 033: 850730033 mod 97 = 69, check digits 97 - 69 = 28 (a 1900s birth).
NRN = "85073003328"
# 17 07 30 033: with the 2000s prefix, 2170730033 mod 97 = 13, check 97 - 13 = 84.
NRN_2000S = "17073003384"


@pytest.mark.parametrize(
    "written",
    [
        "0403.170.701",
        "0403170701",
        "BE0403170701",
        "BE 0403 170 701",
        "0403-170-701",
        "403170701",
        "be0403.170.701",
        " 0403 170 701 ",
        "0403\u00a0170\u00a0701",
        "(0)403170701",
        403170701,
    ],
)
def test_enterprise_number_written_forms(written: str | int) -> None:
    assert parse_enterprise_number(written) == KBO
    assert parse_enterprise_numbers(pd.Series([written], dtype=object)).iloc[0] == KBO


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("0403170702", "check digits do not match (mod 97)"),
        ("0403.170.7O1", "characters other than digits"),
        ("04031707011", "wrong length"),
        ("40317070", "wrong length"),
        ("9403170793", "wrong leading digit"),  # 94031707 mod 97 = 4: check 93 matches
        (UNIT, "an establishment-unit number, not an enterprise number"),
    ],
)
def test_enterprise_number_reasons(written: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_enterprise_number(written)
    assert caught.value.reason == reason
    assert written not in str(caught.value)
    got = enterprise_number_reasons(pd.Series([written]))
    assert got.iloc[0] == reason


def test_establishment_numbers() -> None:
    assert parse_establishment_number("2.000.000.042") == UNIT
    assert format_establishment_number(UNIT) == "2.000.000.042"
    with pytest.raises(InvalidIdentifier, match="an enterprise number, not an establishment"):
        parse_establishment_number(KBO)
    # No legacy nine-digit form for units: a unit number always starts with 2-8.
    with pytest.raises(InvalidIdentifier, match="wrong length"):
        parse_establishment_number("200000042")


def test_format_enterprise_number() -> None:
    assert format_enterprise_number("BE403170701") == "0403.170.701"


def test_series_keeps_index_name_and_missing() -> None:
    values = pd.Series(["0403.170.701", None, "", "junk", np.nan], index=[10, 11, 12, 13, 14])
    values.name = "kbo"
    out = parse_enterprise_numbers(values, return_reasons=True)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert parse_enterprise_numbers(values).name == "kbo"
    assert out["number"].iloc[0] == KBO
    assert out["number"].iloc[1:].isna().all()
    # Missing input is not an error: only row 13 has a reason.
    assert out["reason"].notna().tolist() == [False, False, False, True, False]


def test_float_column_from_csv() -> None:
    # A CSV reader turns a column of legacy 9-digit numbers with a gap into floats.
    values = pd.Series([403170701.0, np.nan])
    assert parse_enterprise_numbers(values).tolist()[0] == KBO
    assert parse_enterprise_numbers(values).isna().tolist() == [False, True]


def test_errors_raise_names_column_and_row_never_the_value() -> None:
    values = pd.Series([KBO, KBO, "0887.010.632", "x"], name="kbo")
    values.index = [0, 1, 1204, 1205]
    with pytest.raises(InvalidIdentifier) as caught:
        parse_enterprise_numbers(values, errors="raise")
    message = str(caught.value)
    assert message == (
        "column 'kbo', row 1,204: invalid enterprise number: "
        "check digits do not match (mod 97) (and 1 more rows)"
    )
    assert "0887" not in message
    assert "\n" not in message


def test_national_register_known_answers() -> None:
    assert is_national_register_number(NRN)
    assert is_national_register_number("85.07.30-033.28")
    assert is_national_register_number(NRN_2000S)
    assert is_national_register_number("98.47.28-997.65")  # BIS, month + 40
    assert not is_national_register_number("85073003329")  # check digit off by one
    assert not is_national_register_number(KBO)
    assert not is_national_register_number("00000000000")
    assert not is_national_register_number(None)
    mask = national_register_mask(pd.Series([NRN, "85.07.30-033.28", KBO, None, "x"]))
    assert mask.tolist() == [True, True, False, False, False]


def test_national_register_in_integer_column() -> None:
    assert national_register_mask(pd.Series([int(NRN), 1])).tolist() == [True, False]


def test_million_values_never_raise() -> None:
    rng = np.random.default_rng(1)
    garbage = pd.Series(rng.integers(0, 10**12, 100_000).astype(str))
    garbage[::7] = "not a number"
    garbage[::11] = None
    out = parse_enterprise_numbers(garbage, return_reasons=True)
    assert len(out) == len(garbage)
    assert (out["number"].isna() | out["reason"].isna()).all()


# ---------------------------------------------------------------- properties

separator = st.sampled_from(["", " ", ".", "-", "/", "\u00a0"])
noise_text = st.text(alphabet="0123456789 .-/BbEe()x\u00a0\t", max_size=16)


@st.composite
def enterprise_numbers(draw: st.DrawFn) -> str:
    """Valid enterprise numbers in one of the written forms people use."""
    base = draw(st.integers(0, 19_999_999))
    digits = f"{base:08d}{97 - base % 97:02d}"
    a, b, c = digits[:4], digits[4:7], digits[7:]
    sep = draw(separator)
    prefix = draw(st.sampled_from(["", "BE", "be", "BE ", "(0)"]))
    if prefix == "(0)":
        if digits[0] != "0":
            prefix = ""  # "(0)" stands for a leading zero only
        else:
            a = a[1:]
    written = prefix + a + sep + b + sep + c
    if draw(st.booleans()) and prefix == "" and digits[0] == "0":
        written = written[1:]  # the legacy nine-digit form
    return written


@given(enterprise_numbers())
def test_valid_forms_parse_like_stdnum(written: str) -> None:
    ours = parse_enterprise_number(written)
    if "\u00a0" not in written:
        assert ours == vat.validate(written)
    assert parse_enterprise_numbers(pd.Series([written])).iloc[0] == ours


@given(st.integers(0, 10**10 - 1))
def test_agrees_with_stdnum_on_any_ten_digits(number: int) -> None:
    digits = f"{number:010d}"
    # stdnum accepts any check digits that make the sum a multiple of 97: also 00
    # (for a base that is a multiple of 97), 98 and 99 (1 and 2 plus 97). The KBO
    # rule, 97 - base mod 97, gives 01 to 97 only, so those never occur.
    assume(int(digits[-2:]) not in (0, 98, 99))
    try:
        ours: str | None = parse_enterprise_number(digits)
    except InvalidIdentifier:
        ours = None
    assert (ours is not None) == vat.is_valid(digits)


def _assert_kernels_agree(values: list[object], *, dtype: object = object) -> None:
    """The vectorised parsers give each value the number and reason of the scalar ones."""
    series = pd.Series(values, dtype=dtype)
    for parse_many, parse_one in (
        (parse_enterprise_numbers, parse_enterprise_number),
        (parse_establishment_numbers, parse_establishment_number),
    ):
        got = parse_many(series, return_reasons=True)
        for value, number, reason in zip(series, got["number"], got["reason"], strict=True):
            try:
                expected, expected_reason = parse_one(value), None
            except InvalidIdentifier as exc:
                expected, expected_reason = None, exc.reason
            assert (None if pd.isna(number) else number) == expected
            if expected_reason == "missing":
                expected_reason = None
            assert (None if pd.isna(reason) else reason) == expected_reason


@given(st.lists(st.one_of(noise_text, enterprise_numbers(), st.none()), max_size=30))
def test_vectorised_equals_scalar_reference(values: list[str | None]) -> None:
    _assert_kernels_agree(values)


@st.composite
def national_numbers(draw: st.DrawFn) -> str:
    """Eleven digits shaped like a national or BIS number, valid about half the time."""
    yy = draw(st.integers(0, 99))
    month = draw(st.sampled_from([0, 1, 7, 12, 13, 20, 27, 33, 40, 52, 60]))
    day = draw(st.integers(0, 35))
    counter = draw(st.integers(0, 999))
    body = int(f"{yy:02d}{month:02d}{day:02d}{counter:03d}")
    century = draw(st.sampled_from([0, 2_000_000_000]))
    check = 97 - (century + body) % 97
    if draw(st.booleans()):
        check = draw(st.integers(0, 99))
    digits = f"{body:09d}{check:02d}"
    sep = draw(st.sampled_from(["", " ", ".", "-"]))
    return sep.join([digits[:2], digits[2:4], digits[4:6], digits[6:9], digits[9:]])


@given(st.lists(st.one_of(national_numbers(), noise_text), min_size=1, max_size=20))
def test_national_register_agrees_with_stdnum(values: list[str]) -> None:
    expected = [nn.is_valid(v) or bis.is_valid(v) for v in values]
    assert [is_national_register_number(v) for v in values] == expected
    assert national_register_mask(pd.Series(values)).tolist() == expected


def test_century_rule_uses_the_current_year() -> None:
    # A 2000s check digit only counts for a year that has already begun.
    next_yy = (datetime.date.today().year + 1) % 100
    body = int(f"{next_yy:02d}0101001")
    digits = f"{body:09d}{97 - (2_000_000_000 + body) % 97:02d}"
    if 97 - body % 97 != int(digits[9:]):
        assert not is_national_register_number(digits)


def test_number_digits_keeps_mistyped_numbers() -> None:
    got = number_digits(pd.Series(["BE 0403.170.702", "403170701", "x1", None]))
    assert got.tolist()[:2] == ["0403170702", "0403170701"]
    assert got.isna().tolist() == [False, False, True, True]


# Every white-space character, one at a time, and runs of them: the scalar (Python
# re) and the Arrow (RE2) kernels must read them alike.
unicode_space = st.sampled_from(list(WHITESPACE_CHARS))
spaces = st.text(alphabet=WHITESPACE_CHARS, max_size=3)
spaced_text = st.text(alphabet=WHITESPACE_CHARS + "0123456789.-/BE()", max_size=20)


@st.composite
def spaced_numbers(draw: st.DrawFn) -> str:
    """An enterprise or national number with Unicode spaces for separators and around."""
    if draw(st.booleans()):
        base = draw(st.integers(0, 19_999_999))
        digits = f"{base:08d}{97 - base % 97:02d}"
        groups = [digits[:4], digits[4:7], digits[7:]]
    else:
        digits = draw(national_numbers()).replace(" ", "").replace(".", "").replace("-", "")
        groups = [digits[:2], digits[2:4], digits[4:6], digits[6:9], digits[9:]]
    separators = [draw(st.one_of(unicode_space, st.sampled_from(".-"))) for _ in groups[1:]]
    written = groups[0] + "".join(s + g for s, g in zip(separators, groups[1:], strict=True))
    return draw(spaces) + written + draw(spaces)


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2007", "\u2009", "\u3000", "\t"])
def test_unicode_spaces_are_separators_in_both_kernels(space: str) -> None:
    written = f"0403{space}170{space}701"
    assert parse_enterprise_number(written) == KBO
    assert parse_enterprise_numbers(pd.Series([written])).tolist() == [KBO]
    national = f"85.07.30{space}033.28"
    assert is_national_register_number(national)
    assert national_register_mask(pd.Series([national])).tolist() == [True]


@given(st.lists(st.one_of(spaced_numbers(), spaced_text, st.none()), min_size=1, max_size=20))
def test_scalar_and_arrow_kernels_agree_on_unicode_spaces(values: list[str | None]) -> None:
    _assert_kernels_agree(values)
    present = [v for v in values if v is not None]
    assert national_register_mask(pd.Series(present, dtype=object)).tolist() == [
        is_national_register_number(v) for v in present
    ]


# ------------------------------------------------- values that are not clean text

# What a fuzzer or a broken file puts in a column: lone surrogates (text decoded with
# surrogateescape), bytes (a binary Parquet column; UTF-8 or not), floats (a column
# with a gap read as float64, or floats mixed into text), huge and infinite ones.
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
broken_text = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.one_of(enterprise_numbers(), noise_text),
    surrogates,
    noise_text,
)
any_text = st.text(max_size=12)
byte_values = st.one_of(
    st.binary(max_size=12), enterprise_numbers().map(str.encode), st.just(b"\xff\xfe")
)
whole_floats = st.integers(0, 10**10).map(float)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    whole_floats,
    st.sampled_from([1e20, -1e20, 1e300, 403170701.5, 4031707.01, 0.5, -0.0]),
)
NOT_TEXT = "not text (bytes that are not UTF-8, or a lone surrogate)"
weird = st.one_of(
    broken_text, any_text, byte_values, floats, st.integers(-(10**20), 10**20), st.booleans()
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0403\ud800170701", NOT_TEXT),
        (b"\xff\xfe", NOT_TEXT),
        (403170701.5, "not a whole number"),
        (float("inf"), "not a whole number"),
        (1e20, "wrong length"),
        (True, "characters other than digits"),
    ],
)
def test_values_that_are_not_numbers_have_a_reason(value: object, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_enterprise_number(value)
    assert caught.value.reason == reason
    got = parse_enterprise_numbers(pd.Series([value, KBO], dtype=object), return_reasons=True)
    assert got["reason"].tolist()[0] == reason
    assert got["number"].tolist()[1] == KBO
    assert not is_national_register_number(value)


def test_bytes_and_whole_floats_read_as_their_digits() -> None:
    assert parse_enterprise_number(b"0403.170.701") == KBO
    assert parse_enterprise_number(403170701.0) == KBO
    # A whole float is its integer: not "4031707010" (the ".0" read as a separator).
    with pytest.raises(InvalidIdentifier, match="wrong length"):
        parse_establishment_number(403170701.0)
    column = pd.Series([b"0403170701", 403170701.0, KBO], dtype=object)
    assert parse_enterprise_numbers(column).tolist() == [KBO] * 3


@pytest.mark.parametrize("written", ["403170701.0", " 0403170701.00 "])
def test_a_float_written_as_text_reads_as_its_digits(written: str) -> None:
    # The ".0" of a float written to CSV is no separator: no "4031707010".
    assert parse_enterprise_number(written) == KBO
    assert parse_enterprise_numbers(pd.Series([written])).tolist() == [KBO]
    column = pd.Series(["403170701.0"])
    with pytest.raises(InvalidIdentifier, match="wrong length"):
        parse_establishment_number("403170701.0")
    assert parse_establishment_numbers(column, errors="coerce").isna().all()


def test_one_fraction_does_not_spoil_a_float_column() -> None:
    values = pd.Series([403170701.0, 1.5, np.nan, 1e20, float("-inf")])
    got = parse_enterprise_numbers(values, return_reasons=True)
    assert got["number"].tolist()[0] == KBO
    reasons = [None if pd.isna(r) else r for r in got["reason"]]
    assert reasons == [None, "not a whole number", None, "wrong length", "not a whole number"]
    assert number_digits(values).tolist()[3] == "1" + "0" * 20


@pytest.mark.parametrize(
    "dtype", [object, "string[python]", "string[pyarrow]", "float64", "Float64", "category"]
)
def test_no_column_type_raises(dtype: object) -> None:
    values: list[object] = {
        "float64": [403170701.0, 1e20, np.nan, 0.5],
        "Float64": [403170701.0, 1e20, None, 0.5],
        "string[pyarrow]": [KBO, "x", None],
    }.get(str(dtype), [KBO, "0403\udc80170701", None, "x"])
    series = pd.Series(values, dtype=dtype)  # type: ignore[call-overload]
    for parse in (parse_enterprise_numbers, parse_establishment_numbers):
        assert len(parse(series, return_reasons=True)) == len(values)
    assert len(national_register_mask(series)) == len(values)


@given(st.lists(weird, max_size=20))
def test_kernels_agree_on_any_value(values: list[object]) -> None:
    _assert_kernels_agree(values)
    assert national_register_mask(pd.Series(values, dtype=object)).tolist() == [
        is_national_register_number(v) for v in values
    ]


@given(st.lists(floats, max_size=20))
def test_kernels_agree_on_float_columns(values: list[float]) -> None:
    _assert_kernels_agree(values, dtype="float64")
    # A whole float reads as its digits (linkage.national): checked like text.
    assert national_register_mask(pd.Series(values, dtype="float64")).tolist() == [
        is_national_register_number(v) for v in values
    ]


@given(st.lists(st.one_of(broken_text, byte_values, st.none()), max_size=20))
def test_broken_text_never_raises_and_is_never_valid(values: list[object]) -> None:
    got = parse_enterprise_numbers(pd.Series(values, dtype=object), return_reasons=True)
    for value, number, reason in zip(values, got["number"], got["reason"], strict=True):
        if isinstance(value, str):  # a string with a surrogate in it
            assert pd.isna(number) and reason == NOT_TEXT


ten_chars = st.text(alphabet="0123456789\u0661\u0662BE .-", min_size=9, max_size=11)


@given(st.lists(st.one_of(ten_chars, spaced_numbers(), spaced_text, st.none()), max_size=20))
def test_number_digits_are_the_scalar_cleaning_digits_only(values: list[str | None]) -> None:
    """Ten ASCII digits pass as they are, every other value through the patterns:
    each value's digits are the scalar rule's (a nine-digit value padded), or none."""
    expected = []
    for value in values:
        cleaned = None if value is None else _clean(value)
        if cleaned is not None and len(cleaned) == 9:
            cleaned = "0" + cleaned
        digits = cleaned is not None and cleaned.isascii() and cleaned.isdecimal()
        expected.append(cleaned if digits else None)
    got = number_digits(pd.Series(values, dtype=object))
    assert [None if pd.isna(v) else v for v in got] == expected
