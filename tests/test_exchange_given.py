"""The feed on link tables a linkage party returned (linkage on encodings): ``[vdab]
links_enterprises`` / ``links_establishments`` in place of VDAB's clear files."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import load_config, preview_refit, read_delivery, run
from linkage.exchange._demo import write_exchange
from linkage.exchange._given import REASON, read_given
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)
CLEAR = 'employers = "vdab/employers.parquet"\nsites = "vdab/sites.parquet"\n'
GIVEN = 'links_enterprises = "linked/enterprises.csv"\nlinks_establishments = "linked/units.csv"\n'


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=300, seed=11)


def _given_config(path: Path, *, both: bool = False):
    text = path.read_text(encoding="utf-8")
    assert CLEAR in text
    path.write_text(text.replace(CLEAR, (CLEAR if both else "") + GIVEN), encoding="utf-8")
    return load_config(path)


def _returned(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """What a linkage party returns, made from a clear run's links: numbers and
    VDAB's ids, one row per record."""
    folder.mkdir()
    ent = tables["links_enterprises"].merge(
        tables["enterprises"][["enterprise_key", "enterprise_number"]].drop_duplicates()
    )
    ent = ent.drop_duplicates("enterprise_key")
    ent[["enterprise_key", "employer_id", "match_probability"]].to_csv(
        folder / "enterprises.csv", index=False
    )
    units = tables["links_establishments"].merge(
        tables["establishments"][["establishment_key", "establishment_number"]].drop_duplicates()
    )
    units = units.drop_duplicates("establishment_key")
    units[["establishment_number", "site_id", "employer_id", "match_probability"]].to_csv(
        folder / "units.csv", index=False
    )


def _links(tables: dict[str, pd.DataFrame], name: str, right: str) -> set[tuple[str, ...]]:
    frame = tables[f"links_{name}"]
    return set(frame[[f"{name[:-1]}_key", "party", right]].astype(str).itertuples(index=False))


def test_returned_links_are_delivered_for_every_party_of_the_record(tmp_path: Path, small) -> None:
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    clear = load_config(write_exchange(small, tmp_path / "clear"))
    run(clear, ring=ring, today=TODAY)
    made = read_delivery(clear.store).tables()

    folder = tmp_path / "given"
    config = _given_config(write_exchange(small, folder), both=False)
    _returned(made, folder / "linked")
    result = run(config, ring=ring, today=TODAY)
    got = read_delivery(config.store).tables()
    assert _links(got, "enterprises", "employer_id") == _links(made, "enterprises", "employer_id")
    assert _links(got, "establishments", "site_id") == _links(made, "establishments", "site_id")
    assert list(got["links_establishments"].columns) == list(made["links_establishments"].columns)
    # every link is new to this store, and says who made it; no model, no state
    changed = result.manifest["links"]["changed"]["enterprises"]
    assert changed == {REASON: len(got["links_enterprises"]["enterprise_key"].unique())}
    assert not (result.path / "state").exists()
    assert "(a linkage party's links)" in result.summary()
    assert {i["table"] for i in result.manifest["inputs"] if i["party"] == "VDAB"} == {
        "links_enterprises",
        "links_establishments",
    }
    # nothing of VDAB's clear records was read: no employer to disagree with
    report = pd.concat(pd.read_csv(p, dtype=str) for p in (result.path / "quality").glob("*.csv"))
    assert "differs from VDAB's employer" not in set(report["defect"])
    with pytest.raises(ConfigError, match="no model to refit"):
        preview_refit(config, ring=ring, today=TODAY)

    # the same links again: nothing changed; one link moved: that one, by its reason
    again = run(config, ring=ring, today=TODAY)
    assert again.manifest["links"]["changed"]["enterprises"] == {}
    ent = pd.read_csv(folder / "linked" / "enterprises.csv", dtype=str)
    ent.loc[0, "employer_id"] = "E-MOVED"
    ent.to_csv(folder / "linked" / "enterprises.csv", index=False)
    moved = run(config, ring=ring, today=TODAY)
    assert moved.manifest["links"]["changed"]["enterprises"] == {REASON: 1}


def test_a_config_names_vdabs_files_or_the_returned_links(tmp_path: Path, small) -> None:
    with pytest.raises(ConfigError, match="either employers and sites"):
        _given_config(write_exchange(small, tmp_path), both=True)


