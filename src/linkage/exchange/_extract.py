"""Read, validate and minimise the extracts of the sending parties.

Order matters: national register numbers are looked for in *every* column of the
file as read, whatever its type (a column about to be dropped is no excuse), and a
record that holds one is withheld before anything else is done with it (reported to
its sender as a defect, never its value), or the run refused, as ``[checks]
national_numbers`` says; then the party's column mapping renames its headers to the
protocol's names, then the columns art. 3 does not list are dropped, then types,
numbers and ids are checked. Errors name the file, the column as the sender wrote it
and the row (1-based data row of the file, header not counted), never a value.
"""

from __future__ import annotations

import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exceptions import LinkageError, SchemaError
from linkage.exchange._config import MIXED, ExchangeConfig, NationalNumbers
from linkage.exchange._schema import (
    EXTRACTS,
    LIST_SEPARATOR,
    LIST_SPLIT,
    NATIONAL_NUMBER_NAMES,
    Extract,
)
from linkage.identifiers import (
    LEADING_DIGITS,
    parse_enterprise_numbers,
    parse_establishment_numbers,
)
from linkage.io import read_table, require_columns
from linkage.national import national_number_mask
from linkage.normalise import WHITESPACE_CHARS

__all__ = ["Extracts", "list_items", "listed", "read_extracts", "sha256_file"]

log = logging.getLogger(__name__)

InvalidNumbers = Literal["refuse", "withhold"]
FILE, ROW = "_file", "_row"
DEFECT_COLUMNS = ("party", "table", "record_id", "column", "defect", "detail", "file", "row")
_TRUE = {"true", "1", "yes", "ja", "y", "j", "t", "waar"}
_FALSE = {"false", "0", "no", "nee", "n", "f", "onwaar"}
_TEXT = pd.StringDtype("pyarrow")


@dataclass(frozen=True, kw_only=True)
class Extracts:
    """Validated, minimised extracts: one frame per table, all parties together.

    Every frame has the allowed columns (missing ones added empty), ``party``, and
    ``_file`` / ``_row`` (where each record came from, for reports). Columns have the
    protocol's names, in the frames and in ``defects``; ``headers`` holds, for each
    ``(table, _file)`` read through a column mapping, the header of each mapped column
    (:meth:`as_sent` names a defect's column so).
    """

    tables: dict[str, pd.DataFrame] = field(repr=False)
    inputs: list[dict[str, object]]
    dropped: list[dict[str, object]]
    defects: pd.DataFrame = field(repr=False)
    headers: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict, repr=False)

    def as_sent(self, defects: pd.DataFrame) -> pd.Series:
        """The ``column`` of each defect as its sender wrote it: the header a column
        mapping read it from, else the column's own name.

        Parameters
        ----------
        defects : DataFrame
            With ``table``, ``file`` and ``column`` (see ``DEFECT_COLUMNS``).
        """
        names = defects["column"].to_numpy(dtype=object, copy=True)
        if not self.headers or not len(defects):
            return pd.Series(names, index=defects.index, name="column")
        # Integer codes throughout: a look-up per distinct name, not per defect.
        table_codes, tables = pd.factorize(defects["table"], use_na_sentinel=False)
        file_codes, files = pd.factorize(defects["file"], use_na_sentinel=False)
        column_codes, columns = pd.factorize(defects["column"], use_na_sentinel=False)
        where = {
            (t, f): i * len(files) + j for i, t in enumerate(tables) for j, f in enumerate(files)
        }
        pairs = table_codes * len(files) + file_codes
        for key, headers in self.headers.items():
            if key in where:
                rows = pairs == where[key]
                renamed = np.array([headers.get(c, c) for c in columns], dtype=object)
                names[rows] = renamed[column_codes[rows]]
        return pd.Series(names, index=defects.index, name="column")


