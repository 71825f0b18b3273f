"""The noise model of VDAB's copies, and the vectorised functions that apply it.

Every rate is the probability that one record gets that kind of error, drawn
independently per record with numpy masks (so a record can carry several). Rates
marked *of those with X* apply only to records that have X. Defaults:

=============================== ======= =====================================================
field                           default meaning
=============================== ======= =====================================================
employer_coverage               0.70    share of VLAIO enterprises VDAB knows as employer,
                                        weighted toward larger ones (legal persons above
                                        sole proprietorships, larger size classes higher)
unknown_employer_share          0.10    share of VDAB employers that VLAIO does not know
site_coverage                   0.85    share of a known employer's units with a VDAB site
extra_site_share                0.05    extra sites of known employers, per linked site,
                                        that match no VLAIO establishment unit
number_missing                  0.14    enterprise number left empty (about 1 in 7)
number_mistyped                 0.02    one digit replaced (always fails mod 97)
number_transposed               0.015   two adjacent different digits swapped (fails mod 97)
number_other                    0.005   the valid number of another enterprise
number_formats                  (.45,   how a present number is written: canonical
                                .25,    ``0403170701``, dotted ``0403.170.701``, spaced
                                .08,    ``0403 170 701``, ``BE`` prefix (``BE0403170701`` or
                                .10,    ``BE 0403.170.701``), leading zero dropped
                                .12)    ``403170701`` (dotted when there is no zero to drop)
unit_number_missing             0.30    establishment number left empty on a site
unit_number_mistyped            0.02    one digit replaced
unit_number_transposed          0.01    two adjacent digits swapped
unit_number_formats             (.6,.4) canonical ``2123456789`` or dotted ``2.123.456.789``
name_trade_name                 0.10    the main unit's commercial name instead of the
                                        legal name
name_legal_form_dropped         0.20    of names ending in a legal form: form dropped
name_legal_form_added           0.15    of legal persons' names without one: form added
name_legal_form_changed         0.05    of names ending in a legal form: written otherwise
                                        (``BV`` -> ``BVBA``, ``NV`` -> ``N.V.``)
name_word_swap                  0.05    first two words swapped (``Peeters Bakkerij``)
name_abbreviation               0.05    first word abbreviated (``Bouwbedr.``, ``J. Peeters``)
name_typo                       0.05    one character substituted, deleted, inserted or two
                                        transposed
name_uppercase                  0.10    written in capitals
address_moved                   0.05    a different address altogether (moved)
street_abbreviation             0.15    street types abbreviated (``str.``, ``stwg.``, ``St-``)
street_typo                     0.03    one character error in the street
house_number_variant            0.08    ``12-14``, ``12 bus 3``, ``12/3``, ``nr 12``
box_variant                     0.30    of addresses with a box: ``bus 3``, ``b3``, ``/3``,
                                        zero-padded, or dropped
address_in_street               0.03    the whole line in ``street``, number and box empty
postcode_missing                0.02    postcode empty
municipality_variant            0.10    municipality in capitals or empty
phone_missing                   0.25    of records with a phone: left empty
phone_changed                   0.05    another number of the same zone
phone_formats                   (.35,   national spaced ``09 223 45 67``, national
                                .25,    ``092234567``, international spaced
                                .15,    ``+32 9 223 45 67``, E.164 ``+3292234567`` (as
                                .15,    VLAIO writes it), ``0032...``
                                .10)
email_missing                   0.30    of records with an e-mail: left empty
email_changed                   0.10    another address at the same domain (``hr@``)
email_uppercase                 0.05    written in capitals
website_missing                 0.40    of records with a website: left empty
website_formats                 (.3,.3, ``www.x.be``, ``x.be``, ``http://www.x.be``,
                                .2,.2)  ``https://www.x.be/``
=============================== ======= =====================================================

With these defaults an exact join of VDAB's numbers, parsed, on the enterprise
number finds about 82% of the true employer pairs; an exact join of the text as
written finds about 37%.

:meth:`NoiseModel.harder` multiplies every error rate (not the coverage and share
fields, nor the format weights) by a factor, 3 by default: copies noisy enough that
a linkage makes errors to look at (false links, missed pairs, pairs near the
threshold), where the defaults leave the enterprise preset with almost none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.exceptions import ConfigError
from linkage.synthetic._pools import FIRST_NAMES, LEGAL_FORM_VARIANTS, SECTORS

__all__ = ["NoiseModel"]

# Fields that are not error rates: NoiseModel.none() and NoiseModel.harder() keep them.
_COVERAGE = ("employer_coverage", "unknown_employer_share", "site_coverage", "extra_site_share")
# Rates drawn from one uniform per record (exclusive errors): their sum is a probability too.
_EXCLUSIVE = (
    ("number_missing", "number_mistyped", "number_transposed", "number_other"),
    ("unit_number_missing", "unit_number_mistyped", "unit_number_transposed"),
    ("name_legal_form_dropped", "name_legal_form_changed"),
)
HARDER_CAP = 0.9


@dataclass(frozen=True, kw_only=True)
class NoiseModel:
    """Rates of the errors in VDAB's copies; see the module docstring for each field.

    >>> NoiseModel().number_missing
    0.14
    >>> NoiseModel.none().name_typo
    0.0
    >>> NoiseModel.harder().name_typo  # 3 x 0.05
    0.15
    """

    employer_coverage: float = 0.70
    unknown_employer_share: float = 0.10
    site_coverage: float = 0.85
    extra_site_share: float = 0.05
    number_missing: float = 0.14
    number_mistyped: float = 0.02
    number_transposed: float = 0.015
    number_other: float = 0.005
    number_formats: tuple[float, float, float, float, float] = (0.45, 0.25, 0.08, 0.10, 0.12)
    unit_number_missing: float = 0.30
    unit_number_mistyped: float = 0.02
    unit_number_transposed: float = 0.01
    unit_number_formats: tuple[float, float] = (0.6, 0.4)
    name_trade_name: float = 0.10
    name_legal_form_dropped: float = 0.20
    name_legal_form_added: float = 0.15
    name_legal_form_changed: float = 0.05
    name_word_swap: float = 0.05
    name_abbreviation: float = 0.05
    name_typo: float = 0.05
    name_uppercase: float = 0.10
    address_moved: float = 0.05
    street_abbreviation: float = 0.15
    street_typo: float = 0.03
    house_number_variant: float = 0.08
    box_variant: float = 0.30
    address_in_street: float = 0.03
    postcode_missing: float = 0.02
    municipality_variant: float = 0.10
    phone_missing: float = 0.25
    phone_changed: float = 0.05
    phone_formats: tuple[float, float, float, float, float] = (0.35, 0.25, 0.15, 0.15, 0.10)
    email_missing: float = 0.30
    email_changed: float = 0.10
    email_uppercase: float = 0.05
    website_missing: float = 0.40
    website_formats: tuple[float, float, float, float] = (0.3, 0.3, 0.2, 0.2)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                if any(not v >= 0.0 for v in value) or sum(value) <= 0:
                    raise ConfigError(
                        f"NoiseModel.{f.name}: expected non-negative weights with a positive "
                        f"sum, got {value!r}"
                    )
            elif not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ConfigError(
                    f"NoiseModel.{f.name}: expected a rate between 0 and 1, got {value!r}"
                )
        if self.unknown_employer_share >= 1.0:
            raise ConfigError("NoiseModel.unknown_employer_share: must be below 1")
        if (
            self.number_missing + self.number_mistyped + self.number_transposed + self.number_other
            > 1.0
        ):
            raise ConfigError("NoiseModel.number_*: the error rates add up to more than 1")

    @classmethod
    def none(cls) -> NoiseModel:
        """No errors and canonical formats: VDAB's copies equal VLAIO's records
        (coverage and unknown employers stay at their defaults)."""
        zero = {
            f.name: 0.0
            for f in fields(cls)
            if f.name not in _COVERAGE and not f.name.endswith("_formats")
        }
        return cls(
            **zero,
            number_formats=(1.0, 0.0, 0.0, 0.0, 0.0),
            unit_number_formats=(1.0, 0.0),
            phone_formats=(0.0, 0.0, 0.0, 1.0, 0.0),
            website_formats=(1.0, 0.0, 0.0, 0.0),
        )

    @classmethod
    def harder(cls, factor: float = 3.0) -> NoiseModel:
        """The default model with every error rate multiplied by ``factor``.

        Coverage and share fields (``employer_coverage``, ``unknown_employer_share``,
        ``site_coverage``, ``extra_site_share``) and the ``*_formats`` weights stay at
        their defaults. A scaled rate is capped at 0.9, and so is the sum of rates that
        exclude each other on one record (``number_*``, ``unit_number_*``, legal form
        dropped or changed), shrunk in proportion, so the model stays valid for any
        factor.

        Parameters
        ----------
        factor : float
            Non-negative multiplier; 1 gives the defaults, below 1 an easier model.

        Examples
        --------
        >>> hard = NoiseModel.harder()
        >>> hard.number_missing, hard.employer_coverage
        (0.42, 0.7)
        >>> NoiseModel.harder(10).website_missing  # 10 x 0.40, capped
        0.9
        """
        if (
            isinstance(factor, bool)
            or not isinstance(factor, int | float)
            or not 0.0 <= factor < float("inf")
        ):
            raise ConfigError(
                f"NoiseModel.harder(factor=...): expected a finite number >= 0, got {factor!r}"
            )
        default = cls()
        rates = {
            f.name: round(getattr(default, f.name) * factor, 10)
            for f in fields(cls)
            if f.name not in _COVERAGE and not f.name.endswith("_formats")
        }
        exclusive = {name for group in _EXCLUSIVE for name in group}
        groups = list(_EXCLUSIVE) + [(name,) for name in rates if name not in exclusive]
        for group in groups:
            total = sum(rates[name] for name in group)
            if total > HARDER_CAP:
                for name in group:
                    rates[name] = round(rates[name] * HARDER_CAP / total, 10)
        return cls(**rates)

    def as_dict(self) -> dict[str, float | list[float]]:
        """The parameters as plain JSON values."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in fields(self)
        }


