"""The records' fingerprints, and what changed between two runs' (columnar).

A fingerprint is a 64-bit hash of the input columns a link's spec reads, one per record:
what ``hash_pandas_object(frame[columns].astype("string").fillna("\\x00"), index=False)``
gives, computed on Arrow arrays and integer codes (no Python loop over records, a
Python object per value only where pandas' SipHash needs one). The delivery's state keeps
them; the next run compares its own with them (:func:`changed`).

Ids are compared as joint integer codes (:func:`codes`): every id a run meets on one
side of a link, coded once, so that finding records, links and rows is integer work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from linkage.config import LinkSpec

__all__ = [
    "Coded",
    "Fingerprinted",
    "Prints",
    "changed",
    "codes",
    "fingerprint",
    "fingerprinted",
    "first_rows",
    "text",
]

# The first rows of a column, which tell whether to hash it per distinct value.
_SAMPLE = 4096


def text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Values as one Arrow ``large_string`` array, missing values null: text as it is,
    anything else as ``astype("string")`` writes it."""
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if isinstance(dtype, pd.StringDtype) or (
            isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)
        ):
            values = pa.array(values.array)
        elif dtype == np.dtype(object) and pd.api.types.infer_dtype(values, skipna=True) in (
            "string",
            "empty",
        ):
            values = pa.array(values.to_numpy(), type=pa.large_string(), from_pandas=True)
        else:
            values = pa.array(values.astype("string").array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.large_string())


@dataclass(frozen=True)
class Coded:
    """Joint codes of text arrays: equal values get equal codes, a missing value one of
    its own (it equals another missing value, as merge keys do).

    Attributes
    ----------
    codes : list of ndarray of dtype intp
        Per array given, the code of each of its values.
    values : pyarrow.Array
        The distinct values, in order of first appearance; a code indexes into it.
    """

    codes: list[NDArray[np.intp]]
    values: pa.Array

    def __len__(self) -> int:
        return len(self.values)

    def ids(self, which: NDArray[np.bool_]) -> pd.Index:
        """The values whose code ``which`` marks, as an Index."""
        chosen = self.values.filter(pa.array(which))
        return pd.Index(chosen.to_numpy(zero_copy_only=False))

    def missing(self) -> NDArray[np.bool_]:
        """Per code, whether it is the missing value's."""
        return ~self.values.is_valid().to_numpy(zero_copy_only=False)


def codes(*arrays: pa.Array) -> Coded:
    """Code text arrays jointly: short values (ids) as integers (:func:`_short_codes`),
    others by one Arrow dictionary encoding of the arrays end to end."""
    joint = pa.concat_arrays(list(arrays))
    bounds = np.cumsum([len(a) for a in arrays])[:-1]
    short = _short_codes(joint)
    if short is not None:
        flat, first = short
        return Coded(np.split(flat, bounds), joint.take(pa.array(first)))
    encoded = pc.dictionary_encode(joint, null_encoding="encode")
    flat = encoded.indices.to_numpy().astype(np.intp)
    return Coded(np.split(flat, bounds), encoded.dictionary)


# Per number of bytes of a word a value fills (0 to 8), the mask that keeps them.
_BYTES = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [2**64 - 1], dtype=np.uint64)


def _short_codes(values: pa.Array) -> tuple[NDArray[np.intp], NDArray[np.intp]] | None:
    """Codes of text values of up to 16 bytes, none missing (else None), in order of
    first appearance, and each code's first row: each value read off Arrow's buffers
    as two 64-bit words and its length, folded into one integer and factorized. The
    fold may merge two values; every value is then compared, words and length, with
    its code's first, and on any difference the codes are refused (None)."""
    if not len(values) or values.null_count:
        return None
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    lengths = np.diff(ends)
    if data is None or lengths.max() > 16:
        return None
    padded = np.zeros(ends[-1] - ends[0] + 16, dtype=np.uint8)
    padded[: ends[-1] - ends[0]] = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]]
    # Every 8 bytes from every byte on, as one little-endian word (unaligned view).
    words = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    starts = ends[:-1] - ends[0]
    low = words[starts] & _BYTES[np.minimum(lengths, 8)]
    high = words[starts + 8] & _BYTES[np.clip(lengths - 8, 0, 8)]
    folded = (low * np.uint64(0x9E3779B97F4A7C15)) ^ (
        high * np.uint64(0xBF58476D1CE4E5B9) + lengths.astype(np.uint64)
    )
    flat, distinct = pd.factorize(folded)
    first = np.full(len(distinct), len(flat), dtype=np.intp)
    np.minimum.at(first, flat, np.arange(len(flat)))
    same = first[flat]
    if not ((low[same] == low) & (high[same] == high) & (lengths[same] == lengths)).all():
        return None
    return flat.astype(np.intp), first


