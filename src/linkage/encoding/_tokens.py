"""Keyed HMAC tokens of exact-compared values.

A token is HMAC-SHA256 under the field's key of the prepared value (UTF-8),
truncated to 128 bits: equal values give equal tokens under one key, and nothing
else can be learnt from a token without the key but how often it repeats. A value
made of several fields (a blocking rule on postcode and address) is joined with
the unit separator first. The one loop is the HMAC, once per distinct value
(:func:`linkage.pseudonymise.hmac_sha256_many`).
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.pseudonymise import hmac_sha256_many

__all__ = ["TOKEN_BYTES", "joined", "tokens"]

#: Bytes of a token: 128 bits.
TOKEN_BYTES = 16
_SEP = "\x1f"


def joined(columns: list[pd.Series]) -> pd.Series:
    """Several prepared columns as one value per row (missing where any is missing)."""
    out = columns[0].astype("string")
    for column in columns[1:]:
        out = out + _SEP + column.astype("string")
    return out


def _siphash128(distinct: NDArray[np.object_], key: bytes) -> NDArray[np.uint8]:
    """Two keyed SipHash-2-4 passes (pandas' C loop) under two 96-bit parts of ``key``."""
    text = base64.b64encode(key[:24]).decode("ascii")
    halves = [
        pd.util.hash_array(distinct, hash_key=text[k : k + 16], categorize=False).astype("<u8")
        for k in (0, 16)
    ]
    return np.stack(halves, axis=1).view(np.uint8).reshape(-1, TOKEN_BYTES)


def tokens(
    values: pd.Series, key: bytes, *, prf: str = "hmac-sha256"
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """The token of each value, by ``prf`` (``hmac-sha256`` or ``siphash128``).

    Returns
    -------
    tokens : ndarray of shape (n, 16), dtype uint8
        Zeros where the value is missing.
    present : ndarray of shape (n,), dtype bool
    """
    codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    if prf == "siphash128":
        table = _siphash128(np.asarray(distinct, dtype=object).astype(str).astype(object), key)
    else:
        digests = hmac_sha256_many(key, (str(v).encode("utf-8") for v in distinct))
        table = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32)[:, :TOKEN_BYTES]
    present = codes >= 0
    out = np.zeros((len(values), TOKEN_BYTES), np.uint8)
    out[present] = table[codes[present]]
    return out, present
