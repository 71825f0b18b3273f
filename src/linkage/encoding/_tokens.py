"""Keyed tokens of exact-compared values.

A token is a keyed pseudorandom function of the prepared value (UTF-8) under the
field's key, 128 bits: equal values give equal tokens under one key, and nothing
else can be learnt from a token without the key but how often it repeats. A value
made of several fields (a blocking rule on postcode and address) is joined with
the unit separator first. The function is one of:

* ``aes-cmac`` (the default): AES-CMAC (NIST SP 800-38B, RFC 4493) under the
  256-bit field key, every value at once: each CBC step is one AES-ECB call over
  every value of one count of blocks, read straight from the Arrow buffer
  (:func:`aes_cmac_many`), many times faster than
* ``hmac-sha256``: HMAC-SHA256 truncated to 128 bits, a Python call per distinct
  value (:func:`linkage.pseudonymise.hmac_sha256_many`).

:func:`near_tokens` gives a field compared by edit distance 64-bit tokens of the value
and of each string one character shorter, which two values within one edit share.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.encoding._aes import ecb, ecb_in_place
from linkage.encoding._bloom import by_count
from linkage.pseudonymise import hmac_sha256_many

__all__ = ["TOKEN_BYTES", "aes_cmac_many", "joined", "near_tokens", "text", "tokens"]

#: Bytes of a token: 128 bits.
TOKEN_BYTES = 16
_SEP = "\x1f"
_NEAR_CHARS = 32  # longer values get no near tokens
_ROWS = 1 << 15  # messages a pass: half a megabyte a block, in cache


def _last_block_tables() -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Per count ``r`` of a message's bytes in its last block (0..16), the bits of
    the block's two words that hold them, and the padding (0x80 after the message
    in an incomplete block): shape (2, 17) each."""
    keep = np.zeros((2, 17), np.uint64)
    padding = np.zeros((2, 17), np.uint64)
    for r in range(17):
        for word in range(2):
            held = min(max(r - 8 * word, 0), 8)
            keep[word, r] = (1 << (8 * held)) - 1
            if r < 16 and 8 * word <= r < 8 * word + 8:
                padding[word, r] = 0x80 << (8 * (r - 8 * word))
    return keep, padding


_KEEP, _PADDING = _last_block_tables()


