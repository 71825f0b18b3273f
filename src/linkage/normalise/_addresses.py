"""Addresses: street names, house numbers and boxes, Belgian postcodes.

Conventions (the same in ``split_address`` and ``normalise_address``):

- ``street`` is lower case, without diacritics or punctuation, with Dutch and
  French street-type abbreviations written out ("Kerkstr." -> "kerkstraat",
  "Gentse stwg" -> "gentse steenweg", "St-Pietersnieuwstraat" -> "sint
  pietersnieuwstraat").
- ``house_number`` keeps a letter suffix and a range as they are part of the
  number on the door: "12A" -> "12a", "221-223" -> "221-223"; leading zeros go.
- ``box`` is what follows "bus", "bte", "boîte", "box", "b", "b." or "/":
  "12 bus 3", "12/3", "61 b2" all give box "3" or "2"; a box of digits loses its
  leading zeros ("bus 003" -> "3"), other boxes stay as written ("0.1", "a").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.normalise._core import (
    collapse_whitespace,
    fold,
    keep_reason,
    map_distinct,
    no_reasons,
    null_where,
    on_matches,
    on_uniques,
    pad,
    plain_words,
    replace_tokens,
    run,
    to_arrow,
    to_frame,
    token_alternation,
    unpad,
    until_stable,
)

__all__ = ["normalise_address", "normalise_postcodes", "normalise_street", "split_address"]

# Street types, and how people cut them short. A type is one token, written out
# here; an abbreviation of it is a *contraction*: its first letter, then some of its
# other letters in order ("straat": "str", "st", "strt"; "steenweg": "stwg", "stw",
# "steenw"; "boulevard": "bd", "bld", "blvd", "boul"). Which contractions are read
# as a type depends on where they stand and whether a dot marks them:
#
# - glued to the end of a word (Dutch types): any contraction followed by a dot
#   ("Gabriëlst.", "Beukendr.", "Stationssteenw."), or, without a dot, one of only
#   consonants ("Kerkstr", "Brusselsestwg", "Albertln"): words end in vowels or
#   in "-st" far more often than in "-str" or "-stwg", so bare "st" is never a type;
# - the last of several words (Dutch types): the same ("Gentse stwg", "Gentse Steenw.",
#   "Grote pl"); not a word in the middle ("Prof. Dr. Janssensstraat" has a doctor);
# - the first word (French types, the adjectives of a Dutch name, Dutch types): the same
#   ("Av. Louise", "Blvd Anspach", "Ch. de Wavre", "Gr. Markt"; bare, three letters at
#   least: "Chss", "Imp"), but never a contraction that :data:`_LEADING` reads
#   otherwise ("St." is "sint", "Dr." is "dokter").
#
# A contraction that fits several types is read as the first of them in this order
# ("st." glued is "straat", not "steenweg"). Every rule is generated from the type,
# so a new type is one word here, not a list of its spellings.
_DUTCH_TYPES = ("straat", "steenweg", "laan", "plein", "dreef", "weg", "baan", "lei",
                "kaai", "dijk", "markt", "vest", "singel", "park")  # fmt: skip
_FRENCH_TYPES = ("rue", "avenue", "chaussee", "boulevard", "place", "square", "chemin",
                 "quai", "allee", "impasse", "dreve")  # fmt: skip
# Words before a Dutch street's own name, cut short as types are ("Gr. Markt").
_FIRST_WORDS = ("grote", "kleine", "nieuwe", "oude", "lange", "korte", "hoge")
_VOWELS = frozenset("aeiouy")

# Abbreviations as separate words, anywhere in the street name.
_ANYWHERE: dict[str, tuple[str, ...]] = {
    "straat": ("str",),
    "steenweg": ("stwg", "stw", "steenw"),
    "laan": ("ln",),
    "boulevard": ("bd", "bld", "blvd", "boul", "bvd"),
    "avenue": ("av", "ave", "aven"),
    "chaussee": ("ch", "chee", "chs"),
    "square": ("sq",),
    "onze lieve vrouw": ("olv",),
}

# Abbreviations that mean something else as the first word ("Dr. Van de
# Perrestraat" is a doctor, "Beukendr." a lane).
_LEADING: dict[str, tuple[str, ...]] = {
    "sint": ("st",),
    "dokter": ("dr",),
    "burgemeester": ("burg",),
    "professor": ("prof",),
    "generaal": ("gen",),
    "rue": ("r",),
    "place": ("pl",),
    "grote": ("gr",),
}
_TRAILING: dict[str, tuple[str, ...]] = {"plein": ("pl",), "dreef": ("dr",)}


def _contractions(word: str, *, consonants: bool) -> list[str]:
    """Every contraction of ``word`` shorter than it: its first letter and at least
    one of its later letters, in order (with ``consonants``, only consonants)."""
    later = [c for c in word[1:] if not consonants or c not in _VOWELS]
    found = {
        word[0] + "".join(c for c, bit in zip(later, bits, strict=True) if bit)
        for bits in product((0, 1), repeat=len(later))
        if any(bits)
    }
    return sorted(c for c in found if c != word)


def _claim(
    types: Sequence[str], *, consonants: bool, exclude: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Per type, the contractions read as it: each goes to the first type it fits."""
    taken: set[str] = set(types) | set(exclude)
    out: dict[str, list[str]] = {}
    for word in types:
        mine = [c for c in _contractions(word, consonants=consonants) if c not in taken]
        taken.update(mine)
        out[word] = mine
    return {word: mine for word, mine in out.items() if mine}


