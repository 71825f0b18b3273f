"""Side by side: linkage, Splink (DuckDB) and recordlinkage on the same synthetic data.

Run (from the repository root, with ``pip install -e '.[compare]'``)::

    python benchmarks/compare_tools.py --sizes 10000,100000,485000 \\
        --json benchmarks/results.json --plot benchmarks/time_vs_scale.png

    # a sensitivity run, stored beside the main one under its label
    SPLINK_U_MAX_PAIRS=1e6 python benchmarks/compare_tools.py --sizes 485000 \\
        --tools linkage,splink --label splink_u1e6 --json benchmarks/results.json

``--json`` merges the run into that file (other keys kept, written atomically): the
main run under ``"comparison"``, a run with ``--label L`` under
``"comparison_runs"[L]``. Each run records the commit (``git rev-parse HEAD``, whether
tracked files differed from it and which), its start and end, the machine (cores,
memory, Python, library versions, load, niceness), the seed, Splink's u sample and
the command that reproduces it. ``benchmarks/results_md.py`` writes RESULTS.md from
that file.

The enterprise task: VLAIO/TBT's enterprises to VDAB's employers, scored against the
synthetic truth with :func:`linkage.evaluate.link_quality`. For each scale the
exchange is generated once (seed 7, ``SEED``) and its three tables written to Parquet; every
tool then runs in a fresh Python process that reads them, so that each peak memory
belongs to one tool alone. Timed: from the raw tables in memory to the links
(reading Parquet and evaluating are not). A tool that does not finish a scale within
``--timeout`` seconds is stopped, recorded as such, and not run at larger scales.

Memory: the process's peak resident set (``VmHWM``; all allocations, DuckDB's and
numpy's included) and its growth over the process after reading the inputs.

The peers are configured as their documentation teaches (see ``SETTINGS``), on the
same cleaned fields linkage computes (normalised names, parsed numbers, E.164
phones, ...): the time of that cleaning is reported as ``prepare`` and included in
their total, as it is in ours.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _provenance

TOOLS = ("linkage", "splink", "recordlinkage")
# Overridable for a sensitivity run: SPLINK_U_MAX_PAIRS=1e6 python benchmarks/compare_tools.py
SPLINK_U_MAX_PAIRS_TEXT = os.environ.get("SPLINK_U_MAX_PAIRS", "1e7").strip()
SPLINK_U_MAX_PAIRS = float(SPLINK_U_MAX_PAIRS_TEXT)
# Environment variables that change what a run measures: recorded in its command.
_ENV = ("SPLINK_U_MAX_PAIRS", "RL_N_JOBS")
ENT = ("enterprise_number", "employer_id")
SEED = 7
REPO = Path(__file__).resolve().parent.parent

# Written into results.json and RESULTS.md: what each tool was asked to do.
SETTINGS: dict[str, dict[str, Any]] = {
    "linkage": {},  # filled from the preset at run time: it is being tuned
    "peer_fields": "cleaned by linkage.prepare: number (digits of the enterprise number, "
    "canonical where valid), name_sorted (normalised name, legal form and punctuation "
    "removed, tokens sorted), name_prefix (first 4 letters of the normalised name), "
    "postcode, address (normalised street + house number), phone (E.164), email, website "
    "(host)",
    "splink": {
        "backend": "DuckDBAPI() (all cores)",
        "blocking_rules_to_generate_predictions": [
            "block_on('number')",
            "block_on('postcode', 'name_prefix')",
            "block_on('postcode', 'address')",
            "block_on('phone')",
            "block_on('email')",
            "block_on('website')",
            "block_on('name_sorted')",
        ],
        "comparisons": [
            "cl.DamerauLevenshteinAtThresholds('number', [1])",
            "cl.JaroWinklerAtThresholds('name_sorted', [0.95, 0.88, 0.75])"
            ".configure(term_frequency_adjustments=True)",
            "cl.JaroWinklerAtThresholds('address', [0.95, 0.85])",
            "cl.ExactMatch('postcode')",
            "cl.ExactMatch('phone')",
            "cl.ExactMatch('email')",
            "cl.ExactMatch('website')",
        ],
        "training": [
            "estimate_probability_two_random_records_match([block_on('number')], recall=0.7)",
            f"estimate_u_using_random_sampling(max_pairs={SPLINK_U_MAX_PAIRS_TEXT})",
            "estimate_parameters_using_expectation_maximisation(block_on('number'))",
            "estimate_parameters_using_expectation_maximisation("
            "block_on('postcode', 'name_prefix'))",
        ],
        "decision": "predict(threshold_match_probability=0.5); "
        "'+ 1:1' adds cluster_using_single_best_links(duplicate_free_datasets=both)",
    },
    "recordlinkage": {
        "index": [
            "Index.block('number')",
            "Index.block(['postcode', 'name_prefix'])",
            "Index.block(['postcode', 'address'])",
            "Index.block('phone')",
            "Index.block('email')",
            "Index.block('website')",
            "Index.sortedneighbourhood('name_sorted', window=3)",
        ],
        "compare": [
            "string('number', method='damerau_levenshtein', threshold=0.85)",
            "string('name_sorted', method='jarowinkler', threshold=0.88)",
            "string('address', method='jarowinkler', threshold=0.85)",
            "exact('postcode')",
            "exact('phone')",
            "exact('email')",
            "exact('website')",
        ],
        "compute": "Compare(n_jobs=2).compute(pairs, enterprises, employers)",
        "classifier": "ECMClassifier(binarize=None).fit_predict(features)",
        "decision": "ECM's classification (p >= 0.5); "
        "'+ 1:1' adds OneToOneLinking() over the links sorted by ECM probability",
    },
}

# ----------------------------------------------------------------- worker side


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def _peer_fields():
    from linkage.config import Field

    address = ("street", "house_number", "box")
    return [
        Field(name="number", source="enterprise_number", prepare="number_digits"),
        Field(name="name_sorted", source="name", prepare="name_sorted"),
        Field(name="name_prefix", source="name", prepare="name_prefix"),
        Field(name="postcode", source="postcode", prepare="postcode"),
        Field(name="address", source=address, prepare="address"),
        Field(name="phone", source="phone", prepare="phone"),
        Field(name="email", source="email", prepare="email"),
        Field(name="website", source="website", prepare="website"),
    ]


def _peer_inputs(enterprises, employers):
    """The fields of the enterprise preset, cleaned by linkage's normalisers.

    Plain object columns with None for missing values (what recordlinkage's jellyfish
    and pandas merges expect; DuckDB reads them as VARCHAR with NULL).
    """
    from linkage.prepare import prepare

    out = []
    for table, side, id_col in ((enterprises, "left", ENT[0]), (employers, "right", ENT[1])):
        frame = prepare(table, _peer_fields(), side=side)
        frame = frame.astype(object).where(frame.notna(), None)
        frame.index = table[id_col].to_numpy()
        frame.index.name = id_col
        out.append(frame)
    return out


def _links_frame(left_ids, right_ids):
    import pandas as pd

    return pd.DataFrame({ENT[0]: list(left_ids), ENT[1]: list(right_ids)})


def run_linkage(enterprises, employers) -> dict[str, Any]:
    import linkage
    from linkage.presets import enterprises as preset

    started = time.perf_counter()
    result = linkage.link(enterprises, employers, preset())
    total = time.perf_counter() - started
    return {
        "prepare_s": result.timings.get("prepare", 0.0),
        "seconds": total,
        "pairs": len(result.pairs),
        "links": {"": result.links.loc[:, list(ENT)]},
        "stages": result.timings,
    }


def run_recordlinkage(enterprises, employers) -> dict[str, Any]:
    import recordlinkage as rl

    started = time.perf_counter()
    left, right = _peer_inputs(enterprises, employers)
    prepared = time.perf_counter()
    indexer = rl.Index()
    indexer.block("number")
    indexer.block(["postcode", "name_prefix"])
    indexer.block(["postcode", "address"])
    indexer.block("phone")
    indexer.block("email")
    indexer.block("website")
    indexer.sortedneighbourhood("name_sorted", window=3)
    pairs = indexer.index(left, right)
    indexed = time.perf_counter()
    compare = rl.Compare(n_jobs=int(os.environ.get("RL_N_JOBS", "2")))
    compare.string("number", "number", method="damerau_levenshtein", threshold=0.85, label="number")
    compare.string("name_sorted", "name_sorted", method="jarowinkler", threshold=0.88, label="name")
    compare.string("address", "address", method="jarowinkler", threshold=0.85, label="address")
    for column in ("postcode", "phone", "email", "website"):
        compare.exact(column, column, label=column)
    features = compare.compute(pairs, left, right)
    compared = time.perf_counter()
    ecm = rl.ECMClassifier(binarize=None)
    matches = ecm.fit_predict(features)
    done = time.perf_counter()
    # The one-to-one variant: the library's own greedy OneToOneLinking, best first.
    probability = ecm.prob(features.loc[matches])
    ranked = probability.sort_values(ascending=False, kind="stable").index
    one_to_one = rl.OneToOneLinking().compute(ranked)
    one_to_one_s = time.perf_counter() - done
    return {
        "prepare_s": prepared - started,
        "seconds": done - started,
        "pairs": len(pairs),
        "links": {
            "": _links_frame(matches.get_level_values(0), matches.get_level_values(1)),
            "+ 1:1": _links_frame(one_to_one.get_level_values(0), one_to_one.get_level_values(1)),
        },
        "extra_s": {"+ 1:1": one_to_one_s},
        "stages": {
            "prepare": prepared - started,
            "index": indexed - prepared,
            "compare": compared - indexed,
            "ecm": done - compared,
        },
    }


def _splink_sides(links):
    """Enterprise and employer ids of Splink's predictions (it orders l/r by dataset)."""
    swap = links["source_dataset_l"].to_numpy() != "enterprises"
    left = links["unique_id_l"].where(~swap, links["unique_id_r"])
    right = links["unique_id_r"].where(~swap, links["unique_id_l"])
    return left, right


