"""Reading and writing tables: CSV or Parquet, checked on the way in, atomic on the way out.

CSV is read as text, so that identifiers keep their leading zeros; an empty cell is
missing. Its dialect is UTF-8 (with or without a byte-order mark) and commas unless
the caller says otherwise, or asks for it to be sniffed (``sep=None``,
``encoding=None``, see :func:`sniff_csv`): what a spreadsheet saves, semicolons and
Windows-1252 included. Every writer goes through :func:`atomic_path`: the output
appears whole, under its final name, or not at all.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import logging
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from linkage.exceptions import ConfigError, SchemaError
from linkage.io._dialect import (
    SEPARATORS,
    CsvDialect,
    check_encoding,
    check_sep,
    open_text,
    sniff_csv,
)

__all__ = [
    "SEPARATORS",
    "CsvDialect",
    "atomic_path",
    "check_output",
    "check_unique",
    "fsync_dir",
    "fsync_tree",
    "read_table",
    "require_columns",
    "sniff_csv",
    "write_table",
]

log = logging.getLogger(__name__)

_CSV = (".csv", ".csv.gz", ".txt")
# What reading a damaged .gz raises: a bad header or CRC, a cut stream, bad data.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
_PARQUET = (".parquet", ".pq")
#: The bytes of CSV Arrow parses at once: each block is a chunk of every column, and
#: each chunk costs every later step on the column a call (1 MiB by default).
_CSV_BLOCK = 16 << 20
# What a damaged ``pandas`` entry in a Parquet file's metadata raises on reading.
_BAD_PANDAS_METADATA = (
    UnicodeDecodeError,
    json.JSONDecodeError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
)


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_CSV):
        return "csv"
    if name.endswith(_PARQUET):
        return "parquet"
    raise ConfigError(
        f"unknown table format; expected a name ending in {', '.join(_CSV + _PARQUET)}",
        source=path.name or str(path),
    )


def check_output(path: str | os.PathLike[str], *, table: bool = True) -> Path:
    """Refuse an output before any work that the writer would refuse after it.

    A command checks its outputs first, so that a long run does not end in an
    error about the name of the file it was to write.

    Parameters
    ----------
    path : path-like
        The file to write.
    table : bool
        A table (:func:`write_table`): the name must end in a CSV or Parquet suffix.

    Raises
    ------
    ConfigError
        Not a table's name, or a folder is where the file is to go.
    """
    path = Path(path)
    if table:
        _format(path)
    if path.is_dir():
        raise ConfigError("is a folder; expected the name of a file to write", source=str(path))
    return path


def read_table(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str] = (),
    unique: str | None = None,
    arrow_strings: bool = False,
    sep: str | None = ",",
    encoding: str | None = "utf-8",
) -> pd.DataFrame:
    r"""Read a CSV or Parquet table and check its shape.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.csv.gz``, ``.txt`` or ``.parquet``.
    required : sequence of str
        Columns that must be present.
    unique : str, optional
        A column whose values must be present and unique (an id).
    arrow_strings : bool
        Text columns as ``string[pyarrow]`` instead of Python objects: read by
        Arrow's multi-threaded CSV reader, no copy into Python strings. Same
        values, same errors (a file Arrow does not read is read as before).
    sep : str or None
        A CSV file's separator; None finds it (``,``, ``;``, tab or ``|``, or the
        one an Excel ``sep=;`` line names): see :func:`sniff_csv`.
    encoding : str or None
        A CSV file's encoding (UTF-8 reads a byte-order mark too); None finds it:
        UTF-8, UTF-16 with its byte-order mark, or Windows-1252.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ConfigError
        The name ends in neither a CSV nor a Parquet suffix; ``sep`` or
        ``encoding`` is not one.
    SchemaError
        The file is empty, not in its encoding, not a well-formed CSV or Parquet
        file, a required column is missing, or the id is missing or repeats;
        ``source`` is the file's name, ``column`` and ``row`` where they apply.

    Examples
    --------
    A Belgian spreadsheet's CSV: semicolons, Windows-1252.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "firms.csv"
    >>> _ = path.write_bytes("kbo;gemeente\n0403170701;Lëuven\n".encode("cp1252"))
    >>> read_table(path, sep=None, encoding=None).to_dict("records")
    [{'kbo': '0403170701', 'gemeente': 'Lëuven'}]
    """
    path = Path(path)
    kind = _format(path)
    if kind == "csv":
        dialect = _dialect(path, sep=sep, encoding=encoding)
        read = _read_csv_arrow if arrow_strings else _read_csv
        table = read(path, dialect)
    else:
        table = _read_parquet(path, arrow_strings=arrow_strings)
    if table.empty:
        raise SchemaError("no rows", source=path.name)
    require_columns(table, (*required, *([unique] if unique else [])), source=path.name)
    if unique is not None:
        check_unique(table[unique], source=path.name)
    return table


def _dialect(path: Path, *, sep: str | None, encoding: str | None) -> CsvDialect:
    """The dialect given, or sniffed where a part is None (and then logged)."""
    if sep is not None and encoding is not None:
        return CsvDialect(sep=check_sep(sep), encoding=check_encoding(encoding))
    dialect = sniff_csv(path, sep=sep, encoding=encoding)
    if dialect != CsvDialect():
        log.info("%s: %s", path.name, dialect.describe())
    return dialect


def _read_csv(path: Path, dialect: CsvDialect) -> pd.DataFrame:
    table = _parse_csv(path, dialect)
    if not isinstance(table.index, pd.RangeIndex):
        # pandas takes the first column for an index when the rows hold one field more
        # than the header: every value would sit under the wrong name.
        raise SchemaError(
            f"not a well-formed CSV: {_longer_row(path, dialect, len(table.columns))}",
            source=path.name,
        )
    return table


def _longer_row(path: Path, dialect: CsvDialect, width: int) -> str:
    """Where the first row longer than the header is, in the parser's words."""
    with open_text(path, dialect.encoding, errors="replace") as handle:
        for _ in range(dialect.skip):
            handle.readline()
        rows = csv.reader(handle, delimiter=dialect.sep)
        next(rows, None)
        for row in rows:
            if len(row) > width:
                line = rows.line_num + dialect.skip
                return f"expected {width} fields in line {line:,}, saw {len(row)}"
    return f"rows hold more fields than the header's {width}"


