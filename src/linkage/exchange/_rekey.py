"""Key rotation in the feed: a crosswalk per key domain, and a diff that reads through it.

When the ring's current version is newer than the version of the delivery in force,
the run delivers, beside the tables, ``crosswalk/<domain>.parquet`` (``old`` and
``new`` pseudonym of every value of that domain in today's extracts: pseudonyms only,
no identifier), and the change report compares the previous delivery with its keys
mapped through the crosswalks, so that a re-keyed row counts as unchanged rather than
removed and added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from linkage.exchange._extract import list_items
from linkage.exchange._shape import amount_ids
from linkage.io import write_table
from linkage.keys import KeyRing
from linkage.pseudonymise import crosswalk

__all__ = ["crosswalks", "rekey", "write_crosswalks"]

CROSSWALK = "crosswalk"


def _values(tables: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Every clear value of each key domain in the extracts (as :func:`shape` keys them)."""
    ent, est, dos = tables["enterprises"], tables["establishments"], tables["dossiers"]
    con, staff = tables["contacts"], tables["staff"]
    amounts = dos[dos["granted_amount"].notna() | dos["paid_amount"].notna()]
    return {
        "enterprise": pd.concat(
            [
                ent["enterprise_number"],
                est["enterprise_number"],
                dos["enterprise_number"],
                con["enterprise_number"],
            ]
        ),
        "establishment": est["establishment_number"],
        "dossier": pd.concat([dos["dossier_id"], con["dossier_id"]]),
        "staff": pd.concat([staff["staff_id"], list_items(dos["staff_ids"])]),
        "service": dos["service_id"],
        "amount": amount_ids(amounts),
        "contact": con["contact_id"],
    }


def crosswalks(
    tables: dict[str, pd.DataFrame], ring: KeyRing, *, old: int, new: int
) -> dict[str, pd.DataFrame]:
    """Per key domain, old pseudonym -> new pseudonym of every value in the extracts."""
    return {
        domain: crosswalk(values.dropna(), ring, domain=domain, old=old, new=new)
        for domain, values in _values(tables).items()
    }


def write_crosswalks(folder: Path, walks: dict[str, pd.DataFrame]) -> dict[str, int]:
    """``crosswalk/<domain>.parquet`` in a delivery being staged; rows per domain."""
    (folder / CROSSWALK).mkdir()
    for domain, frame in walks.items():
        write_table(frame, folder / CROSSWALK / f"{domain}.parquet")
    return {domain: len(frame) for domain, frame in walks.items()}


def rekey(
    tables: dict[str, pd.DataFrame], walks: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The tables with every ``<domain>_key`` column mapped from old to new pseudonyms
    (a key the crosswalk does not hold is kept: its row is then gone or new)."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in frame.columns:
            walk = walks.get(column.removesuffix("_key")) if column.endswith("_key") else None
            if walk is None:
                continue
            keys = frame[column].astype("string")
            at = pd.Index(walk["old"]).get_indexer(keys)
            mapped = np.where(at >= 0, walk["new"].to_numpy(object)[at], keys.to_numpy(object))
            frame[column] = pd.array(mapped, dtype="string")
        out[name] = frame
    return out
