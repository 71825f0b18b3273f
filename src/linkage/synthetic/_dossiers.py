"""The VLAIO/TBT side, Gegeven 1 and 3: dossiers (request tracks), the enterprise's
contact persons per dossier, and VLAIO/TBT staff."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.synthetic import _pools as P
from linkage.synthetic._util import (
    as_datetime,
    child_rng,
    choose,
    local_part,
    phone_numbers,
    random_days,
    unique_integers,
    with_missing,
    zero_pad,
)

STAFF_COLUMNS = (
    "staff_id",
    "first_name",
    "last_name",
    "function",
    "service",
    "department",
    "email",
    "phone",
    "party",
)
DOSSIER_COLUMNS = (
    "dossier_id",
    "enterprise_number",
    "party",
    "title",
    "status",
    "themes",
    "service_id",
    "service_name",
    "service_description",
    "staff_ids",
    "granted_amount",
    "paid_amount",
    "start_date",
    "contact_date",
    "decision_date",
    "crm_reference",
)
CONTACT_COLUMNS = (
    "contact_id",
    "dossier_id",
    "enterprise_number",
    "first_name",
    "last_name",
    "function",
    "service",
    "department",
    "email",
    "phone",
    "party",
)

_FIRST = P.objects(P.FIRST_NAMES)
_SURNAMES, _SURNAMES_P = P.surname_pool()
# typical grant size in euro, per service (0: not a grant)
_GRANT_SCALE = {
    "KMO-portefeuille": 3_000,
    "Innovatieproject": 150_000,
    "Ontwikkelingsproject": 250_000,
    "Strategische investeringssteun": 600_000,
    "Strategische transformatiesteun": 400_000,
    "Kmo-groeisubsidie": 25_000,
    "Haalbaarheidsstudie": 40_000,
    "Ecologiepremie+": 30_000,
}


def staff(seed: int, n: int = 450) -> pd.DataFrame:
    """VLAIO and TBT staff (Gegeven 3), about three in four at VLAIO."""
    r = child_rng(seed, "staff", "people")
    first = choose(r, _FIRST, n, None)
    last = choose(r, _SURNAMES, n, _SURNAMES_P)
    party = np.where(r.random(n) < 0.25, "TBT", "VLAIO").astype(object)
    functions, function_p = P.objects(f for f, _ in P.STAFF_FUNCTIONS), P.weights(P.STAFF_FUNCTIONS)
    function = choose(r, functions, n, function_p)
    service = choose(r, P.objects(P.STAFF_SERVICES), n, None)
    vlaio_dept = choose(r, P.objects(P.STAFF_DEPARTMENTS["VLAIO"]), n, None)
    tbt_dept = choose(r, P.objects(P.STAFF_DEPARTMENTS["TBT"]), n, None)
    department = np.where(party == "TBT", tbt_dept, vlaio_dept)
    local = pd.Series(local_part(first + " " + last))
    repeat = local.groupby(local).cumcount().to_numpy()
    local = local.to_numpy(dtype=object) + np.where(repeat > 0, repeat.astype(str), "").astype(
        object
    )
    phone = "+322553" + zero_pad(unique_integers(r, 0, 10_000, n), 4).astype(object)
    return pd.DataFrame(
        {
            "staff_id": "S" + zero_pad(np.arange(1, n + 1), 4).astype(object),
            "first_name": first,
            "last_name": last,
            "function": function,
            "service": service,
            "department": department,
            "email": local + "@vlaio.be",
            "phone": phone,
            "party": party,
        }
    )


def dossiers(seed: int, enterprises: pd.DataFrame, staff_: pd.DataFrame) -> pd.DataFrame:
    """One or more dossiers per enterprise (Gegeven 1), most by the enterprise's party."""
    n_ent = len(enterprises)
    r = child_rng(seed, "dossiers", "counts")
    counts = 1 + np.minimum(r.poisson(0.4, size=n_ent), 6)
    owner = np.repeat(np.arange(n_ent), counts)
    n = owner.size

    r = child_rng(seed, "dossiers", "service")
    services = P.SERVICES
    service_idx = r.choice(len(services), size=n, p=P.weights(services))
    names = P.objects(s[0] for s in services)
    descriptions = P.objects(s[1] for s in services)
    scale = np.array([_GRANT_SCALE.get(s[0], 0) for s in services], dtype=np.float64)[service_idx]
    statuses, status_p = P.objects(s for s, _ in P.DOSSIER_STATUSES), P.weights(P.DOSSIER_STATUSES)
    status = choose(r, statuses, n, status_p)

    r = child_rng(seed, "dossiers", "dates")
    start = random_days(r, "2015-01-01", "2025-10-31", n, recent=1.0)
    contact = start + r.integers(0, 60, size=n).astype("timedelta64[D]")
    decided = np.isin(status, ["Goedgekeurd", "Afgewezen", "Afgesloten"])
    decision = start + r.integers(20, 200, size=n).astype("timedelta64[D]")
    year = start.astype("datetime64[Y]").astype(np.int64) + 1970

    r = child_rng(seed, "dossiers", "amounts")
    granted_ok = (scale > 0) & np.isin(status, ["Goedgekeurd", "Afgesloten"])
    granted = np.round(scale * r.lognormal(0.0, 0.6, size=n), -1)
    share = np.where(
        status == "Afgesloten",
        r.uniform(0.6, 1.0, size=n),
        r.uniform(0.0, 0.5, size=n) * (r.random(n) < 0.5),
    )
    paid = np.round(granted * share, 2)
    granted = np.where(granted_ok, granted, np.nan)
    paid = np.where(granted_ok, paid, np.nan)

    r = child_rng(seed, "dossiers", "themes")
    themes = P.objects(P.THEMES)
    t = len(themes)
    t1 = r.integers(0, t, size=n)
    t2 = (t1 + r.integers(1, t // 2, size=n)) % t
    t3 = (t1 + r.integers(t // 2, t, size=n)) % t
    k = r.choice(3, size=n, p=[0.5, 0.35, 0.15])
    theme = (
        themes[t1]
        + np.where(k >= 1, "; " + themes[t2], "")
        + np.where(k >= 2, "; " + themes[t3], "")
    )

    r = child_rng(seed, "dossiers", "staff")
    staff_ids = staff_["staff_id"].to_numpy(dtype=object)
    lead = choose(r, staff_ids, n, None)
    second = choose(r, staff_ids, n, None)
    two = (r.random(n) < 0.3) & (second != lead)
    staff_ref = np.where(two, lead + ";" + second, lead)

    r = child_rng(seed, "dossiers", "ids")
    party = enterprises["party"].to_numpy(dtype=object)[owner]
    other = np.where(party == "VLAIO", "TBT", "VLAIO").astype(object)
    party = np.where(r.random(n) < 0.15, other, party)
    dossier_id = "DOS" + zero_pad(unique_integers(r, 0, 100_000_000, n), 8).astype(object)
    crm = "CRM-" + zero_pad(unique_integers(r, 0, 100_000_000, n), 8).astype(object)
    frame = pd.DataFrame(
        {
            "dossier_id": dossier_id,
            "enterprise_number": enterprises["enterprise_number"].to_numpy(dtype=object)[owner],
            "party": party,
            "title": names[service_idx] + " " + year.astype(str).astype(object),
            "status": status,
            "themes": theme,
            "service_id": "SVC" + zero_pad(service_idx + 1, 3).astype(object),
            "service_name": names[service_idx],
            "service_description": descriptions[service_idx],
            "staff_ids": staff_ref,
            "granted_amount": granted,
            "paid_amount": paid,
            "start_date": as_datetime(start),
            "contact_date": as_datetime(contact),
            "decision_date": as_datetime(decision, decided),
            "crm_reference": crm,
        }
    )
    frame["_enterprise"] = owner
    return frame


def contacts(seed: int, enterprises: pd.DataFrame, dossiers_: pd.DataFrame) -> pd.DataFrame:
    """The enterprise's contact persons per dossier: one, sometimes two. For a sole
    proprietorship the first contact is usually the person themself."""
    r = child_rng(seed, "contacts", "counts")
    per = 1 + (r.random(len(dossiers_)) < 0.25)
    dossier = np.repeat(np.arange(len(dossiers_)), per)
    n = dossier.size
    first_of = np.r_[True, dossier[1:] != dossier[:-1]]
    owner = dossiers_["_enterprise"].to_numpy()[dossier]
    ent = {
        c: enterprises[c].to_numpy(dtype=object)[owner]
        for c in ("entity_type", "manager_first_name", "manager_last_name", "website")
    }
    natural = ent["entity_type"] == "natural_person"
    r = child_rng(seed, "contacts", "people")
    self_ = natural & first_of & (r.random(n) < 0.8)
    first = np.where(self_, ent["manager_first_name"], choose(r, _FIRST, n, None))
    last = np.where(self_, ent["manager_last_name"], choose(r, _SURNAMES, n, _SURNAMES_P))
    functions, function_p = (
        P.objects(f for f, _ in P.CONTACT_FUNCTIONS),
        P.weights(P.CONTACT_FUNCTIONS),
    )
    function = np.where(self_, "Zaakvoerder", choose(r, functions, n, function_p))
    department = choose(r, P.objects(P.CONTACT_DEPARTMENTS), n, None)
    service = with_missing(department, r.random(n) < 0.6)
    department = with_missing(department, r.random(n) < 0.3)

    r = child_rng(seed, "contacts", "reach")
    website = ent["website"]
    domain = pd.Series(website).str.replace(r"^www\.", "", regex=True).to_numpy(dtype=object)
    provider = choose(r, P.objects(p for p, _ in P.MAIL_PROVIDERS), n, P.weights(P.MAIL_PROVIDERS))
    at = np.where(pd.notna(domain), domain, provider)
    email = with_missing(local_part(first + " " + last) + "@" + at, r.random(n) < 0.1)
    postcode = enterprises["_postcode"].to_numpy()[owner]
    phone = with_missing(phone_numbers(r, postcode, r.random(n) < 0.7), r.random(n) < 0.2)
    return pd.DataFrame(
        {
            "contact_id": "C" + zero_pad(unique_integers(r, 0, 1_000_000_000, n), 9).astype(object),
            "dossier_id": dossiers_["dossier_id"].to_numpy(dtype=object)[dossier],
            "enterprise_number": dossiers_["enterprise_number"].to_numpy(dtype=object)[dossier],
            "first_name": first,
            "last_name": last,
            "function": function,
            "service": service,
            "department": department,
            "email": email,
            "phone": phone,
            "party": dossiers_["party"].to_numpy(dtype=object)[dossier],
        }
    )
