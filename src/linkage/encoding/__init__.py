"""Linkage on encodings: where the two parties' clear data must not meet.

Each party encodes its own table (:func:`encode`, ``linkage encode``): the spec's
prepared fields become keyed HMAC tokens (exact-compared fields) and keyed,
hardened Bloom filters of q-grams (fuzzy fields), under keys derived from the
exchange's key ring. A linking party that holds no key links the two files
(:func:`link_encoded`, ``linkage link --encoded``) with the engine's own stages:
blocking on tokens and LSH bands, Dice levels, the Fellegi-Sunter model, one-to-one.
:func:`attack_encoded` measures what a frequency / pattern-mining adversary re-identifies.
See docs/encodings.md.
"""

from __future__ import annotations

from linkage.encoding._attack import (
    AttackResult,
    attack_encoded,
    frequency_attack,
    pattern_mining_attack,
)
from linkage.encoding._encode import Encoded, encode, write_encoded
from linkage.encoding._link import EncodedLinkResult, link_encoded
from linkage.encoding._params import EncodingParams
from linkage.encoding._read import read_encoded

__all__ = [
    "AttackResult",
    "Encoded",
    "EncodedLinkResult",
    "EncodingParams",
    "attack_encoded",
    "encode",
    "frequency_attack",
    "link_encoded",
    "pattern_mining_attack",
    "read_encoded",
    "write_encoded",
]
