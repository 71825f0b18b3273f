"""VDAB's side of the feed's links made beforehand (``prepare_vdab_side``): the same
links, changes, fingerprints, models and state as when the links make it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linkage.exchange._links as feedlinks
from linkage.exchange import _run, load_config, run
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


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


def _assert_same(feed: feedlinks.FeedLinks, twin: feedlinks.FeedLinks) -> None:
    for name in ("tables", "changes"):
        ours, theirs = getattr(feed, name), getattr(twin, name)
        assert ours.keys() == theirs.keys()
        for key in ours:
            pd.testing.assert_frame_equal(ours[key], theirs[key], obj=f"{name}[{key}]")
    assert feed.fingerprints.keys() == twin.fingerprints.keys()
    for key, done in feed.fingerprints.items():
        pd.testing.assert_frame_equal(done.table(), twin.fingerprints[key].table())
    assert {k: m.to_dict() for k, m in feed.models.items()} == {
        k: m.to_dict() for k, m in twin.models.items()
    }
    assert feed.timings.keys() == twin.timings.keys()
    assert (feed.specs, feed.refitted) == (twin.specs, twin.refitted)


def _state_files(folder: Path, feed: feedlinks.FeedLinks) -> dict[str, bytes]:
    folder.mkdir()
    feedlinks.write_state(folder, feed)
    return {p.name: p.read_bytes() for p in sorted((folder / "state").iterdir())}


def test_a_vdab_side_made_beforehand_links_as_one_made_inside(
    config, ring: KeyRing, monkeypatch, tmp_path: Path
) -> None:
    """A first delivery, two re-runs with records edited and removed on both sides,
    and a refit: the same tables, changes, fingerprints, models and state files."""
    feeds = []

    def both(enterprises, establishments, employers, sites, vdab_side, **kwargs):
        assert vdab_side is not None  # the run makes it beside its quality checks
        # The run's (two threads), or one made here in one thread, alternately.
        side = (
            vdab_side
            if len(feeds) % 2
            else feedlinks.prepare_vdab_side(employers, sites, kwargs["settings"], threads=1)
        )
        early = feedlinks.link_to_vdab(
            enterprises, establishments, employers, sites, vdab_side=side, **kwargs
        )
        inside = feedlinks.link_to_vdab(enterprises, establishments, employers, sites, **kwargs)
        feeds.append((early, inside))
        return early

    monkeypatch.setattr(_run, "link_to_vdab", both)
    run(config, ring=ring, today=TODAY)
    for seed in (1, 2):
        _edit(config, seed)
        run(config, ring=ring, today=TODAY)
    run(config, ring=ring, today=TODAY, refit=True)
    assert len(feeds) == 4
    reasons = {r for early, _ in feeds[1:3] for c in early.changes.values() for r in c["reason"]}
    assert {"right changed", "right gone"} <= reasons, reasons
    for number, (early, inside) in enumerate(feeds):
        _assert_same(early, inside)
        ours = _state_files(tmp_path / f"early{number}", early)
        assert ours == _state_files(tmp_path / f"inside{number}", inside)


def test_a_vdab_side_of_other_records_or_specs_is_refused(config) -> None:
    employers, sites = _read(config.employers), _read(config.sites)
    specs = {name: config.links[name].spec for name in feedlinks.LINKS}
    side = feedlinks.prepare_vdab_side(employers, sites, config.links)
    side.check(employers, sites, specs)
    assert set(side.prepared["establishments"]) == {f.name for f in specs["establishments"].fields}
    with pytest.raises(ValueError, match="other employers or sites"):
        side.check(employers, sites.copy(), specs)
    with pytest.raises(ValueError, match="other link specs"):
        side.check(employers, sites, {"enterprises": specs["enterprises"]})


def test_fields_missing_a_column_of_vdab_are_left_to_the_link(config) -> None:
    """Not prepared beforehand: the link leaves such a field out or narrows it
    (:meth:`LinkSpec.for_columns`)."""
    spec = config.links["enterprises"].spec
    employers = pd.DataFrame({"employer_id": [1, 2], "name": ["Acme", None]})
    prepared = feedlinks._prepared_right(employers, spec, threads=2)
    assert set(prepared) == {f.name for f in spec.fields if f.source_for("right") == ("name",)}
    assert list(feedlinks._right_frame(employers, spec, "enterprises")) == ["employer_id", "name"]
