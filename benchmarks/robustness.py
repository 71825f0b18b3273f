"""The enterprise link's measured goals of issue 17, on a synthetic exchange on disk.

Run::

    python benchmarks/robustness.py DIR            # DIR from `linkage synth --out DIR`
    /usr/bin/time -v python benchmarks/robustness.py DIR   # whole-process wall, peak RSS
    python benchmarks/robustness.py DIR --units    # also units -> sites (issue 17 "Scale")

It links ``enterprises`` to ``employers`` with the ``enterprises`` preset, in this
process, each side with the establishment-unit numbers it lists (``unit_numbers``:
an enterprise's units', the unit numbers an employer's sites carry; made from
``establishments`` and ``sites`` by ``linkage.pipeline.child_values`` and timed
apart, ``--no-unit-numbers`` links without them), and prints:

* pair completeness: the share of the true pairs that blocking proposed, the true
  pairs it missed (with how many of those have an employer without a number), and
  the pairs each rule left out of blocks over its cap;
* precision, recall and F1 of the links, over all employers and over the employers
  whose ``enterprise_number`` is empty (and those whose number is not valid);
* seconds per stage, and the link's wall and CPU seconds (the process's CPU time,
  every thread: steadier than wall time on a shared machine);
* with ``--units``, the establishment-unit link within the enterprise links, timed
  apart, and its precision, recall and F1.

Only the tables these links read are read (not dossiers, contacts, staff), so that
the process's peak is the links'. It uses the public API (``linkage.link``,
``link_quality``, ``pair_completeness``) and the synthetic tables' reader, so that
the same script measures an older commit with ``PYTHONPATH=<its worktree>/src``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

import linkage
from linkage.blocking import pair_completeness
from linkage.evaluate import link_quality
from linkage.identifiers import parse_enterprise_numbers
from linkage.pipeline import LinkResult, ParentLinks
from linkage.presets import enterprises, establishments
from linkage.synthetic._io import from_arrow

ON = ("enterprise_number", "employer_id")


def _commit() -> str:
    root = Path(linkage.__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + (" (src modified)" if dirty.stdout.strip() else "")


def _read(directory: str, *names: str) -> list[pd.DataFrame]:
    """Some tables of a synthetic exchange on disk (Parquet)."""
    manifest = json.loads((Path(directory) / "manifest.json").read_text())
    return [
        from_arrow(name, pq.read_table(Path(directory) / manifest["tables"][name]["file"]))
        for name in names
    ]


def _with_unit_numbers(
    directory: str, left: pd.DataFrame, right: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sides with the column ``unit_numbers`` the preset's option reads."""
    from linkage.pipeline import child_values  # not in older commits

    units, sites = _read(directory, "establishments", "sites")
    left = left.assign(
        unit_numbers=child_values(
            left, "enterprise_number", units, "enterprise_number", "establishment_number"
        )
    )
    right = right.assign(
        unit_numbers=child_values(
            right, "employer_id", sites, "employer_id", "establishment_number"
        )
    )
    return left, right


