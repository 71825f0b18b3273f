"""Write ``benchmarks/RESULTS.md`` from ``benchmarks/results.json``.

Every table and every figure in the prose of RESULTS.md comes from the JSON; the
fixed text here says only how to read the figures and what they do not show. Each
section names the run it comes from: its commit (and whether the working tree
differed from it), its date, its machine and the command that reproduces it.

    python benchmarks/results_md.py            # rewrite RESULTS.md (atomically)
    python benchmarks/results_md.py --check    # exit 1 when RESULTS.md is stale

Where the runs are stored in the JSON:

* ``stages``: ``pytest benchmarks`` with ``LINKAGE_BENCH_JSON`` (``conftest.py``);
* ``encoding``: ``pytest benchmarks/bench_encoding.py`` with ``LINKAGE_BENCH_KEY=encoding``;
* ``comparison``: the main side-by-side run of ``compare_tools.py``;
* ``comparison_runs[label]``: other runs of ``compare_tools.py --label label``; the
  label :data:`SENSITIVITY` (Splink with fewer random pairs for ``u``) also enters
  the table of targets.

Older runs lack some of the provenance newer writers record (the stage run records
no commit); a run may then carry ``provenance_inferred`` (the commit worked out
afterwards from the history, and how), which is shown as inferred.
"""

# The output is typographic Markdown (multiplication sign, en dash): not look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
JSON = HERE / "results.json"
OUT = HERE / "RESULTS.md"
SENSITIVITY = "splink_u1e6"
STAGES_COMMAND = (
    "LINKAGE_BENCH_JSON=benchmarks/results.json pytest benchmarks -q -s -p no:cacheprovider"
)
ENCODING_COMMAND = (
    "LINKAGE_BENCH_SIZES=20000,100000,485000 LINKAGE_BENCH_JSON=benchmarks/results.json \\\n"
    "    LINKAGE_BENCH_KEY=encoding pytest benchmarks/bench_encoding.py -q -s -p no:cacheprovider"
)
# The targets of the issue: how many times faster than each peer linkage should be.
SPEED_TARGETS = {"splink": 6.0, "recordlinkage": 25.0}

Run = Mapping[str, Any]

# ------------------------------------------------------------------ formatting


def n(x: float) -> str:
    """An integer with thousands separators."""
    return f"{round(x):,}"


def f4(x: float) -> str:
    return f"{x:.4f}"


