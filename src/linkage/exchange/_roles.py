"""Who sees what (art. 4): VDAB's roles, their security definitions, and an employer's view.

Art. 4 names the recipients: VDAB roles (provincial and sector account managers, the
service line, sales accounts, employer-service experts, the study service) and the
staff who run the application; and an employer may see only data about itself.

**The roles file** (``[output] roles = "roles.toml"`` in the exchange config) names
each role, the delivered tables it sees and, per table, its columns (``"*"``: all)::

    [roles.study_service]
    description = "statistics: no contact data"
    [roles.study_service.tables]
    enterprises = ["enterprise_key", "party", "legal_form", "size_class"]
    dossiers = "*"

    [roles.employer]                 # an employer's own users
    rows = "employer"                # row-level: only rows about their employer
    tables = { links_enterprises = "*", enterprises = "*", dossiers = "*" }

A table not named is not seen (object-level security), nor is a column not listed.
``rows`` is ``"all"`` (the default) or ``"employer"``. Refused, in one line naming the
file, role, table and column: a table or column the delivery does not have
(:data:`COLUMNS`), an unknown setting, and an employer role that sees a table
without the tables (and their key columns) its rows are reached through
(:data:`REACH`), or the staff table, which is no employer's own data.

**What a run writes** into the delivery, under ``access/``, from that file:

* ``roles.json``: role -> ``rows``, ``description`` and ``tables`` (table ->
  columns, ``"*"`` resolved), the same as the manifest's ``roles``;
* ``roles.tmsl.json``: the roles as a Power BI / Analysis Services workspace takes
  them (TMSL ``roles``, applied through the XMLA endpoint or Tabular Editor):
  ``modelPermission: read``; per table, ``metadataPermission: none`` for a table
  the role does not see and ``columnPermissions`` (``none``) for each column it does
  not see (object-level security); for an employer role, a DAX ``filterExpression``
  on every table it sees (row-level security). The filter finds the user's employer
  in a table the workspace keeps, not the delivery (:data:`USER_TABLE`:
  ``user_principal_name``, ``employer_id``), by ``USERPRINCIPALNAME()``: the link
  tables keep the rows of that ``employer_id``, every other table the rows its links
  reach (:data:`REACH`). Members are not written: the workspace assigns its groups.

The manifest records ``roles`` (role -> ``tables`` -> columns, and ``rows``), so that
what each role was granted is known for every delivery.

**An employer's view** (:func:`employer_view`, ``linkage exchange employer-view``):
exactly one employer's own data from the delivery in force, as the employer filter
defines it: its rows of ``links_enterprises`` and ``links_establishments``, the
enterprises and establishments those links reach (by key and sending party), the
dossiers of those enterprises, and their contacts, amounts, staff references and
services (through ``dossier_services``). Staff members' own records are VLAIO/TBT's
staff's data, not the employer's, and are left out. The files (``<PARTY>-<table>.csv``) are ``0600``
(:func:`._access.protect`), registered for purge (``subjects/outputs.jsonl``), and
the request is audited with its reference and counts, never the employer id nor a
value. Refused after the protocol's end (:meth:`ExchangeConfig.refuse_expired`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow.parquet as pq

from linkage.exceptions import ConfigError, LinkageError
from linkage.exchange import _delivery as D
from linkage.exchange._access import follow, protect
from linkage.exchange._audit import append_event, check_writable, reason
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._scan import OUTPUTS, SUBJECTS
from linkage.exchange._schema import EXTRACTS
from linkage.io import write_table

__all__ = [
    "COLUMNS",
    "REACH",
    "EmployerView",
    "Role",
    "employer_view",
    "load_roles",
    "tmsl_roles",
    "write_access",
]

Rows = Literal["all", "employer"]
ACCESS = "access"
#: The workspace's table that maps a signed-in user to their employer (not delivered).
USER_TABLE = ("employer_users", "user_principal_name", "employer_id")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _extract(table: str, *skip: str) -> tuple[str, ...]:
    return tuple(c for c in EXTRACTS[table].columns if c not in skip)


#: The columns of each delivered table, in order (as ``_shape.shape`` and the links
#: write them; tests/test_roles.py holds them equal to a delivery's).
COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": (
        "enterprise_key",
        "enterprise_number",
        "party",
        *_extract("enterprises", "enterprise_number"),
    ),
    "establishments": (
        "establishment_key",
        "establishment_number",
        "enterprise_key",
        "party",
        *_extract("establishments", "establishment_number", "enterprise_number"),
    ),
    "dossiers": (
        "dossier_key",
        "dossier_id",
        "enterprise_key",
        "party",
        "title",
        "status",
        "themes",
        "start_date",
        "contact_date",
        "decision_date",
        "crm_reference",
    ),
    "dossier_staff": ("dossier_key", "staff_key", "party"),
    "dossier_services": ("dossier_key", "service_key", "party"),
    "services": ("service_key", "party", "service_name", "service_description"),
    "amounts": (
        "amount_key",
        "dossier_key",
        "service_key",
        "party",
        "granted_amount",
        "paid_amount",
    ),
    "contacts": (
        "contact_key",
        "dossier_key",
        "enterprise_key",
        "party",
        *_extract("contacts", "contact_id", "dossier_id", "enterprise_number"),
    ),
    "staff": ("staff_key", "party", *_extract("staff", "staff_id")),
    "links_enterprises": ("enterprise_key", "party", "employer_id", "match_probability"),
    "links_establishments": (
        "establishment_key",
        "party",
        "site_id",
        "employer_id",
        "match_probability",
    ),
}

#: How an employer's rows are reached: table -> (the table it hangs from, the columns
#: it joins on); a link table (None) holds the employer id itself. ``staff`` is not
#: reached: a staff member's record is not an employer's data.
REACH: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "links_enterprises": None,
    "links_establishments": None,
    "enterprises": ("links_enterprises", ("enterprise_key", "party")),
    "establishments": ("links_establishments", ("establishment_key", "party")),
    "dossiers": ("enterprises", ("enterprise_key", "party")),
    "contacts": ("dossiers", ("dossier_key", "party")),
    "amounts": ("dossiers", ("dossier_key", "party")),
    "dossier_staff": ("dossiers", ("dossier_key", "party")),
    "dossier_services": ("dossiers", ("dossier_key", "party")),
    "services": ("dossier_services", ("service_key", "party")),
}


@dataclass(frozen=True, kw_only=True)
class Role:
    """One role: the tables and columns it sees, and whether its rows are an employer's."""

    name: str
    tables: dict[str, tuple[str, ...]]
    rows: Rows = "all"
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "rows": self.rows,
            "tables": {t: list(c) for t, c in self.tables.items()},
        }


