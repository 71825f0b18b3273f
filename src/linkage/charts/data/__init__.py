"""The data behind the charts and notebooks: plain pandas and numpy, no matplotlib.

Everything here reads a run's outputs, input tables or benchmark files and returns
a DataFrame or an array; :mod:`linkage.charts` draws them.
"""

from __future__ import annotations

from linkage.charts.data._fields import CHECKS, field_quality
from linkage.charts.data._pairs import (
    NOT_A_CANDIDATE,
    classify_pairs,
    level_labels,
    linked_mask,
    misclassified,
    record_columns,
    review_sample,
    sweep,
    threshold_weight,
    truth_labels,
    truth_positions,
)
from linkage.charts.data._rules import blocking_report
from linkage.charts.data._runs import RUN_COLUMNS, load_benchmark_runs, runs_frame, time_linkage
from linkage.charts.data._terms import (
    explain_pair,
    explain_pairs,
    pair_term_frequencies,
    prepared_column,
    value_frequencies,
)

__all__ = [
    "CHECKS",
    "NOT_A_CANDIDATE",
    "RUN_COLUMNS",
    "blocking_report",
    "classify_pairs",
    "explain_pair",
    "explain_pairs",
    "field_quality",
    "level_labels",
    "linked_mask",
    "load_benchmark_runs",
    "misclassified",
    "pair_term_frequencies",
    "prepared_column",
    "record_columns",
    "review_sample",
    "runs_frame",
    "sweep",
    "threshold_weight",
    "time_linkage",
    "truth_labels",
    "truth_positions",
    "value_frequencies",
]