@pytest.mark.parametrize(
    ("text", "column", "row", "message"),
    [
        ("enterprise_key,employer_id\nv1.x,E1\n", None, None, "missing column"),
        (
            "enterprise_key,employer_id,match_probability\nv1.a,E1,0.9\nv1.a,E2,0.8\n",
            "enterprise_key",
            2,
            "linked twice",
        ),
        (
            "enterprise_number,employer_id,match_probability\n0403170701,E1,1.5\n",
            "match_probability",
            1,
            "not a probability",
        ),
        (
            "enterprise_key,employer_id,match_probability\nv1.a,E1,0.9\nv1.b,85073003328,0.9\n",
            "employer_id",
            2,
            "national register",
        ),
        (
            "enterprise_number,employer_id,match_probability\n0403170701,E1,1\n12,E2,1\n",
            "enterprise_number",
            2,
            "neither a valid enterprise number nor an exchange key",
        ),
    ],
)
def test_a_bad_link_table_is_one_line_naming_where(
    tmp_path: Path, text: str, column: str | None, row: int | None, message: str
) -> None:
    path = tmp_path / "links.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=message) as caught:
        read_given(path, "enterprises", "refuse")
    assert caught.value.column == column and caught.value.row == row
    assert "\n" not in str(caught.value)


def test_the_topology_encode_apart_link_without_the_key_deliver_the_returned_links(
    tmp_path: Path, small
) -> None:
    """docs/encodings.md's flow: the senders and VDAB each encode their own records,
    a party without the key links the encodings, and the run delivers its links."""
    from linkage.encoding import encode, link_encoded
    from linkage.evaluate import link_quality
    from linkage.presets import enterprises, establishments
    from linkage.pseudonymise import pseudonymise

    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    folder = tmp_path / "exchange"
    config = _given_config(write_exchange(small, folder, columns={}))
    sent = {
        name: pd.concat(
            [small_party(config, party, name) for party in config.parties], ignore_index=True
        ).drop_duplicates(f"{name[:-1]}_number")
        for name in ("enterprises", "establishments")
    }
    # at each party, with the key; the senders name their records by their keys (the
    # enterprise number is still a field, compared as a keyed token)
    for name, frame in sent.items():
        for column in ("enterprise", name[:-1]):
            frame[f"{column}_key"] = pseudonymise(frame[f"{column}_number"], ring, domain=column)
    ent_spec = replace(enterprises(), left_id="enterprise_key")
    unit_spec = replace(establishments(), left_id="establishment_key")
    senders = encode(sent["enterprises"], ent_spec, ring, side="left")
    vdab = encode(small.employers, ent_spec, ring, side="right")
    units = encode(sent["establishments"], unit_spec, ring, side="left", keep=("enterprise_key",))
    sites = encode(small.sites, unit_spec, ring, side="right", keep=("employer_id",))
    # at the linkage party, without it
    ent_links = link_encoded(senders, vdab).links
    unit_links = link_encoded(
        units, sites, parents=(ent_links, "enterprise_key", "employer_id")
    ).links
    site_employer = small.sites.set_index("site_id")["employer_id"]
    unit_links["employer_id"] = site_employer.reindex(unit_links["site_id"]).to_numpy()
    (folder / "linked").mkdir()
    ent_links.to_csv(folder / "linked" / "enterprises.csv", index=False)
    unit_links.to_csv(folder / "linked" / "units.csv", index=False)

    run(config, ring=ring, today=TODAY)
    got = read_delivery(config.store).tables()
    ent = got["links_enterprises"].merge(
        got["enterprises"][["enterprise_key", "enterprise_number"]].drop_duplicates()
    )
    quality = link_quality(ent, small.truth_enterprises, on=("enterprise_number", "employer_id"))
    assert quality.f1 > 0.95, quality
    assert ent["enterprise_key"].nunique() == len(ent_links)
    assert "enterprise_number" not in ent_links  # no number left the senders' side


def small_party(config, party: str, name: str) -> pd.DataFrame:
    """A party's extract as it holds it (numbers as it writes them)."""
    path = config.extracts[party][name]
    frame = pd.read_csv(path, dtype=str) if path.suffix == ".csv" else pd.read_parquet(path)
    return frame.astype({f"{name[:-1]}_number": "string"})


def test_a_number_column_of_keys_is_read_as_keys(tmp_path: Path) -> None:
    """``linkage encode`` names the id column after the spec: keys under a number's name."""
    key = "v1." + "a" * 26
    path = tmp_path / "links.csv"
    path.write_text(f"enterprise_number,employer_id,match_probability\n{key},E1,0.9\n")
    read = read_given(path, "enterprises", "refuse")
    assert read[["by", "record"]].values.tolist() == [["enterprise_key", key]]