# --------------------------------------------------------------------------- masks


def mask(
    rng: np.random.Generator, rate: float, size: int, among: NDArray[np.bool_] | None = None
) -> NDArray[np.bool_]:
    """A random boolean mask with ``rate`` True, only inside ``among``."""
    out = rng.random(size) < rate
    return out if among is None else out & among


def pick(rng: np.random.Generator, weights: tuple[float, ...], size: int) -> NDArray[np.intp]:
    """Category codes 0..len(weights)-1 drawn with ``weights``."""
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=size, p=w / w.sum())


def present(values: NDArray[np.object_]) -> NDArray[np.bool_]:
    return pd.notna(np.asarray(values, dtype=object))


# --------------------------------------------------------------------------- strings


def _codes(strings: NDArray[np.object_]) -> NDArray[np.uint32]:
    u = np.asarray(strings, dtype=object).astype(str)
    width = max(u.dtype.itemsize // 4, 1)
    return np.ascontiguousarray(u.astype(f"U{width}")).view(np.uint32).reshape(len(u), width)


def _strings(codes: NDArray[np.uint32]) -> NDArray[np.object_]:
    # trailing NULs vanish when numpy reads a fixed-width unicode string
    return np.ascontiguousarray(codes).view(f"U{codes.shape[1]}").ravel().astype(object)


def typo(rng: np.random.Generator, values: NDArray[np.object_]) -> NDArray[np.object_]:
    """One random edit per string: substitute, delete, insert or transpose a character.

    Vectorised over a code-point matrix: each row gets a source index per output
    column, so the four edits are one gather and one scatter.
    """
    values = np.asarray(values, dtype=object)
    out = values.copy()
    rows = np.flatnonzero(present(values))
    if rows.size == 0:
        return out
    codes = _codes(values[rows])
    n, width = int(codes.shape[0]), int(codes.shape[1])
    lengths = (codes != 0).sum(axis=1)
    op = rng.integers(0, 4, size=n)  # 0 substitute, 1 delete, 2 insert, 3 transpose
    op = np.where((lengths < 2) & ((op == 1) | (op == 3)), 0, op)
    span = np.maximum(lengths - (op == 3), 1)
    pos = (rng.random(n) * span).astype(np.int64)
    cols = np.arange(width + 1)[None, :]
    at = pos[:, None]
    kind = op[:, None]
    src = np.broadcast_to(cols, (n, width + 1)).copy()
    src = np.where(kind == 1, cols + (cols >= at), src)
    src = np.where(kind == 2, cols - (cols > at), src)
    src = np.where((kind == 3) & (cols == at), at + 1, src)
    src = np.where((kind == 3) & (cols == at + 1), at, src)
    padded = np.concatenate([codes, np.zeros((n, 1), dtype=np.uint32)], axis=1)
    edited = np.take_along_axis(padded, np.clip(src, 0, width), axis=1)
    letters = rng.integers(97, 123, size=n).astype(np.uint32)
    original = padded[np.arange(n), pos]
    letters = np.where(letters == original, (letters - 97 + 1) % 26 + 97, letters)
    put = (op == 0) | (op == 2)
    edited[np.flatnonzero(put), pos[put]] = letters[put]
    out[rows] = _strings(edited)
    return out


def truncate(values: NDArray[np.object_], lengths: NDArray[np.integer]) -> NDArray[np.object_]:
    """Each string cut to its own length (vectorised prefix)."""
    codes = _codes(values)
    codes[np.arange(codes.shape[1])[None, :] >= np.asarray(lengths)[:, None]] = 0
    return _strings(codes)


def str_len(values: NDArray[np.object_]) -> NDArray[np.int64]:
    return (_codes(values) != 0).sum(axis=1)


# --------------------------------------------------------------------------- identifiers


def mistype(rng: np.random.Generator, digits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Replace one digit per row by another digit."""
    out = digits.copy()
    n, width = out.shape
    pos = rng.integers(0, width, size=n)
    rows = np.arange(n)
    out[rows, pos] = (out[rows, pos] + rng.integers(1, 10, size=n)) % 10
    return out


def transpose(rng: np.random.Generator, digits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Swap one pair of adjacent, different digits per row (rows of one repeated
    digit stay as they are)."""
    out = digits.copy()
    n, width = out.shape
    differ = out[:, :-1] != out[:, 1:]
    keys = np.where(differ, rng.random((n, width - 1)), -1.0)
    pos = keys.argmax(axis=1)
    rows = np.arange(n)
    left = out[rows, pos].copy()
    out[rows, pos] = out[rows, pos + 1]
    out[rows, pos + 1] = left
    return out


def _insert(codes: NDArray[np.uint32], after: tuple[int, ...], char: str) -> NDArray[np.uint32]:
    pieces, start = [], 0
    sep = np.full((codes.shape[0], 1), ord(char), dtype=np.uint32)
    for cut in after:  # a loop over separator positions, not records
        pieces += [codes[:, start:cut], sep]
        start = cut
    pieces.append(codes[:, start:])
    return np.concatenate(pieces, axis=1)


def write_enterprise_numbers(
    rng: np.random.Generator, numbers: NDArray[np.str_], weights: tuple[float, ...]
) -> NDArray[np.object_]:
    """Canonical 10-digit numbers written the ways VDAB writes them (``number_formats``)."""
    n = len(numbers)
    codes = np.asarray(numbers, dtype="U10").view(np.uint32).reshape(n, 10)
    style = pick(rng, weights, n)
    dotted = _strings(_insert(codes, (4, 7), "."))
    spaced = _strings(_insert(codes, (4, 7), " "))
    be_plain = "BE" + np.asarray(numbers, dtype=object)
    be_dotted = "BE " + dotted
    be = np.where(rng.random(n) < 0.5, be_plain, be_dotted)
    leading_zero = codes[:, 0] == ord("0")
    no_zero = np.where(leading_zero, _strings(codes[:, 1:]), dotted)
    return np.choose(style, [np.asarray(numbers, dtype=object), dotted, spaced, be, no_zero])


def write_unit_numbers(
    rng: np.random.Generator, numbers: NDArray[np.str_], weights: tuple[float, ...]
) -> NDArray[np.object_]:
    """Canonical establishment numbers, canonical or dotted (``2.123.456.789``)."""
    n = len(numbers)
    codes = np.asarray(numbers, dtype="U10").view(np.uint32).reshape(n, 10)
    style = pick(rng, weights, n)
    return np.choose(
        style, [np.asarray(numbers, dtype=object), _strings(_insert(codes, (1, 4, 7), "."))]
    )


# --------------------------------------------------------------------------- names

_ABBREVIATIONS = {word: abbr for word, _, abbr, _ in SECTORS} | {
    first: f"{first[0]}." for first in FIRST_NAMES
}


def strip_suffix(names: NDArray[np.object_], suffixes: NDArray[np.object_]) -> NDArray[np.object_]:
    """``names`` without their trailing ``" " + suffix`` (callers check it is there)."""
    return truncate(names, str_len(names) - str_len(suffixes) - 1)


def ends_with(names: NDArray[np.object_], suffixes: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Whether each name ends in ``" " + suffix`` (missing suffix: False)."""
    has = present(suffixes) & present(names)
    out = np.zeros(len(names), dtype=bool)
    rows = np.flatnonzero(has)
    if rows.size:
        tail = " " + np.asarray(suffixes, dtype=object)[rows]
        out[rows] = np.char.endswith(
            np.asarray(names, dtype=object)[rows].astype(str), tail.astype(str)
        )
    return out


def legal_form_variant(forms: NDArray[np.object_]) -> NDArray[np.object_]:
    return pd.Series(forms, dtype=object).map(LEGAL_FORM_VARIANTS).to_numpy(dtype=object)


def swap_first_words(names: NDArray[np.object_]) -> NDArray[np.object_]:
    s = pd.Series(names, dtype=object)
    return s.str.replace(r"^(\S+) (\S+)", r"\2 \1", regex=True).to_numpy(dtype=object)


def abbreviate_first_word(names: NDArray[np.object_]) -> NDArray[np.object_]:
    """Sector words and first names at the start of a name, abbreviated."""
    parts = pd.Series(names, dtype=object).str.split(" ", n=1, expand=True)
    first = parts[0]
    short = first.map(_ABBREVIATIONS).fillna(first)
    if parts.shape[1] > 1:
        rest = parts[1]
        short = short.where(rest.isna(), short + " " + rest.fillna(""))
    return short.to_numpy(dtype=object)


# --------------------------------------------------------------------------- addresses

_STREET_ABBREVIATIONS = (
    (r"straat\b", "str."),
    (r"steenweg\b", "stwg."),
    (r"laan\b", "ln."),
    (r"plein\b", "pl."),
    (r"dreef\b", "dr."),
    (r"^Sint-", "St-"),
    (r"^Koning ", "Kon. "),
    (r"^Koningin ", "Kon. "),
    (r"^Onze-Lieve-Vrouw", "O.-L.-Vrouw"),
    (r"^Burgemeester ", "Burg. "),
    (r"^Dokter ", "Dr. "),
    (r"^Kardinaal ", "Kard. "),
)


def abbreviate_streets(streets: NDArray[np.object_]) -> NDArray[np.object_]:
    s = pd.Series(streets, dtype=object)
    for pattern, repl in _STREET_ABBREVIATIONS:  # a loop over patterns, not records
        s = s.str.replace(pattern, repl, regex=True)
    return s.to_numpy(dtype=object)


# --------------------------------------------------------------------------- contacts

# digit groups of a Belgian E.164 number, by kind: zone 2/3/4/9 (one digit), other
# zones (two digits), mobiles (4xx); positions into "+32..." strings
_PHONE_GROUPS = (
    ((3, 4), (4, 7), (7, 9), (9, 11)),
    ((3, 5), (5, 7), (7, 9), (9, 11)),
    ((3, 6), (6, 8), (8, 10), (10, 12)),
)
# per phone_formats entry: (prefix, separator); None keeps E.164 as it is
_PHONE_STYLES = (("0", " "), ("0", ""), ("+32 ", " "), None, ("0032", ""))


def _layout(
    codes: NDArray[np.uint32], groups: tuple[tuple[int, int], ...], prefix: str, sep: str
) -> NDArray[np.object_]:
    n = codes.shape[0]
    pieces = [np.tile(np.array([ord(c) for c in prefix], dtype=np.uint32), (n, 1))]
    for i, (a, b) in enumerate(groups):  # four groups, not records
        if i and sep:
            pieces.append(np.full((n, 1), ord(sep), dtype=np.uint32))
        pieces.append(codes[:, a:b])
    return _strings(np.concatenate(pieces, axis=1))


def write_phones(
    rng: np.random.Generator, phones: NDArray[np.object_], weights: tuple[float, ...]
) -> NDArray[np.object_]:
    """E.164 numbers (``+3292234567``) in the layouts of ``phone_formats``."""
    phones = np.asarray(phones, dtype=object)
    style = pick(rng, weights, len(phones))
    out = phones.copy()
    ok = present(phones)
    codes = _codes(np.where(ok, phones, ""))
    width = codes.shape[1]
    if width < 12:
        codes = np.concatenate([codes, np.zeros((len(phones), 12 - width), np.uint32)], axis=1)
    length = (codes != 0).sum(axis=1)
    mobile = length == 12
    one_digit = ~mobile & np.isin(codes[:, 3], [ord(c) for c in "2349"])
    kind = np.where(mobile, 2, np.where(one_digit, 0, 1))
    for k, layout in enumerate(_PHONE_STYLES):  # five styles x three kinds, not records
        if layout is None:
            continue
        for g, groups in enumerate(_PHONE_GROUPS):
            rows = np.flatnonzero(ok & (style == k) & (kind == g) & (length >= 11))
            if rows.size:
                out[rows] = _layout(codes[rows], groups, *layout)
    return out


def write_websites(
    rng: np.random.Generator, sites: NDArray[np.object_], weights: tuple[float, ...]
) -> NDArray[np.object_]:
    """``www.x.be`` written as in ``website_formats``."""
    sites = np.asarray(sites, dtype=object)
    style = pick(rng, weights, len(sites))
    ok = present(sites)
    bare = (
        pd.Series(sites, dtype=object).str.replace(r"^www\.", "", regex=True).to_numpy(dtype=object)
    )
    filled = np.where(ok, sites, "")
    variants = [filled, np.where(ok, bare, ""), "http://" + filled, "https://" + filled + "/"]
    out = np.choose(style, variants)
    out[~ok] = None
    return out
