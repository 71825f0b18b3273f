"""The Fellegi-Sunter model, as a scikit-learn-style estimator.

A pair's match weight is ``log2(lambda / (1 - lambda)) + sum_k log2(m_k / u_k)``, where
``m_k`` and ``u_k`` are the chances of the pair's level of comparison ``k`` among
matches and non-matches; a missing value adds nothing. Fitting:

1. ``u`` starts from random pairs (nearly all non-matches);
2. ``m`` is read off anchor pairs where the spec has a decisive comparison (see
   below), otherwise left to EM;
3. expectation-maximisation over the *distinct* agreement patterns, each weighted by
   its count, in log space, estimates the prior ``lambda_`` (the share of candidate
   pairs that match), ``u`` among the candidates, and any ``m`` not anchored.

Why ``u`` is re-estimated among candidates: blocking picks pairs that already agree
on something, so among candidate non-matches similar names and shared addresses are
far more common than among random pairs. Held at the random-pair value, ``u`` leaves
EM a better fit in which the "match" class is "pairs with similar names" (seen on
the synthetic exchange: lambda 0.44 against a true 0.05).

The package, one part a file: ``_patterns`` (the shape of ``gamma``), ``_em`` (the
one EM routine), ``_fit`` (anchors, the main EM and the two sub-models),
``_params`` (the fitted parameters, one typed object), ``_score`` (the one scoring
path), ``_explain`` and ``_persist``; ``_estimator`` holds the
scikit-learn-style :class:`FellegiSunter` that ties them together.

Three refinements over the textbook model:

* term frequencies: for a comparison with ``term_frequency``, an exact match on a
  value of frequency ``tf`` gains ``log2(reference / tf)``, the reference being the
  mean frequency over the candidate pairs that agree exactly: a common name counts
  for less than the usual exact match, a rare one for more;
* decisive comparisons: a ``decisive`` comparison at its exact level (two equal,
  valid enterprise numbers) *settles* a pair. Settled pairs anchor the fit (the
  other comparisons' ``m`` is read off them, the decisive comparison's own off the
  pairs that agree on everything else) and are scored by their own two-class model
  (``settled_mixture``): their non-matches are records carrying another entity's
  number, as unrelated as random pairs apart from it, so ``u`` is the random
  pairs' and EM estimates ``m`` and their share of matches. A moved address or a
  trade name then costs little, but a pair that agrees on nothing but the number is
  judged on that (at full scale: 310 false links -> 64, F1 0.9971 -> 0.9975).
  Without it, the other comparisons can only add to a settled pair's weight;
* pairs the decisive comparison cannot judge (a record without a number) are scored
  by the *joint* pattern of the other comparisons (``joint_unlabelled``), learnt on
  the pairs it labels: equal numbers are matches, different ones non-matches. The
  product of per-comparison weights assumes the comparisons independent, and among
  blocked pairs they are not: a move changes address and postcode together, and a
  pair blocked on its name agrees on little else unless it matches. The difference
  between the joint weight and that product is the pair's ``dependence``; such pairs
  also get their own prior. On the synthetic exchange at full scale this raised the
  enterprise F1 from 0.9958 to 0.9971, and on records without a number from 0.978
  to 0.987.
"""

from __future__ import annotations

from linkage.model._estimator import FellegiSunter, weight_to_probability
from linkage.model._explain import DEPENDENCE, EQUAL_NUMBERS, NO_NUMBER, OTHER_PAIRS
from linkage.model._params import FittedParams, JointModel, SettledModel

__all__ = [
    "DEPENDENCE",
    "EQUAL_NUMBERS",
    "NO_NUMBER",
    "OTHER_PAIRS",
    "FellegiSunter",
    "FittedParams",
    "JointModel",
    "SettledModel",
    "weight_to_probability",
]
