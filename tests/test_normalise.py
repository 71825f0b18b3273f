"""Tests of linkage.normalise: known answers, reasons, properties, garbage at scale."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkage.exceptions import ConfigError
from linkage.normalise import (
    WHITESPACE,
    WHITESPACE_CHARS,
    collapse_whitespace,
    legal_forms,
    normalise_address,
    normalise_emails,
    normalise_names,
    normalise_phones,
    normalise_postcodes,
    normalise_street,
    normalise_websites,
    sort_tokens,
    split_address,
)
from linkage.normalise._addresses import _strip_box_word
from linkage.normalise._contacts import _belgian_fast_path, _phones, _reference_phone_kernel
from linkage.normalise._core import (
    MAX_CHARS,
    _plain_words,
    fold,
    pad,
    plain_words,
    replace_tokens,
    unpad,
    until_stable,
)
from linkage.normalise._names import (
    _CONNECTOR,
    _CONNECTORS,
    _MULTI_START_RE,
    _clean,
    _strip_forms,
    _strip_once,
    _stripped,
)

NA = pd.NA


def values(series: pd.Series) -> list[object]:
    """Values with every missing marker as pd.NA, for plain list comparison."""
    return [NA if pd.isna(v) else v for v in series.tolist()]


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    ("raw", "name", "form"),
    [
        ("Sabena", "sabena", NA),
        ("Nvidia", "nvidia", NA),
        ("N.V. Bekaert", "bekaert", "NV"),
        ("Bekaert NV", "bekaert", "NV"),
        ("Bekaert N.V.", "bekaert", "NV"),
        ("Bakkerij Peeters BVBA", "bakkerij peeters", "BVBA"),
        ("B.V.B.A. Bakkerij Peeters", "bakkerij peeters", "BVBA"),
        ("Peeters & Zonen", "peeters en zonen", NA),
        ("Peeters en zonen", "peeters en zonen", NA),
        ("Peeters and Sons", "peeters en sons", NA),
        ("Dupont et Fils S.A.", "dupont en fils", "SA"),
        ("L'Oréal Belgium SA", "loreal belgium", "SA"),
        ("Brouwerij Het Anker CVBA", "brouwerij het anker", "CVBA"),
        ("SA Peeters", "peeters", "SA"),
        ("Janssens Comm. V.", "janssens", "CommV"),
        ("Janssens Comm.V", "janssens", "CommV"),
        ("Janssens CommV", "janssens", "CommV"),
        ("GCV Janssens", "janssens", "GCV"),
        ("Vzw De Kring", "de kring", "VZW"),
        ("V.Z.W. De Kring", "de kring", "VZW"),
        ("A.S.B.L. Le Cercle", "le cercle", "ASBL"),
        ("Dupont S.P.R.L.", "dupont", "SPRL"),
        ("Dupont SRL", "dupont", "SRL"),
        ("Garage Vof", "garage", "VOF"),
        ("Garage V.O.F.", "garage", "VOF"),
        ("Bouw C.V.B.A.", "bouw", "CVBA"),
        ("Bouw IVZW", "bouw", "IVZW"),
        ("Bouw ESV", "bouw", "ESV"),
        ("Dupont SNC", "dupont", "SNC"),
        ("Dupont SCS", "dupont", "SCS"),
        ("Dupont SCRL", "dupont", "SCRL"),
        ("Dupont SC", "dupont", "SC"),
        ("Peeters Besloten Vennootschap", "peeters", "BV"),
        ("Naamloze Vennootschap Peeters", "peeters", "NV"),
        ("Société Anonyme Dupont", "dupont", "SA"),
        ("Dupont société à responsabilité limitée", "dupont", "SRL"),
        ("  ÉTABLISSEMENTS   Müller-Lüdenscheidt  ", "etablissements muller ludenscheidt", NA),
        ("Bekaert NV/SA", "bekaert", "NV"),
    ],
)
def test_names_known_answers(raw: str, name: str, form: object) -> None:
    assert values(normalise_names(pd.Series([raw]))) == [name]
    assert values(legal_forms(pd.Series([raw]))) == [form]


def test_names_reasons_and_missing() -> None:
    raw = pd.Series(["B.V.B.A.", "...", None, "   ", "Peeters NV"], index=[5, 6, 7, 8, 9])
    out = normalise_names(raw, return_reasons=True)
    assert list(out.columns) == ["name", "reason"]
    assert list(out.index) == [5, 6, 7, 8, 9]
    assert values(out["name"]) == [NA, NA, NA, NA, "peeters"]
    assert values(out["reason"]) == ["only a legal form", "no letters or digits", NA, NA, NA]


def test_names_keep_index_name_and_dtype() -> None:
    raw = pd.Series(["Peeters NV", "Janssens BV"], index=["a", "b"], name="naam")
    out = normalise_names(raw)
    assert out.name == "naam"
    assert list(out.index) == ["a", "b"]
    assert out.dtype == "string"


def test_sort_tokens() -> None:
    out = sort_tokens(pd.Series(["peeters bakkerij", "zonen  en peeters", None, "a"]))
    assert values(out) == ["bakkerij peeters", "en peeters zonen", NA, "a"]


@pytest.mark.parametrize(
    ("line", "street", "number", "box"),
    [
        ("Kerkstraat 12 bus 3", "kerkstraat", "12", "3"),
        ("Kerkstraat 12/3", "kerkstraat", "12", "3"),
        ("Kerkstraat 12 / 3", "kerkstraat", "12", "3"),
        ("Kerkstr. 12A", "kerkstraat", "12a", NA),
        ("Kerkstraat 12 A bus 3", "kerkstraat", "12a", "3"),
        ("Steenweg op Gent 221-223", "steenweg op gent", "221-223", NA),
        ("Dieweg 61 b2", "dieweg", "61", "2"),
        ("Kerkstraat 12 bte 3", "kerkstraat", "12", "3"),
        ("Rue Haute 5 boîte 12", "rue haute", "5", "12"),
        ("Kerkstraat 12 b. 3", "kerkstraat", "12", "3"),
        ("Kerkstraat 12, bus 003", "kerkstraat", "12", "3"),
        ("Kerkstraat 012 bus 0.1", "kerkstraat", "12", "0.1"),
        ("Kerkstraat", "kerkstraat", NA, NA),
        ("12 rue de la Loi", "rue de la loi", "12", NA),
        ("Rue du 11 Novembre 5", "rue du 11 novembre", "5", NA),
        ("St-Pietersnieuwstraat 33", "sint pietersnieuwstraat", "33", NA),
        ("Gentse Stwg 5", "gentse steenweg", "5", NA),
        ("Stationsstr 1", "stationsstraat", "1", NA),
        ("Kerkstraat 12, 9000 Gent", "kerkstraat", "12", NA),
        ("Kerkstraat nr. 12", "kerkstraat", "12", NA),
    ],
)
def test_split_address_known_answers(line: str, street: str, number: object, box: object) -> None:
    out = split_address(pd.Series([line]))
    assert list(out.columns) == ["street", "house_number", "box"]
    assert values(out.iloc[0]) == [street, number, box]


@pytest.mark.parametrize(
    ("raw", "street"),
    [
        ("Kerkstr.", "kerkstraat"),
        ("Stationsstr", "stationsstraat"),
        ("Gentse stwg", "gentse steenweg"),
        ("Brusselsestwg.", "brusselsesteenweg"),
        ("Gentse Stw.", "gentse steenweg"),
        ("Koning Albertln", "koning albertlaan"),
        ("Marktpl.", "marktplein"),
        ("Grote pl", "grote plein"),
        ("Bld. Anspach", "boulevard anspach"),
        ("Blvd Anspach", "boulevard anspach"),
        ("Beukendr.", "beukendreef"),
        ("Dr. Van de Perrestraat", "dokter van de perrestraat"),
        ("St-Pietersnieuwstraat", "sint pietersnieuwstraat"),
        ("St.-Amandsstraat", "sint amandsstraat"),
        ("Av. Louise", "avenue louise"),
        ("Ch. de Wavre", "chaussee de wavre"),
        ("Burg. Lemmensstraat", "burgemeester lemmensstraat"),
        ("O.L.V.-Kerkstraat", "onze lieve vrouw kerkstraat"),
        ("Rue de l'Église", "rue de leglise"),
        ("Kaai", "kaai"),
        ("Frankrijklei", "frankrijklei"),
        ("Straat", "straat"),
    ],
)
def test_normalise_street_known_answers(raw: str, street: str) -> None:
    assert values(normalise_street(pd.Series([raw]))) == [street]


@pytest.mark.parametrize(
    ("raw", "street"),
    [
        # a type cut short, with a dot or without (consonants only), glued or apart
        ("Gabriëlst.", "gabrielstraat"),
        ("Gabriëlstr", "gabrielstraat"),
        ("Kasteelst.", "kasteelstraat"),
        ("Dorpsstr", "dorpsstraat"),
        ("Dorpsstrt", "dorpsstraat"),
        ("Stationssteenw.", "stationssteenweg"),
        ("Gentse stwg.", "gentse steenweg"),
        ("Gentse Stnwg", "gentse steenweg"),
        ("Stwg. op Gent", "steenweg op gent"),
        ("Kon. Astridln.", "kon astridlaan"),
        ("Kerkdk", "kerkdijk"),
        ("Oude mrkt", "oude markt"),
        ("Gr. Markt", "grote markt"),
        ("Gr Markt", "grote markt"),
        ("Chss. de Louvain", "chaussee de louvain"),
        ("Chss de Louvain", "chaussee de louvain"),
        ("Imp. du Moulin", "impasse du moulin"),
        ("Aven. Louise", "avenue louise"),
        ("Boul. Anspach", "boulevard anspach"),
        ("Sq. Ambiorix", "square ambiorix"),
        # words, not types: a vowel, or "-st", or a reading _LEADING has already
        ("Oost", "oost"),
        ("Herfst", "herfst"),
        ("Van Hulst", "van hulst"),
        ("Ravensteen", "ravensteen"),
        ("De Pintelaan", "de pintelaan"),
        ("An de Beek", "an de beek"),
        ("Is Hoek", "is hoek"),
        ("Hof ter Lo", "hof ter lo"),
        ("Dr. Van de Perrestraat", "dokter van de perrestraat"),
        ("St. Pietersplein", "sint pietersplein"),
        ("Pl. Flagey", "place flagey"),
        ("Prof. Dr. Van Roosbroeckstraat", "professor dr van roosbroeckstraat"),
        ("Burg. Dr. Pr. Jansenslaan", "burgemeester dr pr jansenslaan"),
    ],
)
def test_normalise_street_contracted_types(raw: str, street: str) -> None:
    assert values(normalise_street(pd.Series([raw]))) == [street]
    # and the same in a one-line address
    assert values(split_address(pd.Series([raw + " 12"]))["street"]) == [street]


def test_street_type_contractions_follow_the_rule() -> None:
    from linkage.normalise import _addresses as A

    for table, vowels in ((A._DOTTED, True), (A._BARE, False), (A._FIRST_DOTTED, True)):
        seen: set[str] = set()
        for word, abbreviations in table.items():
            for a in abbreviations:
                assert a not in seen  # each contraction is read as one type
                seen.add(a)
                rest = iter(word[1:])
                assert a[0] == word[0] and all(c in rest for c in a[1:]), (a, word)
                assert vowels or not set(a[1:]) & set("aeiouy")
    assert "st" not in {a for t in A._BARE.values() for a in t}
    assert A._DOTTED["straat"][:3] == ["sa", "saa", "saat"] and "st" in A._DOTTED["straat"]


def test_normalise_address_reads_a_whole_line_typed_in_the_street() -> None:
    # No house number, and the street holds one: the line is read as split_address
    # reads it. A street whose name holds a number stays as it is.
    out = normalise_address(
        pd.Series(["Bergstraat 20 bus 19", "Rue du 11 Novembre", "Kerkstr. 5A", "Kerkstraat 3"]),
        pd.Series([None, None, None, "7"]),
        return_reasons=True,
    )
    assert values(out["street"]) == [
        "bergstraat",
        "rue du 11 novembre",
        "kerkstraat",
        "kerkstraat 3",
    ]
    assert values(out["house_number"]) == ["20", NA, "5a", "7"]
    assert values(out["box"]) == ["19", NA, NA, NA]
    assert values(out["reason"]) == [NA, "no house number", NA, NA]


def test_normalise_address_separate_fields() -> None:
    out = normalise_address(
        pd.Series(["Kerkstr.", "Dieweg", "Kerkstraat", "Kerkstraat"], index=[3, 2, 1, 0]),
        pd.Series([12.0, "61 b2", "12A", "twaalf"], index=[3, 2, 1, 0]),
        pd.Series(["b3", None, "bus 004", None], index=[3, 2, 1, 0]),
        return_reasons=True,
    )
    assert list(out.index) == [3, 2, 1, 0]
    assert values(out["street"]) == ["kerkstraat", "dieweg", "kerkstraat", "kerkstraat"]
    assert values(out["house_number"]) == ["12", "61", "12a", NA]
    assert values(out["box"]) == ["3", "2", "4", NA]
    assert values(out["reason"]) == [NA, NA, NA, "no house number"]


def test_normalise_address_line_when_no_number_given() -> None:
    out = normalise_address(pd.Series(["Kerkstraat 12 bus 3"]))
    assert values(out.iloc[0]) == ["kerkstraat", "12", "3"]


def test_normalise_address_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        normalise_address(pd.Series(["a", "b"]), pd.Series(["1"]))


def test_postcodes() -> None:
    raw = pd.Series(["B-9000", "9000 Gent", 9000, "9000.0", "BE 9000", "Gent (9000)",
                     "0999", "12345", "x", None, "1000"], dtype=object)  # fmt: skip
    out = normalise_postcodes(raw, return_reasons=True)
    expected = ["9000"] * 6 + [NA, NA, NA, NA, "1000"]
    assert values(out["postcode"]) == expected
    reasons = ["below 1000", "not 4 digits", "not 4 digits", NA, NA]
    assert values(out["reason"]) == [NA] * 6 + reasons
    assert values(normalise_postcodes(pd.Series([9000.0, np.nan]))) == ["9000", NA]


def test_phones() -> None:
    raw = pd.Series(["09 265 72 11", "+32 (0)9 265 72 11", "0032 9 265 72 11", "09/265.72.11",
                     "0475 12 34 56", "+31 20 123 4567", "123", "geen", None])  # fmt: skip
    out = normalise_phones(raw, return_reasons=True)
    assert values(out["phone"]) == ["+3292657211"] * 4 + ["+32475123456", "+31201234567"] + [NA] * 3
    assert values(out["reason"]) == [NA] * 6 + ["invalid number", "not a phone number", NA]
    nl = normalise_phones(pd.Series(["020 123 4567"]), region="NL")
    assert values(nl) == ["+31201234567"]


@pytest.mark.parametrize(
    ("raw", "phone", "reason"),
    [
        ("+32 09 265 72 11", "+3292657211", NA),  # trunk 0 after the country code
        ("+32475123456", "+32475123456", NA),
        ("0475/12.34.56", "+32475123456", NA),
        ("0800 12 345", "+3280012345", NA),  # toll free
        ("078 15 12 34", "+3278151234", NA),  # national rate (UAN)
        ("0902 12 345", "+3290212345", NA),  # premium rate
        ("04 223 45 67", "+3242234567", NA),  # Liège, a landline in 4
        ("09 123 45 67", NA, "invalid number"),  # 091 is not a Gent range
        ("0475 12 34 567", NA, "invalid number"),  # a mobile number one digit long
        ("0445 12 34 56", NA, "invalid number"),  # 044 is neither fixed nor mobile
        ("+32 0 12", NA, "invalid number"),  # too short to lose its trunk 0
        ("01", NA, "invalid number"),
        ("0" + "2" * 17, NA, "invalid number"),  # 17 digits still parse
        ("0" + "2" * 18, NA, "not a phone number"),
        ("+321", NA, "not a phone number"),
        ("+32", NA, "not a phone number"),
        ("0", NA, "not a phone number"),
        ("032 2 123 45 67", NA, "invalid number"),
    ],
)
def test_phones_belgian(raw: str, phone: object, reason: object) -> None:
    out = normalise_phones(pd.Series([raw]), return_reasons=True)
    assert values(out["phone"]) == [phone]
    assert values(out["reason"]) == [reason]


@pytest.mark.parametrize(
    ("raw", "phone", "valid", "reason"),
    [
        ("03 907 37 57", "+3239073757", False, NA),  # well formed, not a range phonenumbers knows
        ("+32 3 907 37 57", "+3239073757", False, NA),
        ("0032 (0)3 907.37.57", "+3239073757", False, NA),
        ("09 123 45 67", "+3291234567", False, NA),
        ("0445 12 34 56", "+32445123456", False, NA),  # 9 digits: a possible length
        ("09 265 72 11", "+3292657211", True, NA),
        ("0475 12 34 56", "+32475123456", True, NA),
        ("+31 20 123 4567", "+31201234567", True, NA),
        ("0475 12 34 567", NA, False, "wrong length"),  # 10 digits
        ("+32 0 12", NA, False, "wrong length"),
        ("123", NA, False, "wrong length"),
        ("0" + "2" * 17, NA, False, "wrong length"),
        ("0" + "2" * 18, NA, NA, "not a phone number"),
        ("geen", NA, NA, "not a phone number"),
    ],
)
def test_phones_possible(raw: str, phone: object, valid: object, reason: object) -> None:
    out = normalise_phones(pd.Series([raw]), keep="possible", return_reasons=True)
    assert list(out.columns) == ["phone", "valid", "reason"]
    assert values(out["phone"]) == [phone]
    assert values(out["valid"]) == [valid]
    assert values(out["reason"]) == [reason]
    # What a quality check asks is unchanged: only valid numbers are kept.
    assert values(normalise_phones(pd.Series([raw]))) == [phone if valid is True else NA]


def test_phones_keep_must_be_known() -> None:
    with pytest.raises(ConfigError, match="keep must be one of 'valid', 'possible'"):
        normalise_phones(pd.Series(["1"]), keep="assigned")  # type: ignore[arg-type]


def test_phones_fast_path_decides_belgian_numbers() -> None:
    # Guards against a ``phonenumbers`` upgrade silently switching the fast path off.
    cleaned = pa.array(["+3292657211", "0475123456", "+31201234567", "+321", "٠٩٢٦٥٧٢١١"])
    phone, valid, reason, decided = _belgian_fast_path(cleaned, national=True)
    assert decided.to_pylist() == [True, True, False, False, False]
    assert phone.to_pylist()[:2] == ["+3292657211", "+32475123456"]
    assert valid.to_pylist()[:2] == [True, True]
    assert reason.to_pylist()[:2] == [None, None]
    _, _, _, decided = _belgian_fast_path(cleaned, national=False)
    assert decided.to_pylist() == [True, False, False, False, False]


def test_phones_unknown_region() -> None:
    with pytest.raises(ConfigError, match="region 'XX'"):
        normalise_phones(pd.Series(["1"]), region="XX")


def test_emails() -> None:
    raw = pd.Series([" Info@Bakkerij.BE ", "mailto:jan@x.be", "Jan <jan@x.be>", "jan@x",
                     "jan@@x.be", "jan @x.be", "nomail", "@x.be", None])  # fmt: skip
    out = normalise_emails(raw, return_reasons=True)
    assert values(out["email"]) == ["info@bakkerij.be", "jan@x.be", "jan@x.be"] + [NA] * 6
    assert values(out["domain"]) == ["bakkerij.be", "x.be", "x.be"] + [NA] * 6
    assert values(out["reason"]) == [NA] * 3 + ["bad local part or domain", "several @",
        "contains spaces", "no @", "bad local part or domain", NA]  # fmt: skip


def test_websites() -> None:
    raw = pd.Series(["https://www.Bakkerij-Peeters.be/contact", "http://www.x.be:8080/a?b=c#d",
                     "www.x.be", "X.BE.", "www.be", "geen", "http://", "http://192.168.0.1/",
                     "user@www.x.be", None])  # fmt: skip
    out = normalise_websites(raw, return_reasons=True)
    assert values(out["website"]) == ["bakkerij-peeters.be", "x.be", "x.be", "x.be", "www.be",
                                      NA, NA, NA, "x.be", NA]  # fmt: skip
    assert values(out["reason"])[5:8] == ["not a domain name", "no host", "not a domain name"]


def test_empty_input() -> None:
    empty = pd.Series([], dtype=object)
    assert len(normalise_names(empty)) == 0
    assert list(split_address(empty).columns) == ["street", "house_number", "box"]
    columns = normalise_emails(empty, return_reasons=True).columns
    assert list(columns) == ["email", "domain", "reason"]
    assert len(normalise_phones(empty)) == 0


def test_whitespace_is_one_set_for_python_re_and_arrow() -> None:
    import re
    import sys

    import pyarrow.compute as pc

    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert list(WHITESPACE_CHARS) == spaces
    probe = [chr(i) for i in range(0x3100) if not 0xD800 <= i < 0xE000]
    python = [re.fullmatch(WHITESPACE, c) is not None for c in probe]
    arrow = pc.match_substring_regex(pa.array(probe), f"^{WHITESPACE}$").to_pylist()
    assert python == arrow == [c in spaces for c in probe]


def test_collapse_whitespace_series_and_arrow() -> None:
    texts = [" Jan\u00a0\u202f Peeters\t", "a\u3000\u2007b", " \u2009 ", None]
    raw = pd.Series(texts, index=[5, 6, 7, 8], name="n")
    got = collapse_whitespace(raw)
    assert values(got) == ["Jan Peeters", "a b", NA, NA]
    assert got.index.tolist() == [5, 6, 7, 8] and got.name == "n"
    assert str(got.dtype) == "string"
    arrow = collapse_whitespace(pa.array(["x \x1c y", "", None]))
    assert isinstance(arrow, pa.Array) and arrow.to_pylist() == ["x y", None, None]
    # the same as Python's own split and join, on every space
    text = "".join(f"w{c}{c}" for c in WHITESPACE_CHARS)
    assert collapse_whitespace(pd.Series([text])).iloc[0] == " ".join(text.split())


def test_contacts_read_unicode_spaces() -> None:
    emails = normalise_emails(pd.Series(["jan\u00a0peeters@x.be"]), return_reasons=True)
    assert emails["reason"].tolist() == ["contains spaces"]
    phones = normalise_phones(pd.Series(["09\u202f225\u202f12\u202f34", "09 225 12 34"]))
    assert phones.iloc[0] == phones.iloc[1] and pd.notna(phones.iloc[0])


# ---------------------------------------------------------------- properties

_VOCAB = ["bv", "b.v.", "nv", "n.v.", "comm", "v", "commv", "sa", "s.a.", "&", "en", "et", "and",
          "peeters", "sabena", "société", "anonyme", "besloten", "vennootschap", "st", "str", "dr",
          "kerkstr.", "stwg", "pl", "12", "12a", "221-223", "bus", "b", "/", "3", "b2", "bte",
          "www.", "http://", "@", ".be", "+32", "0475", "(0)", "9000", "B-", ",", "'", "-", "ß",
          "İ", "℃", "ﬁ", "é", "Ø"]  # fmt: skip

_texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(_VOCAB), max_size=8).map(" ".join),
    st.lists(st.sampled_from(_VOCAB), max_size=8).map("".join),
)
_columns = st.lists(st.one_of(st.none(), _texts), max_size=20).map(
    lambda xs: pd.Series(xs, index=np.arange(len(xs)) * 3 + 7, dtype=object)
)

_SERIES_FUNCTIONS = [
    normalise_names,
    legal_forms,
    sort_tokens,
    normalise_street,
    normalise_postcodes,
    normalise_phones,
    normalise_websites,
]
_prop_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("fn", _SERIES_FUNCTIONS, ids=lambda f: f.__name__)
@_prop_settings
@given(raw=_columns)
def test_series_functions_idempotent_and_shape_preserving(fn, raw: pd.Series) -> None:
    once = fn(raw)
    assert once.index.equals(raw.index)
    assert once[raw.isna()].isna().all()
    assert values(fn(once)) == values(once)
    with_reasons = fn(raw, return_reasons=True)
    assert values(with_reasons.iloc[:, 0]) == values(once)
    # a reason is given exactly where a present value became missing
    became_missing = once.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if fn is not legal_forms:
        assert (with_reasons["reason"].notna() == became_missing).all()


@_prop_settings
@given(raw=st.lists(st.one_of(st.none(), st.text(alphabet=WHITESPACE_CHARS + "ab.", max_size=12))))
def test_collapse_whitespace_equals_python_split(raw: list[str | None]) -> None:
    got = collapse_whitespace(pd.Series(raw, dtype=object))
    expected = [NA if v is None or not v.split() else " ".join(v.split()) for v in raw]
    assert values(got) == expected


@_prop_settings
@given(tokens=st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=8), seed=st.integers(0, 99))
def test_sort_tokens_ignores_word_order(tokens: list[str], seed: int) -> None:
    shuffled = list(np.random.default_rng(seed).permutation(tokens))
    out = sort_tokens(pd.Series([" ".join(tokens), " ".join(shuffled)]))
    assert out.iloc[0] == out.iloc[1]


@_prop_settings
@given(raw=_columns)
def test_split_address_fixed_point(raw: pd.Series) -> None:
    parts = split_address(raw)
    assert parts.index.equals(raw.index)
    assert parts[raw.isna()].isna().all().all()
    again = normalise_address(parts["street"], parts["house_number"], parts["box"])
    pd.testing.assert_frame_equal(again, parts)


@_prop_settings
@given(raw=_columns)
def test_emails_idempotent(raw: pd.Series) -> None:
    once = normalise_emails(raw)
    assert once.index.equals(raw.index)
    assert once[raw.isna()].isna().all().all()
    pd.testing.assert_series_equal(normalise_emails(once["email"])["email"], once["email"])


def _reference_phones(raw: pd.Series, region: str = "BE", keep: str = "valid") -> pd.DataFrame:
    kernel = partial(_reference_phone_kernel, region=region, keep=keep)
    return _phones(raw, kernel, keep=keep, return_reasons=True)


_digits = st.text("0123456789", min_size=0, max_size=12)
# Belgian-looking national significant numbers: real prefixes and random digits.
_nsns = st.one_of(
    st.tuples(st.sampled_from(["2", "3", "4", "9", "45", "47", "49", "70", "78", "80", "90",
                               "91", "0", "04", "1", "5", "6", "8"]), _digits).map("".join),
    _digits,
)  # fmt: skip


def _groups(digits: str, cuts: list[int], seps: list[str]) -> str:
    """Digits cut into groups, joined by separators as people write them."""
    out, start = [], 0
    for cut, sep in zip(sorted(cuts), seps, strict=False):
        out.append(digits[start:cut] + sep)
        start = cut
    return "".join(out) + digits[start:]


_belgian = st.builds(
    lambda prefix, nsn, cuts, seps: prefix + _groups(nsn, cuts, seps),
    st.sampled_from(["0", "+32", "+32 ", "+32 (0)", "0032 ", "0032 (0)", "0032", "+320", "00320",
                     "+32 0", "(0)", "32", "+", "", "0 ", "+31 ", "+33 ", "0031", "++32", "+ 32"]),
    _nsns,
    st.lists(st.integers(0, 12), max_size=4),
    st.lists(st.sampled_from([" ", "/", ".", "-", "", " - ", "\xa0", "(", ")", "  "]), max_size=4),
)  # fmt: skip
_phone_columns = st.lists(
    st.one_of(_belgian, st.sampled_from(_VOCAB), st.text(max_size=12), st.none()), max_size=30
).map(lambda xs: pd.Series(xs, dtype=object))


@_prop_settings
@given(
    raw=_phone_columns,
    region=st.sampled_from(["BE", "NL"]),
    keep=st.sampled_from(["valid", "possible"]),
)
def test_phones_fast_path_equals_phonenumbers(raw: pd.Series, region: str, keep: str) -> None:
    fast = normalise_phones(raw, region=region, keep=keep, return_reasons=True)
    pd.testing.assert_frame_equal(fast, _reference_phones(raw, region, keep))


@_prop_settings
@given(raw=_phone_columns)
def test_phones_possible_keeps_every_valid_number_and_is_idempotent(raw: pd.Series) -> None:
    valid = normalise_phones(raw)
    possible = normalise_phones(raw, keep="possible", return_reasons=True)
    # Everything "valid" keeps, "possible" keeps too, as the same E.164 number.
    assert (possible["phone"][valid.notna()] == valid[valid.notna()]).all()
    # "valid" is true exactly where the valid-only normaliser kept the number.
    kept = possible["phone"].notna()
    assert (possible["valid"][kept].astype(bool) == valid.notna()[kept]).all()
    again = normalise_phones(possible["phone"], keep="possible")
    assert values(again) == values(possible["phone"])


def test_phones_without_the_fast_path_go_to_phonenumbers(monkeypatch) -> None:
    # What a phonenumbers upgrade that breaks the fast path's premise leaves.
    from linkage.normalise import _contacts

    monkeypatch.setattr(_contacts, "_FAST", False)
    raw = pd.Series(["09 265 72 11", "+31 20 123 4567", "geen", None], dtype=object)
    out = normalise_phones(raw, return_reasons=True)
    assert out["phone"].tolist()[:2] == ["+3292657211", "+31201234567"]
    pd.testing.assert_frame_equal(out, _reference_phones(raw, "BE"))


def test_phones_fast_path_equals_phonenumbers_on_every_prefix() -> None:
    # Every 3-digit start of a national significant number, 1 to 19 digits long,
    # written in the three forms that reach the fast path.
    rng = np.random.default_rng(32)
    nsns = []
    for length in range(1, 20):
        prefixes = [f"{p:03d}"[:length] for p in range(1000)]
        suffixes = rng.integers(0, 10, (1000, max(length - 3, 0))).astype(str)
        nsns += [p + "".join(s) for p, s in zip(prefixes, suffixes, strict=True)]
    raw = pd.Series([form + nsn for nsn in sorted(set(nsns)) for form in ("+32", "0", "+320")])
    fast = normalise_phones(raw, return_reasons=True)
    pd.testing.assert_frame_equal(fast, _reference_phones(raw))
    assert fast["phone"].notna().sum() > 1000
    possible = normalise_phones(raw, keep="possible", return_reasons=True)
    pd.testing.assert_frame_equal(possible, _reference_phones(raw, keep="possible"))
    assert possible["phone"].notna().sum() > fast["phone"].notna().sum()


# ---------------------------------------------------------------- garbage at scale


@pytest.fixture(scope="module")
def garbage() -> pd.Series:
    rng = np.random.default_rng(20240601)
    junk = np.array(
        ["Peeters NV", "Kerkstraat 12 bus 3", "09 265 72 11", "jan@x.be", "https://x.be/a",
         "9000", "", "   ", "\x00\x01", "\ud800 lone surrogate", "🍺 bier & co", "x" * 5000,
         "////", "@@@", "((((", "+++", "ﬁ℃İ", "\\", ".*", "NaN", "None"], dtype=object)  # fmt: skip
    others = np.array([None, np.nan, 12, 9000.0, -1.5, b"bytes \xff", {"a": 1}, [1, 2], True],
                      dtype=object)  # fmt: skip
    values = junk[rng.integers(0, len(junk), 100_000)]
    spots = rng.integers(0, 100_000, 5_000)
    values[spots] = others[rng.integers(0, len(others), len(spots))]
    return pd.Series(values, dtype=object)


@pytest.mark.slow
@pytest.mark.parametrize(
    "fn",
    [*_SERIES_FUNCTIONS, split_address, normalise_address, normalise_emails],
    ids=lambda f: f.__name__,
)
def test_garbage_never_raises(fn, garbage: pd.Series) -> None:
    out = fn(garbage, return_reasons=True)
    assert len(out) == len(garbage)
    assert out.index.equals(garbage.index)
    assert out[garbage.isna()].isna().all().all()


# ------------------------------------------------------------------ long values


@pytest.mark.parametrize(
    ("fn", "column"),
    [
        (normalise_names, None),
        (normalise_street, None),
        (partial(split_address, return_reasons=True), "street"),
        (normalise_websites, None),
    ],
    ids=["names", "street", "split_address", "websites"],
)
def test_a_value_over_the_cap_is_missing_with_its_reason(fn, column, caplog) -> None:
    # A 100 KB name of legal-form words took 16 s (each round of form stripping
    # removed one pair and went over the whole value); over MAX_CHARS a value is
    # not normalised at all but reported.
    long = "comm " * 10_000 + "v " * 10_000
    at_cap = "www." + "x" * (MAX_CHARS - 7) + ".be"
    raw = pd.Series(["Peeters NV", long, at_cap], name="naam")
    with caplog.at_level("WARNING", logger="linkage.normalise._core"):
        out = fn(raw) if column else fn(raw, return_reasons=True)
    got = out[column] if column else out.iloc[:, 0]
    assert pd.isna(got.iloc[1]) and not pd.isna(got.iloc[2])
    assert out["reason"].iloc[1] == f"longer than {MAX_CHARS:,} characters"
    assert "column 'naam': 1 value(s) longer than 1,000 characters left out" in caplog.text


def test_a_long_box_is_missing_with_its_reason() -> None:
    out = normalise_address(
        pd.Series(["Kerkstraat", "Kerkstraat"]),
        pd.Series(["12 bus 4", "12"]),
        pd.Series(["bus " * 250_000 + "3", "bus bus 3"]),
        return_reasons=True,
    )
    # The long box is left out: the box written with the house number stays.
    assert out["box"].tolist() == ["4", "3"]
    assert out["reason"].tolist() == [f"longer than {MAX_CHARS:,} characters", NA]


def _loop_reference(arr: pa.Array, step) -> pa.Array:
    """The plain loop: the whole array again until it stops changing."""
    while True:
        stepped = step(arr)
        if stepped.equals(arr):
            return arr
        arr = stepped


_ROUND_TOKENS = st.sampled_from(["bus", "b", "bte", "box", "/", "3", "comm", "v", "va", "nv", "x"])


@given(
    raw=st.lists(
        st.one_of(st.none(), st.lists(_ROUND_TOKENS, min_size=1, max_size=12).map(" ".join)),
        max_size=20,
    )
)
def test_until_stable_equals_the_plain_loop(raw) -> None:
    arr = pa.array(raw, pa.string())
    for step in (_strip_box_word, _strip_once):
        assert until_stable(arr, step).equals(_loop_reference(arr, step))
    # Revisiting only what may change again (a changed name holding the first word
    # of a multi-word form) gives the same.
    again = until_stable(
        arr, _strip_once, again=lambda s: pc.match_substring_regex(pad(s), _MULTI_START_RE)
    )
    assert again.equals(_loop_reference(arr, _strip_once))


_WORDISH = st.text(alphabet=st.sampled_from("aab  z09.'\u2019-&\t\u00a0\u00e9\u0436"), max_size=8)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.lists(st.one_of(st.none(), _WORDISH), max_size=12), large=st.booleans())
@example(raw=["a ", " a", "a  b", "", "ab 09", None], large=False)
def test_plain_words_rewrites_only_what_it_would_change(raw: list[str | None], large) -> None:
    """Values left as they are (plain words already) are those a rewrite leaves."""
    folded = pa.array(raw, type=pa.large_string() if large else pa.string())
    assert plain_words(folded).equals(_plain_words(folded))
    assert plain_words(pa.chunked_array([folded, folded])).equals(
        _plain_words(pa.concat_arrays([folded, folded]))
    )


_NAME_WORDS = st.sampled_from(
    ["and", "et", "und", "en", "bvba", "comm", "v", "commv", "nv", "peeters", "andre", "comm v"]
)
_NAMEISH = st.lists(
    st.one_of(_NAME_WORDS, st.sampled_from([" ", "  ", "\t", "&", ".", "'"])), max_size=8
).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.lists(st.one_of(st.none(), _NAMEISH), max_size=12), large=st.booleans())
@example(raw=["comm commv v", "peeters comm v", "a and b", "et", " nv ", "andre"], large=False)
def test_names_rewrite_only_the_names_that_hold_a_token(raw: list[str | None], large) -> None:
    """The connectors' and the legal forms' rewrites, run on the names that hold a
    token only, give what they give run on every name."""
    values = pa.array(raw, type=pa.large_string() if large else pa.string())
    plain = plain_words(pc.replace_substring(fold(values), "&", " and "))
    every = unpad(replace_tokens(pad(plain), _CONNECTORS, _CONNECTOR))
    assert _clean(values).equals(every)
    assert _strip_forms(every).equals(_stripped(every))


def test_plain_words_known_answers() -> None:
    raw = ["b.v.b.a. peeters", "l'oreal", " jan  peeters ", "", "plain", None, "caf\u00e9-bar"]
    plain = ["bvba peeters", "loreal", "jan peeters", None, "plain", None, "caf\u00e9 bar"]
    assert plain_words(pa.array(raw)).to_pylist() == plain