def text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Prepared values as one Arrow string array (missing values null)."""
    if isinstance(values, pd.Series):
        values = pa.array(values.astype("string[pyarrow]"))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.large_string())


def joined(columns: list[pd.Series]) -> pa.Array:
    """Several prepared columns as one value per row (missing where any is missing)."""
    return pc.binary_join_element_wise(*map(text, columns), pa.scalar(_SEP, pa.large_string()))


def _double(block: bytes) -> bytes:
    """Doubling in GF(2^128), as CMAC derives its subkeys."""
    value = int.from_bytes(block, "big") << 1
    if value >> 128:
        value ^= 0x87 | 1 << 128
    return value.to_bytes(16, "big")


class _Cmac:
    """AES-CMAC under one key, of many messages of one length at a time."""

    def __init__(self, key: bytes) -> None:
        self._aes = ecb(key)
        k1 = _double(self._aes.update(bytes(16)))
        self._subkeys = np.frombuffer(_double(k1) + k1, "<u8").reshape(2, 2)  # padded, complete
        # Per count of bytes in a last block (0..16): its padding XOR its subkey.
        self._tails = _PADDING ^ self._subkeys[(np.arange(17) == 16).astype(np.intp)].T

    def last_blocks(self, messages: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """``messages`` (n, length) padded and split into blocks (n, blocks, 16), the
        last block masked with its subkey: what the CBC-MAC then encrypts."""
        n, length = messages.shape
        complete = length > 0 and length % 16 == 0
        blocks = np.zeros((n, max(-(-length // 16), 1), 16), np.uint8)
        flat = blocks.reshape(n, -1)
        flat[:, :length] = messages
        if not complete:
            flat[:, length] = 0x80
        blocks[:, -1].view("<u8")[:] ^= self._subkeys[int(complete)]
        return blocks

    def of_blocks(
        self,
        loads: NDArray[np.uint64],
        starts: NDArray[np.int64],
        lengths: NDArray[np.int64],
        blocks: int,
    ) -> NDArray[np.uint64]:
        """The CMACs of messages of ``blocks`` blocks each, at ``starts`` in the bytes
        that ``loads`` reads 8 at a time (shape (n, 2), little-endian words)."""
        state = np.zeros((len(starts), 2), "<u8")
        for step in range(blocks - 1):
            at = starts + 16 * step
            state[:, 0] ^= loads[at]
            state[:, 1] ^= loads[at + 8]
            ecb_in_place(self._aes, state)
        # The last block: its 0..16 bytes of the message, then the padding and the
        # subkey its length calls for.
        rest = lengths - 16 * (blocks - 1)
        at = starts + 16 * (blocks - 1)
        state[:, 0] ^= (loads[at] & np.take(_KEEP[0], rest)) ^ np.take(self._tails[0], rest)
        state[:, 1] ^= (loads[at + 8] & np.take(_KEEP[1], rest)) ^ np.take(self._tails[1], rest)
        ecb_in_place(self._aes, state)
        return state

    def of_one_block_and_shorter(
        self, loads: NDArray[np.uint64], starts: NDArray[np.int64], length: int
    ) -> NDArray[np.uint64]:
        """The first words of the CMACs of messages of ``length`` <= 16 bytes at
        ``starts``, and of each message with its ``i``-th byte left out: shape
        (n, 1 + length). Leaving a byte out of the two words ``hi:lo`` keeps the
        bytes below it and shifts those above it down one."""
        low = loads[starts] & _KEEP[0, length]
        high = loads[starts + 8] & _KEEP[1, length]
        blocks = np.empty((len(starts), 1 + length, 2), "<u8")
        blocks[:, 0, 0] = low ^ self._tails[0, length]
        blocks[:, 0, 1] = high ^ self._tails[1, length]
        down_low = (low >> np.uint64(8)) | (high << np.uint64(56))
        down_high = high >> np.uint64(8)
        for i in range(length):
            below_low, below_high = _KEEP[0, i], _KEEP[1, i]
            blocks[:, 1 + i, 0] = (low & below_low) | (down_low & ~below_low)
            blocks[:, 1 + i, 1] = (high & below_high) | (down_high & ~below_high)
        blocks[:, 1:, 0] ^= self._tails[0, length - 1]
        blocks[:, 1:, 1] ^= self._tails[1, length - 1]
        ecb_in_place(self._aes, blocks)
        return blocks[:, :, 0]

    def __call__(self, messages: NDArray[np.uint8]) -> NDArray[np.uint64]:
        """The CMAC of each row of ``messages`` (n, length): shape (n, 2), little-endian words.

        Each step of their CBC-MAC is one AES-ECB pass over all of them, in place,
        :data:`_ROWS` messages at a time.
        """
        out = np.empty((len(messages), 2), "<u8")
        for start in range(0, len(messages), _ROWS):
            words = self.last_blocks(messages[start : start + _ROWS]).view("<u8")
            state = out[start : start + len(words)]
            state[:] = words[:, 0]
            ecb_in_place(self._aes, state)
            for step in range(1, words.shape[1]):
                state ^= words[:, step]
                ecb_in_place(self._aes, state)
        return out


def _by_length(values: pa.Array) -> Iterator[tuple[NDArray[np.intp], NDArray[np.uint8]]]:
    """Per length (ascending), the rows of that length and their bytes, one row each.

    Missing values are left out. The array is sorted by length once, so that the
    bytes of one length are one block.
    """
    values = values.cast(pa.large_binary())
    lengths = pc.binary_length(values).fill_null(0).to_numpy()
    order = by_count(lengths)
    if values.null_count:
        order = order[values.is_valid().to_numpy(zero_copy_only=False)[order]]
    data = np.frombuffer(values.take(pa.array(order)).buffers()[2] or b"", np.uint8)
    start = 0
    for rows in np.split(order, np.flatnonzero(np.diff(lengths[order])) + 1):
        if len(rows):
            length = int(lengths[rows[0]])
            yield rows, data[start : start + len(rows) * length].reshape(len(rows), length)
            start += len(rows) * length


def _loads(
    messages: pa.Array,
) -> tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.int64]]:
    """An 8-byte little-endian load at every byte of the messages' bytes (a copy
    with room for a whole block past the last), their offsets and their lengths."""
    values = messages.cast(pa.large_binary())
    offsets = np.frombuffer(values.buffers()[1], np.int64, len(values) + 1, values.offset * 8)
    raw = values.buffers()[2]
    data = np.zeros(int(offsets[-1]) + 16, np.uint8)
    if raw is not None and offsets[-1] > offsets[0]:
        data[offsets[0] : offsets[-1]] = np.frombuffer(
            raw, np.uint8, int(offsets[-1] - offsets[0]), int(offsets[0])
        )
    return np.ndarray((len(data) - 7,), "<u8", data, 0, (1,)), offsets[:-1], np.diff(offsets)


def _cmac_words(key: bytes, messages: pa.Array) -> NDArray[np.uint64]:
    """AES-CMAC of each message as two little-endian words: shape (n, 2), zeros where
    a message is missing.

    The messages of one count of blocks are taken together, :data:`_ROWS` at a
    time, straight from the Arrow buffer: each block is two 8-byte loads at its
    offset, the last one cut to the message's length, padded and masked with its
    subkey; each CBC step is then one AES-ECB pass over all of them.
    """
    cmac = _Cmac(key)
    loads, offsets, lengths = _loads(messages)
    blocks = np.maximum(-(-lengths // 16), 1)
    blocks[~messages.is_valid().to_numpy(zero_copy_only=False)] = 0
    out = np.zeros((len(messages), 2), "<u8")
    for count in np.flatnonzero(np.bincount(blocks)[1:]) + 1:  # 0: missing
        group = np.flatnonzero(blocks == count)
        for start in range(0, len(group), _ROWS):
            rows = group[start : start + _ROWS]
            out[rows] = cmac.of_blocks(loads, offsets[rows], lengths[rows], int(count))
    return out


def aes_cmac_many(key: bytes, messages: pa.Array) -> NDArray[np.uint8]:
    """AES-CMAC (RFC 4493; AES-256 for a 32-byte key) of each message: shape (n, 16).

    ``messages``: an Arrow binary or string array, taken one count of blocks at a
    time; zeros where a message is missing.
    """
    return _cmac_words(key, messages).view(np.uint8)


def near_tokens(values: pd.Series | pa.Array, key: bytes) -> NDArray[np.uint64]:
    """Per value, a 64-bit token of it and of each string one character shorter.

    Shape (n, 1 + longest): the first half of the AES-CMAC of the value (UTF-8), then
    of the value without its ``i``-th character, for each ``i``; 0 where the value is
    missing, shorter, or longer than :data:`_NEAR_CHARS`. Two values within one edit
    (a wrong, missing, extra or swapped character: Damerau-Levenshtein 1) share one,
    as do a few two edits apart (a character dropped at one end and added at the
    other). ASCII values (numbers) are cut as rows of bytes, one length at a time;
    others by Arrow's string functions, one position at a time.
    """
    values = text(values)
    chars = pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    usable = (chars >= 1) & (chars <= _NEAR_CHARS)
    ascii_ = usable & (
        chars == pc.binary_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    )
    out = np.zeros((len(values), 1 + int(chars[usable].max(initial=0))), np.uint64)
    cmac = _Cmac(key)
    loads, offsets, _ = _loads(values)
    short = np.where(ascii_ & (chars <= 16), chars, 0)
    for length in np.flatnonzero(np.bincount(short)[1:]) + 1:  # one block each: from words
        group = np.flatnonzero(short == length)
        step = max(_ROWS // (1 + int(length)), 1)
        for start in range(0, len(group), step):
            rows = group[start : start + step]
            out[rows, : 1 + length] = cmac.of_one_block_and_shorter(
                loads, offsets[rows], int(length)
            )
    rows = np.flatnonzero(ascii_ & (chars > 16))
    for at, block in _by_length(values.take(pa.array(rows))):
        n, length = block.shape  # more than one block: rare
        keep = np.array([np.delete(np.arange(length), i) for i in range(length)])
        shorter = block[:, keep].reshape(n * length, length - 1)
        out[rows[at], : 1 + length] = np.hstack(
            [cmac(block)[:, :1], cmac(shorter)[:, 0].reshape(n, length)]
        )
    rows = np.flatnonzero(usable & ~ascii_)
    out[rows, : out.shape[1]] = _near_by_position(values.take(pa.array(rows)), key, out.shape[1])
    return out


def _near_by_position(strings: pa.Array, key: bytes, width: int) -> NDArray[np.uint64]:
    """:func:`near_tokens` of any strings, by Arrow's string functions."""
    chars = pc.utf8_length(strings).to_numpy(zero_copy_only=False)
    out = np.zeros((len(strings), width), np.uint64)
    if not len(strings):
        return out
    out[:, 0] = aes_cmac_many(key, strings).view("<u8")[:, 0]
    for i in range(int(chars.max())):
        has = chars > i
        some = strings.filter(pa.array(has))
        shorter = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(some, 0, i),
            pc.utf8_slice_codeunits(some, i + 1, _NEAR_CHARS + 1),
            pa.scalar("", pa.large_string()),
        )
        out[has, 1 + i] = aes_cmac_many(key, shorter).view("<u8")[:, 0]
    return out


def tokens(
    values: pd.Series | pa.Array, key: bytes, *, prf: str = "aes-cmac"
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """The token of each value, by ``prf`` (``aes-cmac`` or ``hmac-sha256``).

    Returns
    -------
    tokens : ndarray of shape (n, 16), dtype uint8
        Zeros where the value is missing.
    present : ndarray of shape (n,), dtype bool
    """
    values = text(values)
    present = values.is_valid().to_numpy(zero_copy_only=False)
    if prf == "aes-cmac":  # faster on every value than finding the distinct ones first
        return _cmac_words(key, values).view(np.uint8), present
    # HMAC-SHA256: a Python call a value, each distinct one once.
    encoded = values.dictionary_encode()
    messages = encoded.dictionary.cast(pa.large_binary()).to_pylist()
    digests = np.frombuffer(b"".join(hmac_sha256_many(key, messages)), "<u8")
    codes = encoded.indices.fill_null(-1).to_numpy()
    out = np.zeros((len(values), 2), "<u8")  # two words a token: faster than 16 bytes
    out[present] = digests.reshape(-1, 4)[codes[present], :2]
    return out.view(np.uint8), present
