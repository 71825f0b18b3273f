"""Duplicate employers: VDAB registering one enterprise twice, for measuring dedupe.

A share of the employers that copy an enterprise get a second record: another
independent noisy copy of the same enterprise (the :class:`NoiseModel` of every
employer: its number may be missing or mistyped, its name, address and contacts
varied), with its own id, at a random row. Employers VLAIO does not know are not
duplicated, and duplicates have no sites. ``truth_duplicates`` pairs each duplicate
with the employer it duplicates; ``truth_enterprises`` is left as it was (the
enterprise's link is to the first record).

Off by default (``generate(duplicate_employers=0.0)``): the tables are then exactly
those of a generator without it. Everything drawn here comes from its own streams
(``child_rng(seed, "employers", "duplicates", ...)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.synthetic import _noise as N
from linkage.synthetic import _vdab
from linkage.synthetic._noise import NoiseModel
from linkage.synthetic._util import child_rng, unique_integers, zero_pad

DUPLICATE_COLUMNS = ("employer_id", "duplicate_id")


def duplicate_employers(
    seed: int,
    enterprises: pd.DataFrame,
    employers: pd.DataFrame,
    share: float,
    noise: NoiseModel,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The employers with ``share`` of the known ones duplicated, and the truth.

    Returns the employers (duplicates at random rows, ``_enterprise`` set) and a
    frame of ``employer_id`` (the original) and ``duplicate_id`` (its copy).
    """
    if share <= 0:
        return employers, pd.DataFrame({c: pd.Series(dtype=object) for c in DUPLICATE_COLUMNS})
    r = child_rng(seed, "employers", "duplicates", "select")
    origin = employers["_enterprise"].to_numpy()
    rows = np.flatnonzero((origin >= 0) & (r.random(len(employers)) < share))
    source = enterprises.iloc[origin[rows]].reset_index(drop=True)
    k = len(rows)

    def stream(part: str) -> np.random.Generator:
        return child_rng(seed, "employers", "duplicates", part)

    number = _vdab.noisy_numbers(
        stream("numbers"),
        source["enterprise_number"].to_numpy(dtype=object),
        missing=noise.number_missing,
        mistyped=noise.number_mistyped,
        transposed=noise.number_transposed,
        writer=N.write_enterprise_numbers,
        formats=noise.number_formats,
    )
    name = _vdab.noisy_names(
        stream("names"),
        source["name"].to_numpy(dtype=object),
        source["legal_form"].to_numpy(dtype=object),
        None,
        noise,
    )
    address = _vdab.noisy_addresses(
        stream("address"),
        {c: source[c].to_numpy(dtype=object) for c in _vdab._ADDRESS},
        noise,
    )
    contact = stream("contact")
    postcode = source["_postcode"].to_numpy(dtype=np.int64)
    copies = pd.DataFrame(
        {
            "enterprise_number": number,
            "name": name,
            **address,
            "phone": _vdab.noisy_phones(
                contact, source["phone"].to_numpy(dtype=object), postcode, noise
            ),
            "email": _vdab.noisy_emails(contact, source["email"].to_numpy(dtype=object), noise),
            "website": _vdab.noisy_websites(
                contact, source["website"].to_numpy(dtype=object), noise
            ),
            "_enterprise": origin[rows],
            "_postcode": postcode,
        }
    )
    ids = stream("ids")
    taken = employers["employer_id"].str.slice(1).astype(np.int64).to_numpy()
    fresh = unique_integers(ids, 10_000_000, 100_000_000, k, exclude=taken)
    copies.insert(0, "employer_id", "W" + zero_pad(fresh, 8).astype(object))
    both = pd.concat([employers, copies[employers.columns]], ignore_index=True)
    both = both.iloc[ids.permutation(len(both))].reset_index(drop=True)
    truth = pd.DataFrame(
        {
            "employer_id": employers["employer_id"].to_numpy(dtype=object)[rows],
            "duplicate_id": copies["employer_id"].to_numpy(dtype=object),
        }
    ).sort_values("employer_id", ignore_index=True)
    return both, truth