def list_items(values: pd.Series) -> pd.Series:
    """The values of list cells, one row each (the cell's index kept), trimmed, empty
    ones left out: a cell lists them separated by ``;``, ``,``, ``|`` or a line break
    (a dossier's staff ids, a plural column's values)."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        items = values.str.split(LIST_SPLIT, regex=True).explode().str.strip()
        return items[items.notna() & (items != "")]
    # Arrow's split and trim; the white space trimmed after the split is str.strip's,
    # so it does not matter that RE2's \s is narrower than Python's.
    lists = pc.split_pattern_regex(pa.array(values.array), LIST_SPLIT)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    items = pc.utf8_trim(pc.list_flatten(lists), characters=WHITESPACE_CHARS)
    keep = pc.fill_null(pc.not_equal(items, ""), False)
    return pd.Series(
        pd.arrays.ArrowStringArray(items.filter(keep)),
        index=values.index[parents[keep.to_numpy(zero_copy_only=False)]],
        name=values.name,
    )


def listed(values: pd.Series) -> pd.Series:
    """Plural cells as read: their values in the order sent, without repeats, joined
    by :data:`LIST_SEPARATOR`; a cell of one value is that value. ``string[pyarrow]``,
    made by Arrow's split and join, no Python string per value; a cell without a
    separator is only trimmed (empty is missing), as :func:`_as_text` does."""
    single = _as_text(values)
    several = _holds_separator(pa.array(single.array))
    if not several.any():
        return single
    text = pa.array(single.array).filter(pa.array(several))
    text = (text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text).cast(pa.string())
    joined = pc.replace_with_mask(
        _one_chunk(pa.array(single.array)), pa.array(several), _joined(text).cast(pa.large_string())
    )
    return pd.Series(pd.arrays.ArrowStringArray(joined), index=values.index, name=values.name)


#: The bytes of :data:`LIST_SPLIT`'s separators.
_SEPARATOR_BYTES = np.zeros(256, dtype=bool)
_SEPARATOR_BYTES[[ord(c) for c in ";,|\n"]] = True


def _one_chunk(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    if not isinstance(text, pa.ChunkedArray):
        return text
    return text.combine_chunks() if text.num_chunks else pa.array([], text.type)


def _holds_separator(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a value holds a separator of list items (null: False)."""
    found = []
    for chunk in _text_chunks(text):
        data, starts, ends = _spans(chunk)
        # Where the separators are (few), then how many lie in each value's bytes.
        at = np.flatnonzero(_SEPARATOR_BYTES[data])
        inside = np.searchsorted(at, ends) > np.searchsorted(at, starts)
        found.append(inside & chunk.is_valid().to_numpy(zero_copy_only=False))
    return np.concatenate(found) if found else np.zeros(0, dtype=bool)


def _joined(text: pa.StringArray) -> pa.StringArray:
    """Each cell's items split, trimmed, without empty ones and repeats, joined."""
    lists = pc.split_pattern_regex(text, LIST_SPLIT)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    items = pc.utf8_trim(pc.list_flatten(lists), characters=WHITESPACE_CHARS)
    codes = pc.dictionary_encode(items).indices.to_numpy(zero_copy_only=False)
    again = pd.Series(parents.astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes)
    keep = pc.fill_null(pc.not_equal(items, ""), False).to_numpy(zero_copy_only=False)
    keep &= ~again.duplicated().to_numpy()
    offsets = np.zeros(len(text) + 1, dtype=np.int32)
    np.cumsum(np.bincount(parents[keep], minlength=len(text)), out=offsets[1:])
    joined = pc.binary_join(
        pa.ListArray.from_arrays(pa.array(offsets), items.filter(pa.array(keep))), LIST_SEPARATOR
    )
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, joined.type), joined)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require(raw: pd.DataFrame, columns: list[str], file: str, why: str) -> None:
    """:func:`require_columns`, with why the exchange needs them."""
    try:
        require_columns(raw, columns, source=file)
    except SchemaError as exc:
        raise SchemaError(f"{exc.detail} ({why})", source=file, column=exc.column) from None


def _rename(raw: pd.DataFrame, mapping: dict[str, str], *, file: str, where: str) -> None:
    """Rename the sender's headers to the protocol's columns, in place (``mapping``:
    column to header, checked by the config): the labels change, no data moves.

    Raises
    ------
    SchemaError
        A mapped header is not in the file, or the file also has a column under the
        name a header is mapped to; ``column`` is the sender's header.
    """
    if not mapping:
        return
    missing = [header for header in mapping.values() if header not in raw.columns]
    if missing:
        column = next(c for c, h in mapping.items() if h == missing[0])
        _require(raw, missing, file, f"{where} maps it to {column}")
    headers = set(mapping.values())
    for column, header in mapping.items():
        if column != header and column in raw.columns and column not in headers:
            raise SchemaError(
                f"the file has this column and {header!r}, which {where} maps to {column}; "
                "remove one of them",
                source=file,
                column=column,
            )
    renamed = {header: column for column, header in mapping.items()}
    raw.columns = pd.Index([renamed.get(c, c) for c in raw.columns])


