"""The enterprise link's measured goals of issue 17, on a synthetic exchange on disk.

Run::

    python benchmarks/robustness.py DIR            # DIR from `linkage synth --out DIR`
    /usr/bin/time -v python benchmarks/robustness.py DIR   # whole-process wall, peak RSS

It links ``enterprises`` to ``employers`` with the ``enterprises`` preset, in this
process, and prints:

* pair completeness: the share of the true pairs that blocking proposed, the true
  pairs it missed (with how many of those have an employer without a number), and
  the pairs each rule left out of blocks over its cap;
* precision, recall and F1 of the links, over all employers and over the employers
  whose ``enterprise_number`` is empty (and those whose number is not valid);
* seconds per stage.

It reads only the public API (``linkage.link``, ``read_exchange``, ``link_quality``,
``pair_completeness``), so that the same script measures an older commit with
``PYTHONPATH=<its worktree>/src``.
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

import linkage
from linkage.blocking import pair_completeness
from linkage.evaluate import link_quality
from linkage.identifiers import parse_enterprise_numbers
from linkage.presets import enterprises
from linkage.synthetic import read_exchange

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


def measure(directory: str) -> dict[str, object]:
    """Link and measure; return the figures as a dict."""
    x = read_exchange(directory)
    left, right, truth = x.enterprises, x.employers, x.truth_enterprises
    start = time.perf_counter()
    result = linkage.link(left, right, enterprises())
    seconds = time.perf_counter() - start

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

    return {
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
        "employers_without_number": int(no_number.sum()),
        "employers_number_not_valid": int(invalid.sum()),
        "link_seconds": round(seconds, 2),
        "stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="a synthetic exchange (linkage synth --out DIR)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.directory), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
