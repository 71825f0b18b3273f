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
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from linkage.exchange._delivery import Delivery
from linkage.exchange._extract import list_items
from linkage.exchange._schema import EXTRACTS
from linkage.keys import KeyRing
from linkage.pseudonymise import pseudonym_codes

__all__ = ["TABLES", "amount_ids", "known_keys", "shape", "shaped"]

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


class Keys(NamedTuple):
    """The pseudonyms of a column, and their codes (one per distinct pseudonym, -1
    where missing: see :func:`.pseudonym_codes`)."""

    keys: pd.Series
    codes: NDArray[np.int32]


def _keys(
    ring: KeyRing,
    domain: str,
    *columns: pd.Series,
    known: pd.Series | None = None,
    coded: bool = True,
    lazy: bool = False,
) -> list[Keys]:
    """Pseudonyms of several columns of one key domain, each distinct value hashed
    once for all of them (an enterprise's number turns up in four tables), or taken
    from ``known`` (the domain's of :func:`known_keys`). Without ``coded``, the codes
    may give one pseudonym two codes (see :func:`.pseudonym_codes`): not for dedupes.
    With ``lazy``, each column is an Arrow dictionary (its codes into the domain's
    pseudonyms, see :func:`_text`)."""
    codes, distinct = pseudonym_codes(
        pd.concat(columns, ignore_index=True), ring, domain=domain, known=known, distinct=coded
    )
    numbers = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
    starts = np.cumsum([0, *(len(c) for c in columns)])

    def column(start: int, length: int) -> pd.api.extensions.ExtensionArray:
        part = codes.slice(start, length)
        if lazy:
            return pd.arrays.ArrowExtensionArray(pa.DictionaryArray.from_arrays(part, distinct))
        # Each column's pseudonyms taken on their own: no column holds the others' text.
        return pd.arrays.ArrowStringArray(distinct.take(part))

    return [
        Keys(
            pd.Series(column(start, len(c)), index=c.index, name=c.name),
            numbers[start : start + len(c)],
        )
        for start, c in zip(starts, columns, strict=False)
    ]


def _text(keys: pd.Series) -> pd.Series:
    """Lazy keys (see :func:`_keys`) as Arrow text; others as they are."""
    array = pa.array(keys.array)
    if not pa.types.is_dictionary(array.type):
        return keys
    return pd.Series(
        pd.arrays.ArrowStringArray(array.dictionary_decode()), index=keys.index, name=keys.name
    )