_LED = tuple(a for abbreviations in _LEADING.values() for a in abbreviations)
_DOTTED = _claim(_DUTCH_TYPES, consonants=False)
_BARE = _claim(_DUTCH_TYPES, consonants=True, exclude=("st",))
_FIRST = (*_FRENCH_TYPES, *_FIRST_WORDS, *_DUTCH_TYPES)
_FIRST_DOTTED = _claim(_FIRST, consonants=False, exclude=_LED)
# Bare, a first word of two letters is as often a word ("An", "Is") as a type; the
# common ones ("Bd", "Av", "Ch") are in the lists below.
_FIRST_BARE = {
    word: long
    for word, mine in _claim(_FIRST, consonants=True, exclude=_LED).items()
    if (long := [a for a in mine if len(a) > 2])
}


def _alternation(abbreviations: Iterable[str]) -> str:
    return "|".join(sorted(abbreviations, key=lambda a: (-len(a), a)))


def _replace_each(
    arr: pa.Array, table: Mapping[str, list[str]], pattern: str, repl: str
) -> pa.Array:
    """One regex per type: ``pattern`` with ``{alt}`` its contractions, ``repl`` with
    ``{word}`` the type."""
    for word, abbreviations in table.items():
        if not abbreviations:
            continue
        alt = _alternation(abbreviations)
        arr = pc.replace_substring_regex(arr, pattern.format(alt=alt), repl.format(word=word))
    return arr


def _dotted_types(folded: pa.Array) -> pa.Array:
    """Contractions marked by a dot, before punctuation goes: glued to a word's end
    or a later word (Dutch types), or the first word (French types, adjectives).

    Stems are ``[a-z]``: the text is folded, and RE2 compiles ``\\pL`` into an
    automaton that costs milliseconds per pattern, per call.
    """
    glued = r"([a-z]{{2,}}?)(?:{alt})\."
    later = r"( )(?:{alt})\.[^a-z0-9]*$"
    first = r"^(?:{alt})\."
    every = _alternation({a for t in _DOTTED.values() for a in t})
    firsts = _alternation({a for t in _FIRST_DOTTED.values() for a in t})

    def step(arr: pa.Array) -> pa.Array:
        # A whole word first: "Gentse stwg." is "steenweg", not "st" + "weg".
        arr = _replace_each(arr, _FIRST_DOTTED, first, "{word} ")
        arr = _replace_each(arr, _DOTTED, later, r"\1{word} ")
        return _replace_each(arr, _DOTTED, glued, r"\1{word} ")

    return on_matches(folded, rf"(?:[a-z](?:{every})|^(?:{firsts}))\.", step)


def _bare_types(padded: pa.Array) -> pa.Array:
    """Contractions of only consonants, on a padded value of plain words: glued to a
    word's end, a later word (Dutch types), or the first word (French types)."""
    three = {w: [a for a in t if len(a) > 2] for w, t in _BARE.items()}
    two = {w: [a for a in t if len(a) == 2] for w, t in _BARE.items()}
    every = _alternation({a for t in _BARE.values() for a in t})
    firsts = _alternation({a for t in _FIRST_BARE.values() for a in t})

    def step(arr: pa.Array) -> pa.Array:
        # A whole word first, then a glued contraction, which needs a word before
        # it: two letters, three before a two-letter one ("Albertln", not "Ooln").
        arr = _replace_each(arr, _FIRST_BARE, r"^ (?:{alt}) ", r" {word} ")
        arr = _replace_each(arr, _BARE, r"  (?:{alt}) $", r"  {word} ")
        arr = _replace_each(arr, three, r"([a-z]{{2}})(?:{alt}) ", r"\1{word} ")
        return _replace_each(arr, two, r"([a-z]{{3}})(?:{alt}) ", r"\1{word} ")

    return on_matches(padded, rf"(?:{every}) |^ (?:{firsts}) ", step)


