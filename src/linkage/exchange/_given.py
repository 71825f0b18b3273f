"""Links a linkage party made on encodings, delivered in place of a link made here.

Where the senders' and VDAB's clear data must not meet (docs/encodings.md), each
encodes its own records (``linkage encode``: VLAIO and TBT name theirs by their
exchange keys, VDAB by its own ids), a party that holds no key links the encodings
(``linkage link --encoded``), and the run reads the two link tables it returns
(``[vdab] links_enterprises`` / ``links_establishments``) instead of VDAB's files:

====================== ==================================================================
link table             columns
====================== ==================================================================
links_enterprises      ``enterprise_key`` (or ``enterprise_number``), ``employer_id``,
                       ``match_probability``
links_establishments   ``establishment_key`` (or ``establishment_number``), ``site_id``,
                       ``match_probability``, and ``employer_id`` if the table has it
====================== ==================================================================

A ``*_number`` column that holds exchange keys (``v1.`` and 26 characters: the
senders encoded under their keys, as ``linkage encode`` names the id column after the
spec) is read as keys.

Each record once (the link is one-to-one); VDAB's ids are checked for national
register numbers as its files are. A link is delivered for every party that sends
its record; a link whose record this delivery does not hold (withheld, erased, not
sent) is left out and counted. Nothing is fitted and no state is kept: every link
that differs from the delivery in force is reported with the reason ``linkage party``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.exceptions import SchemaError
from linkage.exchange._delivery import Delivery
from linkage.exchange._links import PROBABILITY, FeedLinks
from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers
from linkage.io import read_table
from linkage.national import national_number_mask
from linkage.pseudonymise import PSEUDONYM_PATTERN

__all__ = ["REASON", "given_links", "read_given"]

log = logging.getLogger(__name__)

REASON = "linkage party"
#: Per link: the record's key, its number, VDAB's id, and VDAB's parent id.
_COLUMNS = {
    "enterprises": ("enterprise_key", "enterprise_number", "employer_id", None),
    "establishments": ("establishment_key", "establishment_number", "site_id", "employer_id"),
}


def read_given(path: Path, name: str, policy: str) -> pd.DataFrame:
    """One returned link table, checked: ``record`` (key or number, as
    ``by`` names), VDAB's id, its parent id (establishments) and the probability.

    Raises
    ------
    SchemaError
        A column missing, a record linked twice, a probability outside [0, 1], or
        (``policy="refuse"``) a national register number in VDAB's ids: the file,
        column and row.
    """
    key, number, right, parent = _COLUMNS[name]
    frame = read_table(path, arrow_strings=True)
    by = key if key in frame else number
    needed = [by, right, PROBABILITY]
    missing = [c for c in needed if c not in frame]
    if missing:
        raise SchemaError(
            f"missing column(s) {missing}; a link table has {key} (or {number}), {right} "
            f"and {PROBABILITY}",
            source=str(path),
        )
    out = pd.DataFrame(
        {
            "by": by,
            "record": frame[by].astype("string"),
            right: frame[right].astype("string"),
            "parent": frame[parent].astype("string") if parent and parent in frame else pd.NA,
            PROBABILITY: pd.to_numeric(frame[PROBABILITY], errors="coerce"),
        }
    )
    bad = ~out[PROBABILITY].between(0, 1).to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(
            "not a probability in [0, 1]",
            source=str(path),
            column=PROBABILITY,
            row=int(bad.argmax()) + 1,
        )
    keys = out["record"].str.fullmatch(PSEUDONYM_PATTERN.strip("^$")).fillna(True)
    if by == number and keys.all():  # the senders encoded under their keys: keys
        out["by"] = key
    elif by == number:
        parse = parse_enterprise_numbers if name == "enterprises" else parse_establishment_numbers
        parsed = parse(out["record"], errors="coerce").astype("string")
        bad = (parsed.isna() & out["record"].notna()).to_numpy(dtype=bool)
        if bad.any():
            raise SchemaError(
                f"neither a valid {number.replace('_', ' ')} nor an exchange key",
                source=str(path),
                column=by,
                row=int(bad.argmax()) + 1,
            )
        out["record"] = parsed
    twice = out["record"].duplicated().to_numpy()
    if twice.any():
        raise SchemaError(
            "a record linked twice: a link table is one-to-one",
            source=str(path),
            column=by,
            row=int(twice.argmax()) + 1,
        )
    held = np.zeros(len(out), dtype=bool)
    for column in (right, "parent"):
        found = national_number_mask(out[column].reset_index(drop=True)).to_numpy(dtype=bool)
        if found.any() and policy == "refuse":
            raise SchemaError(
                "a national register or BIS number; the protocol (art. 3) does not allow one",
                source=str(path),
                column=column if column != "parent" else str(parent),
                row=int(found.argmax()) + 1,
            )
        held |= found
    if held.any():
        log.warning("%s: %d links left out: VDAB's id holds a national number", path, held.sum())
    return out[~held].reset_index(drop=True)


def given_links(
    given: dict[str, pd.DataFrame],
    delivered: dict[str, pd.DataFrame],
    previous: Delivery | None,
) -> FeedLinks:
    """The delivered link tables from the returned ones (:func:`read_given`), for every
    party's row of each record, and every link that changed since ``previous``."""
    tables, changes = {}, {}
    for name, links in given.items():
        key, number, right, parent = _COLUMNS[name]
        by = str(links["by"].iloc[0]) if len(links) else key
        records = delivered[name][[key, number, "party"]]
        joined = records.assign(record=records[by].astype("string")).merge(
            links.drop(columns="by"), on="record", how="inner"
        )
        unheld = len(links) - joined["record"].nunique()
        if unheld:
            log.warning("links_%s: %d links of records this delivery does not hold", name, unheld)
        columns = [key, "party", right, *(["employer_id"] if parent else []), PROBABILITY]
        if parent:
            joined["employer_id"] = joined["parent"]
        table = joined[columns].sort_values([key, "party"], ignore_index=True)
        tables[f"links_{name}"] = table
        changes[name] = _changed(table, previous, name, records)
    return FeedLinks(
        tables=tables,
        specs={},
        models={},
        fingerprints={},
        changes=changes,
        timings={},
        refitted=False,
    )


def _changed(
    now: pd.DataFrame, previous: Delivery | None, name: str, records: pd.DataFrame
) -> pd.DataFrame:
    """Per record whose link differs from the delivery in force: its number, VDAB's id
    before and after, and the reason."""
    key, number, right, _ = _COLUMNS[name]
    before = (
        previous.table(f"links_{name}")[[key, right]]
        if previous is not None
        else pd.DataFrame({key: pd.Series(dtype="string"), right: pd.Series(dtype="string")})
    )
    both = (
        before.drop_duplicates(key)
        .astype("string")
        .merge(
            now[[key, right]].drop_duplicates(key).astype("string"),
            on=key,
            how="outer",
            suffixes=("_before", "_after"),
        )
    )
    moved = both[f"{right}_before"].fillna("\x00") != both[f"{right}_after"].fillna("\x00")
    both = both[moved.to_numpy(dtype=bool)]
    numbers = records.drop_duplicates(key).set_index(key)[number]
    return pd.DataFrame(
        {
            number: numbers.reindex(both[key]).to_numpy(dtype=object),
            f"{right}_before": both[f"{right}_before"].to_numpy(dtype=object),
            f"{right}_after": both[f"{right}_after"].to_numpy(dtype=object),
            "reason": REASON,
        }
    ).reset_index(drop=True)
