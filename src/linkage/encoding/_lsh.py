"""Blocking keys of fuzzy fields without a clear value: keyed MinHash bands.

The encoding party computes them from the q-gram set of each value, before any
hardening: each distinct q-gram gets ``bands * rows`` keyed 16-bit hashes (from its
HMAC-SHA256 under the field's LSH key, spread by SplitMix64); a value's MinHash is
the least hash over its q-grams, per slot; a band is ``rows`` MinHashes, packed four
to a word, mixed into one 64-bit key. Two values meet in a band with probability
``J ** rows`` (J: the Jaccard similarity of their q-gram sets), so equal values
always meet, and similar ones across a few bands. Only the band keys leave: keyed,
they say which records share a band, not what it holds. The work is numpy over
chunks of distinct values, and for bigrams over distinct words: a value's MinHash
is the least of its words' (:class:`linkage.encoding._bloom.Words`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from linkage.encoding._bloom import Grams, Words, decode_gram, mix64, reduce_rows
from linkage.pseudonymise import hmac_sha256_many

__all__ = ["minhash_bands"]

_CHUNK = 16_384
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def minhash_bands(
    values: NDArray[np.object_] | Grams | Words,
    key: bytes,
    *,
    q: int,
    bands: int,
    rows: int,
    of: NDArray[np.integer] | None = None,
) -> NDArray[np.uint64]:
    """The band keys of each value: shape (n, bands), dtype uint64 (0: no q-gram).

    ``values``: strings, or their q-grams already made, or their words (a value's
    MinHash is the least of its words'). ``of``: the values whose keys to give, in
    turn (each record's value, say); every value in order if not given. The array
    is a band's keys after another (Fortran order): its transpose is contiguous,
    one row a band.
    """
    grams = values if isinstance(values, Grams | Words) else Grams.of(values, q)
    of_words = grams.grams if isinstance(grams, Words) else grams
    counts = grams.sizes if isinstance(grams, Words) else grams.counts
    if not of_words.codes.size:
        return np.zeros((bands, len(counts) if of is None else len(of)), np.uint64).T
    digests = hmac_sha256_many(
        key, (decode_gram(g, q).encode("utf-8", "surrogatepass") for g in of_words.distinct)
    )
    seeds = np.frombuffer(b"".join(digests), dtype="<u8").reshape(-1, 4)[:, 0]
    slots = np.arange(bands * rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        spread = mix64(seeds[:, None] + slots[None, :] * _GOLDEN)
    # 16 bits a MinHash: a chance collision (2**-16) is far below a band's J ** rows,
    # and half the memory traffic of the gather below.
    hashes = (spread >> np.uint64(48)).astype(np.uint16)
    most = np.iinfo(np.uint16).max
    mins = reduce_rows(hashes, of_words.codes, of_words.counts, np.minimum, most)
    if isinstance(grams, Words):
        mins = reduce_rows(mins, grams.codes, grams.counts, np.minimum, most)
    # The keys in the order the MinHashes were made in (mins.rank says where).
    empty = np.zeros(len(counts), np.bool_)
    empty[mins.rank[counts == 0]] = True
    out = np.empty((bands, len(counts)), np.uint64)
    # A band's MinHashes four to a 64-bit word (little-endian), the words mixed in turn.
    width = -(-rows // 4) * 4
    for a in range(0, len(counts), _CHUNK):
        block = mins.rows[a : a + _CHUNK].reshape(-1, bands, rows)
        packed = np.zeros((len(block), bands, width), np.uint16)
        packed[:, :, :rows] = block
        words = packed.view("<u8")
        key_of = np.zeros((len(block), bands), np.uint64)
        with np.errstate(over="ignore"):
            for w in range(words.shape[2]):
                key_of = mix64(key_of * _GOLDEN + words[:, :, w] + np.uint64(1))
        key_of[key_of == 0] = 1
        key_of[empty[a : a + _CHUNK]] = 0
        out[:, a : a + _CHUNK] = key_of.T
    at = mins.rank if of is None else mins.rank[of]
    return np.take(out, at, axis=1).T
