"""AES-ECB over numpy arrays, in place.

``cryptography``'s ``update`` returns a new ``bytes`` object: at tens of megabytes
that costs more than the cipher (fresh memory is slow to touch), and the result
is copied again into numpy. :func:`ecb_in_place` encrypts a megabyte a call into one
buffer kept in cache (``update_into``; since ``cryptography`` 51 it refuses to write
over its input) and copies each ciphertext over its plaintext.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from numpy.typing import NDArray

__all__ = ["ecb", "ecb_in_place"]

_BYTES = 1 << 20  # bytes per call
_BLOCK = 16


def ecb(key: bytes) -> CipherContext:
    """An AES-ECB encryptor under ``key`` (16, 24 or 32 bytes)."""
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()


def ecb_in_place(aes: CipherContext, data: NDArray[np.generic]) -> None:
    """Encrypt the bytes of ``data`` (C-contiguous, a multiple of 16 bytes) in place."""
    if not data.flags.c_contiguous or data.nbytes % _BLOCK:
        raise ValueError("AES-ECB needs C-contiguous whole blocks")
    flat = data.reshape(-1).view(np.uint8)
    # update_into wants room for a block more than it is given.
    out = np.empty(min(flat.size, _BYTES) + _BLOCK, dtype=np.uint8)
    for start in range(0, flat.size, _BYTES):
        chunk = flat[start : start + _BYTES]
        done = aes.update_into(chunk.data, out.data)
        chunk[:] = out[:done]
