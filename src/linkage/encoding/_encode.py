"""Encode one party's table: prepared fields to tokens and hardened Bloom filters.

The party prepares its fields with the spec's preparers (:func:`linkage.prepare.prepare`),
then turns each into what :mod:`linkage.encoding._plan` says, under keys derived
from its key ring (:mod:`linkage.encoding._keys`). Only the record ids, the
encodings and a public description (spec, parameters, a check value of the key)
leave: no value in any form.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from linkage._memory import reused_memory
from linkage.config import Field, LinkSpec, spec_to_dict
from linkage.encoding._bloom import (
    Grams,
    Words,
    bloom_filters,
    flip_bits,
    mix64,
    permute_bits,
    salt_permutations,
    xor_fold,
)
from linkage.encoding._keys import EncodingKeys
from linkage.encoding._lsh import minhash_bands
from linkage.encoding._params import FORMAT, METADATA_KEY, EncodingParams
from linkage.encoding._plan import Plan, plan
from linkage.encoding._tokens import (
    TOKEN_BYTES,
    aes_cmac_many,
    joined,
    near_tokens,
    text,
    tokens,
)
from linkage.exceptions import ConfigError
from linkage.io import atomic_path, check_unique, require_columns
from linkage.keys import KeyRing, SecretKey
from linkage.prepare import prepare

__all__ = ["Encoded", "encode", "write_encoded"]

log = logging.getLogger(__name__)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: What separates the values of a cell that lists several.
_LIST_MARKS = (";", "|", "\n")
_LIST = r"[;|\n]"

Side = Literal["left", "right"]


@dataclass(frozen=True)
class Encoded:
    """One party's encodings: an Arrow table and what it was made with.

    ``table`` holds the id column as given, ``token:<field>`` and ``block:<rule>``
    (16-byte fixed-size binary), ``bloom:<field>`` (``bits / 8`` bytes, packed
    little-endian uint64 words); its schema metadata describes the encoding.
    """

    table: pa.Table
    description: dict[str, object] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def write(self, path: str | Path) -> Path:
        """Write as Parquet, atomically (see :func:`write_encoded`)."""
        return write_encoded(self, path)


def _side(table: pd.DataFrame, spec: LinkSpec, side: Side | None) -> Side:
    if side is not None:
        if side not in ("left", "right"):
            raise ConfigError(f"side must be 'left' or 'right', got {side!r}")
        return side
    found = [s for s, c in (("left", spec.left_id), ("right", spec.right_id)) if c in table]
    if len(found) == 2:
        # An id of one side that is a field of the other (employers hold enterprise
        # numbers) says which side the table is.
        found = [
            s
            for s, other in (("left", "right"), ("right", "left"))
            if getattr(spec, f"{s}_id") not in {c for f in spec.fields for c in f.source_for(other)}  # type: ignore[arg-type]
        ]
    if len(found) == 1:
        return found[0]  # type: ignore[return-value]
    raise ConfigError(
        f"cannot tell which side of the spec the table is (ids {spec.left_id!r}, "
        f"{spec.right_id!r}); pass side='left' or 'right' (--side)"
    )


def _fixed(data: NDArray[np.uint8] | NDArray[np.uint64], present: NDArray[np.bool_]) -> pa.Array:
    """Rows of bytes as an Arrow fixed-size binary array, null where not present."""
    raw = np.ascontiguousarray(data).view(np.uint8).reshape(len(present), -1)
    validity = pa.py_buffer(np.packbits(present, bitorder="little").tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(raw.shape[1]),
        len(present),
        [validity, pa.py_buffer(raw)],
        null_count=int((~present).sum()),
    )


def _seeds(ids: pd.Series, key: bytes) -> NDArray[np.uint64]:
    """A keyed 64-bit seed per record id (the first half of its AES-CMAC)."""
    return aes_cmac_many(key, text(ids.astype("string[pyarrow]"))).view("<u8")[:, 0].copy()


@reused_memory()
def encode(
    table: pd.DataFrame,
    spec: LinkSpec,
    key: KeyRing | SecretKey,
    *,
    side: Side | None = None,
    params: EncodingParams | None = None,
    version: int | None = None,
    keep: Sequence[str] = (),
    name: str = "",
) -> Encoded:
    """Encode ``table`` for a link on encodings (see :mod:`linkage.encoding`).

    Parameters
    ----------
    table : DataFrame
        One party's records, with the spec's columns for its side.
    spec : LinkSpec
        The spec both parties and the linking party use.
    key : KeyRing or SecretKey
        The exchange's key ring (current version unless ``version``), or the
        encoding domain key itself.
    side : {"left", "right"}, optional
        Which side of the spec the table is; found from the id columns if not given.
    params : EncodingParams, optional
    keep : sequence of str
        Id columns passed through as given besides the record id: the parent ids
        (a unit's enterprise pseudonym, a site's employer id) for a link within
        linked parents. Never a value that is compared.
    name : str
        The table's name, for messages.

    Returns
    -------
    Encoded
    """
    params = params or EncodingParams()
    side = _side(table, spec, side)
    source = name or f"{side} table"
    id_column = spec.left_id if side == "left" else spec.right_id
    require_columns(table, (id_column, *keep), source=source)
    check_unique(table[id_column].reset_index(drop=True), source=source)
    columns = table.columns
    base_sha256 = spec_sha256(spec)
    spec, notes = spec.for_columns(columns, columns, names=(source, source))
    for note in notes:
        log.warning("%s", note)
    keys = EncodingKeys(key, version=version)
    what = plan(spec)
    timings: dict[str, float] = {}
    fields_by_name = {f.name: f for f in spec.fields}
    with _stage(timings, "prepare"):
        fields = [f for f in spec.fields if f.name in {*what.bloom, *what.token, *_joined(what)}]
        # The exact fields' columns as Arrow text once: preparing them and looking
        # for cells that list several values both read them so.
        table = _as_text(table, [c for f in what.token for c in fields_by_name[f].source_for(side)])
        prepared = prepare(table, fields, side=side, source=source)
    ids = table[id_column].reset_index(drop=True)
    arrays: dict[str, pa.Array] = {id_column: pa.array(ids.to_numpy(object), from_pandas=True)}
    for column in keep:
        values = table[column].reset_index(drop=True).astype(object)
        arrays[f"keep:{column}"] = pa.array(values.to_numpy(object), from_pandas=True)
    with _stage(timings, "tokens"):
        band_salts = _salts(prepared, params.lsh_salt, keys)[2]
        for f in what.token:
            listed = _listed(table, fields_by_name[f], side, source)
            if listed is not None:  # cells listing several values: the first valid one's token
                items, owner = listed
                data, tokens_present = tokens(
                    items, keys.derive(f"token/{f}"), prf=params.token_prf
                )
                any_of, present = _by_owner(data, tokens_present, owner, len(table))
                arrays[f"any:{f}"] = _fixed(any_of, present)
                data = _first(data, tokens_present, owner, len(table))
            else:
                data, present = tokens(prepared[f], keys.derive(f"token/{f}"), prf=params.token_prf)
            arrays[f"token:{f}"] = _fixed(data, present)
        for rule, fs, _, _ in what.block:
            data, present = tokens(
                joined([prepared[f] for f in fs]),
                keys.derive(f"block/{'+'.join(fs)}"),
                prf=params.token_prf,
            )
            arrays[f"block:{rule}"] = _fixed(data, present)
        for f in what.near:
            near = near_tokens(prepared[f], keys.derive(f"near/{f}"))
            arrays[f"near:{f}"] = _fixed(near, near[:, 0] != 0)
    with _stage(timings, "bands"):
        # Each fuzzy field's distinct values once, and their q-grams once, for its
        # blocking bands and its filter; the records then take their value's row.
        distinct = {f: _distinct(prepared[f]) for f in dict.fromkeys((*what.lsh, *what.bloom))}
        grams = {f: _grams(values, params.q) for f, (_, values) in distinct.items()}
        for f in what.lsh:
            arrays.update(_bands(f, distinct[f][0], grams[f], band_salts, keys, params))
    with _stage(timings, "filters"):
        salt_codes, salt_values, _ = _salts(prepared, params.salt, keys)
        seeds = _seeds(ids, keys.derive(f"flip/{params.seed}"))
        for f in what.bloom:
            salts = None if salt_codes is None else (salt_codes, salt_values)
            filters, present = _filters(f, distinct[f][0], grams.pop(f), salts, seeds, keys, params)
            arrays[f"bloom:{f}"] = _fixed(filters, present)
    for suffix in ("", "_cpu"):
        timings[f"encode{suffix}"] = sum(
            timings[f"{s}{suffix}"] for s in ("tokens", "bands", "filters")
        )
    description: dict[str, object] = {
        "format": FORMAT,
        "side": side,
        "id_column": id_column,
        "rows": len(table),
        "spec": spec_to_dict(spec),
        "spec_sha256": spec_sha256(spec),
        "base_spec_sha256": base_sha256,
        "params": params.to_dict(),
        "exchange": keys.exchange,
        "key_version": keys.version,
        "key_id": keys.key_id,
        "token_bytes": TOKEN_BYTES,
        "notes": list(notes),
        "kept": list(keep),
    }
    out = pa.table(arrays).replace_schema_metadata(
        {METADATA_KEY: json.dumps(description, sort_keys=True).encode("utf-8")}
    )
    return Encoded(out, description, timings)


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    """Record a stage's wall seconds (``name``) and this process's CPU seconds (``name_cpu``)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timings[name] = time.perf_counter() - wall
    timings[f"{name}_cpu"] = time.process_time() - cpu


