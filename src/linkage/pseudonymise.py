"""Pseudonyms: the exchange keys of art. 3, made with HMAC-SHA256, a column at a time.

A pseudonym is ``HMAC-SHA256(domain key, canonical value)`` truncated to 128 bits and
written as::

    v<version>.<26 characters of lower-case base32>        e.g. v1.e7hy5oruk5ziuzmsj6eaeiyiqu

* ``v<version>.`` names the key version that made it, so a receiver holding
  pseudonyms of two versions (during a rotation) can tell them apart.
* Lower-case base32 (RFC 4648 alphabet ``a-z2-7``, no padding): URL- and file-safe,
  and *case-insensitive*. Power BI (VertiPaq) and Excel compare text without regard to
  case, so two base64 pseudonyms differing only in case would be merged into one key
  there; base32 cannot collide that way. 128 bits need 26 characters; the last one
  carries 3 bits and 2 zero bits, exactly as ``base64.b32encode`` does.

Canonical values: for ``enterprise`` and ``establishment`` the canonical 10 digits
(:func:`linkage.identifiers.parse_enterprise_numbers`); an invalid number is an
error naming its row. For every other domain: the text, Unicode-normalised (NFC) and
trimmed of white space; integers are written in decimal, whole floats lose their
``.0`` (a CSV id column with blanks reads as float). Missing and empty values stay
missing: no pseudonym for NA.

A value that holds a national register or BIS number is refused as key material in
every domain, whatever its dtype and however it is written (:mod:`linkage.national`,
the one detector: ``RRN 85073003328``, ``85/07/30/033/28``, full-width digits, a
float ``85073003328.0``): :class:`~linkage.exceptions.InvalidIdentifier`, naming
the row, never the value. It is never hashed.

Speed: a column's HMACs (over distinct values only) are DataFusion's SHA-256 over
Arrow's buffers, twice (RFC 2104: the inner hash of the key's inner pad and the value,
the outer of the outer pad and that digest), with no Python object per value and the
GIL let go (:func:`hmac_sha256_column`): a first delivery's shaping at 485,000
enterprises took 1.1 s less than with a loop holding the GIL
(``benchmarks/runs/exchange_485k_stop37.txt``). The loop, :func:`hmac_sha256_many`, is
the reference and serves small inputs: its inner and outer SHA-256 states are computed
once per key and copied per value, about 2.5 times the speed of ``hmac.digest`` on
OpenSSL 3. Everything else is Arrow or numpy, whole columns.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.exceptions import InvalidIdentifier, SchemaError
from linkage.identifiers import parse_enterprise_numbers, parse_establishment_numbers
from linkage.keys import KeyRing, SecretKey
from linkage.national import national_number_mask

__all__ = [
    "PSEUDONYM_BYTES",
    "PSEUDONYM_PATTERN",
    "base32_lower",
    "canonical_values",
    "crosswalk",
    "hmac_sha256",
    "hmac_sha256_column",
    "hmac_sha256_many",
    "pseudonym_codes",
    "pseudonym_versions",
    "pseudonymise",
]

log = logging.getLogger(__name__)

#: Bytes of the HMAC kept: 128 bits.
PSEUDONYM_BYTES = 16
_CHARS = (PSEUDONYM_BYTES * 8 + 4) // 5  # 26
#: A regular expression that every pseudonym matches.
PSEUDONYM_PATTERN = rf"^v[1-9][0-9]*\.[a-z2-7]{{{_CHARS}}}$"
_BLOCK = 64  # SHA-256 block size
_SPACES = " \t\n\r\f\v\u00a0\u202f\u2007\u2009\u200b\ufeff"


# ------------------------------------------------------------------------- kernels


def hmac_sha256_many(key: bytes, messages: Iterable[bytes]) -> list[bytes]:
    """HMAC-SHA256 (RFC 2104) of each message under one key: a list of 32-byte digests.

    The inner and outer hash states after the padded key are computed once and
    copied for each message; the per-message cost is two SHA-256 finalisations.
    """
    inner_pad, outer_pad = _pads(key)
    inner, outer = hashlib.sha256(inner_pad), hashlib.sha256(outer_pad)
    inner_copy, outer_copy = inner.copy, outer.copy
    digests: list[bytes] = []
    append = digests.append
    for message in messages:
        h = inner_copy()
        h.update(message)
        o = outer_copy()
        o.update(h.digest())
        append(o.digest())
    return digests


#: Values per DataFusion query of :func:`hmac_sha256_column`: its memory stays small.
_HASHED_AT_ONCE = 1 << 16


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """The key's inner and outer pads (RFC 2104)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256_column(key: bytes, messages: pa.Array) -> NDArray[np.uint8]:
    """HMAC-SHA256 of each value of an Arrow text or binary array without missing
    values, as :func:`hmac_sha256_many` makes it: an array of shape (n, 32).

    DataFusion's SHA-256 (compiled, the GIL let go) hashes the pads and values joined
    by its ``concat``, a block of values per query. Its errors are re-raised without
    its message, which may show the query (the pads are key material).

    >>> msg = pa.array(["what do ya want for nothing?"])
    >>> bytes(hmac_sha256_column(b"Jefe", msg)[0]) == hmac_sha256(b"Jefe", msg[0].as_py().encode())
    True
    """
    import datafusion
    from datafusion import col, lit
    from datafusion import functions as f

    values = messages.cast(pa.binary())
    if values.null_count:
        raise ValueError("HMAC-SHA256 of a column with missing values")
    inner, outer = (lit(pa.scalar(pad, pa.binary())) for pad in _pads(key))
    digest = f.sha256(f.concat(outer, f.sha256(f.concat(inner, col("m"))))).alias("d")
    out = np.empty((len(values), 32), dtype=np.uint8)
    try:
        context = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(1))
        for start in range(0, len(values), _HASHED_AT_ONCE):
            block = values.slice(start, _HASHED_AT_ONCE)
            made = context.from_arrow(pa.table({"m": block})).select(digest).to_arrow_table()
            digests = made.column("d").combine_chunks().cast(pa.binary())
            width = np.diff(np.frombuffer(digests.buffers()[1], dtype=np.int32))
            if len(digests) != len(block) or digests.offset or (width != 32).any():
                raise ValueError("not a digest per value")
            data = np.frombuffer(digests.buffers()[2], dtype=np.uint8)[: 32 * len(block)]
            out[start : start + len(block)] = data.reshape(-1, 32)
    except Exception:
        raise RuntimeError("HMAC-SHA256 of a column failed (DataFusion)") from None
    return out


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of one message, by :func:`hmac_sha256_many`.

    >>> hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex()[:16]
    '5bdcc146bf60754e'
    """
    return hmac_sha256_many(key, (message,))[0]


def base32_lower(digests: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Lower-case RFC 4648 base32 of 16-byte rows, without padding.

    Parameters
    ----------
    digests : ndarray of shape (n, 16), dtype uint8

    Returns
    -------
    ndarray of shape (n, 26), dtype uint8
        ASCII codes; row ``i`` equals ``base64.b32encode(digests[i]).lower()[:26]``.
    """
    digests = np.asarray(digests, dtype=np.uint8)
    if digests.ndim != 2 or digests.shape[1] != PSEUDONYM_BYTES:
        raise ValueError(f"expected shape (n, {PSEUDONYM_BYTES}), got {digests.shape}")
    # Byte columns, each contiguous: every step below is one numpy op over n bytes.
    columns = np.ascontiguousarray(digests.T)
    groups = np.empty((_CHARS, digests.shape[0]), dtype=np.uint8)
    for block in range(3):  # 3 x (5 bytes -> 8 characters), then 1 byte -> 2
        c0, c1, c2, c3, c4 = columns[5 * block : 5 * block + 5]
        g = groups[8 * block : 8 * block + 8]
        np.right_shift(c0, 3, out=g[0])
        g[1] = ((c0 & 7) << 2) | (c1 >> 6)
        g[2] = (c1 >> 1) & 31
        g[3] = ((c1 & 1) << 4) | (c2 >> 4)
        g[4] = ((c2 & 15) << 1) | (c3 >> 7)
        g[5] = (c3 >> 2) & 31
        g[6] = ((c3 & 3) << 3) | (c4 >> 5)
        g[7] = c4 & 31
    np.right_shift(columns[15], 3, out=groups[24])
    groups[25] = (columns[15] & 7) << 2
    # a-z for 0-25, 2-7 for 26-31, in uint8 arithmetic (a table lookup would
    # widen every index to intp: 8 bytes per character).
    np.add(groups, ord("a"), out=groups)
    groups -= (groups > ord("z")).view(np.uint8) * np.uint8(ord("a") + 26 - ord("2"))
    return groups.T


