"""linkage: privacy-preserving record linkage for the VLAIO/TBT - VDAB exchange.

>>> import linkage
>>> exchange = linkage.synthetic.load_sample()
>>> result = linkage.link(exchange.enterprises, exchange.employers, linkage.presets.enterprises())
>>> len(result.links) > 1_000
True
"""

from __future__ import annotations

from linkage import exchange, presets, synthetic
from linkage._version import __version__
from linkage.comparisons import (
    Comparison,
    Distance,
    ExactMatch,
    Similarity,
    distance,
    exact_match,
    similarity,
)
from linkage.config import Field, LinkSpec, ModelSettings
from linkage.dedupe import DedupeResult, dedupe, dedupe_quality
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
from linkage.model import FellegiSunter, FittedParams
from linkage.pipeline import LinkResult, ParentLinks, link
from linkage.presets import load_spec
from linkage.pseudonymise import crosswalk, pseudonymise
from linkage.rules import (
    BlockingRule,
    BlockOn,
    SharedToken,
    SortedNeighbourhood,
    block_on,
    block_on_tokens,
    sorted_neighbourhood,
)

__all__ = [
    "BlockOn",
    "BlockingRule",
    "Comparison",
    "ConfigError",
    "ConvergenceWarning",
    "DedupeResult",
    "Distance",
    "ExactMatch",
    "FellegiSunter",
    "Field",
    "FittedParams",
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
    "SharedToken",
    "Similarity",
    "SortedNeighbourhood",
    "__version__",
    "block_on",
    "block_on_tokens",
    "crosswalk",
    "dedupe",
    "dedupe_quality",
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