def run_splink(enterprises, employers) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    left, right = _peer_inputs(enterprises, employers)
    left = left.reset_index().rename(columns={ENT[0]: "unique_id"})
    right = right.reset_index().rename(columns={ENT[1]: "unique_id"})
    prepared = time.perf_counter()
    db_api = DuckDBAPI()
    sdf_left = db_api.register(left, dataset_display_name="enterprises")
    sdf_right = db_api.register(right, dataset_display_name="employers")
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("number"),
            block_on("postcode", "name_prefix"),
            block_on("postcode", "address"),
            block_on("phone"),
            block_on("email"),
            block_on("website"),
            block_on("name_sorted"),
        ],
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("number", [1]),
            cl.JaroWinklerAtThresholds("name_sorted", [0.95, 0.88, 0.75]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("email"),
            cl.ExactMatch("website"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker([sdf_left, sdf_right], settings, log_level=None)
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("number")], recall=0.7)
    # Splink's docstring: "at least 1e9 gives best results ... 1e7 is often adequate
    # whilst testing"; 1e7 is the faster end of that advice.
    training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_MAX_PAIRS)
    training.estimate_parameters_using_expectation_maximisation(block_on("number"))
    training.estimate_parameters_using_expectation_maximisation(block_on("postcode", "name_prefix"))
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    links = predictions.as_pandas_dataframe()
    done = time.perf_counter()
    # Candidate pairs: counted exactly by Splink's own blocking analysis, untimed.
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    counts = count_comparisons_from_blocking_rules(
        [sdf_left, sdf_right],
        blocking_rules=settings.blocking_rules_to_generate_predictions,
        link_type="link_only",
        unique_id_column_name="unique_id",
        record_sample_proportion=1.0,
    )
    n_pairs = int(counts[-1]["cumulative_comparison_count"])
    one = time.perf_counter()
    clusters = linker.clustering.cluster_using_single_best_links(
        predictions,
        duplicate_free_datasets=["enterprises", "employers"],
        threshold_match_probability=0.5,
    ).as_pandas_dataframe()
    one_to_one_s = time.perf_counter() - one
    pairs_1to1 = clusters.pivot_table(
        index="cluster_id", columns="source_dataset", values="unique_id", aggfunc="first"
    ).dropna()
    return {
        "prepare_s": prepared - started,
        "seconds": done - started,
        "pairs": n_pairs,
        "links": {
            "": _links_frame(*_splink_sides(links)),
            "+ 1:1": _links_frame(pairs_1to1["enterprises"], pairs_1to1["employers"]),
        },
        "extra_s": {"+ 1:1": one_to_one_s},
        "stages": {
            "prepare": prepared - started,
            "train": trained - prepared,
            "predict": done - trained,
        },
    }


