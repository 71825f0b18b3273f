"""Synthetic data shaped like the VLAIO/TBT -> VDAB exchange, with the truth.

One seeded call gives both sides and the links between them::

    >>> from linkage.synthetic import generate
    >>> exchange = generate(n_enterprises=200, seed=7)
    >>> sorted(exchange.tables())[:3]
    ['contacts', 'dossiers', 'employers']

The VLAIO/TBT side follows article 3 of the protocol: ``enterprises`` (Gegeven 2;
41% sole proprietorships, valid KBO numbers, Flemish addresses, legacy legal forms,
names that repeat across towns), ``establishments`` (most enterprises one unit, a
few chains hundreds), ``dossiers`` and their ``contacts`` (Gegeven 1) and ``staff``
(Gegeven 3, 450). VDAB's side holds ``employers`` and ``sites`` with VDAB's own ids:
noisy copies of about 70% of the enterprises and most of their units, plus records
VLAIO does not know, made by the :class:`NoiseModel`. ``truth_enterprises`` and
``truth_establishments`` give the true pairs. With ``duplicate_employers`` (a
share, off by default), VDAB holds some employers twice (``truth_duplicates``; see
:mod:`linkage.synthetic._duplicates`), for measuring :func:`linkage.dedupe`.

Reproducibility: one seed, one stream per table (and per part of a table) derived
from it by name, so the same seed gives the same tables on any machine, and a change
to one table does not move the others. The committed sample under
``data/synthetic/`` is ``generate(n_enterprises=2000, seed=7)`` written with
:meth:`SyntheticExchange.write`; :func:`load_sample` regenerates it (it takes well
under a second), so it works in a non-editable install too.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from linkage.synthetic import _dossiers, _duplicates, _enterprises, _io, _sites, _vdab
from linkage.synthetic._noise import NoiseModel

__all__ = [
    "SAMPLE_ENTERPRISES",
    "SAMPLE_SEED",
    "TABLES",
    "NoiseModel",
    "SyntheticExchange",
    "generate",
    "load_sample",
    "read_exchange",
]

log = logging.getLogger(__name__)

TABLES = tuple(_io.SCHEMA)
SAMPLE_ENTERPRISES = 2000
SAMPLE_SEED = 7
FULL_SCALE = 485_000


@dataclass(frozen=True, kw_only=True)
class SyntheticExchange:
    """Both sides of a synthetic exchange and the truth between them.

    Every table is a DataFrame with a RangeIndex; identifiers are strings (canonical
    10 digits on VLAIO's side, as written on VDAB's), missing values are None/NaT/NaN.
    Columns are listed in ``linkage.synthetic._io.SCHEMA``. ``truth_duplicates``
    (``employer_id``, ``duplicate_id``: the employers VDAB holds twice) is empty
    unless generated with ``duplicate_employers``; it is not one of :data:`TABLES`
    (``write`` leaves it out).
    """

    enterprises: pd.DataFrame = field(repr=False)
    establishments: pd.DataFrame = field(repr=False)
    dossiers: pd.DataFrame = field(repr=False)
    contacts: pd.DataFrame = field(repr=False)
    staff: pd.DataFrame = field(repr=False)
    employers: pd.DataFrame = field(repr=False)
    sites: pd.DataFrame = field(repr=False)
    truth_enterprises: pd.DataFrame = field(repr=False)
    truth_establishments: pd.DataFrame = field(repr=False)
    seed: int
    n_enterprises: int
    noise: NoiseModel = field(repr=False)
    duplicate_employers: float = 0.0
    truth_duplicates: pd.DataFrame = field(
        repr=False,
        default_factory=lambda: pd.DataFrame(
            {c: pd.Series(dtype=object) for c in _duplicates.DUPLICATE_COLUMNS}
        ),
    )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in the order of :data:`TABLES`."""
        return {name: getattr(self, name) for name in TABLES}

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables().items()}

    def manifest(self) -> dict[str, Any]:
        """What produced these tables: generator, seed, size and noise parameters."""
        manifest = {
            "generator": "linkage.synthetic",
            "seed": self.seed,
            "n_enterprises": self.n_enterprises,
            "noise": self.noise.as_dict(),
            "counts": self.counts(),
        }
        if self.duplicate_employers:  # absent when off: the manifests made before it
            manifest["duplicate_employers"] = self.duplicate_employers
        return manifest

    def write(self, out: str | os.PathLike[str], *, format: _io.Format = "parquet") -> Path:
        """Write every table (``<name>.parquet`` or ``.csv``) and ``manifest.json``
        into ``out``, atomically; same exchange, same bytes."""
        return _io.write(self.tables(), out, manifest=self.manifest(), format=format)


