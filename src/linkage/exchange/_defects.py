"""Defect ids that stay the same from one run to the next, and each defect's status.

A defect's id is a keyed hash (two SipHash-2-4 under halves of the exchange's
``defect`` key, 128 bits, lower-case base32, ``d<key version>.`` in front) of what names it: the
sending party, the table, the sender's record id (where the record id is withheld,
the file and row), the field as the sender's file names it and the rule. Never of a
value: a defect keeps its id while the wrong value changes, and the id says nothing
of the record to whoever lacks the key. A run recomputes the previous report's ids
under its own key version, so a key rotation does not reopen every defect.

Each run compares its defects with the open ones of the delivery it builds on:

* ``new`` — not in the previous report;
* ``open`` — in it, and found again (``first_seen`` is kept);
* ``fixed`` — in it, not found again, and its record is still sent (the sender
  corrected it), or a correction (``exchange correct``) answered it;
* ``withdrawn`` — in it, not found again, and its record is no longer delivered
  (the sender stopped sending it, or a subject request erased it).

The open ones are the report (``<PARTY>.csv``); the closed ones go in the ledger
(``<PARTY>.parquet``) and the counts of all four, per rule, in the manifest
(``quality_status``) and on the page.
"""

from __future__ import annotations

import base64
import csv
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from linkage.exchange._art8 import RULES
from linkage.exchange._report import LEDGER_COLUMNS, STATUSES
from linkage.exchange._schema import DOMAINS, EXTRACTS
from linkage.keys import KeyRing
from linkage.pseudonymise import base32_lower, pseudonymise

if TYPE_CHECKING:
    from linkage.exchange._config import ExchangeConfig

__all__ = [
    "DOMAIN",
    "corrected",
    "defect_ids",
    "earlier_defects",
    "protocol_names",
    "status_summary",
    "with_status",
]

#: The key domain of defect ids.
DOMAIN = "defect"
_SEP = "\x1f"
_HASHED_AT_ONCE = 1 << 16  # names hashed at a time (see defect_ids)