_RUNNERS = {"linkage": run_linkage, "splink": run_splink, "recordlinkage": run_recordlinkage}


def worker(tool: str, data: Path) -> None:
    """Run one tool on one scale's Parquet files; print one JSON line."""
    import warnings

    import pandas as pd

    from linkage.evaluate import link_quality

    warnings.simplefilter("ignore")
    enterprises = pd.read_parquet(data / "enterprises.parquet")
    employers = pd.read_parquet(data / "employers.parquet")
    truth = pd.read_parquet(data / "truth_enterprises.parquet")
    baseline = _status_kib("VmRSS:")
    out = _RUNNERS[tool](enterprises, employers)
    peak = _status_kib("VmHWM:")
    variants = []
    for name, links in out.pop("links").items():
        q = link_quality(links, truth, on=ENT)
        variants.append(
            {
                "variant": name,
                "links": len(links),
                "extra_s": out.get("extra_s", {}).get(name, 0.0),
                **q.to_dict(),
            }
        )
    out.pop("extra_s", None)
    print(
        json.dumps(
            {
                **out,
                "variants": variants,
                "peak_rss_mib": peak / 1024,
                "growth_mib": (peak - baseline) / 1024,
                "inputs_rss_mib": baseline / 1024,
            }
        )
    )


# ----------------------------------------------------------------- driver side