def first_rows(codes: NDArray[np.intp]) -> NDArray[np.intp]:
    """The row of each code's first occurrence, in order (``drop_duplicates``' rows)."""
    return np.sort(np.unique(codes, return_index=True)[1])


def _hash_text(values: pa.Array) -> NDArray[np.uint64]:
    """``hash_array`` of a text column, missing as "\\x00", as ``hash_pandas_object``
    hashes it: per value, the SipHash of its UTF-8 bytes, handed over as ``bytes``
    (four times faster than as ``str``). A column of few distinct values (judged on
    its first rows) is hashed once per distinct value.

    ``hash_pandas_object`` factorizes a column first, and its string hash table reads
    C strings, which end at the first NUL: "" and a missing value ("\\x00") are one
    value to it, hashed as whichever comes first. Where a column can hold two such
    values, it is hashed that way (:func:`_hash_as_c_strings`)."""
    has_nul, has_empty = _nul_or_empty(values)
    if has_nul or (values.null_count and has_empty):
        return _hash_as_c_strings(values.fill_null("\x00"))
    filled = values.fill_null("\x00").cast(pa.large_binary())
    head = filled.slice(0, _SAMPLE)
    if len(filled) > _SAMPLE and pc.count_distinct(head).as_py() * 4 < len(head):
        coded = pc.dictionary_encode(filled)
        distinct = coded.dictionary.to_numpy(zero_copy_only=False)
        return pd.util.hash_array(distinct, categorize=False)[coded.indices.to_numpy()]
    return pd.util.hash_array(filled.to_numpy(zero_copy_only=False), categorize=False)


def _nul_or_empty(values: pa.Array) -> tuple[bool, bool]:
    """Whether any value (of a ``large_string`` array) holds a NUL, and whether any is
    "", read off its buffers."""
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    if not len(values) or data is None:
        return False, bool(len(values) > values.null_count)
    empty = ends[1:] == ends[:-1]
    if values.null_count:
        empty &= values.is_valid().to_numpy(zero_copy_only=False)
    nul = not np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]].all()
    return nul, bool(empty.any())


def _hash_as_c_strings(values: pa.Array) -> NDArray[np.uint64]:
    """Each value hashed as the first value that is the same C string (the same up to
    its first NUL): what ``hash_pandas_object`` gives a column holding NULs."""
    as_c = pc.replace_substring_regex(values, pattern="(?s)\\x00.*", replacement="")
    coded = pc.dictionary_encode(as_c)
    codes = coded.indices.to_numpy().astype(np.intp)
    first = np.full(len(coded.dictionary), len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))
    firsts = values.take(pa.array(first)).cast(pa.large_binary())
    return pd.util.hash_array(firsts.to_numpy(zero_copy_only=False), categorize=False)[codes]


@dataclass(frozen=True)
class Prints:
    """The fingerprints of one side of a link, columnar.

    Attributes
    ----------
    ids : pyarrow.Array of large_string
        Each record's id.
    parties : ndarray of shape (n,), dtype intp
        Each record's sending party, as an index into ``party_values``.
    party_values : list of str or None
    hashes : ndarray of shape (n,), dtype uint64
    """

    ids: pa.Array
    parties: NDArray[np.intp]
    party_values: list[str | None]
    hashes: NDArray[np.uint64]

    @classmethod
    def read(cls, path: Path) -> Prints:
        """The fingerprints a delivery's state keeps (``id``, ``party``, ``fingerprint``)."""
        table = pq.read_table(path, read_dictionary=["party"])
        party = table["party"].unify_dictionaries().combine_chunks()
        values = [*party.dictionary.to_pylist(), None]  # the last: a missing party
        return cls(
            text(table["id"]),
            party.indices.fill_null(len(values) - 1).to_numpy().astype(np.intp),
            values,
            table["fingerprint"].to_numpy(),
        )


@dataclass(frozen=True)
class Fingerprinted:
    """One side's fingerprints: :class:`Prints`, and the rows as the state keeps them,
    made only when written (:meth:`table`: their ids as Python strings cost about
    160 MiB at 485k, which the links need not hold)."""

    prints: Prints
    frame: pd.DataFrame
    ident: str
    rows: NDArray[np.intp] | None

    def table(self) -> pd.DataFrame:
        """``id``, ``party`` (as ``astype("string")`` gives them; "VDAB" where the
        frame has none) and ``fingerprint`` per record (:meth:`arrow` in pandas)."""
        return self.arrow().to_pandas()

    def arrow(self) -> pa.Table:
        """:meth:`table` as the state writes it, under the pandas metadata of that
        frame: the ids' and parties' Arrow text as it is. (A Python string per id,
        converted back when written, held the GIL for about a second at 485k.)"""
        prints = self.prints
        if "party" in self.frame:  # the last of the parties' values is the missing one
            names = pa.array([*prints.party_values[:-1], None], type=pa.string())
        else:
            names = pa.array(["VDAB"], type=pa.string())
        columns = {
            "id": prints.ids.cast(pa.string()),
            "party": names.take(pa.array(prints.parties)),
            "fingerprint": pa.array(prints.hashes),
        }
        return pa.table(columns, schema=_STATE_SCHEMA["party" in self.frame])


