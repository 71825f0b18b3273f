"""Shared vectorised helpers: seeded child generators, identifiers, dates, strings.

Nothing here loops over records in Python: identifiers are built as digit matrices
and viewed as fixed-width byte strings; strings are assembled with ``+`` on object
arrays (one C-level loop per operation).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linkage.synthetic._pools import PHONE_ZONES

_EPOCH = np.datetime64("1970-01-01", "D")


def child_rng(seed: int, *path: str) -> np.random.Generator:
    """The generator for one table (or one part of it), independent of all others.

    ``SeedSequence(seed, spawn_key=...)`` is what ``SeedSequence(seed).spawn`` gives,
    with the spawn key taken from the name instead of the position: adding a table or
    a column never shifts the random streams of the others.
    """
    key = tuple(zlib.crc32(part.encode()) for part in path)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def zero_pad(values: NDArray[np.integer], width: int) -> NDArray[np.str_]:
    """Non-negative integers as zero-padded strings of ``width`` digits."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers[None, :]) % 10
    return digits_to_str(digits)


def digits_to_str(digits: NDArray[np.integer]) -> NDArray[np.str_]:
    """A matrix of digits (or ASCII codes >= 48) of shape (n, width) as strings."""
    digits = np.asarray(digits)
    codes = np.where(digits < 10, digits + 48, digits).astype(np.uint8)
    width = codes.shape[1]
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}")


def str_to_digits(numbers: NDArray[np.str_], width: int) -> NDArray[np.uint8]:
    """Strings of exactly ``width`` ASCII digits as a (n, width) matrix of digits."""
    raw = np.asarray(numbers, dtype=f"S{width}")
    return raw.view(np.uint8).reshape(-1, width) - np.uint8(48)


def numbers_from_bases(bases: NDArray[np.int64]) -> NDArray[np.str_]:
    """Valid 10-digit numbers: the 8-digit base, then ``97 - base % 97``."""
    bases = np.asarray(bases, dtype=np.int64)
    return zero_pad(bases * 100 + (97 - bases % 97), 10)


def unique_integers(
    rng: np.random.Generator,
    low: int,
    high: int,
    size: int,
    *,
    exclude: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """``size`` distinct integers in ``[low, high)``, in random order, none in ``exclude``."""
    if high - low < size:
        raise ValueError(f"cannot draw {size:,} distinct integers from {high - low:,}")
    excluded = np.empty(0, dtype=np.int64) if exclude is None else np.sort(exclude)
    extra = int(excluded.size * size / (high - low) * 1.5) + 64 if excluded.size else 0
    while True:  # a loop over attempts, not records; one pass unless exclude is dense
        draw = rng.choice(high - low, size=min(size + extra, high - low), replace=False) + low
        if excluded.size:
            at = np.minimum(np.searchsorted(excluded, draw), excluded.size - 1)
            draw = draw[excluded[at] != draw]
        if draw.size >= size or extra >= high - low:
            return draw[:size].astype(np.int64)
        extra *= 2


def random_days(
    rng: np.random.Generator, start: str, end: str, size: int, *, recent: float = 0.0
) -> NDArray[np.datetime64]:
    """Dates in ``[start, end]``; ``recent`` > 0 skews them toward ``end``."""
    lo = np.datetime64(start, "D")
    span = int((np.datetime64(end, "D") - lo).astype(np.int64)) + 1
    u = rng.random(size)
    if recent:
        u = u ** (1.0 / (1.0 + recent))
    return lo + (u * span).astype(np.int64).astype("timedelta64[D]")


def as_datetime(days: NDArray[np.datetime64], mask: NDArray[np.bool_] | None = None) -> pd.Series:
    """Dates as a ``datetime64[ns]`` Series, NaT where ``mask`` is False."""
    out = days.astype("datetime64[ns]")
    if mask is not None:
        out = np.where(mask, out, np.datetime64("NaT", "ns"))
    return pd.Series(out)


def choose(
    rng: np.random.Generator, pool: NDArray[np.object_], size: int, p: NDArray[np.float64] | None
) -> NDArray[np.object_]:
    """``size`` draws from ``pool`` with probabilities ``p``."""
    return pool[rng.choice(len(pool), size=size, p=p)]


def with_missing(values: NDArray[np.object_], missing: NDArray[np.bool_]) -> NDArray[np.object_]:
    """``values`` with None where ``missing``."""
    out = np.asarray(values, dtype=object).copy()
    out[missing] = None
    return out


def _on_uniques(values: pd.Series | NDArray[np.object_], fn) -> NDArray[np.object_]:
    # names repeat a lot: transform each distinct value once, then gather
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    done = fn(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = done[codes[ok]]
    out[~ok] = None
    return out


def _ascii_lower(s: pd.Series) -> pd.Series:
    return s.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()


def slug(names: pd.Series | NDArray[np.object_]) -> NDArray[np.object_]:
    """Lower-case ASCII letters and digits of a name, for web and e-mail domains."""
    return _on_uniques(names, lambda s: _ascii_lower(s).str.replace(r"[^a-z0-9]+", "", regex=True))


def local_part(names: pd.Series | NDArray[np.object_]) -> NDArray[np.object_]:
    """A person's name as the local part of an e-mail address (``de.smet``)."""
    return _on_uniques(
        names,
        lambda s: _ascii_lower(s).str.replace(r"[^a-z0-9]+", ".", regex=True).str.strip("."),
    )


_ZONE_STARTS = np.array([start for start, _ in PHONE_ZONES], dtype=np.int64)
_ZONES = np.array([zone for _, zone in PHONE_ZONES], dtype=object)
_ZONE_LENGTHS = np.array([len(zone) for _, zone in PHONE_ZONES], dtype=np.int64)


def phone_numbers(
    rng: np.random.Generator, postcodes: NDArray[np.integer], mobile: NDArray[np.bool_]
) -> NDArray[np.object_]:
    """Belgian numbers in E.164 (``+3292234567``): landlines in the postcode's zone,
    or mobiles (``+32475...``) where ``mobile``."""
    n = len(postcodes)
    which = np.searchsorted(_ZONE_STARTS, np.asarray(postcodes), side="right") - 1
    zone = _ZONES[which]
    # zone + subscriber number make 8 digits; a subscriber number never starts with 0 or 1
    subscriber = rng.integers(2_000_000, 10_000_000, size=n, dtype=np.int64)
    sub7 = zero_pad(subscriber, 7).astype(object)
    sub6 = zero_pad(subscriber // 10, 6).astype(object)
    landline = "+32" + zone + np.where(_ZONE_LENGTHS[which] == 1, sub7, sub6)
    prefix = rng.choice(
        np.array(
            [
                "470",
                "471",
                "472",
                "473",
                "474",
                "475",
                "476",
                "477",
                "478",
                "479",
                "484",
                "485",
                "486",
                "487",
                "488",
                "489",
                "491",
                "492",
                "493",
                "494",
                "495",
                "496",
                "497",
                "498",
                "499",
            ],
            dtype=object,
        ),
        size=n,
    )
    cell = "+32" + prefix + zero_pad(rng.integers(0, 1_000_000, size=n), 6).astype(object)
    return np.where(mobile, cell, landline)
