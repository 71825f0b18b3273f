"""Pseudonyms: HMAC known answers, the reference formula, properties, refusal, rotation."""

from __future__ import annotations

import base64
import hmac
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from linkage.exceptions import InvalidIdentifier, SchemaError
from linkage.identifiers import is_national_register_number
from linkage.keys import DOMAINS, KeyRing
from linkage.pseudonymise import (
    PSEUDONYM_PATTERN,
    base32_lower,
    canonical_values,
    crosswalk,
    hmac_sha256,
    hmac_sha256_column,
    hmac_sha256_many,
    pseudonym_versions,
    pseudonymise,
)

EXCHANGE = "vlaio-vdab-2025"
NRN = "85.07.30-033.28"  # the textbook example of a national register number
BIS = "85473003317"  # month + 40: a BIS number
PATTERN = re.compile(PSEUDONYM_PATTERN)
settings_ = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange=EXCHANGE)


def reference(value: str, ring: KeyRing, domain: str, version: int | None = None) -> str:
    """The pseudonym by its definition, one value, standard library only."""
    number = ring.current if version is None else version
    digest = hmac.digest(ring.key(domain, number).reveal(), value.encode("utf-8"), "sha256")
    return f"v{number}." + base64.b32encode(digest[:16]).decode().lower().rstrip("=")


def enterprise_numbers(n: int, *, start: int = 2_000_000, step: int = 7) -> pd.Series:
    base = start + np.arange(n, dtype=np.int64) * step
    numbers = base * 100 + (97 - base % 97)
    return pd.Series(np.char.zfill(numbers.astype("U10"), 10).astype(object))


# ------------------------------------------------------------------- known answers


def test_hmac_rfc4231_case_1() -> None:
    assert hmac_sha256(b"\x0b" * 20, b"Hi There").hex() == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )


def test_hmac_rfc4231_case_2() -> None:
    assert hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_hmac_rfc4231_case_6_key_longer_than_a_block() -> None:
    message = b"Test Using Larger Than Block-Size Key - Hash Key First"
    assert hmac_sha256(b"\xaa" * 131, message).hex() == (
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    )


@given(key=st.binary(min_size=1, max_size=200), messages=st.lists(st.binary(max_size=300)))
def test_hmac_kernel_equals_stdlib(key: bytes, messages: list[bytes]) -> None:
    assert hmac_sha256_many(key, messages) == [hmac.digest(key, m, "sha256") for m in messages]


@pytest.mark.parametrize(
    ("key", "message", "digest"),
    [
        (
            b"\x0b" * 20,
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ],
)
def test_hmac_column_rfc4231(key: bytes, message: bytes, digest: str) -> None:
    got = hmac_sha256_column(key, pa.array([message, message], pa.binary()))
    assert got.shape == (2, 32)
    assert [bytes(row).hex() for row in got] == [digest, digest]


@given(key=st.binary(max_size=200), messages=st.lists(st.binary(max_size=300), max_size=40))
def test_hmac_column_equals_stdlib(key: bytes, messages: list[bytes]) -> None:
    got = hmac_sha256_column(key, pa.array(messages, pa.binary()))
    assert [bytes(row) for row in got] == [hmac.digest(key, m, "sha256") for m in messages]


def test_hmac_column_of_text_across_its_blocks() -> None:
    """Text is hashed as its UTF-8 bytes, each value in its place past a query's block
    of 65,536 values."""
    values = [f"dossier {i} é" for i in range(70_000)]
    got = hmac_sha256_column(b"k" * 32, pa.array(values))
    for row in (0, 65_535, 65_536, 69_999):
        assert bytes(got[row]) == hmac.digest(b"k" * 32, values[row].encode(), "sha256")


def test_hmac_column_refuses_missing_values_and_hides_the_engine_error(monkeypatch) -> None:
    with pytest.raises(ValueError, match="missing values"):
        hmac_sha256_column(b"k" * 32, pa.array(["a", None]))
    import datafusion

    pad = bytes(b ^ 0x36 for b in b"k" * 32 + b"\0" * 32)

    def failing(*args, **kwargs):
        raise Exception(f"plan: concat({pad!r}, m)")  # an engine error naming the query

    monkeypatch.setattr(datafusion, "SessionContext", failing)
    with pytest.raises(RuntimeError) as raised:
        hmac_sha256_column(b"k" * 32, pa.array(["a"]))
    assert "plan" not in str(raised.value) and raised.value.__suppress_context__
    assert raised.value.__cause__ is None


@given(st.lists(st.binary(min_size=16, max_size=16), max_size=50))
def test_base32_equals_stdlib(rows: list[bytes]) -> None:
    array = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 16)
    got = [bytes(r) for r in base32_lower(array)]
    assert got == [base64.b32encode(r).lower().rstrip(b"=") for r in rows]