def _state_schema(party: object) -> pa.Schema:
    """The schema, pandas metadata included, of a state's fingerprints as pandas
    writes the frame of :meth:`Fingerprinted.table` (``party``: a sender's parties'
    dtype, or VDAB's one value)."""
    sample = pd.DataFrame(
        {"id": np.array(["-"], dtype=object), "party": party, "fingerprint": np.uint64(0)}
    )
    return pa.Schema.from_pandas(sample, preserve_index=False)


#: By whether the records have a party (a sender's) or not (VDAB's).
_STATE_SCHEMA = {
    True: _state_schema(pd.array(["-"], dtype="string")),
    False: _state_schema("VDAB"),
}


def fingerprinted(
    frame: pd.DataFrame, spec: LinkSpec, side: str, *, rows: NDArray[np.intp] | None = None
) -> Fingerprinted:
    """Per record (of ``rows``, by default all), its id, sending party and
    fingerprint (:class:`Fingerprinted`).

    Each column is hashed as ``hash_pandas_object`` hashes it, and the columns are
    combined as it combines them (CPython's tuple hash), in uint64 arithmetic.
    """

    def column(name: str) -> pa.Array:
        values = text(frame[name])
        return values if every else values.take(pa.array(rows))

    every = rows is None or np.array_equal(rows, np.arange(len(frame)))

    ident = spec.left_id if side == "left" else spec.right_id
    columns = list(dict.fromkeys(c for f in spec.fields for c in f.source_for(side)))  # type: ignore[arg-type]
    hashes = np.full(len(frame) if rows is None else len(rows), 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for i, name in enumerate(columns):
        hashes ^= _hash_text(column(name))
        hashes *= multiplier
        multiplier += np.uint64(82520 + 2 * (len(columns) - i))
    hashes += np.uint64(97531)
    if "party" in frame:
        coded = pc.dictionary_encode(column("party"))
        values: list[str | None] = [*coded.dictionary.to_pylist(), None]
        # A missing party is a value of its own, as in a merge on it.
        parties = coded.indices.fill_null(len(values) - 1).to_numpy().astype(np.intp)
    else:
        parties, values = np.zeros(len(hashes), dtype=np.intp), ["VDAB"]
    prints = Prints(column(ident), parties, values, hashes)
    return Fingerprinted(prints, frame, ident, rows)


def fingerprint(
    frame: pd.DataFrame, spec: LinkSpec, side: str, *, rows: NDArray[np.intp] | None = None
) -> tuple[pd.DataFrame, Prints]:
    """:func:`fingerprinted`, its rows made: as the state keeps them, and as
    :class:`Prints`."""
    done = fingerprinted(frame, spec, side, rows=rows)
    return done.table(), done.prints


def changed(
    now: Prints, before: Prints, now_ids: NDArray[np.intp], before_ids: NDArray[np.intp], n: int
) -> NDArray[np.bool_]:
    """Per id code (of ``n``), whether any of its (id, party) rows is new, gone or
    differs between ``before`` and ``now``: what an outer merge of the two on id and
    party and a comparison of its fingerprints found, as integer work.

    ``now_ids`` and ``before_ids`` are the two sides' ids as joint codes (:func:`codes`).
    A key is unchanged when it has rows on both sides and all their fingerprints agree.
    """
    joint = {value: code for code, value in enumerate(dict.fromkeys(now.party_values))}
    for value in before.party_values:
        joint.setdefault(value, len(joint))
    n_parties = max(len(joint), 1)
    to_joint_now = np.array([joint[v] for v in now.party_values], dtype=np.intp)
    to_joint_before = np.array([joint[v] for v in before.party_values], dtype=np.intp)
    key_now = now_ids * n_parties + to_joint_now[now.parties]
    key_before = before_ids * n_parties + to_joint_before[before.parties]
    keys = np.concatenate([key_now, key_before])
    hashes = np.concatenate([now.hashes, before.hashes])
    least = np.full(n * n_parties, np.iinfo(np.uint64).max, dtype=np.uint64)
    most = np.zeros(n * n_parties, dtype=np.uint64)
    np.minimum.at(least, keys, hashes)
    np.maximum.at(most, keys, hashes)
    with_now, with_before = np.zeros(len(most), dtype=bool), np.zeros(len(most), dtype=bool)
    with_now[key_now], with_before[key_before] = True, True
    same = with_now & with_before & (least == most)
    out = np.zeros(n, dtype=bool)
    out[now_ids[~same[key_now]]] = True
    out[before_ids[~same[key_before]]] = True
    return out
