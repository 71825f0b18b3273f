"""Errors and warnings raised by linkage.

The tree::

    LinkageError                  every error the library raises on purpose;
    │                             carries detail, and where: source, column, row
    ├── SchemaError               a table lacks a column, has a duplicate id, is empty;
    │                             a file is not what it should be (not UTF-8, not
    │                             Parquet, not a saved model)
    ├── ConfigError               a spec, setting, option or TOML file is wrong
    ├── InvalidIdentifier         an enterprise, establishment or other number is
    │                             malformed; ``reason`` says why in a few words
    ├── KeyringError              a key file is missing, tampered with, not a key file,
    │                             or the passphrase is wrong
    └── NotFittedError            a model is used before ``fit``

    ConvergenceWarning            EM stopped before it converged (a warning, not an error)

Messages say what was expected, what arrived and where (file, column, row), in one
line. The where is kept in fields, so that a caller (the command line) can read it
without parsing the text; ``where`` joins the parts that are set::

    >>> err = SchemaError("missing id", source="employers.csv", column="kbo", row=1204)
    >>> str(err)
    "employers.csv, column 'kbo', row 1,204: missing id"
    >>> err.detail, err.source, err.column, err.row
    ('missing id', 'employers.csv', 'kbo', 1204)
    >>> SchemaError("empty file", source="x.csv").where
    'x.csv'

Messages never carry key material, nor an identifier of a natural person.
"""

from __future__ import annotations

from typing import Any

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
    """Base class of every error that linkage raises on purpose.

    ``str(error)`` composes the one line ``"{source}, column '{column}', row {row:,}:
    {detail}"``, leaving out each part that is missing.

    Parameters
    ----------
    detail : str
        What was expected and what arrived, without the where.
    source : str, optional
        The file or table (``"employers.csv"``, ``"left"``).
    column : str, optional
        The column at fault.
    row : int, optional
        The 1-based data row, as a person counts it (the header is not a row).
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.detail = detail
        self.source = source
        self.column = column
        self.row = row
        super().__init__(self._compose())

    @property
    def where(self) -> str:
        """``"{source}, column '{column}', row {row:,}"``, each missing part left out."""
        parts = []
        if self.source is not None:
            parts.append(str(self.source))
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.row is not None:
            parts.append(f"row {self.row:,}")
        return ", ".join(parts)

    def _compose(self) -> str:
        where = self.where
        return f"{where}: {self.detail}" if where else self.detail

    def __str__(self) -> str:
        return self._compose()

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt with its fields, not from ``args`` alone (a worker process's error
        # reaches the parent pickled).
        return (_rebuild, (type(self), self.detail, self.__dict__.copy()))


def _rebuild(cls: type[LinkageError], detail: str, state: dict[str, Any]) -> LinkageError:
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    error.__dict__.update(state)
    error.args = (error._compose(),)
    return error


class SchemaError(LinkageError, ValueError):
    """A table does not have the shape a stage needs, or cannot be read as a table."""


class ConfigError(LinkageError, ValueError):
    """A spec, setting or configuration file is invalid."""


class InvalidIdentifier(LinkageError, ValueError):
    """An identifier is malformed; ``reason`` says why in a few words."""

    def __init__(
        self,
        detail: str,
        *,
        reason: str = "invalid",
        source: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.reason = reason
        super().__init__(detail, source=source, column=column, row=row)


class KeyringError(LinkageError):
    """Key material cannot be loaded, decrypted or found."""


class NotFittedError(LinkageError, AttributeError):
    """A model was used before ``fit``."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at its iteration limit before it converged."""