def _role(name: str, doc: object) -> Role:
    if not _NAME.match(name):
        raise ConfigError(f"[roles.{name}]: not a role name (letters, digits, - _)")
    if not isinstance(doc, dict):
        raise ConfigError(f"role {name!r}: expected a table of settings, [roles.{name}]")
    unknown = sorted(set(doc) - {"tables", "rows", "description"})
    if unknown:
        raise ConfigError(
            f"role {name!r}: unknown setting {unknown[0]!r}; expected tables, rows, description"
        )
    rows = doc.get("rows", "all")
    if rows not in ("all", "employer"):
        raise ConfigError(f'role {name!r}: rows = {rows!r}; expected "all" or "employer"')
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"role {name!r}: description: expected text")
    grants = doc.get("tables")
    if not isinstance(grants, dict) or not grants:
        raise ConfigError(f"role {name!r}: tables: name at least one table and its columns")
    tables: dict[str, tuple[str, ...]] = {}
    for table, columns in grants.items():
        if table not in COLUMNS:
            raise ConfigError(
                f"role {name!r}: the delivery has no table {table!r}; "
                f"tables are {', '.join(COLUMNS)}"
            )
        if columns == "*":
            tables[table] = COLUMNS[table]
            continue
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) for c in columns)
        ):
            raise ConfigError(
                f'role {name!r}, table {table!r}: expected "*" or a list of column names'
            )
        for column in columns:
            if column not in COLUMNS[table]:
                raise ConfigError(
                    f"role {name!r}, table {table!r}: the delivery has no column {column!r}; "
                    f"columns are {', '.join(COLUMNS[table])}"
                )
        tables[table] = tuple(c for c in COLUMNS[table] if c in columns)  # delivered order
    role = Role(name=name, tables=tables, rows=rows, description=description)
    if rows == "employer":
        _check_reach(role)
    return role


