"""Overrides: a person's must-link and cannot-link decisions, applied by every run.

The file (CSV or Parquet) has one row per decision: ``left_id``, ``right_id``,
``decision`` (``must-link`` or ``cannot-link``), ``who``, ``when`` and ``why``. A
run applies it before the one-to-one step: a cannot-link pair is never linked; a
must-link pair is linked whatever its weight (it is compared and scored like any
other, added to the candidates if blocking did not propose it), and its records
then take no other partner. A pair decided twice both ways, or (one-to-one) a
record with two must-links, is refused. Ids no longer in the tables are skipped.

The links mark what an override decided in the column ``override``.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.exceptions import ConfigError, SchemaError
from linkage.io import read_table, require_columns

__all__ = ["CANNOT", "COLUMNS", "MUST", "Overrides", "merge", "override_names", "read_overrides"]

log = logging.getLogger(__name__)

MUST, CANNOT = "must-link", "cannot-link"
COLUMNS = ("left_id", "right_id", "decision", "who", "when", "why")


class Overrides:
    """Checked must-link / cannot-link decisions.

    Parameters
    ----------
    table : DataFrame
        Columns :data:`COLUMNS`; ``decision`` is ``must-link`` or ``cannot-link``.
    source : str
        The file's name, for messages.
    """

    def __init__(self, table: pd.DataFrame, *, source: str = "overrides") -> None:
        require_columns(table, COLUMNS, source=source)
        table = table.reset_index(drop=True)
        decision = table["decision"].astype("string").str.strip().str.lower()
        wrong = ~decision.isin([MUST, CANNOT]).fillna(False).to_numpy(bool)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise SchemaError(
                f"a decision is {MUST!r} or {CANNOT!r}, got {table['decision'].iloc[row]!r}",
                source=source,
                column="decision",
                row=row + 2,
            )
        ids = table[["left_id", "right_id"]].astype(str)
        both = ids.assign(decision=decision.to_numpy()).drop_duplicates()
        twice = both.duplicated(["left_id", "right_id"], keep=False).to_numpy()
        if twice.any():
            row = int(np.flatnonzero(twice)[0])
            raise ConfigError(
                f"pair ({both['left_id'].iloc[row]}, {both['right_id'].iloc[row]}) is both "
                "a must-link and a cannot-link",
                source=source,
            )
        self.table = table.assign(decision=decision.to_numpy())
        self.source = source

    def __len__(self) -> int:
        return len(self.table)

    def positions(
        self, left_ids: pd.Index, right_ids: pd.Index, *, one_to_one: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """The decided pairs present in the tables, as positions, and which are must-links.

        Raises ConfigError where, one-to-one, a record has two must-links.
        """
        left = left_ids.astype(str).get_indexer(self.table["left_id"].astype(str))
        right = right_ids.astype(str).get_indexer(self.table["right_id"].astype(str))
        present = (left >= 0) & (right >= 0)
        if not present.all():
            log.info("overrides: %d decisions name records no longer there", (~present).sum())
        must = (self.table["decision"] == MUST).to_numpy()[present]
        left, right = left[present].astype(np.int64), right[present].astype(np.int64)
        packed = left * max(len(right_ids), 1) + right
        packed, first = np.unique(packed, return_index=True)
        left, right, must = left[first], right[first], must[first]
        if one_to_one:
            for side, pos, ids in (("left", left, left_ids), ("right", right, right_ids)):
                taken = np.sort(pos[must])
                twice = taken[1:][taken[1:] == taken[:-1]]
                if twice.size:
                    raise ConfigError(
                        f"{side} record {ids[twice[0]]!r} has two must-links, and links "
                        "are one-to-one",
                        source=self.source,
                    )
        return left, right, must


def read_overrides(path: str | os.PathLike[str]) -> Overrides:
    """The overrides file at ``path`` (CSV or Parquet), checked."""
    table = read_table(path, required=COLUMNS)
    return Overrides(table, source=os.fspath(path).rsplit("/", 1)[-1])


def merge(
    pair_left: NDArray[np.int32],
    pair_right: NDArray[np.int32],
    n_right: int,
    left: NDArray[np.int64],
    right: NDArray[np.int64],
    must: NDArray[np.bool_],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
    """The candidate pairs with the must-link pairs blocking missed, and each pair's
    decision (0 none, 1 must-link, 2 cannot-link); sorted by left, then right."""
    n_right = max(n_right, 1)
    found = pair_left.astype(np.int64) * n_right + pair_right
    decided = left * n_right + right
    packed = np.union1d(found, decided[must])
    code = np.zeros(len(packed), dtype=np.int8)
    at = np.searchsorted(packed, decided)
    hit = packed[np.minimum(at, len(packed) - 1)] == decided if len(packed) else at < 0
    code[at[hit]] = np.where(must[hit], 1, 2)
    return (packed // n_right).astype(np.int32), (packed % n_right).astype(np.int32), code


def override_names(code: NDArray[np.int8]) -> NDArray[np.object_]:
    """``must-link`` / ``cannot-link`` / None per pair, from :func:`merge`'s codes."""
    return np.array([None, MUST, CANNOT], dtype=object)[code]
