"""Data the synthetic generator does not make: hand-written records that now link.

Phone numbers outside the ranges ``phonenumbers`` knows as assigned, street types cut
short in ways no list held, and an address line typed in the street field. Each
planted pair shares nothing but such a phone and such an address (the names differ
altogether, the employer has no enterprise number), among a small synthetic exchange
that gives the model something to learn from.
"""

from __future__ import annotations

import pandas as pd
import pytest

import linkage
from linkage.normalise import normalise_phones
from linkage.prepare import prepare
from linkage.presets import enterprises
from linkage.synthetic import generate

# (enterprise: name, street, house number, phone; employer: the same)
PLANTED = [
    (("Peeters Brood NV", "Gabriëlstraat", "12", "03 907 37 57"),
     ("Het Bakkershuis", "Gabriëlst.", "12", "+32 3 907 37 57")),
    (("Maes Logistics BV", "Oude Kerkstraat", "7", "+3239073758"),
     ("Transport Oostkust", "Oude Kerkstr", "7", "03/907.37.58")),
    (("Janssens Elektro", "Stationsstraat", "88", "09 123 45 67"),
     ("Elektriciteit Zuid", "Stationsstr", "88", "0032 9 123 45 67")),
    (("Wouters Interieur", "Gentse Steenweg", "301", "0445 12 34 56"),
     ("Design Atelier", "Gentse stwg.", "301", "+32 445 12 34 56")),
    (("De Smet Optiek", "Grote Markt", "5", "04 100 12 34"),
     ("Brillen Centrum", "Gr. Markt", "5", "+32 4 100 12 34")),
    (("Claes Advocaten", "Avenue Louise", "480", "02 990 11 22"),
     ("Cabinet Juridique", "Av. Louise", "480", "+32 2 990 11 22")),
    (("Hermans Tuinen", "Dorpsstraat 44", None, "09 190 12 34"),  # line in the street
     ("Groen Service", "Dorpsstr", "44", "+32 (0)9 190 12 34")),
]  # fmt: skip
POSTCODES = ("2000", "8400", "9000", "9000", "3500", "1050", "8500")


@pytest.fixture(scope="module")
def planted():
    x = generate(n_enterprises=3_000, seed=11)
    left, right = x.enterprises.copy(), x.employers.copy()
    rows_l, rows_r = [], []
    for i, ((ln, ls, lh, lp), (rn, rs, rh, rp)) in enumerate(PLANTED):
        number = f"09{i:02d}.000.{i:03d}"
        base = {"postcode": POSTCODES[i], "box": None, "email": None, "website": None}
        rows_l.append(
            {
                **base,
                "enterprise_number": number,
                "name": ln,
                "street": ls,
                "house_number": lh,
                "phone": lp,
            }
        )
        rows_r.append(
            {
                **base,
                "employer_id": f"PLANT{i}",
                "enterprise_number": None,
                "name": rn,
                "street": rs,
                "house_number": rh,
                "phone": rp,
            }
        )
    left = pd.concat([left, pd.DataFrame(rows_l)], ignore_index=True)
    right = pd.concat([right, pd.DataFrame(rows_r)], ignore_index=True)
    return left, right, pd.DataFrame(rows_l), pd.DataFrame(rows_r)


def test_planted_phones_are_possible_not_valid() -> None:
    phones = pd.Series([p for pair in PLANTED for _, _, _, p in pair])
    assert normalise_phones(phones).isna().all()  # what the quality report flags
    possible = normalise_phones(phones, keep="possible", return_reasons=True)
    assert possible["phone"].notna().all() and not possible["valid"].any()


def test_planted_pairs_prepare_equal(planted) -> None:
    _, _, left, right = planted
    spec = enterprises()
    lp = prepare(left, spec.fields, side="left")
    rp = prepare(right, spec.fields, side="right")
    for column in ("phone", "address", "postcode"):
        assert lp[column].tolist() == rp[column].tolist(), column
    assert (lp["name"] != rp["name"]).all()


def test_planted_pairs_link(planted) -> None:
    left, right, plant_l, plant_r = planted
    result = linkage.link(left, right, enterprises())
    got = dict(zip(result.links["employer_id"], result.links["enterprise_number"], strict=True))
    wanted = dict(zip(plant_r["employer_id"], plant_l["enterprise_number"], strict=True))
    assert {k: got.get(k) for k in wanted} == wanted


def test_the_quality_report_still_flags_an_unassigned_number(tmp_path) -> None:
    # Linkage keeps "03 907 37 57"; the art. 8 report still calls it an invalid phone.
    import datetime as dt

    from linkage.exchange import load_config, run
    from linkage.exchange._demo import write_exchange
    from linkage.keys import KeyRing

    config = load_config(write_exchange(generate(n_enterprises=300, seed=5), tmp_path))
    path = config.extracts["VLAIO"]["enterprises"]
    ent = pd.read_csv(path, dtype=str, keep_default_na=False)
    ent.loc[0, "phone"] = "03 907 37 57"
    ent.loc[1, "phone"] = "09 265 72 11"  # valid: not flagged
    ent.to_csv(path, index=False)
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    result = run(config, ring=ring, today=dt.date(2026, 11, 28))
    q = pd.read_csv(result.path / "quality" / "VLAIO.csv", dtype={"record_id": str})
    flagged = set(zip(q["table"], q["row"], q["column"], q["defect"], strict=True))
    assert ("enterprises", 1, "phone", "invalid phone") in flagged
    assert ("enterprises", 2, "phone", "invalid phone") not in flagged
