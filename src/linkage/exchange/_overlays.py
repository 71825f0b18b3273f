"""What a subject request changes, as rules that the request and every later run apply.

A rule is one row: ``action`` (``remove``, ``blank`` or ``set``), the record it acts
on (``table``: enterprises, contacts or staff for a subject request, and also
establishments, dossiers and amounts for a sender's correction, :data:`RULE_KEYS`;
its ``key`` and sending ``party``), the ``column`` and ``value`` of a blank or set,
and the request it came from (a correction's ``request_id`` starts ``correct-``).

* ``remove`` deletes the record and everything that hangs from it: an enterprise
  takes its establishments, dossiers, their amounts, contacts and staff references,
  and both link tables' rows with it; a staff member takes their dossier references.
* ``blank`` empties one field. Its ``value`` is a keyed fingerprint of what was
  blanked (an HMAC under the exchange's ``subject`` key), never the value itself.
* ``set`` writes ``value`` into one field (a rectification, a correction). A date,
  amount or flag is kept as text (``YYYY-MM-DD``, a number, ``true``/``false``) and
  written and compared as its column's type.

The rules are kept under the store (``subjects/suppressions.parquet`` for removals,
``subjects/overlays.parquet`` for the rest), as pseudonyms, so that a record erased
or corrected here does not come back with the next extract. Each run applies them
until the sender has done the same at the source, and then retires them: a removal
when the party no longer sends the record, a blank when the field no longer holds
what was blanked, a set when the field holds the value. Both files carry ``party``:
a purge of that party removes its rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linkage.exceptions import KeyringError
from linkage.exchange._access import follow
from linkage.exchange._persons import KEY_OF, fold
from linkage.exchange._schema import EXTRACTS
from linkage.io import write_table
from linkage.keys import KeyRing
from linkage.pseudonymise import pseudonym_versions, pseudonymise

__all__ = [
    "CLEAR_ID",
    "CORRECTION",
    "HOLDING",
    "RULE_COLUMNS",
    "RULE_KEYS",
    "SUBJECTS",
    "Applied",
    "Kept",
    "aligned",
    "answered_fields",
    "apply_kept",
    "apply_rules",
    "fingerprint",
    "has_rules",
    "live_rules",
    "load_rules",
    "records_about",
    "rekeyed",
    "save_rules",
    "without_records",
]

RULE_COLUMNS = ["action", "table", "key", "party", "column", "value", "request_id", "reference"]
SUBJECTS = "subjects"
FILES = {"remove": "suppressions.parquet", "other": "overlays.parquet"}
#: Key domain of the fingerprints of blanked values.
DOMAIN = "subject"
#: The key of each table a rule may name: the tables that hold a person
#: (:data:`._persons.KEY_OF`, what a subject request acts on) and those a sender's
#: correction may name besides (an amount for its dossier's amounts).
RULE_KEYS = {
    **KEY_OF,
    "establishments": "establishment_key",
    "dossiers": "dossier_key",
    "amounts": "amount_key",
}
#: How a correction's rules are told from a subject request's: their request id.
CORRECTION = "correct-"
#: A delivered column's kind, where it is not text (the protocol's, by column name).
_KINDS = {
    name: column.kind
    for extract in EXTRACTS.values()
    for name, column in extract.columns.items()
    if column.kind in ("date", "amount", "flag")
}


def fingerprint(values: pd.Series, ring: KeyRing) -> pd.Series:
    """Keyed fingerprints of values as compared (trimmed, case folded); missing stays."""
    return pseudonymise(fold(values), ring, domain=DOMAIN)


def empty_rules() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in RULE_COLUMNS})


def load_rules(store: Path) -> pd.DataFrame:
    """Every rule kept under the store (none when there are none)."""
    parts = [
        pd.read_parquet(path)
        for path in (store / SUBJECTS / name for name in FILES.values())
        if path.exists()
    ]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True).astype("string") if parts else empty_rules()


def has_rules(store: Path) -> bool:
    """Whether a file of kept rules is under the store (without reading it)."""
    return any((store / SUBJECTS / name).exists() for name in FILES.values())


def save_rules(store: Path, rules: pd.DataFrame) -> None:
    """Keep ``rules`` (all of them: this replaces what was kept), atomically per file."""
    folder = store / SUBJECTS
    folder.mkdir(mode=0o700, exist_ok=True)
    rules = rules[RULE_COLUMNS].astype("string")
    removal = (rules["action"] == "remove").to_numpy(dtype=bool)
    for name, part in ((FILES["remove"], rules[removal]), (FILES["other"], rules[~removal])):
        path = folder / name
        if len(part):
            write_table(part.sort_values(RULE_COLUMNS).reset_index(drop=True), path)
        else:
            path.unlink(missing_ok=True)
    follow(folder)


def _pairs(keys: pd.Series, parties: pd.Series) -> pd.Series:
    return parties.astype("string") + "\x1f" + keys.astype("string")


def _wanted(keys: pd.Series, parties: pd.Series) -> pd.DataFrame:
    """A few (key, party) pairs to look for."""
    return pd.DataFrame(
        {"key": keys.astype("string").to_numpy(), "party": parties.astype("string").to_numpy()}
    )


def _match(keys: pd.Series, parties: pd.Series, wanted: pd.DataFrame) -> np.ndarray:
    """Per row, whether its (key, party) is wanted: every row is hashed once by its key,
    and pairs are made only of the few rows that share a key."""
    hit = keys.isin(wanted["key"]).to_numpy(dtype=bool)
    if hit.any():
        pairs = _pairs(keys[hit], parties[hit])
        hit[hit] = pairs.isin(_pairs(wanted["key"], wanted["party"])).to_numpy(dtype=bool)
    return hit


def _first_rows(keys: pd.Series, parties: pd.Series, wanted: pd.DataFrame) -> np.ndarray:
    """Per wanted pair, the first row that holds it (-1: none)."""
    rows = np.flatnonzero(keys.isin(wanted["key"]).to_numpy(dtype=bool))
    first = pd.Series(rows, index=_pairs(keys.iloc[rows], parties.iloc[rows]).to_numpy())
    first = first[~first.index.duplicated()]
    at = first.reindex(_pairs(wanted["key"], wanted["party"]).to_numpy())
    return at.fillna(-1).to_numpy(dtype=np.int64)


def _row_at(tables: dict[str, pd.DataFrame], rules: pd.DataFrame) -> np.ndarray:
    """Per rule, the row of its record in its table (-1: not delivered)."""
    at = np.full(len(rules), -1, dtype=np.int64)
    for table, key in RULE_KEYS.items():
        mine = (rules["table"] == table).to_numpy(dtype=bool)
        if mine.any():
            frame = tables[table]
            at[mine] = _first_rows(frame[key], frame["party"], rules[mine])
    return at


def _sent(tables: dict[str, pd.DataFrame], rules: pd.DataFrame) -> np.ndarray:
    """Per rule, whether its party still sends the record: for an enterprise, any row
    that hangs from it (a dossier of an enterprise sent by the other party)."""
    sent = np.zeros(len(rules), dtype=bool)
    for table, key in RULE_KEYS.items():
        mine = (rules["table"] == table).to_numpy(dtype=bool)
        for t in HOLDING.get(table, (table,)):
            if mine.any() and t in tables:
                sent[mine] |= _first_rows(tables[t][key], tables[t]["party"], rules[mine]) >= 0
    return sent


#: The tables whose rows hang from an enterprise (and name it by its key).
HOLDING = {"enterprises": ("enterprises", "establishments", "dossiers", "contacts")}


def live_rules(
    tables: dict[str, pd.DataFrame], rules: pd.DataFrame, ring: KeyRing
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rules still to apply to ``tables`` (as received), and those the sender has
    now carried out (see the module docstring). A blank's fingerprint is compared under
    the key version it was made with (one the ring no longer holds: kept, to be safe)."""
    at = _row_at(tables, rules)
    removal = (rules["action"] == "remove").to_numpy(dtype=bool)
    live = np.where(removal, _sent(tables, rules), at >= 0)
    for i in np.flatnonzero(live & ~removal):
        rule = rules.iloc[i]
        current = tables[rule["table"]][rule["column"]].iloc[[at[i]]]
        if rule["action"] == "blank":
            version = pseudonym_versions(pd.Series([rule["value"]])).iloc[0]
            try:
                same = pseudonymise(fold(current), ring, domain=DOMAIN, version=version).iloc[0]
            except KeyringError:
                continue
            live[i] = not pd.isna(same) and same == rule["value"]
        elif rule["column"] in _KINDS:
            value = typed(pd.Series([rule["value"]]), current, rule["column"]).iloc[0]
            live[i] = pd.isna(current.iloc[0]) or pd.isna(value) or _differ(current.iloc[0], value)
        else:
            live[i] = pd.isna(current.iloc[0]) or current.iloc[0] != rule["value"]
    return rules[live].reset_index(drop=True), rules[~live].reset_index(drop=True)


