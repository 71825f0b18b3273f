"""Optional fields and one-line addresses: tables as a new user brings them.

A preset field whose columns a table lacks (no ``box``, no ``website``) is left out of
the spec, with its blocking rules and comparisons, and said in one line (a warning,
``LinkResult.notes``, ``link --json``); a one-line address (``adres = "Kerkstraat
12 bus 3"``) feeds the ``address`` field through the column mapping. The new user's
path, through the command line: Dutch headers, a semicolon Windows-1252 file, a
one-line address, no box and no website, links almost as well as all the columns do.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

import linkage
from linkage.cli import EXIT_INPUT, main
from linkage.comparisons import exact_match
from linkage.config import Field, LinkSpec
from linkage.evaluate import link_quality
from linkage.exceptions import ConfigError, SchemaError
from linkage.presets import enterprises, establishments, spec_from_dict
from linkage.rules import block_on

ALL = ("enterprise_number", "employer_id", "name", "street", "house_number", "box")
ALL += ("postcode", "phone", "email", "website")


def _without(*absent: str) -> list[str]:
    return [c for c in ALL if c not in absent]


# ------------------------------------------------------------------ the spec


def test_a_table_with_every_column_keeps_the_spec_as_it_is() -> None:
    spec = enterprises()
    assert spec.for_columns(ALL, ALL) == (spec, ())
    assert establishments().for_columns(
        ("establishment_number", "site_id", "name", "street", "house_number", "box", "postcode"),
        ("establishment_number", "site_id", "name", "street", "house_number", "box", "postcode"),
    ) == (establishments(), ())


def test_an_absent_field_goes_with_its_rules_and_comparisons() -> None:
    spec, notes = enterprises().for_columns(_without("website"), _without("website", "phone"))
    assert "website" not in {f.name for f in spec.fields} | {c.column for c in spec.comparisons}
    assert "phone" not in {c for r in spec.blocking for c in r.reads}
    assert [c.name for c in spec.comparisons] == ["number", "name", "address", "postcode", "email"]
    assert notes == (
        "field 'phone' left out (no column 'phone' in right), with comparison 'phone' "
        "and blocking rule 'phone'",
        "field 'website' left out (no column 'website' in left, right), with comparison "
        "'website' and blocking rule 'website'",
    )


def test_an_address_without_its_box_is_made_from_street_and_number() -> None:
    spec, notes = enterprises().for_columns(_without("box"), ALL, names=("a.csv", "b.csv"))
    address = next(f for f in spec.fields if f.name == "address")
    assert address.source_for("left") == ("street", "house_number")
    assert address.source_for("right") == ("street", "house_number", "box")
    assert notes == (
        "field 'address' made from street, house_number in a.csv; street, house_number, "
        "box in b.csv (no column 'box' in a.csv)",
    )
    assert spec.comparisons == enterprises().comparisons  # the same comparisons: same model


def test_a_one_line_address_is_mapped_by_the_field_name() -> None:
    spec = enterprises(left_columns={"address": "adres", "name": "naam"})
    address = next(f for f in spec.fields if f.name == "address")
    assert address.source_for("left") == ("adres",)
    assert address.source_for("right") == ("street", "house_number", "box")
    narrowed, notes = spec.for_columns(["enterprise_number", "naam", "adres"], ALL)
    assert next(f for f in narrowed.fields if f.name == "address").source_for("left") == ("adres",)
    assert [n.split(" left out")[0] for n in notes] == [
        "field 'postcode'",
        "field 'phone'",
        "field 'email'",
        "field 'website'",
    ]
    toml = spec_from_dict({"preset": "enterprises", "left_columns": {"address": "adres"}})
    assert toml.fields == enterprises(left_columns={"address": "adres"}).fields
    with pytest.raises(ConfigError, match=r"or a field made from one column: \['address'\]"):
        enterprises(left_columns={"adress": "adres"})


def test_a_required_or_named_column_is_not_let_go() -> None:
    # The name is required, and a column the user named must be there: both are left
    # to the missing-column check, which names them.
    spec, notes = enterprises().for_columns(_without("name"), ALL)
    assert "name" in {f.name for f in spec.fields} and notes == ()
    spec, notes = enterprises(left_columns={"box": "bus"}).for_columns(ALL, ALL)
    assert next(f for f in spec.fields if f.name == "address").source_for("left")[2] == "bus"
    phone = LinkSpec(
        left_id="a",
        right_id="b",
        fields=(Field(name="phone", source="phone", prepare="phone", optional=True),),
        blocking=(block_on("phone"),),
        comparisons=(exact_match("phone"),),
    )
    with pytest.raises(ConfigError, match=r"too few columns to link \(field 'phone' left out"):
        phone.for_columns(["a"], ["b", "phone"])


# ------------------------------------------------------------------ link() and the CLI


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    linkage.synthetic.load_sample().write(folder)
    return folder


def _f1(links: pd.DataFrame, sample: Path, left_id: str = "enterprise_number") -> float:
    truth = pd.read_parquet(sample / "truth_enterprises.parquet")
    quality = link_quality(
        links, truth, on=(left_id, "employer_id"), truth_on=("enterprise_number", "employer_id")
    )
    return quality.f1


def test_link_leaves_an_absent_field_out_with_a_warning(
    sample: Path, caplog: pytest.LogCaptureFixture
) -> None:
    left = pd.read_parquet(sample / "enterprises.parquet").drop(columns=["website", "box"])
    right = pd.read_parquet(sample / "employers.parquet")
    with caplog.at_level(logging.WARNING, logger="linkage.pipeline"):
        result = linkage.link(left, right, enterprises(), names=("ents", "emps"))
    ours = [r for r in caplog.records if r.name.startswith("linkage")]  # not a kernel's
    assert result.notes == tuple(r.getMessage() for r in ours)
    assert len(result.notes) == 2 and "'website' in ents" in result.notes[1]
    assert "website" not in [c.name for c in result.spec.comparisons]
    with pytest.raises(SchemaError, match="missing column"):
        linkage.link(left.drop(columns=["name"]), right, enterprises())


DUTCH = {
    "enterprise_number": "ondernemingsnummer",
    "name": "naam",
    "postcode": "postcode_nr",
    "phone": "telefoon",
    "email": "e-mail",
}


def _one_line(frame: pd.DataFrame) -> pd.Series:
    """'Kerkstraat 12 bus 3', as one column holds it."""
    line = frame["street"].fillna("") + " " + frame["house_number"].fillna("")
    box = frame["box"].notna()
    line[box] = line[box] + " bus " + frame.loc[box, "box"]
    return line.str.strip()


def test_a_new_users_tables_link_almost_as_well_as_all_the_columns(
    sample: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = tmp_path / "full.parquet"
    argv = ["link", str(sample / "enterprises.parquet"), str(sample / "employers.parquet")]
    assert main(["-q", *argv, "--preset", "enterprises", "--out", str(full)]) == 0

    # Dutch headers, one address line, no box, no website; semicolons, Windows-1252.
    enterprises_ = pd.read_parquet(sample / "enterprises.parquet")
    mine = enterprises_.assign(adres=_one_line(enterprises_)).rename(columns=DUTCH)
    mine = mine.drop(columns=["street", "house_number", "box", "website"])
    assert mine["adres"].str.contains(" bus ").any()
    left = tmp_path / "ondernemingen.csv"
    left.write_bytes(mine.to_csv(index=False, sep=";", lineterminator="\r\n").encode("cp1252"))
    right = tmp_path / "werkgevers.parquet"
    pd.read_parquet(sample / "employers.parquet").drop(columns=["box", "website"]).to_parquet(right)
    mapping = ",".join(f"{k}={v}" for k, v in {**DUTCH, "address": "adres"}.items())
    out, model = tmp_path / "links.csv", tmp_path / "model.json"
    capsys.readouterr()
    caplog.clear()
    argv = [
        *("link", str(left), str(right), "--preset", "enterprises"),
        *("--left-columns", mapping, "--out", str(out), "--save-model", str(model), "--json"),
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["notes"] == [
        "field 'address' made from adres in ondernemingen.csv; street, house_number in "
        "werkgevers.parquet (no column 'box' in werkgevers.parquet)",
        "field 'website' left out (no column 'website' in ondernemingen.csv, "
        "werkgevers.parquet), with comparison 'website' and blocking rule 'website'",
    ]
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("linkage")  # not a kernel's
    ]
    assert warned == summary["notes"]  # the warnings, too

    links = pd.read_csv(out, dtype=str)
    f1_full, f1_mine = _f1(pd.read_parquet(full), sample), _f1(links, sample, "ondernemingsnummer")
    assert f1_full > 0.97
    assert f1_mine >= f1_full - 0.01, (f1_mine, f1_full)

    # The model fitted without the website is reused on the same tables, checked up front.
    again = tmp_path / "again.csv"
    argv = [*argv[: argv.index("--save-model")], "--model", str(model)]
    argv[argv.index("--out") + 1] = str(again)
    assert main(["-q", *argv]) == 0
    assert pd.read_csv(again, dtype=str)[links.columns[:2]].equals(links[links.columns[:2]])
    # ... and refused, naming what differs, on tables that have a website.
    argv = ["link", str(sample / "enterprises.parquet"), str(sample / "employers.parquet")]
    argv += ["--preset", "enterprises", "--model", str(model), "--out", str(again)]
    assert main(argv) == EXIT_INPUT
    assert "the spec compares 'website', the model does not" in capsys.readouterr().err
