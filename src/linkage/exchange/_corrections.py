"""A sender's corrections (art. 8): its answer to the quality report, between extracts.

``linkage exchange correct --config F --party VLAIO corrections.csv`` reads one row per
correction (CSV, any common separator and encoding, or Parquet):

=========== ===========================================================================
column      what
=========== ===========================================================================
record_id   the sender's own id, as the report names it: enterprise number,
            establishment number, dossier id, contact id or staff id
table       ``enterprises``, ``establishments``, ``dossiers``, ``contacts`` or ``staff``
action      ``delete`` the record (with what hangs from it), ``complete`` an empty
            field, ``adjust`` a field's value (an empty value blanks a text field)
field       the field, by the protocol's name or the party's own header (its column
            mapping); empty for a delete
value       the new value: text, a date ``YYYY-MM-DD``, an amount, ``true``/``false``
=========== ===========================================================================

The whole file is checked against the protocol schema (:mod:`._schema`) and the
delivery in force before anything is written. The first bad row is a one-line error
naming the file, its row and column, and never the value or the record id: an
empty file, a missing or unknown column, a table or field the protocol does not
hold (or one this cannot correct: an id, a reference to another record, a service
shared by many dossiers, an amount of a dossier of several services), an action not
in the list, a national register number in a value, a value not of its field's kind,
a record id the party did not send, a second correction of the same field or record,
a ``complete`` of a field that holds another value. Refused too after the protocol's
end and for a party that withdrew.

What is applied, and how it lasts: the corrections become rules (:mod:`._overlays`:
``remove``, ``set`` or ``blank`` by record key; an amount on its dossier's amounts),
kept under ``subjects/`` before their delivery is switched in, and applied as a new
delivery of the one in force (:func:`._delivery.rewrite`). Every later run applies
them until the party's extract carries them: a set retires when the field holds its
value, a removal when the party no longer sends the record. The defects a correction
answers (the same record and field; every field of a deleted record) are closed as
``fixed`` in the new delivery's report (its ledger, page and the manifest's
``quality_status``), those of records that went with a deleted one as
``withdrawn``; while the rule lives, later runs do not report them again
(:func:`._defects.corrected`).

The audit log (event ``correction``) is write-ahead: ``intent`` before the rules are
kept, ``delivered`` after the switch, ``refused`` (before the intent) or ``failed``
with its reason (:func:`._audit.reason`). It holds counts, never a value or an id.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import _delivery as D
from linkage.exchange._audit import append_event, audited
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._defects import corrected, protocol_names, status_summary
from linkage.exchange._extract import _typed, sha256_file
from linkage.exchange._links import carry_state
from linkage.exchange._overlays import (
    CLEAR_ID,
    CORRECTION,
    RULE_KEYS,
    answered_fields,
    apply_rules,
    empty_rules,
    fingerprint,
    load_rules,
    records_about,
    save_rules,
    typed,
)
from linkage.exchange._purge import refuse_withdrawn, withdrawn_parties
from linkage.exchange._report import LEDGER_COLUMNS, write_quality
from linkage.exchange._schema import DOMAINS, EXTRACTS
from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers
from linkage.io import read_table
from linkage.keys import KeyRing
from linkage.national import contains_national_number
from linkage.pseudonymise import pseudonymise

__all__ = ["ACTIONS", "COLUMNS", "CorrectionReport", "correct"]

#: The columns of a corrections file, in order.
COLUMNS = ("record_id", "table", "action", "field", "value")
ACTIONS = ("delete", "complete", "adjust")
#: Fields a correction does not change: the record's id, references to other records
#: (correct them in the next extract), a service's, which many dossiers share.
_NOT_HERE = {
    "enterprises": ("enterprise_number",),
    "establishments": ("establishment_number", "enterprise_number"),
    "dossiers": (
        "dossier_id",
        "enterprise_number",
        "staff_ids",
        "service_id",
        "service_name",
        "service_description",
        "amount_id",
    ),
    "contacts": ("contact_id", "dossier_id", "enterprise_number"),
    "staff": ("staff_id",),
}
#: A dossier's fields delivered in the ``amounts`` table.
_AMOUNTS = ("granted_amount", "paid_amount")
_NUMBERS = {"enterprises": parse_enterprise_numbers, "establishments": parse_establishment_numbers}


@dataclass(frozen=True, kw_only=True)
class CorrectionReport:
    """What a corrections file changed, and which defects it closed."""

    request_id: str
    party: str
    actions: dict[str, int]
    removed: dict[str, int] = field(default_factory=dict)
    fields: int = 0
    fixed: int = 0
    withdrawn: int = 0
    path: Path | None = None

    def counts(self) -> dict[str, Any]:
        """What the audit log holds of it: counts only."""
        return {
            "actions": self.actions,
            "removed": self.removed,
            "fields": self.fields,
            "fixed": self.fixed,
            "withdrawn": self.withdrawn,
        }

    def summary(self) -> str:
        acts = ", ".join(f"{a} {n:,}" for a, n in self.actions.items() if n) or "none"
        rows = ", ".join(f"{k} {v:,}" for k, v in self.removed.items()) or "none"
        return "\n".join(
            [
                f"correction {self.request_id} from {self.party}: {acts}",
                f"  rows removed: {rows}; fields changed: {self.fields:,}",
                f"  defects closed: fixed {self.fixed:,}, withdrawn {self.withdrawn:,}",
                f"  delivered to {self.path}; kept as rules until {self.party}'s extract "
                "carries them",
            ]
        )


def correct(
    config: ExchangeConfig,
    party: str,
    path: str | Path,
    *,
    reference: str = "",
    ring: KeyRing | None = None,
    today: dt.date | None = None,
) -> CorrectionReport:
    """Apply a party's corrections file (see the module docstring) as a new delivery.

    Parameters
    ----------
    config : ExchangeConfig
    party : str
        The sending party whose records the file corrects.
    path : path-like
        The corrections file (CSV or Parquet).
    reference : str
        The sender's reference for the file, for the audit log.
    ring : KeyRing, optional
        The exchange's key ring; by default the one ``config`` names.
    today : date, optional
        Checked against the protocol's end.

    Raises
    ------
    SchemaError
        The file: its name, row and column, in one line; nothing was written.
    ConfigError
        After the protocol's end, a party not sending or withdrawn, no delivery.
    """
    now = dt.datetime.now(dt.UTC)
    request = {
        "request_id": f"{CORRECTION}{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        "party": party,
        "reference": reference,
        "file": str(path),
    }
    return audited(
        config.audit_log,
        "correction",
        request,
        lambda stage: _do(config, request, Path(path), stage, ring, today),
    )


def _refuse_party(config: ExchangeConfig, party: str) -> None:
    if party in withdrawn_parties(config.store):
        raise ConfigError(f"{party} withdrew from the exchange: its corrections are refused")
    if party not in config.parties:
        raise ConfigError(
            f"{party!r} is not a sending party of this exchange; expected one of "
            f"{', '.join(config.parties)}"
        )
    refuse_withdrawn(config)


def _do(
    config: ExchangeConfig,
    request: dict[str, str],
    path: Path,
    stage: list[str],
    ring: KeyRing | None,
    today: dt.date | None,
) -> CorrectionReport:
    party, request_id = request["party"], request["request_id"]
    config.refuse_expired(today)
    _refuse_party(config, party)
    rows = read_corrections(config, party, path)
    with D.store_lock(config.store):
        current = D.read_delivery(config.store, config_file=config.source)
        if current is None:
            raise ConfigError(f"{config.store}: no delivery in force to correct")
        if ring is None:
            from linkage.exchange._run import load_ring

            ring = load_ring(config)
        version = int(current.manifest["key"]["version"])
        tables = current.tables()
        rules = _rules(rows, tables, party, ring, version, path.name)
        rules = rules.assign(request_id=request_id, reference=request["reference"])
        rules = rules.astype("string")
        change = apply_rules(tables, rules)
        open_, closed = _closed(
            current, party, rules, change, tables, ring, version, config, request_id
        )
        report = CorrectionReport(
            request_id=request_id,
            party=party,
            actions={a: int((rows["action"] == a).sum()) for a in ACTIONS},
            removed={k: len(v) for k, v in change.removed.items() if len(v)},
            fields=len(change.fields),
            fixed=int((closed["status"] == "fixed").sum()),
            withdrawn=int((closed["status"] == "withdrawn").sum()),
            path=config.store / "deliveries" / request_id,
        )
        counts = report.counts()
        # Write-ahead: the correction is on record, and its rules kept, before its
        # delivery can be in force; from then on every run applies them.
        append_event(
            config.audit_log,
            "correction",
            **request,
            sha256=sha256_file(path),
            previous_run_id=current.run_id,
            **counts,
            outcome="intent",
        )
        stage.append("intent")
        kept = pd.concat([load_rules(config.store), rules], ignore_index=True)
        save_rules(
            config.store,
            kept.drop_duplicates(["action", "table", "key", "party", "column"], keep="last"),
        )
        status = dict(current.manifest.get("quality_status", {}))
        status.update(status_summary(open_, closed, (party,)))
        D.rewrite(
            config.store,
            replace(current, manifest={**current.manifest, "quality_status": status}),
            change.tables,
            run_id=request_id,
            operation={
                "correction": request_id,
                "party": party,
                "reference": request["reference"],
                "rows": len(rows),
            },
            carry=_carry(party, open_, closed, request_id),
        )
        stage.append("switched")
    append_event(config.audit_log, "correction", **request, **counts, outcome="delivered")
    return report


def _error(detail: str, path: Path, column: str, row: int) -> SchemaError:
    return SchemaError(detail, source=path.name, column=column, row=row)


def _first(bad: np.ndarray | pd.Series, frame: pd.DataFrame) -> int | None:
    """The file's row of the first True (None: none)."""
    mask = np.asarray(bad, dtype=bool)
    return int(frame["row"].to_numpy()[mask.argmax()]) if mask.any() else None