def _format(raw: NDArray[np.uint8], version: int) -> pa.StringArray:
    """``v<version>.<base32>`` for each 32-byte digest (a row of ``raw``), as one
    Arrow string array."""
    prefix = np.frombuffer(f"v{int(version)}.".encode("ascii"), dtype=np.uint8)
    width = prefix.size + _CHARS
    text = np.empty((raw.shape[0], width), dtype=np.uint8)
    text[:, : prefix.size] = prefix
    text[:, prefix.size :] = base32_lower(raw[:, :PSEUDONYM_BYTES])
    offsets = np.arange(0, (raw.shape[0] + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(
        raw.shape[0], pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))
    )


# -------------------------------------------------------------------- canonical form


def _at(values: pd.Series, position: int) -> tuple[str, dict[str, Any]]:
    """Where a value is, for an error: the column and the row (its index label, the
    caller's numbering); a label that is not a number goes into the text."""
    label = values.index[position]
    column = None if values.name is None else str(values.name)
    if isinstance(label, (int, np.integer)):
        return "", {"column": column, "row": int(label)}
    return f"row {label!r}: ", {"column": column}


def _whole_floats(values: pd.Series) -> pd.Series:
    """A float column of whole numbers as Int64 (a CSV id column with blanks)."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.isna() | (values % 1 == 0)
        if not whole.all():
            position = int(np.flatnonzero(~whole.to_numpy())[0])
            prefix, where = _at(values, position)
            raise SchemaError(
                f"{prefix}an identifier column holds fractional numbers; read ids as text",
                **where,
            )
        values = values.astype("Int64")
    return values


def _as_text(values: pd.Series) -> pa.StringArray:
    """The values as NFC-normalised, trimmed Arrow text; empty becomes null."""
    if pd.api.types.is_bool_dtype(values.dtype):
        column = None if values.name is None else str(values.name)
        raise SchemaError("boolean, not an identifier column", column=column)
    if not isinstance(values.dtype, pd.StringDtype):
        try:
            values = values.astype("string")
        except (TypeError, ValueError):
            values = values.map(lambda v: v if v is None or v is pd.NA else str(v))
            values = values.astype("string")
    text = pa.array(values.array, type=pa.string())
    text = pc.utf8_normalize(text, "NFC")
    text = pc.utf8_trim(text, _SPACES)
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, pa.string()), text)


def canonical_values(values: pd.Series, *, domain: str) -> pd.Series:
    """The canonical form that is hashed, refusing national register numbers.

    Parameters
    ----------
    values : Series
        Identifiers as written.
    domain : str
        ``enterprise`` and ``establishment`` parse numbers to 10 digits; any other
        domain keeps the NFC-normalised, trimmed text.

    Returns
    -------
    Series of string[pyarrow]
        Same index; missing where the value is missing or empty.

    Raises
    ------
    InvalidIdentifier
        A value is a national register or BIS number, or (enterprise, establishment)
        not a valid number; the message names the row, never the value.
    """
    codes, distinct = _canonical_codes(values, domain=domain)
    return pd.Series(
        pd.arrays.ArrowStringArray(distinct.take(codes)), index=values.index, name=values.name
    )


def _canonical_codes(values: pd.Series, *, domain: str) -> tuple[pa.Array, pa.StringArray]:
    """Canonical values as codes (int32, null where missing) into the distinct ones.

    Arrow text is made canonical once per distinct value as written (an enterprise
    number turns up in four tables); where one is refused, the rows are, as ever, so
    that the error names the same row."""
    if not isinstance(values, pd.Series):
        raise SchemaError(f"expected a pandas Series of identifiers, got {type(values).__name__}")
    written = _as_written(values)
    if written is not None:
        codes, distinct = written
        try:
            canonical = _canonical_text(distinct, domain=domain)
        except (InvalidIdentifier, SchemaError):
            pass  # raised again below, naming the row
        else:
            if _as_given(canonical, distinct):  # each its own: no two made one
                return codes, canonical
            inner, canonical = _encode(canonical)
            return inner.take(codes), canonical
    return _encode(_canonical_text(values, domain=domain))


def _as_given(canonical: pa.StringArray, distinct: pd.Series) -> bool:
    """Whether every distinct value as written is its own canonical value (then the
    canonical values are distinct too, and need no hashing again)."""
    if canonical.null_count:
        return False
    written = _text_array(distinct)
    return len(written) == len(canonical) and bool(pc.all(pc.equal(canonical, written)).as_py())


def _as_written(values: pd.Series) -> tuple[pa.Array, pd.Series] | None:
    """Arrow text as codes (int32, null where missing) into its distinct values, in
    order of first appearance, each labelled as its first row; None for other dtypes."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    encoded = _text_array(values).dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    seen = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    first = np.flatnonzero(codes > seen)  # codes appear in order: 0, 1, 2, ...
    distinct = pd.Series(
        pd.arrays.ArrowStringArray(encoded.dictionary),
        index=values.index[first],
        name=values.name,
    )
    return encoded.indices, distinct