def machine() -> dict[str, Any]:
    return _provenance.machine(
        ("linkage", "splink", "duckdb", "recordlinkage", "pandas", "numpy", "rapidfuzz")
    )


def reproduce_command(argv: list[str]) -> str:
    """The command line of this run, from the repository root, with its environment."""
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in _ENV if k in os.environ]
    script = Path(argv[0]).resolve()
    try:
        shown = str(script.relative_to(REPO))
    except ValueError:
        shown = argv[0]
    return " ".join([*env, shlex.join(["python", shown, *argv[1:]])])


def store(path: Path, run: dict[str, Any], label: str | None) -> None:
    """Merge ``run`` into the JSON file at ``path``, keeping its other keys."""

    def change(data: dict[str, Any]) -> None:
        if label:
            data.setdefault("comparison_runs", {})[label] = run
        else:
            data["comparison"] = run

    _provenance.update_json(path, change)


def _write_inputs(n: int, directory: Path) -> dict[str, int]:
    from linkage.synthetic import generate

    x = generate(n_enterprises=n, seed=SEED)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("enterprises", "employers", "truth_enterprises"):
        getattr(x, name).to_parquet(directory / f"{name}.parquet", index=False)
    return {
        "enterprises": len(x.enterprises),
        "employers": len(x.employers),
        "true_links": len(x.truth_enterprises),
    }


