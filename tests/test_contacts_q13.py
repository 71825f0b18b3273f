"""The bulk paths of the contact normalisers (issue 13) against their references:
the phone kernel on values as they come, the NSN cut by numpy, validity as one
alternation per length, the e-mail kernel's guarded rewrites."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.normalise import normalise_emails, normalise_phones
from linkage.normalise._contacts import (
    _SHORTEST,
    _belgian_nsn,
    _email_kernel,
    _on_present,
    _phone_kernel,
    _reference_valid_nsn,
    _valid_nsn,
)
from linkage.normalise._core import MAX_CHARS, WHITESPACE, keep_reason, no_reasons, null_where

_DIGITS = st.text("0123456789", min_size=0, max_size=20)


def _regex_nsn(values: pa.Array) -> pa.Array:
    """The NSN as the fast path cut it by regex before (the reference)."""
    full = rf"^(?:\+320?|0)([0-9]{{{_SHORTEST},}})$"
    return pc.if_else(
        pc.match_substring_regex(values, full),
        pc.replace_substring_regex(values, full, r"\1"),
        pc.replace_substring_regex(values, r"^\+32", ""),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["+32", "0"]), _DIGITS), min_size=1, max_size=40))
def test_belgian_nsn_cuts_as_the_regex(parts: list[tuple[str, str]]) -> None:
    values = [form + digits for form, digits in parts]
    shape = r"^(?:\+32[0-9]{2,}|0[1-9][0-9]*)$"
    text = pa.array(values, pa.string())
    text = text.filter(pc.match_substring_regex(text, shape))
    for typed in (text, text.cast(pa.large_string())):
        assert _belgian_nsn(typed).to_pylist() == _regex_nsn(text).to_pylist()


def test_belgian_nsn_known_answers() -> None:
    text = pa.array(["+3292657211", "+32092657211", "+320123", "0475123456", "01234", "+3200"])
    assert _belgian_nsn(text).to_pylist() == [
        "92657211",
        "92657211",
        "0123",  # the trunk 0 stays: fewer than the shortest length left
        "475123456",
        "01234",
        "00",
    ]
    assert _belgian_nsn(text.slice(3)).to_pylist() == ["475123456", "01234", "00"]


@settings(max_examples=200, deadline=None)
@given(st.lists(_DIGITS, min_size=1, max_size=60))
def test_valid_nsn_equals_a_pattern_at_a_time(nsns: list[str]) -> None:
    nsn = pa.array(nsns, pa.string())
    assert _valid_nsn(nsn).to_pylist() == _reference_valid_nsn(nsn).to_pylist()


def test_valid_nsn_every_prefix() -> None:
    nsns = [f"{p:03d}" + "1234567"[: n - 3] for p in range(1000) for n in (8, 9, 10)]
    nsn = pa.array(nsns)
    assert _valid_nsn(nsn).equals(_reference_valid_nsn(nsn))
    assert 100 < pc.sum(_valid_nsn(nsn)).as_py() < len(nsns)


def test_phone_kernel_mixes_both_paths_in_order() -> None:
    values = pa.array(["+3292657211", "09 265 72 11", "+31 20 123 4567", "0475123456", "geen"])
    columns, why = _phone_kernel(values, region="BE", keep="valid")
    assert columns["phone"].to_pylist() == [
        "+3292657211",
        "+3292657211",
        "+31201234567",
        "+32475123456",
        None,
    ]
    assert columns["valid"].to_pylist() == [True, True, True, True, None]
    assert why.to_pylist() == [None, None, None, None, "not a phone number"]


def test_on_present_leaves_missing_and_long_values_out(caplog) -> None:
    arr = pa.array(["0475123456", None, "1" * (MAX_CHARS + 1), "0475123456"], pa.large_string())
    with caplog.at_level("WARNING", logger="linkage.normalise._core"):
        columns, why = _on_present(
            arr, lambda v: _phone_kernel(v, region="BE", keep="valid"), name="tel"
        )
    assert columns["phone"].to_pylist() == ["+32475123456", None, None, "+32475123456"]
    assert why.to_pylist() == [None, None, f"longer than {MAX_CHARS:,} characters", None]
    assert "column 'tel': 1 value(s) longer than 1,000 characters left out" in caplog.text


@pytest.mark.parametrize("keep", ["valid", "possible"])
def test_phones_repeated_values_as_distinct_ones(keep: str) -> None:
    raw = pd.Series(["+32 9 265 72 11", "+3292657211", None, "", "0475123456", "0475123456"] * 3)
    out = normalise_phones(raw, keep=keep, return_reasons=True)  # type: ignore[arg-type]
    each = pd.concat(
        [
            normalise_phones(raw.iloc[[i]], keep=keep, return_reasons=True)  # type: ignore[arg-type]
            for i in range(len(raw))
        ]
    )
    pd.testing.assert_frame_equal(out, each)


def _reference_email_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    """The e-mail kernel as it was: every rewrite and reason on every value."""
    text = pc.utf8_lower(values)
    text = pc.replace_substring_regex(text, r"^.*<([^<>]*)>.*$", r"\1")
    text = pc.replace_substring_regex(text, f"^{WHITESPACE}*mailto:", "")
    text = pc.utf8_trim(pc.utf8_trim_whitespace(text), ".,;")
    ats = pc.count_substring(text, "@")
    from linkage.normalise._contacts import _EMAIL_VALID

    valid = pc.match_substring_regex(text, _EMAIL_VALID)
    reasons = no_reasons(len(values))
    reasons = keep_reason(reasons, pc.equal(ats, 0), "no @")
    reasons = keep_reason(reasons, pc.greater(ats, 1), "several @")
    reasons = keep_reason(reasons, pc.match_substring_regex(text, WHITESPACE), "contains spaces")
    reasons = keep_reason(reasons, pc.invert(valid), "bad local part or domain")
    email = null_where(text, pc.invert(valid))
    domain = pc.struct_field(pc.extract_regex(email, r"@(?P<domain>.*)$"), "domain")
    return {"email": email, "domain": null_where(domain, pc.is_null(email))}, reasons


_EMAIL_PARTS = st.sampled_from(
    ["jan", "@", ".", "x.be", " ", "\u00a0", "<", ">", "mailto:", "Jan <", ";", ",", "A", "é", "\n"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_EMAIL_PARTS, max_size=8).map("".join)), max_size=30))
def test_email_kernel_equals_the_reference(values: list[str | None]) -> None:
    arr = pa.array(values, pa.large_string())
    got, why = _email_kernel(arr)
    want, want_why = _reference_email_kernel(arr)
    assert why.to_pylist() == want_why.to_pylist()
    for key in ("email", "domain"):
        assert got[key].to_pylist() == want[key].to_pylist()
        assert got[key].type == want[key].type


def test_emails_known_answers() -> None:
    raw = pd.Series(["Jan <JAN@X.be>", " mailto:info@bakkerij.be.", "a@b", "a b@c.be", "a@@b.be"])
    out = normalise_emails(raw, return_reasons=True)
    assert out["email"].tolist()[:2] == ["jan@x.be", "info@bakkerij.be"]
    assert out["domain"].tolist()[:2] == ["x.be", "bakkerij.be"]
    assert out["reason"].tolist()[2:] == [
        "bad local part or domain",
        "contains spaces",
        "several @",
    ]