def _canonical_text(values: pd.Series, *, domain: str) -> pa.StringArray:
    """The canonical value of every row (null where missing), each checked."""
    # Asked of the values as given, before anything is made of them: a float keeps
    # what tells a national number that lost its leading zero (linkage.national).
    _refuse(values, np.flatnonzero(national_number_mask(values).to_numpy(dtype=bool)))
    values = _whole_floats(values)
    if domain in ("enterprise", "establishment"):
        parse = parse_enterprise_numbers if domain == "enterprise" else parse_establishment_numbers
        canonical = parse(values, errors="coerce")
        if (canonical.isna() & values.notna()).any():
            parse(values, errors="raise")  # names the first invalid row
        return _one_array(pa.array(canonical.array, type=pa.string()))
    return _one_array(_as_text(values))


def _refuse(values: pd.Series, positions: NDArray[np.intp]) -> None:
    if positions.size:
        more = f" (and {positions.size - 1:,} more rows)" if positions.size > 1 else ""
        prefix, where = _at(values, int(positions[0]))
        raise InvalidIdentifier(
            f"{prefix}a national register or BIS number cannot be key material "
            f"(protocol art. 3){more}",
            reason="national register number",
            **where,
        )


# ---------------------------------------------------------------------- pseudonyms


def _one_array(text: pa.StringArray | pa.ChunkedArray) -> pa.StringArray:
    """One array (e.g. of a pd.concat of Arrow-backed columns)."""
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def _encode(text: pa.StringArray | pa.ChunkedArray) -> tuple[pa.Array, pa.StringArray]:
    """Codes into the distinct values (null where missing) and the distinct values."""
    encoded = _one_array(text).dictionary_encode()
    return encoded.indices, encoded.dictionary


