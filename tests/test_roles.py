"""Art. 4 recipients: the roles file, the security definitions a run writes from it,
and one employer's own view of the delivery."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from linkage.cli import main
from linkage.exceptions import ConfigError
from linkage.exchange import (
    employer_view,
    load_config,
    load_roles,
    purge,
    read_delivery,
    read_events,
    run,
)
from linkage.exchange._demo import write_exchange
from linkage.exchange._roles import COLUMNS, REACH
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)

ROLES = """
[roles.study_service]
description = "statistics: no contact data"
[roles.study_service.tables]
enterprises = ["enterprise_key", "party", "legal_form", "size_class", "status"]
contacts = ["contact_key", "dossier_key", "party", "function"]
dossiers = "*"

[roles.account_manager]
tables = { enterprises = "*", establishments = "*", contacts = "*", links_enterprises = "*" }

[roles.employer]
rows = "employer"
tables = { links_enterprises = "*", enterprises = "*", dossiers = "*" }

[roles.employer_brief]
rows = "employer"
[roles.employer_brief.tables]
links_enterprises = ["enterprise_key", "party", "employer_id"]
enterprises = ["enterprise_key", "party", "name", "status"]
"""


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    """One run with a roles file, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("roles")
    config = load_config(write_exchange(generate(n_enterprises=300, seed=3), folder))
    (folder / "roles.toml").write_text(ROLES, encoding="utf-8")
    config = dataclasses.replace(config, roles=folder / "roles.toml")
    result = run(config, ring=KeyRing.generate(exchange=config.exchange), today=TODAY)
    return config, result


def test_the_columns_a_role_may_name_are_the_delivered_ones(delivered) -> None:
    config, _ = delivered
    tables = read_delivery(config.store).tables()
    assert {name: tuple(frame.columns) for name, frame in tables.items()} == COLUMNS


def test_a_role_hides_contact_data_and_the_manifest_records_the_grants(delivered) -> None:
    _, result = delivered
    roles = result.manifest["roles"]
    study = roles["study_service"]["tables"]
    assert set(study) == {"enterprises", "contacts", "dossiers"}
    for table in ("enterprises", "contacts"):
        assert not {"email", "phone", "first_name", "last_name"} & set(study[table])
    assert study["dossiers"] == list(COLUMNS["dossiers"])  # "*": every column, in order
    assert roles["employer"]["rows"] == "employer" and roles["study_service"]["rows"] == "all"
    access = result.path.parent / result.run_id / "access"
    assert json.loads((access / "roles.json").read_text()) == roles
    for name in ("access/roles.json", "access/roles.tmsl.json"):
        assert name in result.manifest["files"]  # hashed like every file of the delivery
        assert stat.S_IMODE((access.parent / name).stat().st_mode) == 0o600
    tmsl = {r["name"]: r for r in json.loads((access / "roles.tmsl.json").read_text())["roles"]}
    study_tables = {p["name"]: p for p in tmsl["study_service"]["tablePermissions"]}
    hidden = {c["name"] for c in study_tables["contacts"]["columnPermissions"]}
    assert {"email", "phone", "first_name", "last_name"} <= hidden
    assert hidden == set(COLUMNS["contacts"]) - set(study["contacts"])
    assert study_tables["staff"] == {"name": "staff", "metadataPermission": "none"}
    assert "dossiers" not in study_tables  # seen whole: nothing to restrict
    assert all("filterExpression" not in p for p in study_tables.values())
    employer = {p["name"]: p for p in tmsl["employer"]["tablePermissions"]}
    assert "USERPRINCIPALNAME()" in employer["links_enterprises"]["filterExpression"]
    assert "'links_enterprises'[employer_id] = me" in employer["dossiers"]["filterExpression"]