def generate(
    n_enterprises: int = FULL_SCALE,
    *,
    seed: int = 0,
    noise: NoiseModel | None = None,
    n_staff: int = 450,
    duplicate_employers: float = 0.0,
) -> SyntheticExchange:
    """Generate a synthetic exchange.

    Parameters
    ----------
    n_enterprises : int
        Enterprises on VLAIO/TBT's side (485,000 is full scale).
    seed : int
        Everything follows from it.
    noise : NoiseModel, optional
        Errors in VDAB's copies; ``NoiseModel()`` by default, ``NoiseModel.none()``
        for exact copies, ``NoiseModel.harder()`` for copies noisy enough that a
        linkage makes errors to look at.
    n_staff : int
        VLAIO/TBT staff members.
    duplicate_employers : float
        Share of the employers that copy an enterprise which VDAB holds twice (a
        second, independent noisy copy; ``truth_duplicates``). 0 (the default)
        leaves every table as it is without it.
    """
    from linkage.exceptions import ConfigError

    if not isinstance(n_enterprises, int) or n_enterprises < 1:
        raise ConfigError(f"n_enterprises: expected a positive integer, got {n_enterprises!r}")
    if n_enterprises > 5_000_000:
        raise ConfigError(f"n_enterprises: at most 5,000,000, got {n_enterprises:,}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: expected a non-negative integer, got {seed!r}")
    if not 0 <= duplicate_employers < 1:
        raise ConfigError(f"duplicate_employers: a share in [0, 1), got {duplicate_employers!r}")
    noise = NoiseModel() if noise is None else noise
    started = time.perf_counter()
    enterprises = _enterprises.enterprises(seed, n_enterprises)
    units = _enterprises.establishments(seed, enterprises)
    staff = _dossiers.staff(seed, n_staff)
    dossiers = _dossiers.dossiers(seed, enterprises, staff)
    contacts = _dossiers.contacts(seed, enterprises, dossiers)
    employers, truth_ent, linked, employer_row = _vdab.employers(seed, enterprises, units, noise)
    sites, truth_units = _sites.sites(
        seed, enterprises, units, employers, linked, employer_row, noise
    )
    employers, truth_duplicates = _duplicates.duplicate_employers(
        seed, enterprises, employers, duplicate_employers, noise
    )
    exchange = SyntheticExchange(
        enterprises=_public(enterprises, "enterprises"),
        establishments=_public(units, "establishments"),
        dossiers=_public(dossiers, "dossiers"),
        contacts=_public(contacts, "contacts"),
        staff=_public(staff, "staff"),
        employers=_public(employers, "employers"),
        sites=_public(sites, "sites"),
        truth_enterprises=_public(truth_ent, "truth_enterprises"),
        truth_establishments=_public(truth_units, "truth_establishments"),
        seed=seed,
        n_enterprises=n_enterprises,
        noise=noise,
        duplicate_employers=duplicate_employers,
        truth_duplicates=truth_duplicates,
    )
    log.debug("generated %s in %.1f s", exchange.counts(), time.perf_counter() - started)
    return exchange


def _public(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.loc[:, list(_io.SCHEMA[name])].reset_index(drop=True)


def read_exchange(directory: str | os.PathLike[str]) -> SyntheticExchange:
    """Read an exchange written by :meth:`SyntheticExchange.write` (Parquet or CSV)."""
    tables, manifest = _io.read(directory)
    noise: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in manifest["noise"].items()
    }
    return SyntheticExchange(
        **tables,
        seed=manifest["seed"],
        n_enterprises=manifest["n_enterprises"],
        noise=NoiseModel(**noise),
    )


def load_sample() -> SyntheticExchange:
    """The sample committed under ``data/synthetic/``: 2,000 enterprises, seed 7.

    Regenerated rather than read, so it needs no data files at run time; a test holds
    the committed files equal to it.
    """
    return generate(n_enterprises=SAMPLE_ENTERPRISES, seed=SAMPLE_SEED)
