"""A frequency / pattern-mining attack on Bloom-filter encodings of names.

The adversary (the linking party, or anyone holding an encoded file) knows the
public list of names with their frequencies (the register) and the public
encoding parameters, not the key. As in the cryptanalysis of Christen, Schnell,
Vatsalan and Ranbaduge (PAKDD 2017), it works in two steps:

1. **Pattern mining**: the q-grams that are frequent in the public names set their
   bits together in the same share of filters. Taking the q-grams from the most
   frequent down, the attacker seeds with the unassigned bit set most often, takes
   the bits that are set in nearly every filter that has the seed (their
   co-occurrence, above ``1 - 2p`` of the seed's own frequency with BLIP ``p``), and
   assigns the group to the q-gram.
2. **Re-identification**: each filter is compared with each public name on the
   identified bits only (the bits the name's identified q-grams would set); the
   best-matching name is the attacker's guess when it beats the runner-up by a
   margin. A guess is a re-identification when it is the record's true name.

It reports the share of attacked filters re-identified. A plain numpy
implementation: one co-occurrence matrix of the bits, one matrix product for the
matching (on a sample of filters, all distinct public names).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.config import LinkSpec
from linkage.encoding._bloom import qgrams
from linkage.encoding._encode import Encoded
from linkage.encoding._params import EncodingParams
from linkage.encoding._read import as_words
from linkage.prepare import prepare

_NAMES_AT_A_TIME = 16_384

__all__ = ["AttackResult", "attack_encoded", "frequency_attack", "pattern_mining_attack"]


@dataclass(frozen=True)
class AttackResult:
    """What the attack found.

    Attributes
    ----------
    attacked : int
        Filters attacked (a sample of the file).
    reidentified : int
        Filters whose guess is the record's true name.
    guessed : int
        Filters with a confident guess, right or wrong.
    grams_found : int
        Q-grams assigned a group of bits, and ``grams_right`` of them rightly
        (when the true positions are given, for the report).
    """

    attacked: int
    reidentified: int
    guessed: int
    grams_found: int
    grams_right: int | None = None

    @property
    def share(self) -> float:
        """Share of attacked filters re-identified."""
        return self.reidentified / self.attacked if self.attacked else 0.0

    def __str__(self) -> str:
        return (
            f"{self.reidentified:,} of {self.attacked:,} filters re-identified "
            f"({100 * self.share:.3f} %); {self.guessed:,} guesses; "
            f"{self.grams_found} q-grams mined"
        )


def _unpack(words: NDArray[np.uint64]) -> NDArray[np.bool_]:
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)


def pattern_mining_attack(
    filters: NDArray[np.uint64],
    true_names: NDArray[np.object_],
    public_names: pd.Series,
    *,
    q: int,
    hashes: int,
    flip: float = 0.0,
    top_grams: int = 150,
    sample: int = 5_000,
    margin: float = 2.0,
    seed: int = 0,
) -> AttackResult:
    """Run the attack on ``filters`` (see the module docstring).

    Parameters
    ----------
    filters : ndarray of shape (n, words), dtype uint64
        The encoded names (as stored: hardened or not).
    true_names : ndarray of shape (n,), dtype object
        Each filter's true name, only to score the guesses.
    public_names : Series of str
        The public list of names, one row per enterprise (so counts are frequencies).
    q, hashes, flip : public encoding parameters.
    top_grams : int
        Most frequent q-grams the attacker tries to find.
    sample : int
        Filters attacked (seeded sample); the mining reads all of them.
    margin : float
        How many more agreeing bits the best name needs than the runner-up.
    """
    bits = _unpack(filters)
    n, length = bits.shape
    names = public_names.dropna().astype(str)
    distinct, counts = np.unique(names.to_numpy(object), return_counts=True)
    grams, rows = qgrams(distinct.astype(object), q=q)
    pairs = pd.DataFrame({"gram": grams, "row": rows}).drop_duplicates()
    weight = counts[pairs["row"].to_numpy()]
    gram_freq = (
        pd.Series(weight, index=pairs["gram"].to_numpy()).groupby(level=0).sum() / counts.sum()
    ).sort_values(ascending=False, kind="stable")
    # 1. Mining: bits of one q-gram are set together, in the records that hold it.
    as_float = bits.astype(np.float32)
    freq = as_float.mean(axis=0)
    covariance = (as_float.T @ as_float) / n - np.outer(freq, freq)
    np.fill_diagonal(covariance, 0.0)
    assigned = np.zeros(length, bool)
    candidates = gram_freq.iloc[: 2 * top_grams]
    taken: set[int] = set()
    groups: dict[int, NDArray[np.int64]] = {}
    for _ in range(4 * top_grams):
        if len(groups) >= top_grams:
            break
        open_bits = np.flatnonzero(~assigned)
        if open_bits.size < 2:
            break
        sub = covariance[np.ix_(open_bits, open_bits)]
        strongest = int(np.argmax(sub))
        a_bit, b_bit = open_bits[strongest // len(open_bits)], open_bits[strongest % len(open_bits)]
        top = covariance[a_bit, b_bit]
        if top <= 0:
            break
        members = open_bits[
            (covariance[a_bit, open_bits] >= 0.5 * top)
            & (covariance[b_bit, open_bits] >= 0.5 * top)
        ]
        members = np.union1d(members, [a_bit, b_bit])
        assigned[members] = True
        if len(members) < max(2, hashes // 2):
            continue
        # The group's frequency: records with most of its bits set; the q-gram of the
        # closest public frequency not yet taken.
        share = float((as_float[:, members].mean(axis=1) >= 0.7).mean())
        open_grams = [g for g in candidates.index if int(g) not in taken]
        if not open_grams:
            break
        gaps = np.abs(candidates.loc[open_grams].to_numpy() - share)
        gram = int(open_grams[int(np.argmin(gaps))])
        taken.add(gram)
        groups[gram] = members
    # 2. Matching: expected bits of each public name on the identified bits.
    if not groups:
        return AttackResult(min(sample, n), 0, 0, 0)
    found = list(groups)
    column = {g: k for k, g in enumerate(found)}
    positions = np.concatenate([groups[g] for g in found])
    owner = np.repeat(np.arange(len(found)), [len(groups[g]) for g in found])
    has = np.zeros((len(distinct), len(found)), np.float32)
    mine = pairs[pairs["gram"].isin(column)]
    has[mine["row"].to_numpy(), mine["gram"].map(column).to_numpy()] = 1.0
    expected = has[:, owner]  # (names, identified bits)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    observed = as_float[np.ix_(chosen, positions)]
    # Agreement: bits both set, plus bits both clear; names a block at a time, keeping
    # each filter's best and runner-up.
    first = np.full(len(chosen), -np.inf, np.float32)
    second = np.full(len(chosen), -np.inf, np.float32)
    best = np.zeros(len(chosen), np.int64)
    clear = 1 - observed
    for start in range(0, len(distinct), _NAMES_AT_A_TIME):
        block = expected[start : start + _NAMES_AT_A_TIME]
        agree = observed @ block.T + clear @ (1 - block).T
        top = np.argmax(agree, axis=1)
        top_value = agree[np.arange(len(chosen)), top]
        agree[np.arange(len(chosen)), top] = -np.inf
        runner = agree.max(axis=1) if agree.shape[1] > 1 else np.full(len(chosen), -np.inf)
        better = top_value > first
        second = np.where(better, np.maximum(first, runner), np.maximum(second, top_value))
        best = np.where(better, start + top, best)
        first = np.where(better, top_value, first)
    confident = (first - second) >= margin
    right = distinct[best] == np.asarray(true_names)[chosen]
    return AttackResult(
        attacked=len(chosen),
        reidentified=int((confident & right).sum()),
        guessed=int(confident.sum()),
        grams_found=len(found),
    )


def frequency_attack(
    keys: NDArray[np.uint64], true_names: NDArray[np.object_], public_names: pd.Series
) -> AttackResult:
    """Frequency alignment on deterministic encodings of names (tokens, blocking bands).

    Records whose encodings are equal (``keys``: one row per record, e.g. all its
    blocking bands) form groups; a group of ``c`` records is re-identified when
    exactly one public name occurs ``c`` times, and is that group's true name.
    """
    frame = pd.DataFrame(np.ascontiguousarray(keys).view(np.uint64).reshape(len(keys), -1))
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    sizes = np.bincount(group)[group]
    counts = public_names.dropna().astype(str).value_counts()
    by_count = counts.groupby(counts.to_numpy()).size()
    unique_counts = set(by_count[by_count == 1].index)
    name_of_count = {int(c): n for n, c in counts.items() if c in unique_counts}
    guessed = pd.Series(sizes).map(name_of_count)
    right = (guessed.to_numpy(object) == np.asarray(true_names, dtype=object)) & guessed.notna()
    return AttackResult(
        attacked=len(keys),
        reidentified=int(np.asarray(right).sum()),
        guessed=int(guessed.notna().sum()),
        grams_found=0,
    )


def attack_encoded(
    encoded: Encoded,
    table: pd.DataFrame,
    spec: LinkSpec,
    *,
    field: str | None = None,
    sample: int = 5_000,
    mine_on: int = 100_000,
    seed: int = 0,
) -> dict[str, AttackResult]:
    """Both attacks on one party's encoded names, scored against its clear table.

    The public list is the table's own prepared names, with their frequencies: the
    adversary's best case (the register holds every encoded enterprise).

    Parameters
    ----------
    encoded : Encoded
        The party's encodings (``bloom:<field>`` and, if made, ``lsh:<field>:<band>``).
    table : DataFrame
        The clear table it was made from, in the same row order.
    spec : LinkSpec
    field : str, optional
        The fuzzy field attacked; the first Bloom-filter field by default.
    sample : int
        Filters matched against the public names.
    mine_on : int
        Filters the pattern mining reads (a seeded sample, for memory).

    Returns
    -------
    dict
        ``pattern_mining`` (on the Bloom filters), ``frequency`` (alignment on the
        blocking bands, when the file has them) and ``frequency_unique`` (on the
        bands across postcodes of the names held once).
    """
    description = encoded.description
    params = EncodingParams.from_dict(description["params"])  # type: ignore[arg-type]
    side = str(description["side"])
    field = field or next(c[len("bloom:") :] for c in encoded.table.column_names if "bloom:" in c)
    made = next(f for f in spec.fields if f.name == field)
    names = prepare(table, [made], side=side)[field]  # type: ignore[arg-type]
    words, present = as_words(encoded.table[f"bloom:{field}"])
    rows = np.flatnonzero(present)
    rng = np.random.default_rng(seed)
    if len(rows) > mine_on:
        rows = np.sort(rng.choice(rows, size=mine_on, replace=False))
    truth = names.to_numpy(object)
    out = {
        "pattern_mining": pattern_mining_attack(
            np.asarray(words, dtype=np.uint64)[rows],
            truth[rows],
            names,
            q=params.q,
            hashes=params.hashes,
            flip=params.flip,
            sample=sample,
            seed=seed,
        )
    }
    bands = [c for c in encoded.table.column_names if c.startswith(f"lsh:{field}:")]
    if bands:
        keys = np.stack([np.asarray(as_words(encoded.table[c])[0])[:, 0] for c in bands], axis=1)
        public = names
        if params.lsh_salt is not None:
            # Bands keyed by a salt (the postcode): the adversary counts names per
            # postcode in the register, which it also holds.
            salt = next(f for f in spec.fields if f.name == params.lsh_salt)
            salts = prepare(table, [salt], side=side)[params.lsh_salt]  # type: ignore[arg-type]
            public = names + "\x1f" + salts.fillna("").astype(str)
        keyed = public.to_numpy(object)
        out["frequency"] = frequency_attack(keys[present], keyed[present], public)
    across = [c for c in encoded.table.column_names if c.startswith(f"lsh_unique:{field}:")]
    if across:
        keys = np.stack([np.asarray(as_words(encoded.table[c])[0])[:, 0] for c in across], axis=1)
        held = np.asarray(encoded.table[across[0]].is_valid().to_numpy(zero_copy_only=False))
        out["frequency_unique"] = frequency_attack(keys[held], truth[held], names)
    return out
