"""VDAB's side: employer and employer-site records, noisy copies of a subset of the
enterprises and units, plus employers and sites VLAIO does not know; and the truth.

Row order and VDAB's ids are random, so neither says which enterprise a record
copies: only the truth tables do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.synthetic import _noise as N
from linkage.synthetic._enterprises import addresses, companies
from linkage.synthetic._noise import NoiseModel
from linkage.synthetic._util import (
    child_rng,
    digits_to_str,
    phone_numbers,
    str_to_digits,
    unique_integers,
    with_missing,
    zero_pad,
)

EMPLOYER_COLUMNS = (
    "employer_id",
    "enterprise_number",
    "name",
    "street",
    "house_number",
    "box",
    "postcode",
    "municipality",
    "phone",
    "email",
    "website",
)
SITE_COLUMNS = (
    "site_id",
    "employer_id",
    "establishment_number",
    "name",
    "street",
    "house_number",
    "box",
    "postcode",
    "municipality",
    "phone",
)
_ADDRESS = ("street", "house_number", "box", "postcode", "municipality")
# how likely VDAB knows an enterprise as employer, before scaling to the coverage
_SIZE_WEIGHT = {"micro": 0.75, "small": 0.92, "medium": 0.97, "large": 0.99}


def _col(frame: pd.DataFrame, name: str) -> NDArray[np.object_]:
    return frame[name].to_numpy(dtype=object)


# --------------------------------------------------------------------------- fields


def noisy_numbers(
    rng: np.random.Generator,
    numbers: NDArray[np.object_],
    *,
    missing: float,
    mistyped: float,
    transposed: float,
    other: float = 0.0,
    others: NDArray[np.object_] | None = None,
    writer,
    formats: tuple[float, ...],
) -> NDArray[np.object_]:
    """Canonical numbers with the errors of one record each (exclusive), then written
    in VDAB's formats. ``others`` supplies the wrong-but-valid numbers."""
    n = len(numbers)
    u = rng.random(n)
    is_missing = u < missing
    is_typo = (u >= missing) & (u < missing + mistyped)
    is_swap = (u >= missing + mistyped) & (u < missing + mistyped + transposed)
    is_other = (u >= missing + mistyped + transposed) & (
        u < missing + mistyped + transposed + other
    )
    digits = str_to_digits(np.asarray(numbers, dtype="U10"), 10)
    digits = np.where(is_typo[:, None], N.mistype(rng, digits), digits)
    digits = np.where(is_swap[:, None], N.transpose(rng, digits), digits)
    out = digits_to_str(digits).astype(object)
    if others is not None and is_other.any():
        pick = rng.integers(0, len(others), size=int(is_other.sum()))
        replacement = others[pick]
        same = replacement == out[is_other]
        replacement[same] = others[(pick[same] + 1) % len(others)]
        out[is_other] = replacement
    out = writer(rng, out.astype("U10"), formats)
    return with_missing(out, is_missing)


def noisy_names(
    rng: np.random.Generator,
    names: NDArray[np.object_],
    forms: NDArray[np.object_],
    trade_names: NDArray[np.object_] | None,
    noise: NoiseModel,
) -> NDArray[np.object_]:
    """Trade name, legal form dropped/changed/added, word swap, abbreviation, typo,
    capitals: in that order, each on its own random subset."""
    n = len(names)
    out = np.asarray(names, dtype=object).copy()
    if trade_names is not None:
        use = N.mask(rng, noise.name_trade_name, n, N.present(trade_names))
        out[use] = trade_names[use]
    has_form = N.ends_with(out, forms)
    u = rng.random(n)
    drop = has_form & (u < noise.name_legal_form_dropped)
    change = has_form & ~drop & (u < noise.name_legal_form_dropped + noise.name_legal_form_changed)
    stripped = out.copy()
    rows = np.flatnonzero(drop | change)
    if rows.size:
        stripped[rows] = N.strip_suffix(out[rows], forms[rows])
    out[drop] = stripped[drop]
    if change.any():
        out[change] = stripped[change] + " " + N.legal_form_variant(forms[change])
    add = N.mask(rng, noise.name_legal_form_added, n, ~has_form & N.present(forms))
    out[add] = out[add] + " " + forms[add]
    for rate, fn in (
        (noise.name_word_swap, N.swap_first_words),
        (noise.name_abbreviation, N.abbreviate_first_word),
    ):  # a loop over kinds of error, not records
        hit = N.mask(rng, rate, n)
        if hit.any():
            out[hit] = fn(out[hit])
    hit = N.mask(rng, noise.name_typo, n)
    out[hit] = N.typo(rng, out[hit])
    hit = N.mask(rng, noise.name_uppercase, n)
    if hit.any():
        out[hit] = pd.Series(out[hit], dtype=object).str.upper().to_numpy(dtype=object)
    return out


