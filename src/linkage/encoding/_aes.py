"""AES-ECB over numpy arrays, in place.

``cryptography``'s ``update`` returns a new ``bytes`` object: at tens of megabytes
that costs more than the cipher (fresh memory is slow to touch), and the result
is copied again into numpy. :func:`ecb_in_place` writes each ciphertext block over
its plaintext instead (``update_into``, which OpenSSL allows in place), a megabyte
a call so that the work stays in cache.
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
    if not flat.size:
        return
    # update_into wants room for a block more than it is given: all but the last
    # block go straight over themselves, the last through a small copy.
    last = flat.size - _BLOCK
    for start in range(0, last, _BYTES):
        aes.update_into(flat[start : min(start + _BYTES, last)].data, flat[start:].data)
    flat[last:] = np.frombuffer(aes.update(flat[last:].tobytes()), np.uint8)
