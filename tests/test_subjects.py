"""Data-subject rights on the synthetic exchange (art. 11): who a person is, namesakes,
erasure that holds through later runs, rectification in each role's own fields,
access, the report for the sending party, and the proof by an independent scan."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError
from linkage.exchange import (
    erase_subject,
    find_subject,
    load_config,
    read_delivery,
    read_events,
    rectify_subject,
    run,
)
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def world():
    return generate(n_enterprises=800, seed=11)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture
def exchange(tmp_path: Path, world, ring):
    config = load_config(write_exchange(world, tmp_path))
    run(config, ring=ring, today=TODAY)
    return config


def _tables(config) -> dict[str, pd.DataFrame]:
    return read_delivery(config.store).tables()


def _fold(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def _every_text(config, *, skip_subjects: bool = True) -> str:
    """Everything the tool keeps, as text: each Parquet file's cells, every other file's
    bytes; the audit log too. (The test's own reading, not the library's scan.)"""
    parts = []
    files = [p for p in config.store.rglob("*") if p.is_file()] + [config.audit_log]
    for path in files:
        rel = path.relative_to(config.store).as_posix() if config.store in path.parents else ""
        if skip_subjects and rel.startswith("subjects/"):
            continue
        if path.read_bytes()[:4] == b"PAR1":
            parts.append(pq.read_table(path).to_pandas().astype(str).to_csv())
        else:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def _edit_enterprise(config, number: str, **values: str) -> None:
    """Change a VLAIO enterprise in its extract (CSV), as the sender would."""
    path = config.extracts["VLAIO"]["enterprises"]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    digits = frame["enterprise_number"].str.replace(r"\D", "", regex=True).str.zfill(10)
    hit = digits == number
    assert hit.sum() == 1
    for column, value in values.items():
        frame.loc[hit, column] = value
    frame.to_csv(path, index=False)


def _delete_at_source(config, number: str) -> None:
    """Both senders delete an enterprise and every row of theirs that names it."""
    for files in config.extracts.values():
        for path in files.values():
            parquet = path.suffix == ".parquet"
            frame = (
                pd.read_parquet(path)
                if parquet
                else pd.read_csv(path, dtype=str, keep_default_na=False)
            )
            if "enterprise_number" not in frame:
                continue
            digits = frame["enterprise_number"].astype(str).str.replace(r"\D", "", regex=True)
            kept = frame[digits.str.zfill(10) != number]
            kept.to_parquet(path, index=False) if parquet else kept.to_csv(path, index=False)


def _unique_person(tables, rows: pd.DataFrame) -> pd.Series:
    """The first row whose manager name no other record carries (no namesake)."""
    names = pd.concat(
        [
            _fold(tables["enterprises"]["manager_first_name"])
            + " "
            + _fold(tables["enterprises"]["manager_last_name"]),
            _fold(tables["contacts"]["first_name"]) + " " + _fold(tables["contacts"]["last_name"]),
            _fold(tables["staff"]["first_name"]) + " " + _fold(tables["staff"]["last_name"]),
        ]
    )
    for _, row in rows.sort_values("enterprise_number").iterrows():  # not by random keys
        name = f"{row['manager_first_name']} {row['manager_last_name']}".casefold()
        ent = tables["enterprises"]
        same = ent["enterprise_key"] == row["enterprise_key"]
        others = names[names == name]
        # their own enterprise and contact records at it are theirs; nothing else
        contacts = tables["contacts"]
        at_own = contacts["enterprise_key"] == row["enterprise_key"]
        theirs = int(same.sum()) + int(
            (at_own & (_fold(contacts["first_name"]) + " " + _fold(contacts["last_name"]) == name))
            .fillna(False)
            .sum()
        )
        if len(others) == theirs:
            return row
    raise AssertionError("no person without namesakes")


def _trade_name_sole_proprietor(tables) -> pd.Series:
    ent = tables["enterprises"]
    own = _fold(ent["manager_first_name"]) + " " + _fold(ent["manager_last_name"])
    linked = ent["enterprise_key"].isin(tables["links_enterprises"]["enterprise_key"])
    dossiers = tables["dossiers"]
    with_amount = dossiers.loc[
        dossiers["dossier_key"].isin(tables["amounts"]["dossier_key"]), "enterprise_key"
    ]
    rows = ent[
        (ent["entity_type"] == "natural_person")
        & (_fold(ent["name"]) != own).fillna(False)
        & (ent["party"] == "VLAIO")
        & linked
        & ent["enterprise_key"].isin(with_amount)
        & ent["enterprise_key"].isin(tables["establishments"]["enterprise_key"])
    ]
    return _unique_person(tables, rows)


def test_a_trade_name_sole_proprietor_is_erased_whole_and_stays_erased(exchange, ring) -> None:
    tables = _tables(exchange)
    sole = _trade_name_sole_proprietor(tables)
    who = {"first_name": sole["manager_first_name"], "last_name": sole["manager_last_name"]}
    key, number = sole["enterprise_key"], sole["enterprise_number"]
    dossiers = tables["dossiers"][tables["dossiers"]["enterprise_key"] == key]
    amounts = tables["amounts"][tables["amounts"]["dossier_key"].isin(dossiers["dossier_key"])]
    assert len(dossiers) and len(amounts)

    found = find_subject(exchange, ring=ring, **who)
    assert [p.roles[0] for p in found.people] == ["sole proprietor"]
    assert {"dossiers", "amounts", "establishments", "links_enterprises"} <= set(found.records)

    before = read_delivery(exchange.store).run_id
    preview = erase_subject(exchange, ring=ring, reference="REQ-1", **who)
    assert read_delivery(exchange.store).run_id == before  # a dry run changes nothing
    assert preview.counts()["enterprises"] == 1 and preview.counts()["amounts"] == len(amounts)
    with pytest.raises(ConfigError, match="--person ID"):
        erase_subject(exchange, ring=ring, reference="REQ-1", apply=True, **who)

    report = erase_subject(
        exchange, ring=ring, reference="REQ-1", apply=True, person=preview.person.id, **who
    )
    assert report.proof is not None and report.proof.left == 0
    # independently: no row of theirs in any delivered table, no trace in any file
    after = _tables(exchange)
    for name, frame in after.items():
        for column in ("enterprise_key", "dossier_key"):
            if column in frame:
                assert not frame[column].isin([key, *dossiers["dossier_key"]]).any(), name
    text = _every_text(exchange)
    for trace in (key, number, *dossiers["dossier_key"], *dossiers["dossier_id"]):
        assert trace not in text
    assert f"{who['first_name']} {who['last_name']}" not in text

    # the next run, on the same extracts, does not bring them back ...
    run(exchange, ring=ring, today=TODAY)
    again = _tables(exchange)
    assert key not in set(again["enterprises"]["enterprise_key"])
    assert not again["dossiers"]["dossier_id"].isin(dossiers["dossier_id"]).any()
    assert number not in _every_text(exchange)
    assert find_subject(exchange, ring=ring, **who).people == ()
    # ... and once the sender has deleted them too, the suppression is retired
    assert key in set(pd.read_parquet(exchange.store / "subjects" / "suppressions.parquet")["key"])
    _delete_at_source(exchange, number)
    result = run(exchange, ring=ring, today=TODAY)
    assert result.manifest["subjects"]["retired"] >= 1
    assert not (exchange.store / "subjects" / "suppressions.parquet").exists()


def test_namesakes_are_told_apart_and_only_the_chosen_one_changes(exchange, ring) -> None:
    tables = _tables(exchange)
    ent = tables["enterprises"]
    sole = _trade_name_sole_proprietor(tables)
    company = ent[
        (ent["entity_type"] == "legal_person")
        & (ent["party"] == "VLAIO")
        & ent["manager_first_name"].notna()
    ].iloc[0]
    first, last = sole["manager_first_name"], sole["manager_last_name"]
    _edit_enterprise(
        exchange, company["enterprise_number"], manager_first_name=first, manager_last_name=last
    )
    run(exchange, ring=ring, today=TODAY)

    found = find_subject(exchange, ring=ring, first_name=first, last_name=last)
    assert sorted(p.roles[0] for p in found.people) == ["managing person", "sole proprietor"]
    assert (
        "choose one with --person"
        in erase_subject(exchange, ring=ring, first_name=first, last_name=last).summary()
    )
    # an enterprise number chooses as well as an id
    chosen = find_subject(
        exchange,
        ring=ring,
        first_name=first,
        last_name=last,
        enterprise_number=company["enterprise_number"],
    )
    assert [p.roles for p in chosen.people] == [("managing person",)]
    report = erase_subject(
        exchange,
        ring=ring,
        reference="REQ-2",
        apply=True,
        first_name=first,
        last_name=last,
        person=chosen.people[0].id,
    )
    assert report.proof is not None and report.proof.left == 0
    assert report.proof.values  # the namesake's rows were seen, and left alone
    after = _tables(exchange)["enterprises"].set_index("enterprise_key")
    assert (
        after.loc[company["enterprise_key"], ["manager_first_name", "manager_last_name"]]
        .isna()
        .all()
    )
    assert after.loc[company["enterprise_key"], "name"] == company["name"]  # the company stays
    assert after.loc[sole["enterprise_key"], "manager_last_name"] == last  # the namesake too
    # the blank holds through the next run, until the sender names another manager
    run(exchange, ring=ring, today=TODAY)
    again = _tables(exchange)["enterprises"].set_index("enterprise_key")
    assert pd.isna(again.loc[company["enterprise_key"], "manager_last_name"])
    overlays = pd.read_parquet(exchange.store / "subjects" / "overlays.parquet")
    assert last not in overlays.to_csv() and first not in overlays.to_csv()  # fingerprints only
    _edit_enterprise(
        exchange, company["enterprise_number"], manager_first_name="Ann", manager_last_name="Nieuw"
    )
    run(exchange, ring=ring, today=TODAY)
    new = _tables(exchange)["enterprises"].set_index("enterprise_key")
    assert new.loc[company["enterprise_key"], "manager_last_name"] == "Nieuw"


def test_rectifying_a_managing_person_leaves_the_enterprise_e_mail(exchange, ring) -> None:
    tables = _tables(exchange)
    ent = tables["enterprises"]
    rows = ent[
        (ent["entity_type"] == "legal_person")
        & ent["email"].notna()
        & ent["manager_function"].notna()
        & (ent["party"] == "VLAIO")
    ]
    company = _unique_person(tables, rows)
    who = {"first_name": company["manager_first_name"], "last_name": company["manager_last_name"]}
    person = find_subject(exchange, ring=ring, **who).people[0].id
    report = rectify_subject(
        exchange,
        {"email": "nieuw@example.be", "function": "CEO"},
        ring=ring,
        reference="REQ-3",
        apply=True,
        person=person,
        **who,
    )
    assert "managing person: email" in report.skipped
    assert report.fields() == {"enterprises.manager_function": 1}
    row = (
        _tables(exchange)["enterprises"].set_index("enterprise_key").loc[company["enterprise_key"]]
    )
    assert row["email"] == company["email"] and row["manager_function"] == "CEO"
    # the correction outlives the next run, and is retired when the sender carries it
    run(exchange, ring=ring, today=TODAY)
    row = (
        _tables(exchange)["enterprises"].set_index("enterprise_key").loc[company["enterprise_key"]]
    )
    assert row["manager_function"] == "CEO"
    _edit_enterprise(exchange, company["enterprise_number"], manager_function="CEO")
    result = run(exchange, ring=ring, today=TODAY)
    assert result.manifest["subjects"]["retired"] == 1


def test_rectifying_a_sole_proprietor_changes_their_enterprise(exchange, ring) -> None:
    tables = _tables(exchange)
    ent = tables["enterprises"]
    own = _fold(ent["name"]) == _fold(ent["manager_first_name"] + " " + ent["manager_last_name"])
    sole = _unique_person(tables, ent[(ent["entity_type"] == "natural_person") & own.fillna(False)])
    who = {"first_name": sole["manager_first_name"], "last_name": sole["manager_last_name"]}
    person = find_subject(exchange, ring=ring, **who).people[0].id
    report = rectify_subject(
        exchange,
        {"last_name": "Rechtgezet"},
        ring=ring,
        reference="R",
        apply=True,
        person=person,
        **who,
    )
    assert report.fields()["enterprises.manager_last_name"] == 1
    row = _tables(exchange)["enterprises"].set_index("enterprise_key").loc[sole["enterprise_key"]]
    assert row["manager_last_name"] == "Rechtgezet"
    assert row["name"] == f"{sole['manager_first_name']} Rechtgezet"


def test_erase_by_an_enterprise_e_mail_blanks_it(exchange, ring) -> None:
    ent = _tables(exchange)["enterprises"]
    counts = ent["email"].value_counts()
    company = ent[(ent["entity_type"] == "legal_person") & ent["email"].map(counts).eq(1)].iloc[0]
    found = find_subject(exchange, ring=ring, email=company["email"])
    (person,) = found.people
    report = erase_subject(
        exchange, ring=ring, email=company["email"], reference="R", apply=True, person=person.id
    )
    assert report.fields() == {"enterprises.email": 1} and report.proof.left == 0
    after = _tables(exchange)["enterprises"].set_index("enterprise_key")
    assert pd.isna(after.loc[company["enterprise_key"], "email"])
    assert after.loc[company["enterprise_key"], "name"] == company["name"]
    inform = pd.read_csv(report.informed[company["party"]], dtype=str)
    assert inform[["table", "key", "change", "reference"]].values.tolist() == [
        ["enterprises", company["enterprise_key"], "blanked email", "R"]
    ]


def test_access_export_is_whole_private_registered_and_erased_with_them(
    exchange, ring, tmp_path: Path, monkeypatch, capsys
) -> None:
    tables = _tables(exchange)
    sole = _trade_name_sole_proprietor(tables)
    who = ["--first-name", sole["manager_first_name"], "--last-name", sole["manager_last_name"]]
    monkeypatch.setattr("linkage.exchange._subjects._ring", lambda config, given: ring)
    out = tmp_path / "access"
    base = ["exchange", "subject", "find", "--config", str(exchange.source), *who]
    assert main([*base, "--reference", "SAR-7", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    tables_written = {name.split("-", 1)[1] for name in written}
    assert {"amounts.csv", "dossiers.csv", "establishments.csv"} <= tables_written
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    registry = (exchange.store / "subjects" / "outputs.jsonl").read_text().splitlines()
    assert sorted(Path(json.loads(line)["path"]).name for line in registry) == written
    finds = [e for e in read_events(exchange.audit_log) if e.get("action") == "find"]
    assert finds[-1]["reference"] == "SAR-7" and finds[-1]["asked_by"]["name"]
    assert sole["manager_last_name"] not in exchange.audit_log.read_text()
    # a dry run, then the erasure: the export goes with the person
    erase = ["exchange", "subject", "erase", "--config", str(exchange.source), *who]
    capsys.readouterr()
    assert main(erase) == 0
    person = capsys.readouterr().out.split("--person ")[1].split()[0]
    assert main([*erase, "--person", person, "--apply"]) == EXIT_INPUT  # no reference
    assert main([*erase, "--person", person, "--apply", "--reference", "SAR-8"]) == 0
    assert not list(out.iterdir())
    assert "removed keys found: 0" in capsys.readouterr().out


def test_subject_requests_are_refused_after_the_protocol_ends(exchange, ring) -> None:
    end = exchange.validity.effective_end
    with pytest.raises(ConfigError, match="purge"):
        find_subject(exchange, ring=ring, email="a@b.be", today=end + dt.timedelta(days=1))
    with pytest.raises(ConfigError, match="purge"):
        erase_subject(exchange, ring=ring, email="a@b.be", today=end + dt.timedelta(days=1))


def test_an_erasure_holds_through_a_key_rotation(exchange, ring) -> None:
    tables = _tables(exchange)
    sole = _trade_name_sole_proprietor(tables)
    who = {"first_name": sole["manager_first_name"], "last_name": sole["manager_last_name"]}
    (person,) = find_subject(exchange, ring=ring, **who).people
    erase_subject(exchange, ring=ring, reference="R", apply=True, person=person.id, **who)
    ring.rotate()
    result = run(exchange, ring=ring, today=TODAY)
    assert result.manifest["key"]["rekeyed_from"] == 1
    after = _tables(exchange)["enterprises"]
    assert sole["enterprise_number"] not in set(after["enterprise_number"])
    kept = pd.read_parquet(exchange.store / "subjects" / "suppressions.parquet")
    assert kept["key"].str.startswith("v2.").all()  # the suppression was re-keyed


def test_a_staff_member_is_erased_with_their_dossier_references(exchange, ring) -> None:
    tables = _tables(exchange)
    staff = tables["staff"]
    refs = tables["dossier_staff"]["staff_key"].value_counts()
    member = staff[staff["staff_key"].map(refs).fillna(0) > 0].iloc[0]
    who = {"first_name": member["first_name"], "last_name": member["last_name"]}
    people = find_subject(exchange, ring=ring, **who).people
    (person,) = [p for p in people if "staff member" in p.roles]
    report = erase_subject(exchange, ring=ring, reference="R", apply=True, person=person.id, **who)
    assert report.proof.left == 0
    assert report.counts()["dossier_staff"] == refs[member["staff_key"]]
    after = _tables(exchange)
    assert member["staff_key"] not in set(after["staff"]["staff_key"])
    assert member["staff_key"] not in set(after["dossier_staff"]["staff_key"])
    assert len(after["dossiers"]) == len(tables["dossiers"])  # their dossiers stay


def test_what_a_request_keeps_is_private_whatever_the_umask(tmp_path: Path, world, ring) -> None:
    old = os.umask(0o022)
    try:
        config = load_config(write_exchange(world, tmp_path))
        run(config, ring=ring, today=TODAY)
        company = _tables(config)["enterprises"].dropna(subset=["email"]).iloc[0]
        (person,) = find_subject(config, ring=ring, email=company["email"]).people
        erase_subject(
            config, ring=ring, email=company["email"], reference="R", apply=True, person=person.id
        )
    finally:
        os.umask(old)
    kept = list((config.store / "subjects").rglob("*"))
    assert any(p.suffix == ".parquet" for p in kept) and any(p.suffix == ".csv" for p in kept)
    for path in [config.store / "subjects", *kept]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_a_refused_request_is_audited_with_its_reason(exchange, ring) -> None:
    with pytest.raises(ConfigError, match="--person ID"):
        erase_subject(exchange, ring=ring, email="a@b.be", reference="R9", apply=True)
    last = read_events(exchange.audit_log)[-1]
    assert last["outcome"] == "refused" and last["reference"] == "R9"
    assert "--person ID" in last["reason"] and "a@b.be" not in exchange.audit_log.read_text()


def test_two_sole_proprietorships_are_two_people_whatever_they_share() -> None:
    """A hand-worked search: a natural person has one enterprise number, so two sole
    proprietorships under one name and one address are two people; a contact with that
    name at one of them is that one; a managing person elsewhere is a third."""
    from linkage.exchange._persons import Query, search

    s = lambda *values: pd.array(values, dtype="string")  # noqa: E731
    ent = pd.DataFrame(
        {
            "enterprise_key": s("eA", "eB", "eC"),
            "enterprise_number": s("0200000043", "0200000142", "0200000241"),
            "party": s("VLAIO", "TBT", "VLAIO"),
            "name": s("Bakkerij Wim", "Wim Jacobs", "Jacobs BV"),
            "entity_type": s("natural_person", "natural_person", "legal_person"),
            "manager_first_name": s("Wim", "Wim", "Wim"),
            "manager_last_name": s("Jacobs", "Jacobs", "Jacobs"),
            "email": s("wim.jacobs@gmail.com", "wim.jacobs@gmail.com", "info@jacobs.be"),
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_key": s("c1"),
            "enterprise_key": s("eA"),
            "party": s("VLAIO"),
            "first_name": s(" wim"),
            "last_name": s("JACOBS"),
            "email": s("w@bakkerij.be"),
        }
    )
    staff = pd.DataFrame(
        {c: s() for c in ("staff_key", "party", "first_name", "last_name", "email")}
    )
    tables = {"enterprises": ent, "contacts": contacts, "staff": staff}
    people = search(tables, Query(first_name="Wim", last_name="Jacobs"))
    found = sorted(sorted(p.occurrences["key"]) for p in people)
    assert found == [["c1", "eA"], ["eB"], ["eC"]]
    by_mail = search(tables, Query(email="WIM.JACOBS@gmail.com"))
    assert sorted(sorted(p.occurrences["key"]) for p in by_mail) == [["c1", "eA"], ["eB"]]
    chosen = search(
        tables, Query(first_name="Wim", last_name="Jacobs", enterprise_number="0200.000.241")
    )
    assert [p.roles for p in chosen] == [("managing person",)]


def test_the_proof_reads_files_itself(tmp_path: Path) -> None:
    """A hand-worked scan: removed keys anywhere, the person's values by whose row."""
    import pyarrow as pa

    from linkage.exchange._trace import Needles, trace

    table = pa.table(
        {
            "key": ["k-gone", "k-other", "k-own", "k-new", None],
            "first": ["x", "Wim ", "wim", "WIM", None],
            "last": ["y", "Jacobs", "jacobs", "Jacobs", None],
            "n": pa.array([None] * 5, pa.null()),  # a column of no type at all
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    pq.write_table(table.slice(0, 0), tmp_path / "empty.parquet")
    (tmp_path / "r.html").write_text("<td>k-gone</td> <td>wim.jacobs@x.be</td>")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    needles = Needles(
        removed=frozenset({"k-gone"}),
        emails=("wim.jacobs@x.be",),
        names=(("wim", "jacobs"),),
        own=frozenset({"k-own"}),
        others=frozenset({"k-other"}),
    )
    found = trace([(p.name, p) for p in sorted(tmp_path.iterdir())], needles)
    assert found.keys == {"r.html": 1, "t.parquet": 1}
    assert found.values == {
        "t.parquet": {"person": 1, "other candidate": 1, "unknown": 1},
        "r.html": {"unknown": 1},
    }
    assert found.unreadable == ["bad.parquet"]
    assert found.left == 2 + 1 + 1 + 1 + 1  # keys, person, unknown (twice), unreadable