def _codes(values: pd.Series) -> NDArray[np.int32]:
    """A code per distinct value of a text column (-1 where missing)."""
    text = pa.array(values.array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    indices = text.dictionary_encode().indices
    return pc.fill_null(indices, -1).to_numpy(zero_copy_only=False)


def _first(*codes: NDArray[np.int32]) -> NDArray[np.bool_]:
    """Whether each row is the first of its combination of codes (-1: missing):
    ``~DataFrame.duplicated()`` of the columns the codes stand for, by one integer
    per row rather than a hash of each column's text."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    size = 1
    for code in codes:
        width = int(code.max(initial=-1)) + 2
        if size * width >= 2**62:  # would overflow: renumber the columns so far
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * width + code.astype(np.int64) + 1
        size *= width
    return ~pd.Series(combined).duplicated().to_numpy()


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


def _rows(columns: dict[str, pd.Series], keep: NDArray[np.bool_]) -> pd.DataFrame:
    """The rows ``keep`` of a table of ``columns`` (each of one index)."""
    return pd.DataFrame({name: column[keep] for name, column in columns.items()})


def _staff_refs(
    parts: pd.DataFrame,
    refs: pd.Series,
    dossier: Keys,
    staff: Keys,
    party: NDArray[np.int32],
) -> pd.DataFrame:
    """The dossier-staff bridge: a dossier's (``parts``' rows') staff ids ``refs``
    (indexed as ``parts``) as keys, each pair once per party."""
    at = parts.index.get_indexer(refs.index) if parts.index.is_unique else None
    if at is None:  # labels repeat: as pandas matches them
        return pd.DataFrame(
            {
                "dossier_key": dossier.keys.loc[refs.index],
                "staff_key": staff.keys,
                "party": parts["party"].loc[refs.index],
            }
        ).drop_duplicates()
    return _rows(
        {
            "dossier_key": dossier.keys.iloc[at].set_axis(refs.index),
            "staff_key": staff.keys,
            "party": parts["party"].iloc[at].set_axis(refs.index),
        },
        _first(dossier.codes[at], staff.codes, party[at]),
    )


#: The delivered tables, in the order a delivery lists them.
TABLES = (
    "enterprises",
    "establishments",
    "dossiers",
    "dossier_staff",
    "dossier_services",
    "services",
    "amounts",
    "contacts",
    "staff",
)


def shape(
    tables: dict[str, pd.DataFrame], ring: KeyRing, *, known: dict[str, pd.Series] | None = None
) -> dict[str, pd.DataFrame]:
    """The delivered tables, from validated extracts (see :func:`read_extracts`), in
    the order of :data:`TABLES` (:func:`shaped`, whole)."""
    made = dict(shaped(dict(tables), ring, known=known))
    return {name: made[name] for name in TABLES}


def shaped(
    tables: dict[str, pd.DataFrame],
    ring: KeyRing,
    *,
    known: dict[str, pd.Series] | None = None,
    lazy: bool = False,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The delivered tables, from validated extracts (see :func:`read_extracts`), each
    as soon as it is made: the dossiers' tables and the staff, then the contacts, the
    amounts, and last the enterprises and establishments (written beside the links).

    Records whose own number was withheld (missing after validation) are left out.
    ``known``: pseudonyms a previous delivery made under the same key
    (:func:`known_keys`), taken rather than made anew (the same, byte for byte); the
    dict is emptied, each domain's let go once used. The dossiers', contacts' and
    staff extracts are taken out of ``tables`` too, and let go once made into tables.
    ``lazy``: the keys of the tables not linked are Arrow dictionaries, their codes
    into each domain's pseudonyms, until written as text (:func:`._delivery.write_tables`):
    at 485,000 enterprises the shaping then peaks about 300 MB lower.
    """
    known = {} if known is None else known
    ent = _with(tables["enterprises"], "enterprise_number")
    est = _with(tables["establishments"], "establishment_number")
    parts, con, staff = (tables.pop(name) for name in ("dossiers", "contacts", "staff"))
    # A dossier is one row per service: its own fields from its first row (those of
    # them delivered: a copy of the columns taken, not of the whole extract).
    dos = parts.loc[~parts["dossier_id"].duplicated().to_numpy(), list(_DOSSIER)]
    refs = list_items(parts["staff_ids"])
    ent_key, est_ent_key, dos_ent_key, con_ent_key = (
        k.keys
        for k in _keys(
            ring,
            "enterprise",
            ent["enterprise_number"],
            est["enterprise_number"],
            dos["enterprise_number"],
            con["enterprise_number"],
            known=known.pop("enterprise", None),
            coded=False,
            lazy=lazy,
        )
    )
    ent_key, est_ent_key = _text(ent_key), _text(est_ent_key)  # read by the links
    dossier_key, part_dossier, con_dossier_key = _keys(
        ring,
        "dossier",
        dos["dossier_id"],
        parts["dossier_id"],
        con["dossier_id"],
        known=known.pop("dossier", None),
        lazy=lazy,
    )
    staff_key, ref_staff = _keys(ring, "staff", staff["staff_id"], refs, lazy=lazy)
    (service,) = _keys(ring, "service", parts["service_id"], lazy=lazy)
    yield _made(
        "dossiers",
        {
            "dossier_key": dossier_key.keys,
            "dossier_id": dos["dossier_id"],
            "enterprise_key": dos_ent_key,
            "party": dos["party"],
            **{c: dos[c] for c in _DOSSIER[3:]},
        },
    )
    del dossier_key, dos, dos_ent_key
    party = _codes(parts["party"])
    yield _made("dossier_staff", _staff_refs(parts, refs, part_dossier, ref_staff, party))
    del refs, ref_staff
    has_service = parts["service_id"].notna().to_numpy()
    at = np.flatnonzero(has_service)
    yield _made(
        "dossier_services",
        _rows(
            {
                "dossier_key": part_dossier.keys.iloc[at],
                "service_key": service.keys.iloc[at],
                "party": parts["party"].iloc[at],
            },
            _first(part_dossier.codes[at], service.codes[at], party[at]),
        ),
    )
    yield _made(
        "services",
        _rows(
            {
                "service_key": service.keys.iloc[at],
                "party": parts["party"].iloc[at],
                "service_name": parts["service_name"].iloc[at],
                "service_description": parts["service_description"].iloc[at],
            },
            _first(service.codes[at], party[at]),
        ),
    )
    yield _made(
        "staff",
        {
            "staff_key": staff_key.keys,
            "party": staff["party"],
            **{c: staff[c] for c in _columns("staff", "staff_id")},
        },
    )
    del staff, staff_key
    yield _made(
        "contacts",
        {
            "contact_key": _keys(ring, "contact", con["contact_id"], lazy=lazy)[0].keys,
            "dossier_key": con_dossier_key.keys,
            "enterprise_key": con_ent_key,
            "party": con["party"],
            **{
                c: con[c]
                for c in _columns("contacts", "contact_id", "dossier_id", "enterprise_number")
            },
        },
    )
    del con, con_dossier_key, con_ent_key
    has_amount = (parts["granted_amount"].notna() | parts["paid_amount"].notna()).to_numpy()
    amounts = parts.loc[has_amount, list(_AMOUNT)]
    yield _made(
        "amounts",
        {
            "amount_key": _keys(ring, "amount", amount_ids(amounts), lazy=lazy)[0].keys,
            "dossier_key": part_dossier.keys[has_amount],
            "service_key": service.keys[has_amount],
            "party": amounts["party"],
            "granted_amount": amounts["granted_amount"],
            "paid_amount": amounts["paid_amount"],
        },
    )
    del parts, party, has_service, at, amounts, part_dossier, service
    (est_key,) = _keys(
        ring,
        "establishment",
        est["establishment_number"],
        known=known.pop("establishment", None),
        coded=False,
    )
    yield _made(
        "enterprises",
        {
            "enterprise_key": ent_key,
            "enterprise_number": ent["enterprise_number"],
            "party": ent["party"],
            **{c: ent[c] for c in _columns("enterprises", "enterprise_number")},
        },
    )
    yield _made(
        "establishments",
        {
            "establishment_key": est_key.keys,
            "establishment_number": est["establishment_number"],
            "enterprise_key": est_ent_key,
            "party": est["party"],
            **{
                c: est[c]
                for c in _columns("establishments", "establishment_number", "enterprise_number")
            },
        },
    )


def _made(name: str, columns: dict[str, pd.Series] | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """A delivered table, its rows numbered from 0."""
    frame = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(columns)
    return name, frame.reset_index(drop=True)
