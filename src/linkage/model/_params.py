"""The fitted parameters of a Fellegi-Sunter model, as one typed object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from linkage.model._patterns import Probabilities


@dataclass(frozen=True)
class SettledModel:
    """The sub-model of pairs a decisive comparison settles (equal numbers).

    ``m`` per comparison among their matches (``u`` is the random pairs'), and
    ``share`` of matches among them.
    """

    m: Probabilities
    share: float


@dataclass(frozen=True)
class JointModel:
    """The sub-model of pairs no decisive comparison labels (no number).

    ``codes`` are the packed patterns of the other comparisons seen in fitting,
    sorted; ``dependence`` per code is the joint weight minus the sum of the
    per-comparison weights (bits); ``share`` is these pairs' prior share of matches.
    """

    codes: NDArray[np.int64]
    dependence: NDArray[np.float64]
    share: float


@dataclass(frozen=True)
class FittedParams:
    """Everything ``fit`` learns.

    Attributes
    ----------
    m, u : list of ndarray of shape (n_levels_k,)
        Level probabilities among matching and non-matching candidate pairs.
    u_random : list of ndarray of shape (n_levels_k,)
        Level probabilities among random pairs.
    share : float
        Prior share of matches among the candidate pairs (``lambda``).
    tf_reference : dict of str to float
        Per comparison with term frequencies, the frequency an exact match is judged
        against.
    n_iter, converged : int, bool
        How the main EM ended.
    n_anchors, n_patterns : int
        Candidate pairs at a decisive comparison's exact level; distinct patterns.
    settled, joint : SettledModel or JointModel, or None
        The sub-models of settled and unlabelled pairs, when fitted.
    """

    m: Probabilities
    u: Probabilities
    u_random: Probabilities
    share: float
    tf_reference: Mapping[str, float] = field(default_factory=dict)
    n_iter: int = 0
    converged: bool = True
    n_anchors: int = 0
    n_patterns: int = 0
    settled: SettledModel | None = None
    joint: JointModel | None = None
