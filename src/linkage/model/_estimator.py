"""The Fellegi-Sunter estimator: settings in, :class:`FittedParams` out, weights from them."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.comparisons import Comparison
from linkage.exceptions import ConfigError, LinkageError, NotFittedError, SchemaError
from linkage.io import atomic_path
from linkage.model import _explain, _persist, _score
from linkage.model._fit import fit_params
from linkage.model._labels import LabelFit, fit_labels
from linkage.model._params import FittedParams
from linkage.model._patterns import Layout, weight_table
from linkage.model._spec import SpecDigest, check_spec

if TYPE_CHECKING:
    from linkage.config import LinkSpec

__all__ = ["FellegiSunter", "weight_to_probability"]


class FellegiSunter:
    """Fellegi-Sunter record-linkage model (see :mod:`linkage.model`).

    The keyword parameters are those of :class:`linkage.config.ModelSettings`, with
    the same defaults (a test holds them equal): ``FellegiSunter.from_spec(spec)``.

    Parameters
    ----------
    comparisons : sequence of Comparison
        One per column of the agreement matrix ``gamma``.
    max_iter : int
        EM iterations at most; stopping earlier than convergence warns.
    tol : float
        EM stops when no ``m`` probability nor the prior moves more than this.
    u_sample_size : int
        Random pairs whose levels start ``u`` (drawn by the pipeline).
    seed : int
        Seed of those random pairs.
    fix_u : bool
        Keep ``u`` from the random pairs (True) or re-estimate it by EM (False).
    joint_unlabelled : bool
        Score pairs with every decisive comparison null by the joint pattern of the
        other comparisons, learnt on the pairs the decisive comparisons label.
    settled_mixture : bool
        Score pairs at a decisive comparison's exact level by their own two-class
        model, ``u`` from random pairs, instead of only clipping the other
        comparisons' weights at zero.

    Attributes
    ----------
    spec_digest : SpecDigest or None
        The spec the model was made for (:meth:`from_spec`): its sha256 and how each
        compared column is prepared; saved with the model, and checked by
        :meth:`check_spec`. None for a model built from comparisons alone, or loaded
        from a file saved before it was kept.
    params_ : FittedParams
        Everything ``fit`` learnt; ``m_``, ``u_``, ``u_random_``, ``lambda_``,
        ``n_iter_``, ``converged_``, ``n_anchors_``, ``n_patterns_`` and
        ``tf_reference_`` read from it.
    """

    spec_digest: SpecDigest | None = None
    label_fit_: LabelFit

    def __init__(
        self,
        comparisons: Sequence[Comparison],
        *,
        max_iter: int = 200,
        tol: float = 1e-6,
        u_sample_size: int = 300_000,
        seed: int = 0,
        fix_u: bool = False,
        joint_unlabelled: bool = True,
        settled_mixture: bool = True,
    ) -> None:
        self.comparisons = tuple(comparisons)
        self.max_iter = max_iter
        self.tol = tol
        self.u_sample_size = u_sample_size
        self.seed = seed
        self.fix_u = fix_u
        self.joint_unlabelled = joint_unlabelled
        self.settled_mixture = settled_mixture

    @classmethod
    def from_spec(cls, spec: LinkSpec) -> FellegiSunter:
        """The unfitted model a spec asks for: its comparisons and ``spec.model``."""
        model = cls(spec.comparisons, **asdict(spec.model))
        model.spec_digest = SpecDigest.of(spec)
        return model

    def check_spec(self, spec: LinkSpec, *, source: str = "model") -> None:
        """Refuse ``spec`` unless this model can score its pairs: the same comparisons,
        their columns prepared the same way (see :mod:`linkage.model._spec`).

        Raises
        ------
        ConfigError
            Naming each difference; ``source`` names the model (its file).
        """
        check_spec(self.comparisons, self.spec_digest, spec, source=source)

    # --------------------------------------------------------------- parameters

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor's parameters, by name (as scikit-learn's estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> FellegiSunter:
        """Change constructor parameters; a fitted model must be fitted again."""
        unknown = sorted(set(params) - set(self._param_names()))
        if unknown:
            raise ConfigError(
                f"FellegiSunter has no parameter(s) {unknown}; it has {self._param_names()}"
            )
        for name, value in params.items():
            setattr(self, name, tuple(value) if name == "comparisons" else value)
        self.__dict__.pop("params_", None)
        if "comparisons" in params:  # no longer the spec's
            self.__dict__.pop("spec_digest", None)
        return self

    def clone(self) -> FellegiSunter:
        """An unfitted model with the same parameters (made for the same spec)."""
        model = type(self)(**self.get_params())
        model.spec_digest = self.spec_digest
        return model

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self.comparisons)
        fitted = f", lambda_={self.lambda_:.4g}" if "params_" in self.__dict__ else ""
        return f"FellegiSunter([{names}], max_iter={self.max_iter}, tol={self.tol}{fitted})"

    @property
    def _layout(self) -> Layout:
        return Layout(self.comparisons)

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        gamma: NDArray[np.int8],
        *,
        gamma_random: NDArray[np.int8],
        tf: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> FellegiSunter:
        """Estimate ``u`` from random pairs, then ``m``, the prior (and ``u``) by EM.

        Parameters
        ----------
        gamma : ndarray of shape (n_pairs, n_comparisons), dtype int8
            Levels of the candidate pairs.
        gamma_random : ndarray of shape (n_random, n_comparisons), dtype int8
            Levels of pairs drawn at random from the two tables (nearly all non-matches).
        tf : dict of str to ndarray of shape (n_pairs,), optional
            Term frequencies of the candidate pairs' values, per comparison with
            ``term_frequency`` (see :func:`linkage.compare.term_frequencies`).
        """
        self.params_ = fit_params(
            self._layout,
            gamma,
            gamma_random,
            tf,
            max_iter=self.max_iter,
            tol=self.tol,
            fix_u=self.fix_u,
            joint_unlabelled=self.joint_unlabelled,
            settled_mixture=self.settled_mixture,
        )
        return self

    @property
    def params(self) -> FittedParams:
        """The fitted parameters; :class:`NotFittedError` before ``fit``."""
        try:
            return self.__dict__["params_"]
        except KeyError:
            raise NotFittedError(
                "this FellegiSunter is not fitted yet; call fit(gamma, gamma_random=...) first"
            ) from None

    def with_labels(
        self,
        gamma: NDArray[np.int8],
        is_match: NDArray[np.bool_],
        *,
        weights: NDArray[np.float64] | None = None,
    ) -> FellegiSunter:
        """A copy of this fitted model with ``m`` (and ``u`` where enough) re-estimated
        from labelled pairs, as Splink's ``estimate_m_from_pairwise_labels`` (see
        :mod:`linkage.model._labels`); this model is left as it is.

        Parameters
        ----------
        gamma : ndarray of shape (n_labelled, n_comparisons), dtype int8
        is_match : ndarray of shape (n_labelled,), dtype bool
        weights : ndarray of shape (n_labelled,), optional
            Sampling weights (a stratified review sample's); equal by default.

        Returns
        -------
        FellegiSunter
            Fitted; its ``label_fit_`` says how many labels informed each comparison.
        """
        fitted = fit_labels(self._layout, self.params, gamma, is_match, weights)
        model = self.clone()
        model.params_ = fitted.params
        model.label_fit_ = fitted
        return model

    m_ = property(lambda self: self.params.m, doc="Level probabilities among matches.")
    u_ = property(lambda self: self.params.u, doc="Level probabilities among non-matches.")
    u_random_ = property(lambda self: self.params.u_random, doc="Among random pairs.")
    lambda_ = property(lambda self: self.params.share, doc="Prior share of matches.")
    n_iter_ = property(lambda self: self.params.n_iter, doc="Iterations of the main EM.")
    converged_ = property(lambda self: self.params.converged, doc="Whether it converged.")
    n_anchors_ = property(lambda self: self.params.n_anchors, doc="Anchor pairs.")
    n_patterns_ = property(lambda self: self.params.n_patterns, doc="Distinct patterns.")
    tf_reference_ = property(lambda self: self.params.tf_reference, doc="TF references.")

    # ---------------------------------------------------------------- predicting

    def weight_tables(self) -> list[NDArray[np.float64]]:
        """Per comparison, the match weight (log2 Bayes factor) of each level; null first."""
        params = self.params
        return [weight_table(m, u) for m, u in zip(params.m, params.u, strict=True)]

    def sub_model_weight_tables(self) -> dict[str, list[NDArray[np.float64]]]:
        """Per sub-model that weighs levels one by one (``other pairs``, ``pairs with
        equal numbers``), per comparison the weight of each level; null first."""
        return _explain.level_weights(self.params, self._layout)

    def sub_model_priors(self) -> dict[str, float]:
        """The prior weight (bits) of each sub-model that scores pairs, by name."""
        return _explain.prior_weights(self.params, self._layout)

    def dependence_table(self) -> pd.DataFrame:
        """The patterns of ``pairs without a number`` and their dependence (bits)
        (see :func:`linkage.model._explain.dependence_table`)."""
        return _explain.dependence_table(self.params, self._layout)

    @property
    def prior_weight(self) -> float:
        """``log2(lambda / (1 - lambda))``: the weight of a pair before any comparison."""
        return _score.log_odds(self.params.share)

    def partial_weights(
        self, gamma: NDArray[np.int8], *, tf: Mapping[str, NDArray[np.float64]] | None = None
    ) -> NDArray[np.float64]:
        """Each comparison's contribution to each pair's match weight.

        Returns
        -------
        ndarray of shape (n_pairs, n_comparisons), dtype float64
        """
        gamma = self._layout.check(gamma, "gamma")
        return np.column_stack(list(_score.terms(self._layout, self.params, gamma, tf).columns))

    def match_weight(
        self, gamma: NDArray[np.int8], *, tf: Mapping[str, NDArray[np.float64]] | None = None
    ) -> NDArray[np.float64]:
        """Match weight of each pair, in bits: prior plus the comparisons' contributions
        (plus, for pairs no decisive comparison labels, their pattern's dependence)."""
        gamma = self._layout.check(gamma, "gamma")
        return _score.match_weight(self._layout, self.params, gamma, tf)

    def match_probability(
        self, gamma: NDArray[np.int8], *, tf: Mapping[str, NDArray[np.float64]] | None = None
    ) -> NDArray[np.float64]:
        """Posterior probability that each pair is a match."""
        return weight_to_probability(self.match_weight(gamma, tf=tf))

    def explain(
        self, gamma_row: Sequence[int], *, tf: Mapping[str, float] | None = None
    ) -> pd.DataFrame:
        """One pair's match weight, term by term (see :func:`linkage.model._explain.explain`).

        ``tf`` is the pair's value frequency per comparison with term frequencies, as
        the pipeline scored it (:func:`linkage.charts.data.explain_pair` finds it); a
        model fitted with them refuses an exact match on such a comparison without.
        """
        return _explain.explain(self._layout, self.params, gamma_row, tf)

    def explain_pairs(
        self, gamma: NDArray[np.int8], *, tf: Mapping[str, NDArray[np.float64]] | None = None
    ) -> pd.DataFrame:
        """Every pair's match weight by term, one row a pair: ``scored_by`` (the
        sub-model), ``prior``, one column per comparison, ``dependence`` and
        ``total`` (equal to :meth:`match_weight`; see
        :func:`linkage.model._explain.explain_pairs`)."""
        return _explain.explain_pairs(self._layout, self.params, gamma, tf)

    # -------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """Settings, comparisons and fitted parameters as plain data."""
        settings = {k: v for k, v in self.get_params().items() if k != "comparisons"}
        return _persist.params_to_dict(
            self.comparisons, settings, self.params, spec=self.spec_digest
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FellegiSunter:
        """A fitted model from :meth:`to_dict`'s output."""
        comparisons, settings, params, digest = _persist.params_from_dict(data)
        model = cls(comparisons, **settings)
        model.params_ = params
        model.spec_digest = digest
        return model

    def save(self, path: str | Path) -> None:
        """Write the parameters as JSON, atomically."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> FellegiSunter:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SchemaError("not a saved model (not JSON)", source=path.name) from None
        except LinkageError as exc:
            raise SchemaError(exc.detail, source=path.name) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(
                f"not a saved model (broken or missing {exc})", source=path.name
            ) from None


def weight_to_probability(weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """``2**w / (1 + 2**w)``, computed without overflow.

    >>> weight_to_probability(np.array([0.0, 1.0])).tolist()
    [0.5, 0.6666666666666666]
    """
    return 1.0 / (1.0 + np.exp2(-np.clip(np.asarray(weight, dtype=np.float64), -500, 500)))
