"""The VLAIO/TBT side (Gegeven 2): enterprises and their establishment units.

Also used for the employers VDAB knows and VLAIO does not: they are drawn by the
same :func:`companies`, with numbers outside VLAIO's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.synthetic import _pools as P
from linkage.synthetic._util import (
    as_datetime,
    child_rng,
    choose,
    local_part,
    numbers_from_bases,
    phone_numbers,
    random_days,
    slug,
    unique_integers,
    with_missing,
)

SOLE_PROPRIETOR_SHARE = 0.41  # "ruim 485.000 ondernemingen, waarvan net geen 200.000 eenmanszaken"
ENTERPRISES_PER_CHAIN = 20_000  # one chain (hundreds of units, one name) per 20,000 enterprises

ENTERPRISE_COLUMNS = (
    "enterprise_number",
    "name",
    "entity_type",
    "legal_form",
    "legal_situation",
    "status",
    "start_date",
    "manager_first_name",
    "manager_last_name",
    "manager_function",
    "website",
    "email",
    "phone",
    "street",
    "house_number",
    "box",
    "postcode",
    "municipality",
    "nace_code",
    "activity",
    "size_class",
    "size_class_date",
    "in_difficulty",
    "in_difficulty_date",
    "party",
)
ESTABLISHMENT_COLUMNS = (
    "establishment_number",
    "enterprise_number",
    "name",
    "street",
    "house_number",
    "box",
    "postcode",
    "municipality",
    "party",
)

_MUNI_CODES = np.array([m[0] for m in P.MUNICIPALITIES], dtype=np.int64)
_MUNI_NAMES = P.objects(m[1] for m in P.MUNICIPALITIES)
_MUNI_P = P.weights(P.MUNICIPALITIES)
_STREETS, _STREETS_P = P.street_pool()
_SURNAMES, _SURNAMES_P = P.surname_pool()
_FIRST = P.objects(P.FIRST_NAMES)
_FIRST_P = P.zipf(len(P.FIRST_NAMES), 0.4)
_SECTOR_WORDS = P.objects(s[0] for s in P.SECTORS)
_SECTOR_NACE = P.objects(s[1] for s in P.SECTORS)
_SECTOR_P = P.weights(P.SECTORS)
_FORMS = P.objects(f[0] for f in P.LEGAL_FORMS)
_FORMS_P = P.weights(P.LEGAL_FORMS)
_NACE_TEXT = P.NACE


def _draw(pairs: tuple[tuple[str, float], ...]) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    return P.objects(p[0] for p in pairs), P.weights(pairs)


def brands(rng: np.random.Generator, size: int) -> NDArray[np.object_]:
    """Invented brand tokens (``Vandex``, ``Protecnova``)."""
    pre = choose(rng, P.objects(P.BRAND_PREFIXES), size, None)
    mid = choose(rng, P.objects(P.BRAND_MIDDLES), size, None)
    suf = choose(rng, P.objects(P.BRAND_SUFFIXES), size, None)
    return pre + mid + suf


def addresses(rng: np.random.Generator, size: int) -> dict[str, NDArray[Any]]:
    """Flemish addresses: street, house number, box (mostly missing), postcode, town."""
    town = rng.choice(len(_MUNI_CODES), size=size, p=_MUNI_P)
    street = choose(rng, _STREETS, size, _STREETS_P)
    number = np.minimum(1 + rng.gamma(1.1, 30.0, size=size), 450).astype(np.int64)
    house = number.astype(str).astype(object)
    suffix = rng.random(size) < 0.04
    house[suffix] = house[suffix] + choose(rng, P.objects("ABCD"), int(suffix.sum()), None)
    kind = rng.choice(4, size=size, p=[0.85, 0.09, 0.04, 0.02])  # none, 1-20, 0101, letter
    small = rng.integers(1, 21, size=size).astype(str).astype(object)
    floor = rng.integers(0, 6, size=size) * 100 + rng.integers(1, 10, size=size)
    # np.char.zfill refuses an empty array (numpy 2): no floors, no codes.
    floor_code = (np.char.zfill(floor.astype(str), 4) if size else floor.astype(str)).astype(object)
    letter = choose(rng, P.objects("ABC"), size, None)
    box = np.choose(kind, [np.full(size, None, dtype=object), small, floor_code, letter])
    return {
        "street": street,
        "house_number": house,
        "box": box,
        "postcode": _MUNI_CODES[town].astype(str).astype(object),
        "municipality": _MUNI_NAMES[town],
        "_postcode": _MUNI_CODES[town],
    }


def companies(
    rng: Callable[[str], np.random.Generator],
    n: int,
    *,
    exclude: NDArray[np.int64] | None = None,
    sole_share: float = SOLE_PROPRIETOR_SHARE,
) -> pd.DataFrame:
    """``n`` enterprises with every column of :data:`ENTERPRISE_COLUMNS`, plus the
    private columns ``_base_name`` (name without legal form), ``_sector`` and
    ``_postcode`` (int). ``rng(part)`` gives the generator of each part."""
    bases = unique_integers(rng("numbers"), 2_000_000, 10_300_000, n, exclude=exclude)
    number = numbers_from_bases(bases).astype(object)

    r = rng("entity")
    natural = np.zeros(n, dtype=bool)
    natural[r.permutation(n)[: round(n * sole_share)]] = True
    legal = ~natural

    r = rng("people")
    last = choose(r, _SURNAMES, n, _SURNAMES_P)
    first = choose(r, _FIRST, n, _FIRST_P)
    other_last = choose(r, _SURNAMES, n, _SURNAMES_P)

    r = rng("activity")
    sector_idx = r.choice(len(_SECTOR_WORDS), size=n, p=_SECTOR_P)
    sector = _SECTOR_WORDS[sector_idx]
    nace = _SECTOR_NACE[sector_idx].copy()
    form = choose(r, _FORMS, n, _FORMS_P)
    form[natural] = None
    nace[(form == "VZW") & (r.random(n) < 0.6)] = "94.99"

    r = rng("names")
    brand = brands(r, n)
    word = choose(r, P.objects(P.BRAND_WORDS), n, None)
    natural_kind = r.choice(3, size=n, p=[0.5, 0.4, 0.1])
    legal_kind = r.choice(6, size=n, p=[0.35, 0.2, 0.2, 0.1, 0.1, 0.05])
    natural_name = np.choose(
        natural_kind, [first + " " + last, sector + " " + last, sector + " " + first]
    )
    legal_name = np.choose(
        legal_kind,
        [
            sector + " " + last,
            brand,
            brand + " " + word,
            last + " & " + other_last,
            last + " " + word,
            "Gebroeders " + last,
        ],
    )
    base = np.where(natural, natural_name, legal_name)
    with_form = legal & (r.random(n) < 0.6)
    name = base.copy()
    name[with_form] = base[with_form] + " " + form[with_form]

    r = rng("address")
    address = addresses(r, n)

    r = rng("status")
    start = random_days(r, "1950-01-01", "2025-10-31", n, recent=2.5)
    natural_start = random_days(r, "1980-01-01", "2025-10-31", n, recent=1.5)
    start = np.where(natural, natural_start, start)
    stopped = r.random(n) < 0.04
    active_pool, active_p = _draw(P.LEGAL_SITUATIONS_ACTIVE)
    stopped_pool, stopped_p = _draw(P.LEGAL_SITUATIONS_STOPPED)
    situation = np.where(
        stopped, choose(r, stopped_pool, n, stopped_p), choose(r, active_pool, n, active_p)
    )
    status = np.where(stopped, "Stopgezet", "Actief").astype(object)

    r = rng("manager")
    boss_pool, boss_p = _draw(P.MANAGER_FUNCTIONS)
    owner_pool, owner_p = _draw(P.OWNER_FUNCTIONS)
    function = np.where(natural, choose(r, owner_pool, n, owner_p), choose(r, boss_pool, n, boss_p))
    manager_first = np.where(natural, first, choose(r, _FIRST, n, _FIRST_P))
    manager_last = np.where(natural, last, choose(r, _SURNAMES, n, _SURNAMES_P))

    r = rng("size")
    size_pool = P.objects(("micro", "small", "medium", "large"))
    size_class = np.where(
        natural,
        choose(r, size_pool, n, np.array([0.96, 0.04, 0.0, 0.0])),
        choose(r, size_pool, n, np.array([0.68, 0.22, 0.07, 0.03])),
    )
    size_date = random_days(r, "2018-01-01", "2025-10-31", n)
    assessed = r.random(n) < 0.30
    difficulty = assessed & (r.random(n) < 0.08)
    difficulty_date = random_days(r, "2020-01-01", "2025-10-31", n)

    r = rng("contact")
    domain = slug(base) + ".be"
    has_site = r.random(n) < np.where(natural, 0.20, 0.55)
    website = with_missing("www." + domain, ~has_site)
    provider_pool, provider_p = _draw(P.MAIL_PROVIDERS)
    provider = choose(r, provider_pool, n, provider_p)
    personal = local_part(manager_first + " " + manager_last) + "@" + provider
    company_mail = np.where(r.random(n) < 0.85, "info@", "contact@") + domain
    email = np.where(has_site & (r.random(n) < 0.9), company_mail, personal)
    email = with_missing(email, r.random(n) >= 0.75)
    mobile = r.random(n) < np.where(natural, 0.6, 0.2)
    phone = with_missing(phone_numbers(r, address["_postcode"], mobile), r.random(n) >= 0.8)

    party = np.where(rng("party").random(n) < 0.3, "TBT", "VLAIO").astype(object)
    return pd.DataFrame(
        {
            "enterprise_number": number,
            "name": name,
            "entity_type": np.where(natural, "natural_person", "legal_person").astype(object),
            "legal_form": form,
            "legal_situation": situation,
            "status": status,
            "start_date": as_datetime(start),
            "manager_first_name": manager_first,
            "manager_last_name": manager_last,
            "manager_function": function,
            "website": website,
            "email": email,
            "phone": phone,
            "street": address["street"],
            "house_number": address["house_number"],
            "box": address["box"],
            "postcode": address["postcode"],
            "municipality": address["municipality"],
            "nace_code": nace,
            "activity": pd.Series(nace).map(_NACE_TEXT).to_numpy(dtype=object),
            "size_class": size_class,
            "size_class_date": as_datetime(size_date),
            "in_difficulty": difficulty,
            "in_difficulty_date": as_datetime(difficulty_date, assessed),
            "party": party,
            "_base_name": base,
            "_sector": sector,
            "_last": last,
            "_postcode": address["_postcode"],
        }
    )


def enterprises(seed: int, n: int) -> pd.DataFrame:
    """VLAIO/TBT's enterprises, with a few chains among the legal persons.

    Returns the private columns of :func:`companies` too, plus ``_chain`` (bool).
    """
    frame = companies(lambda part: child_rng(seed, "enterprises", part), n)
    r = child_rng(seed, "enterprises", "chains")
    legal = np.flatnonzero(frame["entity_type"].to_numpy() == "legal_person")
    n_chains = min(max(1, round(n / ENTERPRISES_PER_CHAIN)), legal.size)
    chain = np.zeros(n, dtype=bool)
    chain[r.choice(legal, size=n_chains, replace=False)] = True
    base = (
        brands(r, n_chains)
        + " "
        + choose(
            r, P.objects(("Retail", "Group", "Food", "Services", "Market", "Shops")), n_chains, None
        )
    )
    frame.loc[chain, "_base_name"] = base
    frame.loc[chain, "name"] = base + " " + frame.loc[chain, "legal_form"].to_numpy(dtype=object)
    frame.loc[chain, "size_class"] = "large"
    frame["_chain"] = chain
    return frame


def establishments(seed: int, companies_: pd.DataFrame) -> pd.DataFrame:
    """Establishment units: most enterprises one, some a handful, chains hundreds.

    Returns :data:`ESTABLISHMENT_COLUMNS` plus ``_enterprise`` (row position of the
    enterprise) and ``_postcode``.
    """
    n = len(companies_)
    r = child_rng(seed, "establishments", "counts")
    natural = companies_["entity_type"].to_numpy() == "natural_person"
    chain = companies_["_chain"].to_numpy()
    kind = np.where(
        natural,
        r.choice(4, size=n, p=[0.03, 0.92, 0.05, 0.0]),
        r.choice(4, size=n, p=[0.10, 0.70, 0.17, 0.03]),
    )  # none, one, a few (2-5), many (6-30)
    few = np.minimum(1 + r.geometric(0.55, size=n), 5)
    many = np.minimum(5 + r.geometric(0.12, size=n), 30)
    counts = np.choose(kind, [np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), few, many])
    # hundreds of units at full scale; at most a fifth of the enterprises in small samples
    chain_size = np.minimum(40 + r.pareto(1.1, size=n) * 60, min(900, max(10, n // 5)))
    chain_size = chain_size.astype(np.int64)
    counts = np.where(chain, chain_size, counts)

    owner = np.repeat(np.arange(n), counts)
    total = owner.size
    first_row = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(total) - first_row
    number = numbers_from_bases(
        unique_integers(child_rng(seed, "establishments", "numbers"), 20_000_000, 23_500_000, total)
    ).astype(object)

    r = child_rng(seed, "establishments", "names")
    base = companies_["_base_name"].to_numpy(dtype=object)[owner]
    full = companies_["name"].to_numpy(dtype=object)[owner]
    sector = companies_["_sector"].to_numpy(dtype=object)[owner]
    last = companies_["_last"].to_numpy(dtype=object)[owner]
    own_natural = natural[owner]
    own_chain = chain[owner]
    commercial = np.where(own_natural, sector + " " + last, brands(r, total))
    style = r.choice(3, size=total, p=[0.5, 0.15, 0.35])  # base, full, commercial
    name = np.choose(style, [base, full, commercial])

    r = child_rng(seed, "establishments", "address")
    fresh = addresses(r, total)
    single = counts[owner] == 1
    at_office = (rank == 0) & (r.random(total) < np.where(single, 0.75, 0.5)) & ~own_chain
    columns = {}
    for col in ("street", "house_number", "box", "postcode", "municipality", "_postcode"):
        office = companies_[col].to_numpy()[owner]
        columns[col] = np.where(at_office, office, fresh[col])
    chain_town = (r.random(total) < 0.4) & own_chain
    name = np.where(
        chain_town, base + " " + columns["municipality"], np.where(own_chain, base, name)
    )

    return pd.DataFrame(
        {
            "establishment_number": number,
            "enterprise_number": companies_["enterprise_number"].to_numpy(dtype=object)[owner],
            "name": name,
            "street": columns["street"],
            "house_number": columns["house_number"],
            "box": columns["box"],
            "postcode": columns["postcode"],
            "municipality": columns["municipality"],
            "party": companies_["party"].to_numpy(dtype=object)[owner],
            "_enterprise": owner,
            "_postcode": columns["_postcode"].astype(np.int64),
        }
    )