def _bands(
    f: str,
    codes: NDArray[np.int64],
    grams: Grams | Words,
    band_salts: NDArray[np.uint64] | None,
    keys: EncodingKeys,
    params: EncodingParams,
) -> dict[str, pa.Array]:
    """The blocking bands of fuzzy field ``f`` (see :mod:`linkage.encoding._lsh`)."""
    present = codes >= 0
    # One row a band (each a column of the output), 0 where the value is missing
    # (it took any value's keys: with no value at all, the keys of none).
    keys_of = minhash_bands(
        grams,
        keys.derive(f"lsh/{f}"),
        q=params.q,
        bands=params.lsh_bands,
        rows=params.lsh_rows,
        of=np.maximum(codes, 0),
    ).T
    keys_of[:, ~present] = 0
    salted = keys_of
    if band_salts is not None:
        with np.errstate(over="ignore"):
            salted = mix64(keys_of ^ (band_salts * _GOLDEN))  # a new array, mixed in place
        salted[salted == 0] = 1
    # Across salts, only the values this party holds once: a band shared across
    # postcodes then never groups more than one record a file.
    alone = np.zeros(len(codes), np.bool_)
    alone[present] = (np.bincount(codes[present]) == 1)[codes[present]]
    out = {}
    for band in range(params.lsh_bands):
        out[f"lsh:{f}:{band}"] = _fixed(salted[band], present)
        if band_salts is not None and params.lsh_unique:
            out[f"lsh_unique:{f}:{band}"] = _fixed(keys_of[band], alone)
    return out


