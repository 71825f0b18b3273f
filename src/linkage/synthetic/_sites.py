"""VDAB's employer sites: noisy copies of the linked employers' establishment units,
extra sites VLAIO does not list, and the sites of employers VLAIO does not know."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.synthetic import _noise as N
from linkage.synthetic._enterprises import addresses
from linkage.synthetic._noise import NoiseModel
from linkage.synthetic._util import (
    child_rng,
    numbers_from_bases,
    phone_numbers,
    unique_integers,
    with_missing,
    zero_pad,
)
from linkage.synthetic._vdab import (
    _ADDRESS,
    _col,
    noisy_addresses,
    noisy_names,
    noisy_numbers,
    noisy_phones,
)


def sites(
    seed: int,
    enterprises: pd.DataFrame,
    units: pd.DataFrame,
    employers: pd.DataFrame,
    linked: NDArray[np.intp],
    employer_row: NDArray[np.intp],
    noise: NoiseModel,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sites table and the establishment truth (unit number <-> site id)."""
    n_ent = len(enterprises)
    employer_of = np.full(n_ent, -1, dtype=np.intp)
    employer_of[linked] = employer_row
    r = child_rng(seed, "sites", "select")
    unit_employer = employer_of[units["_enterprise"].to_numpy()]
    kept = np.flatnonzero((unit_employer >= 0) & (r.random(len(units)) < noise.site_coverage))
    n_kept = kept.size

    # extra sites: of known employers (not in VLAIO's list), and of unknown employers
    n_extra = round(n_kept * noise.extra_site_share)
    extra_employer = (
        r.choice(employer_row, size=n_extra) if employer_row.size else np.empty(0, np.intp)
    )
    unknown_rows = np.flatnonzero(employers["_enterprise"].to_numpy() < 0)
    unknown_rows = unknown_rows[r.random(unknown_rows.size) < 0.9]
    n_new = n_extra + unknown_rows.size
    r = child_rng(seed, "sites", "extra")
    fresh = addresses(r, n_extra)
    known_units = units["establishment_number"].str.slice(0, 8).astype(np.int64).to_numpy()
    new_numbers = N.write_unit_numbers(
        r,
        numbers_from_bases(unique_integers(r, 20_000_000, 23_500_000, n_new, exclude=known_units)),
        noise.unit_number_formats,
    )
    new_numbers = with_missing(new_numbers, r.random(n_new) < 0.5)
    new_employer = np.concatenate([extra_employer, unknown_rows]).astype(np.intp)
    new_address = {
        k: np.concatenate([fresh[k], _col(employers, k)[unknown_rows]]) for k in _ADDRESS
    }
    new_postcode = np.concatenate(
        [fresh["_postcode"], employers["_postcode"].to_numpy()[unknown_rows]]
    )

    # copies of VLAIO's units
    r = child_rng(seed, "sites", "numbers")
    number = noisy_numbers(
        r,
        _col(units, "establishment_number")[kept],
        missing=noise.unit_number_missing,
        mistyped=noise.unit_number_mistyped,
        transposed=noise.unit_number_transposed,
        writer=N.write_unit_numbers,
        formats=noise.unit_number_formats,
    )
    no_form = np.full(n_kept, None, dtype=object)
    name = noisy_names(
        child_rng(seed, "sites", "names"), _col(units, "name")[kept], no_form, None, noise
    )
    address = noisy_addresses(
        child_rng(seed, "sites", "address"), {k: _col(units, k)[kept] for k in _ADDRESS}, noise
    )
    r = child_rng(seed, "sites", "phone")
    postcode = units["_postcode"].to_numpy()[kept]
    own = _col(enterprises, "phone")[units["_enterprise"].to_numpy()[kept]]
    local = phone_numbers(r, postcode, np.zeros(n_kept, dtype=bool))
    phone = noisy_phones(r, np.where(r.random(n_kept) < 0.5, own, local), postcode, noise)
    new_phone = noisy_phones(
        r, phone_numbers(r, new_postcode, np.zeros(n_new, dtype=bool)), new_postcode, noise
    )

    r = child_rng(seed, "sites", "ids")
    total = n_kept + n_new
    order = r.permutation(total)
    ids = "V" + zero_pad(unique_integers(r, 100_000_000, 1_000_000_000, total), 9).astype(object)
    employer_ids = _col(employers, "employer_id")
    frame = pd.DataFrame(
        {
            "site_id": ids,
            "employer_id": np.concatenate(
                [employer_ids[unit_employer[kept]], employer_ids[new_employer]]
            )[order],
            "establishment_number": np.concatenate([number, new_numbers])[order],
            "name": np.concatenate([name, _col(employers, "name")[new_employer]])[order],
            **{k: np.concatenate([address[k], new_address[k]])[order] for k in _ADDRESS},
            "phone": np.concatenate([phone, new_phone])[order],
        }
    )
    row_of = np.empty(total, dtype=np.intp)
    row_of[order] = np.arange(total)
    truth = pd.DataFrame(
        {
            "establishment_number": _col(units, "establishment_number")[kept],
            "site_id": ids[row_of[:n_kept]],
        }
    ).sort_values("establishment_number", ignore_index=True)
    return frame, truth
