"""Persistence: a fitted model as plain data (JSON), and back.

Format 3 holds the estimator's parameters (``settings``), its comparisons (each
with its ``kind``) and the :class:`FittedParams`; a model made for a spec also its
``spec`` (:class:`~linkage.model._spec.SpecDigest`: the spec's sha256 and how each
compared column is prepared), which files saved before it was kept lack. Formats 1
and 2 still load and score as they did when saved (format 1 had no sub-models).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from linkage.comparisons import Comparison, comparison_from_dict
from linkage.exceptions import SchemaError
from linkage.model._params import FittedParams, JointModel, SettledModel
from linkage.model._spec import SpecDigest

FORMAT = "linkage.FellegiSunter/3"
_READS = ("linkage.FellegiSunter/1", "linkage.FellegiSunter/2", FORMAT)


def _lists(arrays: Any) -> list[list[float]]:
    return [np.asarray(a).tolist() for a in arrays]


def _arrays(lists: Any) -> list[np.ndarray]:
    return [np.asarray(x, dtype=np.float64) for x in lists]


def _current(comparison: Mapping[str, Any]) -> dict[str, Any]:
    """A comparison as format 3 writes it: formats 1 and 2 wrote the fuzzy fields of
    every kind, empty where the kind has none."""
    return {k: v for k, v in comparison.items() if v is not None and v != []}


def params_to_dict(
    comparisons: tuple[Comparison, ...],
    settings: Mapping[str, Any],
    params: FittedParams,
    *,
    spec: SpecDigest | None = None,
) -> dict[str, Any]:
    """Settings, comparisons, the spec's digest (if known) and fitted parameters as
    plain data."""
    settled, joint = params.settled, params.joint
    return {
        "format": FORMAT,
        "comparisons": [c.to_dict() for c in comparisons],
        **({} if spec is None else {"spec": spec.to_dict()}),
        "settings": dict(settings),
        "lambda": params.share,
        "m": _lists(params.m),
        "u": _lists(params.u),
        "u_random": _lists(params.u_random),
        "tf_reference": dict(params.tf_reference),
        "n_iter": params.n_iter,
        "converged": params.converged,
        "n_anchors": params.n_anchors,
        "n_patterns": params.n_patterns,
        "settled": None if settled is None else {"m": _lists(settled.m), "lambda": settled.share},
        "dependence": None
        if joint is None
        else {
            "codes": joint.codes.tolist(),
            "weight": joint.dependence.tolist(),
            "lambda": joint.share,
        },
    }


def params_from_dict(
    data: Mapping[str, Any],
) -> tuple[tuple[Comparison, ...], dict[str, Any], FittedParams, SpecDigest | None]:
    """Comparisons, settings, fitted parameters and the spec's digest (None if the
    file has none) from :func:`params_to_dict`'s output."""
    if data.get("format") not in _READS:
        raise SchemaError(f"not a saved FellegiSunter model (format {data.get('format')!r})")
    comparisons = tuple(
        comparison_from_dict(_current(c), where="saved model") for c in data["comparisons"]
    )
    settled, joint = data.get("settled"), data.get("dependence")
    params = FittedParams(
        m=_arrays(data["m"]),
        u=_arrays(data["u"]),
        u_random=_arrays(data["u_random"]),
        share=float(data["lambda"]),
        tf_reference={k: float(v) for k, v in data["tf_reference"].items()},
        n_iter=int(data["n_iter"]),
        converged=bool(data["converged"]),
        n_anchors=int(data.get("n_anchors", 0)),
        n_patterns=int(data.get("n_patterns", 0)),
        settled=None
        if not settled
        else SettledModel(m=_arrays(settled["m"]), share=float(settled["lambda"])),
        joint=None
        if not joint
        else JointModel(
            codes=np.asarray(joint["codes"], dtype=np.int64),
            dependence=np.asarray(joint["weight"], dtype=np.float64),
            share=float(joint["lambda"]),
        ),
    )
    spec = data.get("spec")
    return (
        comparisons,
        dict(data["settings"]),
        params,
        None if spec is None else SpecDigest.from_dict(spec),
    )