def _pseudonyms_of(distinct: pa.StringArray, key: SecretKey, version: int) -> pa.StringArray:
    return _format(hmac_sha256_column(key.reveal(), distinct), version)


def pseudonymise(
    values: pd.Series,
    ring: KeyRing,
    *,
    domain: str,
    version: int | None = None,
    known: pd.Series | None = None,
) -> pd.Series:
    """Pseudonyms of a column of identifiers.

    Parameters
    ----------
    values : Series
        Identifiers as written (see :func:`canonical_values`).
    ring : KeyRing
        The exchange's key ring.
    domain : str
        ``enterprise``, ``establishment``, ``dossier``, ``contact``, ``staff``,
        ``service``, ``amount`` or another lower-case name.
    version : int, optional
        Key version; the ring's current version by default.
    known : Series, optional
        Pseudonyms made before of values as written (index: the value, as in
        ``values``), in this domain and version: a previous delivery's. A value found
        there takes its pseudonym without hashing; a sample of them is hashed
        again, and if one differs none is taken.

    Returns
    -------
    Series of string[pyarrow]
        Same index and name; ``v<version>.`` + 26 base32 characters; missing where
        the value is missing. Same value, exchange, domain and version give the same
        pseudonym, byte for byte.

    Examples
    --------
    >>> from linkage.keys import KeyRing
    >>> ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    >>> ids = pd.Series(["0403.170.701", None, "BE0403170701"])
    >>> out = pseudonymise(ids, ring, domain="enterprise")
    >>> bool(out[0] == out[2]), out.isna().tolist()
    (True, [False, True, False])
    """
    codes, distinct = pseudonym_codes(
        values, ring, domain=domain, version=version, known=known, distinct=False
    )
    return pd.Series(
        pd.arrays.ArrowStringArray(distinct.take(codes)), index=values.index, name=values.name
    )


def pseudonym_codes(
    values: pd.Series,
    ring: KeyRing,
    *,
    domain: str,
    version: int | None = None,
    known: pd.Series | None = None,
    distinct: bool = True,
) -> tuple[pa.Array, pa.StringArray]:
    """:func:`pseudonymise` as codes: per row, a code (int32, null where missing) into
    the distinct pseudonyms; ``distinct.take(codes)`` is the column of pseudonyms.

    Two rows share a code exactly when they share a pseudonym, so that rows can be
    told apart (deduplicated, grouped) by the integer codes rather than the text.
    Without ``distinct``, a pseudonym taken from ``known`` may have two codes (two
    values as written, one canonical value): no second hashing of the text.
    """
    number = ring.current if version is None else int(version)
    if known is not None and len(known) and len(values):
        reused = _reused(values, known, ring, domain=domain, version=number)
        if reused is not None:
            codes, pseudonyms = reused  # per distinct value as written: some may repeat
            if not distinct:
                return codes, pseudonyms
            encoded = pseudonyms.dictionary_encode()
            return encoded.indices.take(codes), encoded.dictionary
    codes, distinct = _canonical_codes(values, domain=domain)
    return codes, _pseudonyms_of(distinct, ring.key(domain, number), number)