def read_corrections(config: ExchangeConfig, party: str, path: Path) -> pd.DataFrame:
    """The corrections file, checked against the protocol (not yet the delivery):
    ``row, record_id, table, action, field, value`` with canonical record ids,
    protocol field names and canonical values (missing where empty)."""
    frame = read_table(path, required=COLUMNS, sep=None, encoding=None)
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise SchemaError(
            f"not a column of a corrections file; expected {', '.join(COLUMNS)}",
            source=path.name,
            column=str(extra[0]),
        )
    text = frame[list(COLUMNS)].astype("string").apply(lambda c: c.str.strip())
    text = text.mask(text == "")
    text.insert(0, "row", np.arange(1, len(text) + 1))
    for column, allowed, what in (
        ("table", tuple(EXTRACTS), "a table of the protocol"),
        ("action", ACTIONS, "an action"),
    ):
        at = _first(~text[column].isin(allowed).fillna(False), text)
        if at is not None:
            got = text[column].iloc[at - 1]
            arrived = "nothing" if pd.isna(got) else repr(got)
            raise _error(
                f"{arrived} is not {what}; expected one of {', '.join(allowed)}",
                path,
                column,
                at,
            )
    at = _first(text["record_id"].isna(), text)
    if at is not None:
        raise _error("no record id", path, "record_id", at)
    text["record_id"] = _record_ids(text, path)
    _fields(config, party, text, path)
    _values(text, path)
    key = text["field"].fillna("*")
    record = text["table"] + "\x1f" + text["record_id"]
    for twice, what in (
        ((record + "\x1f" + key).duplicated(), "a second correction of this field of the record"),
        (
            record.isin(record[text["action"] == "delete"]) & record.duplicated(keep=False),
            "a correction of a record this file also deletes",
        ),
    ):
        at = _first(twice, text)
        if at is not None:
            raise _error(f"{what}; send one correction each", path, "record_id", at)
    return text


