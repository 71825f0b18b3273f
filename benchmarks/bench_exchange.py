"""The permanent feed's ``exchange run``: a first delivery, and a re-run after ~1% changed.

Run: ``LINKAGE_BENCH_SIZES=20000 pytest benchmarks/bench_exchange.py -q -s``.

Each size writes the synthetic exchange as the parties send it (VLAIO CSV, TBT
Parquet, with columns art. 3 does not list) into a fresh folder and runs the whole
exchange on it with one fixed key ring: read and validate, quality, pseudonymise,
link, write, diff, publish. The re-run first delivers once (untimed), then edits,
adds and removes about 1% of every party's records (seeded: ``perturb``) and times
the second run, which diffs against the first delivery. One round each (a run
changes the store it runs on). The link stage's seconds, from the run's manifest,
are recorded apart, as are the other stages'.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkage.exchange import load_config, run
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing

pytestmark = pytest.mark.benchmark

SIZES = (20_000, 100_000, 485_000)
#: Share of each extract's rows edited, added and removed in the re-run.
EDITED, ADDED, REMOVED = 0.004, 0.003, 0.003
_IDS = {"dossiers": "dossier_id", "contacts": "contact_id", "staff": "staff_id"}
_EDIT = {
    "enterprises": "name",
    "establishments": "name",
    "dossiers": "title",
    "contacts": "last_name",
    "staff": "last_name",
}


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return pd.read_parquet(path)


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def _new_numbers(taken: pd.Series, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` valid enterprise numbers (mod 97) that ``taken`` does not hold."""
    used = set(taken.astype(str))
    out: list[str] = []
    while len(out) < n:
        base = int(rng.integers(2_000_000, 19_999_999))
        number = f"{base * 100 + 97 - base % 97:010d}"
        if number not in used:
            used.add(number)
            out.append(number)
    return out


def perturb(config_path: Path, *, seed: int = 1) -> dict[str, int]:
    """Edit, add and remove ~1% of the records of every extract, in place.

    Edited: a text field gets a suffix. Added: copies of existing records under new
    ids (enterprises under new valid numbers; establishment units are only edited
    and removed). Removed: dropped. Returns how many records were touched.
    """
    rng = np.random.default_rng(seed)
    config = load_config(config_path)
    touched = 0
    for party, files in config.extracts.items():
        for name, path in files.items():
            frame = _read(path)
            n = len(frame)
            rows = rng.permutation(n)
            n_edit, n_add, n_drop = (max(1, int(n * f)) for f in (EDITED, ADDED, REMOVED))
            edit, drop = rows[:n_edit], rows[n_edit : n_edit + n_drop]
            column = frame.columns.get_loc(_EDIT[name])
            frame.iloc[edit, column] = frame.iloc[edit, column].fillna("").astype(str) + " (edited)"
            added = frame.iloc[rows[n_edit + n_drop : n_edit + n_drop + n_add]].copy()
            if name == "enterprises":
                added["enterprise_number"] = _new_numbers(
                    frame["enterprise_number"], len(added), rng
                )
            elif name == "establishments":
                added = added.iloc[:0]
            else:
                id_column = {"dossiers": "dossier_id", "contacts": "contact_id"}.get(
                    name, "staff_id"
                )
                added[id_column] = [f"NEW-{party}-{name}-{seed}-{i}" for i in range(len(added))]
            frame = pd.concat([frame.drop(index=frame.index[drop]), added], ignore_index=True)
            _write(frame, path)
            touched += len(edit) + len(drop) + len(added)
    return touched


@pytest.fixture
def exchange_folder(tmp_path: Path, synthetic_factory, request) -> Path:
    size = request.node.callspec.params["size"]
    path = write_exchange(synthetic_factory(size), tmp_path / "exchange", plurals=True)
    yield path
    shutil.rmtree(tmp_path / "exchange", ignore_errors=True)


def _record(bench, stage: str, size: int, result, seconds: float, peak, **extra) -> None:
    timings = result.manifest["timings"]
    link = sum(v for k, v in timings.items() if k.startswith("link_"))
    changes = result.manifest["changes"]
    changed = sum(sum(c.values()) for c in changes.values())
    stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if k != "total")
    bench.record(
        stage=stage,
        size=size,
        seconds=seconds,
        items=size,
        unit="enterprises",
        peak_mib=peak,
        link_s=link,
        link_share=link / seconds if seconds else None,
        timings=timings,
        rows_changed=changed,
        note=f"link {link:.1f} s of {seconds:.1f} s; {stages}",
        **extra,
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
def test_exchange_first_delivery(bench, ring, exchange_folder, size) -> None:
    config = load_config(exchange_folder)
    result, seconds, peak = bench.run(run, config, ring=ring, size=size, rounds=1)
    _record(bench, "exchange run: first", size, result, seconds, peak)


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // 1000}k")
def test_exchange_rerun_after_one_percent(bench, ring, exchange_folder, size) -> None:
    config = load_config(exchange_folder)
    run(config, ring=ring)
    touched = perturb(exchange_folder)
    result, seconds, peak = bench.run(run, config, ring=ring, size=size, rounds=1)
    assert result.manifest["previous_run_id"] is not None
    _record(bench, "exchange run: re-run 1%", size, result, seconds, peak, records_touched=touched)
