"""The permanent feed's links: frozen models, incremental re-links, stable links, reasons."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from linkage.cli import main
from linkage.exceptions import ConfigError
from linkage.exchange import load_config, preview_refit, purge, read_delivery, run
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.model import FellegiSunter
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def exchange():
    return generate(n_enterprises=1_500, seed=5)


@pytest.fixture
def config(tmp_path: Path, exchange):
    return load_config(write_exchange(exchange, tmp_path))


def _links(store: Path) -> pd.DataFrame:
    delivery = read_delivery(store)
    numbers = delivery.table("enterprises")[["enterprise_key", "enterprise_number"]]
    links = delivery.table("links_enterprises").merge(numbers.drop_duplicates())
    return (
        links[["enterprise_number", "employer_id", "match_probability"]]
        .drop_duplicates()
        .sort_values("enterprise_number")
        .reset_index(drop=True)
    )


def _state(store: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(read_delivery(store).path / "state" / name)


def test_rerun_with_the_same_inputs_changes_no_link(config, ring: KeyRing) -> None:
    first = run(config, ring=ring, today=TODAY)
    assert first.manifest["links"]["changed"]["enterprises"] == {
        "first delivery": first.manifest["links"]["enterprises"]
    }
    before = _links(config.store)
    second = run(config, ring=ring, today=TODAY)
    links = second.manifest["links"]
    assert links["changed"] == {"enterprises": {}, "establishments": {}}
    assert all(m["frozen"] for m in links["models"].values())
    # The frozen model is the first run's, byte for byte.
    assert {k: m["sha256"] for k, m in links["models"].items()} == {
        k: m["sha256"] for k, m in first.manifest["links"]["models"].items()
    }
    pd.testing.assert_frame_equal(_links(config.store), before)


def test_seven_corrected_rows_change_only_their_links(config, ring: KeyRing) -> None:
    run(config, ring=ring, today=TODAY)
    before = _links(config.store)
    path = config.extracts["VLAIO"]["enterprises"]
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    corrected = rows.index[rows["enterprise_number"].isin(before["enterprise_number"])][:7]
    rows.loc[corrected, "name"] = "Zzyzx Quantum " + rows.loc[corrected, "enterprise_number"]
    rows.loc[corrected, ["street", "postcode", "phone", "email", "website"]] = [
        "Nergensstraat",
        "9999",
        "",
        "",
        "",
    ]
    rows.to_csv(path, index=False)
    second = run(config, ring=ring, today=TODAY)
    numbers = set(rows.loc[corrected, "enterprise_number"])
    changes = _state(config.store, "link_changes_enterprises.parquet")
    # Each changed link names its reason; only the corrected enterprises changed, or
    # the ones that took an employer they let go.
    assert set(changes["reason"]) <= {"left changed", "partner let go"}
    assert (changes["reason"] == "left changed").any()
    assert set(changes.loc[changes["reason"] == "left changed", "enterprise_number"]) <= numbers
    freed = set(changes.loc[changes["enterprise_number"].isin(numbers), "employer_id_before"])
    others = changes[~changes["enterprise_number"].isin(numbers)]
    assert set(others["employer_id_after"]) <= freed
    assert sum(second.manifest["links"]["changed"]["enterprises"].values()) == len(changes)
    # Every other link is as it was, probability and all.
    after = _links(config.store)
    untouched = set(before["enterprise_number"]) - numbers - set(others["enterprise_number"])
    keep = before["enterprise_number"].isin(untouched)
    pd.testing.assert_frame_equal(
        after[after["enterprise_number"].isin(untouched)].reset_index(drop=True),
        before[keep].reset_index(drop=True),
    )


def test_refit_is_explicit_and_reported(config, ring: KeyRing) -> None:
    run(config, ring=ring, today=TODAY)
    again = run(config, ring=ring, today=TODAY, refit=True)
    links = again.manifest["links"]
    assert not any(m["frozen"] for m in links["models"].values())
    assert set(links["changed"]["enterprises"]) <= {"refit"}


def test_a_purge_keeps_the_frozen_models_and_no_fingerprint_of_the_party(
    config, ring: KeyRing
) -> None:
    run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store)
    frozen = (before.path / "state" / "model_enterprises.json").read_bytes()
    parties = before.table("enterprises").groupby("enterprise_number")["party"].agg(set)
    tbt_only = set(parties[parties == {"TBT"}].index)
    assert tbt_only
    purge(config, party="TBT")
    state = read_delivery(config.store).path / "state"
    left = pd.read_parquet(state / "fingerprints_enterprises_left.parquet")
    assert len(left) and not set(left["id"]) & tbt_only
    assert (state / "model_enterprises.json").read_bytes() == frozen
    # The next run (without TBT) re-links with the same frozen model: nothing but
    # TBT's enterprises went, so only their links could change.
    remaining = dataclasses.replace(
        config,
        parties=("VLAIO",),
        extracts={"VLAIO": config.extracts["VLAIO"]},
    )
    after = run(remaining, ring=ring, today=TODAY)
    assert all(m["frozen"] for m in after.manifest["links"]["models"].values())
    assert set(after.manifest["links"]["changed"]["enterprises"]) <= {"left gone", "right gone"}


def test_refit_preview_delivers_nothing(config, ring: KeyRing) -> None:
    first = run(config, ring=ring, today=TODAY)
    feed = preview_refit(config, ring=ring, today=TODAY)
    assert set(feed.summary()["changed"]["enterprises"]) <= {"refit"}
    assert read_delivery(config.store).run_id == first.run_id


def test_a_rotation_delivers_a_complete_crosswalk(config, exchange) -> None:
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store)
    old_tables = before.tables()
    ring.rotate()
    second = run(config, ring=ring, today=TODAY)
    m = second.manifest
    assert m["key"]["version"] == 2 and m["key"]["rekeyed_from"] == 1
    # Re-keyed, not removed and added: the same inputs change no row.
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in m["changes"].values())
    folder = read_delivery(config.store).path / "crosswalk"
    new_tables = read_delivery(config.store).tables()
    for name, frame in old_tables.items():
        for column in (c for c in frame.columns if c.endswith("_key")):
            walk = pd.read_parquet(folder / f"{column.removesuffix('_key')}.parquet")
            # Complete: every old key of the delivery has its new key, and it is the
            # one the new delivery uses.
            old_keys = set(frame[column].dropna())
            assert old_keys <= set(walk["old"]), (name, column)
            assert set(walk.set_index("old").loc[list(old_keys), "new"]) == set(
                new_tables[name][column].dropna()
            )
    assert "re-keyed from version 1" in second.summary()


def _with_link_section(config, text: str):
    path = config.source
    path.write_text(path.read_text() + "\n" + text)
    return load_config(path)


def test_the_link_section_sets_spec_threshold_and_model(config, ring: KeyRing, tmp_path) -> None:
    first = run(config, ring=ring, today=TODAY)
    saved = tmp_path / "model.json"
    (read_delivery(config.store).path / "state" / "model_enterprises.json").rename(saved)
    strict = _with_link_section(
        config,
        f'[link.enterprises]\npreset = "enterprises"\nthreshold = 0.999\nmodel = "{saved}"\n',
    )
    assert strict.links["enterprises"].spec.threshold == 0.999
    assert strict.links["establishments"].spec.threshold == 0.5
    again = run(strict, ring=ring, today=TODAY, refit=True)
    assert again.manifest["links"]["enterprises"] < first.manifest["links"]["enterprises"]
    # The configured model is the one frozen.
    frozen = read_delivery(config.store).path / "state" / "model_enterprises.json"
    assert FellegiSunter.load(frozen).to_dict() == FellegiSunter.load(saved).to_dict()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[link.dossiers]\nthreshold = 0.5\n", "unknown link"),
        ('[link.enterprises]\npreset = "establishments"\n', "needs enterprise_number"),
        ("[link.enterprises]\ncolour = 1\n", "unknown key"),
    ],
)
def test_a_wrong_link_section_says_what_is_wrong(config, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _with_link_section(config, text)


def test_cli_refit_previews_then_applies(config, capsys, monkeypatch) -> None:
    monkeypatch.setenv(config.key_env or "LINKAGE_MASTER_KEY", "v1:" + "A" * 43 + "=")
    path = str(config.source)
    assert main(["exchange", "run", "--config", path]) == 0
    delivered = read_delivery(config.store).run_id
    capsys.readouterr()
    assert main(["exchange", "refit", "--config", path]) == 0
    out = capsys.readouterr().out
    assert "enterprises: " in out and "links would change" in out and "--apply" in out
    assert read_delivery(config.store).run_id == delivered
    assert main(["exchange", "refit", "--config", path, "--apply"]) == 0
    assert "(models fitted on this run)" in capsys.readouterr().out
    assert read_delivery(config.store).run_id != delivered
