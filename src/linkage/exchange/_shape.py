"""Pseudonymise the extracts into the delivered tables, and link them to VDAB.

The delivered tables are shaped for a BI workspace: one table per entity, keys as
pseudonyms (one key domain per entity), every row with its sending ``party``,
services and amounts split out of the dossiers (a dossier's rows, one per service:
see :data:`._schema.EXTRACTS`), the dossier-staff and dossier-service references as
bridge tables. Clear identifiers that art. 3 lists as fields stay: the enterprise
number and establishment-unit numbers (public KBO data, "het ondernemingsnummer en
de nummers van de vestigingseenheden") and the dossier's identification number.
Contact, staff, service and amount ids are internal keys of the senders' systems
and are delivered only as pseudonyms.

Linking (:mod:`._links`) runs on the clear numbers inside the run; the delivered
link tables carry the enterprise (establishment) key and VDAB's own employer (site) id.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exchange._delivery import Delivery
from linkage.exchange._extract import list_items
from linkage.exchange._schema import EXTRACTS
from linkage.keys import KeyRing
from linkage.pseudonymise import pseudonymise

__all__ = ["amount_ids", "known_keys", "shape"]

log = logging.getLogger(__name__)


#: The key domains whose clear id a delivery holds beside its key: the delivered
#: table, its id and its key.
KNOWN = {
    "enterprise": ("enterprises", "enterprise_number", "enterprise_key"),
    "establishment": ("establishments", "establishment_number", "establishment_key"),
    "dossier": ("dossiers", "dossier_id", "dossier_key"),
}


def known_keys(previous: Delivery | None, version: int) -> dict[str, pd.Series]:
    """The pseudonyms a delivery made under key ``version``, per domain of
    :data:`KNOWN` (clear id -> key), for a run to take instead of hashing anew."""
    if previous is None or previous.manifest["key"]["version"] != version:
        return {}
    known = {}
    for domain, (table, ident, key) in KNOWN.items():
        frame = pq.read_table(previous.path / f"{table}.parquet", columns=[ident, key])
        frame = frame.filter(pc.and_(pc.is_valid(frame[ident]), pc.is_valid(frame[key])))
        # An id delivered twice (by both parties) is looked up at its first row.
        text = {name: frame[name].combine_chunks().cast(pa.string()) for name in (ident, key)}
        known[domain] = pd.Series(
            pd.arrays.ArrowStringArray(text[key]),
            index=pd.Index(pd.arrays.ArrowStringArray(text[ident])),
        )
    return known


def _keys(
    ring: KeyRing, domain: str, *columns: pd.Series, known: pd.Series | None = None
) -> list[pd.Series]:
    """Pseudonyms of several columns of one key domain, each distinct value hashed
    once for all of them (an enterprise's number turns up in four tables), or taken
    from ``known`` (the domain's of :func:`known_keys`)."""
    keys = pseudonymise(pd.concat(columns, ignore_index=True), ring, domain=domain, known=known)
    starts = np.cumsum([0, *(len(c) for c in columns)])
    return [
        keys.iloc[start : start + len(c)].set_axis(c.index).rename(c.name)
        for start, c in zip(starts, columns, strict=False)
    ]


def amount_ids(amounts: pd.DataFrame) -> pd.Series:
    """What an amount's key is made from: its own id, else its dossier's and service's
    ids (in the amount domain: another key, so it cannot be joined by value)."""
    own = amounts["dossier_id"].where(
        amounts["service_id"].isna(), amounts["dossier_id"] + "\x1f" + amounts["service_id"]
    )
    return amounts["amount_id"].fillna(own).rename("amount_id")


def _columns(table: str, *skip: str) -> list[str]:
    return [c for c in EXTRACTS[table].columns if c not in skip]


#: What a delivered dossier and amount take of the dossiers' extract.
_DOSSIER = (
    "dossier_id",
    "enterprise_number",
    "party",
    "title",
    "status",
    "themes",
    "start_date",
    "contact_date",
    "decision_date",
    "crm_reference",
)
_AMOUNT = ("amount_id", "dossier_id", "service_id", "party", "granted_amount", "paid_amount")


def _with(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is there: ``frame`` itself, not a copy,
    where every row's is (a withheld number is rare)."""
    present = frame[column].notna().to_numpy()
    return frame if present.all() else frame[present]


def shape(
    tables: dict[str, pd.DataFrame], ring: KeyRing, *, known: dict[str, pd.Series] | None = None
) -> dict[str, pd.DataFrame]:
    """The delivered tables, from validated extracts (see :func:`read_extracts`).

    Records whose own number was withheld (missing after validation) are left out.
    ``known``: pseudonyms a previous delivery made under the same key
    (:func:`known_keys`), taken rather than made anew (the same, byte for byte); the
    dict is emptied, each domain's let go once used.
    """
    known = {} if known is None else known
    out: dict[str, pd.DataFrame] = {}
    ent = _with(tables["enterprises"], "enterprise_number")
    est = _with(tables["establishments"], "establishment_number")
    parts, con, staff = tables["dossiers"], tables["contacts"], tables["staff"]
    # A dossier is one row per service: its own fields from its first row (those of
    # them delivered: a copy of the columns taken, not of the whole extract).
    dos = parts.loc[~parts["dossier_id"].duplicated().to_numpy(), list(_DOSSIER)]
    refs = list_items(parts["staff_ids"])
    ent_key, est_ent_key, dos_ent_key, con_ent_key = _keys(
        ring,
        "enterprise",
        ent["enterprise_number"],
        est["enterprise_number"],
        dos["enterprise_number"],
        con["enterprise_number"],
        known=known.pop("enterprise", None),
    )
    dossier_key, part_dossier_key, con_dossier_key = _keys(
        ring,
        "dossier",
        dos["dossier_id"],
        parts["dossier_id"],
        con["dossier_id"],
        known=known.pop("dossier", None),
    )
    (est_key,) = _keys(
        ring, "establishment", est["establishment_number"], known=known.pop("establishment", None)
    )
    staff_key, ref_staff_key = _keys(ring, "staff", staff["staff_id"], refs)
    (service_key,) = _keys(ring, "service", parts["service_id"])
    out["enterprises"] = pd.DataFrame(
        {
            "enterprise_key": ent_key,
            "enterprise_number": ent["enterprise_number"],
            "party": ent["party"],
            **{c: ent[c] for c in _columns("enterprises", "enterprise_number")},
        }
    )
    out["establishments"] = pd.DataFrame(
        {
            "establishment_key": est_key,
            "establishment_number": est["establishment_number"],
            "enterprise_key": est_ent_key,
            "party": est["party"],
            **{
                c: est[c]
                for c in _columns("establishments", "establishment_number", "enterprise_number")
            },
        }
    )
    out["dossiers"] = pd.DataFrame(
        {
            "dossier_key": dossier_key,
            "dossier_id": dos["dossier_id"],
            "enterprise_key": dos_ent_key,
            "party": dos["party"],
            **{c: dos[c] for c in _DOSSIER[3:]},
        }
    )
    out["dossier_staff"] = pd.DataFrame(
        {
            "dossier_key": part_dossier_key.loc[refs.index],
            "staff_key": ref_staff_key,
            "party": parts["party"].loc[refs.index],
        }
    ).drop_duplicates()
    has_service = parts["service_id"].notna()
    out["dossier_services"] = pd.DataFrame(
        {
            "dossier_key": part_dossier_key[has_service],
            "service_key": service_key[has_service],
            "party": parts["party"][has_service],
        }
    ).drop_duplicates()
    out["services"] = pd.DataFrame(
        {
            "service_key": service_key[has_service],
            "party": parts["party"][has_service],
            "service_name": parts["service_name"][has_service],
            "service_description": parts["service_description"][has_service],
        }
    ).drop_duplicates(subset=["service_key", "party"])
    has_amount = (parts["granted_amount"].notna() | parts["paid_amount"].notna()).to_numpy()
    amounts = parts.loc[has_amount, list(_AMOUNT)]
    out["amounts"] = pd.DataFrame(
        {
            "amount_key": _keys(ring, "amount", amount_ids(amounts))[0],
            "dossier_key": part_dossier_key[has_amount],
            "service_key": service_key[has_amount],
            "party": amounts["party"],
            "granted_amount": amounts["granted_amount"],
            "paid_amount": amounts["paid_amount"],
        }
    )
    out["contacts"] = pd.DataFrame(
        {
            "contact_key": _keys(ring, "contact", con["contact_id"])[0],
            "dossier_key": con_dossier_key,
            "enterprise_key": con_ent_key,
            "party": con["party"],
            **{
                c: con[c]
                for c in _columns("contacts", "contact_id", "dossier_id", "enterprise_number")
            },
        }
    )
    out["staff"] = pd.DataFrame(
        {
            "staff_key": staff_key,
            "party": staff["party"],
            **{c: staff[c] for c in _columns("staff", "staff_id")},
        }
    )
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}