def _parse_csv(path: Path, dialect: CsvDialect) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=dialect.sep,
            encoding=dialect.encoding,
            skiprows=dialect.skip or None,
        )
    except pd.errors.EmptyDataError:
        raise SchemaError("empty file", source=path.name) from None
    except UnicodeError as exc:
        line = _first_undecodable_line(path, dialect.encoding)
        byte = (
            f"byte 0x{exc.object[exc.start]:02x}{line}"
            if isinstance(exc, UnicodeDecodeError)
            else "a character it cannot hold"
        )
        if dialect.encoding == "utf-8":
            detail = f"not UTF-8 text ({byte}); save it as UTF-8 CSV"
        else:
            detail = f"not {dialect.encoding} text ({byte})"
        raise SchemaError(detail, source=path.name) from None
    except pd.errors.ParserError as exc:
        # The parser's own words say which line and how many fields; it names no value.
        reason = " ".join(str(exc).split())
        raise SchemaError(f"not a well-formed CSV: {reason}", source=path.name) from None
    except _GZIP_ERRORS:
        raise _gzip_error(path) from None


def _arrow_strings(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas, text as ``string[pyarrow]`` (the Arrow buffers kept)."""
    text = pd.StringDtype("pyarrow")
    return table.to_pandas(
        types_mapper={pa.string(): text, pa.large_string(): text}.get,
        self_destruct=True,
        split_blocks=True,
    )


def _read_csv_arrow(path: Path, dialect: CsvDialect) -> pd.DataFrame:
    """:func:`_read_csv` by Arrow: every column text, an empty cell missing.

    Anything Arrow reads otherwise than pandas would, or refuses (a header with a
    blank or repeated name, a short row, bytes not in the encoding, a damaged file),
    is read by :func:`_read_csv`, which also makes the error messages.
    """
    import pyarrow.csv as pv

    try:
        with open_text(path, dialect.encoding) as handle:
            for _ in range(dialect.skip):
                handle.readline()
            header = next(csv.reader(handle, delimiter=dialect.sep), None)
    except (UnicodeError, OSError, csv.Error, *_GZIP_ERRORS):
        header = None
    if not header or len(set(header)) != len(header) or "" in header:
        return _read_csv(path, dialect)
    try:
        table = pv.read_csv(
            path,
            read_options=pv.ReadOptions(
                encoding="utf8" if dialect.encoding == "utf-8" else dialect.encoding,
                skip_rows=dialect.skip,
                block_size=_CSV_BLOCK,
            ),
            parse_options=pv.ParseOptions(delimiter=dialect.sep, newlines_in_values=True),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, OSError, UnicodeError, *_GZIP_ERRORS):
        return _read_csv(path, dialect)
    if table.column_names != header:
        return _read_csv(path, dialect)
    return _arrow_strings(table)


def _first_undecodable_line(path: Path, encoding: str = "utf-8") -> str:
    """`` on line N`` for the first line that is not ``encoding`` (the decoder's own
    offset counts from the start of a chunk, not of the file); ``""`` if it cannot
    tell (a damaged .gz, or an encoding whose line ends are not the byte 0x0a)."""
    if encoding.startswith(("utf-16", "utf-32")):
        return ""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    line.decode(encoding)
                except UnicodeDecodeError:
                    return f" on line {number:,}"
    except (OSError, *_GZIP_ERRORS):
        pass  # a damaged .gz whose readable part is not decodable: no line to name
    return ""


def _gzip_error(path: Path) -> SchemaError:
    """The error for a ``.gz`` that gzip refuses: not gzip at all, or damaged."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic != b"\x1f\x8b":
        return SchemaError("not a gzip file, though named .gz", source=path.name)
    return SchemaError("a damaged or truncated gzip file", source=path.name)


def _read_parquet(path: Path, *, arrow_strings: bool = False) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if not path.is_dir():  # a folder is a dataset of Parquet files, which Arrow reads
        # Arrow reports a missing or unreadable file as an OSError without an errno,
        # as it does a damaged one: opening it first raises what it is.
        open(path, "rb").close()
    try:
        table = pq.read_table(path)
        try:
            # pq.read_table(...).to_pandas() is what pd.read_parquet does; called
            # here, a damaged metadata entry stays catchable (pandas' own call can
            # abort the process on exit after such an error: pyarrow 26).
            return _arrow_strings(table) if arrow_strings else table.to_pandas()
        except _BAD_PANDAS_METADATA:
            # The "pandas" metadata only restores an index and dtypes; the columns
            # are intact without it.
            log.warning("%s: damaged pandas metadata; read without it", path.name)
            table = pq.read_table(path).replace_schema_metadata(None)
            return _arrow_strings(table) if arrow_strings else table.to_pandas()
    except OSError as exc:
        if exc.errno is not None:
            raise  # missing or unreadable: a file error, not a bad table
        # Arrow reports a torn footer or page as an OSError without an errno.
        raise SchemaError("a damaged Parquet file", source=path.name) from None
    except pa.ArrowNotImplementedError as exc:
        # Arrow's words name a type or an encoding, never a value.
        reason = " ".join(str(exc).split())
        raise SchemaError(
            f"a Parquet file this reader cannot read: {reason}", source=path.name
        ) from None
    except pa.ArrowException:
        raise SchemaError("not a Parquet file, or a damaged one", source=path.name) from None


def require_columns(table: pd.DataFrame, columns: Iterable[str], *, source: str) -> None:
    """Raise :class:`SchemaError` unless ``table`` has every one of ``columns``.

    The one check of its kind: every stage that needs columns of a user's table
    calls it, so the message reads the same everywhere::

        t.csv, column 'kbo': missing column(s) 'kbo', 'name'; found 'id', 'naam'

    Parameters
    ----------
    table : DataFrame
        The table to check.
    columns : iterable of str
        The columns it must have; repeats are named once.
    source : str
        The file or table, for the message (``"employers.csv"``, ``"left"``).

    Raises
    ------
    SchemaError
        With ``column`` set to the first missing column.
    """
    present = set(table.columns)
    missing = list(dict.fromkeys(c for c in columns if c not in present))
    if missing:
        found = [str(c) for c in table.columns]
        # One header holding ";" or a tab: a file another separator, read as one column.
        hint = next(
            (
                f" (separated by {name}? save it comma-separated)"
                for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))
                if len(found) == 1 and sep in found[0]
            ),
            "",
        )
        raise SchemaError(
            f"missing column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(repr, found)) or 'none'}{hint}",
            source=source,
            column=missing[0],
        )