def noisy_addresses(
    rng: np.random.Generator, address: dict[str, NDArray[np.object_]], noise: NoiseModel
) -> dict[str, NDArray[np.object_]]:
    """Moved addresses, street abbreviations and typos, house number and box variants,
    the whole line in ``street``, missing postcodes, municipality variants."""
    n = len(address["street"])
    out = {k: np.asarray(address[k], dtype=object).copy() for k in _ADDRESS}
    moved = N.mask(rng, noise.address_moved, n)
    if moved.any():
        new = addresses(rng, int(moved.sum()))
        for k in _ADDRESS:
            out[k][moved] = new[k]
    hit = N.mask(rng, noise.street_abbreviation, n)
    if hit.any():
        out["street"][hit] = N.abbreviate_streets(out["street"][hit])
    hit = N.mask(rng, noise.street_typo, n)
    out["street"][hit] = N.typo(rng, out["street"][hit])

    house, box = out["house_number"], out["box"]
    has_box = N.present(box)
    hit = N.mask(rng, noise.house_number_variant, n, N.present(house))
    style = rng.integers(0, 4, size=n)
    # The variants are written for the rows drawn only (every draw stays as it was).
    rows = np.flatnonzero(hit)
    number = house[rows]
    num = pd.to_numeric(pd.Series(number), errors="coerce").fillna(0).astype(np.int64).to_numpy()
    box_text = np.where(has_box[rows], box[rows], "1").astype(object)
    variants = [
        number + "-" + (num + 2).astype(str).astype(object),  # a range
        number + " bus " + box_text,  # box written into the number
        number + "/" + box_text,
        "nr " + number,
    ]
    into_number = hit & ((style == 1) | (style == 2))
    house = house.copy()
    house[rows] = np.choose(style[rows], variants)
    box = with_missing(box, into_number)

    hit = N.mask(rng, noise.box_variant, n, N.present(box) & ~into_number)
    style = rng.integers(0, 5, size=n)
    rows = np.flatnonzero(hit)
    filled = box[rows].astype(object)
    box_variants = [
        "bus " + filled,
        "b" + filled,
        "/" + filled,
        pd.Series(filled, dtype=object).str.zfill(4).to_numpy(dtype=object),
        np.full(len(rows), None, dtype=object),
    ]
    box = box.copy()
    box[rows] = np.choose(style[rows], box_variants)

    line = N.mask(rng, noise.address_in_street, n, N.present(out["street"]))
    if line.any():
        text = out["street"][line] + " " + np.where(N.present(house[line]), house[line], "")
        text = text + np.where(
            N.present(box[line]), " bus " + np.where(N.present(box[line]), box[line], ""), ""
        )
        out["street"][line] = pd.Series(text).str.strip().to_numpy(dtype=object)
        house = with_missing(house, line)
        box = with_missing(box, line)
    out["house_number"], out["box"] = house, box

    out["postcode"] = with_missing(out["postcode"], N.mask(rng, noise.postcode_missing, n))
    hit = N.mask(rng, noise.municipality_variant, n, N.present(out["municipality"]))
    upper = rng.random(n) < 0.7
    caps = pd.Series(out["municipality"]).str.upper().to_numpy(dtype=object)
    out["municipality"] = np.where(hit & upper, caps, with_missing(out["municipality"], hit))
    return out


def noisy_phones(
    rng: np.random.Generator,
    phones: NDArray[np.object_],
    postcodes: NDArray[np.int64],
    noise: NoiseModel,
) -> NDArray[np.object_]:
    n = len(phones)
    out = np.asarray(phones, dtype=object).copy()
    has = N.present(out)
    changed = N.mask(rng, noise.phone_changed, n, has)
    out[changed] = phone_numbers(rng, postcodes[changed], np.zeros(int(changed.sum()), dtype=bool))
    has = has & ~N.mask(rng, noise.phone_missing, n)
    rows = np.flatnonzero(has)
    result = np.full(n, None, dtype=object)
    result[rows] = N.write_phones(rng, out[rows], noise.phone_formats)
    return result


