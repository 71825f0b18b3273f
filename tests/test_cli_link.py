"""``linkage link`` and ``linkage evaluate`` on files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import linkage
from linkage.cli import EXIT_INPUT, main


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    linkage.synthetic.load_sample().write(folder)
    return folder


def test_link_then_evaluate(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "links.parquet"
    assert (
        main(
            [
                "link",
                str(tables / "enterprises.parquet"),
                str(tables / "employers.parquet"),
                "--preset",
                "enterprises",
                "--out",
                str(out),
                "--save-model",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    links = pd.read_parquet(out)
    assert list(links.columns) == [
        "enterprise_number",
        "employer_id",
        "match_weight",
        "match_probability",
    ]
    capsys.readouterr()
    assert (
        main(["evaluate", str(out), str(tables / "truth_enterprises.parquet"), "--json", "--sweep"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["f1"] >= 0.99 and len(report["sweep"]) == 6

    # Units within the linked employers, reusing nothing but the links file.
    units = tmp_path / "units.csv"
    assert (
        main(
            [
                "link",
                str(tables / "establishments.parquet"),
                str(tables / "sites.parquet"),
                "--preset",
                "establishments",
                "--parents",
                str(out),
                "--out",
                str(units),
                "-q",
            ]
        )
        == 0
    )
    # Each unit's site is one of the employer its enterprise was linked to...
    unit_links = pd.read_csv(units, dtype=str)
    enterprise_of = pd.read_parquet(tables / "establishments.parquet").set_index(
        "establishment_number"
    )["enterprise_number"]
    employer_of_site = pd.read_parquet(tables / "sites.parquet").set_index("site_id")["employer_id"]
    employer_of_enterprise = links.set_index("enterprise_number")["employer_id"]
    wanted = unit_links["establishment_number"].map(enterprise_of).map(employer_of_enterprise)
    assert len(unit_links) > 1_000
    assert (unit_links["site_id"].map(employer_of_site) == wanted).all()
    # ...and they are the true ones.
    capsys.readouterr()
    truth = str(tables / "truth_establishments.parquet")
    assert main(["evaluate", str(units), truth, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["precision"] >= 0.99 and report["recall"] >= 0.97


def test_reusing_a_saved_model_gives_the_same_links(tables: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    args = [
        str(tables / "enterprises.parquet"),
        str(tables / "employers.parquet"),
        "--preset",
        "enterprises",
    ]
    assert main(["link", *args, "--out", str(first), "--save-model", str(tmp_path / "m.json")]) == 0
    assert main(["link", *args, "--out", str(second), "--model", str(tmp_path / "m.json")]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(first), pd.read_parquet(second))


def test_missing_column_is_one_line(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "employers.csv"
    pd.read_parquet(tables / "employers.parquet").drop(columns=["name"]).to_csv(broken, index=False)
    code = main(
        [
            "link",
            str(tables / "enterprises.parquet"),
            str(broken),
            "--preset",
            "enterprises",
            "--out",
            str(tmp_path / "x.parquet"),
        ]
    )
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("linkage: error: employers.csv") and err.count("\n") == 1
    assert "missing column(s) 'name'" in err
    assert not (tmp_path / "x.parquet").exists()


def test_evaluate_needs_two_id_columns(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.csv"
    pd.DataFrame({"enterprise_number": ["0403170701"]}).to_csv(one, index=False)
    code = main(["evaluate", str(one), str(tables / "truth_enterprises.parquet")])
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("linkage: error: one.csv: needs two id columns") and err.count("\n") == 1
    code = main(["evaluate", str(one), str(one), "--on", "enterprise_number,employer_id"])
    assert code == EXIT_INPUT
    assert "one.csv, column 'employer_id': missing column(s)" in capsys.readouterr().err
