"""Data quality (art. 8): the defects found in each party's extracts, and their kinds.

Art. 8 asks VDAB to report data it finds *wrong, inaccurate, incomplete, missing,
outdated or superfluous* to the sender. Every defect is one row: ``party, table,
record_id, column, defect, kind, severity, detail, file, row``. ``record_id`` is the
sender's own id of the record (it goes back to the sender), ``column`` the field as
the sender's file names it, ``defect`` the rule that found it, ``kind`` its art. 8
kind and ``severity`` (high, medium, low) how much it matters to the exchange;
``detail`` says what is wrong, never the offending value. The rules
(:data:`RULES`, the catalogue; the cross-field ones are in :mod:`._checks`):

=================================  ===========  ========  ==================================
rule (``defect``)                  kind         severity  found where
=================================  ===========  ========  ==================================
national register number           superfluous  high      any column (art. 3): withheld
invalid number                     wrong        high      an enterprise or unit number
invalid phone / e-mail / website   wrong        medium    not usable as written
invalid postcode                   wrong        medium    not a Belgian postcode
postcode not of the municipality   wrong        medium    see :mod:`._checks`
not in code list                   wrong        medium    legal form, entity type, status,
                                                          legal situation, size class,
                                                          dossier status
date in the future                 wrong        high      any date after the run's day
paid more than granted             wrong        high      a dossier's amounts
dates out of order                 inaccurate   medium    decided before the first contact
open dossier of a stopped          inaccurate   medium    the dossier or the enterprise
enterprise
legal form of a natural person     inaccurate   medium    a sole proprietorship has none
differs between parties            inaccurate   medium    one enterprise, two parties
differs between rows               inaccurate   medium    a dossier's rows (one per service)
                                                          that do not repeat its own fields:
                                                          its first row's are delivered
differs from VDAB's employer       inaccurate   low       the linked employer (after linking)
unknown reference                  incomplete   high      an enterprise, dossier or staff
                                                          member no extract holds
contact cannot be reached          incomplete   medium    no e-mail and no phone
legal person without legal form    incomplete   low
missing required field             missing      high      a field art. 3 lists as essential
outdated assessment                outdated     low       size class or in-difficulty:
                                                          undated or older than allowed
duplicate                          superfluous  medium    a contact twice in a dossier, a
                                                          staff e-mail twice, two numbers
                                                          with one name and address
personal e-mail address            superfluous  high      staff at a public mail provider
=================================  ===========  ========  ==================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from operator import call

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exchange import _checks as C
from linkage.exchange._art8 import KINDS, REPORT_COLUMNS, RULES, SEVERITIES, Rule
from linkage.exchange._checks import found as _defects
from linkage.exchange._checks import isin as _isin
from linkage.exchange._extract import Extracts, list_items
from linkage.exchange._report import write_quality
from linkage.exchange._schema import EXTRACTS
from linkage.normalise import normalise_emails, normalise_phones, normalise_websites

__all__ = [
    "CLOSED_DOSSIER",
    "KINDS",
    "REPORT_COLUMNS",
    "RULES",
    "SEVERITIES",
    "STOPPED",
    "Rule",
    "quality_defects",
    "write_quality",
]

#: A check of the extracts: the defects it finds, in parts.
Check = Callable[[], list[pd.DataFrame]]

#: Enterprise status or legal situation that means the enterprise has stopped.
STOPPED = ("Stopgezet", "Faillissement", "Stopzetting", "Vereffening", "Ontbinding")
#: Dossier statuses of a closed dossier; any other status is open.
CLOSED_DOSSIER = ("Afgesloten", "Afgewezen", "Geannuleerd", "Stopgezet")


def _contact_fields(tables: dict[str, pd.DataFrame]) -> list[Check]:
    """A phone, e-mail or web address not usable as written; a plural cell is checked
    value by value (its first bad value's reason, and which value it is). A check
    per column of each table."""
    checks: dict[str, tuple[str, Callable[..., pd.DataFrame]]] = {
        "phone": ("invalid phone", normalise_phones),
        "email": ("invalid e-mail", normalise_emails),
        "website": ("invalid website", normalise_websites),
    }
    return [
        partial(_contact_field, tables[table], table, column, *checks[column])
        for table in ("enterprises", "contacts", "staff")
        for column in checks
        if column in tables[table].columns
    ]


def _contact_field(
    frame: pd.DataFrame,
    table: str,
    column: str,
    defect: str,
    check: Callable[..., pd.DataFrame],
) -> list[pd.DataFrame]:
    """The defects of one contact column of one table (see :func:`_contact_fields`)."""
    plural = EXTRACTS[table].columns[column].plural
    values = list_items(frame[column]) if plural else frame[column].dropna()
    reasons = check(values.reset_index(drop=True), return_reasons=True)["reason"]
    # As Arrow text, each value's row by position: no Python string per value.
    text = pa.array(reasons.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    text = text.cast(pa.string())
    at = frame.index.get_indexer(values.index)
    if plural:
        nth = values.groupby(level=0).cumcount().to_numpy() + 1
        several = values.index.duplicated(keep=False)
        numbered = pc.binary_join_element_wise(
            "value ", pc.cast(pa.array(nth), pa.string()), ": ", text, ""
        )
        text = pc.if_else(pa.array(several), numbered, text)
    # Per row, its first value with a reason (a plural cell's first bad value).
    hit = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))
    first = hit[np.unique(at[hit], return_index=True)[1]]
    chosen = np.full(len(frame), -1, dtype=np.int64)
    chosen[at[first]] = first
    bad = chosen >= 0
    detail = pd.Series(
        pd.arrays.ArrowStringArray(text.take(pa.array(chosen, mask=~bad))),
        index=frame.index,
    )
    return [_defects(frame, bad, table=table, column=column, defect=defect, detail=detail)]


def _required(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    found = []
    for name, extract in EXTRACTS.items():
        frame = tables[name]
        for column, spec in extract.columns.items():
            if spec.required and column != extract.id:
                found.append(
                    _defects(
                        frame,
                        frame[column].isna(),
                        table=name,
                        column=column,
                        defect="missing required field",
                        detail=f"art. 3 lists {spec.item!r}",
                    )
                )
    return found


def _outdated(ent: pd.DataFrame, today: dt.date, max_age_days: int) -> list[pd.DataFrame]:
    limit = pd.Timestamp(today) - pd.Timedelta(days=max_age_days)
    found = []
    for value, date, what in (
        ("size_class", "size_class_date", "size class"),
        ("in_difficulty", "in_difficulty_date", "in-difficulty"),
    ):
        when = pd.to_datetime(ent[date])
        # "not in difficulty" without a date is no assessment; a size class always is.
        assessed = ent[value].notna() if value == "size_class" else ent[value].fillna(False)
        assessed = assessed.astype(bool) | when.notna()
        undated = assessed & when.isna()
        old = assessed & (when < limit)
        text = np.full(len(ent), f"{what} assessment has no date", dtype=object)
        stale = old.to_numpy(dtype=bool)
        if stale.any():
            # Each distinct date of the assessments too old written once, by Arrow.
            distinct, each = np.unique(when[stale].to_numpy(), return_inverse=True)
            days = pc.strftime(pa.array(distinct), format="%Y-%m-%d")
            words = pc.binary_join_element_wise(
                f"{what} assessed on ", days, f", more than {max_age_days} days ago", ""
            )
            text[stale] = words.to_numpy(zero_copy_only=False)[each]
        detail = pd.Series(text, index=ent.index)
        found.append(
            _defects(
                ent,
                undated | old,
                table="enterprises",
                column=date,
                defect="outdated assessment",
                detail=detail,
            )
        )
    return found


def _duplicates(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    found = []
    con = tables["contacts"]
    twice = C.duplicated(
        C.codes(con["party"]),
        C.codes(con["dossier_id"]),
        C.folded_codes(con["first_name"]),
        C.folded_codes(con["last_name"]),
    )
    found.append(
        _defects(
            con,
            twice & con["last_name"].notna().to_numpy(dtype=bool),
            table="contacts",
            column="last_name",
            defect="duplicate",
            detail="the same contact person twice in one dossier",
        )
    )
    staff = tables["staff"]
    email = C.casefolded(staff["email"])
    found.append(
        _defects(
            staff,
            email.duplicated(keep=False) & email.notna(),
            table="staff",
            column="email",
            defect="duplicate",
            detail="one e-mail address for several staff members",
        )
    )
    ent = tables["enterprises"]
    twice = C.duplicated(
        C.codes(ent["party"]),
        C.folded_codes(ent["name"], strip=True),
        C.codes(ent["postcode"]),
        C.folded_codes(ent["street"]),
        C.codes(ent["house_number"]),
    )
    filled = ent[["name", "postcode", "street"]].notna().all(axis=1).to_numpy(dtype=bool)
    found.append(
        _defects(
            ent,
            twice & filled,
            table="enterprises",
            column="name",
            defect="duplicate",
            detail="another enterprise number with this name and address",
        )
    )
    return found


def _contradictions(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    ent, dos = tables["enterprises"], tables["dossiers"]
    stopped = ent.loc[
        _isin(ent["status"], STOPPED) | _isin(ent["legal_situation"], STOPPED), "enterprise_number"
    ]
    open_ = ~_isin(dos["status"], CLOSED_DOSSIER) & dos["status"].notna()
    found = [
        _defects(
            dos,
            open_ & _isin(dos["enterprise_number"], stopped),
            table="dossiers",
            column="status",
            defect="open dossier of a stopped enterprise",
            detail="the dossier is open, the enterprise stopped",
        )
    ]
    over = (dos["paid_amount"] > dos["granted_amount"]).fillna(False)
    found.append(
        _defects(
            dos,
            over,
            table="dossiers",
            column="paid_amount",
            defect="paid more than granted",
            detail="the amount paid is larger than the amount granted",
        )
    )
    return found


def _references(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    dos, con = tables["dossiers"], tables["contacts"]
    known = tables["enterprises"]["enterprise_number"].dropna()
    found = [
        _defects(
            dos,
            dos["enterprise_number"].notna() & ~_isin(dos["enterprise_number"], known),
            table="dossiers",
            column="enterprise_number",
            defect="unknown reference",
            detail="no enterprises extract holds this enterprise",
        )
    ]
    found.append(
        _defects(
            con,
            ~_isin(con["dossier_id"], dos["dossier_id"]),
            table="contacts",
            column="dossier_id",
            defect="unknown reference",
            detail="no dossiers extract holds this dossier",
        )
    )
    refs = list_items(dos["staff_ids"])
    unknown = ~_isin(refs, tables["staff"]["staff_id"])
    bad = np.zeros(len(dos), dtype=bool)
    bad[dos.index.get_indexer(refs.index[unknown.to_numpy(dtype=bool)].unique())] = True
    found.append(
        _defects(
            dos,
            bad,
            table="dossiers",
            column="staff_ids",
            defect="unknown reference",
            detail="a staff member no extract holds",
        )
    )
    return found


def quality_defects(
    extracts: Extracts,
    *,
    today: dt.date,
    max_age_days: int = 730,
    vdab: tuple[pd.DataFrame, ...] = (),
    then: Callable[[], object] | None = None,
) -> pd.DataFrame:
    """Every defect found in the extracts (see the module docstring), sorted.

    Parameters
    ----------
    extracts : Extracts
    today : date
        The day of the report: later dates are in the future.
    max_age_days : int
        Size-class and in-difficulty assessments older than this are outdated.
    vdab : tuple of DataFrame
        VDAB's employers and sites: their postcodes and municipalities are part of
        the reference the places are checked against (:func:`._checks.places`).
    then : callable, optional
        Called once the checks are done, before their defects are classified (on one
        core): work that waited for the checks' two cores starts there.

    Returns
    -------
    DataFrame with the columns :data:`REPORT_COLUMNS`
    """
    tables = extracts.tables
    checks: list[Check] = [
        *_contact_fields(tables),
        partial(_required, tables),
        partial(_outdated, tables["enterprises"], today, max_age_days),
        partial(_duplicates, tables),
        partial(_contradictions, tables),
        partial(_references, tables),
        partial(C.code_lists, tables),
        partial(C.dates, tables, today),
        partial(C.places, tables, vdab),
        partial(C.reach, tables),
        partial(C.staff_mail, tables),
        partial(C.entity, tables),
        partial(C.cross_party, tables),
    ]
    # Two at a time, in their order: they read the extracts only, and spend most of
    # their time in Arrow's and numpy's kernels, which let go of the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = [extracts.defects, *(p for found in pool.map(call, checks) for p in found)]
    if then is not None:
        then()
    found = classified([p for p in parts if len(p)])
    found["column"] = extracts.as_sent(found)  # as the sender's file names it (a mapping)
    return found


#: The type of a defect's party and record id (the extracts' text, see :func:`._checks.found`).
_TEXT = pd.StringDtype("pyarrow")


def classified(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Defects as the checks found them, with each rule's kind and severity, sorted;
    their party and record id as Arrow text, whatever each check gave."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REPORT_COLUMNS})
    found = pd.concat([_with_text_ids(p) for p in parts], ignore_index=True)
    # One defect per record, field and rule: a dossier's rules fire on each of its rows.
    again = found.duplicated(["party", "table", "record_id", "column", "defect"])
    found = found[~(again & found["record_id"].notna()).to_numpy(dtype=bool)]
    codes, rules = pd.factorize(found["defect"])
    unknown = [r for r in rules if r not in RULES]
    assert not unknown, f"rules without a kind: {unknown}"
    # New frames, not columns set on a selection (pandas' SettingWithCopyWarning
    # when the frame selected from is still held).
    found = found.assign(
        kind=np.array([RULES[r].kind for r in rules], dtype=object)[codes],
        severity=np.array([RULES[r].severity for r in rules], dtype=object)[codes],
    )
    found = found[list(REPORT_COLUMNS)].astype({"row": "int64"})
    return found.sort_values(["party", "table", "row", "column"], kind="stable", ignore_index=True)


def _with_text_ids(part: pd.DataFrame) -> pd.DataFrame:
    """``part`` with its party and record id as Arrow text: one type for each column
    of the checks' parts, so that a part without ids (all missing) does not decide it."""
    other = {c: _TEXT for c in ("party", "record_id") if part[c].dtype != _TEXT}
    return part.astype(other) if other else part
