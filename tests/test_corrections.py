"""A sender's corrections (art. 8, ``exchange correct``): applied as a new delivery,
kept as rules until the extract carries them, closing the defects they answer; a bad
file is one line naming its row and column, and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import correct, load_config, read_delivery, read_events, run
from linkage.exchange._demo import write_exchange
from linkage.exchange._overlays import load_rules
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)
COLUMNS = ["record_id", "table", "action", "field", "value"]


@pytest.fixture(scope="module")
def world():
    return generate(n_enterprises=400, seed=11)


def _frame(config, table: str, party: str = "VLAIO") -> pd.DataFrame:
    return pd.read_csv(config.extracts[party][table], dtype=str, keep_default_na=False)


def _save(config, table: str, frame: pd.DataFrame) -> None:
    frame.to_csv(config.extracts["VLAIO"][table], index=False)


def _plant(config) -> dict[str, tuple[str, str, str, str]]:
    """Defects in VLAIO's extracts: name -> (table, record id, column, rule)."""
    planted = {}
    ent = _frame(config, "enterprises")
    legal = ent.index[ent["entity_type"] == "legal_person"]
    ent.loc[legal[0], "start_date"] = "2031-02-01"
    planted["future"] = (
        "enterprises",
        ent.loc[legal[0], "enterprise_number"],
        "start_date",
        "date in the future",
    )
    ent.loc[legal[1], "size_class"] = "reusachtig"
    planted["size"] = (
        "enterprises",
        ent.loc[legal[1], "enterprise_number"],
        "size_class",
        "not in code list",
    )
    _save(config, "enterprises", ent)
    dos = _frame(config, "dossiers")
    dated = dos.index[(dos["contact_date"] != "") & (dos["start_date"] != "")]
    dos.loc[dated[0], "status"] = "Vergeten"
    planted["status"] = ("dossiers", dos.loc[dated[0], "dossier_id"], "status", "not in code list")
    dos.loc[dated[1], ["granted_amount", "paid_amount"]] = ["100", "250"]
    planted["paid"] = (
        "dossiers",
        dos.loc[dated[1], "dossier_id"],
        "paid_amount",
        "paid more than granted",
    )
    _save(config, "dossiers", dos)
    con = _frame(config, "contacts")
    reachable = con.index[(con["email"] != "") & (con["phone"] != "")]
    con.loc[reachable[0], ["email", "phone"]] = ""
    planted["reach"] = (
        "contacts",
        con.loc[reachable[0], "contact_id"],
        "email",
        "contact cannot be reached",
    )
    _save(config, "contacts", con)
    return planted


def _report(delivery_path: Path, party: str = "VLAIO") -> pd.DataFrame:
    return pd.read_csv(delivery_path / "quality" / f"{party}.csv", dtype=str, keep_default_na=False)


def _ids(report: pd.DataFrame, planted, *names: str) -> dict[str, str]:
    out = {}
    for name in names:
        table, record, column, rule = planted[name]
        hit = report[
            (report["table"] == table)
            & (report["record_id"] == record)
            & (report["column"] == column)
            & (report["defect"] == rule)
        ]
        assert len(hit) == 1, name
        out[name] = hit["defect_id"].iloc[0]
    return out


def _write(path: Path, rows: list[list[str]], columns=COLUMNS) -> Path:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture
def planted(tmp_path: Path, world, ring):
    config = load_config(write_exchange(world, tmp_path))
    defects = _plant(config)
    first = run(config, ring=ring, today=TODAY)
    return config, defects, first


def _dotted(number: str) -> str:
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