def noisy_emails(
    rng: np.random.Generator, emails: NDArray[np.object_], noise: NoiseModel
) -> NDArray[np.object_]:
    n = len(emails)
    out = np.asarray(emails, dtype=object).copy()
    has = N.present(out)
    changed = N.mask(rng, noise.email_changed, n, has)
    if changed.any():
        local = rng.choice(
            np.array(["hr@", "jobs@", "contact@", "admin@"], dtype=object), size=int(changed.sum())
        )
        out[changed] = local + pd.Series(out[changed]).str.replace(
            r"^[^@]*@", "", regex=True
        ).to_numpy(dtype=object)
    upper = N.mask(rng, noise.email_uppercase, n, has)
    if upper.any():
        out[upper] = pd.Series(out[upper]).str.upper().to_numpy(dtype=object)
    return with_missing(out, N.mask(rng, noise.email_missing, n))


def noisy_websites(
    rng: np.random.Generator, sites: NDArray[np.object_], noise: NoiseModel
) -> NDArray[np.object_]:
    out = N.write_websites(rng, sites, noise.website_formats)
    return with_missing(out, N.mask(rng, noise.website_missing, len(out)))


# --------------------------------------------------------------------------- tables


def employers(
    seed: int, enterprises: pd.DataFrame, units: pd.DataFrame, noise: NoiseModel
) -> tuple[pd.DataFrame, pd.DataFrame, NDArray[np.intp], NDArray[np.intp]]:
    """Employer records and the enterprise truth.

    Returns the employers (with private ``_enterprise``, the row of the copied
    enterprise or -1, and ``_postcode``), the truth table, the rows of the linked
    enterprises and the employer row of each linked enterprise.
    """
    n = len(enterprises)
    r = child_rng(seed, "employers", "select")
    natural = _col(enterprises, "entity_type") == "natural_person"
    weight = np.where(
        natural,
        0.55,
        pd.Series(_col(enterprises, "size_class")).map(_SIZE_WEIGHT).to_numpy(dtype=np.float64),
    )
    p = np.clip(weight * noise.employer_coverage / weight.mean(), 0.0, 1.0)
    linked = np.flatnonzero(r.random(n) < p)
    n_unknown = round(
        linked.size * noise.unknown_employer_share / (1 - noise.unknown_employer_share)
    )
    known_bases = enterprises["enterprise_number"].str.slice(0, 8).astype(np.int64).to_numpy()
    unknown = companies(
        lambda part: child_rng(seed, "employers", "unknown", part), n_unknown, exclude=known_bases
    )
    source = pd.concat([enterprises.iloc[linked], unknown], ignore_index=True)
    origin = np.concatenate([linked, np.full(n_unknown, -1)])
    m = len(source)

    # the main unit's name stands in for a trade name
    main = units.drop_duplicates("_enterprise")
    trade = pd.Series(_col(main, "name"), index=main["_enterprise"].to_numpy())
    trade_names = trade.reindex(origin).to_numpy(dtype=object)

    r = child_rng(seed, "employers", "numbers")
    number = noisy_numbers(
        r,
        _col(source, "enterprise_number"),
        missing=noise.number_missing,
        mistyped=noise.number_mistyped,
        transposed=noise.number_transposed,
        other=noise.number_other,
        others=_col(enterprises, "enterprise_number"),
        writer=N.write_enterprise_numbers,
        formats=noise.number_formats,
    )
    name = noisy_names(
        child_rng(seed, "employers", "names"),
        _col(source, "name"),
        _col(source, "legal_form"),
        trade_names,
        noise,
    )
    address = noisy_addresses(
        child_rng(seed, "employers", "address"), {k: _col(source, k) for k in _ADDRESS}, noise
    )
    r = child_rng(seed, "employers", "contact")
    postcode = source["_postcode"].to_numpy(dtype=np.int64)
    phone = noisy_phones(r, _col(source, "phone"), postcode, noise)
    email = noisy_emails(r, _col(source, "email"), noise)
    website = noisy_websites(r, _col(source, "website"), noise)

    r = child_rng(seed, "employers", "ids")
    order = r.permutation(m)
    ids = "W" + zero_pad(unique_integers(r, 10_000_000, 100_000_000, m), 8).astype(object)
    frame = pd.DataFrame(
        {
            "employer_id": ids,
            "enterprise_number": number[order],
            "name": name[order],
            **{k: address[k][order] for k in _ADDRESS},
            "phone": phone[order],
            "email": email[order],
            "website": website[order],
            "_enterprise": origin[order],
            "_postcode": postcode[order],
        }
    )
    row_of = np.empty(m, dtype=np.intp)
    row_of[order] = np.arange(m)  # employer row of each source row
    employer_row = row_of[: linked.size]
    truth = pd.DataFrame(
        {
            "enterprise_number": _col(enterprises, "enterprise_number")[linked],
            "employer_id": ids[employer_row],
        }
    ).sort_values("enterprise_number", ignore_index=True)
    return frame, truth, linked, employer_row