def _filters(
    f: str,
    codes: NDArray[np.int64],
    grams: Grams | Words,
    salts: tuple[NDArray[np.int64], NDArray[np.object_]] | None,
    seeds: NDArray[np.uint64],
    keys: EncodingKeys,
    params: EncodingParams,
) -> tuple[NDArray[np.uint64], NDArray[np.bool_]]:
    """The hardened Bloom filters of fuzzy field ``f``, and which records have one."""
    present = codes >= 0
    key = keys.derive(f"bloom/{f}")
    # A missing value takes any value's filter (none's, with no value at all): it
    # is emptied at the end.
    filters = bloom_filters(
        grams,
        key,
        q=params.q,
        hashes=params.hashes,
        bits=params.bits,
        target=params.target_bits,
        of=np.maximum(codes, 0),
    )
    if salts is not None:
        permutations = salt_permutations(salts[1], key, bits=params.bits)
        filters[present] = permute_bits(filters[present], salts[0][present], permutations)
    if params.fold:
        filters = np.ascontiguousarray(xor_fold(filters))
    flip_bits(filters, seeds, params.flip, keys.derive(f"flip/{f}/{params.seed}"))
    filters[~present] = 0
    return filters, present


def _grams(values: pa.LargeStringArray, q: int) -> Grams | Words:
    """A field's distinct values as their words where q allows (:class:`Words`)."""
    return Words.of(values, q) if q <= 2 else Grams.of(values.to_numpy(zero_copy_only=False), q)


