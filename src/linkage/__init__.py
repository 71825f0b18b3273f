"""linkage: privacy-preserving record linkage for the VLAIO/TBT - VDAB exchange."""

from __future__ import annotations

from linkage.exceptions import (
    ConfigError,
    ConvergenceWarning,
    InvalidIdentifier,
    KeyringError,
    LinkageError,
    NotFittedError,
    SchemaError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConvergenceWarning",
    "InvalidIdentifier",
    "KeyringError",
    "LinkageError",
    "NotFittedError",
    "SchemaError",
    "__version__",
]
