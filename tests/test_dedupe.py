"""Deduplication: one table against itself, clusters by connected components.

No record is paired with itself, each pair is found once, cluster ids are the
smallest id of the cluster (the same in any row order), a component over the size
limit is reported and not merged, and on the synthetic employers with duplicates
the clusters are measured: pairwise and cluster precision and recall.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage.blocking import Pairs, one_table
from linkage.cli import EXIT_INPUT, main
from linkage.dedupe import _clusters, dedupe_quality
from linkage.exceptions import ConfigError
from linkage.presets import enterprises
from linkage.resolve import connected_components


@pytest.fixture(scope="module")
def exchange() -> linkage.synthetic.SyntheticExchange:
    return linkage.synthetic.generate(4000, seed=7, duplicate_employers=0.05)


# ------------------------------------------------------------------ the parts


def test_duplicates_are_off_by_default_and_leave_the_other_tables_alone(
    exchange: linkage.synthetic.SyntheticExchange,
) -> None:
    plain = linkage.synthetic.generate(4000, seed=7)
    assert plain.truth_duplicates.empty and "duplicate_employers" not in plain.manifest()
    for name in ("enterprises", "sites", "truth_enterprises"):
        assert getattr(plain, name).equals(getattr(exchange, name))
    truth = exchange.truth_duplicates
    known = len(plain.employers) - int(plain.employers["enterprise_number"].isna().sum())
    assert 0 < len(truth) < 0.1 * known
    assert len(exchange.employers) == len(plain.employers) + len(truth)
    assert exchange.employers["employer_id"].is_unique
    assert set(truth["employer_id"]) <= set(plain.employers["employer_id"])


def test_one_table_keeps_each_pair_of_two_records_once() -> None:
    pairs = Pairs(
        left=np.array([0, 0, 1, 2, 2, 3], np.int32),
        right=np.array([0, 1, 0, 3, 2, 2], np.int32),
        n_left=4,
        n_right=4,
    )
    folded = one_table(pairs)
    assert folded.left.tolist() == [0, 2] and folded.right.tolist() == [1, 3]


@pytest.mark.parametrize("n", [1, 10, 2_000])
def test_the_union_find_equals_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    for edges in (0, n // 2, n, 3 * n):
        left, right = rng.integers(0, n, edges), rng.integers(0, n, edges)
        assert np.array_equal(
            connected_components(n, left, right, scipy=False),
            connected_components(n, left, right, scipy=True),
        )
    chain = rng.permutation(n)  # one long chain, in random order
    labels = connected_components(n, chain[:-1], chain[1:], scipy=False)
    assert (labels == 0).all()


def test_cluster_ids_are_the_smallest_id_and_oversized_components_are_not_merged() -> None:
    ids = pd.Index(["e", "b", "d", "a", "c", "f", "g"])
    # b-e; a-c-d-g (four records, over a limit of 3); f alone.
    left, right = np.array([0, 3, 4, 2], np.int32), np.array([1, 4, 2, 6], np.int32)
    clusters, oversized = _clusters(ids, left, right, 3)
    assert clusters["cluster_id"].tolist() == ["b", "b", "d", "a", "c", "f", "g"]
    assert clusters["cluster_size"].tolist() == [2, 2, 1, 1, 1, 1, 1]
    assert clusters["oversized"].tolist() == [None, None, "a", "a", "a", None, "a"]
    assert oversized.to_dict(orient="records") == [{"component": "a", "size": 4}]
    merged, none = _clusters(ids, left, right, 4)
    assert merged["cluster_id"].tolist() == ["b", "b", "a", "a", "a", "f", "a"] and none.empty


def test_dedupe_quality_by_hand() -> None:
    clusters = pd.DataFrame({"id": list("abcdef"), "cluster_id": list("aacddf")})
    truth = pd.DataFrame({"x": ["a", "c", "e"], "y": ["b", "d", "f"]})
    q = dedupe_quality(clusters, truth, on="id")
    # found pairs a-b (true), d-e (false); true a-b, c-d, e-f; exact cluster {a, b}.
    assert (q["found_pairs"], q["true_pairs"]) == (2, 3)
    assert q["pair_precision"] == 0.5 and q["pair_recall"] == pytest.approx(1 / 3)
    assert q["cluster_precision"] == 0.5 and q["cluster_recall"] == pytest.approx(1 / 3)


# ------------------------------------------------------------------ whole runs


def test_dedupe_finds_the_duplicate_employers(
    exchange: linkage.synthetic.SyntheticExchange,
) -> None:
    employers = exchange.employers
    result = linkage.dedupe(employers, enterprises(threshold=0.9), side="right")
    assert (result.pairs.left < result.pairs.right).all()  # no self-pairs, each pair once
    packed = result.pairs.left.astype(np.int64) * len(employers) + result.pairs.right
    assert np.unique(packed).size == len(result.pairs)
    assert result.clusters["employer_id"].tolist() == employers["employer_id"].tolist()
    q = dedupe_quality(result.clusters, exchange.truth_duplicates, on="employer_id")
    # (4,000 enterprises, 108 duplicates; 50,000 in benchmarks/bench_dedupe.py)
    assert q["pair_precision"] >= 0.9 and q["pair_recall"] >= 0.95, q
    assert q["cluster_precision"] >= 0.9 and q["cluster_recall"] >= 0.95, q
    # The same records in another order: the same clusters, by id.
    shuffled = employers.sample(frac=1.0, random_state=3)
    again = linkage.dedupe(shuffled, enterprises(threshold=0.9), side="right")
    by_id = again.clusters.set_index("employer_id")["cluster_id"]
    assert (
        by_id.reindex(employers["employer_id"]).tolist() == result.clusters["cluster_id"].tolist()
    )


def test_a_table_with_both_ids_needs_its_side(
    exchange: linkage.synthetic.SyntheticExchange,
) -> None:
    with pytest.raises(ConfigError, match="has both of the spec's ids"):
        linkage.dedupe(exchange.employers, enterprises())


def test_dedupe_on_the_command_line(
    exchange: linkage.synthetic.SyntheticExchange,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = tmp_path / "werkgevers.csv"
    mine = exchange.employers.drop(columns=["website"]).rename(columns={"name": "naam"})
    table.write_bytes(mine.to_csv(index=False, sep=";").encode("cp1252"))
    out = tmp_path / "clusters.parquet"
    argv = ["dedupe", str(table), "--preset", "enterprises", "--side", "right"]
    argv += ["--columns", "name=naam", "--threshold", "0.9", "--out", str(out), "--json"]
    capsys.readouterr()
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    clusters = pd.read_parquet(out)
    assert len(clusters) == len(mine) and summary["table"]["rows"] == len(mine)
    assert summary["clusters"] == clusters.loc[clusters["cluster_size"] > 1, "cluster_id"].nunique()
    assert summary["notes"] and "'website'" in summary["notes"][0]
    q = dedupe_quality(clusters, exchange.truth_duplicates, on="employer_id")
    assert q["cluster_recall"] >= 0.9, q
    argv = ["dedupe", str(table), "--preset", "enterprises", "--out", str(out)]
    assert main([*argv, "--columns", "name=naam"]) == EXIT_INPUT
    assert "say which side the table is" in capsys.readouterr().err


def test_dedupe_maps_the_id_of_its_own_side_only(
    exchange: linkage.synthetic.SyntheticExchange,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--columns employer_id=...`` names the right side's id: the left side's
    mapping is not asked to hold it (it once was, and refused)."""
    table = tmp_path / "werkgevers.parquet"
    mine = exchange.employers.drop(columns=["enterprise_number"]).rename(
        columns={"employer_id": "werkgever_id", "name": "naam"}
    )
    mine.to_parquet(table, index=False)
    out = tmp_path / "clusters.csv"
    for side in (["--side", "right"], []):
        argv = ["dedupe", str(table), "--preset", "enterprises", *side, "--out", str(out)]
        assert main([*argv, "--columns", "employer_id=werkgever_id,name=naam"]) == 0, side
        clusters = pd.read_csv(out, dtype=str)
        assert set(clusters["werkgever_id"]) == set(mine["werkgever_id"])
    capsys.readouterr()


def test_a_warning_on_the_command_line_is_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The committed sample holds no duplicates: EM cannot converge, and the command
    says so in one line of its log, without a file path."""
    sample = Path(linkage.__file__).parents[2] / "data" / "synthetic" / "employers.parquet"
    argv = ["dedupe", str(sample), "--preset", "enterprises", "--side", "right"]
    with caplog.at_level(logging.WARNING, logger="linkage"):
        assert main([*argv, "--out", str(tmp_path / "c.csv")]) == 0
    warned = [r.getMessage() for r in caplog.records if "converg" in r.getMessage()]
    assert warned and all(w.startswith("warning: ") and ".py" not in w for w in warned)
    assert all("\n" not in w for w in warned)