def _as_text(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` with its ``columns`` of Python objects as ``string[pyarrow]``, as
    preparation would make them (a column that cannot be is left as it is)."""
    text = {}
    for column in dict.fromkeys(columns):
        if table[column].dtype == object:
            try:
                text[column] = table[column].astype("string[pyarrow]")
            except (UnicodeError, pa.ArrowException):
                continue
    return table.assign(**text) if text else table


def _listed(
    table: pd.DataFrame, field: Field, side: Side, source: str
) -> tuple[pd.Series, NDArray[np.int64]] | None:
    """A field whose cells list several values (separated by ``;``, ``|`` or a line
    break, as a CRM export of e-mail addresses or phones gives them): each value
    prepared, and its row. None when no cell of the field's one column lists several."""
    columns = field.source_for(side)
    if len(columns) != 1:
        return None
    column = table[columns[0]].reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(column):
        return None
    try:  # text as it is: a tenth of the cost of a conversion
        cells = text(pa.array(column, from_pandas=True, type=pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cells = text(column.astype("string[pyarrow]"))
    if not _marked(cells):
        return None
    lists = pc.split_pattern_regex(cells, _LIST)
    owner = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    items = pd.DataFrame({columns[0]: pd.arrays.ArrowStringArray(pc.list_flatten(lists))})
    return prepare(items, [field], side=side, source=source)[field.name], owner


def _marked(cells: pa.LargeStringArray) -> bool:
    """Whether any cell holds a list mark: a byte search of the cells' text (a null's
    slot may hold text too; a false alarm only costs the split)."""
    offsets = np.frombuffer(cells.buffers()[1], np.int64, len(cells) + 1, cells.offset * 8)
    data = cells.buffers()[2]
    if data is None or offsets[-1] == offsets[0]:
        return False
    chars = data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
    return any(mark.encode("ascii") in chars for mark in _LIST_MARKS)


def _by_owner(
    data: NDArray[np.uint8], present: NDArray[np.bool_], owner: NDArray[np.int64], n: int
) -> tuple[NDArray[np.uint64], NDArray[np.bool_]]:
    """The 64-bit tokens of each row's values side by side (shape (n, most), 0: none),
    and which rows have one."""
    owner, words = owner[present], data.view("<u8")[present, 0]
    slot = np.arange(len(owner)) - np.searchsorted(owner, owner)
    out = np.zeros((n, int(slot.max(initial=0)) + 1), np.uint64)
    out[owner, slot] = words
    return out, out[:, 0] != 0


def _first(
    data: NDArray[np.uint8], present: NDArray[np.bool_], owner: NDArray[np.int64], n: int
) -> NDArray[np.uint8]:
    """Per row, the token of its first value that has one (zeros where none has)."""
    out = np.zeros((n, data.shape[1]), np.uint8)
    valid = np.flatnonzero(present)
    rows, first = np.unique(owner[valid], return_index=True)
    out[rows] = data[valid[first]]
    return out


def _salts(
    prepared: pd.DataFrame, salt: str | None, keys: EncodingKeys
) -> tuple[NDArray[np.int64] | None, NDArray[np.object_], NDArray[np.uint64] | None]:
    """Per record, its salt's code and keyed hash; the distinct salt values."""
    if salt is None:
        return None, np.empty(0, object), None
    if salt not in prepared:
        raise ConfigError(
            f"encoding salt {salt!r} is not a field the spec compares exactly; "
            "choose one (e.g. postcode) or None"
        )
    # A missing salt is a salt of its own (the empty string).
    codes, distinct = _distinct(prepared[salt].fillna(""))
    values = distinct.to_numpy(zero_copy_only=False)
    text_key = base64.b64encode(keys.derive("salt")[:12]).decode("ascii")
    hashes = pd.util.hash_array(values, hash_key=text_key, categorize=False)
    return codes, values, hashes[codes]


def _distinct(values: pd.Series) -> tuple[NDArray[np.int64], pa.LargeStringArray]:
    """Each row's code (-1: missing) and the distinct values, in order of appearance."""
    encoded = text(values).dictionary_encode()
    return encoded.indices.fill_null(-1).to_numpy().astype(np.int64), encoded.dictionary


def _joined(what: Plan) -> set[str]:
    """The fields joined into block tokens."""
    return {f for _, fs, _, _ in what.block for f in fs}


def spec_sha256(spec: LinkSpec) -> str:
    """The sha256 of a spec's repr: both files of a link must name the same."""
    return hashlib.sha256(repr(spec).encode("utf-8")).hexdigest()


def write_encoded(encoded: Encoded, path: str | Path) -> Path:
    """Write encodings as Parquet, atomically (:func:`linkage.io.atomic_path`).

    Without dictionaries or statistics: nothing but the encodings themselves.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        pq.write_table(
            encoded.table,
            tmp,
            compression="zstd",
            use_dictionary=False,
            write_statistics=False,
        )
    return path
