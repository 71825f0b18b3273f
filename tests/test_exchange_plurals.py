"""Art. 3's plurals end to end: several services and amounts per dossier, several
e-mail addresses (phones, web addresses) per enterprise; extract, validate, deliver,
link on any of the values, quality and subject requests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from linkage.exceptions import SchemaError
from linkage.exchange import (
    correct,
    erase_subject,
    find_subject,
    load_config,
    read_delivery,
    rectify_subject,
    run,
)
from linkage.exchange._demo import write_exchange
from linkage.exchange._extract import listed
from linkage.exchange._links import one_value
from linkage.keys import KeyRing
from linkage.prepare import prepare
from linkage.presets import enterprises as enterprises_spec
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)
EXCHANGE = "vlaio-vdab-2025"


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=300, seed=5)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _hard_enterprise(small) -> tuple[str, str]:
    """A VLAIO enterprise whose employer carries no enterprise number but an e-mail
    address: (enterprise number, the employer's address)."""
    emp = small.employers
    candidates = small.truth_enterprises.merge(emp, on="employer_id", suffixes=("", "_vdab"))
    candidates = candidates[
        candidates["enterprise_number_vdab"].isna() & candidates["email"].notna()
    ].merge(small.enterprises[["enterprise_number", "party"]], on="enterprise_number")
    row = candidates[candidates["party"] == "VLAIO"].iloc[0]
    return str(row["enterprise_number"]), str(row["email"])


def _run(config, ring):
    return run(config, ring=ring, today=TODAY)


def _planted(tmp_path: Path, small, *, second_email: bool):
    """An exchange with a dossier of three services, and one enterprise (linked, on
    VDAB's side, only by what it shares) with two e-mail addresses."""
    config = load_config(write_exchange(small, tmp_path, columns={}))
    number, address = _hard_enterprise(small)
    ent_path = config.extracts["VLAIO"]["enterprises"]
    ent = _csv(ent_path)
    at = ent["enterprise_number"] == number
    ent.loc[at, "email"] = "Boekhouding@Elders.example , " + (
        address.upper() if second_email else "info@elders.example"
    )
    ent.loc[at, "phone"] = ""
    ent.loc[at, "name"] = "Zzz " + ent.loc[at, "name"]  # a name that helps less
    ent.to_csv(ent_path, index=False)
    dos_path = config.extracts["VLAIO"]["dossiers"]
    dos = _csv(dos_path)
    first = dos.iloc[[0]]
    others = dos[dos["service_id"] != first["service_id"].iloc[0]].drop_duplicates("service_id")
    more = pd.concat([first] * 2, ignore_index=True)
    for column in ("service_id", "service_name", "service_description"):
        more[column] = others[column].iloc[:2].to_numpy()
    more["granted_amount"] = ["1000", "2500"]
    more["paid_amount"] = ["500", ""]
    pd.concat([dos, more], ignore_index=True).to_csv(dos_path, index=False)
    return config, number, str(first["dossier_id"].iloc[0])


def test_a_dossier_with_three_services_and_an_enterprise_with_two_emails(
    tmp_path: Path, small
) -> None:
    ring = KeyRing.generate(exchange=EXCHANGE)
    config, number, dossier = _planted(tmp_path / "two", small, second_email=True)
    tables = read_delivery(_run(config, ring).path.parent.parent).tables()

    dossiers = tables["dossiers"]
    key = dossiers.loc[dossiers["dossier_id"] == dossier, "dossier_key"]
    assert len(key) == 1  # one dossier, three services
    services = tables["dossier_services"]
    mine = services[services["dossier_key"] == key.iloc[0]]
    assert len(mine) == 3 and mine["service_key"].nunique() == 3
    assert set(mine["service_key"]) <= set(tables["services"]["service_key"])
    amounts = tables["amounts"][tables["amounts"]["dossier_key"] == key.iloc[0]]
    # each service's amounts (the first row's own, if it has any, and the two added)
    assert {1000.0, 2500.0} <= set(amounts["granted_amount"]) and len(amounts) in (2, 3)
    assert set(amounts["service_key"]) <= set(mine["service_key"])
    assert amounts["amount_key"].is_unique

    ent = tables["enterprises"]
    row = ent[ent["enterprise_number"] == number].iloc[0]
    # the cell as a list: its values in the order sent, one separator
    assert row["email"].split("; ")[0] == "Boekhouding@Elders.example"
    assert len(row["email"].split("; ")) == 2
    truth = small.truth_enterprises.set_index("enterprise_number")["employer_id"]
    links = tables["links_enterprises"]
    linked = links.loc[links["enterprise_key"] == row["enterprise_key"]]
    assert list(linked["employer_id"]) == [truth[number]]

    # A dossier's amount, between extracts, is one of several: which one is not said.
    fix = tmp_path / "corrections.csv"
    fix.write_text(
        f"record_id,table,action,field,value\n{dossier},dossiers,adjust,granted_amount,5\n"
    )
    with pytest.raises(SchemaError, match="amounts for several services") as caught:
        correct(config, "VLAIO", fix, ring=ring, today=TODAY)
    assert "row 1" in str(caught.value) and dossier not in str(caught.value)

    # The same enterprise whose second address is not the employer's: the link
    # rests on less evidence (or none), so the shared second address counted.
    config2, *_ = _planted(tmp_path / "one", small, second_email=False)
    tables2 = read_delivery(_run(config2, ring).path.parent.parent).tables()
    links2 = tables2["links_enterprises"]
    other = links2.loc[links2["enterprise_key"] == row["enterprise_key"], "match_probability"]
    assert other.empty or float(other.iloc[0]) < float(linked["match_probability"].iloc[0])


def test_one_value_of_a_plural_cell_is_the_one_the_other_side_shares() -> None:
    left = pd.DataFrame(
        {
            "enterprise_number": ["0403170701", "0403170702", "0403170703"],
            "email": ["a@x.be; B@Y.be", "c@z.be; d@z.be", "e@w.be"],
        }
    )
    right = pd.DataFrame({"employer_id": ["E1", "E2"], "email": ["b@y.be", "f@w.be"]})
    spec = enterprises_spec()
    chosen, prepared = one_value(left, right, spec)
    # the shared one (as prepared: case folded), else the first; one value kept as is
    assert chosen["email"].tolist() == ["B@Y.be", "c@z.be", "e@w.be"]
    # and the other side's field as the link would prepare it, for the link to reuse
    field = [f for f in spec.fields if f.name == "email"]
    pd.testing.assert_series_equal(prepared["email"], prepare(right, field, side="right")["email"])


def test_plural_cells_are_read_as_lists_and_checked_value_by_value(tmp_path: Path, small) -> None:
    cells = pd.Series(["a@x.be,b@y.be;a@x.be", " c@z.be | ", "d@w.be\ne@w.be", None])
    assert listed(cells).tolist() == ["a@x.be; b@y.be", "c@z.be", "d@w.be; e@w.be", pd.NA]
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["a;a"], ["b, c", None]])))
    assert listed(chunked).tolist() == ["a", "b; c", pd.NA]  # as a file read in parts

    config = load_config(write_exchange(small, tmp_path, columns={}))
    ent_path = config.extracts["VLAIO"]["enterprises"]
    ent = _csv(ent_path)
    ent.loc[0, "email"] = "info@goed.be; not an address"
    ent.loc[1, "email"] = "info@goed.be; sales@goed.be"
    ent.loc[2, "phone"] = "+32 3 123 45 67, 12"
    ent.to_csv(ent_path, index=False)
    result = _run(config, KeyRing.generate(exchange=EXCHANGE))
    report = pd.read_csv(result.path / "quality" / "VLAIO.csv", dtype=str)
    ids = ent["enterprise_number"].str.replace(".", "", regex=False)
    bad = report[report["table"] == "enterprises"]

    def found(i: int, rule: str) -> pd.DataFrame:
        digits = bad["record_id"].str.replace(r"\D", "", regex=True)
        return bad[(digits == ids[i].replace(" ", "")) & (bad["defect"] == rule)]

    assert len(found(0, "invalid e-mail")) == 1
    assert found(0, "invalid e-mail")["detail"].iloc[0].startswith("value 2: ")
    assert found(1, "invalid e-mail").empty  # two good addresses are not a defect
    assert len(found(2, "invalid phone")) == 1