def _describe_linkage() -> dict[str, Any]:
    from linkage.presets import enterprises

    spec = enterprises()
    return {
        "call": "linkage.link(enterprises, employers, linkage.presets.enterprises())",
        "blocking": [
            f"{r.kind} {r.name}"
            + (f" (max block {r.max_block_size:,})" if r.max_block_size else "")
            for r in spec.blocking
        ],
        "comparisons": [
            f"{c.name}: {c.kind}"
            + (f" {c.scorer} {c.thresholds}" if c.kind != "exact" else "")
            + (" + tf" if c.term_frequency else "")
            for c in spec.comparisons
        ],
        "model": f"u from {spec.model.u_sample_size:,} random pairs; m read off pairs with "
        "equal numbers; u and prior by EM over the distinct patterns of the candidate pairs; "
        f"pairs with equal numbers by their own mixture ({spec.model.settled_mixture}); "
        "pairs without a number by the joint pattern of the other comparisons "
        f"({spec.model.joint_unlabelled})",
        "decision": f"{'greedy one-to-one, ' if spec.one_to_one else ''}"
        f"match probability >= {spec.threshold}",
    }


def drive(sizes: list[int], tools: list[str], timeout: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    stopped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="linkage-compare-") as tmp:
        for n in sorted(sizes):
            data = Path(tmp) / str(n)
            counts = _write_inputs(n, data)
            for tool in tools:
                row: dict[str, Any] = {
                    "tool": tool,
                    "enterprises": n,
                    **counts,
                    "load_average": list(os.getloadavg()),
                }
                if tool in stopped:
                    rows.append({**row, "status": "skipped", "reason": stopped[tool]})
                    print(f"{tool:>14} {n:>8,}: skipped ({stopped[tool]})", flush=True)
                    continue
                started = time.perf_counter()
                try:
                    done = subprocess.run(
                        [sys.executable, __file__, "--worker", tool, "--data", str(data)],
                        capture_output=True,
                        text=True,
                        timeout=timeout,
                    )
                except subprocess.TimeoutExpired:
                    stopped[tool] = f"did not finish {n:,} enterprises within {timeout:.0f} s"
                    rows.append({**row, "status": "timeout", "reason": stopped[tool]})
                    print(f"{tool:>14} {n:>8,}: {stopped[tool]}", flush=True)
                    continue
                wall = time.perf_counter() - started
                if done.returncode != 0:
                    tail = done.stderr.strip().splitlines()[-3:]
                    stopped[tool] = f"failed at {n:,}: {' | '.join(tail)}"
                    rows.append({**row, "status": "failed", "reason": stopped[tool]})
                    print(f"{tool:>14} {n:>8,}: {stopped[tool]}", flush=True)
                    continue
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                end_load = list(os.getloadavg())
                rows.append(
                    {
                        **row,
                        "status": "ok",
                        "process_wall_s": wall,
                        "load_average_end": end_load,
                        **figures,
                    }
                )
                best = figures["variants"][0]
                print(
                    f"{tool:>14} {n:>8,}: {figures['seconds']:8.1f} s "
                    f"(prepare {figures['prepare_s']:.1f}), peak {figures['peak_rss_mib']:,.0f} "
                    f"MiB (+{figures['growth_mib']:,.0f}), {figures['pairs']:,} pairs, "
                    f"F1 {best['f1']:.4f} P {best['precision']:.4f} R {best['recall']:.4f}",
                    flush=True,
                )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| tool | enterprises | wall s | of which prepare s | peak RSS MiB | growth MiB "
        "| candidate pairs | links | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(
                f"| {r['tool']} | {r['enterprises']:,} | {r['status']}: "
                f"{r['reason']} | | | | | | | | |"
            )
            continue
        for v in r["variants"]:
            name = r["tool"] + (f" {v['variant']}" if v["variant"] else "")
            seconds = r["seconds"] + v["extra_s"]
            lines.append(
                f"| {name} | {r['enterprises']:,} | {seconds:,.1f} | {r['prepare_s']:,.1f} "
                f"| {r['peak_rss_mib']:,.0f} | {r['growth_mib']:,.0f} | {r['pairs']:,} "
                f"| {v['links']:,} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} |"
            )
    return "\n".join(lines)