def _record_ids(text: pd.DataFrame, path: Path) -> pd.Series:
    """Canonical record ids: enterprise and establishment numbers in 10 digits."""
    ids = text["record_id"].copy()
    for table, parse in _NUMBERS.items():
        mine = (text["table"] == table).to_numpy(dtype=bool)
        if mine.any():
            parsed = parse(ids[mine], return_reasons=True)
            at = _first(parsed["reason"].notna().to_numpy(dtype=bool), text[mine])
            if at is not None:
                what = "an enterprise" if table == "enterprises" else "an establishment unit"
                why = parsed["reason"].iloc[int(np.argmax(parsed["reason"].notna()))]
                raise _error(f"not a valid number of {what} ({why})", path, "record_id", at)
            ids[mine] = parsed["number"].astype("string")
    return ids


def _fields(config: ExchangeConfig, party: str, text: pd.DataFrame, path: Path) -> None:
    """Fields by their protocol name (a party's header read through its mapping),
    each one the protocol holds and a correction may change; none for a delete."""
    delete = (text["action"] == "delete").to_numpy(dtype=bool)
    at = _first(delete & text["field"].notna().to_numpy(dtype=bool), text)
    if at is not None:
        raise _error("a delete removes the whole record: leave field empty", path, "field", at)
    at = _first(~delete & text["field"].isna().to_numpy(dtype=bool), text)
    if at is not None:
        raise _error("no field: complete and adjust name the field they change", path, "field", at)
    for table in text["table"].unique():
        mine = ((text["table"] == table).to_numpy(dtype=bool)) & ~delete
        headers = {h: c for c, h in config.mapping(party, table).items()}
        names = text.loc[mine, "field"].replace(headers)
        known = names.isin(EXTRACTS[table].columns)
        at = _first(~known.to_numpy(dtype=bool), text[mine])
        if at is not None:
            raise _error(
                f"{text['field'].iloc[at - 1]!r} is not a field of {table} in the protocol "
                "(art. 3)",
                path,
                "field",
                at,
            )
        fixed = names.isin(_NOT_HERE[table]).to_numpy(dtype=bool)
        at = _first(fixed, text[mine])
        if at is not None:
            raise _error(
                f"{names.iloc[int(fixed.argmax())]} is the record's id, a reference to "
                "another record or a service many dossiers share: correct it in the next "
                "extract",
                path,
                "field",
                at,
            )
        text.loc[mine, "field"] = names


