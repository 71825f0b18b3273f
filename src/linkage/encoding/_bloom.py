"""Keyed Bloom filters of q-grams, and their hardening.

A value (normalised, padded with a space each side) is split into its q-grams; each
distinct q-gram of a column is hashed once, HMAC-SHA256 under the field's key, and
its ``hashes`` bit positions follow by double hashing of the digest
(``h1 + i * h2 mod bits``). A filter sets the positions of every q-gram of its value.
Everything but that one HMAC per distinct q-gram (a few thousand a column) is numpy
over whole arrays: q-grams as code points of fixed-width strings, bits set in a
boolean block and packed to little-endian uint64 words.

Hardening (:func:`flip_bits`, :func:`xor_fold`): BLIP inverts each bit with a
probability ``p`` from a keyed stream seeded by the record, so that equal values
give different filters (frequencies no longer show) and no bit is certain;
XOR-folding halves a filter by XOR-ing its two halves.

>>> import itertools

import itertools

import numpy as np
>>> grams, rows = qgrams(np.array(["ab", "b"], dtype=object), q=2)
>>> [decode_gram(g, 2) for g in grams[rows == 0]]
[' a', 'ab', 'b ']
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.pseudonymise import hmac_sha256_many

__all__ = [
    "bloom_filters",
    "decode_gram",
    "dice_reference",
    "flip_bits",
    "gram_positions",
    "mix64",
    "qgrams",
    "salt_permutations",
    "xor_fold",
]

_SHIFT = 21  # bits per code point: all of Unicode
_CHUNK = 16_384  # distinct values per block of bits
_MAX_CHARS = 256
_MAX_HASHES = 64  # longer values are cut (a company name is far shorter)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def qgrams(values: NDArray[np.object_], *, q: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every q-gram of every value, padded with a space each side.

    Parameters
    ----------
    values : ndarray of shape (n,), dtype object
        Strings (no missing values).
    q : int
        1 to 3.

    Returns
    -------
    grams : ndarray of shape (n_grams,), dtype int64
        Each q-gram as its code points packed 21 bits apiece (:func:`decode_gram`).
    rows : ndarray of shape (n_grams,), dtype int64
        The value each q-gram comes from, ascending.
    """
    if not len(values):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    padded = np.asarray(" " + pd.Series(values, dtype=object).str.slice(0, _MAX_CHARS) + " ")
    text = padded.astype(str)
    width = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(len(text), width).astype(np.int64)
    lengths = np.char.str_len(text)
    n = width - q + 1
    grams = np.zeros((len(text), n), np.int64)
    for k in range(q):
        grams = (grams << _SHIFT) | points[:, k : k + n]
    valid = np.arange(n) < (lengths - q + 1)[:, None]
    rows = np.nonzero(valid)[0]
    return grams[valid], rows.astype(np.int64)


def decode_gram(gram: int, q: int) -> str:
    """The text of a packed q-gram (see :func:`qgrams`)."""
    mask = (1 << _SHIFT) - 1
    return "".join(chr((int(gram) >> (_SHIFT * (q - 1 - k))) & mask) for k in range(q))


def gram_positions(
    grams: NDArray[np.int64], key: bytes, *, q: int, hashes: int, bits: int
) -> NDArray[np.int64]:
    """The bit positions of each distinct q-gram: shape (n_grams, hashes).

    HMAC-SHA256(key, q-gram as UTF-8); ``h1`` and ``h2`` are its first two 64-bit
    words (``h2`` odd), position ``i`` is ``(h1 + i * h2) mod bits``.
    """
    digests = hmac_sha256_many(
        key, (decode_gram(g, q).encode("utf-8", "surrogatepass") for g in grams)
    )
    words = np.frombuffer(b"".join(digests), dtype="<u8").reshape(-1, 4)
    if not len(grams):
        return np.empty((0, hashes), np.int64)
    h1, h2 = words[:, 0], words[:, 1] | np.uint64(1)
    steps = np.arange(hashes, dtype=np.uint64)
    with np.errstate(over="ignore"):
        positions = h1[:, None] + steps[None, :] * h2[:, None]
    return (positions % np.uint64(bits)).astype(np.int64)


def salt_permutations(salts: NDArray[np.object_], key: bytes, *, bits: int) -> NDArray[np.int32]:
    """A keyed permutation of the bit positions per salt value: shape (n_salts, bits).

    Salting (Christen, Ranbaduge, Vatsalan and Schnell): a q-gram sets other bits
    for another salt, so that bits mined in one group of records mean nothing in
    another.
    """
    digests = hmac_sha256_many(key, (str(s).encode("utf-8") for s in salts))
    out = np.empty((len(salts), bits), np.int32)
    for k, digest in enumerate(digests):  # once per salt value (a postcode), not per record
        out[k] = np.random.default_rng(np.frombuffer(digest, "<u8")).permutation(bits)
    return out