def _view_of(config, employer: str, out: Path, role: str | None = None) -> dict[str, pd.DataFrame]:
    view = employer_view(config, employer, out=out, reference="ticket 42", role=role, today=TODAY)
    frames: dict[str, list[pd.DataFrame]] = {}
    for path in sorted(out.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        party, table = path.stem.split("-", 1)
        frame = pd.read_csv(path, dtype="string")
        assert (frame["party"] == party).all()
        frames.setdefault(table, []).append(frame)
    assert sum(len(f) for parts in frames.values() for f in parts) == sum(view.counts().values())
    return {table: pd.concat(parts, ignore_index=True) for table, parts in frames.items()}


def _pairs(frame: pd.DataFrame, keys: tuple[str, ...]) -> set[tuple[str, ...]]:
    return set(frame[list(keys)].astype("string").itertuples(index=False, name=None))


def test_an_employer_view_holds_only_that_employers_data(delivered, tmp_path: Path) -> None:
    config, _ = delivered
    tables = {k: v.astype("string") for k, v in read_delivery(config.store).tables().items()}
    links = tables["links_enterprises"]
    # an employer with dossiers and contacts behind its links, and a site link too
    with_contacts = tables["contacts"].merge(tables["dossiers"], on=["dossier_key", "party"])
    reached = links.merge(
        with_contacts, left_on=["enterprise_key", "party"], right_on=["enterprise_key_y", "party"]
    )
    sited = set(tables["links_establishments"]["employer_id"])
    employer = next(e for e in reached["employer_id"] if e in sited)
    view = _view_of(config, employer, tmp_path / "view")
    assert set(view) >= {
        "links_enterprises",
        "enterprises",
        "dossiers",
        "contacts",
        "links_establishments",
        "establishments",
    }
    assert "staff" not in view
    # every row's keys against that employer's links only
    own_links = links[links["employer_id"] == employer]
    own_sites = tables["links_establishments"]
    own_sites = own_sites[own_sites["employer_id"] == employer]
    assert (view["links_enterprises"]["employer_id"] == employer).all()
    assert (view["links_establishments"]["employer_id"] == employer).all()
    ents = _pairs(own_links, ("enterprise_key", "party"))
    assert _pairs(view["enterprises"], ("enterprise_key", "party")) == ents
    assert _pairs(view["establishments"], ("establishment_key", "party")) == _pairs(
        own_sites, ("establishment_key", "party")
    )
    assert _pairs(view["dossiers"], ("enterprise_key", "party")) <= ents
    dossiers = tables["dossiers"]
    own_dossiers = dossiers[
        pd.Series(list(zip(dossiers["enterprise_key"], dossiers["party"], strict=True)))
        .isin(ents)
        .to_numpy()
    ]
    assert _pairs(view["dossiers"], ("dossier_key", "party")) == _pairs(
        own_dossiers, ("dossier_key", "party")
    )
    dossier_pairs = _pairs(own_dossiers, ("dossier_key", "party"))
    for table in ("contacts", "amounts", "dossier_staff", "dossier_services"):
        if table in view:
            assert _pairs(view[table], ("dossier_key", "party")) <= dossier_pairs, table
    if "services" in view:
        bridge = tables["dossier_services"]
        own_bridge = bridge[
            pd.Series(list(zip(bridge["dossier_key"], bridge["party"], strict=True)))
            .isin(dossier_pairs)
            .to_numpy()
        ]
        assert _pairs(view["services"], ("service_key", "party")) <= _pairs(
            own_bridge, ("service_key", "party")
        )
    # nothing of another employer: no key of its links turns up
    others = links[links["employer_id"] != employer]
    assert not _pairs(others, ("enterprise_key", "party")) & _pairs(
        view["enterprises"], ("enterprise_key", "party")
    )
    # audited: reference and counts, never the employer id; registered for purge
    event = read_events(config.audit_log)[-1]
    assert event["event"] == "employer_view" and event["outcome"] == "written"
    assert event["reference"] == "ticket 42"
    assert event["found"]["enterprises"] == len(view["enterprises"])
    assert employer not in config.audit_log.read_text()
    registry = (config.store / "subjects" / "outputs.jsonl").read_text()
    assert str((tmp_path / "view").resolve()) in registry


def test_an_employer_view_is_refused_after_the_end_and_into_a_used_folder(
    delivered, tmp_path: Path
) -> None:
    config, _ = delivered
    with pytest.raises(ConfigError, match="purge"):
        employer_view(config, "W1", out=tmp_path / "late", today=dt.date(2100, 1, 1))
    assert read_events(config.audit_log)[-1]["outcome"] == "refused"
    assert not (tmp_path / "late").exists()
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "other.csv").write_text("x\n")
    with pytest.raises(ConfigError, match="not an empty folder"):
        employer_view(config, "W1", out=tmp_path / "used", today=TODAY)


