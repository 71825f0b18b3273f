"""Data-subject rights (art. 11): find, erase or rectify everything about one person.

Who a person is, and how a request names them, is :mod:`._persons`: a sole proprietor
(whatever their trade name), a managing person, the owner of an enterprise's e-mail
address, a contact person, a staff member, or several of these at once. A request
that fits two people (namesakes) lists both, each with an id; erasure and
rectification act only on one chosen person (``person=``, the id a dry run shows) and
only with ``apply=True``: without it they are a dry run that reports exactly what
would change.

* **find** (access, GDPR art. 15): the candidates, and for one person every record
  that is theirs or hangs from them: enterprises, establishments, dossiers, amounts,
  services, contacts, staff references, links and the quality report's rows. With
  ``out``, the records are written per sending party (``<PARTY>-<table>.csv``) and
  the files registered in ``subjects/outputs.jsonl`` so that a purge removes them.
* **erase**: a sole proprietor's enterprise goes with everything that hangs from it,
  a contact or staff record with its references; a managing person's fields (and an
  e-mail address that is theirs) are blanked on an enterprise that stays.
* **rectify**: sets person fields on the person's records, in each role's own
  columns (a managing person's e-mail is not the enterprise's).

A change is kept as rules (:mod:`._overlays`) before its delivery is switched in, so
that every later run applies it until the sender has made the same change; the
quality report loses the rows about removed records; the sending party gets a report
per request (``subjects/requests/<request id>/inform-<PARTY>.csv``: reference,
action, table, key, sender's id where delivered, change), as art. 11 asks that the
other party be informed. The proof of an erasure is an independent scan of every
file in the store and the audit log (:mod:`._trace`), not the search again. The
audit log records each request with its reference and counts, never a value.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._access import follow, protect
from linkage.exchange._audit import append_event, audited
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._extract import list_items
from linkage.exchange._links import carry_state
from linkage.exchange._overlays import (
    CLEAR_ID,
    HOLDING,
    SUBJECTS,
    Applied,
    apply_rules,
    empty_rules,
    fingerprint,
    load_rules,
    records_about,
    save_rules,
)
from linkage.exchange._persons import (
    CONTACT,
    ENTERPRISE_EMAIL,
    KEY_OF,
    MANAGER,
    SOLE,
    STAFF,
    Person,
    Query,
    fold,
    search,
)
from linkage.exchange._quality import write_quality
from linkage.exchange._schema import LIST_SEPARATOR
from linkage.exchange._schema import OUTPUTS as DELIVERED
from linkage.exchange._trace import Needles, Trace, trace
from linkage.io import write_table
from linkage.keys import KeyRing
from linkage.national import contains_national_number

__all__ = ["PERSON_FIELDS", "SubjectReport", "erase_subject", "find_subject", "rectify_subject"]

PERSON_FIELDS = ("first_name", "last_name", "function", "service", "department", "email", "phone")
#: Where each role holds each person field (a field a role does not hold is left alone).
_COLUMNS = {
    SOLE: {
        "first_name": "manager_first_name",
        "last_name": "manager_last_name",
        "function": "manager_function",
        "email": "email",
        "phone": "phone",
    },
    MANAGER: {
        "first_name": "manager_first_name",
        "last_name": "manager_last_name",
        "function": "manager_function",
    },
    ENTERPRISE_EMAIL: {"email": "email"},
    CONTACT: {f: f for f in PERSON_FIELDS},
    STAFF: {f: f for f in PERSON_FIELDS},
}
OUTPUTS = "outputs.jsonl"
#: Each delivered table's own key (the first column of its primary key).
OUTPUT_KEYS = {name: output.key[0] for name, output in DELIVERED.items()}


@dataclass(frozen=True, kw_only=True)
class SubjectReport:
    """What a request found, and what it would change (a dry run) or changed."""

    request_id: str
    action: str
    applied: bool
    people: tuple[Person, ...]
    described: tuple[str, ...]
    records: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    change: Applied | None = field(default=None, repr=False)
    skipped: tuple[str, ...] = ()
    proof: Trace | None = None
    informed: dict[str, str] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()

    @property
    def person(self) -> Person | None:
        return self.people[0] if len(self.people) == 1 else None

    def counts(self) -> dict[str, int]:
        """Rows per table: the person's records (find), or removed rows (a change)."""
        if self.change is None:
            return {k: len(v) for k, v in self.records.items() if len(v)}
        return {k: len(v) for k, v in self.change.removed.items() if len(v)}

    def fields(self) -> dict[str, int]:
        """Fields blanked or set, per ``table.column``."""
        if self.change is None or not len(self.change.fields):
            return {}
        f = self.change.fields
        return (f["table"] + "." + f["column"]).value_counts().sort_index().to_dict()

    def summary(self) -> str:
        if not self.people:
            return f"{self.action} {self.request_id}: nobody found"
        lines = [f"{self.action} {self.request_id}: {len(self.people)} found"]
        lines += [f"  {line}" for line in self.described]
        if self.person is None:
            lines.append(
                "  more than one person: choose one with --person ID (or a --key or "
                "--enterprise-number of theirs); nothing was changed"
            )
            return "\n".join(lines)
        rows = ", ".join(f"{k} {v:,}" for k, v in self.counts().items()) or "none"
        cells = ", ".join(f"{k} {v:,}" for k, v in self.fields().items()) or "none"
        if self.action == "find":
            lines.append(f"  records: {rows}")
        else:
            verb = "" if self.applied else "would be "
            lines.append(f"  rows {verb}removed: {rows}")
            lines.append(
                f"  fields {verb}{'set' if self.action == 'rectify' else 'blanked'}: {cells}"
            )
            lines.extend(f"  not held for this person, left alone: {s}" for s in self.skipped)
            if not self.applied:
                lines.append(
                    f"  dry run: nothing was changed; to {self.action}, run again with "
                    f"--person {self.person.id} --apply --reference REF"
                )
        if self.proof is not None:
            lines.append("  " + self.proof.summary().replace("\n", "\n  "))
        for party, path in self.informed.items():
            lines.append(f"  report for {party}: {path}")
        lines.extend(f"  wrote {path}" for path in self.outputs)
        return "\n".join(lines)