# ------------------------------------------------------------------------ formula


def test_pseudonym_is_the_reference_formula(ring: KeyRing) -> None:
    ids = pd.Series(["D-1", "D-2", "D-1", "Dossier 3"], name="dossier_id")
    out = pseudonymise(ids, ring, domain="dossier")
    assert out.tolist() == [reference(v, ring, "dossier") for v in ids]
    assert out.name == "dossier_id"
    assert out.dtype == pd.StringDtype("pyarrow")


def test_enterprise_numbers_in_any_written_form(ring: KeyRing) -> None:
    forms = pd.Series(["0403.170.701", "BE 0403 170 701", "403170701", 403170701, "0403170701"])
    out = pseudonymise(forms, ring, domain="enterprise")
    assert out.nunique() == 1
    assert out[0] == reference("0403170701", ring, "enterprise")


def test_establishment_numbers(ring: KeyRing) -> None:
    base = 20_000_000
    number = f"{base * 100 + 97 - base % 97:010d}"
    out = pseudonymise(pd.Series([number, None]), ring, domain="establishment")
    assert out[0] == reference(number, ring, "establishment")
    assert out.isna().tolist() == [False, True]


def test_invalid_enterprise_number_names_the_row_not_the_value(ring: KeyRing) -> None:
    ids = pd.Series(["0403170701", "0403170702"], name="kbo", index=[10, 11])
    with pytest.raises(InvalidIdentifier, match="column 'kbo', row 11") as err:
        pseudonymise(ids, ring, domain="enterprise")
    assert "0403170702" not in str(err.value) and "170.702" not in str(err.value)


def test_missing_stays_missing_and_index_is_kept(ring: KeyRing) -> None:
    ids = pd.Series(["a", None, np.nan, pd.NA, "", "   ", "b"], index=list("pqrstuv"))
    out = pseudonymise(ids, ring, domain="staff")
    assert out.index.tolist() == list("pqrstuv")
    assert out.isna().tolist() == [False, True, True, True, True, True, False]
    assert pseudonymise(pd.Series([], dtype=object), ring, domain="staff").empty
    assert pseudonymise(pd.Series([None, None]), ring, domain="enterprise").isna().all()


def test_canonical_text_is_nfc_and_trimmed(ring: KeyRing) -> None:
    composed = "Ren\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    ids = pd.Series([composed, decomposed, f"  {composed}\t", f"\u00a0{composed}"])
    out = pseudonymise(ids, ring, domain="contact")
    assert out.nunique() == 1
    assert out[0] == reference(composed, ring, "contact")
    assert canonical_values(ids, domain="contact").tolist() == [composed] * 4


def test_integer_and_whole_float_ids_agree(ring: KeyRing) -> None:
    as_int = pseudonymise(pd.Series([12, 345]), ring, domain="service")
    as_float = pseudonymise(pd.Series([12.0, 345.0, np.nan]), ring, domain="service")
    as_text = pseudonymise(pd.Series(["12", "345"]), ring, domain="service")
    assert as_int.tolist() == as_text.tolist() == as_float[:2].tolist()
    with pytest.raises(SchemaError, match=r"row 1: .*fractional"):
        pseudonymise(pd.Series([1.0, 2.5]), ring, domain="amount")


def test_not_a_series_is_refused(ring: KeyRing) -> None:
    with pytest.raises(SchemaError, match="Series"):
        pseudonymise(["a"], ring, domain="staff")  # type: ignore[arg-type]


def test_version_argument_and_versions_of_pseudonyms() -> None:
    ring = KeyRing.generate(exchange=EXCHANGE)
    ring.rotate()
    ids = pd.Series(["x", None, "y"])
    v1 = pseudonymise(ids, ring, domain="staff", version=1)
    v2 = pseudonymise(ids, ring, domain="staff")
    assert v1[0].startswith("v1.") and v2[0].startswith("v2.")
    assert v1[0][3:] != v2[0][3:]
    mixed = pd.Series([v1[0], v2[2], None, "not a pseudonym"])
    assert pseudonym_versions(mixed).tolist() == [1, 2, pd.NA, pd.NA]


# ---------------------------------------------------------------------- properties

identifiers = st.text(min_size=0, max_size=40) | st.integers(0, 10**15).map(str)