_BOX_WORDS = r"(?:bus|bte|boite|box|bo|b)"
_NUMBER = (
    r"(?P<number>\d+)(?:\s*-\s*(?P<to>\d+))?(?:\s?(?P<letter>[a-z]))?\.?"
    rf"(?:[\s,]*(?:/|{_BOX_WORDS})[\s.:]*(?P<box>[a-z0-9]+(?:\.[a-z0-9]+)*)?)?"
)
# Street first ("Kerkstraat 12 bus 3"); an optional ", 9000 Gent" is dropped.
_LINE = (
    r"^(?P<street>.*?)(?:[\s,]+(?:nr|no|n°|n)\.?)?[\s,]*"
    + _NUMBER
    + r"(?:,\s*(?:b-?)?\d{4}\b.*)?[\s,.]*$"
)
# Number first, as French addresses are sometimes written ("12 rue de la Loi").
_LINE_NUMBER_FIRST = (
    r"^(?P<number>\d+)(?:\s*-\s*(?P<to>\d+))?(?P<letter>[a-z])?(?P<box>)[\s,]+(?P<street>\D.*)$"
)
_NUMBER_ONLY = r"^(?:(?:nr|no|n°|n)\.?\s*)?" + _NUMBER + r"[\s,.]*$"


def _street_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    out = _street(values)
    reasons = keep_reason(no_reasons(len(values)), pc.is_null(out), "no letters or digits")
    return {"street": out}, reasons


def _street(values: pa.Array) -> pa.Array:
    arr = plain_words(_dotted_types(fold(values)))
    padded = _bare_types(pad(arr))
    for word, abbreviations in _LEADING.items():
        alternation = "|".join(abbreviations)
        padded = pc.replace_substring_regex(padded, f"^ (?:{alternation}) ", f" {word} ")
    # "St-Pieters" inside a name too, but a last "st" may be "straat": in a padded
    # value only a last token has a single space after it.
    # A match takes the next token's leading space, so "st st x" needs two rounds.
    padded = until_stable(padded, lambda a: pc.replace_substring(a, " st  ", " sint  "))
    for word, abbreviations in _ANYWHERE.items():
        padded = replace_tokens(padded, abbreviations, word)
    # Trailing abbreviations only as the last word: "Prof. Dr. Janssensstraat" has a
    # doctor in the middle, "Beuken dr" a lane at the end.
    for word, abbreviations in _TRAILING.items():
        last = f" (?:{token_alternation(abbreviations)}) $"
        padded = pc.replace_substring_regex(padded, last, f" {word} ")
    return unpad(padded)


def _parts(found: pa.Array) -> dict[str, pa.Array]:
    """House number and box from the groups of ``_NUMBER``, in canonical form."""
    number = pc.replace_substring_regex(pc.struct_field(found, "number"), "^0+(\\d)", r"\1")
    to = pc.replace_substring_regex(pc.struct_field(found, "to"), "^0+(\\d)", r"\1")
    empty = pa.scalar("", number.type)
    dash = pc.if_else(pc.equal(to, ""), empty, pa.scalar("-", number.type))
    number = pc.binary_join_element_wise(number, dash, to, pc.struct_field(found, "letter"), empty)
    return {
        "house_number": null_where(number, pc.equal(number, "")),
        "box": _clean_box(pc.struct_field(found, "box")),
    }


def _line_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    columns = _read_lines(collapse_whitespace(fold(values)))
    # A line read as all street, that holds a digit, is read once more as its street
    # came out ("Kerkstraat 12 !" -> "kerkstraat 12" -> "kerkstraat", "12"), so that
    # reading a line's street again gives it back (normalise_address).
    street = columns["street"]
    again = pc.and_(pc.is_null(columns["house_number"]), pc.match_substring_regex(street, r"\d"))
    again = pc.fill_null(again, False)
    if pc.any(again).as_py():
        second = _read_lines(pc.filter(street, again))
        found = pc.is_valid(second["house_number"])
        where = pc.replace_with_mask(again, again, found)
        columns = {
            key: pc.replace_with_mask(col, where, pc.filter(second[key], found))
            for key, col in columns.items()
        }
    street = columns["street"]
    reasons = no_reasons(len(values))
    reasons = keep_reason(
        reasons,
        pc.and_(pc.is_null(street), pc.is_null(columns["house_number"])),
        "no letters or digits",
    )
    reasons = keep_reason(reasons, pc.is_null(street), "no street")
    reasons = keep_reason(reasons, pc.is_null(columns["house_number"]), "no house number")
    return columns, reasons