def _check_reach(role: Role) -> None:
    """An employer role's filters join its tables to their parents: it must see them."""
    for table in role.tables:
        if table not in REACH:
            raise ConfigError(
                f'role {role.name!r}: rows = "employer" cannot see table {table!r} '
                "(no employer's own data)"
            )
        step = REACH[table]
        needed = ("employer_id",) if step is None else step[1]
        if step is None and not set(needed) <= set(role.tables[table]):
            raise ConfigError(
                f'role {role.name!r}, table {table!r}: rows = "employer" filters on '
                "employer_id: grant it"
            )
        if step is not None:
            parent, keys = step
            missing = [k for k in keys if k not in role.tables[table]]
            seen = role.tables.get(parent, ())
            missing += [f"{parent}.{k}" for k in keys if k not in seen]
            if missing:
                raise ConfigError(
                    f'role {role.name!r}, table {table!r}: rows = "employer" reaches it '
                    f"through {parent} on {', '.join(keys)}: grant {', '.join(missing)}"
                )


def load_roles(path: str | Path) -> dict[str, Role]:
    """Read and check a roles file (module docstring).

    Raises
    ------
    ConfigError
        One line, ``source`` the file: not TOML, no roles, or a role that names a
        table or column the delivery does not have (see :data:`COLUMNS`).
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such roles file ([output] roles)", source=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text, so not a TOML file", source=path.name) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=path.name) from None
    try:
        extra = sorted(set(doc) - {"roles"})
        if extra:
            raise ConfigError(f"unknown section {extra[0]!r}; a roles file holds [roles.<name>]")
        roles = doc.get("roles")
        if not isinstance(roles, dict) or not roles:
            raise ConfigError("no roles: expected [roles.<name>] with tables = {...}")
        return {name: _role(name, spec) for name, spec in roles.items()}
    except ConfigError as exc:
        raise ConfigError(exc.detail, source=path.name) from None


def _dax_filter(table: str) -> str:
    """The DAX row filter of ``table`` for an employer role (:data:`REACH`)."""
    users, upn, employer = USER_TABLE
    me = f"LOOKUPVALUE('{users}'[{employer}], '{users}'[{upn}], USERPRINCIPALNAME())"
    return f"VAR me = {me}\nRETURN {_reached(table)}"


def _reached(table: str) -> str:
    """A DAX condition on the current row of ``table``: it is the employer's."""
    step = REACH[table]
    if step is None:
        return f"'{table}'[employer_id] = me"
    parent, keys = step
    pairs = ", ".join(f"'{parent}'[{k}], '{table}'[{k}]" for k in keys)
    return f"CONTAINS(FILTER(ALL('{parent}'), {_reached(parent)}), {pairs})"


def tmsl_roles(roles: dict[str, Role]) -> dict[str, Any]:
    """The roles as TMSL (``{"roles": [...]}``): object-level security for every
    role, row-level for employer roles (module docstring)."""
    out = []
    for role in roles.values():
        permissions = []
        for table, columns in COLUMNS.items():
            if table not in role.tables:
                permissions.append({"name": table, "metadataPermission": "none"})
                continue
            entry: dict[str, Any] = {"name": table}
            hidden = [c for c in columns if c not in role.tables[table]]
            if hidden:
                entry["columnPermissions"] = [
                    {"name": c, "metadataPermission": "none"} for c in hidden
                ]
            if role.rows == "employer":
                entry["filterExpression"] = _dax_filter(table)
            if len(entry) > 1:
                permissions.append(entry)
        out.append(
            {
                "name": role.name,
                "description": role.description,
                "modelPermission": "read",
                "tablePermissions": permissions,
            }
        )
    return {"roles": out}


def write_access(folder: Path, roles: dict[str, Role]) -> dict[str, Any]:
    """Write ``access/roles.json`` and ``access/roles.tmsl.json`` into a delivery
    being staged (``folder``); return the manifest's ``roles``.

    Raises
    ------
    ConfigError
        A role names a column the written tables do not have (:data:`COLUMNS` out
        of step with the delivery: a bug, refused before the switch).
    """
    for role in roles.values():
        for table, columns in role.tables.items():
            written = set(pq.read_schema(folder / f"{table}.parquet").names)
            missing = [c for c in columns if c not in written]
            if missing:
                raise ConfigError(
                    f"role {role.name!r}, table {table!r}: the delivery has no column "
                    f"{missing[0]!r}"
                )
    granted = {name: role.as_dict() for name, role in roles.items()}
    access = folder / ACCESS
    access.mkdir()
    follow(access)
    D.write_json(access / "roles.json", granted)
    D.write_json(access / "roles.tmsl.json", tmsl_roles(roles))
    return granted