def sec(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def times(x: float) -> str:
    return f"{x:.1f}×"


def mib(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def load(values: Sequence[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "not recorded"


def millions(x: float) -> str:
    return f"{x / 1e6:.1f} M"


def sci(x: float) -> str:
    """1e6 for 1000000.0, as the commands write it."""
    mantissa, exponent = f"{x:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def code(text: str) -> str:
    return f"`{text}`"


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table; ``align`` has one letter a column, l or r."""
    rule = ["---" if a == "l" else "---:" for a in align]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(rule) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


# ------------------------------------------------------------------ provenance


def provenance(run: Run) -> dict[str, Any]:
    """Commit, dirtiness, date and command of a run, whatever its writer's vintage."""
    git = run.get("git") or {}
    inferred = run.get("provenance_inferred") or {}
    source = (run.get("machine") or {}).get("source")  # compare_tools before c185a5b
    out: dict[str, Any] = {"inferred": None}
    if git.get("commit"):
        out.update(commit=git["commit"], dirty=git.get("dirty"), paths=git.get("dirty_paths"))
    elif source:
        out.update(commit=source.split()[0], dirty="uncommitted" in source, paths=None)
    elif inferred.get("commit"):
        out.update(commit=inferred["commit"], dirty=inferred.get("dirty"), paths=None)
        out["inferred"] = inferred.get("how", "inferred")
    else:
        out.update(commit=None, dirty=None, paths=None)
    out["started"] = run.get("started")
    out["finished"] = run.get("finished")
    out["command"] = run.get("command") or inferred.get("command")
    out["command_inferred"] = not run.get("command") and bool(inferred.get("command"))
    end = run.get("git_at_end")
    out["changed"] = end if end and end != git else None
    return out


def commit_text(p: Mapping[str, Any]) -> str:
    if not p["commit"]:
        return "commit not recorded"
    text = f"commit {code(p['commit'][:7])}"
    if p["dirty"] is None:
        text += " (whether the tree differed from it is not recorded)"
    elif p["dirty"]:
        paths = p.get("paths")
        text += " + uncommitted changes" + (f" to {', '.join(paths)}" if paths else "")
    else:
        text += ", clean tree"
    if p["inferred"]:
        text += f"; inferred, not recorded by the run: {p['inferred']}"
    if p["changed"]:
        text += f"; at its end the tree was at {code(str(p['changed'].get('commit'))[:7])}" + (
            " + uncommitted changes" if p["changed"].get("dirty") else ""
        )
    return text


def when_text(p: Mapping[str, Any]) -> str:
    parts = []
    if p["started"]:
        parts.append(f"started {p['started']}")
    if p["finished"]:
        parts.append(f"finished {p['finished']}")
    return ", ".join(parts) if parts else "date not recorded"


def source_line(run: Run) -> str:
    """One paragraph: the run's commit, date and command."""
    p = provenance(run)
    command = (
        f"{code(p['command'])}" + (" (not recorded by the run)" if p["command_inferred"] else "")
        if p["command"]
        else "not recorded"
    )
    return f"Run: {commit_text(p)}; {when_text(p)}. Command: {command}."


def machine_text(m: Mapping[str, Any]) -> str:
    parts = [
        m.get("cpu", "CPU not recorded"),
        f"{m.get('cores')} cores",
        f"{m.get('memory_gib')} GiB",
        m.get("platform"),
        f"Python {m.get('python')}",
    ]
    text = ", ".join(p for p in parts if p)
    versions = m.get("versions")
    if versions:
        text += "; " + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    else:
        text += "; library versions not recorded"
    if m.get("nice"):
        text += f"; run at niceness {m['nice']}"
    return text


def load_start(run: Run) -> Sequence[float] | None:
    if run.get("load_average_start"):
        return run["load_average_start"]
    rows = run.get("rows") or []
    return rows[0].get("load_average") if rows else None


def load_end(run: Run) -> Sequence[float] | None:
    if run.get("load_average_end"):
        return run["load_average_end"]
    return (run.get("machine") or {}).get("load_average")  # conftest: at the end


# ------------------------------------------------------------------ stages


def stage_row(rows: Sequence[Run], stage: str, scale: int | None = None) -> Run | None:
    for r in rows:
        if r["stage"] == stage and (scale is None or r["scale"] == scale):
            return r
    return None


def enterprise_scales(rows: Sequence[Run]) -> list[int]:
    return sorted({r["scale"] for r in rows if r.get("scale_unit") == "enterprises"})


_NORMALISERS = {
    "names": "names",
    "addresses": "addresses",
    "phones": "phones (E.164)",
    "postcodes": "postcodes",
    "emails": "e-mails",
    "websites": "websites",
}


def _stage_label(r: Run, top: int) -> str:
    stage = r["stage"]
    if stage.startswith("identifiers: "):
        return f"identifiers: {stage.split(': ', 1)[1]} numbers, both sides"
    if stage.startswith("normalise: "):
        kind = stage.split(": ", 1)[1]
        return f"normalise: {_NORMALISERS.get(kind, kind)}"
    if stage == "prepare (normalise)":
        return f"prepare: all {r.get('fields', '?')} fields of the preset, both sides"
    if stage == "pseudonymise":
        if r["scale"] == top:
            return "pseudonymise: distinct enterprise numbers"
        return f"pseudonymise: {r['items'] / 1e6:g}M distinct"
    if stage == "pseudonymise: repeats":
        what = r.get("note") or "few distinct values, many repeats"
        return f"pseudonymise: {r['items'] / 1e6:g}M rows, {what}"
    if stage == "block":
        return f"block: {r.get('rules', '?')} rules → {n(r['pairs'])} pairs"
    if stage == "compare":
        return f"compare: {r.get('comparisons', '?')} comparisons"
    if stage == "fit: u sample (compare)":
        return f"fit: `u` sample, {n(r['items'])} random pairs compared"
    if stage == "fit (EM)":
        return f"fit: EM ({n(r['patterns'])} patterns, {r['iterations']} iterations)"
    if stage == "score":
        return "score: the match weight of every candidate pair"
    if stage == "resolve (one-to-one)":
        return (
            f"resolve: one-to-one ({n(r['above_threshold'])} above threshold → "
            f"{n(r['links'])} links)"
        )
    if stage == "link: enterprises":
        return "**link: enterprises → employers**"
    if stage == "link: establishments":
        return "**link: establishment units → sites** (within linked enterprises)"
    return stage


def _stage_rows_at(rows: Sequence[Run], top: int) -> list[Run]:
    """The rows of the full-scale table, in the order of the pipeline."""
    order: list[tuple[str, int | None]] = [
        ("identifiers: enterprise", top),
        ("identifiers: establishment", top),
        *((f"normalise: {k}", top) for k in _NORMALISERS),
        ("prepare (normalise)", top),
    ]
    pseudo = sorted(r["scale"] for r in rows if r["stage"] == "pseudonymise")
    order += [("pseudonymise", s) for s in pseudo if s == top or s == max(pseudo)]
    order += [
        ("pseudonymise: repeats", None),
        ("block", top),
        ("compare", top),
        ("fit: u sample (compare)", top),
        ("fit (EM)", top),
        ("score", top),
        ("resolve (one-to-one)", top),
        ("link: enterprises", top),
        ("link: establishments", top),
    ]
    found = (stage_row(rows, stage, scale) for stage, scale in order)
    return [r for r in found if r is not None]


def stages_section(run: Run, comparisons: Sequence[Run]) -> list[str]:
    rows = run["rows"]
    scales = enterprise_scales(rows)
    top = max(scales)
    out = [
        f"## 1. Stages at full scale ({n(top)} enterprises)",
        "",
        source_line(run),
        (
            f"Load average at its start {load(load_start(run))}, at its end {load(load_end(run))}."
            if load_start(run)
            else f"Load average at its end {load(load_end(run))} (its start is not recorded)."
        ),
        "",
        "Items are what the stage processes: both sides' records for parsing, preparation,",
        "blocking and the whole links; candidate pairs for comparison, EM, scoring and",
        "resolution. Normalisers and pseudonymisation run on generated columns of that many",
        "rows (`bench_normalise.py`, `bench_pseudonymise.py`).",
        "",
    ]
    body = []
    for r in _stage_rows_at(rows, top):
        rate = n(r["per_s"])
        if r["stage"] == "block" and r.get("pairs_per_s"):
            rate += f" ({millions(r['pairs_per_s'])} pairs/s)"
        seconds = f"{r['seconds']:.3f}"
        if r["stage"].startswith("link: "):
            seconds = f"**{seconds}**"
        body.append(
            [
                _stage_label(r, top),
                f"{n(r['items'])} {r['unit']}",
                seconds,
                rate,
                mib(r["peak_mib"]),
            ]
        )
    out += table(["stage", "items", "seconds", "throughput /s", "peak MiB (growth)"], "lrrrr", body)
    out += ["", *_link_quality(rows, top, comparisons, run)]
    out += ["", f"Throughput by scale (per second; {' / '.join(_k(s) for s in scales)}):", ""]
    by_scale = [
        ("identifiers (enterprise), rows", "identifiers: enterprise"),
        ("prepare, rows", "prepare (normalise)"),
        ("block, records", "block"),
        ("compare, pairs", "compare"),
        ("fit: EM, pairs", "fit (EM)"),
        ("score, pairs", "score"),
        ("resolve, pairs", "resolve (one-to-one)"),
        ("link enterprises, records", "link: enterprises"),
        ("link establishments, records", "link: establishments"),
    ]
    body = []
    for label, stage in by_scale:
        cells = [stage_row(rows, stage, s) for s in scales]
        body.append([label, *(n(c["per_s"]) if c else "" for c in cells)])
    out += table(["stage", *(_k(s) for s in scales)], "l" + "r" * len(scales), body)
    out += ["", "### Against the physical limit", "", *_limits(rows, scales)]
    return out


def _k(scale: int) -> str:
    return f"{scale // 1000}k" if scale % 1000 == 0 else n(scale)


def _link_quality(
    rows: Sequence[Run], top: int, comparisons: Sequence[Run], run_of_stages: Run | None = None
) -> list[str]:
    ent = stage_row(rows, "link: enterprises", top)
    est = stage_row(rows, "link: establishments", top)
    out = []
    if ent:
        out.append(
            f"Quality of the whole links at {_k(top)}: enterprises precision "
            f"{f4(ent['precision'])}, recall {f4(ent['recall'])}, F1 {f4(ent['f1'])} "
            f"({n(ent['false_positives'])} false links, {n(ent['false_negatives'])} misses)"
            + (
                f"; establishment units precision {f4(est['precision'])}, recall "
                f"{f4(est['recall'])}, F1 {f4(est['f1'])} ({n(est['false_positives'])} false "
                f"links, {n(est['false_negatives'])} misses)."
                if est
                else "."
            )
        )
        t = ent.get("timings") or {}
        if t:
            parts = [
                f"{k} {v:.2f}" + (" s" if i == 0 else "") for i, (k, v) in enumerate(t.items())
            ]
            out.append(f"Inside the enterprise link: {', '.join(parts)}.")
        stage_commit = provenance(run_of_stages)["commit"] if run_of_stages else None
        fresh = [
            (r["seconds"], provenance(run)["commit"])
            for run in comparisons
            for r in run.get("rows", [])
            if r["tool"] == "linkage" and r["enterprises"] == top and r.get("status") == "ok"
        ]
        if fresh:
            listed = " and ".join(
                f"{s:.1f} s" + (f" ({code(c[:7])})" if c else "") for s, c in fresh
            )
            text = f"The same link took {listed} in a fresh process in the side-by-side runs below"
            same = [s for s, c in fresh if c and stage_commit and c[:7] == stage_commit[:7]]
            if same and ent["seconds"] > max(same):
                text += (
                    "; inside this long benchmark session, with the caches of all its scales in "
                    "memory, the same commit is slower"
                )
            out.append(text + ".")
    return _wrap(" ".join(out))


def _limits(rows: Sequence[Run], scales: Sequence[int]) -> list[str]:
    top = max(scales)
    out: list[str] = []
    floor = stage_row(rows, "compare: rapidfuzz floor", top)
    comp = stage_row(rows, "compare", top)
    if floor and comp:
        ratio = floor["ours_over_kernel"]
        verdict = "is at its limit" if ratio <= 1.1 else f"is {ratio:.2f}× its limit"
        text = (
            f"* **compare** {verdict}, rapidfuzz's own: `cpdist` alone (all cores) over the "
            "same string pairs, already gathered into lists, for the fuzzy comparisons "
            f"({n(floor['kernel_string_pairs'])} non-null string pairs) takes "
            f"{floor['seconds']:.2f} s at {_k(top)}; our whole `compare`, all "
            f"{comp.get('comparisons', '?')} comparisons, gathering and coding included, took "
            f"{comp['seconds']:.2f} s ({floor['ours_seconds']:.2f} s in the same test as the "
            f"kernel: {ratio:.2f}×). Pairs with a missing value or an exact match never reach "
            'a kernel, and the number\'s "at most one edit" is a comparison of fixed-width '
            "character arrays."
        )
        small = [stage_row(rows, "compare: rapidfuzz floor", s) for s in scales if s != top]
        small = [r for r in small if r]
        if small:
            text += (
                f" At {'/'.join(_k(r['scale']) for r in small)} the fixed cost of coding each "
                "column weighs more ("
                + " and ".join(f"{r['ours_over_kernel']:.2f}×" for r in small)
                + " a kernel call of "
                + " and ".join(f"{r['seconds'] * 1000:.0f} ms" for r in small)
                + ")."
            )
        out += _wrap(text, indent="  ")
    pseudo = [r for r in rows if r["stage"] == "pseudonymise"]
    kernel = stage_row(rows, "pseudonymise: HMAC kernel")
    digest = stage_row(rows, "pseudonymise: hmac.digest")
    sha = stage_row(rows, "pseudonymise: bare SHA-256")
    if pseudo and kernel and digest:
        ours = next((r for r in pseudo if r["scale"] == kernel["scale"]), max(pseudo, key=_scale))
        far = ours["per_s"] < kernel["per_s"] / 2
        text = (
            f"* **pseudonymise {'is far from it' if far else 'is near it'}**: "
            f"{n(ours['per_s'])} distinct values/s ({n(ours['items'])} values, one core) against "
            f"{n(kernel['per_s'])}/s for the HMAC kernel alone (`hmac_sha256_many`)"
            + (f", {n(sha['per_s'])}/s for one bare SHA-256 a value (half an HMAC)" if sha else "")
            + f" and {n(digest['per_s'])}/s for a plain `hmac.digest` loop over the same "
            "canonical bytes"
            + (", i.e. slower than that loop" if ours["per_s"] < digest["per_s"] else "")
            + f"; the HMAC is {kernel['seconds'] / ours['seconds']:.0%} of the time. The rest "
            "is the work around it: parsing and checking each number (mod 97), refusing "
            "national register numbers, deduplicating and the base32 encoding."
        )
        repeats = stage_row(rows, "pseudonymise: repeats")
        if repeats:
            text += (
                f" Repeated values are cheap ({millions(repeats['per_s'])} rows/s in the "
                "repeats row above): the cost is per distinct value."
            )
        out += _wrap(text, indent="  ")
    prep = stage_row(rows, "prepare (normalise)", top)
    ent = stage_row(rows, "link: enterprises", top)
    timings = (ent or {}).get("timings") or {}
    if prep and timings.get("prepare"):
        largest = max(timings, key=timings.get) == "prepare"
        verdict = "is the largest stage" if largest else "is a large stage"
        text = (
            f"* **prepare (normalisation)** {verdict} ({timings['prepare']:.1f} of the "
            f"{ent['seconds']:.1f} s of the enterprise link here): "
            f"{prep.get('fields', '?')} fields × {n(prep['items'])} rows at "
            f"{millions(prep['field_values_per_s'])} field values/s in its own benchmark. The "
            "normalisers work on distinct values and are vectorised, but names and addresses "
            "take several regex passes each (legal forms, diacritics, street types, house "
            "number and box), phone numbers go through `phonenumbers` per distinct value in "
            "Python, and taking the results back to rows costs its share."
        )
        out += _wrap(text, indent="  ")
    sample = stage_row(rows, "fit: u sample (compare)", top)
    if sample and timings.get("fit") is not None:
        text = (
            f"* **fit: u sample** compares {n(sample['items'])} random pairs at "
            f"{n(sample['per_s'])} pairs/s in this benchmark, which codes the columns itself; "
            "in the pipeline the codes are shared (with blocking too) and the whole fit took "
            f"{timings['fit']:.2f} s inside the enterprise link."
        )
        out += _wrap(text, indent="  ")
    score = stage_row(rows, "score", top)
    resolve = stage_row(rows, "resolve (one-to-one)", top)
    em = [stage_row(rows, "fit (EM)", s) for s in scales]
    if score and resolve:
        lo, hi = sorted((score["per_s"], resolve["per_s"]))
        text = (
            f"* **score** and **resolve** run at {lo / 1e6:.0f}–{hi / 1e6:.0f} M pairs/s at "
            "full scale: weights are summed a comparison at a time into one array (no "
            "(pairs × comparisons) matrix), and one-to-one sorts only the "
            f"{n(resolve['above_threshold'])} pairs above the threshold, not all "
            f"{millions(resolve['items'])}."
        )
        if all(em):
            rates = [r["per_s"] for r in em]
            grows = all(a < b for a, b in itertools.pairwise(rates))
            text += " EM costs patterns × iterations, not pairs" + (
                ", and its rate grows with scale." if grows else "."
            )
        out += _wrap(text, indent="  ")
    return out


def _scale(r: Run) -> int:
    return r["scale"]


# ------------------------------------------------------------------ side by side


def ok_rows(run: Run) -> list[Run]:
    return [r for r in run.get("rows", []) if r.get("status") == "ok"]


def find(run: Run, tool: str, scale: int) -> Run | None:
    return next((r for r in ok_rows(run) if r["tool"] == tool and r["enterprises"] == scale), None)


def variant(row: Run, name: str = "") -> Run | None:
    return next((v for v in row["variants"] if v["variant"] == name), None)


def u_pairs(run: Run) -> float | None:
    return run.get("splink_u_max_pairs") or (run.get("machine") or {}).get("splink_u_max_pairs")


def comparison_table(run: Run, *, bold_top: bool = True) -> list[str]:
    rows = run.get("rows", [])
    top = max((r["enterprises"] for r in ok_rows(run)), default=None)
    u = u_pairs(run)
    body = []
    for r in rows:
        if r.get("status") != "ok":
            body.append(
                [r["tool"], n(r["enterprises"]), f"{r['status']}: {r.get('reason', '')}"] + [""] * 8
            )
            continue
        for v in r["variants"]:
            name = r["tool"]
            if name == "splink" and u is not None and u != 1e7:
                name += f" (u from {sci(u)} pairs)"
            name += f" {v['variant']}" if v["variant"] else ""
            cells = [
                name,
                n(r["enterprises"]),
                sec(r["seconds"] + v["extra_s"]),
                sec(r["prepare_s"]),
                mib(r["peak_rss_mib"]),
                mib(r["growth_mib"]),
                n(r["pairs"]),
                n(v["links"]),
                f4(v["precision"]),
                f4(v["recall"]),
                f4(v["f1"]),
            ]
            if bold_top and r["tool"] == "linkage" and r["enterprises"] == top:
                for i in (0, 1, 2, 4, 8, 10):
                    cells[i] = f"**{cells[i]}**"
            body.append(cells)
    header = [
        "tool",
        "enterprises",
        "wall s",
        "of which prepare s",
        "peak RSS MiB",
        "growth MiB",
        "candidate pairs",
        "links",
        "precision",
        "recall",
        "F1",
    ]
    return table(header, "lrrrrrrrrrr", body)


def _where_time_goes(run: Run, top: int) -> str:
    parts = []
    splink = find(run, "splink", top)
    if splink:
        st = splink.get("stages", {})
        u = u_pairs(run)
        parts.append(
            f"Splink trains for {st.get('train', 0):.1f} s (u by random sampling of "
            f"{sci(u) if u else '?'} pairs, two EM sessions) and predicts for "
            f"{st.get('predict', 0):.1f} s"
        )
    rl = find(run, "recordlinkage", top)
    if rl:
        st = rl.get("stages", {})
        parts.append(
            f"recordlinkage builds its {millions(rl['pairs'])}-pair MultiIndex in "
            f"{st.get('index', 0):.1f} s, compares in {st.get('compare', 0):.1f} s and fits "
            f"ECM in {st.get('ecm', 0):.1f} s"
        )
    ours = find(run, "linkage", top)
    if ours:
        st = dict(ours.get("stages", {}))
        prep = st.pop("prepare", 0.0)
        rest = ", ".join(f"{k} {v:.2f}" for k, v in st.items())
        parts.append(f"linkage prepares for {prep:.1f} s and spends the rest in {rest} s")
    if not parts:
        return ""
    return f"Where the time goes at {_k(top)}: " + "; ".join(parts) + "."


def _ratio_row(what: str, target: float, ours: Run, theirs: Run, note: str = "") -> list[str]:
    r = theirs["seconds"] / ours["seconds"]
    measured = f"**{times(r)}** ({sec(theirs['seconds'])} s / {sec(ours['seconds'])} s{note})"
    return [what, f"≥ {target:g}×", measured, "met" if r >= target else "**not met**"]


def targets_table(main: Run, sens: Run | None, top: int) -> list[str]:
    ours = find(main, "linkage", top)
    splink = find(main, "splink", top)
    rl = find(main, "recordlinkage", top)
    if not ours:
        return []
    body = []
    u = u_pairs(main)
    if splink:
        body.append(
            _ratio_row(
                f"speed vs Splink (DuckDB), u from {sci(u) if u else '?'} random pairs",
                SPEED_TARGETS["splink"],
                ours,
                splink,
            )
        )
    s_ours = s_splink = None
    if sens:
        s_top = max((r["enterprises"] for r in ok_rows(sens)), default=None)
        s_ours, s_splink = find(sens, "linkage", s_top), find(sens, "splink", s_top)
        su = u_pairs(sens)
        if s_ours and s_splink:
            default = " (the function's default)" if su == 1e6 else ""
            commit = provenance(sens)["commit"]
            body.append(
                _ratio_row(
                    f"speed vs Splink, u from {sci(su) if su else '?'} random pairs{default}",
                    SPEED_TARGETS["splink"],
                    s_ours,
                    s_splink,
                    f"; its own run, at {code(commit[:7]) if commit else '?'}, below",
                )
            )
    if rl:
        body.append(_ratio_row("speed vs recordlinkage", SPEED_TARGETS["recordlinkage"], ours, rl))
    peers = [p for p in (splink, rl) if p]
    if peers:
        peak = [p["peak_rss_mib"] / ours["peak_rss_mib"] for p in peers]
        growth = [p["growth_mib"] / ours["growth_mib"] for p in peers]
        names = ["Splink" if p["tool"] == "splink" else "recordlinkage" for p in peers]
        measured = (
            ", ".join(f"**{times(x)}** less than {nm}" for x, nm in zip(peak, names, strict=True))
            + " (growth over the inputs: "
            + " and ".join(times(x) for x in growth)
            + ")"
        )
        body.append(
            ["peak memory", "a fraction", measured, "met" if min(peak) > 1 else "**not met**"]
        )
        f1 = variant(ours)["f1"]
        plain = [(variant(p)["f1"], p["tool"]) for p in peers]
        desc = {"splink": "Splink at p ≥ 0.5", "recordlinkage": "recordlinkage ECM"}
        body.append(
            [
                "F1 vs each peer as its docs run it",
                "no lower",
                f"**{f4(f1)}** vs " + " and ".join(f"{f4(x)} ({desc[t]})" for x, t in plain),
                "met" if all(f1 >= x for x, _ in plain) else "**not met**",
            ]
        )
        one: list[tuple[float, float, str]] = []
        if splink and variant(splink, "+ 1:1"):
            one.append(
                (
                    f1,
                    variant(splink, "+ 1:1")["f1"],
                    f"Splink, u from {sci(u) if u else '?'}, + 1:1",
                )
            )
        if s_ours and s_splink and variant(s_splink, "+ 1:1"):
            su = u_pairs(sens) if sens else None
            one.append(
                (
                    variant(s_ours)["f1"],
                    variant(s_splink, "+ 1:1")["f1"],
                    f"Splink, u from {sci(su) if su else '?'}, + 1:1, against linkage's "
                    f"{f4(variant(s_ours)['f1'])} in its run",
                )
            )
        if rl and variant(rl, "+ 1:1"):
            one.append((f1, variant(rl, "+ 1:1")["f1"], "recordlinkage + `OneToOneLinking`"))
        if one:
            body.append(
                [
                    "F1 vs the peers with their own one-to-one step",
                    "no lower",
                    f"**{f4(f1)}** vs " + ", ".join(f"{f4(t)} ({d})" for _, t, d in one),
                    "met" if all(o >= t for o, t, _ in one) else "**not met**",
                ]
            )
    return table(["", "target", "measured", ""], "llll", body)


def _errors_text(main: Run, top: int) -> list[str]:
    ours = find(main, "linkage", top)
    splink = find(main, "splink", top)
    if not ours or not splink or not variant(splink, "+ 1:1"):
        return []
    a, b = variant(ours), variant(splink, "+ 1:1")
    ea = a["false_positives"] + a["false_negatives"]
    eb = b["false_positives"] + b["false_negatives"]
    change = (
        f"{1 - ea / eb:.0%} fewer errors in all"
        if ea < eb
        else f"{ea / eb - 1:.0%} more errors in all"
    )
    text = (
        f"Against Splink with its one-to-one step, precision is {f4(a['precision'])} against "
        f"{f4(b['precision'])} and recall {f4(a['recall'])} against {f4(b['recall'])}: "
        f"{change} ({n(a['false_positives'])} false links and {n(a['false_negatives'])} misses "
        f"against {n(b['false_positives'])} and {n(b['false_negatives'])})."
    )
    if b["recall"] > a["recall"]:
        text += " Splink's weights from random pairs still find more of the true links."
    return _wrap(text)


def comparison_section(main: Run, sens: Run | None) -> list[str]:
    top = max(r["enterprises"] for r in ok_rows(main))
    statuses = {r.get("status") for r in main.get("rows", [])}
    timeout = main.get("timeout_s")
    out = [
        "## 2. Side by side: the enterprise task",
        "",
        source_line(main),
        f"Load average at its start {load(load_start(main))}"
        + (f", at its end {load(load_end(main))}" if main.get("load_average_end") else "")
        + "; each row in `results.json` carries the load at its start.",
        "Each tool runs in its own fresh subprocess on the same Parquet inputs.",
        "",
    ]
    out += comparison_table(main)
    out.append("")
    text = ""
    if statuses == {"ok"}:
        text += "Every tool finished every scale"
        text += f" (the timeout was {timeout:.0f} s a tool and scale). " if timeout else ". "
    else:
        text += "Not every tool finished every scale (see the rows). "
    text += _where_time_goes(main, top)
    text += (
        ' The wall time of a "+ 1:1" row includes the peer\'s own one-to-one step, timed '
        "separately and added."
    )
    out += _wrap(text)
    out += ["", "At full scale, against the targets of the issue:", ""]
    out += targets_table(main, sens, top)
    out += ["", *_errors_text(main, top)]
    model = ((main.get("settings") or {}).get("linkage") or {}).get("model")
    how = (
        "How linkage scored the pairs in this run (`settings.linkage.model` in "
        f"`results.json`): {model}."
        if model
        else "How linkage scores the pairs:"
    )
    out += ["", *_wrap(how)]
    out += [
        "",
        "* **Pairs without a number** are scored by the *joint* pattern of their other",
        "  comparisons, learnt on the pairs the enterprise number labels (equal numbers are",
        "  matches, different ones non-matches), not by a product of per-comparison weights:",
        "  a move changes address and postcode together, and a pair blocked on its name",
        "  agrees on little else unless it matches.",
        "* **Pairs with equal numbers** get their own two-class model: `u` from random pairs,",
        "  `m` and their share of matches by EM. Some VDAB records carry another enterprise's",
        "  valid number; apart from it such a pair is as unrelated as two random records, and",
        "  a pair that agrees on nothing but the number is left unlinked.",
        "",
        "`ModelSettings(joint_unlabelled=..., settled_mixture=...)` turns either off. The",
        "gains of each were measured when they were made (commit messages of the model), not",
        "in a run stored here.",
        "",
        "![time against scale](time_vs_scale.png)",
        "",
        "(`time_vs_scale.png` is drawn by the command of this section, `--plot`.)",
        "",
    ]
    out += settings_section(main)
    return out


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"* {code(i)}" for i in items]


def settings_section(run: Run) -> list[str]:
    s = run.get("settings") or {}
    versions = (run.get("machine") or {}).get("versions") or {}
    out = ["### Settings of each tool", ""]
    if s.get("peer_fields"):
        out += _wrap(
            f"All three tools get the same fields, {s['peer_fields']}: what each peer's "
            "documentation asks a user to do first (lower-case, strip punctuation, parse "
            "identifiers). Their time is in each peer's total as `prepare`."
        )
        out.append("")
    lk = s.get("linkage") or {}
    if lk:
        out += [f"**linkage** — {code(lk.get('call', ''))}:", ""]
        out += ["* blocking:"] + ["  " + b for b in _bullets(lk.get("blocking", []))]
        out += ["* comparisons:"] + ["  " + b for b in _bullets(lk.get("comparisons", []))]
        out += _wrap(f"* model: {lk.get('model', '')}", indent="  ")
        out += [f"* decision: {lk.get('decision', '')}", ""]
    sp = s.get("splink") or {}
    if sp:
        out += [
            f"**Splink {versions.get('splink', '')}, DuckDB {versions.get('duckdb', '')} "
            f"backend** (`{sp.get('backend', '')}`), `link_only`:",
            "",
        ]
        out += ["* blocking rules for predictions:"] + [
            "  " + b for b in _bullets(sp.get("blocking_rules_to_generate_predictions", []))
        ]
        out += ["* comparisons:"] + ["  " + b for b in _bullets(sp.get("comparisons", []))]
        out += ["* training, in this order:"] + ["  " + b for b in _bullets(sp.get("training", []))]
        out += _wrap(f"* decision: {sp.get('decision', '')}", indent="  ")
        out += [
            "* Splink 5 needs inputs registered first (`db_api.register(df)`); the v4 calls",
            "  of the issue are otherwise unchanged.",
            "",
        ]
    rl = s.get("recordlinkage") or {}
    if rl:
        out += [
            f"**recordlinkage {versions.get('recordlinkage', '')}**, as its documentation teaches:",
            "",
        ]
        out += ["* index (their union):"] + ["  " + b for b in _bullets(rl.get("index", []))]
        out += ["* compare:"] + ["  " + b for b in _bullets(rl.get("compare", []))]
        out += [f"* {code(rl.get('compute', ''))}", f"* {code(rl.get('classifier', ''))}"]
        out += _wrap(f"* decision: {rl.get('decision', '')}", indent="  ")
        out.append("")
    return out


def _row_loads(run: Run) -> str:
    """The 1-minute load as each tool's process started (and ended, if recorded)."""
    parts = []
    for r in run.get("rows", []):
        if not r.get("load_average"):
            continue
        text = f"{r['tool']} {r['load_average'][0]:.2f}"
        if r.get("load_average_end"):
            text += f" → {r['load_average_end'][0]:.2f}"
        parts.append(text)
    if not parts:
        return ""
    ended = any(r.get("load_average_end") for r in run.get("rows", []))
    return f" (1-minute load as each tool {'started → ended' if ended else 'started'}: " + (
        ", ".join(parts) + ")"
    )


def sensitivity_section(sens: Run, main: Run | None) -> list[str]:
    u = u_pairs(sens)
    out = [
        f"### Splink with u from {sci(u) if u else '?'} random pairs ({code(SENSITIVITY)})",
        "",
        source_line(sens),
        f"Load average at its start {load(load_start(sens))}, at its end "
        f"{load(load_end(sens))}{_row_loads(sens)}.",
    ]
    if sens.get("note"):
        out.append(f"Note stored with the run: {sens['note']}.")
    out.append("")
    out += comparison_table(sens, bold_top=False)
    top = max((r["enterprises"] for r in ok_rows(sens)), default=None)
    s_ours = find(sens, "linkage", top) if top else None
    s_splink = find(sens, "splink", top) if top else None
    m_splink = find(main, "splink", top) if main and top else None
    text = ""
    if s_ours and s_splink:
        text += (
            f"In this run Splink took {times(s_splink['seconds'] / s_ours['seconds'])} "
            "linkage's time: the ratio, both tools measured one after the other on the same "
            "machine, is the figure of the table of targets. "
        )
    if s_splink and m_splink and main:
        mu = u_pairs(main)
        a, b = variant(m_splink, "+ 1:1"), variant(s_splink, "+ 1:1")
        change = s_splink["seconds"] / m_splink["seconds"]
        text += (
            f"Against Splink with u from {sci(mu) if mu else '?'} pairs in section 2: its F1 at "
            f"p ≥ 0.5 {f4(variant(m_splink)['f1'])} → {f4(variant(s_splink)['f1'])}"
        )
        if a and b:
            text += f", with its one-to-one step {f4(a['f1'])} → {f4(b['f1'])}"
        text += (
            f"; its time {sec(m_splink['seconds'])} s → {sec(s_splink['seconds'])} s "
            f"({change:.2f}×). Times do not compare across runs made at different commits "
            f"and loads (section 2's Splink started at {m_splink['load_average'][0]:.2f}, this "
            f"one at {s_splink['load_average'][0]:.2f}, on two shared cores)."
        )
    if text:
        out += ["", *_wrap(text)]
    return [*out, ""]


def encoding_section(run: Run) -> list[str]:
    """Linkage on encodings beside the clear mode (``bench_encoding.py``)."""
    rows = run["rows"]
    scales = sorted({r["scale"] for r in rows})
    out = ["## Linkage on encodings", "", source_line(run), ""]
    out += _wrap(
        "Both parties encode the enterprise preset's fields (keyed tokens, hardened Bloom "
        "filters, keyed MinHash bands: `docs/encodings.md`); the linking party links the "
        "encodings. *Per core* is records per CPU second of the encoding (it runs on one "
        "core); the link rows are whole links with F1 against the synthetic truth and, "
        "for enterprises, the recall on employers without an enterprise number; units are "
        "linked within their linked enterprises (encoded: the encoded enterprise links)."
    )
    body = []
    stages = ["encode (both parties)", "encode (both parties), every name distinct"] + [
        f"link: {what} ({mode})"
        for what in ("enterprises", "units")
        for mode in ("encoded", "clear")
    ]
    for stage in stages:
        for scale in scales:
            r = stage_row(rows, stage, scale)
            if r is None:
                continue
            if stage.startswith("encode"):
                quality = f"per core {n(r['encode_records_per_cpu_s'])} records/s"
            else:
                quality = f"F1 {f4(r['f1'])}"
            if "no_number_recall" in r:
                quality += f", no number: R {f4(r['no_number_recall'])}"
            body.append(
                [
                    stage,
                    n(scale),
                    n(r["items"]),
                    sec(r["seconds"], 2),
                    n(r["per_s"]),
                    mib(r["peak_mib"]),
                    quality,
                ]
            )
    out += [
        "",
        *table(
            ["stage", "enterprises", "records", "seconds", "records/s", "peak MiB", ""],
            "lrrrrrl",
            body,
        ),
    ]
    attacks = [r for r in rows if r["stage"].startswith("attack")]
    if attacks:
        out += [
            "",
            *_wrap(
                "The pattern-mining attack on the name filters (an adversary with the public "
                "names and their frequencies, no key): share of filters re-identified."
            ),
            "",
        ]
        out += table(
            ["enterprises", "unhardened", "hardened", "bands", "F1 unhardened"],
            "rrrrr",
            (
                [
                    n(r["scale"]),
                    f"{100 * r['reidentified_unhardened']:.3f} %",
                    f"{100 * r['reidentified_hardened']:.3f} %",
                    f"{100 * r['reidentified_bands']:.3f} %",
                    f4(r["f1_unhardened"]),
                ]
                for r in sorted(attacks, key=lambda r: r["scale"])
            ),
        )
    return [*out, ""]


def other_run_section(label: str, run: Run) -> list[str]:
    out = [f"### Run {code(label)}", "", source_line(run)]
    if run.get("note"):
        out.append(f"Note stored with the run: {run['note']}.")
    return [*out, "", *comparison_table(run, bold_top=False), ""]


# ------------------------------------------------------------------ the document


def _wrap(text: str, width: int = 88, indent: str = "") -> list[str]:
    """Lines of at most ``width`` characters (words are never split; code spans are
    kept on one line so that Markdown renders them)."""
    words = _tokens(text)
    lines: list[str] = []
    line = ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = indent + w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return lines


def _tokens(text: str) -> list[str]:
    """Words, with a backquoted span that holds spaces kept as one token."""
    out: list[str] = []
    current: list[str] = []
    for word in text.split():
        if current:
            current.append(word)
            if word.count("`") % 2 == 1:
                out.append(" ".join(current))
                current = []
        elif word.count("`") % 2 == 1:
            current = [word]
        else:
            out.append(word)
    if current:
        out.append(" ".join(current))
    return out


def runs_overview(data: Run) -> list[str]:
    entries: list[tuple[str, str, Run]] = []
    if "stages" in data:
        entries.append(("1. stages", "`stages`", data["stages"]))
    if "comparison" in data:
        entries.append(("2. side by side", "`comparison`", data["comparison"]))
    if "encoding" in data:
        entries.append(("3. encodings", "`encoding`", data["encoding"]))
    for label, run in sorted((data.get("comparison_runs") or {}).items()):
        entries.append((f"2. {label}", f"`comparison_runs.{label}`", run))
    body = []
    for section, key, run in entries:
        p = provenance(run)
        commit = code(p["commit"][:7]) if p["commit"] else "not recorded"
        if p["inferred"]:
            commit += " (inferred)"
        tree = {None: "not recorded", True: "dirty", False: "clean"}[p["dirty"]]
        date = p["started"] or (f"finished {p['finished']}" if p["finished"] else "not recorded")
        body.append(
            [section, key, commit, tree, str(date), load(load_start(run)), load(load_end(run))]
        )
    out = table(
        ["section", "stored under", "commit", "tree", "date", "load at start", "load at end"],
        "lllllll",
        body,
    )
    machines: dict[str, list[str]] = {}
    for section, _, run in entries:
        m = run.get("machine")
        if m:
            machines.setdefault(machine_text(m), []).append(section)
    out += ["", "Machines:", ""]
    out += [f"* {', '.join(secs)}: {text}" for text, secs in machines.items()]
    return out


def render(data: Run) -> str:
    stages = data.get("stages")
    main = data.get("comparison")
    others = dict(data.get("comparison_runs") or {})
    sens = others.pop(SENSITIVITY, None)
    comparisons = [r for r in (main, sens, *others.values()) if r]
    scales = sorted(
        {r["enterprises"] for run in comparisons for r in run.get("rows", [])}
        | set(enterprise_scales(stages["rows"]) if stages else [])
    )
    seed = next((run["seed"] for run in comparisons if run.get("seed") is not None), None)
    top_rows = [
        r
        for run in comparisons
        for r in ok_rows(run)
        if r["enterprises"] == (max(scales) if scales else None)
    ]
    out = [
        "# Benchmarks: results",
        "",
        "<!-- Written by benchmarks/results_md.py from benchmarks/results.json; do not edit",
        "     by hand: change the script or rerun the benchmarks, then run it. -->",
        "",
    ]
    intro = (
        "Two sets of figures, both on the synthetic exchange (`linkage.synthetic.generate`"
        + (f", seed {seed})" if seed is not None else ")")
        + f" at {' / '.join(n(s) for s in scales)} enterprises"
    )
    if top_rows:
        r = top_rows[0]
        intro += (
            f" (at {n(r['enterprises'])}, VDAB's side holds {n(r['employers'])} employers, "
            f"{n(r['true_links'])} of them true links)"
        )
    out += _wrap(intro + ":")
    out += [
        "",
        "1. **Stages** (`pytest benchmarks`): each performance-critical stage and both whole",
        "   links, throughput and peak memory.",
        "2. **Side by side** (`benchmarks/compare_tools.py`): this library, Splink on DuckDB and",
        "   recordlinkage on the enterprise task, same data, same run: wall time, peak memory,",
        "   candidate pairs, precision, recall, F1.",
        "",
        "Every figure here is read from [`results.json`](results.json) (keys `stages`,",
        "`comparison`, `comparison_runs` and `encoding`), which holds more: per-stage timings,",
        "settings, versions, load averages. `python benchmarks/results_md.py` writes this",
        "file from it; `python benchmarks/results_md.py --check` fails when this file is not",
        "what it would write. The figures move with the engine: each section names the commit",
        "of its run.",
        "",
        "## Runs",
        "",
    ]
    out += runs_overview(data)
    out += [
        "",
        "A shared machine: other engineers ran jobs at the same time (see the load). Expect a",
        "few tens of percent of noise, most at the small scales.",
        "",
        "## Reproduce",
        "",
        "```bash",
        "pip install -e '.[test,compare]'          # compare = splink, recordlinkage, matplotlib",
        "",
        "# 1. stages, all three scales",
        STAGES_COMMAND,
    ]
    for label, run in (("2. side by side", main), (f"2. {SENSITIVITY}", sens), *others.items()):
        if run and run.get("command"):
            elapsed = run.get("elapsed_s")
            tools = sum(r.get("process_wall_s", 0.0) for r in run.get("rows", []))
            if elapsed:
                took = f" ({elapsed / 60:.0f} minutes here)"
            elif tools:
                took = f" (its tools' processes took {tools / 60:.0f} minutes here)"
            else:
                took = ""
            out += ["", f"# {label}{took}", run["command"]]
    if data.get("encoding"):
        out += ["", "# 3. linkage on encodings beside the clear mode", ENCODING_COMMAND]
    out += [
        "",
        "# this file",
        "python benchmarks/results_md.py",
        "```",
        "",
        "`LINKAGE_BENCH_SIZES=485000` (or `10000,100000`) keeps only those scales in step 1.",
        "A run with `--label L` is stored under `comparison_runs.L` beside the main run.",
        "",
        "### How the figures are measured",
        "",
        "* **Time**: pytest-benchmark, `benchmark.pedantic`, three rounds below 485k (the",
        "  fastest is reported) and one at 485k. Inputs of each stage are built once per",
        "  scale with the stage functions (`prepare`, `candidate_pairs`, `compare`,",
        "  `FellegiSunter`) and the `enterprises` preset (`stage_inputs` in `conftest.py`).",
        "* **Peak memory (stages)**: the growth of the process's resident set during the",
        "  call: the kernel's high-water mark is reset (`/proc/self/clear_refs`, 5) just",
        "  before it and read after it, after handing freed memory back (`malloc_trim`,",
        "  Arrow's `release_unused`) so that reused pages count. It includes everything",
        "  (numpy, Arrow, rapidfuzz), unlike tracemalloc; it is on top of the inputs, which",
        "  are already resident.",
        "* **Peak memory (side by side)**: each tool runs in its own fresh process; *peak",
        "  RSS* is that process's `VmHWM` (interpreter, imports and the input tables",
        "  included), *growth* is the peak minus the RSS after the inputs were read.",
        "* **Wall time (side by side)**: from the raw tables in memory to the links",
        "  (including each tool's cleaning, `prepare`); reading Parquet and evaluating are",
        "  not timed.",
        "",
    ]
    if stages:
        out += stages_section(stages, comparisons)
        out.append("")
    if main:
        out += comparison_section(main, sens)
    if sens:
        out += sensitivity_section(sens, main)
    for label, run in sorted(others.items()):
        out += other_run_section(label, run)
    if data.get("encoding"):
        out += encoding_section(data["encoding"])
    out += [
        "## CI",
        "",
        "CI (`.ci/run`) runs the stage benchmarks at full scale only and prints the table:",
        "",
        "```bash",
        "LINKAGE_BENCH_SIZES=485000 pytest benchmarks -q -s -p no:cacheprovider \\",
        "    --benchmark-columns=min,rounds --benchmark-sort=name",
        "```",
        "",
        "and the side-by-side comparison at 10,000 enterprises (it needs the `compare` extra",
        "installed); full scale on demand with the commands above. Neither writes",
        "`results.json` there: the figures here change only when someone reruns and commits.",
    ]
    if main:
        rl = [r for r in ok_rows(main) if r["tool"] == "recordlinkage"]
        if rl:
            big = max(rl, key=lambda r: r["peak_rss_mib"])
            out += [
                f"At full scale recordlinkage alone peaked at {big['peak_rss_mib'] / 1024:.1f} GiB "
                f"({n(big['enterprises'])} enterprises, section 2)."
            ]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ command line


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, default=JSON, help="results (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="Markdown (default: %(default)s)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the Markdown differs from what would be written",
    )
    args = parser.parse_args(argv)
    text = render(json.loads(args.json.read_text(encoding="utf-8")))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(args.out),
            tofile=f"{args.out} (from {args.json.name})",
            n=1,
        )
        sys.stderr.writelines(list(diff)[:60])
        print(
            f"\n{args.out} is stale: run python benchmarks/results_md.py",
            file=sys.stderr,
        )
        return 1
    write_atomic(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
