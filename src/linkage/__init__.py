"""linkage: privacy-preserving record linkage for the VLAIO/TBT - VDAB exchange.

>>> import linkage
>>> exchange = linkage.synthetic.load_sample()
>>> result = linkage.link(exchange.enterprises, exchange.employers, linkage.presets.enterprises())
>>> len(result.links) > 1_000
True

Progress (generation, each stage of a link, with its time) is logged, not printed:
the ``linkage`` command shows it on stderr, and :func:`log_to_notebook` shows it in
Jupyter or any script.
"""

from __future__ import annotations

import logging
import sys

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
from linkage.encoding import encode, link_encoded
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
    "encode",
    "exact_match",
    "exchange",
    "link",
    "link_encoded",
    "link_quality",
    "load_spec",
    "log_to_notebook",
    "presets",
    "pseudonymise",
    "similarity",
    "sorted_neighbourhood",
    "synthetic",
    "threshold_sweep",
]


def log_to_notebook(level: int | str = logging.INFO) -> logging.Handler:
    """Show linkage's progress and notes in a notebook (or any script), on stderr.

    The library logs and never configures logging (only the ``linkage`` command
    does), so in Jupyter its progress is silent until a handler is attached: this
    attaches one to the ``linkage`` logger, once however often it is called, and
    sets the logger's level.

    Parameters
    ----------
    level : int or str
        ``"INFO"`` (the default): each stage with its time; ``"DEBUG"``: more;
        ``"WARNING"``: only what goes wrong.

    Returns
    -------
    logging.Handler
        The handler, to remove with ``logging.getLogger("linkage").removeHandler(h)``.

    Examples
    --------
    >>> import linkage
    >>> handler = linkage.log_to_notebook()  # doctest: +SKIP
    """
    logger = logging.getLogger("linkage")
    logger.setLevel(level)
    for handler in logger.handlers:
        if getattr(handler, "_linkage_notebook", False):
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    handler._linkage_notebook = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    return handler
