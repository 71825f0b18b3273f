"""The parameters of an encoding: Bloom filters, hardening, LSH blocking, Dice levels.

They are public: both parties encode with the same ones, and the linking party reads
them from the files (Parquet schema metadata, :data:`METADATA_KEY`). Nothing here is
secret; the secret is the key (:mod:`linkage.keys`), which never leaves a party.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from linkage.exceptions import ConfigError

__all__ = ["FORMAT", "METADATA_KEY", "EncodingParams"]

#: What an encoded file says it is, and the version of its layout.
FORMAT = "linkage-encodings/2"  # 2: AES-CMAC tokens, near tokens, bands four MinHashes a word
#: The Parquet schema metadata key holding the encoding's description (JSON).
METADATA_KEY = b"linkage.encoding"


@dataclass(frozen=True, kw_only=True)
class EncodingParams:
    """How fields are encoded; the same on both sides of a link.

    Attributes
    ----------
    token_prf : {"aes-cmac", "hmac-sha256"}
        The keyed function of the tokens, both standard pseudorandom functions of
        128 bits under the field's 256-bit key: AES-CMAC (NIST SP 800-38B), one AES
        call per CBC step over all values at once, or HMAC-SHA256 truncated, a Python
        call per distinct value, about 6 times slower.
    bits : int
        Length of each Bloom filter, a multiple of 64 (packed as uint64 words).
    hashes : int
        Bit positions per q-gram (double hashing of its keyed HMAC-SHA256).
    target_bits : int
        Positions a filter sets, about: a value of few q-grams sets more per q-gram
        (at least ``hashes``), so that short names compare as surely as long ones
        under BLIP and the count of set bits no longer tells the length; 0: ``hashes``
        per q-gram for every value.
    q : int
        q-gram length (2: bigrams), of the value padded with a space each side.
    flip : float
        Hardening by BLIP (randomised response on bits): each bit is inverted with
        this probability, from a keyed stream seeded by the record id, so that two
        records with one value do not share an encoding. Rounded to a multiple of
        1/64. The privacy parameter per bit is ``ln((1 - flip) / flip)``.
    salt : str or None
        Hardening by salting: a field (the postcode) whose value, under the key,
        permutes the bit positions of every filter and keys the blocking bands, so
        that equal names in two postcodes share no pattern. Records whose salts
        differ then compare only on their tokens. None: no salt.
    lsh_salt : str or None
        A token field (the postcode) that keys the blocking bands too, so that equal
        names in two postcodes share no band: group sizes of equal names then no
        longer show across the file. None: bands across the whole file.
    lsh_unique : bool
        With ``lsh_salt``, also bands across salts for the values a party holds
        once in its file (most names): an enterprise that moved still meets its
        record, and a band shared across postcodes groups one record a file.
    fold : bool
        XOR-fold each filter once (its two halves XOR-ed: half the length).
    seed : int
        Seed of the BLIP stream (with the key and the record id).
    lsh_bands : int
        Blocking bands per fuzzy field that a rule needing clear values blocked on
        (keyed MinHash of the q-gram set, made by the encoding party:
        :mod:`linkage.encoding._lsh`).
    lsh_rows : int
        MinHashes per band: two values meet in a band with probability
        ``jaccard ** lsh_rows``.
    lsh_max_block : int
        Pairs of one band's block at most; larger blocks are skipped and counted.
    dice : mapping of str to tuple of float
        Dice thresholds per similarity comparison (by name), tightest first, one per
        level of the comparison above ``else``: the last (tightest) is its "exact".
        A comparison not named gets :attr:`default_dice`.
    default_dice : tuple of float
        Thresholds for comparisons not in ``dice``; the leading ones are used.
    """

    token_prf: Literal["aes-cmac", "hmac-sha256"] = "aes-cmac"
    bits: int = 1024
    hashes: int = 10
    target_bits: int = 300
    q: int = 2
    flip: float = 8 / 64
    salt: str | None = None
    lsh_salt: str | None = "postcode"
    lsh_unique: bool = True
    fold: bool = False
    seed: int = 0
    lsh_bands: int = 16
    lsh_rows: int = 5
    lsh_max_block: int = 1_000
    dice: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    default_dice: tuple[float, ...] = (0.93, 0.80, 0.66, 0.52)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dice", {k: tuple(v) for k, v in dict(self.dice).items()})
        object.__setattr__(self, "default_dice", tuple(self.default_dice))
        if self.bits < 64 or self.bits % (128 if self.fold else 64):
            raise ConfigError(
                f"encoding bits must be a multiple of {128 if self.fold else 64} "
                f"(>= 64), got {self.bits}"
            )
        if not 1 <= self.hashes <= 64 or not 1 <= self.q <= 3:
            raise ConfigError(
                f"encoding needs 1 <= hashes <= 64 and 1 <= q <= 3, got {self.hashes}, {self.q}"
            )
        if self.token_prf not in ("aes-cmac", "hmac-sha256"):
            raise ConfigError(
                f"token_prf must be 'aes-cmac' or 'hmac-sha256', got {self.token_prf!r}"
            )
        if not 0 <= self.flip < 0.5:
            raise ConfigError(f"encoding flip is a probability in [0, 0.5), got {self.flip}")
        object.__setattr__(self, "flip", round(self.flip * 64) / 64)
        if self.lsh_bands < 0 or not 1 <= self.lsh_rows <= 16:
            raise ConfigError(
                f"lsh_bands must be >= 0 and lsh_rows 1..16, got {self.lsh_bands}, {self.lsh_rows}"
            )

    @property
    def stored_bits(self) -> int:
        """Length of a filter as stored (halved by ``fold``)."""
        return self.bits // 2 if self.fold else self.bits

    def thresholds(self, name: str, n: int) -> tuple[float, ...]:
        """The ``n`` Dice thresholds (tightest first) of comparison ``name``."""
        found = self.dice.get(name)
        if found is None:
            found = self.default_dice[:n]
        if len(found) != n:
            raise ConfigError(
                f"comparison {name!r} needs {n} Dice thresholds (tightest first), got {found}"
            )
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        """As plain data (JSON), read back by :meth:`from_dict`."""
        out = asdict(self)
        out["dice"] = {k: list(v) for k, v in self.dice.items()}
        out["default_dice"] = list(self.default_dice)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str = "encoding") -> EncodingParams:
        """From plain data; unknown keys are refused in one line."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown encoding parameter(s) {unknown}")
        return cls(**dict(raw))