def test_a_repeated_dossier_that_differs_is_reported_and_a_repeated_service_refused(
    tmp_path: Path, small
) -> None:
    config = load_config(write_exchange(small, tmp_path, columns={}))
    dos_path = config.extracts["VLAIO"]["dossiers"]
    dos = _csv(dos_path)
    again = dos.iloc[[0]].assign(service_id="SVC999", title="Another title")
    pd.concat([dos, again], ignore_index=True).to_csv(dos_path, index=False)
    result = _run(config, KeyRing.generate(exchange=EXCHANGE))
    report = pd.read_csv(result.path / "quality" / "VLAIO.csv", dtype=str)
    differ = report[report["defect"] == "differs between rows"]
    assert differ[["record_id", "column", "row"]].values.tolist() == [
        [dos["dossier_id"].iloc[0], "title", str(len(dos) + 1)]
    ]
    delivered = read_delivery(config.store).tables()["dossiers"]
    title = delivered.loc[delivered["dossier_id"] == dos["dossier_id"].iloc[0], "title"]
    assert title.tolist() == [dos["title"].iloc[0]]  # the first row's
    # the same service twice is a duplicate, whatever else the rows say (an amount)
    twice = dos.iloc[[0]].assign(granted_amount="1", paid_amount="")
    pd.concat([dos, twice], ignore_index=True).to_csv(dos_path, index=False)
    with pytest.raises(SchemaError, match="duplicate id and part") as caught:
        _run(config, KeyRing.generate(exchange=EXCHANGE))
    assert f"row {len(dos) + 1}" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("request_", ["erase", "rectify"])
