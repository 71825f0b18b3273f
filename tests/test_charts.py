"""Charts draw what they say (bars per level, threshold lines, legends, the waterfall's
total), and the tables behind them agree with the pipeline and the evaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage.blocking import pair_completeness
from linkage.charts import data as cd

if os.environ.get("CI"):  # CI must draw the charts, not skip them
    import matplotlib  # noqa: F401
else:
    pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from linkage import charts


@pytest.fixture(scope="module")
def run():
    exchange = linkage.synthetic.load_sample()
    spec = linkage.presets.enterprises()
    result = linkage.link(exchange.enterprises, exchange.employers, spec)
    return exchange, spec, result, exchange.truth_enterprises


def _axes_by_gid(fig: Figure, gid: str):
    found = [ax for ax in fig.axes if ax.get_gid() == gid]
    assert len(found) == 1, f"no single axes with gid {gid!r}"
    return found[0]


def _line_by_gid(ax, gid: str):
    found = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, f"no single line with gid {gid!r}"
    return found[0]


def _legend_texts(ax_or_fig) -> list[str]:
    legends = ax_or_fig.legends if isinstance(ax_or_fig, Figure) else [ax_or_fig.get_legend()]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def test_importing_charts_does_not_import_matplotlib() -> None:
    code = (
        "import sys, linkage, linkage.charts, linkage.charts.data; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------- data helpers


def test_truth_labels_and_links_agree_with_link_quality(run) -> None:
    _, spec, result, truth = run
    pairs = cd.classify_pairs(result, truth)
    quality = linkage.link_quality(
        result.links,
        truth,
        on=list(result.links.columns[:2]),
        truth_on=[spec.left_id, spec.right_id],
    )
    assert pairs["linked"].sum() == len(result.links)
    assert (pairs["outcome"] == "true link").sum() == quality.true_positives
    assert (pairs["outcome"] == "false link").sum() == quality.false_positives
    errors = cd.misclassified(result, truth)
    assert (errors["outcome"] == "false link").sum() == quality.false_positives
    assert (errors["outcome"] == "missed").sum() == quality.false_negatives
    # Level labels come from the comparisons.
    for k, c in enumerate(spec.comparisons):
        expected = np.array(["null", *c.level_labels])[result.gamma[:, k] + 1]
        assert (pairs[c.name].astype(str).to_numpy() == expected).all()


def test_misclassified_lists_missed_pairs_blocking_never_proposed(run) -> None:
    exchange, spec, result, truth = run
    extra = pd.DataFrame(
        {
            spec.left_id: [exchange.enterprises[spec.left_id].iloc[0]],
            spec.right_id: [exchange.employers[spec.right_id].iloc[-1]],
        }
    )
    errors = cd.misclassified(
        result,
        pd.concat([truth, extra]),
        left=exchange.enterprises,
        right=exchange.employers,
        columns=("name",),
    )
    lost = errors[errors["number"] == cd.NOT_A_CANDIDATE]
    assert len(lost) >= 1 and lost["match_weight"].isna().all()
    assert {"name_l", "name_r"} <= set(errors.columns)


def test_sweep_at_the_chosen_threshold_matches_the_links(run) -> None:
    _, spec, result, truth = run
    cut = cd.threshold_weight(result)
    sweep = cd.sweep(result, truth, thresholds=[cut - 5, cut, cut + 5])
    at = sweep[sweep["threshold"] == cut].iloc[0]
    quality = linkage.link_quality(
        result.links,
        truth,
        on=list(result.links.columns[:2]),
        truth_on=[spec.left_id, spec.right_id],
    )
    assert at["links"] == len(result.links)
    assert at["f1"] == pytest.approx(quality.f1)
    assert sweep["links"].is_monotonic_decreasing


def test_review_sample_stays_near_the_threshold(run) -> None:
    exchange, _, result, _ = run
    sample = cd.review_sample(
        result,
        n=15,
        width=4.0,
        left=exchange.enterprises,
        right=exchange.employers,
        columns=("name",),
    )
    assert 0 < len(sample) <= 15
    assert ((sample["match_weight"] - cd.threshold_weight(result)).abs() <= 4.0).all()
    assert sample["match_weight"].is_monotonic_decreasing
    assert {"linked", "name_l", "name_r"} <= set(sample.columns)


def test_explain_pair_adds_up_to_the_pipeline_weight(run) -> None:
    exchange, _, result, _ = run
    for position in np.linspace(0, len(result.pairs) - 1, 25).astype(int):
        table = cd.explain_pair(result, int(position), exchange.enterprises, exchange.employers)
        assert table["weight"].iloc[-1] == pytest.approx(result.weights[position])


def test_blocking_report_matches_the_pipeline(run) -> None:
    exchange, spec, result, truth = run
    report = cd.blocking_report(exchange.enterprises, exchange.employers, spec, truth)
    assert list(report.index) == [*result.pairs.by_rule, "all rules"]
    assert report["pairs"].iloc[:-1].tolist() == list(result.pairs.by_rule.values())
    assert report.loc["all rules", "pairs"] == len(result.pairs)
    tl, tr = cd.truth_positions(result, truth)
    assert report.loc["all rules", "completeness"] == pytest.approx(
        pair_completeness(result.pairs, tl, tr)
    )
    assert (report["completeness"].between(0, 1)).all()


def test_value_frequencies_are_shares(run) -> None:
    exchange, spec, _, _ = run
    freq = cd.value_frequencies(exchange.enterprises, exchange.employers, spec)
    assert freq.sum() == pytest.approx(1.0)
    assert freq.is_monotonic_decreasing


def test_field_quality_counts_every_record_once() -> None:
    table = pd.DataFrame(
        {
            "party": ["A", "A", "A", "B"],
            "enterprise_number": ["0403.170.701", "0403170702", None, "BE 0403 170 701"],
            "email": ["info@example.be", "not an address", "", None],
        }
    )
    quality = cd.field_quality(
        table, {"enterprise_number": "enterprise_number", "email": "email"}, by="party"
    )
    sums = quality.groupby(["party", "field"])["share"].sum()
    assert np.allclose(sums, 1.0)
    a = quality[(quality["party"] == "A") & (quality["field"] == "enterprise_number")]
    assert dict(zip(a["status"], a["count"], strict=True)) == {
        "valid": 1,
        "missing": 1,
        "check digits do not match (mod 97)": 1,
    }
    with pytest.raises(ValueError, match="unknown check"):
        cd.field_quality(table, {"email": "fax"})


@pytest.mark.parametrize("shape", ["runs", "bare list", "pytest-benchmark"])
def test_load_benchmark_runs_is_tolerant(tmp_path, shape) -> None:
    runs = [
        {
            "tool": "linkage",
            "task": "enterprises",
            "n_enterprises": n,
            "seconds": s,
            "peak_mib": 100.0,
            "f1": 0.99,
        }
        for n, s in ((10_000, 1.2), (100_000, 9.5))
    ]
    payload = {
        "runs": {"machine": {"cores": 2}, "runs": runs},
        "bare list": runs,
        "pytest-benchmark": {
            "benchmarks": [
                {
                    "name": f"test_link[{r['n_enterprises']}]",
                    "params": {"n": r["n_enterprises"]},
                    "stats": {"mean": r["seconds"]},
                    "extra_info": {"tool": "linkage"},
                }
                for r in runs
            ]
        },
    }[shape]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(payload))
    frame = cd.load_benchmark_runs(path)
    assert list(frame.columns[:6]) == list(cd.RUN_COLUMNS)
    assert frame["n_enterprises"].tolist() == [10_000, 100_000]
    assert frame["seconds"].tolist() == [1.2, 9.5]


def test_time_linkage_measures_a_small_run() -> None:
    runs = cd.time_linkage((300,))
    assert len(runs) == 1
    assert runs.loc[0, "seconds"] > 0 and 0 < runs.loc[0, "f1"] <= 1


# ---------------------------------------------------------------------------- charts


def test_weight_distribution_by_truth(run) -> None:
    _, _, result, truth = run
    labels = cd.truth_labels(result, truth)
    cut = cd.threshold_weight(result)
    fig = charts.weight_distribution(result.weights, truth=labels, threshold=cut)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert _line_by_gid(ax, "threshold").get_xdata()[0] == pytest.approx(cut)
    texts = _legend_texts(ax)
    assert texts[0] == f"non-match ({(~labels).sum():,})"
    assert texts[1] == f"true match ({labels.sum():,})"
    assert ax.get_xlabel() == "match weight (bits)"
    assert ax.get_yscale() == "log"


def test_weight_distribution_by_link_status_and_bad_input(run) -> None:
    _, _, result, _ = run
    linked = cd.linked_mask(result)
    fig = charts.weight_distribution(result.weights, links_mask=linked)
    assert [t.split(" (")[0] for t in _legend_texts(fig.axes[0])] == ["not linked", "linked"]
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "threshold"]
    with pytest.raises(ValueError, match="not both"):
        charts.weight_distribution(result.weights, truth=linked, links_mask=linked)
    with pytest.raises(ValueError, match="one bool per weight"):
        charts.weight_distribution(result.weights, truth=linked[:-1])


def test_threshold_curves(run) -> None:
    _, _, result, truth = run
    sweep = cd.sweep(result, truth)
    cut = cd.threshold_weight(result)
    fig = charts.threshold_curves(sweep, chosen=cut)
    ax = fig.axes[0]
    assert _line_by_gid(ax, "chosen").get_xdata()[0] == pytest.approx(cut)
    texts = _legend_texts(ax)
    assert texts[:3] == ["precision", "recall", "F1"]
    assert texts[3].startswith("chosen")
    curves = [ln for ln in ax.get_lines() if ln.get_gid() != "chosen"]
    assert np.allclose(curves[2].get_ydata(), sweep["f1"])
    assert ax.get_xlabel() == "match weight threshold (bits)"


def test_parameters_draw_every_level_of_each_sub_model(run) -> None:
    _, spec, result, _ = run
    model = result.model
    fig = charts.parameters(model)
    tables = model.sub_model_weight_tables()
    assert set(tables) == {"other pairs", "pairs with equal numbers"}
    for k, c in enumerate(spec.comparisons):
        weights = _axes_by_gid(fig, f"weight:{c.name}")
        # The main model's bars, then the settled sub-model's (none for the number,
        # which adds nothing to the pairs it settles).
        drawn = [p.get_width() for p in weights.patches]
        expected = [tables["other pairs"][k][1:]]
        if not c.decisive:
            expected.append(tables["pairs with equal numbers"][k][1:])
        assert np.allclose(drawn, np.concatenate(expected))
        mu = _axes_by_gid(fig, f"mu:{c.name}")
        assert len(mu.patches) == 2 * c.n_levels
        assert np.allclose([p.get_width() for p in mu.patches[: c.n_levels]], model.m_[k])
        assert [t.get_text() for t in mu.get_yticklabels()] == list(c.level_labels)
    assert _legend_texts(fig) == [
        "m (among matches)",
        "u (among non-matches)",
        "weight: other pairs and pairs without a number",
        "weight: pairs with equal numbers",
    ]
    # The patterns of pairs without a number, largest dependence first (drawn last).
    dependence = _axes_by_gid(fig, "dependence")
    top = model.dependence_table().head(8)
    assert np.allclose([p.get_width() for p in dependence.patches][::-1], top["dependence"])
    title = fig.get_suptitle()
    for name in ("other pairs", "pairs with equal numbers", "pairs without a number"):
        assert name in title
    one = charts.parameters(model, comparisons=["name"])
    assert len(one.axes) == 3


def test_waterfall_ends_at_the_total(run) -> None:
    exchange, spec, result, _ = run
    position = int(np.argmin(np.abs(result.weights - cd.threshold_weight(result))))
    table = cd.explain_pair(result, position, exchange.enterprises, exchange.employers)
    fig = charts.waterfall(table)
    ax = fig.axes[0]
    bars = ax.patches
    # prior, the comparisons, the dependence of a pair without a number, the total
    joint = ["dependence"] if result.gamma[position, 0] < 0 else []
    assert len(bars) == len(table) == len(spec.comparisons) + 2 + len(joint)
    last = bars[-1]
    assert last.get_y() == pytest.approx(0.0)
    assert last.get_y() + last.get_height() == pytest.approx(result.weights[position])
    # Each step ends where the running total is.
    tops = [b.get_y() + b.get_height() for b in bars[:-1]]
    assert np.allclose(tops, table["cumulative"].iloc[:-1])
    ticks = [t.get_text().split("\n") for t in ax.get_xticklabels()]
    assert [t[0] for t in ticks] == ["prior", *(c.name for c in spec.comparisons), *joint, "total"]
    # Both records' values under each comparison that has them.
    for lines, lv, rv in zip(ticks, table["left"], table["right"], strict=True):
        if lv or rv:
            assert lines[-2].startswith("L: ") and lines[-1].startswith("R: ")
    with pytest.raises(ValueError, match="explain"):
        charts.waterfall(table.drop(columns="cumulative"))


def test_blocking_from_pairs_and_from_the_report(run) -> None:
    exchange, spec, result, truth = run
    fig = charts.blocking(result.pairs)
    ax = _axes_by_gid(fig, "pairs")
    counts = [*result.pairs.by_rule.values(), len(result.pairs)]
    assert [p.get_width() for p in ax.patches[: len(counts)]] == counts
    rules = [t.get_text() for t in ax.get_yticklabels()]
    assert rules == [*result.pairs.by_rule, "all rules"]

    report = cd.blocking_report(exchange.enterprises, exchange.employers, spec, truth)
    fig = charts.blocking(report)
    completeness = _axes_by_gid(fig, "completeness")
    assert np.allclose([p.get_width() for p in completeness.patches], report["completeness"])


def test_blocking_hatches_skipped_pairs() -> None:
    pairs = linkage.blocking.Pairs(
        left=np.zeros(3, np.int32),
        right=np.arange(3, dtype=np.int32),
        n_left=1,
        n_right=3,
        by_rule={"a": 2, "b": 3},
        skipped={"b": 1_000},
    )
    ax = _axes_by_gid(charts.blocking(pairs), "pairs")
    assert len(ax.patches) == 3 + 1  # two rules and the union, one skipped segment
    assert _legend_texts(ax) == ["skipped (blocks over the cap)"]


def test_term_frequency(run) -> None:
    exchange, spec, result, _ = run
    freq = cd.value_frequencies(exchange.enterprises, exchange.employers, spec)
    model = result.model
    fig = charts.term_frequency(model, freq, n_labels=3)
    ax = fig.axes[0]
    k = next(k for k, c in enumerate(spec.comparisons) if c.term_frequency)
    base = model.weight_tables()[k][-1]
    assert _line_by_gid(ax, "no_tf").get_ydata()[0] == pytest.approx(base)
    points = next(c for c in ax.collections if c.get_gid() == "common")
    xy = points.get_offsets()
    assert 1 <= len(xy) <= 3
    assert np.allclose(xy[:, 1], base + np.log2(model.u_random_[k][-1] / xy[:, 0]))
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="no comparison"):
        charts.term_frequency(model, freq, comparison="nope")


def test_data_quality_one_panel_per_party() -> None:
    table = pd.DataFrame(
        {
            "party": ["A", "A", "B", "B"],
            "phone": ["09 225 12 34", "12", None, "0470 12 34 56"],
        }
    )
    quality = cd.field_quality(table, {"phone": "phone"}, by="party")
    fig = charts.data_quality(quality)
    assert [ax.get_gid() for ax in fig.axes] == ["quality:A", "quality:B"]
    assert _legend_texts(fig) == ["valid", "missing", "invalid number"]
    for ax in fig.axes:  # stacked shares fill the bar
        assert sum(p.get_width() for p in ax.patches) == pytest.approx(1.0)


def test_time_vs_scale_one_line_per_tool() -> None:
    runs = cd.runs_frame(
        [
            {
                "tool": t,
                "task": "enterprises",
                "n_enterprises": n,
                "seconds": s * n / 1e4,
                "f1": 0.99,
            }
            for t, s in (("linkage", 1.0), ("recordlinkage", 8.0))
            for n in (10_000, 100_000)
        ]
    )
    fig = charts.time_vs_scale(runs)
    assert len(fig.axes) == 1  # no peak_mib values: no memory panel
    ax = fig.axes[0]
    assert _legend_texts(ax)[:2] == ["linkage · enterprises", "recordlinkage · enterprises"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_ylabel() == "seconds"
    with pytest.raises(ValueError, match="has values"):
        charts.time_vs_scale(runs, metrics=("peak_mib",))


def test_benchmark_runs_from_the_side_by_side_script(tmp_path) -> None:
    import json

    from linkage.charts.data import load_benchmark_runs

    rows = [
        {
            "tool": "splink",
            "enterprises": 10_000,
            "seconds": 12.0,
            "peak_rss_mib": 400.0,
            "status": "ok",
            "variants": [
                {"variant": "", "extra_s": 0.0, "f1": 0.99},
                {"variant": "+ 1:1", "extra_s": 0.5, "f1": 0.995},
            ],
        },
        {"tool": "recordlinkage", "enterprises": 485_000, "status": "timeout"},
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"stages": {}, "comparison": {"rows": rows}}))
    runs = load_benchmark_runs(path)
    assert runs["tool"].tolist() == ["splink", "splink + 1:1"]
    assert runs["seconds"].tolist() == [12.0, 12.5]
    assert runs["f1"].tolist() == [0.99, 0.995]


def test_benchmark_runs_of_one_stage_run(tmp_path) -> None:
    import json

    from linkage.charts.data import load_benchmark_runs

    rows = [
        {"stage": "link: enterprises (encoded)", "scale": 20_000, "seconds": 0.5, "f1": 0.998},
        {"stage": "link: enterprises (clear)", "scale": 20_000, "seconds": 0.7, "f1": 0.999},
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"stages": {"rows": []}, "encoding": {"rows": rows}}))
    runs = load_benchmark_runs(path, key="encoding")
    assert runs["task"].tolist() == ["link: enterprises (clear)", "link: enterprises (encoded)"]
    assert runs["n_enterprises"].tolist() == [20_000, 20_000]
    assert runs["seconds"].tolist() == [0.7, 0.5]
    with pytest.raises(ValueError, match="no run stored under 'nothing'"):
        load_benchmark_runs(path, key="nothing")


def test_review_sample_and_errors_with_columns_named_otherwise() -> None:
    exchange = linkage.synthetic.generate(n_enterprises=1_500, seed=5)
    right = exchange.employers.rename(columns={"name": "bedrijfsnaam"})
    spec = linkage.presets.enterprises(right_columns={"name": "bedrijfsnaam"})
    result = linkage.link(exchange.enterprises, right, spec)
    left = exchange.enterprises
    # The same name in both tables: one line saying what to pass, not a raw KeyError.
    with pytest.raises(linkage.SchemaError, match=r"bedrijfsnaam.*mapping"):
        cd.review_sample(result, left=left, right=right, columns=("name",))
    shown = cd.record_columns(spec, ["name", "postcode"])
    assert shown == {"name": "bedrijfsnaam", "postcode": "postcode"}
    sample = cd.review_sample(result, n=10, left=left, right=right, columns=shown)
    assert {"name_l", "bedrijfsnaam_r", "postcode_l", "postcode_r"} <= set(sample.columns)
    first = sample.iloc[0]
    lrow = left.set_index("enterprise_number").loc[first["left_id"]]
    assert first["name_l"] == lrow["name"]
    truth = exchange.truth_enterprises
    errors = cd.misclassified(result, truth, left=left, right=right, columns=shown)
    assert {"name_l", "bedrijfsnaam_r"} <= set(errors.columns)