def _read_lines(line: pa.Array) -> dict[str, pa.Array]:
    """Street, house number and box of folded, collapsed address lines."""
    found = pc.extract_regex(line, _LINE)
    first = pc.extract_regex(line, _LINE_NUMBER_FIRST)
    fields = [field.name for field in found.type]
    first = pa.StructArray.from_arrays(
        [pc.struct_field(first, f) for f in fields], names=fields, mask=pc.is_null(first)
    )
    found = pc.if_else(pc.is_null(found), first, found)
    parts = _parts(found)
    street_raw = pc.if_else(pc.is_null(found), line, pc.struct_field(found, "street"))
    street = map_distinct(street_raw, _street)  # far fewer streets than lines
    return {"street": street, **parts}


def _number_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.replace_substring_regex(collapse_whitespace(fold(values)), r"^(\d+)\.0+$", r"\1")
    found = pc.extract_regex(text, _NUMBER_ONLY)
    reasons = keep_reason(no_reasons(len(values)), pc.is_null(found), "unreadable house number")
    return _parts(found), reasons


def _box_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = pc.replace_substring_regex(collapse_whitespace(fold(values)), r"^(\d+)\.0+$", r"\1")
    box = _clean_box(text)
    reasons = keep_reason(no_reasons(len(values)), pc.is_null(box), "unreadable box")
    return {"box": box}, reasons


def _clean_box(text: pa.Array) -> pa.Array:
    """Canonical box: "bus 3", "b3", "/3", "b. 003" -> "3"; "a", "0.1", "bus" stay.

    Keywords are stripped until none is left, so a box read from "12 bte b0" and
    the box given on its own agree.
    """
    text = until_stable(pc.replace_substring_regex(text, r"[^a-z0-9.\s:/]+", ""), _strip_box_word)
    text = collapse_whitespace(pc.replace_substring_regex(text, r"[\s:/]+", ""))
    return pc.replace_substring_regex(text, r"^0+(\d+)$", r"\1")


def _strip_box_word(text: pa.Array) -> pa.Array:
    stripped = pc.replace_substring_regex(text, rf"^{_BOX_WORDS}[\s.:/]*(\d)", r"\1")
    return pc.replace_substring_regex(stripped, rf"^(?:{_BOX_WORDS}[\s.:/]+|/[\s.:/]*)(\S)", r"\1")