def bloom_filters(
    values: NDArray[np.object_],
    key: bytes,
    *,
    q: int,
    hashes: int,
    bits: int,
    salts: NDArray[np.integer] | None = None,
    permutations: NDArray[np.int32] | None = None,
    grams: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
    target: int = 0,
) -> NDArray[np.uint64]:
    """The Bloom filter of each value, packed: shape (n, bits // 64), dtype uint64.

    Bit ``j`` of a filter is bit ``j % 64`` of word ``j // 64`` (little-endian).
    With ``salts`` (per value, a row of ``permutations``; see
    :func:`salt_permutations`) each position is permuted by the value's salt.
    ``grams``: the values' :func:`qgrams`, when already made. With ``target``, a
    value of few q-grams sets more positions per q-gram (``ceil(target / n)``, at
    most 64): every filter holds about ``target`` bits, so that a short name is
    compared as surely as a long one and the count of set bits hides the length.
    """
    words = bits // 64
    out = np.zeros((len(values), words), np.uint64)
    all_grams, rows = qgrams(values, q=q) if grams is None else grams
    if not all_grams.size:
        return out
    codes, distinct = pd.factorize(all_grams)
    per_value = np.full(len(values), hashes, np.int64)
    if target:
        n_grams = np.bincount(rows, minlength=len(values))
        per_value = np.clip(-(-target // np.maximum(n_grams, 1)), hashes, _MAX_HASHES)
    most = int(per_value.max(initial=hashes))
    positions = gram_positions(np.asarray(distinct), key, q=q, hashes=most, bits=bits)
    positions = positions.astype(np.int32)
    starts = np.searchsorted(rows, np.arange(0, len(values) + _CHUNK, _CHUNK))
    for block, (a, b) in enumerate(itertools.pairwise(starts)):
        if a == b:
            continue
        first = block * _CHUNK
        n = min(_CHUNK, len(values) - first)
        hot = np.zeros(n * bits, np.bool_)
        # Flat indices: a 1-D scatter is about twice as fast as a 2-D one.
        at = positions[codes[a:b]]
        taken = np.arange(most)[None, :] < per_value[rows[a:b]][:, None]
        if salts is not None and permutations is not None:
            salt_rows = (salts[rows[a:b]] * bits).astype(np.int32)
            at = permutations.ravel()[salt_rows[:, None] + at]
        flat = ((rows[a:b] - first) * bits).astype(np.int32)[:, None] + at
        hot[flat[taken]] = True
        packed = np.packbits(hot.reshape(n, bits), axis=1, bitorder="little")
        out[first : first + n] = packed.view("<u8")
    return out


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijection that scatters nearby counters."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def flip_bits(
    filters: NDArray[np.uint64], seeds: NDArray[np.uint64], probability: float
) -> NDArray[np.uint64]:
    """Invert each bit with ``probability`` (a multiple of 1/64), in place and returned.

    Each row's stream is SplitMix64 of its seed (a keyed hash of the record) and a
    counter: the same record gets the same flips, two records independent ones. A
    probability ``0.b1 b2 ... b6`` in binary is built from six random words, the
    lowest bit first: OR with a word for a 1, AND for a 0.
    """
    steps = round(probability * 64)
    if steps == 0 or not filters.size:
        return filters
    words = filters.shape[1]
    binary = [(steps >> (5 - k)) & 1 for k in range(6)]  # b1 .. b6
    counter = np.arange(words * 6, dtype=np.uint64).reshape(6, words)
    with np.errstate(over="ignore"):
        base = seeds.astype(np.uint64)[:, None] * _GOLDEN
        # From the lowest 1 of the binary probability (ANDs before it leave zeros).
        lowest = max(k for k in range(6) if binary[k])
        mask = mix64(base + counter[lowest][None, :] + np.uint64(1))
        for k in range(lowest - 1, -1, -1):
            draw = mix64(base + counter[k][None, :] + np.uint64(1))
            mask = (mask | draw) if binary[k] else (mask & draw)
    filters ^= mask
    return filters


def xor_fold(filters: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The first half of each filter XOR the second: shape (n, words // 2)."""
    half = filters.shape[1] // 2
    return filters[:, :half] ^ filters[:, half:]


def dice_reference(a: set[int], b: set[int]) -> float:
    """Dice coefficient of two sets of set bits: ``2 |a & b| / (|a| + |b|)``."""
    if not a and not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))