def test_a_request_takes_one_address_of_a_list_and_leaves_the_other(
    tmp_path: Path, small, request_: str
) -> None:
    config = load_config(write_exchange(small, tmp_path, columns={}))
    ent_path = config.extracts["VLAIO"]["enterprises"]
    ent = _csv(ent_path)
    legal = ent.index[ent["entity_type"] != "natural_person"][0]
    ent.loc[legal, "email"] = "info@bedrijf.example; jan.peeters@bedrijf.example"
    ent.to_csv(ent_path, index=False)
    ring = KeyRing.generate(exchange=EXCHANGE)
    _run(config, ring)
    found = find_subject(config, ring=ring, email="Jan.Peeters@bedrijf.example")
    assert found.person is not None and "e-mail address of" in found.described[0]
    asked = {
        "ring": ring,
        "email": "jan.peeters@bedrijf.example",
        "person": found.person.id,
        "apply": True,
        "reference": "REQ-1",
        "today": TODAY,
    }
    if request_ == "erase":
        done = erase_subject(config, **asked)
        expected = ["info@bedrijf.example"]
    else:
        done = rectify_subject(config, {"email": "jan.p@bedrijf.example"}, **asked)
        expected = ["info@bedrijf.example; jan.p@bedrijf.example"]
    assert done.applied
    tables = read_delivery(config.store).tables()
    number = ent.loc[legal, "enterprise_number"]
    digits = tables["enterprises"]["enterprise_number"].str.replace(r"\D", "", regex=True)
    cell = tables["enterprises"].loc[digits == number.replace(".", "").replace(" ", ""), "email"]
    assert cell.tolist() == expected
    # nothing of the address is left in any delivered table
    for name, frame in tables.items():
        text = frame.astype(str).apply(lambda c: c.str.contains("jan.peeters", case=False))
        assert not text.any().any(), name