def normalise_street(
    streets: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Normalise street names: case, diacritics, punctuation, abbreviations written out.

    Parameters
    ----------
    streets : Series of str
        Street names without house number.
    return_reasons : bool, default False
        Return a DataFrame with columns ``street`` and ``reason`` instead.

    Returns
    -------
    Series of string[pyarrow], same index and name as ``streets``

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_street(pd.Series(["Kerkstr.", "Gentse Stwg", "St-Pietersnieuwstraat"])).tolist()
    ['kerkstraat', 'gentse steenweg', 'sint pietersnieuwstraat']
    """
    return run(streets, _street_kernel, return_reasons=return_reasons, as_series=True)


def split_address(
    lines: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.DataFrame:
    """Split one-line addresses into street, house number and box.

    See the module docstring for the conventions. A line without a number is all
    street; a trailing ", 9000 Gent" is dropped.

    Parameters
    ----------
    lines : Series of str
        "Kerkstraat 12 bus 3", "Kerkstr. 12A", "Dieweg 61 b2", "12 rue de la Loi".
    return_reasons : bool, default False
        Add a ``reason`` column: "no street", "no house number", "no letters or
        digits".

    Returns
    -------
    DataFrame with columns street, house_number, box, of string[pyarrow]

    Examples
    --------
    >>> import pandas as pd
    >>> split_address(pd.Series(["Kerkstraat 12/3"])).iloc[0].tolist()
    ['kerkstraat', '12', '3']
    """
    return run(lines, _line_kernel, return_reasons=return_reasons, as_series=False)


def normalise_address(
    street: pd.Series | Iterable[Any],
    house_number: pd.Series | Iterable[Any] | None = None,
    box: pd.Series | Iterable[Any] | None = None,
    *,
    return_reasons: bool = False,
) -> pd.DataFrame:
    """Normalise an address given as separate fields, into the columns of ``split_address``.

    Parameters
    ----------
    street : Series of str
        The street; with ``house_number=None`` it is read as a whole address line.
    house_number : Series, optional
        "12", "12A", 12, 12.0, "12 bus 3" (a box written here is kept).
    box : Series, optional
        "3", "bus 3", "b3", 3; it wins over a box found in ``house_number``.
    return_reasons : bool, default False
        Add a ``reason`` column: the first of "no street", "no house number",
        "unreadable house number", "unreadable box".

    Returns
    -------
    DataFrame with columns street, house_number, box, of string[pyarrow], indexed
    as ``street``
    """
    if house_number is None:
        columns, reasons = on_uniques(_as_arrow(street)[0], _line_kernel, name=_name(street))
    else:
        arr = _as_arrow(street)[0]
        streets, reasons = on_uniques(arr, _street_kernel, name=_name(street))
        reasons = keep_reason(reasons, pc.is_null(streets["street"]), "no street")
        numbers, number_reasons = on_uniques(
            _as_arrow(house_number, len(arr))[0], _number_kernel, name=_name(house_number)
        )
        columns = {**streets, **numbers}
        columns, reasons = _line_in_street(arr, columns, reasons)
        reasons = keep_reason(reasons, pc.is_null(columns["house_number"]), "no house number")
        reasons = pc.coalesce(reasons, number_reasons)
    if box is not None:
        boxes, box_reasons = on_uniques(
            _as_arrow(box, len(columns["street"]))[0], _box_kernel, name=_name(box)
        )
        columns["box"] = pc.coalesce(boxes["box"], columns["box"])
        reasons = pc.coalesce(reasons, box_reasons)
    index = street.index if isinstance(street, pd.Series) else pd.RangeIndex(len(columns["box"]))
    if return_reasons:
        columns["reason"] = reasons
    return to_frame(columns, index)


def _line_in_street(
    raw: pa.Array, columns: dict[str, pa.Array], reasons: pa.Array
) -> tuple[dict[str, pa.Array], pa.Array]:
    """Where there is no house number, but the street reads as a whole address line
    ("Kerkstraat 12 bus 3" typed in the street field), take street, number and box
    from the line, as :func:`split_address` reads it."""
    todo = pc.and_(pc.is_null(columns["house_number"]), pc.match_substring_regex(raw, r"\d"))
    todo = pc.fill_null(todo, False)
    if not pc.any(todo).as_py():
        return columns, reasons
    line, _ = on_uniques(pc.filter(raw, todo), _line_kernel)
    found = pc.is_valid(line["house_number"])
    if not pc.any(found).as_py():
        return columns, reasons
    where = pc.replace_with_mask(todo, todo, found)  # rows whose line held a number
    out = {
        key: pc.replace_with_mask(col, where, pc.filter(line[key], found))
        for key, col in columns.items()
    }
    return out, null_where(reasons, where)


def _name(values: object) -> object:
    return values.name if isinstance(values, pd.Series) else None


def _as_arrow(values: pd.Series | Iterable[Any], n: int | None = None) -> tuple[pa.Array, pd.Index]:
    arr, index, _ = to_arrow(values)
    if n is not None and len(arr) != n:
        raise ValueError(
            f"normalise_address: fields differ in length, expected {n} rows, got {len(arr)}"
        )
    return arr, index


def _postcode_kernel(values: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    text = collapse_whitespace(fold(values))
    text = pc.replace_substring_regex(text, r"^(?:belgie|belgium|belgique|bel|be|b)\s*[-:]?\s*", "")
    found = pc.extract_regex(text, r"^(?:\D*[\s,(])?(?P<code>\d{4})(?:\.0+)?(?:[\s,)\-]\D*)?$")
    code = pc.struct_field(found, "code")
    low = pc.starts_with(code, "0")
    reasons = keep_reason(no_reasons(len(values)), low, "below 1000")
    reasons = keep_reason(reasons, pc.is_null(found), "not 4 digits")
    return {"postcode": null_where(code, low)}, reasons


def normalise_postcodes(
    postcodes: pd.Series | Iterable[Any], *, return_reasons: bool = False
) -> pd.Series | pd.DataFrame:
    """Return Belgian postcodes as 4-digit strings, 1000 to 9999.

    "B-9000", "BE 9000", "9000 Gent", 9000, 9000.0 and "9000.0" all give "9000";
    anything else is missing (reason "not 4 digits", "below 1000").

    Parameters
    ----------
    postcodes : Series
        Strings or numbers.
    return_reasons : bool, default False
        Return a DataFrame with columns ``postcode`` and ``reason`` instead.

    Returns
    -------
    Series of string[pyarrow], same index and name as ``postcodes``

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_postcodes(pd.Series(["B-9000", 1000, "0999"])).tolist()
    ['9000', '1000', <NA>]
    """
    return run(postcodes, _postcode_kernel, return_reasons=return_reasons, as_series=True)