def rekeyed(rules: pd.DataFrame, walks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rules with their keys mapped old -> new through a key rotation's crosswalks."""
    out = rules.copy()
    for table, key in RULE_KEYS.items():
        walk = walks.get(key.removesuffix("_key"))
        mine = (out["table"] == table).to_numpy(dtype=bool)
        if walk is None or not mine.any():
            continue
        at = pd.Index(walk["old"]).get_indexer(out.loc[mine, "key"])
        old = out.loc[mine, "key"].to_numpy(object)
        out.loc[mine, "key"] = np.where(at >= 0, walk["new"].to_numpy(object)[at], old)
    return out


def typed(values: pd.Series, like: pd.Series, column: str) -> pd.Series:
    """Rule values (text) as the type of ``like``, the column they go into: a date
    as the column holds dates (``datetime64`` in a run, ``date`` read back from a
    delivery), an amount as a number, a flag as a boolean; text as it is."""
    kind = _KINDS.get(column)
    index = values.index
    if kind == "date":
        when = pd.to_datetime(values.astype("string"), format="ISO8601", errors="coerce")
        if pd.api.types.is_datetime64_any_dtype(like.dtype):
            return pd.Series(when.to_numpy(), index=index).astype(like.dtype)
        days = [None if pd.isna(d) else d.date() for d in when]  # rules: a few
        return pd.Series(days, index=index, dtype=object)
    if kind == "amount":
        return pd.to_numeric(values.astype("string"), errors="coerce").astype("float64")
    if kind == "flag":
        text = values.astype("string").str.lower()
        flags = text.map({"true": True, "false": False}).astype("boolean")
        if pd.api.types.is_bool_dtype(like.dtype) and not flags.isna().any():
            return flags.astype(like.dtype)
        return flags
    return values.astype(like.dtype)


def _differ(current: Any, value: Any) -> bool:
    if isinstance(value, dt.date | pd.Timestamp):
        return bool(pd.Timestamp(current) != pd.Timestamp(value))
    return bool(current != value)


@dataclass(frozen=True)
class Applied:
    """Tables after the rules, the rows each table lost, and each field changed
    (table, key, party, column, action)."""

    tables: dict[str, pd.DataFrame]
    removed: dict[str, pd.DataFrame]
    fields: pd.DataFrame


def _isin(frame: pd.DataFrame, key: str, wanted: pd.DataFrame) -> np.ndarray:
    return _match(frame[key], frame["party"], wanted)


def apply_rules(tables: dict[str, pd.DataFrame], rules: pd.DataFrame) -> Applied:
    """Apply removals (with what hangs from them), blanks and sets to delivered tables."""
    out = dict(tables)
    gone: dict[str, np.ndarray] = {name: np.zeros(len(f), dtype=bool) for name, f in tables.items()}
    fields = []
    for action in ("blank", "set"):
        mine = rules[rules["action"] == action]
        for (table, column), part in mine.groupby(["table", "column"]):
            frame = out[table].copy()
            key = RULE_KEYS[table]
            hit = _isin(frame, key, part)
            if action == "blank":
                new = pd.Series(pd.NA, index=frame.index[hit], dtype=frame[column].dtype)
            else:
                at = pd.Series(
                    part["value"].to_numpy(object), index=_pairs(part["key"], part["party"])
                )
                new = pd.Series(
                    at.reindex(_pairs(frame[key][hit], frame["party"][hit])).to_numpy(object),
                    index=frame.index[hit],
                )
                new = typed(new, frame[column], column)
            before = frame.loc[hit, column]
            changed = ~(
                before.astype("string").fillna("\x00") == new.astype("string").fillna("\x00")
            )
            if new.dtype != frame[column].dtype and column in _KINDS:
                frame[column] = frame[column].astype(new.dtype)  # a flag blanked or unknown
            frame.loc[hit, column] = new.astype(frame[column].dtype)
            out[table] = frame
            rows = frame.loc[hit][changed.to_numpy(dtype=bool)]
            fields.append(
                pd.DataFrame(
                    {
                        "table": table,
                        "key": rows[key].to_numpy(object),
                        "party": rows["party"].to_numpy(object),
                        "column": column,
                        "action": action,
                    }
                )
            )
    removal = rules[rules["action"] == "remove"]
    named = {table: removal[removal["table"] == table] for table in RULE_KEYS}
    for table, pairs in named.items():
        if len(pairs) or table in KEY_OF:
            gone[table] |= _isin(tables[table], RULE_KEYS[table], pairs)

    def cascade(names: tuple[str, ...], column: str, parent: str) -> None:
        # an enterprise by its rules (a party may send its dossiers, not the enterprise)
        rows = tables[parent][gone[parent]]
        wanted = (
            named["enterprises"]
            if parent == "enterprises"
            else _wanted(rows[column], rows["party"])
        )
        for name in names:
            if name in tables:  # a run's tables have no links yet
                gone[name] |= _isin(tables[name], column, wanted)

    cascade(
        ("establishments", "dossiers", "links_enterprises", "contacts"),
        "enterprise_key",
        "enterprises",
    )
    cascade(("amounts", "dossier_staff", "dossier_services", "contacts"), "dossier_key", "dossiers")
    cascade(("links_establishments",), "establishment_key", "establishments")
    if "dossier_staff" in tables:  # a staff member's references, whichever party's dossier
        staff = tables["staff"][gone["staff"]]
        gone["dossier_staff"] |= (
            tables["dossier_staff"]["staff_key"].isin(staff["staff_key"]).to_numpy(dtype=bool)
        )
    removed = {}
    for name, mask in gone.items():
        removed[name] = out[name][mask].reset_index(drop=True)
        if mask.any():  # a table that loses nothing is not copied
            out[name] = out[name][~mask].reset_index(drop=True)
    columns = ["table", "key", "party", "column", "action"]
    return Applied(
        tables=out,
        removed=removed,
        fields=pd.concat([f for f in fields if len(f)], ignore_index=True)[columns]
        if any(len(f) for f in fields)
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns}),
    )