def measure(directory: str, *, units: bool = False, unit_numbers: bool = True) -> dict[str, object]:
    """Link and measure; return the figures as a dict."""
    left, right, truth = _read(directory, "enterprises", "employers", "truth_enterprises")
    columns_seconds = 0.0
    spec = enterprises()
    if unit_numbers:
        start = time.perf_counter()
        left, right = _with_unit_numbers(directory, left, right)
        columns_seconds = time.perf_counter() - start
        spec = enterprises(unit_numbers=True)
    start, cpu = time.perf_counter(), time.process_time()
    result = linkage.link(left, right, spec)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

    lpos = pd.Index(left["enterprise_number"].astype("string"))
    rpos = pd.Index(right["employer_id"].astype("string"))
    tl = lpos.get_indexer(truth["enterprise_number"].astype("string"))
    tr = rpos.get_indexer(truth["employer_id"].astype("string"))
    pairs = result.pairs
    completeness = pair_completeness(pairs, tl, tr)
    found = np.isin(
        tl.astype(np.int64) * pairs.n_right + tr,
        pairs.left.astype(np.int64) * pairs.n_right + pairs.right,
    )
    raw = right["enterprise_number"]
    no_number = raw.isna() | (raw.astype("string").str.strip() == "")
    invalid = parse_enterprise_numbers(raw).isna()
    employer_no_number = no_number.to_numpy()[tr]
    employer_invalid = invalid.to_numpy()[tr]

    def quality(mask: np.ndarray | None) -> dict[str, float]:
        if mask is None:
            q = link_quality(result.links, truth, on=ON)
        else:
            ids = set(right["employer_id"][mask])
            links = result.links[result.links["employer_id"].isin(ids)]
            q = link_quality(links, truth[truth["employer_id"].isin(ids)], on=ON)
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in q.to_dict().items()}

    figures: dict[str, object] = {
        "directory": directory,
        "commit": _commit(),
        "enterprises": len(left),
        "employers": len(right),
        "true_pairs": len(truth),
        "candidate_pairs": len(pairs),
        "pair_completeness": round(completeness, 6),
        "true_pairs_missed_by_blocking": int((~found).sum()),
        "of_which_employer_without_number": int((~found & employer_no_number).sum()),
        "of_which_employer_number_not_valid": int((~found & employer_invalid).sum()),
        "pairs_by_rule": pairs.by_rule,
        "pairs_skipped_by_rule": pairs.skipped,
        "quality": quality(None),
        "quality_employers_without_number": quality(no_number.to_numpy()),
        "quality_employers_number_not_valid": quality(invalid.to_numpy()),
        "employers_without_number_missed": _misses(result, truth, tl, tr, no_number.to_numpy()),
        "employers_without_number": int(no_number.sum()),
        "employers_number_not_valid": int(invalid.sum()),
        "unit_numbers": unit_numbers,
        "unit_numbers_columns_seconds": round(columns_seconds, 2),
        "link_seconds": round(seconds, 2),
        "link_cpu_seconds": round(cpu, 2),
        "stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
        "peak_rss_mib_after_enterprises": _peak_mib(),
    }
    if units:
        figures["units"] = _units(directory, result)
    figures["peak_rss_mib"] = _peak_mib()
    return figures


def _misses(
    result: LinkResult,
    truth: pd.DataFrame,
    tl: np.ndarray,
    tr: np.ndarray,
    no_number: np.ndarray,
) -> dict[str, object]:
    """Where the true pairs of employers without a number were lost: not proposed,
    proposed but below the threshold, or lost in the one-to-one step; and the level
    patterns (comparisons in the spec's order) of those below the threshold."""
    pairs = result.pairs
    key = pairs.left.astype(np.int64) * pairs.n_right + pairs.right
    wanted = tl.astype(np.int64) * pairs.n_right + tr
    at = np.clip(np.searchsorted(key, wanted), 0, max(len(key) - 1, 0))
    proposed = key[at] == wanted if len(key) else np.zeros(len(wanted), bool)
    links = result.links
    linked = pd.MultiIndex.from_frame(truth[list(ON)].astype("string")).isin(
        pd.MultiIndex.from_frame(links[list(ON)].astype("string"))
    )
    above = np.zeros(len(wanted), bool)
    threshold_weight = np.log2(result.spec.threshold / (1 - result.spec.threshold))
    above[proposed] = result.weights[at[proposed]] >= threshold_weight
    missed = no_number[tr] & ~linked
    below = missed & proposed & ~above
    patterns = pd.Series([str(tuple(int(v) for v in result.gamma[i])) for i in at[below]])
    return {
        "missed": int(missed.sum()),
        "not_proposed": int((missed & ~proposed).sum()),
        "below_threshold": int(below.sum()),
        "lost_one_to_one": int((missed & proposed & above).sum()),
        "comparisons": [c.name for c in result.spec.comparisons],
        "patterns_below": patterns.value_counts().head(8).to_dict(),
    }


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _units(directory: str, enterprise_links: LinkResult) -> dict[str, object]:
    """The establishment-unit link within the enterprise links: time and quality."""
    units, sites, truth = _read(directory, "establishments", "sites", "truth_establishments")
    start, cpu = time.perf_counter(), time.process_time()
    result = linkage.link(units, sites, establishments(), parents=ParentLinks.of(enterprise_links))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    q = link_quality(result.links, truth, on=("establishment_number", "site_id"))
    return {
        "units": len(units),
        "sites": len(sites),
        "true_pairs": len(truth),
        "candidate_pairs": len(result.pairs),
        "pairs_skipped_by_rule": result.pairs.skipped,
        "quality": {k: round(v, 6) if isinstance(v, float) else v for k, v in q.to_dict().items()},
        "link_seconds": round(seconds, 2),
        "link_cpu_seconds": round(cpu, 2),
        "stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="a synthetic exchange (linkage synth --out DIR)")
    parser.add_argument("--units", action="store_true", help="also link units to sites")
    parser.add_argument(
        "--no-unit-numbers",
        action="store_true",
        help="link without the unit numbers each side lists (as before the option)",
    )
    args = parser.parse_args(argv)
    figures = measure(args.directory, units=args.units, unit_numbers=not args.no_unit_numbers)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