def _values(text: pd.DataFrame, path: Path) -> None:
    """Each value checked (no national number, of its field's kind) and canonical."""
    action = text["action"]
    at = _first((action == "delete") & text["value"].notna(), text)
    if at is not None:
        raise _error("a delete takes no value: leave value empty", path, "value", at)
    at = _first((action == "complete") & text["value"].isna(), text)
    if at is not None:
        raise _error("complete needs a value", path, "value", at)
    national = [
        not pd.isna(v) and contains_national_number(v, phone=f == "phone")
        for v, f in zip(text["value"], text["field"], strict=True)  # a file's few rows
    ]
    at = _first(np.array(national, dtype=bool), text)
    if at is not None:
        raise _error(
            "the value holds a national register or BIS number, which the protocol "
            "(art. 3) does not allow",
            path,
            "value",
            at,
        )
    kinds = pd.Series(
        [
            EXTRACTS[t].columns[f].kind if isinstance(f, str) else "text"
            for t, f in zip(text["table"], text["field"], strict=True)
        ],
        index=text.index,
    )
    for kind in ("date", "amount", "flag"):
        mine = (kinds == kind).to_numpy(dtype=bool)
        if not mine.any():
            continue
        values = text.loc[mine, "value"]
        at = _first(values.isna().to_numpy(dtype=bool), text[mine])
        if at is not None:
            raise _error(f"a {kind} cannot be blanked here: give its value", path, "value", at)
        rows = text.loc[mine, "row"].to_numpy() - 1
        parsed = _typed(values, kind, path.name, "value", rows)
        if kind == "date":
            canonical = parsed.dt.strftime("%Y-%m-%d")
        elif kind == "amount":
            canonical = parsed.map(repr)
        else:
            canonical = parsed.map({True: "true", False: "false"})
        text.loc[mine, "value"] = canonical.astype("string")


def _rules(
    rows: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    party: str,
    ring: KeyRing,
    version: int,
    name: str,
) -> pd.DataFrame:
    """The rules of the checked corrections, each record found among the party's
    delivered ones (by its clear number or id, else by its pseudonym)."""
    parts = []
    for table, mine in rows.groupby("table", sort=False):
        frame = tables[table]
        theirs = frame[(frame["party"] == party).to_numpy(dtype=bool)]
        key = RULE_KEYS[table]
        if table in CLEAR_ID:
            by_id = pd.Series(
                theirs[key].to_numpy(object), index=theirs[CLEAR_ID[table]].to_numpy(object)
            )
            keys = by_id[~by_id.index.duplicated()].reindex(mine["record_id"].to_numpy(object))
        else:
            domain = DOMAINS[EXTRACTS[table].id]
            pseudonyms = pseudonymise(mine["record_id"], ring, domain=domain, version=version)
            keys = pseudonyms.where(pseudonyms.isin(theirs[key]))
        keys = pd.Series(keys.to_numpy(object), index=mine.index, dtype="string")
        at = _first(keys.isna().to_numpy(dtype=bool), mine)
        if at is not None:
            raise SchemaError(
                f"{party} sent no {table} record with this id (not in the delivery in force)",
                source=name,
                column="record_id",
                row=at,
            )
        parts.append(_table_rules(mine.assign(key=keys), table, theirs, tables, party, ring, name))
    rules = pd.concat([p for p in parts if len(p)] or [empty_rules()], ignore_index=True)
    return rules.reindex(columns=empty_rules().columns)


