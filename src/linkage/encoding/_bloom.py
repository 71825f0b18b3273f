"""Keyed Bloom filters of q-grams, and their hardening.

A value (normalised, padded with a space each side) is split into its q-grams; each
distinct q-gram of a column is hashed once, HMAC-SHA256 under the field's key, and
its ``hashes`` bit positions follow by double hashing of the digest
(``h1 + i * h2 mod bits``). A filter sets the positions of every q-gram of its value.
Everything but that one HMAC per distinct q-gram (a few thousand a column) is numpy
over whole arrays: q-grams as code points of the values' joined text, one packed
filter per distinct q-gram, and a value's filter the OR of its q-grams' filters. For
bigrams a value's q-grams are those of its words (:class:`Words`): the OR is then
taken once a distinct word, and a value's filter is the OR of its words'.

Hardening (:func:`flip_bits`, :func:`xor_fold`, :func:`permute_bits`): BLIP inverts
each bit with a probability ``p`` from a keyed stream seeded by the record, so that
equal values give different filters (frequencies no longer show) and no bit is
certain; XOR-folding halves a filter by XOR-ing its two halves; salting moves the
bits by a keyed permutation per salt value.

>>> import numpy as np
>>> grams, rows = qgrams(np.array(["ab", "b"], dtype=object), q=2)
>>> [decode_gram(g, 2) for g in grams[rows == 0]]
[' a', 'ab', 'b ']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.encoding._aes import ecb, ecb_in_place
from linkage.pseudonymise import hmac_sha256_many

__all__ = [
    "Grams",
    "Ranked",
    "Words",
    "bloom_filters",
    "by_count",
    "decode_gram",
    "dice_reference",
    "expand",
    "flip_bits",
    "gram_positions",
    "mix64",
    "permute_bits",
    "qgrams",
    "reduce_rows",
    "salt_permutations",
    "xor_fold",
]

_SHIFT = 21  # bits per code point: all of Unicode
_CHUNK = 16_384  # distinct values per block of bits
_STREAM_BYTES = 1 << 20  # key stream per AES pass of flip_bits
_MAX_CHARS = 256
_MAX_HASHES = 64  # longer values are cut (a company name is far shorter)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_BLOCK = 1 << 15  # numbers a block of mix64: 256 KiB, in cache


def qgrams(values: NDArray[np.object_], *, q: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every q-gram of every value, padded with a space each side.

    The values are joined into one text and read as code points (UTF-32) at once:
    a q-gram is ``q`` neighbouring code points within one padded value.

    Parameters
    ----------
    values : ndarray of shape (n,), dtype object
        Strings (no missing values); longer than 256 characters, cut there.
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
    values, lengths = _cut(values)
    text = " " + "  ".join(values) + " "
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), "<u4").astype(np.int64)
    n = len(points) - q + 1
    packed = points[:n].copy()
    for k in range(1, q):
        packed = (packed << _SHIFT) | points[k : k + n]
    counts = lengths + 3 - q  # q-grams of a value padded to length + 2
    starts = np.cumsum(lengths + 2) - (lengths + 2)
    rows = np.repeat(np.arange(len(values)), counts)
    first = np.cumsum(counts) - counts
    at = np.arange(len(rows)) + np.repeat(starts - first, counts)
    return packed[at], rows


def _cut(values: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """The values cut at :data:`_MAX_CHARS` characters, and their lengths."""
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    if len(values) and lengths.max() > _MAX_CHARS:
        values = np.asarray(pd.Series(values, dtype=object).str.slice(0, _MAX_CHARS), object)
        lengths = np.minimum(lengths, _MAX_CHARS)
    return values, lengths


@dataclass(frozen=True)
class Grams:
    """The q-grams of some values, factorised once for their filters and bands."""

    codes: NDArray[np.integer]  #: per q-gram of a value, its row in ``distinct``
    distinct: NDArray[np.int64]  #: each distinct q-gram, packed (:func:`qgrams`)
    rows: NDArray[np.integer]  #: per q-gram of a value, the value, ascending
    q: int
    counts: NDArray[np.int64]  #: how many q-grams each value has

    @classmethod
    def of(cls, values: NDArray[np.object_], q: int) -> Grams:
        """The q-grams of ``values`` (:func:`qgrams`), each distinct one numbered.

        ASCII text (normalised names and addresses are) takes a shorter way: a
        q-gram packs 7 bits a character into a small integer, every window of the
        joined text but those across two values is one, and the distinct ones are
        numbered by a lookup table rather than by hashing.
        """
        values, lengths = _cut(values)
        text = " " + "  ".join(values) + " "
        if not len(values) or not text.isascii():
            grams, rows = qgrams(values, q=q)
            codes, distinct = pd.factorize(grams)
            counts = np.bincount(rows, minlength=len(values))
            return cls(codes.astype(np.int64), np.asarray(distinct), rows, q, counts)
        return cls._ascii(np.frombuffer(text.encode("ascii"), np.uint8), lengths, q)

    @classmethod
    def _ascii(cls, points: NDArray[np.uint8], lengths: NDArray[np.int64], q: int) -> Grams:
        """The q-grams of ASCII values given as their text, each padded with a space
        each side, one after the other (``lengths`` without the padding)."""
        n = len(points) - q + 1
        packed = points[:n].astype(np.uint16 if q <= 2 else np.uint32)
        for k in range(1, q):
            np.left_shift(packed, 7, out=packed)
            np.bitwise_or(packed, points[k : k + n], out=packed)
        within = np.ones(n, np.bool_)  # not the windows that start in one value and end in the next
        ends = np.cumsum(lengths + 2)[:-1]
        for k in range(1, q):
            within[ends - k] = False
        windows = packed[within]
        seen = np.flatnonzero(np.bincount(windows, minlength=1 << 7 * q)).astype(np.int64)
        number = np.zeros(1 << 7 * q, np.int32)
        number[seen] = np.arange(len(seen), dtype=np.int32)
        # Back to 21 bits a character (decode_gram).
        distinct = np.zeros(len(seen), np.int64)
        for k in range(q):
            distinct |= ((seen >> (7 * (q - 1 - k))) & 0x7F) << (_SHIFT * (q - 1 - k))
        counts = lengths + 3 - q  # of a value padded to length + 2
        rows = np.repeat(np.arange(len(lengths), dtype=np.int32), counts)
        return cls(number[windows], distinct, rows, q, counts)


@dataclass(frozen=True)
class Words:
    """Values as their words, each distinct word's q-grams factorised once (q <= 2).

    For q <= 2 the q-grams of a value padded with a space each side are the union of
    its words' (split at every space, each padded; an empty word, between two spaces,
    stands for the q-gram of two spaces). A value's MinHash is then the least of its
    words' and its Bloom filter the OR of theirs: names share most of their words, so
    the per-q-gram work is done once a distinct word rather than once a value.
    """

    grams: Grams  #: the q-grams of the distinct words
    codes: NDArray[np.int64]  #: per word of a value, its row in the distinct words
    counts: NDArray[np.int64]  #: how many words each value has
    sizes: NDArray[np.int64]  #: how many q-grams each value has (as :attr:`Grams.counts`)

    @classmethod
    def of(cls, values: NDArray[np.object_] | pa.Array, q: int) -> Words:
        """The words of ``values`` (strings, no missing ones), numbered, and their q-grams."""
        if q > 2:
            raise ValueError(f"a value's q-grams are its words' only for q <= 2, got q={q}")
        strings = pa.array(values, pa.large_string()) if isinstance(values, np.ndarray) else values
        strings = strings.cast(pa.large_string())
        lengths = pc.utf8_length(strings).to_numpy().astype(np.int64)
        if len(lengths) and lengths.max() > _MAX_CHARS:
            strings = pc.utf8_slice_codeunits(strings, 0, _MAX_CHARS)
            lengths = np.minimum(lengths, _MAX_CHARS)
        split = pc.split_pattern(strings, " ")
        words = pc.list_flatten(split).dictionary_encode()
        counts = pc.list_value_length(split).to_numpy().astype(np.int64)
        codes = words.indices.to_numpy().astype(np.int64)
        return cls(_grams_of_text(words.dictionary, q), codes, counts, lengths + 3 - q)


def _grams_of_text(strings: pa.LargeStringArray, q: int) -> Grams:
    """:meth:`Grams.of` an Arrow string array (no nulls), ASCII read from its buffers."""
    offsets = np.frombuffer(strings.buffers()[1], np.int64, len(strings) + 1, strings.offset * 8)
    data = strings.buffers()[2]
    chars = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    chars = chars[offsets[0] : offsets[-1]]
    if not len(strings) or (chars >= 128).any():
        return Grams.of(strings.to_numpy(zero_copy_only=False), q)
    lengths = np.diff(offsets)
    # Each padded with a space each side: the characters fill what the spaces leave.
    ends = np.cumsum(lengths + 2)
    is_char = np.ones(int(ends[-1]), np.bool_)
    is_char[ends - 1] = is_char[ends - lengths - 2] = False
    padded = np.full(len(is_char), 32, np.uint8)
    padded[is_char] = chars
    return Grams._ascii(padded, lengths, q)


def expand(
    codes: NDArray[np.integer], counts: NDArray[np.int64], items: NDArray[np.integer]
) -> NDArray[np.integer]:
    """The codes of each of ``items`` in turn, where item ``i`` owns ``counts[i]`` of
    ``codes`` (items in order)."""
    starts = np.cumsum(counts) - counts
    taken = counts[items]
    first = np.cumsum(taken) - taken
    return codes[np.arange(int(taken.sum())) + np.repeat(starts[items] - first, taken)]


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
    values: NDArray[np.object_] | Grams | Words,
    key: bytes,
    *,
    q: int,
    hashes: int,
    bits: int,
    target: int = 0,
    of: NDArray[np.integer] | None = None,
) -> NDArray[np.uint64]:
    """The Bloom filter of each value, packed: shape (n, bits // 64), dtype uint64.

    Bit ``j`` of a filter is bit ``j % 64`` of word ``j // 64`` (little-endian).
    ``values``: strings, or their q-grams (or words) already made. With ``target``, a
    value of few q-grams sets more positions per q-gram (``ceil(target / n)``, at
    most 64): every filter holds about ``target`` bits, so that a short name is
    compared as surely as a long one and the count of set bits hides the length.
    ``of``: the values whose filters to give, in turn (each record's value, say);
    every value in order if not given.

    Each distinct (q-gram, positions per q-gram) pair is made into a packed filter
    once; a value's filter is the OR of its q-grams' (:func:`reduce_rows`), or, from
    :class:`Words`, of its words' (each distinct (word, positions) pair made once).
    """
    grams = values if isinstance(values, Grams | Words) else Grams.of(values, q)
    of_words = grams.grams if isinstance(grams, Words) else grams
    sizes = grams.sizes if isinstance(grams, Words) else grams.counts
    if not of_words.codes.size:
        return np.zeros((len(sizes) if of is None else len(of), bits // 64), np.uint64)
    per_value = np.full(len(sizes), hashes, np.int64)
    if target:
        per_value = np.clip(-(-target // np.maximum(sizes, 1)), hashes, _MAX_HASHES)
    most = int(per_value.max(initial=hashes))
    positions = gram_positions(of_words.distinct, key, q=q, hashes=most, bits=bits)
    if not isinstance(grams, Words):
        return _or_of_grams(positions, grams.codes, grams.counts, per_value, bits).take(of)
    pair = grams.codes * most + np.repeat(per_value - 1, grams.counts)
    used, pairs = pd.factorize(pair)
    word = pairs // most
    of_pairs = _or_of_grams(
        positions,
        expand(of_words.codes, of_words.counts, word),
        of_words.counts[word],
        pairs % most + 1,
        bits,
    )
    return reduce_rows(of_pairs, used, grams.counts, np.bitwise_or, 0).take(of)


def _or_of_grams(
    positions: NDArray[np.int64],
    codes: NDArray[np.integer],
    counts: NDArray[np.int64],
    per_value: NDArray[np.int64],
    bits: int,
) -> Ranked:
    """Per value, the OR of its q-grams' filters (``codes``, ``counts[i]`` of them a
    value), each of the first ``per_value[i]`` of the q-gram's ``positions``."""
    most = positions.shape[1]
    # Each (q-gram, count of positions) pair once: a dense code per pair used.
    pair = np.repeat((per_value - 1).astype(np.int32), counts)
    pair += codes.astype(np.int32, copy=False) * np.int32(most)
    used = np.zeros(len(positions) * most, np.bool_)
    used[pair] = True
    pairs = np.flatnonzero(used)
    dense = (np.cumsum(used) - 1).astype(np.int32)
    table = _filters_of(positions[pairs // most], pairs % most + 1, bits)
    return reduce_rows(table, dense[pair], counts, np.bitwise_or, 0)


def by_count(counts: NDArray[np.int64]) -> NDArray[np.intp]:
    """The order of ascending ``counts``, ties in place (a radix sort where they fit 16 bits)."""
    small = counts.max(initial=0) < 2**16
    return np.argsort(counts.astype(np.uint16) if small else counts, kind="stable")


@dataclass(frozen=True)
class Ranked:
    """Rows made in an order of their own: value ``i``'s row is ``rows[rank[i]]``.

    A reduction writes its rows front to back in the order it makes them; the next
    step reads them through ``rank`` (one gather) rather than having them scattered
    back into the values' order first.
    """

    rows: NDArray[Any]
    rank: NDArray[np.intp]

    def take(self, values: NDArray[np.integer] | None = None) -> NDArray[Any]:
        """The rows of ``values`` in turn (every value in order if None)."""
        at = self.rank if values is None else self.rank[values]
        return np.take(self.rows, at, axis=0)


def reduce_rows(
    table: NDArray[Any] | Ranked,
    codes: NDArray[np.integer],
    counts: NDArray[np.int64],
    op: np.ufunc,
    identity: int,
) -> Ranked:
    """Per value, ``op`` over the rows of ``table`` its codes name (n rows of its columns).

    ``codes`` holds each value's codes in turn (``counts[i]`` of them, values in
    order). A value without codes gets ``identity``. The values of one count are
    taken together: their reduction is one gather and one ``op`` per code, without
    padding (faster than ``reduceat``), written straight after the last.
    """
    if isinstance(table, Ranked):
        codes = table.rank[codes]
        table = table.rows
    starts = np.cumsum(counts) - counts
    order = by_count(counts)
    out = np.empty((len(counts), table.shape[1]), table.dtype)
    taken = np.empty((min(len(counts), _CHUNK), table.shape[1]), table.dtype)
    done = 0
    for group in np.split(order, np.flatnonzero(np.diff(counts[order])) + 1):
        count = int(counts[group[0]]) if len(group) else 0
        if not count:
            out[done : done + len(group)] = identity
            done += len(group)
            continue
        for a in range(0, len(group), _CHUNK):
            rows = group[a : a + _CHUNK]
            at = codes[starts[rows] + np.arange(count)[:, None]]  # (count, rows)
            reduced = out[done : done + len(rows)]
            np.take(table, at[0], axis=0, out=reduced)
            for column in at[1:]:
                op(reduced, np.take(table, column, axis=0, out=taken[: len(rows)]), out=reduced)
            done += len(rows)
    rank = np.empty(len(order), np.intp)
    rank[order] = np.arange(len(order))
    return Ranked(out, rank)


def _filters_of(
    positions: NDArray[np.int64], counts: NDArray[np.int64], bits: int
) -> NDArray[np.uint64]:
    """Packed filters of the first ``counts[i]`` of ``positions[i]``."""
    out = np.empty((len(positions), bits // 64), np.uint64)
    for a in range(0, len(positions), _CHUNK):
        chunk, n = positions[a : a + _CHUNK], counts[a : a + _CHUNK]
        hot = np.zeros((len(chunk), bits), np.bool_)
        taken = np.arange(chunk.shape[1])[None, :] < n[:, None]
        hot[np.nonzero(taken)[0], chunk[taken]] = True
        out[a : a + len(chunk)] = np.packbits(hot, axis=1, bitorder="little").view("<u8")
    return out


def permute_bits(
    filters: NDArray[np.uint64], salts: NDArray[np.integer], permutations: NDArray[np.int32]
) -> NDArray[np.uint64]:
    """Each filter's bits moved by its salt's permutation: bit ``j`` to ``perm[j]``."""
    bits = permutations.shape[1]
    inverse = np.empty_like(permutations)
    np.put_along_axis(inverse, permutations, np.arange(bits, dtype=np.int32)[None, :], axis=1)
    out = np.empty_like(filters)
    for a in range(0, len(filters), _CHUNK):
        hot = np.unpackbits(filters[a : a + _CHUNK].view(np.uint8), axis=1, bitorder="little")
        moved = np.take_along_axis(hot, inverse[salts[a : a + _CHUNK]], axis=1)
        out[a : a + _CHUNK] = np.packbits(moved, axis=1, bitorder="little").view("<u8")
    return out


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijection that scatters nearby counters.

    Works on ``x`` (C-contiguous) in place and returns it, a block of
    :data:`_MIX_BLOCK` numbers at a time: each block's eight passes stay in cache.
    """
    if not x.flags.c_contiguous:
        x[...] = mix64(np.ascontiguousarray(x))
        return x
    flat = x.reshape(-1)
    shifted = np.empty(min(len(flat), _MIX_BLOCK), np.uint64)
    with np.errstate(over="ignore"):
        for a in range(0, len(flat), _MIX_BLOCK):
            block = flat[a : a + _MIX_BLOCK]
            temp = shifted[: len(block)]
            for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, 0)):
                block ^= np.right_shift(block, np.uint64(shift), out=temp)
                if factor:
                    block *= np.uint64(factor)
    return x


def flip_bits(
    filters: NDArray[np.uint64], seeds: NDArray[np.uint64], probability: float, key: bytes
) -> NDArray[np.uint64]:
    """Invert each bit with ``probability`` (a multiple of 1/64), in place and returned.

    Each row's stream is AES in counter mode under ``key``, the row's seed (a keyed
    hash of the record) as its nonce: the same record gets the same flips, two
    records independent ones. A probability ``0.b1 b2 ... b6`` in binary is built
    from up to six random words, the lowest bit first: OR with a word for a 1, AND
    for a 0.
    """
    steps = round(probability * 64)
    if steps == 0 or not filters.size:
        return filters
    n_words = filters.shape[1]
    binary = [(steps >> (5 - k)) & 1 for k in range(6)]  # b1 .. b6
    # From the lowest 1 of the binary probability (ANDs before it leave zeros).
    lowest = max(k for k in range(6) if binary[k])
    draws = (lowest + 1) * n_words
    aes = ecb(key)
    counter = np.arange(-(-draws // 2), dtype=np.uint64)
    chunk = max(_STREAM_BYTES // (16 * len(counter)), 1)
    for a in range(0, len(filters), chunk):
        rows = seeds[a : a + chunk].astype(np.uint64)
        blocks = np.empty((len(rows), len(counter), 2), "<u8")
        blocks[:, :, 0] = rows[:, None]
        blocks[:, :, 1] = counter
        ecb_in_place(aes, blocks)
        words = blocks.reshape(len(rows), -1)[:, :draws].reshape(len(rows), lowest + 1, n_words)
        mask = words[:, lowest].copy()
        for k in range(lowest - 1, -1, -1):
            if binary[k]:
                mask |= words[:, k]
            else:
                mask &= words[:, k]
        filters[a : a + chunk] ^= mask
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
