"""Charts of a linkage run, for analysts: matplotlib figures built from the library's outputs.

Every chart takes its data first and its options by keyword, and returns a
``matplotlib.figure.Figure`` made with the object API: no pyplot, no global state,
no backend set, so charts are safe in tests, servers and notebooks alike (in
Jupyter, a returned figure shows itself once ``%matplotlib inline`` has run; save
one with ``fig.savefig("chart.png")``). matplotlib is imported only when a chart is
drawn; ``pip install 'linkage[notebooks]'`` brings it.

=============================  =========================================================
chart                          data (helpers in :mod:`linkage.charts.data`)
=============================  =========================================================
:func:`weight_distribution`    ``result.weights`` with ``truth_labels`` or ``linked_mask``
:func:`threshold_curves`       ``sweep(result, truth)`` or ``evaluate.threshold_sweep``
:func:`parameters`             ``result.model``
:func:`waterfall`              ``explain_pair(result, position, left, right)``
:func:`blocking`               ``result.pairs`` or ``blocking_report(left, right, spec, truth)``
:func:`term_frequency`         ``result.model`` and ``value_frequencies(left, right, spec)``
:func:`data_quality`           ``field_quality(table, fields, by="party")``
:func:`time_vs_scale`          ``load_benchmark_runs(path)`` or ``time_linkage(sizes)``
=============================  =========================================================
"""

from __future__ import annotations

from linkage.charts import data
from linkage.charts._blocking import blocking
from linkage.charts._fields import data_quality
from linkage.charts._model import parameters, term_frequency, waterfall
from linkage.charts._quality import threshold_curves, weight_distribution
from linkage.charts._runs import time_vs_scale

__all__ = [
    "blocking",
    "data",
    "data_quality",
    "parameters",
    "term_frequency",
    "threshold_curves",
    "time_vs_scale",
    "waterfall",
    "weight_distribution",
]