def check_unique(ids: pd.Series, *, source: str) -> None:
    """Raise :class:`SchemaError` at the first missing or repeated id.

    ``ids`` is read by position: its first value is row 1. The error names the
    rows, never the id itself.
    """
    column = None if ids.name is None else str(ids.name)
    absent = ids.isna().to_numpy()
    if absent.any():
        row = int(absent.argmax())
        raise SchemaError("missing id", source=source, column=column, row=row + 1)
    repeated = ids.duplicated(keep="first").to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        first = int((ids == ids.iloc[row]).to_numpy().argmax())
        raise SchemaError(
            f"duplicate id (first at row {first + 1:,})",
            source=source,
            column=column,
            row=row + 1,
        )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, make it ``path``, durably.

    The one atomic write of the library. The caller writes a file, or builds a
    folder, at the yielded path. When the block ends without an error, every file
    written is fsync'd (a folder's files and the folder too), the temporary is
    ``os.replace``'d onto ``path``, and ``path``'s folder is fsync'd, so that after a
    crash ``path`` is either the old content or the whole new one. On any error the
    temporary is removed and ``path`` is untouched.

    Parameters
    ----------
    path : path-like
        The file or folder to write; its parent folder is created if need be.
    mode : int, optional
        Permissions of the file, e.g. ``0o600`` for a key file. The temporary file
        is then created before the block runs, empty and with these permissions,
        so that no moment exists in which others may read what is written: write
        into it, do not make it anew. Without ``mode`` nothing exists at the
        yielded path: create a file or a folder there.

    Raises
    ------
    OSError
        As the writer or the file system raise it, but naming ``path``, not the
        temporary.

    Notes
    -----
    A folder that already exists at ``path`` is first renamed aside and removed
    after the swap (POSIX renames a folder only onto an empty one): a crash between
    the two renames leaves ``path`` absent and the old folder beside it, under a
    dot-name ending in ``.old``.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("whole or not at all")
    >>> target.read_text()
    'whole or not at all'
    """
    path = Path(path)
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        # mkstemp: a fresh name, and a file created 0600 whatever the umask.
        handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        exc.filename = str(path)  # not the temporary name it tried
        raise
    tmp = Path(tmp_name)
    try:
        if mode is None:
            os.close(handle)
            tmp.unlink()
        else:
            try:
                os.fchmod(handle, mode)
            finally:
                os.close(handle)
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)  # in case the writer made the file anew
        fsync_tree(tmp)
        _replace(tmp, path)
        fsync_dir(parent)
    except OSError as exc:
        # Name the file the caller asked for, not its temporary stand-in.
        if exc.filename is not None and str(exc.filename).startswith(str(tmp)):
            exc.filename = str(path)
        raise
    finally:
        _remove(tmp)


def _replace(tmp: Path, path: Path) -> None:
    if not (tmp.is_dir() and path.is_dir() and not path.is_symlink()):
        os.replace(tmp, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.replace(path, old)  # onto the empty folder just made
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (names created, renamed or removed in it) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: str | os.PathLike[str]) -> None:
    """Flush a file, or every file and folder under a folder and the folder itself."""
    path = Path(path)
    if not path.is_dir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
        return
    for folder, _, files in os.walk(path, topdown=False):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(folder)


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