def test_corrections_round_trip_closes_defects_and_lasts(planted, ring, tmp_path: Path) -> None:
    config, defects, first = planted
    ids = _ids(_report(first.path), defects, "future", "size", "status", "paid", "reach")
    _, number, _, _ = defects["future"]
    _, dossier, _, _ = defects["status"]
    _, paid, _, _ = defects["paid"]
    _, contact, _, _ = defects["reach"]
    path = _write(
        tmp_path / "corrections.csv",
        [
            [_dotted(number), "enterprises", "adjust", "start_date", "2001-01-01"],
            [dossier, "dossiers", "adjust", "status", "Goedgekeurd"],
            [paid, "dossiers", "adjust", "paid_amount", "90"],
            [contact, "contacts", "complete", "email", "info@hersteld.example"],
        ],
    )
    done = correct(config, "VLAIO", path, reference="VLAIO-2026-11", ring=ring, today=TODAY)
    assert done.actions == {"delete": 0, "complete": 1, "adjust": 3}
    assert done.fixed == 4 and done.withdrawn == 0 and done.fields == 4

    # The delivery in force holds the corrected values.
    current = read_delivery(config.store)
    assert current.run_id == done.request_id
    tables = current.tables()
    ent, dos = tables["enterprises"], tables["dossiers"]
    mine = ent[(ent["enterprise_number"] == number) & (ent["party"] == "VLAIO")]
    assert mine["start_date"].tolist() == [dt.date(2001, 1, 1)]
    assert dos.loc[dos["dossier_id"] == dossier, "status"].tolist() == ["Goedgekeurd"]
    key = dos.loc[dos["dossier_id"] == paid, "dossier_key"].iloc[0]
    assert tables["amounts"].loc[
        tables["amounts"]["dossier_key"] == key, "paid_amount"
    ].tolist() == [90.0]
    assert "info@hersteld.example" in set(tables["contacts"]["email"].dropna())

    # Those defects are fixed in the report, its ledger and the manifest; the rest stay.
    after = _report(current.path)
    fixed = {ids[n] for n in ("future", "status", "paid", "reach")}
    assert not fixed & set(after["defect_id"]) and ids["size"] in set(after["defect_id"])
    ledger = pd.read_parquet(current.path / "quality" / "VLAIO.parquet")
    assert ledger.set_index("defect_id").loc[sorted(fixed), "status"].eq("fixed").all()
    assert set(ledger["closed_in"]) == {done.request_id}
    status = current.manifest["quality_status"]["VLAIO"]
    assert status["fixed"] == 4 and status["by_rule"]["paid more than granted"] == {"fixed": 1}

    # Audited write-ahead, with counts and never a value.
    events = [e for e in read_events(config.audit_log) if e["event"] == "correction"]
    assert [e["outcome"] for e in events] == ["intent", "delivered"]
    log = config.audit_log.read_text()
    assert "hersteld" not in log and "2001-01-01" not in log and contact not in log

    # The next run on the unchanged extracts keeps the corrections and does not reopen.
    second = run(config, ring=ring, today=TODAY)
    again = _report(second.path)
    assert not fixed & set(again["defect_id"])
    assert ids["size"] in set(again["defect_id"])
    assert set(again["status"]) == {"open"}
    tables = read_delivery(config.store).tables()
    ent = tables["enterprises"]
    mine = ent[(ent["enterprise_number"] == number) & (ent["party"] == "VLAIO")]
    assert mine["start_date"].tolist() == [dt.date(2001, 1, 1)]
    assert len(load_rules(config.store)) == 4
    assert second.manifest["quality_status"]["VLAIO"]["new"] == 0

    # Once the extract carries the value, its rule retires; the defect stays closed.
    ent = _frame(config, "enterprises")
    ent.loc[ent["enterprise_number"] == number, "start_date"] = "2001-01-01"
    _save(config, "enterprises", ent)
    third = run(config, ring=ring, today=TODAY)
    assert third.manifest["subjects"]["retired"] == 1
    rules = load_rules(config.store)
    assert len(rules) == 3 and "enterprises" not in set(rules["table"])
    assert not fixed & set(_report(third.path)["defect_id"])
    assert third.manifest["quality_status"]["VLAIO"]["new"] == 0