@dataclass(frozen=True, kw_only=True)
class EmployerView:
    """What an employer view found and wrote."""

    request_id: str
    run_id: str | None
    records: dict[str, pd.DataFrame] = field(repr=False)
    outputs: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.records.items() if len(frame)}

    def summary(self) -> str:
        counts = self.counts()
        if not counts:
            return f"{self.request_id}: no delivered data is linked to this employer"
        rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
        return f"{self.request_id}: {rows}; {len(self.outputs)} files written"


def employer_rows(tables: dict[str, pd.DataFrame], employer_id: str) -> dict[str, pd.DataFrame]:
    """Each table's rows that are the employer's (:data:`REACH`), in its order."""
    out: dict[str, pd.DataFrame] = {}
    for table, step in REACH.items():  # parents come before their children
        frame = tables[table]
        if step is None:
            keep = (frame["employer_id"] == employer_id).fillna(False).to_numpy(dtype=bool)
        else:
            parent, keys = step
            own = pd.MultiIndex.from_frame(out[parent][list(keys)].astype(object))
            keep = pd.MultiIndex.from_frame(frame[list(keys)].astype(object)).isin(own)
        out[table] = frame[keep].reset_index(drop=True)
    return out


def _register(config: ExchangeConfig, path: Path, party: str, request_id: str) -> None:
    """Record an output before it is written: a purge must know of every copy."""
    registry = config.store / OUTPUTS
    registry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry = {"path": str(path), "party": party, "request_id": request_id}
    with registry.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    follow(config.store / SUBJECTS)


def _employer_role(config: ExchangeConfig, name: str) -> Role:
    roles = load_roles(config.roles) if config.roles is not None else {}
    if name not in roles or roles[name].rows != "employer":
        employers = [r for r, role in roles.items() if role.rows == "employer"]
        raise ConfigError(
            f"role {name!r}: not an employer role of [output] roles; employer roles are "
            f"{', '.join(employers) or 'none'}",
            source=str(config.roles or config.source),
        )
    return roles[name]


def employer_view(
    config: ExchangeConfig,
    employer_id: str,
    *,
    out: str | Path,
    reference: str = "",
    role: str | None = None,
    today: dt.date | None = None,
) -> EmployerView:
    """Write exactly one employer's own data from the delivery in force (module
    docstring) to ``out``, a new or empty folder: ``<PARTY>-<table>.csv``, 0600.
    With ``role`` (an employer role of ``[output] roles``), only the tables and
    columns that role sees.

    Raises
    ------
    ConfigError
        After the protocol's end; ``out`` is not an empty folder; no delivery is in
        force; ``role`` is not an employer role of the roles file. Every refusal is
        audited too.
    """
    request_id = f"employer-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    request = {"request_id": request_id, "reference": reference}
    if role is not None:
        request["role"] = role
    check_writable(config.audit_log)  # nothing is written that the log cannot record
    try:
        config.refuse_expired(today)
        sees = _employer_role(config, role) if role is not None else None
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(
                "exists and is not an empty folder; an employer view is written to a new one",
                source=str(out),
            )
        current = D.read_delivery(config.store, config_file=config.source)
        if current is None:
            raise ConfigError(
                "no delivery in force: run the exchange first", source=str(config.store)
            )
        tables = {name: current.table(name, text="pyarrow") for name in REACH}
        records = employer_rows(tables, str(employer_id))
        if sees is not None:  # the role's tables, and of each its columns
            records = {t: records[t][list(c)] for t, c in sees.tables.items() if t in records}
        written = []
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for table, frame in records.items():
            # a role that does not see the party: one file, registered to each party
            parties = frame.groupby("party", sort=True) if "party" in frame else [("all", frame)]
            for party, part in parties:
                path = (out / f"{party}-{table}.csv").resolve()
                for sender in config.parties if party == "all" else [party]:
                    _register(config, path, str(sender), request_id)
                write_table(part.reset_index(drop=True), path)
                written.append(str(path))
        protect(out, config.group)
    except (LinkageError, OSError) as exc:
        append_event(
            config.audit_log, "employer_view", **request, outcome="refused", reason=reason(exc)
        )
        raise
    view = EmployerView(
        request_id=request_id, run_id=current.run_id, records=records, outputs=tuple(written)
    )
    append_event(
        config.audit_log,
        "employer_view",
        **request,
        run_id=current.run_id,
        found=view.counts(),
        outputs=len(written),
        outcome="written",
    )
    return view
