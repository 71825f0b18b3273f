"""Overrides: a cannot-link on a true link and a must-link on a missed pair change
exactly those links, the same way on every run, from the API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import linkage
from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError, SchemaError
from linkage.overrides import Overrides, read_overrides
from linkage.presets import enterprises
from linkage.synthetic import generate

IDS = ["enterprise_number", "employer_id"]


@pytest.fixture(scope="module")
def data():
    x = generate(n_enterprises=2000, seed=13)
    base = linkage.link(x.enterprises, x.employers, enterprises())
    links = set(map(tuple, base.links[IDS].to_numpy()))
    truth = set(map(tuple, x.truth_enterprises[IDS].to_numpy()))
    true_link = sorted(links & truth)[0]
    # A true pair not linked whose two records are both free (so a must-link moves
    # nothing else), whether blocking proposed it or not.
    linked_left = {a for a, _ in links}
    linked_right = {b for _, b in links}
    free = [p for p in truth - links if p[0] not in linked_left and p[1] not in linked_right]
    missed = sorted(free)[0]
    decisions = pd.DataFrame(
        {
            "left_id": [true_link[0], missed[0]],
            "right_id": [true_link[1], missed[1]],
            "decision": ["cannot-link", "must-link"],
            "who": ["an analyst", "an analyst"],
            "when": ["2027-01-05", "2027-01-05"],
            "why": ["different firm, same address", "renamed after a merger"],
        }
    )
    return x, base, links, true_link, missed, decisions


def _links(result) -> set[tuple[str, str]]:
    return set(map(tuple, result.links[IDS].to_numpy()))


def test_overrides_change_exactly_those_links(data) -> None:
    x, _base, links, true_link, missed, decisions = data
    result = linkage.link(x.enterprises, x.employers, enterprises(), overrides=Overrides(decisions))
    assert _links(result) == (links - {true_link}) | {missed}
    marked = result.links.set_index(IDS)["override"]
    assert marked.loc[missed] == "must-link"
    assert marked.drop(index=[missed]).isna().all()
    again = linkage.link(
        x.enterprises, x.employers, enterprises(), overrides=Overrides(decisions), trace=True
    )
    pd.testing.assert_frame_equal(again.links, result.links)
    scored = again.scored_pairs().set_index(["left_id", "right_id"])
    assert scored.loc[true_link, "override"] == "cannot-link"
    assert scored.loc[true_link, "status"] != "link"


def test_conflicting_overrides_are_refused(data) -> None:
    x, _, _, true_link, _missed, decisions = data
    both = pd.concat([decisions, decisions.assign(decision=["must-link", "cannot-link"])])
    with pytest.raises(ConfigError, match="both a must-link and a cannot-link"):
        Overrides(both)
    with pytest.raises(SchemaError, match="row 2"):
        Overrides(decisions.assign(decision=["maybe", "must-link"]))
    two = decisions.assign(decision="must-link", left_id=true_link[0])
    with pytest.raises(ConfigError, match="two must-links"):
        linkage.link(x.enterprises, x.employers, enterprises(), overrides=Overrides(two))


def test_cli_link_overrides(data, tmp_path: Path, capsys) -> None:
    x, _base, links, true_link, missed, decisions = data
    x.write(tmp_path)
    decisions.to_csv(tmp_path / "overrides.csv", index=False)
    assert len(read_overrides(tmp_path / "overrides.csv")) == 2
    argv = [
        "link",
        str(tmp_path / "enterprises.parquet"),
        str(tmp_path / "employers.parquet"),
        "--preset",
        "enterprises",
        "--overrides",
        str(tmp_path / "overrides.csv"),
    ]
    for out in ("a.parquet", "b.parquet"):
        assert main([*argv, "--out", str(tmp_path / out)]) == 0
    a, b = (pd.read_parquet(tmp_path / f) for f in ("a.parquet", "b.parquet"))
    pd.testing.assert_frame_equal(a, b)
    assert set(map(tuple, a[IDS].to_numpy())) == (links - {true_link}) | {missed}
    decisions.drop(columns=["why"]).to_csv(tmp_path / "bad.csv", index=False)
    argv[-1] = str(tmp_path / "bad.csv")
    assert main([*argv, "--out", str(tmp_path / "c.parquet")]) == EXIT_INPUT
    assert "why" in capsys.readouterr().err
