"""``linkage encode`` and ``linkage link --encoded``: the round trip of the protocol's
three parties on files (two encode with the key, one links without it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import linkage.keys
from linkage.cli import EXIT_INPUT, main
from linkage.evaluate import link_quality
from linkage.synthetic import load_sample

PASS = "correct horse battery staple"
ON = ("enterprise_number", "employer_id")


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(linkage.keys, "SCRYPT_N", 2**10)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encode_encode_link(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    x = load_sample()
    x.enterprises.to_parquet("enterprises.parquet")
    x.employers.to_csv("employers.csv", index=False)
    for name, exchange in (("exchange.key", "vlaio-vdab-2025"), ("other.key", "another")):
        assert run(capsys, "keys", "new", "--exchange", exchange, "--out", name)[0] == 0
    # VLAIO/TBT and VDAB each encode on their own machine...
    code, out, _ = run(
        capsys, "encode", "enterprises.parquet", "--preset", "enterprises",
        "--key", "exchange.key", "--out", "left.parquet",
    )  # fmt: skip
    assert code == 0 and "left side" in out
    code, out, _ = run(
        capsys, "encode", "employers.csv", "--preset", "enterprises",
        "--key", "exchange.key", "--out", "right.parquet", "--json",
    )  # fmt: skip
    assert code == 0 and '"side": "right"' in out
    # ...and a party without the key links the two files.
    code, out, _ = run(
        capsys, "link", "--encoded", "left.parquet", "right.parquet", "--out", "links.csv"
    )
    assert code == 0 and "links" in out
    links = pd.read_csv("links.csv", dtype=str)
    assert list(links.columns) == [*ON, "match_weight", "match_probability"]
    assert link_quality(links, x.truth_enterprises, on=ON).f1 > 0.99
    # Units within their linked enterprises: the parent ids pass through.
    x.establishments.to_parquet("units.parquet")
    x.sites.to_parquet("sites.parquet")
    for table, parent, out in (
        ("units.parquet", "enterprise_number", "units.enc.parquet"),
        ("sites.parquet", "employer_id", "sites.enc.parquet"),
    ):
        code, _, _ = run(
            capsys, "encode", table, "--preset", "establishments", "--key", "exchange.key",
            "--keep", parent, "--out", out,
        )  # fmt: skip
        assert code == 0
    code, _, _ = run(
        capsys, "link", "--encoded", "units.enc.parquet", "sites.enc.parquet",
        "--parents", "links.csv", "--out", "unit_links.parquet",
    )  # fmt: skip
    assert code == 0
    units = pd.read_parquet("unit_links.parquet")
    on = ("establishment_number", "site_id")
    assert link_quality(units, x.truth_establishments, on=on).f1 > 0.98
    # Another exchange's key: one line, exit 3.
    run(
        capsys, "encode", "employers.csv", "--preset", "enterprises",
        "--key", "other.key", "--out", "other.parquet",
    )  # fmt: skip
    code, _, err = run(
        capsys, "link", "--encoded", "left.parquet", "other.parquet", "--out", "x.csv"
    )
    assert code == EXIT_INPUT and "different keys" in err and len(err.splitlines()) == 1
    # A clear table is not an encoded file.
    code, _, err = run(
        capsys, "link", "--encoded", "enterprises.parquet", "right.parquet", "--out", "x.csv"
    )
    assert code == EXIT_INPUT and "not an encoded file" in err
