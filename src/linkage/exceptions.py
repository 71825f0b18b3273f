"""Errors and warnings raised by linkage.

The tree::

    LinkageError                  every error the library raises on purpose
    ├── SchemaError               a table lacks a column, has a duplicate id, is empty
    ├── ConfigError               a spec, setting or TOML file is wrong
    ├── InvalidIdentifier         an enterprise, establishment or other number is malformed
    ├── KeyringError              a key file is missing, tampered with, or the passphrase is wrong
    └── NotFittedError            a model is used before ``fit``

    ConvergenceWarning            EM stopped before it converged (a warning, not an error)

Messages say what was expected, what arrived and where (file, column, row), in one
line. They never carry key material, nor an identifier of a natural person.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConvergenceWarning",
    "InvalidIdentifier",
    "KeyringError",
    "LinkageError",
    "NotFittedError",
    "SchemaError",
]


class LinkageError(Exception):
    """Base class of every error that linkage raises on purpose."""


class SchemaError(LinkageError, ValueError):
    """A table does not have the shape a stage needs."""


class ConfigError(LinkageError, ValueError):
    """A spec, setting or configuration file is invalid."""


class InvalidIdentifier(LinkageError, ValueError):
    """An identifier is malformed; ``reason`` says why in a few words."""

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class KeyringError(LinkageError):
    """Key material cannot be loaded, decrypted or found."""


class NotFittedError(LinkageError, AttributeError):
    """A model was used before ``fit``."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at its iteration limit before it converged."""