def test_employer_view_on_the_command_line(delivered, tmp_path: Path, capsys) -> None:
    config, _ = delivered
    employer = read_delivery(config.store).table("links_enterprises")["employer_id"].iloc[0]
    out = tmp_path / "cli"
    code = main(
        [
            "exchange",
            "employer-view",
            "--config",
            str(config.source),
            "--employer-id",
            str(employer),
            "--out",
            str(out),
            "--reference",
            "R-7",
        ]
    )
    assert code == 0
    assert "links_enterprises" in capsys.readouterr().out
    assert any(out.iterdir())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ROLES.replace('"function"]', '"mobile"]'),
            "role 'study_service', table 'contacts': the delivery has no column 'mobile'",
        ),
        ('[roles.x]\ntables = { employers = "*" }\n', "the delivery has no table 'employers'"),
        ("[roles.x]\ntables = { enterprises = 3 }\n", 'expected "*" or a list of column names'),
        ('[roles.x]\ntables = { staff = "*" }\nrows = "employer"\n', "cannot see table 'staff'"),
        (
            '[roles.x]\nrows = "employer"\ntables = { dossiers = "*" }\n',
            "reaches it through enterprises",
        ),
        ('[roles.x]\ntables = { staff = "*" }\nrows = "some"\n', "rows = 'some'"),
        ('[roles.x]\ntables = { staff = "*" }\ncolumns = 1\n', "unknown setting 'columns'"),
        ("[roles.x\n", "not valid TOML"),
        ("", "no roles"),
    ],
)
def test_a_bad_roles_file_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_roles(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith("roles.toml: ")


def test_a_run_with_a_bad_roles_file_is_refused_before_any_work(tmp_path: Path) -> None:
    config = load_config(write_exchange(generate(n_enterprises=100, seed=5), tmp_path))
    (tmp_path / "roles.toml").write_text('[roles.x]\ntables = { enterprises = ["rrn"] }\n')
    config = dataclasses.replace(config, roles=tmp_path / "roles.toml")
    with pytest.raises(ConfigError, match="no column 'rrn'"):
        run(config, ring=KeyRing.generate(exchange=config.exchange), today=TODAY)
    assert read_delivery(config.store) is None


def test_the_config_reads_the_roles_file_path(tmp_path: Path) -> None:
    path = write_exchange(generate(n_enterprises=100, seed=5), tmp_path)
    text = path.read_text(encoding="utf-8").replace("[output]\n", '[output]\nroles = "r.toml"\n')
    path.write_text(text, encoding="utf-8")
    assert load_config(path).roles == (tmp_path / "r.toml").resolve()
    assert set(REACH) == set(COLUMNS) - {"staff"}


def test_a_purge_keeps_the_roles_definitions_and_proves_itself(tmp_path: Path) -> None:
    config = load_config(write_exchange(generate(n_enterprises=200, seed=4), tmp_path))
    (tmp_path / "roles.toml").write_text(ROLES, encoding="utf-8")
    config = dataclasses.replace(config, roles=tmp_path / "roles.toml")
    run(config, ring=KeyRing.generate(exchange=config.exchange), today=TODAY)
    report = purge(config, party="TBT")
    assert report.complete  # the definitions hold no records: not "unproven"
    current = read_delivery(config.store)
    assert (current.path / "access" / "roles.json").exists()
    assert current.manifest["roles"]


def test_an_employer_view_as_a_role_holds_only_its_tables_and_columns(
    delivered, tmp_path: Path
) -> None:
    config, _ = delivered
    links = read_delivery(config.store).tables()["links_enterprises"]
    employer = str(links["employer_id"].iloc[0])
    whole = _view_of(config, employer, tmp_path / "whole")
    brief = _view_of(config, employer, tmp_path / "brief", role="employer_brief")
    assert set(brief) == {"links_enterprises", "enterprises"}
    assert list(brief["enterprises"].columns) == ["enterprise_key", "party", "name", "status"]
    assert len(brief["enterprises"]) == len(whole["enterprises"]) > 0
    with pytest.raises(ConfigError, match="not an employer role"):
        employer_view(config, employer, out=tmp_path / "x", role="study_service", today=TODAY)
