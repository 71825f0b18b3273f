"""Reading and writing tables: CSV or Parquet, checked on the way in, atomic on the way out.

CSV is read as text, so that identifiers keep their leading zeros; an empty cell is
missing. Every writer goes through :func:`atomic_path`: the output appears whole,
under its final name, or not at all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from linkage.exceptions import ConfigError, SchemaError

__all__ = ["atomic_path", "check_unique", "read_table", "write_table"]

_CSV = (".csv", ".csv.gz", ".txt")
_PARQUET = (".parquet", ".pq")


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_CSV):
        return "csv"
    if name.endswith(_PARQUET):
        return "parquet"
    raise ConfigError(f"{path}: unknown table format; expected one of {_CSV + _PARQUET}")


def read_table(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str] = (),
    unique: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet table and check its shape.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.csv.gz`` or ``.parquet``.
    required : sequence of str
        Columns that must be present.
    unique : str, optional
        A column whose values must be present and unique (an id).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    SchemaError
        The file is empty, a required column is missing, or the id repeats.
    """
    path = Path(path)
    kind = _format(path)
    if kind == "csv":
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            raise SchemaError(f"{path.name}: empty file") from None
    else:
        table = pd.read_parquet(path)
    if table.empty:
        raise SchemaError(f"{path.name}: no rows")
    missing = [c for c in (*required, *([unique] if unique else [])) if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{path.name}: missing column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(repr, table.columns))}"
        )
    if unique is not None:
        check_unique(table[unique], source=path.name)
    return table


def check_unique(ids: pd.Series, *, source: str) -> None:
    """Raise :class:`SchemaError` at the first missing or repeated id."""
    absent = ids.isna().to_numpy()
    if absent.any():
        row = int(absent.argmax())
        raise SchemaError(f"{source}, column {ids.name!r}, row {row + 1:,}: missing id")
    repeated = ids.duplicated(keep="first").to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        first = int((ids == ids.iloc[row]).to_numpy().argmax())
        raise SchemaError(
            f"{source}, column {ids.name!r}, row {row + 1:,}: duplicate id "
            f"(first at row {first + 1:,})"
        )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, rename it to ``path``.

    On any error the temporary file or folder is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` (without its index) as CSV or Parquet, atomically."""
    path = Path(path)
    kind = _format(path)
    with atomic_path(path) as tmp:
        if kind == "csv":
            table.to_csv(
                tmp, index=False, compression="gzip" if path.name.endswith(".gz") else None
            )
        else:
            table.to_parquet(tmp, index=False)
    return path
