"""Data-subject rights (art. 11): find, erase or rectify everything about one person.

A person appears in the delivery as a contact person (``contacts``), a staff member
(``staff``), the managing person of an enterprise (``enterprises.manager_*``), or a
sole proprietor (an enterprise of entity type ``natural_person`` whose name is the
person's). They are found by e-mail address or by first and last name together,
compared without regard to case or surrounding spaces.

Erasure deletes contact and staff records (and the staff member's dossier
references), blanks the managing-person fields (and a matching e-mail address) of an
enterprise, and deletes a sole proprietorship with everything that hangs on it
(establishment units, dossiers, their contacts, amounts and staff references,
links). Rectification sets the given fields on the person's records; a value that
holds a national register or BIS number (``linkage.national``; a mobile in ``phone``
is a phone) is refused, as in an extract. Both make a new delivery, atomically, and
are audited with counts only. The senders must make the same change at the source
(art. 8), or the next run delivers the record again.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._audit import append_event
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._links import carry_state
from linkage.national import contains_national_number

__all__ = ["SubjectReport", "erase_subject", "find_subject", "rectify_subject"]

PERSON_FIELDS = ("first_name", "last_name", "function", "service", "department", "email", "phone")
_MANAGER = {
    "first_name": "manager_first_name",
    "last_name": "manager_last_name",
    "function": "manager_function",
    "email": "email",
}


@dataclass(frozen=True, kw_only=True)
class SubjectReport:
    """What a request found and did: records per table and role, before and after."""

    request_id: str
    action: str
    found: dict[str, int]
    changed: dict[str, int] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)
    records: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        found = ", ".join(f"{k} {v:,}" for k, v in self.found.items() if v) or "no records"
        lines = [f"{self.action} {self.request_id}: found {found}"]
        if self.action != "find":
            changed = ", ".join(f"{k} {v:,}" for k, v in self.changed.items() if v) or "nothing"
            lines.append(f"  changed: {changed}")
        if self.action == "erase":
            left = sum(self.remaining.values())
            lines.append(f"  records still matching after the erasure: {left:,}")
        return "\n".join(lines)


def _fold(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def _masks(
    tables: dict[str, pd.DataFrame], email: str | None, first: str | None, last: str | None
) -> dict[str, pd.Series]:
    """Boolean masks per role: contacts, staff, manager, sole proprietor."""
    if email is None and (first is None or last is None):
        raise ConfigError("a subject is found by e-mail, or by first and last name together")
    e = email.strip().casefold() if email else None
    f = first.strip().casefold() if first else None
    n = last.strip().casefold() if last else None

    def person(frame: pd.DataFrame, fc: str, lc: str, ec: str) -> pd.Series:
        hit = pd.Series(False, index=frame.index)
        if e is not None:
            hit |= (_fold(frame[ec]) == e).fillna(False)
        if f is not None and n is not None:
            hit |= ((_fold(frame[fc]) == f) & (_fold(frame[lc]) == n)).fillna(False)
        return hit.astype(bool)

    ent = tables["enterprises"]
    sole = pd.Series(False, index=ent.index)
    if f is not None and n is not None:
        name = _fold(ent["name"])
        sole = (
            ((ent["entity_type"] == "natural_person") & (name.isin([f"{f} {n}", f"{n} {f}"])))
            .fillna(False)
            .astype(bool)
        )
    if e is not None:
        sole |= (
            ((ent["entity_type"] == "natural_person") & (_fold(ent["email"]) == e))
            .fillna(False)
            .astype(bool)
        )
    return {
        "contacts": person(tables["contacts"], "first_name", "last_name", "email"),
        "staff": person(tables["staff"], "first_name", "last_name", "email"),
        "managing person": person(ent, "manager_first_name", "manager_last_name", "email") & ~sole,
        "sole proprietor": sole,
    }


def _found(tables: dict[str, pd.DataFrame], masks: dict[str, pd.Series]) -> dict[str, pd.DataFrame]:
    ent = tables["enterprises"]
    return {
        "contacts": tables["contacts"][masks["contacts"]],
        "staff": tables["staff"][masks["staff"]],
        "enterprises (managing person)": ent[masks["managing person"]],
        "enterprises (sole proprietor)": ent[masks["sole proprietor"]],
    }


def _open(config: ExchangeConfig) -> D.Delivery:
    current = D.read_delivery(config.store)
    if current is None:
        raise ConfigError(f"{config.store}: no delivery in force")
    return current


def find_subject(
    config: ExchangeConfig,
    *,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> SubjectReport:
    """Every delivered record about one person (for an access request)."""
    current = _open(config)
    tables = current.tables()
    records = _found(tables, _masks(tables, email, first_name, last_name))
    request_id = f"find-{secrets.token_hex(4)}"
    report = SubjectReport(
        request_id=request_id,
        action="find",
        found={k: len(v) for k, v in records.items()},
        records=records,
    )
    append_event(
        config.audit_log,
        "subject",
        request_id=request_id,
        action="find",
        run_id=current.run_id,
        found=report.found,
    )
    return report


def _erase(tables: dict[str, pd.DataFrame], masks: dict[str, pd.Series]) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    ent = tables["enterprises"]
    gone_ent = ent.loc[masks["sole proprietor"], "enterprise_key"].unique()
    gone_staff = tables["staff"].loc[masks["staff"], "staff_key"].unique()
    gone_dos = (
        tables["dossiers"]
        .loc[tables["dossiers"]["enterprise_key"].isin(gone_ent), "dossier_key"]
        .unique()
    )
    gone_est = (
        tables["establishments"]
        .loc[tables["establishments"]["enterprise_key"].isin(gone_ent), "establishment_key"]
        .unique()
    )
    kept = ent.copy()
    managed = masks["managing person"].to_numpy(dtype=bool)
    for column in ("manager_first_name", "manager_last_name", "manager_function"):
        kept.loc[managed, column] = pd.NA
    out["enterprises"] = kept[~masks["sole proprietor"]]
    out["contacts"] = tables["contacts"][
        ~masks["contacts"]
        & ~tables["contacts"]["dossier_key"].isin(gone_dos)
        & ~tables["contacts"]["enterprise_key"].isin(gone_ent)
    ]
    out["staff"] = tables["staff"][~masks["staff"]]
    bridge = tables["dossier_staff"]
    out["dossier_staff"] = bridge[
        ~bridge["staff_key"].isin(gone_staff) & ~bridge["dossier_key"].isin(gone_dos)
    ]
    for name, column, gone in (
        ("establishments", "enterprise_key", gone_ent),
        ("dossiers", "dossier_key", gone_dos),
        ("amounts", "dossier_key", gone_dos),
        ("links_enterprises", "enterprise_key", gone_ent),
        ("links_establishments", "establishment_key", gone_est),
    ):
        out[name] = tables[name][~tables[name][column].isin(gone)]
    return out


def _rectify(
    tables: dict[str, pd.DataFrame], masks: dict[str, pd.Series], changes: Mapping[str, str]
) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    for table in ("contacts", "staff"):
        frame = tables[table].copy()
        for column, value in changes.items():
            frame.loc[masks[table], column] = value
        out[table] = frame
    ent = tables["enterprises"].copy()
    for column, value in changes.items():
        if column in _MANAGER:
            ent.loc[masks["managing person"], _MANAGER[column]] = value
    out["enterprises"] = ent
    return out


def _change(
    config: ExchangeConfig,
    action: str,
    *,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    reference: str,
    changes: Mapping[str, str] | None = None,
) -> SubjectReport:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    request_id = f"{action}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    with D.store_lock(config.store):
        current = _open(config)
        tables = current.tables()
        masks = _masks(tables, email, first_name, last_name)
        found = {k: len(v) for k, v in _found(tables, masks).items()}
        new = _erase(tables, masks) if action == "erase" else _rectify(tables, masks, changes or {})
        changed = {name: int(len(tables[name]) - len(new[name])) for name in tables}
        if action == "rectify":
            changed = {k: int(v.sum()) for k, v in masks.items()}
        # Write-ahead: the request is on record before its delivery can be in force.
        request = {"request_id": request_id, "action": action, "reference": reference}
        append_event(config.audit_log, "subject", **request, outcome="intent")
        delivery = D.rewrite(
            config.store,
            current,
            new,
            run_id=request_id,
            operation={"subject": action, "reference": reference, "time": now.isoformat()},
            carry=carry_state,
        )
        remaining = {}
        if action == "erase":  # the proof: search the new delivery again
            remaining = {
                k: int(np.sum(v))
                for k, v in _masks(delivery.tables(), email, first_name, last_name).items()
            }
    report = SubjectReport(
        request_id=request_id, action=action, found=found, changed=changed, remaining=remaining
    )
    append_event(
        config.audit_log,
        "subject",
        **request,
        previous_run_id=current.run_id,
        found=found,
        changed=changed,
        fields=sorted(changes or ()),
        remaining=sum(report.remaining.values()),
        outcome="delivered",
    )
    return report


def erase_subject(
    config: ExchangeConfig,
    *,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    reference: str = "",
) -> SubjectReport:
    """Erase every delivered record about one person; ``remaining`` proves it (all 0)."""
    return _change(
        config,
        "erase",
        email=email,
        first_name=first_name,
        last_name=last_name,
        reference=reference,
    )


def rectify_subject(
    config: ExchangeConfig,
    changes: Mapping[str, str],
    *,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    reference: str = "",
) -> SubjectReport:
    """Set ``changes`` (person fields: first_name, last_name, function, service,
    department, email, phone) on every delivered record about one person."""
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
        email=email,
        first_name=first_name,
        last_name=last_name,
        reference=reference,
        changes=changes,
    )
