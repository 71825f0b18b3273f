"""Shared machinery of the normalisers: Arrow string columns, unique values, reasons.

Every normaliser works the same way:

1. the input Series becomes one Arrow string array (``to_arrow``); blank strings
   count as missing;
2. the array is dictionary-encoded and the work runs on the distinct values only
   (``on_uniques``), with Arrow compute kernels (RE2 regexes, utf8proc case folding
   and Unicode normalisation), so nothing loops in Python per record;
3. the kernel returns the normalised values and, for values that became missing, a
   short reason; both are taken back to the rows. A value longer than
   :data:`MAX_CHARS` never reaches a kernel: it becomes missing, with the reason
   "longer than 1,000 characters", and a warning counts such values per column;
4. ``to_series`` / ``to_frame`` wrap the result in ``string[pyarrow]`` columns with
   the input's index.

RE2 has no look-around and its ``\\b`` is ASCII only, so whole-token matching pads
every space to two and the value with a space on each side (``pad``): a token is
then always `` token `` and neighbouring matches cannot share a space.

Some steps repeat until nothing changes (a legal form whose removal brings together
the words of another, "bus bus 3"): :func:`until_stable` runs each further round on
the values the last one changed only, so a round costs what those values cost, and
the cap bounds how many rounds one value can take.

RE2's ``\\s`` is ASCII only too (tab, newline, form feed, carriage return, space),
where Python's ``re`` and ``str.split`` take every Unicode space: a pattern for
both, or for text that may hold a no-break space, uses :data:`WHITESPACE` (or
:data:`WHITESPACE_CHARS` inside a larger class), never ``\\s``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MAX_CHARS",
    "WHITESPACE",
    "WHITESPACE_CHARS",
    "Kernel",
    "collapse_whitespace",
    "finish",
    "fold",
    "keep_reason",
    "map_distinct",
    "no_reasons",
    "null_where",
    "on_matches",
    "on_uniques",
    "pad",
    "plain_words",
    "replace_tokens",
    "run",
    "to_arrow",
    "to_frame",
    "to_series",
    "token_alternation",
    "unpad",
    "until_stable",
]

logger = logging.getLogger(__name__)

#: A kernel maps distinct values to (normalised values, reasons); a reason is null
#: wherever the value is fine. Several output columns come back as a dict.
Kernel = Callable[[pa.Array], tuple[dict[str, pa.Array], pa.Array]]

_STRING = pd.StringDtype("pyarrow")

#: Values longer than this (in characters, after trimming) are taken as missing: no
#: name, address, e-mail, phone number or web address comes near it, and the
#: rounds of some normalisers cost the square of a value's length.
MAX_CHARS = 1_000
TOO_LONG = f"longer than {MAX_CHARS:,} characters"

# Letters that NFKD does not decompose but that people type without the stroke.
_UNDECOMPOSED = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "\u0131": "i",  # dotless i
}


def to_arrow(values: pd.Series | Iterable[Any]) -> tuple[pa.Array, pd.Index, Any]:
    """Return the values as an Arrow string array, with the index and name to restore.

    Non-strings become their ``str`` form (9000 -> "9000", 9000.0 -> "9000.0");
    missing values and blank strings become null.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    try:
        strings = series.astype(_STRING)
    except (UnicodeEncodeError, UnicodeDecodeError):
        # Lone surrogates (broken CSV decoding) cannot go to UTF-8. This slow path
        # only runs on such a column, never on clean data.
        logger.warning("column %r holds invalid Unicode; replacing bad characters", series.name)
        strings = series.map(_utf8_safe, na_action="ignore").astype(_STRING)
    arr = pa.array(strings.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim_whitespace(arr)
    arr = null_where(arr, pc.equal(arr, ""))
    return arr, series.index, series.name


def _utf8_safe(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")


def on_uniques(
    arr: pa.Array, kernel: Kernel, *, name: Any = None
) -> tuple[dict[str, pa.Array], pa.Array]:
    """Run ``kernel`` on the distinct non-null values of ``arr`` and take back to rows.

    Values over :data:`MAX_CHARS` characters are left out (missing, with the reason
    ``TOO_LONG``), and a warning names the column (``name``) and counts them.
    """
    encoded = arr.dictionary_encode()
    distinct, indices = encoded.dictionary, encoded.indices
    too_long = pc.greater(pc.utf8_length(distinct), MAX_CHARS)
    capped = pc.any(too_long).as_py()
    if capped:
        distinct = null_where(distinct, too_long)
        logger.warning(
            "%s: %s value(s) %s left out (as missing)",
            "a column" if name is None else f"column {name!r}",
            f"{pc.sum(pc.take(too_long, indices)).as_py():,}",
            TOO_LONG,
        )
    columns, reasons = kernel(distinct)
    if capped:
        reasons = pc.if_else(too_long, pa.scalar(TOO_LONG, reasons.type), reasons)
    return (
        {key: pc.take(col, indices) for key, col in columns.items()},
        pc.take(reasons, indices),
    )


def until_stable(
    arr: pa.Array,
    step: Callable[[pa.Array], pa.Array],
    *,
    again: Callable[[pa.Array], pa.Array] | None = None,
) -> pa.Array:
    """Apply ``step`` to the values until none changes.

    Each round after the first takes only the values the last one changed (and, with
    ``again``, for which ``again`` of the new value is true: those that may change
    further), and the rounds' answers are put back once at the end, so a round
    costs what its few values cost, not the whole array.
    """
    rounds: list[tuple[pa.Array, pa.Array]] = []
    current = arr
    while True:
        stepped = step(current)
        todo = pc.fill_null(pc.not_equal(stepped, current), False)
        if again is not None:
            todo = pc.and_(todo, pc.fill_null(again(stepped), False))
        if not pc.any(todo).as_py():
            break
        rounds.append((stepped, todo))
        current = pc.filter(stepped, todo)
    for outer, todo in reversed(rounds):
        stepped = pc.replace_with_mask(outer, todo, stepped)
    return stepped


def to_series(arr: pa.Array, index: pd.Index, name: Any) -> pd.Series:
    """Wrap an Arrow string array as a ``string[pyarrow]`` Series."""
    return pd.Series(pd.arrays.ArrowStringArray(_large(arr)), index=index, name=name, copy=False)


def to_frame(columns: Mapping[str, pa.Array], index: pd.Index) -> pd.DataFrame:
    """Wrap Arrow string arrays as a DataFrame of ``string[pyarrow]`` columns."""
    return pd.DataFrame(
        {name: pd.arrays.ArrowStringArray(_large(arr)) for name, arr in columns.items()},
        index=index,
    )


def _large(arr: pa.Array) -> pa.Array:
    if arr.type == pa.null():
        return pa.nulls(len(arr), pa.large_string())
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def null_where(arr: pa.Array, mask: pa.Array) -> pa.Array:
    """Set ``arr`` to null where ``mask`` is true (a null mask leaves the value)."""
    return pc.if_else(pc.fill_null(mask, False), pa.scalar(None, arr.type), arr)


def keep_reason(reasons: pa.Array, mask: pa.Array, reason: str) -> pa.Array:
    """Put ``reason`` where ``mask`` is true and no earlier reason is set."""
    hit = pc.and_(pc.fill_null(mask, False), pc.is_null(reasons))
    return pc.if_else(hit, pa.scalar(reason, reasons.type), reasons)


def no_reasons(n: int) -> pa.Array:
    """A reason array with no reason anywhere."""
    return pa.nulls(n, pa.string())


def fold(arr: pa.Array) -> pa.Array:
    """Lower-case and strip diacritics (NFKD, drop combining marks), idempotently.

    Lower-casing runs again after NFKD because compatibility decompositions can
    bring back capitals ("℃" -> "°C"). Only non-ASCII values take the slow path.
    """
    arr = pc.utf8_lower(arr)
    wide = pc.invert(pc.fill_null(pc.string_is_ascii(arr), True))
    if not pc.any(wide).as_py():
        return arr
    sub = pc.utf8_normalize(pc.filter(arr, wide), form="NFKD")
    sub = pc.utf8_lower(pc.replace_substring_regex(sub, r"\p{M}+", ""))
    for letter, plain in _UNDECOMPOSED.items():
        sub = pc.replace_substring(sub, letter, plain)
    return pc.replace_with_mask(arr, wide, sub)


def map_distinct(arr: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` to the distinct values of ``arr`` only (a street part, say)."""
    encoded = arr.dictionary_encode()
    return pc.take(fn(encoded.dictionary), encoded.indices)


#: The characters ``str.isspace()`` calls white space: those Python's ``\s`` matches
#: and Arrow's ``utf8_trim_whitespace`` trims. Written out one by one (the regex sees
#: no escape and no range), so that Python's ``re`` and Arrow's RE2 read the same set, and
#: so that the string also serves ``str.strip``. Put it in a larger class as
#: ``f"[{WHITESPACE_CHARS}.\\-]"``.
WHITESPACE_CHARS = (
    "\t\n\x0b\x0c\r"  # tab, line feed, vertical tab, form feed, carriage return
    "\x1c\x1d\x1e\x1f"  # file, group, record and unit separators
    " \x85\xa0"  # space, next line, no-break space
    "\u1680"  # ogham space mark
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006"  # en quad ... six-per-em space
    "\u2007\u2008\u2009\u200a"  # figure, punctuation, thin and hair space
    "\u2028\u2029"  # line and paragraph separators
    "\u202f\u205f\u3000"  # narrow no-break, medium mathematical, ideographic space
)
#: One white-space character, the same for Python ``re`` and Arrow (RE2) patterns.
WHITESPACE = f"[{WHITESPACE_CHARS}]"

# Any whitespace but the plain space, and runs of two or more of any. Matching
# every single space costs three times as much: RE2 rewrites each match.
_NOT_PLAIN = WHITESPACE_CHARS.replace(" ", "")
_UNTIDY = f"{WHITESPACE}{{2,}}|[{_NOT_PLAIN}]"


def collapse_whitespace(
    values: pd.Series | pa.Array | pa.ChunkedArray,
) -> pd.Series | pa.Array:
    """Collapse runs of white space to one plain space and trim; blank becomes missing.

    White space is :data:`WHITESPACE`: every Unicode space, the no-break ones too,
    the same set as Python's ``str.split()``.

    Parameters
    ----------
    values : Series, or Arrow string array
        Text; a Series of anything else is read as its ``str`` form.

    Returns
    -------
    Series of string[pyarrow] (same index and name), or Arrow string array
        As ``values`` came: a Series for a Series, an Arrow array for an Arrow array.

    Examples
    --------
    >>> collapse_whitespace(pd.Series(["  Jan\u00a0\u00a0Peeters ", " \t", None])).tolist()
    ['Jan Peeters', <NA>, <NA>]
    """
    if isinstance(values, pd.Series):
        arr, index, name = to_arrow(values)
        return to_series(collapse_whitespace(arr), index, name)
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, _UNTIDY, " "))
    return null_where(arr, pc.equal(arr, ""))


def on_matches(arr: pa.Array, pattern: str, step: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``step`` to the values that match ``pattern`` only, the others as they are
    (where few values need a rewrite, and each rewrite copies every value it is given)."""
    hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    if not pc.any(hit).as_py():
        return arr
    return pc.replace_with_mask(arr, hit, step(pc.filter(arr, hit)))


#: A value :func:`plain_words` may change: anything but lower-case ASCII letters and
#: digits in words one space apart, or empty.
_ROUGH = r"[^a-z0-9 ]|  |^ | $|^$"


def plain_words(folded: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Folded text as plain words: abbreviation dots joined ("b.v.b.a." -> "bvba",
    "o.l.v." -> "olv": a dot right after a one-letter word), apostrophes dropped
    ("l'oreal" -> "loreal", as it is often typed), other punctuation to spaces.

    Only the values that may change are rewritten (:func:`on_matches`: most names are
    plain words already)."""
    folded = folded.combine_chunks() if isinstance(folded, pa.ChunkedArray) else folded
    return on_matches(folded, _ROUGH, _plain_words)


def _plain_words(folded: pa.Array) -> pa.Array:
    """:func:`plain_words` of every value."""
    arr = pc.replace_substring_regex(folded, r"\b(\pL)\.", r"\1")
    arr = pc.replace_substring_regex(arr, "['`\u2018\u2019\u00b4]", "")
    # Spaces are left out of the class: matching each one would cost a rewrite.
    return collapse_whitespace(pc.replace_substring_regex(arr, r"[^\pL\pN ]+", " "))


def pad(arr: pa.Array) -> pa.Array:
    """Double every space and add one at both ends, for whole-token regexes."""
    doubled = pc.replace_substring(arr, " ", "  ")
    space, empty = pa.scalar(" ", arr.type), pa.scalar("", arr.type)
    return pc.binary_join_element_wise(space, doubled, space, empty)


def unpad(padded: pa.Array) -> pa.Array:
    """Undo ``pad``: single spaces, no spaces at the ends; empty becomes null.

    Whole-token replacements keep a value padded (a removed token takes its two
    spaces with it), so no regex is needed here.
    """
    arr = pc.utf8_trim(pc.replace_substring(padded, "  ", " "), " ")
    return null_where(arr, pc.equal(arr, ""))


def token_alternation(tokens: Iterable[str], *, padded: bool = True) -> str:
    """An RE2 alternation of ``tokens`` as written in a padded value (spaces doubled),
    or, without ``padded``, in a value as it is.

    Longer alternatives come first, so a long form wins over its prefix. Wrap it as
    ``" (?:" + alternation + ") "`` to match whole tokens of a padded value.
    """
    ordered = sorted(set(tokens), key=lambda t: (-len(t), t))
    return "|".join(_escape(t).replace(" ", "  " if padded else " ") for t in ordered)


def _escape(token: str) -> str:
    return "".join("\\" + ch if not ch.isalnum() and ch != " " else ch for ch in token)


def replace_tokens(padded: pa.Array, tokens: Iterable[str], replacement: str) -> pa.Array:
    """Replace whole tokens (of a padded value) by ``replacement`` (may be empty).

    The result is still padded.
    """
    target = " " + replacement.replace(" ", "  ") + " " if replacement else ""
    return pc.replace_substring_regex(padded, f" (?:{token_alternation(tokens)}) ", target)


def finish(
    columns: Mapping[str, pa.Array],
    reasons: pa.Array,
    index: pd.Index,
    name: Any,
    *,
    return_reasons: bool,
    as_series: bool,
) -> pd.Series | pd.DataFrame:
    """Build the public result: a Series (named as the input) or a DataFrame.

    With ``return_reasons`` a ``reason`` column is added, and a Series result comes
    back as a DataFrame of its value column and ``reason``.
    """
    if as_series and not return_reasons:
        (values,) = columns.values()
        return to_series(values, index, name)
    out = dict(columns)
    if return_reasons:
        out["reason"] = reasons
    return to_frame(out, index)


def run(
    values: pd.Series | Iterable[Any],
    kernel: Kernel,
    *,
    return_reasons: bool,
    as_series: bool,
) -> pd.Series | pd.DataFrame:
    """Convert, run ``kernel`` on the distinct values, and build the result."""
    arr, index, name = to_arrow(values)
    columns, reasons = on_uniques(arr, kernel, name=name)
    return finish(columns, reasons, index, name, return_reasons=return_reasons, as_series=as_series)
