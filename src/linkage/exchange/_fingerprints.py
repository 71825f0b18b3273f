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

__all__ = ["Coded", "Prints", "changed", "codes", "fingerprint", "first_rows", "text"]

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
    """Code text arrays jointly (one Arrow dictionary encoding of them end to end)."""
    joint = pc.dictionary_encode(pa.concat_arrays(list(arrays)), null_encoding="encode")
    flat = joint.indices.to_numpy().astype(np.intp)
    return Coded(np.split(flat, np.cumsum([len(a) for a in arrays])[:-1]), joint.dictionary)


def first_rows(codes: NDArray[np.intp]) -> NDArray[np.intp]:
    """The row of each code's first occurrence, in order (``drop_duplicates``' rows)."""
    return np.sort(np.unique(codes, return_index=True)[1])


def _hash_text(values: pa.Array) -> NDArray[np.uint64]:
    """``hash_array`` of text, missing as "\\x00": per value, the SipHash of its UTF-8
    bytes, handed over as ``bytes`` (four times faster than as ``str``). A column of
    few distinct values (judged on its first rows) is hashed once per distinct value."""
    values = values.fill_null("\x00").cast(pa.large_binary())
    head = values.slice(0, _SAMPLE)
    if len(values) > _SAMPLE and pc.count_distinct(head).as_py() * 4 < len(head):
        coded = pc.dictionary_encode(values)
        distinct = coded.dictionary.to_numpy(zero_copy_only=False)
        return pd.util.hash_array(distinct, categorize=False)[coded.indices.to_numpy()]
    return pd.util.hash_array(values.to_numpy(zero_copy_only=False), categorize=False)


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


def fingerprint(
    frame: pd.DataFrame, spec: LinkSpec, side: str, *, rows: NDArray[np.intp] | None = None
) -> tuple[pd.DataFrame, Prints]:
    """Per record (of ``rows``, by default all), its id, sending party and
    fingerprint: as the state keeps them (``id`` and ``party`` as ``astype("string")``
    gives them, ``party`` "VDAB" where the frame has none) and as :class:`Prints`.

    Each column is hashed as ``hash_pandas_object`` hashes it, and the columns are
    combined as it combines them (CPython's tuple hash), in uint64 arithmetic.
    """

    def column(name: str) -> pa.Array:
        values = text(frame[name])
        return values if rows is None else values.take(pa.array(rows))

    ident = spec.left_id if side == "left" else spec.right_id
    columns = list(dict.fromkeys(c for f in spec.fields for c in f.source_for(side)))  # type: ignore[arg-type]
    hashes = np.full(len(frame) if rows is None else len(rows), 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for i, name in enumerate(columns):
        hashes ^= _hash_text(column(name))
        hashes *= multiplier
        multiplier += np.uint64(82520 + 2 * (len(columns) - i))
    hashes += np.uint64(97531)
    ids = column(ident)
    id_values = ids.to_numpy(zero_copy_only=False)
    if ids.null_count:
        id_values[~ids.is_valid().to_numpy(zero_copy_only=False)] = pd.NA
    if "party" in frame:
        party: pd.Series | str = (
            (frame["party"] if rows is None else frame["party"].iloc[rows])
            .astype("string")
            .reset_index(drop=True)
        )
        party_codes, party_values = pd.factorize(party)
        # A missing party is a value of its own, as in a merge on it.
        parties = np.where(party_codes < 0, len(party_values), party_codes).astype(np.intp)
        values: list[str | None] = [*party_values, None]
    else:
        party, parties, values = "VDAB", np.zeros(len(frame), dtype=np.intp), ["VDAB"]
    table = pd.DataFrame({"id": id_values, "party": party, "fingerprint": hashes})
    return table, Prints(ids, parties, values, hashes)


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
