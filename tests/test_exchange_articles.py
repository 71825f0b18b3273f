"""The protocol's other articles on a delivered exchange: purge (art. 3), data
quality (art. 8), data-subject rights (art. 11), the audit log, and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError
from linkage.exchange import (
    erase_subject,
    find_subject,
    load_config,
    purge,
    read_delivery,
    rectify_subject,
    run,
)
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=300, seed=5)


@pytest.fixture
def delivered(tmp_path: Path, small):
    config = load_config(write_exchange(small, tmp_path))
    run(config, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)
    return config


def test_purge_party_removes_everything_it_sent(delivered) -> None:
    before = read_delivery(delivered.store).tables()
    report = purge(delivered, party="TBT")
    assert report.complete and report.scan["rows_of_purged_parties"] == 0
    after = read_delivery(delivered.store).tables()
    for name, frame in before.items():
        assert report.before[name].get("TBT", 0) == int((frame["party"] == "TBT").sum())
        assert "TBT" not in report.after[name]
        assert len(after[name]) == int((frame["party"] == "VLAIO").sum())
    current = read_delivery(delivered.store)
    assert not (current.path / "quality" / "TBT.csv").exists()
    assert "TBT" not in current.manifest["quality"]
    assert list((delivered.store / "reports").glob("purge-*.json"))
    # a withdrawn party's extracts are refused from now on
    with pytest.raises(ConfigError, match="TBT withdrew"):
        run(delivered, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)


def test_purge_all_leaves_no_data(delivered) -> None:
    report = purge(delivered, everything=True)
    assert report.complete and read_delivery(delivered.store) is None
    assert report.scan["rows_scanned"] == 0 and report.scan["files_of_purged"] == []
    assert sum(sum(c.values()) for c in report.before.values()) > 1000
    assert not list(delivered.store.rglob("*.parquet"))
    with pytest.raises(ConfigError, match="one party or everything"):
        purge(delivered)


def test_quality_report_finds_planted_defects(tmp_path: Path, small) -> None:
    config = load_config(write_exchange(small, tmp_path))
    ent_path = config.extracts["VLAIO"]["enterprises"]
    ent = pd.read_csv(ent_path, dtype=str, keep_default_na=False)
    ent.loc[0, "phone"] = "12"
    ent.loc[1, "email"] = "not an address"
    ent.loc[2, "website"] = "<script>"
    ent.loc[3, "status"] = "Stopgezet"
    ent.loc[4, "name"] = ""
    ent.to_csv(ent_path, index=False)
    dos_path = config.extracts["VLAIO"]["dossiers"]
    dos = pd.read_csv(dos_path, dtype=str, keep_default_na=False)
    dos.loc[0, "enterprise_number"] = ent.loc[3, "enterprise_number"]
    dos.loc[0, "status"] = "In behandeling"
    dos.loc[1, "granted_amount"], dos.loc[1, "paid_amount"] = "100", "250"
    dos.to_csv(dos_path, index=False)
    result = run(config, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)
    q = pd.read_csv(result.path / "quality" / "VLAIO.csv", dtype={"record_id": str})
    found = set(zip(q["table"], q["row"], q["column"], q["defect"], strict=True))
    assert ("enterprises", 1, "phone", "invalid phone") in found
    assert ("enterprises", 2, "email", "invalid e-mail") in found
    assert ("enterprises", 3, "website", "invalid website") in found
    assert ("enterprises", 5, "name", "missing required field") in found
    assert ("dossiers", 1, "status", "open dossier of a stopped enterprise") in found
    assert ("dossiers", 2, "paid_amount", "paid more than granted") in found
    assert q["defect"].isin(["outdated assessment"]).any()
    assert "not an address" not in q.to_csv()  # the report never repeats values
    page = (result.path / "quality" / "VLAIO.html").read_text()
    assert "<script>" not in page and "Data quality report for VLAIO" in page


def test_subject_find_erase_rectify(tmp_path: Path, small) -> None:
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    delivered = load_config(write_exchange(small, tmp_path))
    run(delivered, ring=ring, today=TODAY)
    tables = read_delivery(delivered.store).tables()
    contacts = tables["contacts"].dropna(subset=["email"])
    contact = contacts[~contacts["email"].duplicated(keep=False)].iloc[0]
    found = find_subject(delivered, ring=ring, email=contact["email"].upper())
    (person,) = found.people
    assert "contact person" in person.roles and found.counts()["contacts"] >= 1
    report = erase_subject(
        delivered,
        ring=ring,
        email=contact["email"],
        person=person.id,
        apply=True,
        reference="REQ-1",
    )
    assert report.proof.left == 0 and report.counts()["contacts"] >= 1
    assert contact["contact_key"] not in set(
        read_delivery(delivered.store).table("contacts")["contact_key"]
    )
    # A staff member whom no one else is named as (the key orders the rows: under 1 key
    # in 60 the first one's name was another person's too).
    for _, staff in tables["staff"].iterrows():
        who = {"first_name": staff["first_name"], "last_name": staff["last_name"]}
        people = find_subject(delivered, ring=ring, **who).people
        if len(people) == 1:
            break
    (person,) = people
    rectify_subject(
        delivered,
        {"phone": "+3292657211"},
        ring=ring,
        person=person.id,
        apply=True,
        reference="R2",
        **who,
    )
    row = (
        read_delivery(delivered.store).table("staff").set_index("staff_key").loc[staff["staff_key"]]
    )
    assert row["phone"] == "+3292657211"
    with pytest.raises(ConfigError, match="first and last name together"):
        find_subject(delivered, ring=ring, last_name=staff["last_name"])
    # the audit log holds what was done, never about whom
    log = delivered.audit_log.read_text()
    for value in (contact["email"], staff["last_name"], "+3292657211"):
        assert value not in log
    # two finds, two changes each with its write-ahead intent, one refusal
    assert log.count('"event": "subject"') == 2 + 2 * 2 + 1 and "REQ-1" in log
    assert log.count('"outcome": "refused"') == 1
    assert log.count('"event": "subject", "outcome": "intent"') == 2


def test_cli_run_show_purge(delivered, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LINKAGE_MASTER_KEY", "v1:" + "A" * 43 + "=")
    config = str(delivered.source)
    assert main(["exchange", "run", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "changes since" in out and "columns dropped (not in art. 3): crm_segment" in out
    assert main(["exchange", "show", "--config", config]) == 0
    assert "enterprises:" in capsys.readouterr().out
    assert main(["exchange", "purge", "--config", config, "--party", "TBT"]) == 0
    assert "nothing left" in capsys.readouterr().out


def test_cli_refuses_run_outside_the_signed_window(delivered, capsys) -> None:
    text = delivered.source.read_text()
    start = text.index("renewals = ")
    delivered.source.write_text(text[:start] + text[text.index("\n", start) + 1 :])
    assert main(["exchange", "run", "--config", str(delivered.source)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith(
        "linkage: error: the protocol's validity window is 2025-11-15 to 2026-05-15; today is "
    )
    assert "the protocol has ended; record its renewal in [validity] if it was renewed" in err
    assert (
        err.rstrip().endswith(f"linkage exchange purge --config {delivered.source} --all")
        and len(err.splitlines()) == 1
    )


def test_cli_demo(tmp_path: Path, capsys) -> None:
    assert (
        main(["-q", "exchange", "demo", "--enterprises", "200", "--out", str(tmp_path / "demo")])
        == 0
    )
    out = capsys.readouterr().out
    assert "enterprise links vs truth: precision" in out and "demo finished in" in out