@dataclass(frozen=True)
class Kept:
    """What a run made of the kept rules: applied, still live, retired."""

    applied: Applied
    live: pd.DataFrame
    retired: pd.DataFrame

    def summary(self) -> dict[str, object]:
        removed = {k: len(v) for k, v in self.applied.removed.items() if len(v)}
        return {
            "rules": len(self.live),
            "retired": len(self.retired),
            "removed": removed,
            "fields": len(self.applied.fields),
        }


def apply_kept(
    store: Path, tables: dict[str, pd.DataFrame], ring: KeyRing, walks: dict[str, pd.DataFrame]
) -> Kept | None:
    """Apply the kept rules to a run's tables; keep only those still live (a rule the
    sender has carried out is retired: keeping it is harmless, so it is saved at once)."""
    rules = load_rules(store)
    if not len(rules):
        return None
    if walks:
        rules = rekeyed(rules, walks)
    live, retired = live_rules(tables, rules, ring)
    if len(retired) or walks:
        save_rules(store, live)
    return Kept(applied=apply_rules(tables, live), live=live, retired=retired)


def aligned(extract: pd.DataFrame, applied: Applied, table: str, number: str) -> pd.DataFrame:
    """A clear extract as the rules left its delivered table (for linking): the rows
    removed left out, the fields blanked or set copied, matched by number and party."""
    removed = applied.removed[table]
    out = extract[
        ~_match(extract[number], extract["party"], _wanted(removed[number], removed["party"]))
    ]
    fields = applied.fields[applied.fields["table"] == table]
    if not len(fields):
        return out
    delivered = applied.tables[table]
    rows = _first_rows(delivered[RULE_KEYS[table]], delivered["party"], fields)
    changed = delivered.iloc[np.unique(rows[rows >= 0])]
    at = _first_rows(out[number], out["party"], _wanted(changed[number], changed["party"]))
    out = out.copy()
    for column in fields["column"].unique():
        out.iloc[at[at >= 0], out.columns.get_loc(column)] = changed[column].to_numpy(object)[
            at >= 0
        ]
    return out


