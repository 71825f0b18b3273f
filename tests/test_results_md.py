"""benchmarks/results_md.py: RESULTS.md written from a results.json, and --check."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

TIMES = "\u00d7"  # the multiplication sign of the tables
SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "results_md.py"


@pytest.fixture(scope="module")
def results_md():
    spec = importlib.util.spec_from_file_location("results_md", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _variant(name, links, tp, fp, fn, extra_s=0.0):
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {
        "variant": name,
        "links": links,
        "extra_s": extra_s,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
    }


def _row(tool, seconds, variants, stages, peak=100.0, growth=50.0, pairs=1_234):
    return {
        "tool": tool,
        "enterprises": 1_000,
        "employers": 800,
        "true_links": 700,
        "load_average": [0.5, 0.4, 0.3],
        "status": "ok",
        "prepare_s": 0.1,
        "seconds": seconds,
        "pairs": pairs,
        "stages": stages,
        "variants": variants,
        "peak_rss_mib": peak,
        "growth_mib": growth,
        "inputs_rss_mib": peak - growth,
    }


def _run(commit, u, splink_seconds):
    return {
        "label": "",
        "git": {"commit": commit, "dirty": False, "dirty_paths": []},
        "started": "2030-01-02T03:04:05+0000",
        "finished": "2030-01-02T03:14:05+0000",
        "elapsed_s": 600.0,
        "load_average_start": [0.5, 0.4, 0.3],
        "load_average_end": [0.6, 0.5, 0.4],
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 4.0, "python": "3.11.7"},
        "command": "python benchmarks/compare_tools.py --sizes 1000 --json benchmarks/results.json",
        "seed": 7,
        "splink_u_max_pairs": u,
        "timeout_s": 60.0,
        "settings": {},
        "rows": [
            _row(
                "linkage",
                2.0,
                [_variant("", 690, 689, 1, 11)],
                {"prepare": 0.1, "block": 0.5, "compare": 0.5},
                peak=100.0,
            ),
            _row(
                "splink",
                splink_seconds,
                [_variant("", 750, 695, 55, 5), _variant("+ 1:1", 700, 690, 10, 10, 0.5)],
                {"prepare": 0.1, "train": 20.0, "predict": 4.0},
                peak=400.0,
            ),
        ],
    }


@pytest.fixture
def results(tmp_path: Path) -> Path:
    data = {
        "stages": {
            "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 4.0, "python": "3.11.7"},
            "finished": "2030-01-02 02:00:00",
            "rows": [
                {
                    "stage": "link: enterprises",
                    "scale": 1_000,
                    "scale_unit": "enterprises",
                    "items": 1_800,
                    "unit": "records",
                    "seconds": 0.9,
                    "per_s": 2_000.0,
                    "peak_mib": 42.0,
                    "pairs": 1_234,
                    "links": 690,
                    "timings": {"prepare": 0.3, "block": 0.2},
                    "true_positives": 689,
                    "false_positives": 1,
                    "false_negatives": 11,
                    "precision": 689 / 690,
                    "recall": 689 / 700,
                    "f1": 0.9913,
                }
            ],
        },
        "comparison": _run("a" * 40, 1e7, 25.0),
        "comparison_runs": {"splink_u1e6": _run("b" * 40, 1e6, 15.0)},
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def test_writes_the_figures_of_the_json(results_md, results: Path, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert results_md.main(["--json", str(results), "--out", str(out)]) == 0
    text = out.read_text()
    flat = " ".join(text.split())  # prose is wrapped: compare it with its lines joined
    # Splink at 25.0 s against linkage at 2.0 s in the main run; 15.0 s in the labelled run.
    assert f"**12.5{TIMES}** (25.0 s / 2.0 s)" in text
    assert f"**7.5{TIMES}** (15.0 s / 2.0 s" in text
    assert "commit `aaaaaaa`, clean tree" in flat
    assert "commit `bbbbbbb`" in text
    assert "comparison_runs.splink_u1e6" in text
    assert "| **link: enterprises → employers** | 1,800 records | **0.900** | 2,000 | 42 |" in text
    assert "seed 7" in flat
    assert "(u from 1e6 pairs)" in text
    assert not list(tmp_path.glob(".RESULTS.md.*")), "no temporary file left behind"


def test_check_detects_a_stale_file(results_md, results: Path, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    args = ["--json", str(results), "--out", str(out)]
    assert results_md.main([*args, "--check"]) == 1  # missing
    results_md.main(args)
    assert results_md.main([*args, "--check"]) == 0
    out.write_text(out.read_text().replace(f"12.5{TIMES}", f"13.0{TIMES}"))
    assert results_md.main([*args, "--check"]) == 1
    # The data changes, the file does not: stale again.
    results_md.main(args)
    data = json.loads(results.read_text())
    data["comparison"]["rows"][1]["seconds"] = 30.0
    results.write_text(json.dumps(data))
    assert results_md.main([*args, "--check"]) == 1
