"""Expectation-maximisation of a two-class mixture over agreement patterns.

One routine for every fit of the model: the candidate pairs (m, u and the prior),
the pairs with equal numbers (m and their share of matches, u held), and the pairs
without a number (their prior alone, the joint pattern weights held). It works on
the distinct patterns weighted by their counts, in log space, and warns with a
:class:`~linkage.exceptions.ConvergenceWarning` when it stops before converging.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from linkage.exceptions import ConvergenceWarning
from linkage.model._patterns import FLOOR, Probabilities, level_counts, log_likelihood, normalise


@dataclass(frozen=True)
class Mixture:
    """EM's answer: level probabilities among matches (``m``) and non-matches (``u``),
    the share of matches, and how the iteration ended."""

    m: Probabilities
    u: Probabilities
    share: float
    n_iter: int
    converged: bool


def em(
    patterns: NDArray[np.integer],
    counts: NDArray[np.float64],
    *,
    m: Probabilities,
    u: Probabilities,
    share: float,
    fit_m: Sequence[bool],
    fit_u: bool,
    max_iter: int,
    tol: float,
    what: str,
    m_floor: float = FLOOR,
) -> Mixture:
    """Fit the mixture ``share * m + (1 - share) * u`` to weighted patterns.

    Parameters
    ----------
    patterns : ndarray of shape (n_patterns, n_comparisons)
        Levels (-1 null) of the distinct patterns.
    counts : ndarray of shape (n_patterns,), dtype float64
        How many pairs have each pattern.
    m, u : list of ndarray of shape (n_levels_k,)
        Starting level probabilities per comparison.
    share : float
        Starting share of matches.
    fit_m : sequence of bool
        Per comparison, whether its ``m`` is re-estimated (else held as given).
    fit_u : bool
        Whether ``u`` is re-estimated.
    max_iter, tol : int, float
        Stop after ``max_iter`` iterations, or when neither the share nor a fitted
        ``m`` moves more than ``tol``.
    what : str
        What is being fitted, for the warning.
    m_floor : float
        No fitted ``m`` probability falls below it.
    """
    n_levels = [len(x) for x in m]
    total = max(float(counts.sum()), FLOOR)
    change, converged, iteration = np.inf, False, 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 (kept after the loop)
        a = np.log(share) + log_likelihood(patterns, m)
        b = np.log1p(-share) + log_likelihood(patterns, u)
        g = np.exp(a - np.logaddexp(a, b)) * counts
        new_m = [
            normalise(level_counts(patterns[:, k], n, g), floor=m_floor) if fit else m[k]
            for k, (n, fit) in enumerate(zip(n_levels, fit_m, strict=True))
        ]
        if fit_u:
            h = counts - g
            u = [normalise(level_counts(patterns[:, k], n, h)) for k, n in enumerate(n_levels)]
        new_share = float(np.clip(g.sum() / total, FLOOR, 1 - FLOOR))
        change = max(
            abs(new_share - share),
            *(float(np.abs(x - y).max()) for x, y in zip(new_m, m, strict=True)),
        )
        m, share = new_m, new_share
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"{what}: EM stopped after {max_iter} iterations without converging "
            f"(last change {change:.2g} > tol {tol:g}); raise max_iter or check the "
            f"comparisons",
            ConvergenceWarning,
            stacklevel=3,
        )
    return Mixture(m=m, u=u, share=share, n_iter=iteration, converged=converged)
