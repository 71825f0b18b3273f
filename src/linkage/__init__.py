"""linkage: privacy-preserving record linkage for the VLAIO/TBT - VDAB exchange.

>>> import linkage
>>> exchange = linkage.synthetic.load_sample()
>>> result = linkage.link(exchange.enterprises, exchange.employers, linkage.presets.enterprises())
>>> len(result.links) > 1_000
True
"""

from __future__ import annotations

__version__ = "0.1.0"

from linkage import exchange, presets, synthetic
from linkage.blocking import block_on, block_on_tokens, sorted_neighbourhood
from linkage.compare import distance, exact_match, similarity
from linkage.config import Comparison, Field, LinkSpec, ModelSettings, load_spec
from linkage.evaluate import link_quality, threshold_sweep
from linkage.exceptions import (
    ConfigError,
    ConvergenceWarning,
    InvalidIdentifier,
    KeyringError,
    LinkageError,
    NotFittedError,
    SchemaError,
)
from linkage.keys import KeyRing, SecretKey
from linkage.model import FellegiSunter
from linkage.pipeline import LinkResult, ParentLinks, link
from linkage.pseudonymise import crosswalk, pseudonymise

__all__ = [
    "Comparison",
    "ConfigError",
    "ConvergenceWarning",
    "FellegiSunter",
    "Field",
    "InvalidIdentifier",
    "KeyRing",
    "KeyringError",
    "LinkResult",
    "LinkSpec",
    "LinkageError",
    "ModelSettings",
    "NotFittedError",
    "ParentLinks",
    "SchemaError",
    "SecretKey",
    "__version__",
    "block_on",
    "block_on_tokens",
    "crosswalk",
    "distance",
    "exact_match",
    "exchange",
    "link",
    "link_quality",
    "load_spec",
    "presets",
    "pseudonymise",
    "similarity",
    "sorted_neighbourhood",
    "synthetic",
    "threshold_sweep",
]