def _text_array(values: pd.Series) -> pa.StringArray:
    """A column as one Arrow ``string`` array (no copy where it is Arrow text)."""
    text = pa.array(values.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    return text.cast(pa.string())


#: How many reused pseudonyms are hashed again to check them.
_CHECKED = 256


def _reused(
    values: pd.Series, known: pd.Series, ring: KeyRing, *, domain: str, version: int
) -> tuple[pa.Array, pa.StringArray] | None:
    """The pseudonyms of :func:`pseudonymise`, taking the ``known`` ones of the values
    found there (looked up as written, each distinct value once, by Arrow's hash
    table) and hashing the rest, as codes (int32, null where missing) into the
    pseudonyms of the distinct values as written; None when a checked sample of the
    known ones is not what hashing gives."""
    written = _as_written(values)
    if written is None:
        codes, distinct = pa.array(np.arange(len(values), dtype=np.int32)), values
    else:
        codes, distinct = written
    given = _text_array(known)
    ids = _text_array(pd.Series(pd.Index(known.index)))
    found = pc.index_in(_text_array(distinct), value_set=ids, skip_nulls=True)
    hit = found.is_valid().to_numpy(zero_copy_only=False)
    at = np.flatnonzero(hit)
    if not at.size:
        return None
    rows = pc.fill_null(found, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    sample = at[np.linspace(0, at.size - 1, min(at.size, _CHECKED)).astype(np.intp)]
    check = pseudonymise(distinct.iloc[sample], ring, domain=domain, version=version)
    if check.tolist() != given.take(pa.array(rows[sample])).to_pylist():
        log.warning("%s: the known pseudonyms are not this key's; all are made anew", domain)
        return None
    rest = _rest(values, codes, distinct, hit, ring, domain=domain, version=version)
    pool = pa.concat_arrays([given, rest])
    where = np.where(hit, rows, len(given) + np.cumsum(~hit) - 1)
    return codes, pool.take(pa.array(where))


def _rest(
    values: pd.Series,
    codes: pa.Array,
    distinct: pd.Series,
    hit: NDArray[np.bool_],
    ring: KeyRing,
    *,
    domain: str,
    version: int,
) -> pa.StringArray:
    """The pseudonyms of the distinct values not known (``~hit``), hashed; a value
    refused is refused as the rows holding the values not known are (naming the row)."""
    try:
        rest = pseudonymise(
            distinct.iloc[np.flatnonzero(~hit)], ring, domain=domain, version=version
        )
    except (InvalidIdentifier, SchemaError):
        written = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
        unknown = np.append(~hit, True)[written]  # missing: not known either
        pseudonymise(values.iloc[np.flatnonzero(unknown)], ring, domain=domain, version=version)
        raise
    return _text_array(rest)


def crosswalk(values: pd.Series, ring: KeyRing, *, domain: str, old: int, new: int) -> pd.DataFrame:
    """Old pseudonym to new pseudonym, for re-keying after a rotation.

    Parameters
    ----------
    values : Series
        The identifiers (as the sender holds them) of one column.
    ring : KeyRing
        A ring holding both versions.
    domain : str
        The domain of the column.
    old, new : int
        Key versions.

    Returns
    -------
    DataFrame with columns ``old`` and ``new`` (string[pyarrow])
        One row per distinct non-missing value, sorted by ``old``; it holds no
        identifier, only pseudonyms, so it can be sent to the receiver.
    """
    old_key, new_key = ring.key(domain, old), ring.key(domain, new)
    _, distinct = _canonical_codes(values, domain=domain)
    table = pa.table(
        {
            "old": _pseudonyms_of(distinct, old_key, int(old)),
            "new": _pseudonyms_of(distinct, new_key, int(new)),
        }
    ).sort_by("old")
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def pseudonym_versions(pseudonyms: pd.Series) -> pd.Series:
    """The key version of each pseudonym (Int64; missing where not a pseudonym)."""
    text = pa.array(pd.Series(pseudonyms).astype("string").array, type=pa.string())
    valid = pc.match_substring_regex(text, PSEUDONYM_PATTERN)
    number = pc.extract_regex(text, r"^v(?P<v>[0-9]+)\.").field("v")
    number = pc.if_else(valid, number, pa.scalar(None, pa.string())).cast(pa.int64())
    return pd.Series(
        pd.array(number.to_pandas(), dtype="Int64"), index=pseudonyms.index, name=pseudonyms.name
    )