def _request_id(action: str) -> str:
    now = dt.datetime.now(dt.UTC)
    return f"{action}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _open(config: ExchangeConfig) -> D.Delivery:
    current = D.read_delivery(config.store, config_file=config.source)
    if current is None:
        raise ConfigError(f"{config.store}: no delivery in force")
    return current


def _ring(config: ExchangeConfig, ring: KeyRing | None) -> KeyRing:
    if ring is not None:
        return ring
    from linkage.exchange._run import load_ring

    return load_ring(config)


def _quality(delivery: D.Delivery | Path) -> pd.DataFrame:
    """Every row of a delivery's quality reports, with its ``party``."""
    folder = (delivery if isinstance(delivery, Path) else delivery.path) / "quality"
    parts = [
        pd.read_csv(path, dtype="string", keep_default_na=False).assign(party=path.stem)
        for path in sorted(folder.glob("*.csv"))
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _removals(tables: dict[str, pd.DataFrame], person: Person) -> pd.DataFrame:
    """Removal rules for the person's own records (a sole proprietor's enterprise, a
    contact, a staff member), every party's copy."""
    occ = person.occurrences
    whole = occ[occ["role"].isin([SOLE, CONTACT, STAFF])]
    rules = []
    for table, key in KEY_OF.items():
        keys = whole.loc[whole["table"] == table, "key"]
        # every party's copy; for an enterprise, every party that sends a row of it
        rows = pd.concat(
            [
                tables[t].loc[tables[t][key].isin(keys), [key, "party"]]
                for t in HOLDING.get(table, (table,))
            ]
        )
        rules.append(
            pd.DataFrame(
                {"action": "remove", "table": table, "key": rows[key], "party": rows["party"]}
            )
        )
    return _finish(rules)


def _erase_rules(tables: dict[str, pd.DataFrame], person: Person, ring: KeyRing) -> pd.DataFrame:
    """Remove the person's own records; blank their fields on an enterprise that stays
    (a managing person's, and an enterprise e-mail address that is one of theirs)."""
    occ = person.occurrences
    emails = set(occ["email"].dropna())
    ent = tables["enterprises"]
    rules = [_removals(tables, person)]
    managed = ent.iloc[occ.loc[occ["role"] == MANAGER, "row"].to_numpy()]
    for column in _COLUMNS[MANAGER].values():
        rules.append(_blank(managed, column, ring))
    addressed = ent.iloc[occ.loc[occ["role"] == ENTERPRISE_EMAIL, "row"].to_numpy()]
    for rows in (managed, addressed):
        left = _replaced(rows["email"], emails, None)
        rules.append(_blank(rows.loc[left.index[left.isna()]], "email", ring))
        rules.append(
            _set(rows.loc[left.index[left.notna()]], "enterprises", "email", left.dropna())
        )
    return _finish(rules)


def _replaced(cells: pd.Series, emails: set[str], value: str | None) -> pd.Series:
    """The list cells (``"a; b"``) that hold any of ``emails`` (folded), with those
    addresses replaced by ``value`` (None: left out); missing where nothing is left."""
    items = list_items(cells)
    mine = fold(items).isin(emails).fillna(False).to_numpy(dtype=bool)
    touched = items.index[mine].unique()
    kept = items.index.isin(touched)
    new = items[kept].astype(object).where(~mine[kept], value).dropna()
    new = new[~pd.DataFrame({"i": new.index, "v": new.to_numpy()}).duplicated().to_numpy()]
    joined = new.groupby(level=0, sort=False).agg(LIST_SEPARATOR.join)
    return joined.reindex(touched).astype("string")


def _blank(rows: pd.DataFrame, column: str, ring: KeyRing) -> pd.DataFrame:
    rows = rows[rows[column].notna()]
    return pd.DataFrame(
        {
            "action": "blank",
            "table": "enterprises",
            "key": rows["enterprise_key"],
            "party": rows["party"],
            "column": column,
            "value": fingerprint(rows[column], ring),
        }
    )


def _finish(rules: list[pd.DataFrame]) -> pd.DataFrame:
    rules = [r for r in rules if len(r)]
    if not rules:
        return empty_rules()
    out = pd.concat(rules, ignore_index=True).reindex(columns=empty_rules().columns)
    out = out.astype("string")
    return out.drop_duplicates(["action", "table", "key", "party", "column"]).reset_index(drop=True)


def _rectify_rules(
    tables: dict[str, pd.DataFrame], person: Person, changes: Mapping[str, str]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    occ = person.occurrences
    rules, skipped = [], []
    for role in person.roles:
        mine = occ[occ["role"] == role]
        table = str(mine["table"].iloc[0])
        frame = tables[table]
        # a sole proprietorship as every party sends it; any other role, the rows found
        whole = frame[KEY_OF[table]].isin(mine["key"])
        rows = frame[whole] if role == SOLE else frame.iloc[mine["row"].to_numpy()]
        held = _COLUMNS[role]
        skipped += [f"{role}: {f}" for f in changes if f not in held]
        for name, value in changes.items():
            if name == "email" and role == ENTERPRISE_EMAIL:  # theirs of the list, only
                new = _replaced(rows["email"], set(mine["email"].dropna()), value)
                rules.append(_set(rows.loc[new.index], table, "email", new))
            elif name in held:
                rules.append(_set(rows, table, held[name], value))
        if role == SOLE and ({"first_name", "last_name"} & set(changes)):
            # An enterprise named after its owner is renamed with them.
            own = fold(rows["name"]) == fold(
                rows["manager_first_name"] + " " + rows["manager_last_name"]
            )
            named = rows[own.fillna(False).to_numpy(dtype=bool)]
            first = changes.get("first_name")
            last = changes.get("last_name")
            new = (
                (named["manager_first_name"] if first is None else first)
                + " "
                + (named["manager_last_name"] if last is None else last)
            )
            rules.append(_set(named, table, "name", new))
    return _finish(rules), tuple(skipped)


def _set(rows: pd.DataFrame, table: str, column: str, value: str | pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "action": "set",
            "table": table,
            "key": rows[KEY_OF[table]],
            "party": rows["party"],
            "column": column,
            "value": value,
        }
    )


def _search(
    config: ExchangeConfig, query: Query
) -> tuple[D.Delivery, dict[str, pd.DataFrame], list[Person]]:
    current = _open(config)
    tables = current.tables(text="pyarrow")
    return current, tables, search(tables, query)


def find_subject(
    config: ExchangeConfig,
    *,
    reference: str = "",
    out: str | Path | None = None,
    ring: KeyRing | None = None,
    today: dt.date | None = None,
    **query: Any,
) -> SubjectReport:
    """The people a request names and, for one person, every record about them (access).

    ``query``: ``email``, ``first_name`` with ``last_name``, ``key``,
    ``enterprise_number``, ``person`` (see :class:`._persons.Query`). ``out``: a folder
    to write the one person's records to, per party and table (registered for purge).
    """
    request = {"request_id": _request_id("find"), "action": "find", "reference": reference}
    return audited(
        config.audit_log,
        "subject",
        request,
        lambda stage: _find(config, request, query, out, ring, today),
    )


def _find(
    config: ExchangeConfig,
    request: dict[str, str],
    query: dict[str, Any],
    out: str | Path | None,
    ring: KeyRing | None,
    today: dt.date | None,
) -> SubjectReport:
    config.refuse_expired(today)
    q = Query(**query)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise ConfigError("exists and is not a folder; --out takes a folder", source=str(out))
    request_id, reference = request["request_id"], request["reference"]
    current, tables, people = _search(config, q)
    records: dict[str, pd.DataFrame] = {}
    outputs: tuple[str, ...] = ()
    if len(people) == 1:
        records = _records(tables, people[0], current, config, ring)
        if out is not None:
            outputs = _write_access(config, Path(out), records, request_id, people[0].id)
    elif out is not None and people:
        raise ConfigError(f"{len(people)} people match: choose one with --person before --out")
    report = SubjectReport(
        request_id=request_id,
        action="find",
        applied=False,
        people=tuple(people),
        described=tuple(p.describe(tables) for p in people),
        records=records,
        outputs=outputs,
    )
    append_event(
        config.audit_log,
        "subject",
        request_id=request_id,
        action="find",
        reference=reference,
        asked_by=q.describe(),
        run_id=current.run_id,
        people=len(people),
        found=report.counts(),
        outputs=len(outputs),
    )
    return report


def _records(
    tables: dict[str, pd.DataFrame],
    person: Person,
    current: D.Delivery,
    config: ExchangeConfig,
    ring: KeyRing | None,
) -> dict[str, pd.DataFrame]:
    """Every record that is the person's or hangs from them, per table."""
    occ = person.occurrences
    removed = apply_rules(tables, _removals(tables, person)).removed
    records = {k: v for k, v in removed.items() if len(v)}
    ent = tables["enterprises"]
    held = ent.iloc[occ.loc[occ["role"].isin([MANAGER, ENTERPRISE_EMAIL]), "row"].to_numpy()]
    if len(held):
        records["enterprises"] = pd.concat([records.get("enterprises", ent.iloc[:0]), held])
    bridge = records.get("dossier_services")
    if bridge is not None:
        services = tables["services"]
        used = services["party"] + "\x1f" + services["service_key"]
        records["services"] = services[used.isin(bridge["party"] + "\x1f" + bridge["service_key"])]
    quality = _quality(current)
    if len(quality):
        # contacts and staff are named in the report by the sender's id: the ring tells
        by_key = quality["table"].isin([t for t in ("contacts", "staff") if t in records])
        keys = _ring(config, ring) if by_key.any() else None
        about = records_about(quality, records if keys else _clear_only(records), keys)
        if about.any():
            records["quality"] = quality[about].reset_index(drop=True)
    return {k: v.reset_index(drop=True) for k, v in records.items() if len(v)}


def _clear_only(records: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in records.items() if k not in ("contacts", "staff")}


def _write_access(
    config: ExchangeConfig,
    out: Path,
    records: dict[str, pd.DataFrame],
    request_id: str,
    person: str,
) -> tuple[str, ...]:
    """The access export, a file per party and table, each registered for purge."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for table, frame in records.items():
        for party, part in frame.groupby("party", sort=True):
            path = (out / f"{party}-{table}.csv").resolve()
            _register(
                config,
                {
                    "path": str(path),
                    "party": str(party),
                    "request_id": request_id,
                    "person": person,
                },
            )
            write_table(part.reset_index(drop=True), path)
            written.append(str(path))
    protect(out, config.group)
    return tuple(written)


def _register(config: ExchangeConfig, entry: dict[str, str]) -> None:
    """Record an output before it is written: a purge must know of every copy."""
    folder = config.store / SUBJECTS
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / OUTPUTS).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    follow(folder)


def _registered(config: ExchangeConfig) -> list[dict[str, str]]:
    path = config.store / SUBJECTS / OUTPUTS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _choose(people: list[Person], q: Query, action: str) -> Person:
    if q.person is None:
        raise ConfigError(
            f"{action}: --apply acts on one chosen person: run it without --apply first (a "
            "dry run shows who matches and what would change), then add --person ID"
        )
    if not people:
        raise ConfigError(
            f"{action}: {q.person} is not among the people this request matches in the "
            "delivery in force (their records changed?): run the dry run again"
        )
    return people[0]


def _change(
    config: ExchangeConfig,
    action: str,
    query: dict[str, Any],
    *,
    reference: str,
    apply: bool,
    ring: KeyRing | None,
    today: dt.date | None,
    changes: Mapping[str, str] | None = None,
) -> SubjectReport:
    request = {"request_id": _request_id(action), "action": action, "reference": reference}
    return audited(
        config.audit_log,
        "subject",
        request,
        lambda stage: _do(config, request, query, stage, apply, ring, today, changes or {}),
    )


def _do(
    config: ExchangeConfig,
    request: dict[str, str],
    query: dict[str, Any],
    stage: list[str],
    apply: bool,
    ring: KeyRing | None,
    today: dt.date | None,
    changes: Mapping[str, str],
) -> SubjectReport:
    action, reference, request_id = request["action"], request["reference"], request["request_id"]
    config.refuse_expired(today)
    q = Query(**query)
    if apply and not reference.strip():
        raise ConfigError(f"{action}: --reference is required to apply a request (it is audited)")
    with D.store_lock(config.store):
        current, tables, people = _search(config, q)
        if apply:
            _choose(people, q, action)
        report = SubjectReport(
            request_id=request_id,
            action=action,
            applied=False,
            people=tuple(people),
            described=tuple(p.describe(tables) for p in people),
        )
        if report.person is None:
            append_event(
                config.audit_log, "subject", **request, people=len(people), outcome="preview"
            )
            return report
        person = report.person
        keys = _ring(config, ring) if action == "erase" else ring  # fingerprints of blanks
        if action == "erase":
            assert keys is not None
            rules, skipped = _erase_rules(tables, person, keys), tuple[str, ...]()
        else:
            rules, skipped = _rectify_rules(tables, person, changes)
        rules = rules.assign(request_id=request_id, reference=reference).astype("string")
        change = apply_rules(tables, rules)
        report = _with(report, change=change, skipped=skipped)
        counts = {"removed": report.counts(), "fields": report.fields()}
        if not apply:
            append_event(config.audit_log, "subject", **request, **counts, outcome="preview")
            return report
        # Write-ahead: the request is on record, and its rules kept, before its delivery
        # can be in force; from then on no run brings the records back.
        append_event(config.audit_log, "subject", **request, person=person.id, outcome="intent")
        stage.append("intent")
        kept = pd.concat([load_rules(config.store), rules], ignore_index=True)
        save_rules(
            config.store,
            kept.drop_duplicates(["action", "table", "key", "party", "column"], keep="last"),
        )
        D.rewrite(
            config.store,
            current,
            change.tables,
            run_id=request_id,
            operation={"subject": action, "reference": reference, "request_id": request_id},
            carry=_carry(change, keys, request_id),
        )
        stage.append("switched")
        informed = _inform(config, request, change)
        proof = None
        if action == "erase":
            needles = _needles(tables, person, change)
            _drop_outputs(config, person, needles)
            proof = _prove(config, needles)
        report = _with(report, applied=True, proof=proof, informed=informed)
    append_event(
        config.audit_log,
        "subject",
        **request,
        previous_run_id=current.run_id,
        person=person.id,
        **counts,
        left=proof.left if proof else None,
        outcome="delivered",
    )
    return report


def _with(report: SubjectReport, **changes: Any) -> SubjectReport:
    return replace(report, **changes)


def _carry(change: Applied, ring: KeyRing | None, request_id: str) -> Any:
    """The rewrite's link state, and its quality reports without the removed records."""

    def carry(old: Path, new: Path, tables: dict[str, pd.DataFrame]) -> None:
        carry_state(old, new, tables)
        quality = _quality(new)
        if len(quality):
            parties = tuple(sorted(p.stem for p in (new / "quality").glob("*.csv")))
            kept = quality[~records_about(quality, change.removed, ring)]
            write_quality(new / "quality", kept, parties=parties, run_id=request_id)

    return carry


def _inform(config: ExchangeConfig, request: dict[str, str], change: Applied) -> dict[str, str]:
    """Per sending party, what the request changed in its records (art. 11)."""
    parts = []
    for name, frame in change.removed.items():
        if not len(frame):
            continue
        key = OUTPUT_KEYS[name]
        parts.append(
            pd.DataFrame(
                {
                    "party": frame["party"],
                    "table": name,
                    "key": frame[key],
                    "record_id": frame[CLEAR_ID[name]] if name in CLEAR_ID else pd.NA,
                    "change": "removed",
                }
            )
        )
    fields = change.fields
    if len(fields):
        verb = fields["action"].map({"blank": "blanked", "set": "set"})
        parts.append(
            pd.DataFrame(
                {
                    "party": fields["party"],
                    "table": fields["table"],
                    "key": fields["key"],
                    "record_id": pd.NA,
                    "change": verb + " " + fields["column"],
                }
            )
        )
    if not parts:
        return {}
    report = pd.concat([p.astype("string") for p in parts], ignore_index=True)
    report.insert(1, "request_id", request["request_id"])
    report.insert(2, "reference", request["reference"])
    report.insert(3, "action", request["action"])
    folder = config.store / SUBJECTS / "requests" / request["request_id"]
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = {}
    for party, part in report.groupby("party", sort=True):
        path = folder / f"inform-{party}.csv"
        write_table(part.sort_values(["table", "key", "change"]).reset_index(drop=True), path)
        written[str(party)] = str(path)
    follow(config.store / SUBJECTS)
    return written


def _needles(tables: dict[str, pd.DataFrame], person: Person, change: Applied) -> Needles:
    """What the proof looks for: the removed records' keys and ids, the person's values,
    and the keys of everyone else their names or addresses find (namesakes)."""
    removed: set[str] = set()
    for name, frame in change.removed.items():
        if name in (
            "dossier_staff",
            "dossier_services",
            "services",
            "links_enterprises",
            "links_establishments",
        ):
            continue  # keys of records that stay (staff, services, VDAB's ids)
        removed |= set(frame[OUTPUT_KEYS[name]].dropna())
        if name in CLEAR_ID:
            removed |= set(frame[CLEAR_ID[name]].dropna())
    occ = person.occurrences
    named = occ[["first", "last"]].dropna().drop_duplicates()
    names = tuple((str(f), str(n)) for f, n in named.itertuples(index=False))
    emails = tuple(sorted(set(occ["email"].dropna())))
    own = set(occ["key"].dropna()) | set(change.fields["key"]) | removed
    others: set[str] = set()
    asked = [Query(first_name=f, last_name=n) for f, n in names] + [Query(email=e) for e in emails]
    for q in asked:
        for other in search(tables, q):
            if other.id != person.id:
                o = other.occurrences
                others |= set(o["key"].dropna()) | set(o["enterprise_key"].dropna())
    return Needles(
        removed=frozenset(removed),
        emails=emails,
        names=names,
        own=frozenset(own),
        others=frozenset(others - own),
    )


def _store_files(config: ExchangeConfig) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
    """Every file of the store (and the audit log), and apart those under ``subjects/``."""
    store = config.store
    rest: list[tuple[str, Path]] = []
    subjects: list[tuple[str, Path]] = []
    for path in sorted(p for p in store.rglob("*") if p.is_file()):
        rel = path.relative_to(store).as_posix()
        (subjects if rel.startswith(f"{SUBJECTS}/") else rest).append((rel, path))
    if config.audit_log.exists():
        rest.append((config.audit_log.name, config.audit_log))
    return rest, subjects


def _drop_outputs(config: ExchangeConfig, person: Person, needles: Needles) -> None:
    """Access exports made for the person, or holding any of their records, go with the
    erasure: every file of such an export."""
    entries = _registered(config)
    theirs = {e["request_id"] for e in entries if e.get("person") == person.id}
    for entry in entries:
        path = Path(entry["path"])
        if entry["request_id"] not in theirs and path.exists():
            found = trace([(entry["path"], path)], needles)
            if found.left or found.keys:
                theirs.add(entry["request_id"])
    for entry in entries:
        if entry["request_id"] in theirs:
            Path(entry["path"]).unlink(missing_ok=True)
    if theirs:
        _rewrite_registry(config, [e for e in entries if e["request_id"] not in theirs])


def _rewrite_registry(config: ExchangeConfig, entries: list[dict[str, str]]) -> None:
    from linkage.io import atomic_path

    with atomic_path(config.store / SUBJECTS / OUTPUTS) as tmp:
        Path(tmp).write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))
    follow(config.store / SUBJECTS)