def test_a_delete_removes_the_record_and_what_hangs_from_it(planted, ring, tmp_path) -> None:
    config, defects, first = planted
    ids = _ids(_report(first.path), defects, "reach", "status")
    _, contact, _, _ = defects["reach"]
    _, dossier, _, _ = defects["status"]
    before = read_delivery(config.store).tables()
    key = before["dossiers"].loc[before["dossiers"]["dossier_id"] == dossier, "dossier_key"]
    hanging = before["contacts"]["dossier_key"].isin(key).sum()
    path = _write(
        tmp_path / "deletes.csv",
        [[contact, "contacts", "delete", "", ""], [dossier, "dossiers", "delete", "", ""]],
    )
    done = correct(config, "VLAIO", path, ring=ring, today=TODAY)
    assert done.removed["dossiers"] == 1 and done.removed["contacts"] >= max(hanging, 1)
    assert done.fixed >= 2
    tables = read_delivery(config.store).tables()
    assert dossier not in set(tables["dossiers"]["dossier_id"])
    assert not tables["contacts"]["dossier_key"].isin(key).any()
    assert not tables["amounts"]["dossier_key"].isin(key).any()
    assert len(before["contacts"]) - len(tables["contacts"]) == done.removed["contacts"]
    after = _report(read_delivery(config.store).path)
    assert not {ids["reach"], ids["status"]} & set(after["defect_id"])
    # the next run keeps them removed while VLAIO still sends them
    second = run(config, ring=ring, today=TODAY)
    tables = read_delivery(config.store).tables()
    assert dossier not in set(tables["dossiers"]["dossier_id"])
    assert not {ids["reach"], ids["status"]} & set(_report(second.path)["defect_id"])


def test_the_partys_own_header_names_a_field(tmp_path: Path, world, ring) -> None:
    """TBT's file calls legal_form 'rechtsvorm': its report and its corrections too."""
    config = load_config(write_exchange(world, tmp_path))
    path = config.extracts["TBT"]["enterprises"]
    tbt = pd.read_parquet(path)
    legal = tbt.index[tbt["entity_type"] == "legal_person"][0]
    tbt.loc[legal, "rechtsvorm"] = "Vennootschap X"
    tbt.to_parquet(path, index=False)
    number = str(tbt.loc[legal, "enterprise_number"])
    first = run(config, ring=ring, today=TODAY)
    report = _report(first.path, "TBT")
    hit = report[(report["record_id"] == number) & (report["column"] == "rechtsvorm")]
    assert len(hit) == 1
    fix = _write(tmp_path / "tbt.csv", [[number, "enterprises", "adjust", "rechtsvorm", "BV"]])
    done = correct(config, "TBT", fix, ring=ring, today=TODAY)
    assert done.fixed == 1
    assert hit["defect_id"].iloc[0] not in set(
        _report(read_delivery(config.store).path, "TBT")["defect_id"]
    )


@pytest.fixture(scope="module")
def store(world, tmp_path_factory):
    """One delivered exchange that every bad file leaves as it was."""
    tmp = tmp_path_factory.mktemp("bad")
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    config = load_config(write_exchange(world, tmp))
    run(config, ring=ring, today=TODAY)
    tables = read_delivery(config.store).tables()
    return config, ring, tables


def _a_contact(config) -> str:
    return _frame(config, "contacts")["contact_id"].iloc[0]


BAD = {
    "unknown record id": (
        lambda c: [["C000000001", "contacts", "adjust", "function", "Zaakvoerder"]],
        "record_id",
        1,
    ),
    "unknown table": (
        lambda c: [[_a_contact(c), "employees", "adjust", "function", "Zaakvoerder"]],
        "table",
        1,
    ),
    "unknown field": (
        lambda c: [
            [_a_contact(c), "contacts", "adjust", "function", "Zaakvoerder"],
            [_a_contact(c), "contacts", "adjust", "favourite_colour", "blauw"],
        ],
        "field",
        2,
    ),
    "unknown action": (
        lambda c: [[_a_contact(c), "contacts", "fix", "function", "Zaakvoerder"]],
        "action",
        1,
    ),
    "national number": (
        lambda c: [[_a_contact(c), "contacts", "adjust", "function", "85.07.30-033.28"]],
        "value",
        1,
    ),
    "duplicate": (
        lambda c: [
            [_a_contact(c), "contacts", "adjust", "function", "Zaakvoerder"],
            [_a_contact(c), "contacts", "adjust", "function", "Bestuurder"],
        ],
        "record_id",
        2,
    ),
    "not a date": (
        lambda c: [
            [
                _frame(c, "dossiers")["dossier_id"].iloc[0],
                "dossiers",
                "adjust",
                "decision_date",
                "gisteren",
            ]
        ],
        "value",
        1,
    ),
}