def ratios(rows: list[dict[str, Any]]) -> str:
    """Speed and memory of each peer over ours at the largest scale both finished."""
    ok = {(r["tool"], r["enterprises"]): r for r in rows if r["status"] == "ok"}
    out = []
    for peer in ("splink", "recordlinkage"):
        common = [n for (t, n) in ok if t == peer and ("linkage", n) in ok]
        if not common:
            continue
        n = max(common)
        ours, theirs = ok[("linkage", n)], ok[(peer, n)]
        out.append(
            f"{peer} / linkage at {n:,} enterprises: time "
            f"{theirs['seconds'] / ours['seconds']:.1f}x, peak RSS "
            f"{theirs['peak_rss_mib'] / ours['peak_rss_mib']:.1f}x, growth "
            f"{theirs['growth_mib'] / max(ours['growth_mib'], 1):.1f}x, F1 "
            f"{theirs['variants'][0]['f1']:.4f} vs {ours['variants'][0]['f1']:.4f}"
        )
    return "\n".join(out)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for tool, marker in zip(TOOLS, "osD", strict=True):
        done = [r for r in rows if r["tool"] == tool and r["status"] == "ok"]
        if not done:
            continue
        xs = [r["enterprises"] for r in done]
        ys = [r["seconds"] for r in done]
        (line,) = ax.plot(xs, ys, marker=marker, label=tool)
        for r in rows:
            if r["tool"] == tool and r["status"] == "timeout":
                ax.annotate(
                    f"> {args_timeout:.0f} s",
                    (r["enterprises"], args_timeout),
                    color=line.get_color(),
                    ha="center",
                )
                ax.plot([r["enterprises"]], [args_timeout], marker="^", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("enterprises (VDAB side about 78% as many employers)")
    ax.set_ylabel("wall time, s (raw tables to links)")
    ax.set_title("Enterprise linkage: time against scale (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


args_timeout = 900.0


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def main(argv: list[str] | None = None) -> int:
    global args_timeout
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="enterprises, comma-separated (full scale: 485000)"
    )
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds per tool and scale before it is stopped",
    )
    parser.add_argument("--json", type=Path, help="merge the figures into this JSON file")
    parser.add_argument(
        "--label",
        help="store the run under comparison_runs[LABEL] instead of comparison "
        "(a sensitivity run beside the main one, e.g. splink_u1e6)",
    )
    parser.add_argument("--note", default="", help="a sentence on the run, stored with it")
    parser.add_argument("--plot", type=Path, help="write the time-against-scale PNG here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.data)
        return 0
    args_timeout = args.timeout
    sizes = [int(float(s)) for s in args.sizes.replace("_", "").split(",")]
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    if args.label and not args.json:
        parser.error("--label names a run stored with --json")
    git_before = _provenance.git_state()
    started = time.time()
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = drive(sizes, tools, args.timeout)
    finished = time.time()
    load_after = [round(x, 2) for x in os.getloadavg()]
    git_after = _provenance.git_state()
    print()
    print(markdown(rows))
    print()
    print(ratios(rows))
    info = machine()
    print(
        f"\nmachine: {info.get('cpu')}, {info['cores']} cores, {info.get('memory_gib')} GiB; "
        f"load average before {tuple(load_before)}, after {tuple(load_after)}; "
        f"commit {git_before.get('commit')}"
        + (" + uncommitted changes" if git_before.get("dirty") else "")
    )
    SETTINGS["linkage"] = _describe_linkage()
    if args.json:
        run: dict[str, Any] = {
            "label": args.label or "",
            "note": args.note,
            "git": git_before,
            "started": _iso(started),
            "finished": _iso(finished),
            "elapsed_s": round(finished - started, 1),
            "load_average_start": load_before,
            "load_average_end": load_after,
            "machine": info,
            "command": reproduce_command(sys.argv if argv is None else [__file__, *argv]),
            "sizes": sizes,
            "tools": tools,
            "seed": SEED,
            "splink_u_max_pairs": SPLINK_U_MAX_PAIRS,
            "timeout_s": args.timeout,
            "settings": SETTINGS,
            "rows": rows,
        }
        if git_after != git_before:
            # Someone committed or edited tracked files while the tools ran.
            run["git_at_end"] = git_after
        store(args.json, run, args.label)
        print(f"stored under {'comparison_runs.' + args.label if args.label else 'comparison'}")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
