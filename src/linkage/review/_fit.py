"""Learning from labels: a model's ``m`` (and ``u``) re-estimated from a labelled sample.

The labels file of a review sample holds each pair's levels (``gamma_<comparison>``,
as ``linkage link --pairs-out`` writes them) and its sampling weight, so the labels
alone are enough: :meth:`linkage.model.FellegiSunter.with_labels` does the estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.exceptions import SchemaError
from linkage.io import require_columns
from linkage.model import FellegiSunter
from linkage.review._score import _normalise_labels

__all__ = ["fit"]


def fit(labels: pd.DataFrame, model: FellegiSunter) -> FellegiSunter:
    """A copy of ``model`` with ``m`` (and ``u`` where enough) learnt from ``labels``.

    Parameters
    ----------
    labels : DataFrame
        A labelled review sample (:func:`linkage.review.sample` with ``label``
        filled in): ``label`` and a ``gamma_<name>`` column per comparison of the
        model; ``sampling_weight`` if it has one (each pair then counts for its
        stratum). Pairs labelled ``unsure`` or not labelled are left out.
    model : FellegiSunter
        The fitted model that scored the pairs.

    Returns
    -------
    FellegiSunter
        Its ``label_fit_`` counts the labels each comparison learnt from.
    """
    columns = [f"gamma_{c.name}" for c in model.comparisons]
    require_columns(labels, ["label", *columns], source="labels")
    label = _normalise_labels(labels["label"].reset_index(drop=True))
    known = label.isin(["match", "non-match"]).to_numpy()
    if not known.any():
        raise SchemaError("no pair is labelled match or non-match", source="labels")
    levels = labels[columns].reset_index(drop=True)[known]
    try:
        gamma = levels.apply(pd.to_numeric, errors="raise").to_numpy(np.int8)
    except (ValueError, TypeError):
        raise SchemaError(
            "the gamma_ columns must hold levels (integers, -1 for null)", source="labels"
        ) from None
    weights = None
    if "sampling_weight" in labels.columns:
        weights = pd.to_numeric(labels["sampling_weight"].reset_index(drop=True)[known])
        weights = weights.to_numpy(np.float64)
    is_match = (label[known] == "match").to_numpy()
    return model.with_labels(gamma, is_match, weights=weights)
