"""Specs as TOML: ``linkage spec show`` prints a preset that loads back to an equal
spec, and the commented examples in ``examples/`` link tables with Dutch headers."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import linkage
from linkage.cli import main
from linkage.config import spec_from_dict, spec_to_dict
from linkage.evaluate import link_quality
from linkage.presets import enterprises, establishments, load_spec, spec_to_toml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["enterprises", "establishments"])
def test_spec_show_prints_the_preset_as_toml_that_loads_back(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["spec", "show", "--preset", name]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"# The {name} preset")
    path = tmp_path / "spec.toml"
    path.write_text(printed, encoding="utf-8")
    assert load_spec(path) == linkage.presets.get(name)
    # A spec file shown again is the same text: nothing is lost on the way.
    assert main(["spec", "show", "--spec", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == printed.splitlines()[1:]


def test_a_preset_file_turns_on_the_unit_numbers(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('preset = "enterprises"\nunit_numbers = true\n', encoding="utf-8")
    assert load_spec(path) == enterprises(unit_numbers=True) != enterprises()
    for text, refused in (
        ('preset = "establishments"\nunit_numbers = true\n', "option of the enterprises preset"),
        ('preset = "enterprises"\nunit_numbers = "yes"\n', "true or false"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(linkage.ConfigError, match=refused):
            load_spec(path)


def test_an_edited_spec_reads_the_edit(tmp_path: Path) -> None:
    text = spec_to_toml(enterprises()).replace(
        'name = "name"\nsource = "name"\nprepare = "company_name"\nleft_source = "name"',
        'name = "name"\nsource = "name"\nprepare = "company_name"\nleft_source = "naam"',
    )
    name = next(f for f in spec_from_dict(tomllib.loads(text)).fields if f.name == "name")
    assert name.source_for("left") == ("naam",) and name.source_for("right") == ("name",)


@pytest.mark.parametrize(
    "spec",
    [
        enterprises(),
        establishments(),
        enterprises(left_columns={"name": "naam", "address": "adres"}, threshold=0.8),
        load_spec(EXAMPLES / "my_spec.toml"),
    ],
)
def test_round_trip(spec: linkage.LinkSpec) -> None:
    assert spec_from_dict(spec_to_dict(spec)) == spec
    assert spec_from_dict(tomllib.loads(spec_to_toml(spec))) == spec


@pytest.fixture(scope="module")
def dutch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """The sample's enterprises and employers with Dutch headers, no website on the
    left, a one-line address on the right."""
    sample = linkage.synthetic.load_sample()
    left = sample.enterprises.rename(
        columns={
            "enterprise_number": "ondernemingsnummer",
            "name": "naam",
            "street": "straat",
            "house_number": "huisnummer",
            "box": "bus",
            "phone": "telefoon",
            "email": "e_mail",
        }
    ).drop(columns="website")
    employers = sample.employers
    box = (" bus " + employers["box"].astype("string")).fillna("")
    right = employers.assign(
        adres=employers["street"] + " " + employers["house_number"].astype("string") + box
    ).drop(columns=["street", "house_number", "box"])
    right = right.rename(
        columns={
            "employer_id": "werkgever_id",
            "enterprise_number": "ondernemingsnummer",
            "name": "naam",
            "phone": "telefoon",
            "email": "e_mail",
        }
    )
    folder = tmp_path_factory.mktemp("dutch")
    left.to_csv(folder / "ondernemingen.csv", index=False)
    right.to_csv(folder / "werkgevers.csv", index=False)
    return folder / "ondernemingen.csv", folder / "werkgevers.csv", sample.truth_enterprises


@pytest.mark.parametrize(
    ("example", "f1"), [("enterprises_dutch.toml", 0.98), ("my_spec.toml", 0.95)]
)
def test_examples_link_dutch_tables(
    example: str,
    f1: float,
    dutch: tuple[Path, Path, pd.DataFrame],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    left, right, truth = dutch
    out = tmp_path / "links.csv"
    argv = ["link", str(left), str(right), "--spec", str(EXAMPLES / example)]
    assert main([*argv, "--out", str(out), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    if example == "enterprises_dutch.toml":
        assert any("'website' left out" in note for note in summary["notes"])
    links = pd.read_csv(out, dtype=str)
    quality = link_quality(
        links,
        truth,
        on=("ondernemingsnummer", "werkgever_id"),
        truth_on=("enterprise_number", "employer_id"),
    )
    assert quality.f1 >= f1, quality