def _table_rules(
    mine: pd.DataFrame,
    table: str,
    theirs: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    party: str,
    ring: KeyRing,
    name: str,
) -> pd.DataFrame:
    """One table's rules: a removal per delete, a set or a blank per field."""
    out = mine.assign(target=table)
    amount = (table == "dossiers") & mine["field"].isin(_AMOUNTS).to_numpy(dtype=bool)
    if amount.any():  # a dossier's amounts are their own table's rows
        amounts = tables["amounts"]
        held = amounts[(amounts["party"] == party).to_numpy(dtype=bool)]
        first = pd.Series(held["amount_key"].to_numpy(object), index=held["dossier_key"])
        several = first.index[first.index.duplicated()]
        first = first[~first.index.duplicated()]
        wanted = out.loc[amount, "key"].to_numpy(object)
        found = first.reindex(wanted)
        for bad, why in (
            (found.isna().to_numpy(dtype=bool), "no amounts of this dossier were delivered"),
            (pd.Index(wanted).isin(several), "this dossier has amounts for several services"),
        ):
            at = _first(bad, out[amount])
            if at is not None:
                raise SchemaError(
                    f"{why}: send them in the next extract", source=name, column="field", row=at
                )
        out.loc[amount, "key"] = found.to_numpy(object)
        out.loc[amount, "target"] = "amounts"
    rules = []
    for target, part in out.groupby("target", sort=False):
        frame = theirs if target == table else held
        index = pd.Index(frame[RULE_KEYS[str(target)]])
        rows = index.get_indexer(part["key"])
        for column, each in part[part["action"] != "delete"].groupby("field", sort=False):
            now = frame[column].iloc[rows[part.index.get_indexer(each.index)]]
            now = now.reset_index(drop=True)
            each = each.reset_index(drop=True)
            _refuse_filled(each, now, str(column), name)
            blank = each["value"].isna().to_numpy(dtype=bool)
            values = each["value"].astype(object).to_numpy(copy=True)
            if blank.any():  # a blank keeps a fingerprint of what it blanked
                values[blank] = fingerprint(now[blank], ring).to_numpy(object)
            rules.append(
                pd.DataFrame(
                    {
                        "action": np.where(blank, "blank", "set"),
                        "table": target,
                        "key": each["key"].to_numpy(object),
                        "party": party,
                        "column": column,
                        "value": values,
                    }
                )
            )
        gone = part[part["action"] == "delete"]
        rules.append(
            pd.DataFrame({"action": "remove", "table": target, "key": gone["key"], "party": party})
        )
    return pd.concat(rules, ignore_index=True).astype("string")


def _refuse_filled(each: pd.DataFrame, now: pd.Series, column: str, name: str) -> None:
    """``complete`` fills an empty field: one that holds another value is adjusted."""
    new = typed(each["value"].fillna(""), now, column)
    holds = now.notna().to_numpy(dtype=bool)
    same = np.array([bool(h) and str(a) == str(b) for h, a, b in zip(holds, now, new, strict=True)])
    at = _first((each["action"] == "complete").to_numpy(dtype=bool) & holds & ~same, each)
    if at is not None:
        raise SchemaError(
            "complete fills an empty field; this one holds a value: adjust it",
            source=name,
            column="action",
            row=at,
        )


def _report(current: D.Delivery, party: str) -> pd.DataFrame:
    path = current.path / "quality" / f"{party}.csv"
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in LEDGER_COLUMNS})
    report = pd.read_csv(path, dtype="string", keep_default_na=False).replace({"": pd.NA})
    return report.assign(party=party)


def _closed(
    current: D.Delivery,
    party: str,
    rules: pd.DataFrame,
    change: Any,
    tables: dict[str, pd.DataFrame],
    ring: KeyRing,
    version: int,
    config: ExchangeConfig,
    request_id: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The party's report after the corrections: the defects still open, and those
    closed (the ledger's rows): fixed where a correction answered them, withdrawn
    where their record went with one it deleted."""
    report = _report(current, party)
    if not len(report):
        return report, report.reindex(columns=list(LEDGER_COLUMNS))
    answered = answered_fields(rules, tables)
    fixed = corrected(report, answered, ring, protocol_names(config), version=version)
    gone = records_about(report, change.removed, ring) & ~fixed
    closed = report[fixed | gone].assign(
        status=np.where(fixed[fixed | gone], "fixed", "withdrawn"), closed_in=request_id
    )
    open_ = report[~(fixed | gone)].assign(status="open").reset_index(drop=True)
    return open_, closed[list(LEDGER_COLUMNS)].reset_index(drop=True)


def _carry(party: str, open_: pd.DataFrame, closed: pd.DataFrame, run_id: str) -> Any:
    """The rewrite's link state, and the party's report without what was closed."""

    def carry(old: Path, new: Path, tables: dict[str, pd.DataFrame]) -> None:
        carry_state(old, new, tables)
        if (old / "quality" / f"{party}.csv").exists():
            write_quality(new / "quality", open_, parties=(party,), run_id=run_id, closed=closed)

    return carry
