"""Blocking keys of fuzzy fields without a clear value: keyed MinHash bands.

The encoding party computes them from the q-gram set of each value, before any
hardening: each distinct q-gram gets ``bands * rows`` keyed 16-bit hashes (from its
HMAC-SHA256 under the field's LSH key, spread by SplitMix64); a value's MinHash is
the least hash over its q-grams, per slot; a band is ``rows`` MinHashes mixed into
one 64-bit key. Two values meet in a band with probability ``J ** rows`` (J: the
Jaccard similarity of their q-gram sets), so equal values always meet, and similar
ones across a few bands. Only the band keys leave: keyed, they say which records
share a band, not what it holds. The work is numpy over chunks of records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.encoding._bloom import decode_gram, mix64, qgrams
from linkage.pseudonymise import hmac_sha256_many

__all__ = ["minhash_bands"]

_CHUNK = 4_096
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def minhash_bands(
    values: NDArray[np.object_],
    key: bytes,
    *,
    q: int,
    bands: int,
    rows: int,
    grams: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> NDArray[np.uint64]:
    """The band keys of each value: shape (n, bands), dtype uint64 (0: no q-gram).

    ``grams``: the values' q-grams (:func:`linkage.encoding._bloom.qgrams`), if made.
    """
    out = np.zeros((len(values), bands), np.uint64)
    all_grams, owner = qgrams(values, q=q) if grams is None else grams
    if not all_grams.size:
        return out
    codes, distinct = pd.factorize(all_grams)
    digests = hmac_sha256_many(
        key, (decode_gram(g, q).encode("utf-8", "surrogatepass") for g in distinct)
    )
    seeds = np.frombuffer(b"".join(digests), dtype="<u8").reshape(-1, 4)[:, 0]
    slots = np.arange(bands * rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        spread = mix64(seeds[:, None] + slots[None, :] * _GOLDEN)
    # 16 bits a MinHash: a chance collision (2**-16) is far below a band's J ** rows,
    # and half the memory traffic of the gather below.
    hashes = (spread >> np.uint64(48)).astype(np.uint16)
    # A record's q-grams as one row, padded with a q-gram whose hashes are all the
    # highest: the MinHashes are then one gather and one min over the row.
    hashes = np.vstack([hashes, np.full((1, hashes.shape[1]), np.iinfo(np.uint16).max, np.uint16)])
    counts = np.bincount(owner, minlength=len(values))
    starts = np.r_[0, np.cumsum(counts)]
    for a in range(0, len(values), _CHUNK):
        b = min(len(values), a + _CHUNK)
        width = int(counts[a:b].max(initial=0))
        if width == 0:
            continue
        row_of = np.repeat(np.arange(b - a), counts[a:b])
        column = np.arange(starts[a], starts[b]) - np.repeat(starts[a:b], counts[a:b])
        padded = np.full((b - a, width), len(distinct), np.int64)
        padded[row_of, column] = codes[starts[a] : starts[b]]
        mins = hashes[padded].min(axis=1).astype(np.uint64).reshape(b - a, bands, rows)
        key_of = np.zeros((b - a, bands), np.uint64)
        with np.errstate(over="ignore"):
            for r in range(rows):
                key_of = mix64(key_of * _GOLDEN + mins[:, :, r] + np.uint64(1))
        key_of[key_of == 0] = 1
        key_of[counts[a:b] == 0] = 0
        out[a:b] = key_of
    return out