def _as_sent(exc: LinkageError, mapping: dict[str, str]) -> LinkageError:
    """``exc`` with its column named as the sender's file names it."""
    column = mapping.get(exc.column, exc.column) if exc.column is not None else None
    return type(exc)(exc.detail, source=exc.source, column=column, row=exc.row)


#: The protocol's columns of phone numbers: a mobile as 32 + its number is a phone
#: there (``linkage.national``, step 5).
PHONES = ("phone",)
NATIONAL_NUMBER = "national register number"


def _national_numbers(values: pd.Series, *, phone: bool = False) -> np.ndarray:
    """Where a column holds national register or BIS numbers (``linkage.national``)."""
    return national_number_mask(values.reset_index(drop=True), phone=phone).to_numpy(dtype=bool)


def _find_national_numbers(
    raw: pd.DataFrame,
    file: str,
    *,
    extract: Extract,
    party: str,
    mapping: dict[str, str],
    policy: NationalNumbers,
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Search every column of a file as read; the positions of the records to
    withhold, and a defect per record and column that holds a number.

    Raises
    ------
    SchemaError
        A header names a national register number, or (``policy="refuse"``) a value
        holds one: the first such column and row.
    """
    for column in raw.columns:
        if re.search(NATIONAL_NUMBER_NAMES, str(column)):
            raise SchemaError(
                "a national register number column; the protocol (art. 3) does not allow "
                "national register numbers: remove it from the extract",
                source=file,
                column=str(column),
            )
    phones = {mapping.get(c, c) for c in PHONES if c in extract.columns}
    found = {}
    for column in raw.columns:
        mask = _national_numbers(raw[column], phone=column in phones)
        if not mask.any():
            continue
        if policy == "refuse":
            raise SchemaError(
                f"a national register or BIS number ({int(mask.sum()):,} in this column); the "
                "protocol (art. 3) does not allow them: remove them from the extract",
                source=file,
                column=str(column),
                row=int(mask.argmax()) + 1,
            )
        found[column] = np.flatnonzero(mask)
    if not found:
        return np.zeros(0, dtype=np.intp), None
    # The defects name the record by the sender's own id, unless that id is the number.
    id_header = mapping.get(extract.id, extract.id)
    ids = _as_text(raw[id_header]).to_numpy(dtype=object) if id_header in raw.columns else None
    if ids is not None and id_header in found:
        ids[found[id_header]] = None
    party_header = mapping.get("party", "party")
    senders = (
        _as_text(raw[party_header]).to_numpy(dtype=object)
        if party == MIXED and party_header in raw.columns
        else np.full(len(raw), party, dtype=object)
    )
    protocol = {header: column for column, header in mapping.items()}
    defects = pd.DataFrame(
        {
            "party": np.concatenate([senders[rows] for rows in found.values()]),
            "table": extract.name,
            "record_id": (
                np.concatenate([ids[rows] for rows in found.values()]) if ids is not None else None
            ),
            "column": np.repeat(
                [protocol.get(str(c), str(c)) for c in found], [r.size for r in found.values()]
            ),
            "defect": NATIONAL_NUMBER,
            "detail": "withheld: holds a national register or BIS number (protocol art. 3)",
            "file": file,
            "row": np.concatenate(list(found.values())) + 1,
        }
    )
    return np.unique(np.concatenate(list(found.values()))), defects


#: The bytes from which on a byte is no ASCII white space nor control character,
#: and those from which on it is part of a character beyond ASCII (some are white
#: space): :data:`WHITESPACE_CHARS` in ASCII are all up to the space.
_PRINTABLE, _BEYOND_ASCII = 0x21, 0x80
assert all(ord(c) < _PRINTABLE for c in WHITESPACE_CHARS if c.isascii())


def _text_chunks(text: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(text.chunks) if isinstance(text, pa.ChunkedArray) else [text]


def _spans(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bytes of a (large) string array, and each value's start and end in them."""
    wide = pa.types.is_large_string(text.type)
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    return (data if data is not None else np.zeros(0, dtype=np.uint8)), offsets[:-1], offsets[1:]


def _trim_changes(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether trimming white space may change a value: one starts or ends with a
    byte of white space, or of a character beyond ASCII."""
    for chunk in _text_chunks(text):
        data, starts, ends = _spans(chunk)
        if not data.size:
            continue
        # An empty value's "first" and "last" bytes are its neighbours' (or the
        # buffer's ends): bytes looked at anyway, so no value is missed.
        for edge in (data.take(starts, mode="clip"), data.take(ends - 1, mode="clip")):
            # In uint8, below the printable ones wraps round to above them.
            if ((edge - np.uint8(_PRINTABLE)) >= _BEYOND_ASCII - _PRINTABLE).any():
                return True
    return False


def _as_text(values: pd.Series) -> pd.Series:
    """Text with the white space of ``str.strip`` trimmed; empty is missing.

    Returns ``string[pyarrow]``: trimmed by Arrow, no Python string per value
    (and not trimmed at all where no value starts or ends with white space).
    """
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype(_TEXT)
    text = pa.array(values.array)
    if _trim_changes(text):
        text = pc.utf8_trim(text, characters=WHITESPACE_CHARS)
    if pc.any(pc.equal(pc.binary_length(text), 0)).as_py():
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return pd.Series(pd.arrays.ArrowStringArray(text), index=values.index, name=values.name)


def _dates(text: pd.Series) -> pd.Series:
    """``pd.to_datetime(text, format="ISO8601", errors="coerce")``, with plain
    ``YYYY-MM-DD`` (nearly every value) parsed by Arrow and the rest by pandas."""
    arrow = pa.array(text.array)
    plain = pa.array(_plain_dates(arrow))
    days = pc.strptime(
        pc.if_else(plain, arrow, pa.scalar(None, arrow.type)),
        format="%Y-%m-%d",
        unit="s",
        error_is_null=True,
    )
    values = days.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    # pandas' range in nanoseconds; anything outside it, or not plain, pandas decides.
    inside = (values >= np.datetime64("1677-09-22")) & (values <= np.datetime64("2262-04-10"))
    rest = text.notna().to_numpy(dtype=bool) & ~(
        inside & days.is_valid().to_numpy(zero_copy_only=False)
    )
    parsed = pd.Series(values, index=text.index, dtype="datetime64[ns]")
    if rest.any():
        parsed[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce")
    return parsed


#: Where a plain date ``YYYY-MM-DD`` has its dashes; its other bytes are digits.
_DASHES = np.array([4, 7])
_DATE_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9])


def _plain_dates(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a value is ``[0-9]{4}-[0-9]{2}-[0-9]{2}`` (null: False), by its bytes."""
    found = []
    for chunk in _text_chunks(text):
        data, starts, ends = _spans(chunk)
        plain = (ends - starts == 10) & chunk.is_valid().to_numpy(zero_copy_only=False)
        at = starts[plain]
        ok = np.ones(at.size, dtype=bool)
        for k in _DATE_DIGITS:
            ok &= data[at + k] - np.uint8(48) <= 9  # below "0" wraps round to above 9
        for k in _DASHES:
            ok &= data[at + k] == ord("-")
        plain[np.flatnonzero(plain)[~ok]] = False
        found.append(plain)
    return np.concatenate(found) if found else np.zeros(0, dtype=bool)


def _amounts(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")`` as float64; Arrow's cast first."""
    try:
        numbers = pc.cast(pa.array(text.array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce").astype("float64")
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def _row(rows: np.ndarray, mask: np.ndarray) -> int:
    """The file's 1-based data row of the first True of ``mask`` (``rows``: the row of
    the file each value came from, records withheld before left out)."""
    return int(rows[int(mask.argmax())]) + 1


def _typed(values: pd.Series, kind: str, file: str, column: str, rows: np.ndarray) -> pd.Series:
    """Convert one column to its kind, refusing the first value that does not fit."""
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            return values.astype("datetime64[ns]")
        text = _as_text(values)
        parsed = _dates(text)
        expected = "a date (YYYY-MM-DD)"
    elif kind == "amount":
        if pd.api.types.is_numeric_dtype(values.dtype) and values.dtype.kind != "b":
            return values.astype("float64")
        text = _as_text(values)
        parsed = _amounts(text)
        expected = "a number (e.g. 1250.50)"
    elif kind == "flag":
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("boolean")
        text = _as_text(values).str.lower()
        parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
        parsed[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
        parsed[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
        expected = "true or false"
    else:
        return _as_text(values)
    bad = (parsed.isna() & text.notna()).to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(f"expected {expected}", source=file, column=column, row=_row(rows, bad))
    return parsed


def _canonical(text: pa.Array | pa.ChunkedArray, kind: str) -> np.ndarray:
    """Where a value is missing or already a valid number as the parser writes it
    (ten ASCII digits, check digits and first digit right): what it parses to."""
    low, high = LEADING_DIGITS[kind]  # type: ignore[index]
    found = []
    for chunk in _text_chunks(text):
        data, starts, ends = _spans(chunk)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        ten = np.flatnonzero((ends - starts == 10) & valid)
        numbers, digits = _ten_digits(data, starts[ten])
        leading = numbers // 1_000_000_000
        ok = (
            digits
            & (numbers % 100 == 97 - numbers // 100 % 97)
            & (leading >= low)
            & (leading <= high)
        )
        done = ~valid
        done[ten[ok]] = True
        found.append(done)
    return np.concatenate(found) if found else np.zeros(0, dtype=bool)


def _ten_digits(data: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ten bytes from each of ``starts`` read as a decimal number (``int64``), and
    whether they are all ASCII digits: a byte column at a time, no matrix product."""
    numbers = np.zeros(starts.size, dtype=np.int64)
    digits = np.ones(starts.size, dtype=bool)
    for k in range(10):
        digit = data[starts + k] - np.uint8(48)  # below "0" wraps round to above 9
        digits &= digit <= 9
        numbers = numbers * 10 + digit
    return numbers, digits


def _parsed(values: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """The canonical numbers of a text column (``string[pyarrow]``) and why each
    other one is not valid (``string``, missing where it is): the values already
    canonical as they are, the others by the parser."""
    text = pa.array(values.array)
    done = _canonical(text, kind)
    reasons = pd.Series(pd.NA, index=values.index, dtype="string")
    if done.all():
        return values.rename(values.name), reasons
    parse = parse_enterprise_numbers if kind == "enterprise" else parse_establishment_numbers
    rest = np.flatnonzero(~done)
    parsed = parse(values.iloc[rest].reset_index(drop=True), return_reasons=True)
    reasons.iloc[rest] = parsed["reason"].astype("string").to_numpy()
    numbers = pc.replace_with_mask(
        _one_chunk(text), pa.array(~done), pa.array(parsed["number"].array).cast(text.type)
    )
    numbers = pd.arrays.ArrowStringArray(numbers)
    return pd.Series(numbers, index=values.index, name=values.name), reasons


def _numbers(
    frame: pd.DataFrame,
    column: str,
    kind: str,
    *,
    file: str,
    table: str,
    policy: InvalidNumbers,
    is_id: bool,
) -> tuple[pd.Series, pd.DataFrame | None]:
    numbers, reasons = _parsed(frame[column], kind)
    bad = reasons.notna().to_numpy(dtype=bool)
    if not bad.any():
        return numbers, None
    label = "enterprise number" if kind == "enterprise" else "establishment-unit number"
    if policy == "refuse":
        first = int(bad.argmax())
        raise SchemaError(
            f"not a valid {label}: {reasons.iloc[first]}"
            + (f" (and {int(bad.sum()) - 1:,} more rows)" if bad.sum() > 1 else ""),
            source=file,
            column=column,
            row=_row(frame[ROW].to_numpy(), bad),
        )
    extract = EXTRACTS[table]
    record = None if is_id else frame[extract.id].to_numpy()[bad]
    defects = pd.DataFrame(
        {
            "party": frame["party"].to_numpy()[bad],
            "table": table,
            "record_id": record,
            "column": column,
            "defect": "invalid number",
            "detail": (
                ("withheld: " if is_id else "reference dropped: ") + reasons[bad]
            ).to_numpy(),
            "file": file,
            "row": frame[ROW].to_numpy()[bad] + 1,
        }
    )
    return numbers, defects


def _read_one(
    path: Path, extract: Extract, party: str, config: ExchangeConfig, policy: InvalidNumbers
) -> tuple[pd.DataFrame, dict[str, object], dict[str, object], list[pd.DataFrame]]:
    file = path.name if party == MIXED else f"{party}/{path.name}"
    try:
        raw = read_table(path, arrow_strings=True)
    except LinkageError as exc:  # named as the party sent it: "VLAIO/staff.csv"
        raise type(exc)(exc.detail, source=file, column=exc.column, row=exc.row) from None
    mapping = config.mapping(party, extract.name)
    sent = len(raw)
    withheld, found = _find_national_numbers(
        raw,
        file,
        extract=extract,
        party=party,
        mapping=mapping,
        policy=config.checks.national_numbers,
    )
    rows = np.arange(sent)
    if withheld.size:  # gone before any other check or use
        rows = np.delete(rows, withheld)
        raw = raw.iloc[rows].reset_index(drop=True)
    headers = list(raw.columns)
    _rename(raw, mapping, file=file, where=f"[extracts.{party}.columns.{extract.name}]")
    try:
        frame, report, defects = _checked(raw, extract, party, config, policy, file, headers, rows)
    except LinkageError as exc:
        if exc.column is None or exc.column not in mapping:
            raise
        raise _as_sent(exc, mapping) from None
    inputs: dict[str, object] = {
        "party": party,
        "table": extract.name,
        "file": str(path),
        "sha256": sha256_file(path),
        "rows": sent,
        **({"mapped_columns": dict(mapping)} if mapping else {}),
    }
    return frame, inputs, report, ([found] if found is not None else []) + defects


def _checked(
    raw: pd.DataFrame,
    extract: Extract,
    party: str,
    config: ExchangeConfig,
    policy: InvalidNumbers,
    file: str,
    headers: list[str],
    rows: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, object], list[pd.DataFrame]]:
    """The checks of one file whose columns have the protocol's names; ``headers``
    are its columns as sent, for the messages that list them; ``rows`` the row of
    the file each record came from. (A column missing is not mapped: a mapped
    header is in the file, or :func:`_rename` said so.)"""
    if party == MIXED:
        if "party" not in raw.columns:
            why = "a [extracts.mixed] file names each record's sending party"
            _require(pd.DataFrame(columns=headers), ["party"], file, why)
        sender = _as_text(raw["party"])
        unknown = (~sender.isin(config.parties)).to_numpy(dtype=bool)
        if unknown.any():
            raise SchemaError(
                f"not one of the parties {', '.join(config.parties)}",
                source=file,
                column="party",
                row=_row(rows, unknown),
            )
        own = [p for p in config.parties if extract.name in config.extracts.get(p, {})]
        twice = sender.isin(own).to_numpy(dtype=bool)
        if twice.any():
            raise SchemaError(
                f"this party has its own {extract.name} extract in [extracts]",
                source=file,
                column="party",
                row=_row(rows, twice),
            )
    else:
        sender = pd.Series(party, index=raw.index, dtype="string")
        if "party" in raw.columns:
            other = (_as_text(raw["party"]).fillna(party) != party).to_numpy(dtype=bool)
            if other.any():
                raise SchemaError(
                    f"a record of another party in {party}'s extract",
                    source=file,
                    column="party",
                    row=_row(rows, other),
                )
    dropped = [c for c in raw.columns if c not in extract.columns and c != "party"]
    required = [c for c, spec in extract.columns.items() if spec.required]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        why = f"required by art. 3, Gegeven {extract.gegeven}"
        _require(pd.DataFrame(columns=headers), missing, file, why)
    frame = pd.DataFrame(index=raw.index)
    for column, spec in extract.columns.items():
        values = raw[column] if column in raw.columns else pd.Series(pd.NA, index=raw.index)
        kind = "text" if spec.kind in ("enterprise", "establishment") else spec.kind
        frame[column] = _typed(values, kind, file, column, rows)
        if spec.plural:
            frame[column] = listed(frame[column])
    frame["party"] = sender.astype(_TEXT)
    frame[FILE] = file
    frame[ROW] = rows
    missing_id = frame[extract.id].isna().to_numpy(dtype=bool)
    if missing_id.any():
        raise SchemaError("missing id", source=file, column=extract.id, row=_row(rows, missing_id))
    defects = []
    for column, spec in extract.columns.items():
        if spec.kind in ("enterprise", "establishment"):
            numbers, found = _numbers(
                frame,
                column,
                spec.kind,
                file=file,
                table=extract.name,
                policy=policy,
                is_id=column == extract.id,
            )
            frame[column] = numbers
            if found is not None:
                defects.append(found)
    report: dict[str, object] = {
        "party": party,
        "table": extract.name,
        "file": file,
        "columns": dropped,
    }
    return frame, report, defects


def _check_unique(frame: pd.DataFrame, extract: Extract) -> pd.DataFrame | None:
    """Each record once; a record of one-to-many parts (:attr:`Extract.repeats`) once
    per part. The defects of a record whose rows do not repeat its own fields (its
    first row's are delivered), if any."""
    subset = [extract.id] if extract.exchange_wide else [extract.id, "party"]
    present = frame[extract.id].notna().to_numpy(dtype=bool)
    valid = frame if present.all() else frame[present]  # no copy when every id is there
    defects = None
    codes = _group_codes(valid, subset)
    if extract.repeats:
        defects = _repeats_differ(valid, extract, codes)
        codes = _group_codes(valid, extract.part, codes)
    repeated = _seen_before(codes)
    if repeated.any():
        at = valid.iloc[int(repeated.argmax())]
        same = (valid[subset].fillna("") == at[subset].fillna("")).all(axis=1).to_numpy()
        first = valid.iloc[int(same.argmax())]
        scope = "" if extract.exchange_wide else f" of party {at['party']}"
        what = " and part" if extract.repeats else ""
        raise SchemaError(
            f"duplicate id{what}{scope} (first at {first[FILE]}, row {int(first[ROW]) + 1:,})",
            source=str(at[FILE]),
            column=extract.id,
            row=int(at[ROW]) + 1,
        )
    return defects


def _differ(values: pd.Series, rows: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """Where the value of each of ``rows`` (positions) differs from that of its
    record's first row (``firsts``), as text (``string``, missing as ``"\x00"``):
    by Arrow for text, by the bits of dates and floats (each float's text is its
    own; every NaN is missing)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        text = pa.array(values.array)
        a, b = (pc.fill_null(text.take(pa.array(at)), "\x00") for at in (rows, firsts))
        return pc.not_equal(a, b).to_numpy(zero_copy_only=False)
    if (
        isinstance(values.dtype, np.dtype)
        and values.dtype.kind in "Mf"
        and values.dtype.itemsize == 8
    ):
        numbers = values.to_numpy(copy=True)
        if values.dtype.kind == "f":
            numbers[np.isnan(numbers)] = np.nan  # one NaN
        bits = numbers.view(np.int64)
        return bits[rows] != bits[firsts]
    a, b = (
        values.iloc[at].astype("string").fillna("\x00").to_numpy(dtype=object)
        for at in (rows, firsts)
    )
    return a != b


def _column_codes(values: pd.Series) -> np.ndarray:
    """A code per value (0, 1, ...): equal values, and missing ones, share one."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        # The chunks share one dictionary (as pandas' factorize relies on): missing
        # values take the code after its last.
        chunks = pa.chunked_array(pa.array(values.array)).dictionary_encode().chunks
        missing = max((len(c.dictionary) for c in chunks), default=0)
        parts = [pc.fill_null(c.indices, missing).to_numpy(zero_copy_only=False) for c in chunks]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64)


def _group_codes(
    frame: pd.DataFrame, columns: list[str] | tuple[str, ...], codes: np.ndarray | None = None
) -> np.ndarray:
    """A code per row (``int64``): rows equal in ``columns`` (missing equal to
    missing, as :meth:`DataFrame.duplicated` has it), and in ``codes`` if given,
    share one. Columns after the first are not read once every row has its own."""
    for column in columns:
        if codes is not None and _all_distinct(codes):
            break
        more = _column_codes(frame[column])
        codes = more if codes is None else pd.factorize(codes * (int(more.max()) + 1) + more)[0]
    return codes if codes is not None else np.zeros(len(frame), dtype=np.int64)


def _all_distinct(codes: np.ndarray) -> bool:
    return not codes.size or int(codes.max()) + 1 == codes.size


def _seen_before(codes: np.ndarray) -> np.ndarray:
    """Where a row's code is that of an earlier row."""
    if _all_distinct(codes):
        return np.zeros(codes.size, dtype=bool)
    seen: np.ndarray = pd.Series(codes).duplicated(keep="first").to_numpy()
    return seen


def _repeats_differ(valid: pd.DataFrame, extract: Extract, codes: np.ndarray) -> pd.DataFrame:
    """A defect per later row of a record and column of its own (not its parts') where
    it differs from the record's first row (``codes``: the record of each row)."""
    first = np.full(codes.max() + 1 if codes.size else 0, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))
    again = np.flatnonzero(first[codes] != np.arange(len(codes)))
    found = []
    for column in (c for c in extract.columns if c not in extract.repeats):
        differ = _differ(valid[column], again, first[codes[again]])
        if differ.any():
            at = valid.iloc[again[differ]]
            found.append(
                pd.DataFrame(
                    {
                        "party": at["party"].to_numpy(),
                        "table": extract.name,
                        "record_id": at[extract.id].to_numpy(),
                        "column": column,
                        "defect": "differs between rows",
                        "detail": "the record's rows (one per "
                        + extract.part[0].removesuffix("_id")
                        + ") do not repeat this field: its first row's value is delivered",
                        "file": at[FILE].to_numpy(),
                        "row": at[ROW].to_numpy() + 1,
                    }
                )
            )
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=DEFECT_COLUMNS)


def read_extracts(
    config: ExchangeConfig, *, invalid_numbers: InvalidNumbers = "refuse"
) -> Extracts:
    """Read every extract of the configuration, validate and minimise it.

    Parameters
    ----------
    config : ExchangeConfig
    invalid_numbers : {"refuse", "withhold"}
        An invalid enterprise or establishment number is an error (``refuse``), or
        its record is withheld (its own id) or its reference dropped, and it is
        reported as a data-quality defect (``withhold``).

    A record that holds a national register or BIS number in any column is
    withheld and reported as a defect ``national register number``, or the run
    refused, as the config's ``[checks] national_numbers`` says.

    Raises
    ------
    SchemaError
        Naming the file, column and row of the first problem.
    """
    tables, inputs, dropped, defects = {}, [], [], []
    headers: dict[tuple[str, str], dict[str, str]] = {}
    files = [
        (name, party, sent[name])
        for name in EXTRACTS
        for party, sent in config.extracts.items()
        if name in sent
    ]
    # Two files at a time: Arrow parses one (and lets go of the GIL) while the other
    # is checked. Taken in order, so that the first file's error is the one raised.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="read")
    try:
        reads = {
            (name, party): pool.submit(
                _read_one, path, EXTRACTS[name], party, config, invalid_numbers
            )
            for name, party, path in files
        }
        for name, extract in EXTRACTS.items():
            frames = []
            for party in config.extracts:
                if (name, party) not in reads:
                    continue
                frame, source, report, found = reads.pop((name, party)).result()
                frames.append(frame)
                inputs.append(source)
                dropped.append(report)
                defects.extend(found)
                if mapping := config.mapping(party, name):
                    headers[(name, str(report["file"]))] = mapping
            table = pd.concat(frames, ignore_index=True)
            try:
                if (differ := _check_unique(table, extract)) is not None and len(differ):
                    defects.append(differ)
            except SchemaError as exc:
                raise _as_sent(exc, headers.get((name, str(exc.source)), {})) from None
            tables[name] = table
            log.debug("%s: %s rows", name, f"{len(table):,}")
    finally:  # after an error: no file started, and the one under way waited for
        pool.shutdown(wait=True, cancel_futures=True)
    columns = list(DEFECT_COLUMNS)
    found = pd.concat(defects, ignore_index=True) if defects else pd.DataFrame(columns=columns)
    return Extracts(
        tables=tables, inputs=inputs, dropped=dropped, defects=found[columns], headers=headers
    )
