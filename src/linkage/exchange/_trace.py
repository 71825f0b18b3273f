"""The independent proof of an erasure: every trace of a person in every file given.

It does not ask the subject search again. It reads every file (Parquet by its
content, every column as text; anything else as text) and looks for two things:

* the **keys** and clear ids of the records the erasure removed, in any cell or
  anywhere in a text: none may be left;
* the person's **values** (their e-mail addresses; their first and last name as two
  cells of one row, or as one cell either way round; compared trimmed and in lower
  case). A Parquet row that holds them is attributed by the keys in that row: to the
  person (a blanked record that still holds them: not erased), to another candidate
  of the same request (a namesake, left alone), or to nobody the request knew of
  (the search missed it). A text file that holds them cannot be attributed.

The erasure is proved when no removed key is left and every value found belongs to
another candidate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["Needles", "Trace", "trace"]

_MAGIC = b"PAR1"


@dataclass(frozen=True, kw_only=True)
class Needles:
    """What to look for: removed keys, the person's values, and whose keys are whose."""

    removed: frozenset[str]
    emails: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()
    own: frozenset[str] = frozenset()
    others: frozenset[str] = frozenset()


@dataclass
class Trace:
    """Per file (as named by the caller): rows or places holding a removed key, and
    rows holding the person's values by whom they belong to."""

    scanned: list[str] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Rows or places that should be gone and are not."""
        wrong = sum(v.get("person", 0) + v.get("unknown", 0) for v in self.values.values())
        return sum(self.keys.values()) + wrong + len(self.unreadable)

    def summary(self) -> str:
        namesakes = sum(v.get("other candidate", 0) for v in self.values.values())
        lines = [
            f"proof: {len(self.scanned)} files read; removed keys found: "
            f"{sum(self.keys.values())}; the person's values found: "
            f"{sum(sum(v.values()) for v in self.values.values()) - namesakes} "
            f"(namesakes' rows left alone: {namesakes}); unreadable: {len(self.unreadable)}"
        ]
        for name, count in self.keys.items():
            lines.append(f"  {name}: {count} with a removed key")
        for name, found in self.values.items():
            for whose, count in found.items():
                if whose != "other candidate":
                    lines.append(f"  {name}: {count} with the person's values ({whose})")
        lines.extend(f"  {name}: could not be read" for name in self.unreadable)
        return "\n".join(lines)


def _text_columns(table: pa.Table) -> list[pa.ChunkedArray]:
    out = []
    for column in table.columns:
        try:
            text = column.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        out.append(pc.utf8_lower(pc.utf8_trim_whitespace(text)))
    return out


def _any(masks: Iterable[pa.ChunkedArray | pa.Array], n: int) -> pa.Array:
    out = pa.array(np.zeros(n, dtype=bool))  # typed even when empty
    for mask in masks:
        out = pc.or_(out, pc.fill_null(mask, False))
    return out


def _table(table: pa.Table, needles: Needles) -> tuple[int, dict[str, int]]:
    raw = [c.cast(pa.string()) for c in table.columns if _castable(c)]
    columns = _text_columns(table)
    n = table.num_rows
    removed = pa.array(sorted(needles.removed), pa.string())
    keys = int(pc.sum(_any((pc.is_in(c, value_set=removed) for c in raw), n)).as_py() or 0)
    found = _any([], n)
    if needles.emails:
        emails = pa.array([e.lower() for e in needles.emails], pa.string())
        found = pc.or_(found, _any((pc.is_in(c, value_set=emails) for c in columns), n))
    for first, last in needles.names:
        first, last = first.lower(), last.lower()
        both = pc.and_(
            _any((pc.equal(c, first) for c in columns), n),
            _any((pc.equal(c, last) for c in columns), n),
        )
        whole = pa.array(sorted({f"{first} {last}", f"{last} {first}"}), pa.string())
        found = pc.or_(
            found, pc.or_(both, _any((pc.is_in(c, value_set=whole) for c in columns), n))
        )
    values: dict[str, int] = {}
    if pc.any(found).as_py():
        rows = table.filter(found)
        cells = [c.cast(pa.string()) for c in rows.columns if _castable(c)]
        own = pa.array(sorted(needles.own), pa.string())
        other = pa.array(sorted(needles.others), pa.string())
        mine = _any((pc.is_in(c, value_set=own) for c in cells), rows.num_rows)
        theirs = _any((pc.is_in(c, value_set=other) for c in cells), rows.num_rows)
        for whose, mask in (
            ("person", mine),
            ("other candidate", pc.and_(pc.invert(mine), theirs)),
            ("unknown", pc.and_(pc.invert(mine), pc.invert(theirs))),
        ):
            count = int(pc.sum(mask).as_py() or 0)
            if count:
                values[whose] = count
    return keys, values


def _castable(column: pa.ChunkedArray) -> bool:
    try:
        column.slice(0, 0).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _text(data: bytes, needles: Needles) -> tuple[int, dict[str, int]]:
    text = data.decode("utf-8", errors="replace")
    keys = sum(text.count(k) for k in needles.removed)
    lower = text.lower()
    values = sum(lower.count(email.lower()) for email in needles.emails)
    for first, last in needles.names:
        values += lower.count(f"{first} {last}".lower()) + lower.count(f"{last} {first}".lower())
    return keys, ({"unknown": values} if values else {})


def trace(files: Iterable[tuple[str, Path]], needles: Needles) -> Trace:
    """Read each ``(name, path)`` and record what it holds of ``needles``."""
    out = Trace()
    for name, path in files:
        out.scanned.append(name)
        try:
            with path.open("rb") as handle:
                head = handle.read(4)
            if head == _MAGIC:
                keys, values = _table(pq.read_table(path), needles)
            else:
                keys, values = _text(path.read_bytes(), needles)
        except (OSError, pa.ArrowException):
            out.unreadable.append(name)
            continue
        if keys:
            out.keys[name] = keys
        if values:
            out.values[name] = values
    return out