#: The sender's record id of each table (``record_id`` in a quality report), as delivered.
CLEAR_ID = {
    "enterprises": "enterprise_number",
    "establishments": "establishment_number",
    "dossiers": "dossier_id",
}


def records_about(
    defects: pd.DataFrame, records: dict[str, pd.DataFrame], ring: KeyRing | None
) -> np.ndarray:
    """Which rows of a quality report are about one of ``records`` (per table): by the
    sender's id where the delivery holds it, else by its pseudonym (contacts, staff)."""
    about = np.zeros(len(defects), dtype=bool)
    for table, frame in records.items():
        if table not in (*CLEAR_ID, "contacts", "staff") or not len(frame):
            continue
        mine = (defects["table"] == table).to_numpy(dtype=bool)
        ids = defects["record_id"][mine].astype("string")
        if table in CLEAR_ID:
            ours = frame[CLEAR_ID[table]]
        else:
            assert ring is not None, "contacts and staff are found in a report by the ring"
            ids = pseudonymise(ids, ring, domain=KEY_OF[table].removesuffix("_key"))
            ours = frame[KEY_OF[table]]
        about[mine] = _match(ids, defects["party"][mine], _wanted(ours, frame["party"]))
    return about


def without_records(
    defects: pd.DataFrame, removed: dict[str, pd.DataFrame], ring: KeyRing
) -> pd.DataFrame:
    """A quality report without its rows about records that were removed."""
    return defects[~records_about(defects, removed, ring)].reset_index(drop=True)


def answered_fields(rules: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What the corrections among ``rules`` answer: per rule, the record as the
    sender's extract names it, ``party, table, key, column`` (an amount is its
    dossier's; a removal has no column: it answers every field of its record).

    ``tables``: the delivered tables the rules apply to (for an amount's dossier).
    """
    request = rules["request_id"].astype("string").str.startswith(CORRECTION)
    mine = rules[request.fillna(False).to_numpy(dtype=bool)]
    out = mine[["party", "table", "key", "column"]].astype("string").reset_index(drop=True)
    out.loc[(mine["action"] == "remove").to_numpy(dtype=bool), "column"] = pd.NA
    amounts = (out["table"] == "amounts").to_numpy(dtype=bool)
    if amounts.any():
        frame = tables["amounts"]
        at = _first_rows(
            frame["amount_key"], frame["party"], _wanted(out["key"][amounts], out["party"][amounts])
        )
        dossier = np.full(len(at), None, dtype=object)
        dossier[at >= 0] = frame["dossier_key"].to_numpy(object)[at[at >= 0]]
        out.loc[amounts, "key"] = dossier
        out.loc[amounts, "table"] = "dossiers"
    return out.dropna(subset=["key"]).reset_index(drop=True)