@settings_
@given(values=st.lists(identifiers | st.none(), max_size=30), domain=st.sampled_from(DOMAINS[2:]))
def test_properties_of_a_column(ring: KeyRing, values: list[str | None], domain: str) -> None:
    assume(not any(v is not None and is_national_register_number(v) for v in values))
    series = pd.Series(values, dtype=object)
    out = pseudonymise(series, ring, domain=domain)
    again = pseudonymise(series.copy(), ring, domain=domain)
    assert out.equals(again)  # deterministic
    for value, pseudonym in zip(values, out, strict=True):
        canonical = (
            None
            if value is None
            else unicodedata.normalize("NFC", value).strip(
                " \t\n\r\f\v\u00a0\u202f\u2007\u2009\u200b\ufeff"
            )
        )
        if not canonical:
            assert pseudonym is pd.NA  # NA and blanks stay missing
        else:
            assert PATTERN.match(pseudonym) and len(pseudonym) == 29
            assert pseudonym == reference(canonical, ring, domain)


@settings_
@given(value=identifiers.filter(lambda v: v.strip() != ""))
def test_domains_and_exchanges_are_unlinkable(ring: KeyRing, value: str) -> None:
    assume(not is_national_register_number(value))
    series = pd.Series([value])
    by_domain = {pseudonymise(series, ring, domain=d)[0] for d in DOMAINS[2:]}
    assert len(by_domain) == len(DOMAINS[2:])
    master = base64.b64encode(ring._versions[1].master.reveal()).decode()
    other = KeyRing.from_env(exchange="vlaio-vdab-2026", environ={"LINKAGE_MASTER_KEY": master})
    assert (
        pseudonymise(series, other, domain="staff")[0]
        != pseudonymise(series, ring, domain="staff")[0]
    )


def test_stable_from_run_to_run(ring: KeyRing, tmp_path) -> None:
    ids = enterprise_numbers(1000)
    path = ring.save(tmp_path / "k.key", passphrase="correct horse battery", scrypt_n=2**10)
    first = pseudonymise(ids, ring, domain="enterprise")
    loaded = KeyRing.load(path, passphrase="correct horse battery")
    later = pseudonymise(ids, loaded, domain="enterprise")
    assert first.equals(later)
    assert first.str.encode("ascii").tolist() == later.str.encode("ascii").tolist()


# ------------------------------------------------------------------------- refusal


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("written", [NRN, "85073003328", " 85 07 30 033 28 ", BIS, 85073003328])
def test_national_numbers_are_refused_in_every_domain(
    ring: KeyRing, domain: str, written: object
) -> None:
    good = enterprise_numbers(3)[0] if domain in ("enterprise", "establishment") else "ok"
    if domain == "establishment":
        good = "2000000016"
    ids = pd.Series([good, good, written, written], name="id", dtype=object)
    with pytest.raises(InvalidIdentifier, match=r"column 'id', row 2: a national register") as err:
        pseudonymise(ids, ring, domain=domain)
    message = str(err.value)
    assert "(and 1 more rows)" in message
    assert "85" not in message.replace("row 2", "")
    assert err.value.reason == "national register number"


def test_national_number_in_float_column_is_refused(ring: KeyRing) -> None:
    with pytest.raises(InvalidIdentifier, match="row 1: a national register"):
        pseudonymise(pd.Series([1.0, 85073003328.0]), ring, domain="staff")


# ------------------------------------------------------------------------ rotation


def test_crosswalk_re_keys_what_the_receiver_holds() -> None:
    ring = KeyRing.generate(exchange=EXCHANGE)
    ids = pd.Series(["0403170701", "0403.170.701", None, *enterprise_numbers(50).tolist()])
    held = pseudonymise(ids, ring, domain="enterprise")  # what the receiver has, v1
    ring.rotate()
    walk = crosswalk(ids, ring, domain="enterprise", old=1, new=2)
    assert list(walk.columns) == ["old", "new"]
    assert len(walk) == held.nunique() == 51
    assert walk["old"].is_monotonic_increasing and walk["old"].is_unique
    re_keyed = held.dropna().map(dict(zip(walk["old"], walk["new"], strict=True)))
    assert re_keyed.tolist() == pseudonymise(ids, ring, domain="enterprise").dropna().tolist()
    assert walk.stack().str.fullmatch(PSEUDONYM_PATTERN[1:-1]).all()  # pseudonyms only
    ring.retire(1)
    assert pseudonymise(ids, ring, domain="enterprise").dropna().str.startswith("v2.").all()


# ---------------------------------------------------------------- secrets and scale