def defect_ids(defects: pd.DataFrame, ring: KeyRing) -> pd.Series:
    """The id of each defect (see the module docstring), as ``string[pyarrow]``.

    Parameters
    ----------
    defects : DataFrame
        With ``party, table, record_id, column, defect, file, row``.
    ring : KeyRing
    """
    if not len(defects):
        return pd.Series([], index=defects.index, dtype="string", name="defect_id")

    def arrow(column: str) -> pa.Array:
        text = _text(defects[column])
        return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text

    row = _row_numbers(defects["row"])
    where = pc.binary_join_element_wise(
        "@", pc.fill_null(arrow("file"), ""), pc.cast(row, pa.string()), ":"
    )
    record = arrow("record_id")
    record = pc.if_else(pc.fill_null(pc.not_equal(record, ""), False), record, where)
    names = pc.binary_join_element_wise(
        *(pc.fill_null(arrow(c), "") for c in ("party", "table")),
        record,
        pc.fill_null(arrow("column"), ""),
        pc.fill_null(arrow("defect"), ""),
        _SEP,
    )
    # Each row's name hashed (they are all but never distinct: no hash table first):
    # two SipHash-2-4 passes (pandas' keyed hash, one C loop over the values) under two
    # halves of the defect key, 128 bits, as fast as hashing gets without a loop here.
    # A slice of rows at a time: a Python object per name, for that slice only; its
    # UTF-8 bytes as ``bytes``, which pandas hashes as it hashes the ``str`` it would
    # encode for each of the two hashes: a slice's hashes three times faster.
    text_key = base64.b64encode(ring.key(DOMAIN).reveal()).decode("ascii")
    # The two hashes' bytes little-endian, the first hash's first: the ids that
    # reports have carried since there were ids.
    halves = np.empty((len(names), 2), dtype="<u8")
    filled = pc.fill_null(names, "").cast(pa.large_binary())
    for start in range(0, len(names), _HASHED_AT_ONCE):
        part = filled.slice(start, _HASHED_AT_ONCE).to_numpy(zero_copy_only=False)
        for k in (0, 1):
            key = text_key[16 * k : 16 * k + 16]
            halves[start : start + len(part), k] = pd.util.hash_array(
                part, hash_key=key, categorize=False
            )
    raw = halves.view(np.uint8).reshape(-1, 16)
    prefix = np.frombuffer(f"d{ring.current}.".encode("ascii"), dtype=np.uint8)
    text = np.empty((raw.shape[0], prefix.size + 26), dtype=np.uint8)
    text[:, : prefix.size] = prefix
    text[:, prefix.size :] = base32_lower(raw)
    width = text.shape[1]
    offsets = np.arange(0, (raw.shape[0] + 1) * width, width, dtype=np.int32)
    ids = pa.StringArray.from_buffers(
        raw.shape[0], pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))
    )
    if names.null_count:
        ids = pc.if_else(pc.is_valid(names), ids, pa.scalar(None, pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(ids), index=defects.index, name="defect_id")


def _row_numbers(rows: pd.Series) -> pa.Array:
    """``pd.to_numeric(rows)`` as Arrow ``int64``: a report's rows read back as text
    are cast by Arrow (no Python object per row)."""
    if isinstance(rows.dtype, pd.StringDtype) and rows.dtype.storage == "pyarrow":
        try:
            text = _text(rows)
            text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
            return pc.cast(text, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return pa.array(pd.to_numeric(rows).astype("Int64").array, pa.int64())


def _read_report(path: Path) -> pd.DataFrame:
    """A report's CSV, every column as Arrow-backed text, an empty cell missing."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text (no copy where it is Arrow-backed already)."""
    return pa.array(values.astype("string[pyarrow]").array, type=pa.string())


def _as_string(values: pd.Series) -> pd.Series:
    """``values.astype("string")``'s text; Arrow's text kept as it is (no round trip
    through a Python string per value)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return values
    return values.astype("string")


def _still_sent(earlier: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """Per earlier defect, whether its party still sends its record (a defect without
    a record id: whether the party still sends the table). Per table and party, the
    ids looked up among that party's own by Arrow's hash set."""
    sent = np.zeros(len(earlier), dtype=bool)
    table_of, party_of = _text(earlier["table"]), _text(earlier["party"])
    ids = _text(_as_string(earlier["record_id"]))
    for table, extract in EXTRACTS.items():
        in_table = pc.fill_null(pc.equal(table_of, table), False)
        if not pc.any(in_table).as_py():
            continue
        frame = tables[table]
        senders, own = _text(frame["party"]), _text(_as_string(frame[extract.id]))
        for party in pc.unique(party_of.filter(in_table)).to_pylist():
            mine = pc.and_(in_table, pc.fill_null(pc.equal(party_of, party), False))
            rows = np.flatnonzero(mine.to_numpy(zero_copy_only=False))
            sends = pc.fill_null(pc.equal(senders, party), False)
            if not pc.any(sends).as_py():
                continue  # the party sends no such table now: none of it is sent
            theirs = ids.take(pa.array(rows))
            hit = pc.fill_null(pc.is_in(theirs, value_set=own.filter(sends)), False)
            sent[rows] = pc.or_(hit, theirs.is_null()).to_numpy(zero_copy_only=False)
    return sent


def _of_version(ids: pd.Series | None, version: int) -> bool:
    """Whether every id is there and of key ``version`` (``d<version>.``): what a
    report of a run under that version holds, hashed from what the report says."""
    if ids is None:
        return False
    text = _text(ids)
    return bool(pc.all(pc.starts_with(text, f"d{version}."), skip_nulls=False).as_py())


def earlier_defects(
    folder: Path | None,
    parties: tuple[str, ...],
    ring: KeyRing,
    tables: dict[str, pd.DataFrame],
    run_id: str | None,
) -> pd.DataFrame:
    """The open defects of a delivery's reports (``folder``: its ``quality/``), their
    ids under ``ring``'s current key (recomputed, unless every id of the reports is
    of that key version already), with ``first_seen`` (a report from before ids: the
    run that wrote it) and ``sent`` (:func:`_still_sent`)."""
    columns = [*LEDGER_COLUMNS[:-1], "record_id", "sent"]
    parts = []
    for party in parties:
        path = None if folder is None else folder / f"{party}.csv"
        if path is not None and path.exists():
            parts.append(_read_report(path).assign(party=party))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    earlier = pd.concat(parts, ignore_index=True)
    if not _of_version(earlier.get("defect_id"), ring.current):
        earlier["defect_id"] = defect_ids(earlier, ring)
    if "first_seen" not in earlier.columns:
        earlier["first_seen"] = run_id
    earlier["first_seen"] = earlier["first_seen"].fillna(run_id or "")
    earlier["sent"] = _still_sent(earlier, tables)
    earlier["status"] = "open"
    for column in ("kind", "severity"):
        if column not in earlier.columns:
            known = earlier["defect"].map({r: getattr(v, column) for r, v in RULES.items()})
            earlier[column] = known
    return earlier.drop_duplicates("defect_id")[columns].reset_index(drop=True)


def with_status(
    defects: pd.DataFrame,
    earlier: pd.DataFrame,
    ring: KeyRing,
    run_id: str,
    *,
    answered: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """This run's defects with ``defect_id``, ``status`` and ``first_seen``, and the
    earlier ones it closes (the ledger's rows, see the module docstring).

    ``answered``: ids of earlier defects a correction answered (closed as fixed
    whatever became of their record).
    """
    out = defects.copy()
    out["defect_id"] = defect_ids(out, ring)
    # Matched by Arrow's hash table on the ids (earlier's are unique: one per id).
    ids, earlier_ids = _text(out["defect_id"]), _text(earlier["defect_id"])
    at = pc.index_in(ids, value_set=earlier_ids)
    # As Arrow text: no Python string per defect (the report writes them as Arrow).
    seen = _text(earlier["first_seen"]).take(at)
    out["status"] = pd.arrays.ArrowStringArray(pc.if_else(pc.is_valid(seen), "open", "new"))
    out["first_seen"] = pd.arrays.ArrowStringArray(pc.fill_null(seen, run_id))
    # An earlier defect is kept where one of this run's ids found it (no second hash
    # table: earlier's ids are unique).
    kept = np.zeros(len(earlier), dtype=bool)
    kept[pc.drop_null(at).to_numpy(zero_copy_only=False)] = True
    gone = earlier[~kept].copy()
    fixed = gone["sent"].astype(bool).to_numpy()
    if answered is not None:
        fixed |= gone["defect_id"].isin(answered).to_numpy(dtype=bool)
    gone["status"] = np.where(fixed, "fixed", "withdrawn")
    gone["closed_in"] = run_id
    return out, gone[list(LEDGER_COLUMNS)].reset_index(drop=True)


def status_summary(
    defects: pd.DataFrame, closed: pd.DataFrame, parties: tuple[str, ...]
) -> dict[str, dict[str, object]]:
    """Per party: how many defects are new, open, fixed, withdrawn, and per rule
    (rules and their statuses in sorted order; a defect without a status is not
    counted, one without a rule only in the totals)."""
    counts = _status_counts(defects) + _status_counts(closed)
    summary: dict[str, dict[str, object]] = {}
    for party in parties:
        mine = {key[1:]: n for key, n in counts.items() if key[0] == party}
        totals: Counter[str] = Counter()
        for (_, status), n in mine.items():
            totals[status] += n
        by_rule: dict[str, dict[str, int]] = {}
        for rule, status in sorted((r, s) for r, s in mine if r is not None):
            by_rule.setdefault(rule, {})[status] = mine[(rule, status)]
        summary[party] = {**{s: totals[s] for s in STATUSES}, "by_rule": by_rule}
    return summary


def _status_counts(defects: pd.DataFrame) -> Counter[tuple[str, str | None, str]]:
    """How many defects per party, rule and status (a party and a status given), by
    Arrow's group-by: a count per group, no Python string per defect."""
    columns = ("party", "defect", "status")
    table = pa.table({c: _text(defects[c]) for c in columns})
    grouped = table.group_by(list(columns)).aggregate([([], "count_all")])
    keys = zip(*(grouped[c].to_pylist() for c in (*columns, "count_all")), strict=True)
    return Counter({(p, d, s): int(n) for p, d, s, n in keys if p is not None and s is not None})


def protocol_names(config: ExchangeConfig) -> dict[tuple[str, str], dict[str, str]]:
    """Per party and table, each header a column mapping reads as the protocol's
    column (a report names a field as the sender's file does)."""
    return {
        (party, table): {header: column for column, header in config.mapping(party, table).items()}
        for party in config.parties
        for table in EXTRACTS
        if config.mapping(party, table)
    }


def corrected(
    defects: pd.DataFrame,
    answered: pd.DataFrame,
    ring: KeyRing,
    names: dict[tuple[str, str], dict[str, str]],
    *,
    version: int | None = None,
) -> np.ndarray:
    """Which defects a sender's correction answered: the same party, table and
    record, and the same field (every field of a record it deleted).

    Parameters
    ----------
    defects : DataFrame
        With ``party, table, record_id, column`` (as the sender's file names it).
    answered : DataFrame
        ``party, table, key, column`` (:func:`._overlays.answered_fields`).
    ring : KeyRing
        A record id is matched by its pseudonym (under ``version``, the current one
        by default): the key the delivery and the rules hold.
    names : dict
        :func:`protocol_names`.

    Returns
    -------
    ndarray of shape (n_defects,), dtype bool
    """
    hit = np.zeros(len(defects), dtype=bool)
    if not len(answered) or not len(defects):
        return hit
    for table in answered["table"].dropna().unique():
        mine = (defects["table"] == table).to_numpy(dtype=bool)
        if table not in EXTRACTS or not mine.any():
            continue
        part = defects[mine]
        domain = DOMAINS[EXTRACTS[table].id]
        keys = pseudonymise(
            part["record_id"].astype("string"), ring, domain=domain, version=version
        )
        column = part["column"].astype("string")
        for (party, name), mapping in names.items():
            if name == table:
                theirs = (part["party"] == party).to_numpy(dtype=bool)
                column[theirs] = column[theirs].replace(mapping)
        record = part["party"].astype("string") + _SEP + keys.astype("string")
        ours = answered[(answered["table"] == table).to_numpy(dtype=bool)]
        whole = ours[ours["column"].isna().to_numpy(dtype=bool)]
        fields = ours[ours["column"].notna().to_numpy(dtype=bool)]
        found = record.isin(whole["party"] + _SEP + whole["key"]) | (record + _SEP + column).isin(
            fields["party"] + _SEP + fields["key"] + _SEP + fields["column"]
        )
        hit[mine] = found.fillna(False).to_numpy(dtype=bool)
    return hit
