"""Pseudonyms as codes (:func:`pseudonym_codes`) and the canonical values that need no
second dictionary encoding: the same pseudonyms as the per-value reference."""

from __future__ import annotations

import base64
import hmac
import unicodedata

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from linkage.identifiers import is_national_register_number
from linkage.keys import KeyRing
from linkage.pseudonymise import pseudonym_codes, pseudonymise

_SPACES = " \t\n\r\f\v\u00a0\u202f\u2007\u2009\u200b\ufeff"
settings_ = settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


def reference(value: str | None, ring: KeyRing, domain: str) -> str | None:
    """The pseudonym by its definition, one value, standard library only."""
    if value is None or value is pd.NA:
        return None
    canonical = unicodedata.normalize("NFC", value).strip(_SPACES)
    if not canonical:
        return None
    key = ring.key(domain, ring.current).reveal()
    digest = hmac.digest(key, canonical.encode("utf-8"), "sha256")
    return f"v{ring.current}." + base64.b32encode(digest[:16]).decode().lower().rstrip("=")


def _expanded(codes: pa.Array, distinct: pa.Array) -> list[str | None]:
    return distinct.take(codes).to_pylist()


# A small alphabet: values repeat, some only in their white space or normal form.
texts = st.text(alphabet="ab1 \u00a0e\u0301\u00e9", max_size=4)


@settings_
@given(values=st.lists(texts | st.none(), max_size=40), arrow=st.booleans())
def test_codes_give_the_reference_pseudonyms(
    ring: KeyRing, values: list[str | None], arrow: bool
) -> None:
    """Arrow text (one canonical value per distinct value as written, with or without
    a second encoding) and Python strings: each row the reference pseudonym, and one
    code exactly where one pseudonym."""
    series = pd.Series(values, dtype="string[pyarrow]" if arrow else object)
    codes, distinct = pseudonym_codes(series, ring, domain="contact")
    expected = [reference(v, ring, "contact") for v in values]
    assert _expanded(codes, distinct) == expected
    assert len(set(distinct.to_pylist())) == len(distinct)  # one code per pseudonym
    assert pseudonymise(series, ring, domain="contact").tolist() == [
        pd.NA if e is None else e for e in expected
    ]


def test_values_already_canonical_skip_the_second_encoding(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct values as written that are their own canonical values are not
    dictionary-encoded again; one that is not (white space, another form) is."""
    import sys

    module = sys.modules["linkage.pseudonymise"]
    calls: list[int] = []
    encode = module._encode
    monkeypatch.setattr(module, "_encode", lambda text: calls.append(len(text)) or encode(text))
    clean = pd.Series(["C1", "C2", "C1", None, "C3"], dtype="string[pyarrow]")
    codes, distinct = pseudonym_codes(clean, ring, domain="contact")
    assert calls == []
    assert codes.to_pylist() == [0, 1, 0, None, 2]
    assert _expanded(codes, distinct) == [reference(v, ring, "contact") for v in clean.tolist()]
    spaced = pd.Series(["C1", " C1", "C2", ""], dtype="string[pyarrow]")
    codes, distinct = pseudonym_codes(spaced, ring, domain="contact")
    assert calls == [4]
    assert codes.to_pylist() == [0, 0, 1, None]
    numbers = pd.Series(["0403170701", "0403.170.701", "0202239951"], dtype="string[pyarrow]")
    codes, _ = pseudonym_codes(numbers, ring, domain="enterprise")
    assert codes.to_pylist() == [0, 0, 1]


@settings_
@given(
    written=st.lists(st.sampled_from(["0403170701", "0403.170.701", "BE0202239951", None])),
    seen=st.sets(st.sampled_from(["0403170701", "0202239951", "0403.170.701"]), min_size=1),
)
def test_codes_with_known_pseudonyms(
    ring: KeyRing, written: list[str | None], seen: set[str]
) -> None:
    """Known pseudonyms looked up as written: two written forms of one number (one
    known, one hashed) share a code, as they share a pseudonym."""
    assume(written)
    ids = sorted(seen)
    made = pseudonymise(pd.Series(ids), ring, domain="enterprise")
    known = pd.Series(made.to_numpy(), index=ids)
    series = pd.Series(written, dtype="string[pyarrow]")
    codes, distinct = pseudonym_codes(series, ring, domain="enterprise", known=known)
    expected = pseudonymise(series, ring, domain="enterprise")
    assert _expanded(codes, distinct) == [None if v is pd.NA else v for v in expected.tolist()]
    assert len(set(distinct.to_pylist())) == len(distinct)
    # Not distinct: the same pseudonyms, a code per value as written.
    codes, pseudonyms = pseudonym_codes(
        series, ring, domain="enterprise", known=known, distinct=False
    )
    assert _expanded(codes, pseudonyms) == _expanded(
        *pseudonym_codes(series, ring, domain="enterprise")
    )


def test_national_numbers_refused_before_any_shortcut(ring: KeyRing) -> None:
    """A value that is already canonical is still checked."""
    assert is_national_register_number("85073003328")
    series = pd.Series(["C1", "85073003328"], dtype="string[pyarrow]")
    with pytest.raises(Exception, match="national register"):
        pseudonym_codes(series, ring, domain="contact")