def test_no_key_bytes_in_outputs_or_errors(ring: KeyRing) -> None:
    ids = enterprise_numbers(200)
    outputs = [
        pseudonymise(ids, ring, domain="enterprise").to_csv(),
        repr(pseudonymise(ids, ring, domain="staff")),
        crosswalk(ids, ring, domain="enterprise", old=1, new=1).to_csv(),
    ]
    for bad in (pd.Series([NRN]), pd.Series(["0403170702"])):
        try:
            pseudonymise(bad, ring, domain="enterprise")
        except InvalidIdentifier as exc:
            outputs.append(repr(exc) + str(exc))
    text = "\n".join(outputs)
    for domain in (*DOMAINS, None):
        raw = ring._versions[1].master.reveal() if domain is None else ring.key(domain).reveal()
        for form in (
            raw.hex(),
            base64.b64encode(raw).decode(),
            base64.b32encode(raw).decode().lower().rstrip("=")[:20],
        ):
            assert form not in text


def test_no_collisions_among_two_million_enterprise_numbers(ring: KeyRing) -> None:
    ids = enterprise_numbers(2_000_000, start=2_000_000, step=8)
    assert ids.is_unique
    out = pseudonymise(ids, ring, domain="enterprise")  # about 2-3 s on one core
    assert out.notna().all()
    assert out.is_unique


@pytest.mark.parametrize("domain", ["enterprise", "contact"])
def test_column_of_several_arrow_chunks(ring: KeyRing, domain: str) -> None:
    # pd.concat of two parties' Arrow-backed columns gives a chunked array.
    values = ["0403170701", "0403.170.701"] if domain == "enterprise" else ["C1", "C2"]
    first = pd.Series(values[:1], dtype="string[pyarrow]")
    second = pd.Series(values[1:], dtype="string[pyarrow]")
    joined = pd.concat([first, second], ignore_index=True)
    expected = pseudonymise(pd.Series(values), ring, domain=domain)
    pd.testing.assert_series_equal(
        pseudonymise(joined, ring, domain=domain), expected, check_dtype=False
    )


def test_known_pseudonyms_are_taken_and_the_result_is_the_same(caplog) -> None:
    """A previous delivery's pseudonyms, taken instead of hashing: the same Series,
    byte for byte; known ones that are not this key's are noticed and not taken."""
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    ids = pd.Series([f"DOS{i:06d}" for i in range(3000)], dtype="string[pyarrow]")
    made = pseudonymise(ids, ring, domain="dossier")
    known = pd.Series(made.to_numpy()[:2000], index=ids.to_numpy()[:2000])
    now = pd.concat(
        [ids.iloc[500:], pd.Series(["NEW", None, "DOS000007"], dtype="string[pyarrow]")],
        ignore_index=True,
    )
    expected = pseudonymise(now, ring, domain="dossier")
    assert pseudonymise(now, ring, domain="dossier", known=known).equals(expected)
    other = KeyRing.generate(exchange="vlaio-vdab-2025")
    stale = pd.Series(pseudonymise(ids, other, domain="dossier").to_numpy(), index=ids.to_numpy())
    with caplog.at_level("WARNING", logger="linkage"):
        assert pseudonymise(now, ring, domain="dossier", known=stale).equals(expected)
    assert any("made anew" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("known_ids", [False, True])
def test_refusal_of_repeated_values_names_the_first_row_and_counts_rows(
    ring: KeyRing, known_ids: bool
) -> None:
    """Arrow text is made canonical once per distinct value; a refusal still names the
    first row and counts every row, as a column of Python strings does (with or
    without known pseudonyms)."""
    values = ["0403170701", "85073003328", "0403.170.701", "85073003328", None, "x 85073003328"]
    arrow = pd.Series(values * 3, dtype="string[pyarrow]", name="kbo")
    known = None
    if known_ids:
        made = pseudonymise(pd.Series(["0403170701"]), ring, domain="enterprise")
        known = pd.Series(made.to_numpy(), index=["0403170701"])
    with pytest.raises(InvalidIdentifier) as plain:
        pseudonymise(arrow.astype(object), ring, domain="enterprise")
    with pytest.raises(InvalidIdentifier) as fast:
        pseudonymise(arrow, ring, domain="enterprise", known=known)
    assert str(fast.value) == str(plain.value)
    assert "(and 8 more rows)" in str(fast.value)


def test_distinct_values_as_written_give_the_same_pseudonyms(ring: KeyRing) -> None:
    """Arrow text (each distinct value made canonical once) and Python strings give
    the same pseudonyms, missing and empty values missing."""
    values = ["0403170701", "BE0403170701", " 0403.170.701 ", None, "", "0202239951"] * 4
    arrow = pseudonymise(pd.Series(values, dtype="string[pyarrow]"), ring, domain="enterprise")
    plain = pseudonymise(pd.Series(values, dtype=object), ring, domain="enterprise")
    pd.testing.assert_series_equal(arrow, plain, check_dtype=False)
    assert arrow.isna().tolist() == [v in (None, "") for v in values]