def _prove(config: ExchangeConfig, needles: Needles) -> Trace:
    """The independent scan: the store, the audit log and every registered output for
    everything; the kept rules and the sender's reports (which hold the removed keys
    by design) for the person's values."""
    rest, subjects = _store_files(config)
    outputs = [
        (e["path"], Path(e["path"])) for e in _registered(config) if Path(e["path"]).exists()
    ]
    proof = trace([*rest, *outputs], needles)
    values_only = trace(subjects, replace(needles, removed=frozenset()))
    proof.scanned += values_only.scanned
    proof.values.update(values_only.values)
    proof.unreadable += values_only.unreadable
    return proof


def erase_subject(
    config: ExchangeConfig,
    *,
    reference: str = "",
    apply: bool = False,
    ring: KeyRing | None = None,
    today: dt.date | None = None,
    **query: Any,
) -> SubjectReport:
    """Erase one person: a dry run by default; with ``apply`` and ``person`` chosen,
    the erasure, its kept rules, the sender's report and the proof (``report.proof``:
    ``left == 0``)."""
    return _change(config, "erase", query, reference=reference, apply=apply, ring=ring, today=today)


def rectify_subject(
    config: ExchangeConfig,
    changes: Mapping[str, str],
    *,
    reference: str = "",
    apply: bool = False,
    ring: KeyRing | None = None,
    today: dt.date | None = None,
    **query: Any,
) -> SubjectReport:
    """Set person ``changes`` (first_name, last_name, function, service, department,
    email, phone) on one person's records, each in its role's own columns: a dry run by
    default, applied with ``apply`` and ``person`` chosen."""
    bad = [k for k in changes if k not in PERSON_FIELDS]
    if bad or not changes:
        raise ConfigError(
            f"rectify: fields {bad or '(none)'} are not person fields; expected "
            f"some of {', '.join(PERSON_FIELDS)}"
        )
    for name, value in changes.items():
        if contains_national_number(value, phone=name == "phone"):
            raise ConfigError(
                f"rectify: {name}: the value holds a national register or BIS number, which "
                "the protocol (art. 3) does not allow"
            )
    return _change(
        config,
        "rectify",
        query,
        reference=reference,
        apply=apply,
        ring=ring,
        today=today,
        changes=changes,
    )
