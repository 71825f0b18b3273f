"""VDAB's side of the feed's links, made before them (``prepare_vdab_side``): the
same in one thread or two, and a field missing a VDAB column left to the link."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linkage.exchange._links as feedlinks
from linkage.exchange import load_config
from linkage.exchange._demo import write_exchange
from linkage.synthetic import generate


@pytest.fixture
def config(tmp_path: Path):
    return load_config(write_exchange(generate(n_enterprises=800, seed=11), tmp_path))


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.read_parquet(path)


def _write(rows: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        rows.to_csv(path, index=False)
    else:
        rows.to_parquet(path, index=False)


def _edit(config, seed: int) -> None:
    """Rename a few employers, sites and enterprises, clear their address and
    contacts (and VDAB's their numbers), drop a few others, in place."""
    rng = np.random.default_rng(seed)
    party = next(iter(config.parties))
    for path in (config.employers, config.sites, config.extracts[party]["enterprises"]):
        rows = _read(path)
        order = rng.permutation(len(rows))
        edit, drop = order[:8], order[8:12]
        rows.iloc[edit, rows.columns.get_loc("name")] = [f"Zzyzx {seed} {k}" for k in edit]
        for column in ("postcode", "street", "phone", "email", "website"):
            if column in rows:
                rows.iloc[edit, rows.columns.get_loc(column)] = None
        for column in ("enterprise_number", "establishment_number"):  # VDAB's copies
            if column in rows and "employer_id" in rows:
                rows.iloc[edit, rows.columns.get_loc(column)] = None
        _write(rows.drop(index=rows.index[drop]).reset_index(drop=True), path)


def _same_side(one: feedlinks.VdabSide, two: feedlinks.VdabSide) -> None:
    for name in feedlinks.LINKS:
        pd.testing.assert_frame_equal(one.frames[name], two.frames[name])
        pd.testing.assert_frame_equal(one.prints[name].table(), two.prints[name].table())
        assert one.prepared[name].keys() == two.prepared[name].keys()
        for field, values in one.prepared[name].items():
            pd.testing.assert_series_equal(values, two.prepared[name][field], obj=field)


@pytest.mark.parametrize("seed", [None, 1])
def test_vdab_side_is_the_same_in_one_thread_or_two(config, seed) -> None:
    """As generated, and with records renamed, emptied and dropped."""
    if seed is not None:
        _edit(config, seed)
    employers, sites = _read(config.employers), _read(config.sites)
    one = feedlinks.prepare_vdab_side(employers, sites, config.links, threads=1)
    two = feedlinks.prepare_vdab_side(employers, sites, config.links, threads=2)
    _same_side(one, two)
    fields = {f.name for f in config.links["establishments"].spec.fields}
    assert set(two.prepared["establishments"]) == fields


def test_fields_missing_a_column_of_vdab_are_left_to_the_link(config) -> None:
    """Not prepared beforehand: the link leaves such a field out or narrows it
    (:meth:`LinkSpec.for_columns`)."""
    spec = config.links["enterprises"].spec
    employers = pd.DataFrame({"employer_id": [1, 2], "name": ["Acme", None]})
    prepared = feedlinks._prepared_right(employers, spec, threads=2)
    assert set(prepared) == {f.name for f in spec.fields if f.source_for("right") == ("name",)}
    assert list(feedlinks._right_frame(employers, spec, "enterprises")) == ["employer_id", "name"]


def test_a_feed_run_makes_vdab_side_beside_its_shaping(config, monkeypatch) -> None:
    """A first delivery and a re-run, each in a thread started before its shaping
    (which leaves a core idle: it hashes, holding the GIL), the links then taking it
    as made. A re-run of the same inputs changes no link."""
    import threading

    from linkage.exchange import _run, run
    from linkage.keys import KeyRing

    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    made: list[str] = []
    events: list[str] = []
    prepare, shaped, beside = feedlinks.prepare_vdab_side, _run.shaped, _run.Beside

    def noted(*args, **kwargs):
        made.append(threading.current_thread().name)
        return prepare(*args, **kwargs)

    def shaping(*args, **kwargs):
        events.append("shaping")
        return shaped(*args, **kwargs)

    def started(fn, /, *args, **kwargs):
        events.append(fn.__name__)
        return beside(fn, *args, **kwargs)

    monkeypatch.setattr(_run, "prepare_vdab_side", noted)
    monkeypatch.setattr(feedlinks, "prepare_vdab_side", noted)
    monkeypatch.setattr(_run, "shaped", shaping)
    monkeypatch.setattr(_run, "Beside", started)
    first = run(config, ring=ring)
    assert len(made) == 1 and made[0].startswith("beside")
    assert events.index("noted") < events.index("shaping")
    events.clear()
    again = run(config, ring=ring)
    assert len(made) == 2 and made[1].startswith("beside")
    assert events.index("noted") < events.index("shaping")
    for name in ("links_enterprises", "links_establishments"):
        assert again.manifest["changes"][name] == {"added": 0, "changed": 0, "removed": 0}
        assert (
            first.manifest["outputs"][name]["sha256"] == again.manifest["outputs"][name]["sha256"]
        )