def _untouched(config, before: str, events: int) -> None:
    """Nothing written: the same delivery in force, no rules, one refusal audited."""
    assert read_delivery(config.store).run_id == before
    assert not (config.store / "subjects").exists()
    new = read_events(config.audit_log)[events:]
    assert [(e["event"], e["outcome"]) for e in new] == [("correction", "refused")]
    assert "Zaakvoerder" not in json.dumps(new) and "85.07.30" not in json.dumps(new)


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_file_is_one_line_and_writes_nothing(store, tmp_path: Path, case: str) -> None:
    config, ring, _ = store
    rows, column, row = BAD[case]
    path = _write(tmp_path / "corrections.csv", rows(config))
    before, events = read_delivery(config.store).run_id, len(read_events(config.audit_log))
    with pytest.raises(SchemaError) as caught:
        correct(config, "VLAIO", path, ring=ring, today=TODAY)
    err = caught.value
    assert (err.source, err.column, err.row) == ("corrections.csv", column, row)
    assert "\n" not in str(err) and "C000000001" not in str(err)
    _untouched(config, before, events)


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("", "empty file"),
        (",".join(COLUMNS) + "\n", "no rows"),
        ("record_id,table,action,field\nx,staff,delete,\n", "missing"),
    ],
)
def test_an_empty_file_or_a_missing_column(
    store, tmp_path: Path, content: str, detail: str
) -> None:
    config, ring, _ = store
    path = tmp_path / "corrections.csv"
    path.write_text(content)
    before, events = read_delivery(config.store).run_id, len(read_events(config.audit_log))
    with pytest.raises(SchemaError, match=detail) as caught:
        correct(config, "VLAIO", path, ring=ring, today=TODAY)
    assert caught.value.source == "corrections.csv"
    if detail == "missing":
        assert caught.value.column == "value"
    _untouched(config, before, events)


def test_refused_after_the_end_and_for_a_party_not_sending(store, tmp_path: Path) -> None:
    config, ring, _ = store
    path = _write(tmp_path / "c.csv", [[_a_contact(config), "contacts", "adjust", "function", "X"]])
    before, events = read_delivery(config.store).run_id, len(read_events(config.audit_log))
    with pytest.raises(ConfigError, match="protocol ended"):
        correct(config, "VLAIO", path, ring=ring, today=dt.date(2031, 1, 1))
    _untouched(config, before, events)
    with pytest.raises(ConfigError, match="not a sending party"):
        correct(config, "VDAB", path, ring=ring, today=TODAY)


def test_refused_for_a_withdrawn_party(tmp_path: Path, world, ring) -> None:
    from linkage.exchange import purge

    config = load_config(write_exchange(world, tmp_path))
    run(config, ring=ring, today=TODAY)
    contact = _frame(config, "contacts", "VLAIO")["contact_id"].iloc[0]
    path = _write(tmp_path / "c.csv", [[contact, "contacts", "adjust", "function", "X"]])
    purge(config, party="VLAIO")
    with pytest.raises(ConfigError, match="withdrew"):
        correct(config, "VLAIO", path, ring=ring, today=TODAY)


MASTER = "v1:" + "A" * 43 + "="


def test_cli_exit_codes(tmp_path: Path, world, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LINKAGE_MASTER_KEY", MASTER)
    config = load_config(write_exchange(world, tmp_path))
    ring = KeyRing.from_env(exchange=config.exchange, environ={"LINKAGE_MASTER_KEY": MASTER})
    run(config, ring=ring)
    contact = _a_contact(config)
    argv = ["exchange", "correct", "--config", str(config.source), "--party", "VLAIO"]
    bad = _write(tmp_path / "bad.csv", [[contact, "contacts", "fix", "function", "X"]])
    assert main([*argv, str(bad)]) == EXIT_INPUT
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.csv, column 'action', row 1" in err
    good = _write(
        tmp_path / "good.csv", [[contact, "contacts", "adjust", "function", "Zaakvoerder"]]
    )
    assert main([*argv, "--reference", "R-1", str(good)]) == 0
    assert "correction correct-" in capsys.readouterr().out
    tables = read_delivery(config.store).tables()
    assert "Zaakvoerder" in set(tables["contacts"]["function"].dropna())
