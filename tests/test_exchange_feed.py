"""The permanent feed's links: frozen models, incremental re-links, stable links, reasons."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linkage.exchange._checks as _checks
import linkage.exchange._fingerprints as _fingerprints
import linkage.exchange._links as feedlinks
from linkage.cli import main
from linkage.exceptions import ConfigError
from linkage.exchange import _run, load_config, preview_refit, purge, read_delivery, run
from linkage.exchange._demo import write_exchange
from linkage.exchange._fingerprints import codes, fingerprint, text
from linkage.keys import KeyRing
from linkage.model import FellegiSunter
from linkage.pipeline import Increment, ParentLinks, link
from linkage.presets import enterprises as enterprises_spec
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def exchange():
    return generate(n_enterprises=1_500, seed=5)


@pytest.fixture
def config(tmp_path: Path, exchange):
    return load_config(write_exchange(exchange, tmp_path))


def _links(store: Path) -> pd.DataFrame:
    delivery = read_delivery(store)
    numbers = delivery.table("enterprises")[["enterprise_key", "enterprise_number"]]
    links = delivery.table("links_enterprises").merge(numbers.drop_duplicates())
    return (
        links[["enterprise_number", "employer_id", "match_probability"]]
        .drop_duplicates()
        .sort_values("enterprise_number")
        .reset_index(drop=True)
    )


def _state(store: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(read_delivery(store).path / "state" / name)


def test_rerun_with_the_same_inputs_changes_no_link(config, ring: KeyRing) -> None:
    first = run(config, ring=ring, today=TODAY)
    assert first.manifest["links"]["changed"]["enterprises"] == {
        "first delivery": first.manifest["links"]["enterprises"]
    }
    before = _links(config.store)
    second = run(config, ring=ring, today=TODAY)
    links = second.manifest["links"]
    assert links["changed"] == {"enterprises": {}, "establishments": {}}
    assert all(m["frozen"] for m in links["models"].values())
    # The frozen model is the first run's, byte for byte.
    assert {k: m["sha256"] for k, m in links["models"].items()} == {
        k: m["sha256"] for k, m in first.manifest["links"]["models"].items()
    }
    pd.testing.assert_frame_equal(_links(config.store), before)


def test_seven_corrected_rows_change_only_their_links(config, ring: KeyRing) -> None:
    run(config, ring=ring, today=TODAY)
    before = _links(config.store)
    path = config.extracts["VLAIO"]["enterprises"]
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    corrected = rows.index[rows["enterprise_number"].isin(before["enterprise_number"])][:7]
    rows.loc[corrected, "name"] = "Zzyzx Quantum " + rows.loc[corrected, "enterprise_number"]
    rows.loc[corrected, ["street", "postcode", "phone", "email", "website"]] = [
        "Nergensstraat",
        "9999",
        "",
        "",
        "",
    ]
    rows.to_csv(path, index=False)
    second = run(config, ring=ring, today=TODAY)
    numbers = set(rows.loc[corrected, "enterprise_number"])
    changes = _state(config.store, "link_changes_enterprises.parquet")
    # Each changed link names its reason; only the corrected enterprises changed, or
    # the ones that took an employer they let go.
    assert set(changes["reason"]) <= {"left changed", "partner let go"}
    assert (changes["reason"] == "left changed").any()
    assert set(changes.loc[changes["reason"] == "left changed", "enterprise_number"]) <= numbers
    freed = set(changes.loc[changes["enterprise_number"].isin(numbers), "employer_id_before"])
    others = changes[~changes["enterprise_number"].isin(numbers)]
    assert set(others["employer_id_after"]) <= freed
    assert sum(second.manifest["links"]["changed"]["enterprises"].values()) == len(changes)
    # Every other link is as it was, probability and all.
    after = _links(config.store)
    untouched = set(before["enterprise_number"]) - numbers - set(others["enterprise_number"])
    keep = before["enterprise_number"].isin(untouched)
    pd.testing.assert_frame_equal(
        after[after["enterprise_number"].isin(untouched)].reset_index(drop=True),
        before[keep].reset_index(drop=True),
    )


def test_refit_is_explicit_and_reported(config, ring: KeyRing) -> None:
    run(config, ring=ring, today=TODAY)
    again = run(config, ring=ring, today=TODAY, refit=True)
    links = again.manifest["links"]
    assert not any(m["frozen"] for m in links["models"].values())
    assert set(links["changed"]["enterprises"]) <= {"refit"}


def test_a_purge_keeps_the_frozen_models_and_no_fingerprint_of_the_party(
    config, ring: KeyRing
) -> None:
    run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store)
    frozen = (before.path / "state" / "model_enterprises.json").read_bytes()
    parties = before.table("enterprises").groupby("enterprise_number")["party"].agg(set)
    tbt_only = set(parties[parties == {"TBT"}].index)
    assert tbt_only
    purge(config, party="TBT")
    state = read_delivery(config.store).path / "state"
    left = pd.read_parquet(state / "fingerprints_enterprises_left.parquet")
    assert len(left) and not set(left["id"]) & tbt_only
    assert (state / "model_enterprises.json").read_bytes() == frozen
    # The next run (without TBT) re-links with the same frozen model: nothing but
    # TBT's enterprises went, so only their links could change.
    remaining = dataclasses.replace(
        config,
        parties=("VLAIO",),
        extracts={"VLAIO": config.extracts["VLAIO"]},
    )
    after = run(remaining, ring=ring, today=TODAY)
    assert all(m["frozen"] for m in after.manifest["links"]["models"].values())
    assert set(after.manifest["links"]["changed"]["enterprises"]) <= {"left gone", "right gone"}


def test_refit_preview_delivers_nothing(config, ring: KeyRing) -> None:
    first = run(config, ring=ring, today=TODAY)
    feed = preview_refit(config, ring=ring, today=TODAY)
    assert set(feed.summary()["changed"]["enterprises"]) <= {"refit"}
    assert read_delivery(config.store).run_id == first.run_id


def test_a_rotation_delivers_a_complete_crosswalk(config, exchange) -> None:
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store)
    old_tables = before.tables()
    ring.rotate()
    second = run(config, ring=ring, today=TODAY)
    m = second.manifest
    assert m["key"]["version"] == 2 and m["key"]["rekeyed_from"] == 1
    # Re-keyed, not removed and added: the same inputs change no row.
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in m["changes"].values())
    folder = read_delivery(config.store).path / "crosswalk"
    new_tables = read_delivery(config.store).tables()
    for name, frame in old_tables.items():
        for column in (c for c in frame.columns if c.endswith("_key")):
            walk = pd.read_parquet(folder / f"{column.removesuffix('_key')}.parquet")
            # Complete: every old key of the delivery has its new key, and it is the
            # one the new delivery uses.
            old_keys = set(frame[column].dropna())
            assert old_keys <= set(walk["old"]), (name, column)
            assert set(walk.set_index("old").loc[list(old_keys), "new"]) == set(
                new_tables[name][column].dropna()
            )
    assert "re-keyed from version 1" in second.summary()


def _with_link_section(config, text: str):
    path = config.source
    path.write_text(path.read_text() + "\n" + text)
    return load_config(path)


def test_the_link_section_sets_spec_threshold_and_model(config, ring: KeyRing, tmp_path) -> None:
    first = run(config, ring=ring, today=TODAY)
    saved = tmp_path / "model.json"
    # A copy: the delivery in force keeps its own (the store checks its state files).
    saved.write_bytes(
        (read_delivery(config.store).path / "state" / "model_enterprises.json").read_bytes()
    )
    strict = _with_link_section(
        config,
        f'[link.enterprises]\npreset = "enterprises"\nthreshold = 0.999\nmodel = "{saved}"\n',
    )
    assert strict.links["enterprises"].spec.threshold == 0.999
    assert strict.links["establishments"].spec.threshold == 0.5
    again = run(strict, ring=ring, today=TODAY, refit=True)
    assert again.manifest["links"]["enterprises"] < first.manifest["links"]["enterprises"]
    # The configured model is the one frozen.
    frozen = read_delivery(config.store).path / "state" / "model_enterprises.json"
    assert FellegiSunter.load(frozen).to_dict() == FellegiSunter.load(saved).to_dict()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[link.dossiers]\nthreshold = 0.5\n", "unknown link"),
        ('[link.enterprises]\npreset = "establishments"\n', "needs enterprise_number"),
        ("[link.enterprises]\ncolour = 1\n", "unknown key"),
    ],
)
def test_a_wrong_link_section_says_what_is_wrong(config, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _with_link_section(config, text)


def test_cli_refit_previews_then_applies(config, capsys, monkeypatch) -> None:
    monkeypatch.setenv(config.key_env or "LINKAGE_MASTER_KEY", "v1:" + "A" * 43 + "=")
    path = str(config.source)
    assert main(["exchange", "run", "--config", path]) == 0
    delivered = read_delivery(config.store).run_id
    capsys.readouterr()
    changes = config.source.parent / "refit-changes.csv"
    assert main(["exchange", "refit", "--config", path, "--out", str(changes)]) == 0
    out = capsys.readouterr().out
    assert "enterprises: " in out and "links would change" in out and "--apply" in out
    assert read_delivery(config.store).run_id == delivered
    # The file holds each changed link the summary counted, and only refit as reason.
    written = pd.read_csv(changes, dtype=str)
    assert list(written.columns) == ["link", "record", "before", "after", "reason"]
    for name in ("enterprises", "establishments"):
        said = int(re.search(rf"{name}: ([0-9,]+) links", out).group(1).replace(",", ""))
        assert (written["link"] == name).sum() == said
    assert set(written["reason"]) <= {"refit"}
    assert (written["before"].fillna("") != written["after"].fillna("")).all()
    # A file it cannot write is refused before the models are fitted (no preview made).
    previews = config.audit_log.read_text().count("refit preview")
    assert main(["exchange", "refit", "--config", path, "--out", "changes.xlsx"]) == 3
    assert config.audit_log.read_text().count("refit preview") == previews
    assert main(["exchange", "refit", "--config", path, "--apply"]) == 0
    assert "(models fitted on this run)" in capsys.readouterr().out
    assert read_delivery(config.store).run_id != delivered


# The feed's bookkeeping as it was first written, with pandas merges on string keys:
# the reference the columnar code (exchange/_links.py, exchange/_fingerprints.py) is
# held to, output for output. feedlinks._merged_links and feedlinks._reasons without rows
# are that code still (the first is its fallback, the second its whole merge).


def _reference_fingerprints(frame: pd.DataFrame, spec, side: str) -> pd.DataFrame:
    ident = spec.left_id if side == "left" else spec.right_id
    columns = list(dict.fromkeys(c for f in spec.fields for c in f.source_for(side)))
    values = frame[columns].astype("string").fillna("\x00")
    party = frame["party"].astype("string") if "party" in frame else "VDAB"
    return pd.DataFrame(
        {
            "id": frame[ident].astype("string").to_numpy(),
            "party": party,
            "fingerprint": pd.util.hash_pandas_object(values, index=False).to_numpy(np.uint64),
        }
    ).reset_index(drop=True)


def _reference_changed(now: pd.DataFrame, before: pd.DataFrame) -> pd.Index:
    merged = now.merge(
        before, on=["id", "party"], how="outer", suffixes=("", "_before"), indicator=True
    )
    differ = (merged["_merge"] != "both") | (merged["fingerprint"] != merged["fingerprint_before"])
    return pd.Index(merged.loc[differ, "id"].unique()).intersection(pd.Index(now["id"]))


def _reference_earlier_links(previous, name: str) -> pd.DataFrame:
    table, key, number, right = feedlinks._DELIVERED[name]
    numbers = previous.table(name)[[key, number]].drop_duplicates(key)
    earlier = previous.table(table).merge(numbers, on=key)
    return (
        earlier[[number, right, "match_probability"]]
        .drop_duplicates(number)
        .astype({number: "string", right: "string"})
    )


def _reference_link_to_vdab(
    enterprises,
    establishments,
    employers,
    sites,
    *,
    delivered,
    previous,
    settings,
    refit=False,
    vdab_side=None,  # made here from the records, as the first implementation did
) -> feedlinks.FeedLinks:
    sent = {
        "enterprises": enterprises[enterprises["enterprise_number"].notna()],
        "establishments": establishments[establishments["establishment_number"].notna()],
    }
    prints = {
        f"{name}_{side}": _reference_fingerprints(frame, settings[name].spec, side)
        for name, right_frame in (("enterprises", employers), ("establishments", sites))
        for side, frame in (("left", sent[name]), ("right", right_frame))
    }
    left = sent["enterprises"].drop_duplicates("enterprise_number").reset_index(drop=True)
    units = sent["establishments"].drop_duplicates("establishment_number").reset_index(drop=True)
    inputs = {"enterprises": (left, employers), "establishments": (units, sites)}
    specs = {name: settings[name].spec for name in feedlinks.LINKS}
    state = None if refit or previous is None else previous.path / "state"
    results, changes = {}, {}
    moved = {"left": pd.Index([]), "right": pd.Index([])}
    for name in feedlinks.LINKS:
        spec = specs[name]
        lframe, rframe = inputs[name]
        parents = ParentLinks.of(results["enterprises"]) if name == "establishments" else None
        number, right = spec.left_id, spec.right_id
        increment, earlier = None, None
        sets: dict = {"changed": {}, "new": {}, "gone": {}, "parent": {}}
        if state is not None:
            earlier = _reference_earlier_links(previous, name)
            for side in ("left", "right"):
                now = prints[f"{name}_{side}"]
                before = pd.read_parquet(state / f"fingerprints_{name}_{side}.parquet")
                sets["changed"][side] = _reference_changed(now, before)
                sets["new"][side] = pd.Index(now["id"]).difference(pd.Index(before["id"]))
                sets["gone"][side] = pd.Index(before["id"]).difference(pd.Index(now["id"]))
            left_also = lframe.loc[lframe["enterprise_number"].isin(moved["left"]), number]
            right_also = rframe.loc[rframe["employer_id"].isin(moved["right"]), right]
            sets["parent"] = {
                "left": pd.Index(left_also.astype("string")),
                "right": pd.Index(right_also.astype("string")),
            }
            increment = Increment(
                links=earlier,
                left_changed=sets["changed"]["left"].union(sets["parent"]["left"]),
                right_changed=sets["changed"]["right"].union(sets["parent"]["right"]),
            )
        model = (
            FellegiSunter.load(state / f"model_{name}.json")
            if state is not None
            else feedlinks._given(settings[name])
        )
        result = link(
            lframe.astype({number: "string"}),
            rframe.astype({right: "string"}),
            spec,
            model=model,
            parents=parents,
            increment=increment,
            names=(name, "employers" if name == "enterprises" else "sites"),
        )
        results[name] = result
        changes[name] = feedlinks._reasons(
            earlier if earlier is not None else feedlinks._no_links(number, right),
            result.links,
            number,
            right,
            sets,
            whole=None if state else "first delivery" if previous is None else "refit",
        )
        if name == "enterprises":
            moved = {
                "left": pd.Index(changes[name][number]),
                "right": pd.Index(
                    pd.concat(
                        [changes[name][f"{right}_before"], changes[name][f"{right}_after"]]
                    ).dropna()
                ),
            }
    return feedlinks.FeedLinks(
        tables=feedlinks._merged_links(results, delivered, sites),
        specs=specs,
        models={name: r.model for name, r in results.items()},
        fingerprints={name: _Made(frame) for name, frame in prints.items()},
        changes=changes,
        timings={},
        refitted=state is None,
    )


def _valid_numbers(n: int, start: int) -> list[str]:
    """``n`` enterprise numbers that pass the mod-97 check (none of the synthetic ones)."""
    return [f"{b * 100 + 97 - b % 97:010d}" for b in range(start, start + n)]


def _perturb(config, seed: int) -> None:
    """Edit, remove and add records of both parties' enterprises and units and of
    VDAB's employers and sites, in place."""
    rng = np.random.default_rng(seed)
    paths = [
        *(config.extracts[p][t] for p in config.parties for t in ("enterprises", "establishments")),
        config.employers,
        config.sites,
    ]
    for i, path in enumerate(paths):
        csv = path.suffix == ".csv"
        rows = pd.read_csv(path, dtype=str, keep_default_na=False) if csv else pd.read_parquet(path)
        order = rng.permutation(len(rows))
        edit, drop, add = order[:9], order[9:15], order[15:20]
        # Renamed and moved, contacts and (VDAB's) enterprise number cleared: their
        # links break, and others take what they let go.
        rows.iloc[edit, rows.columns.get_loc("name")] = [f"Zzyzx Quantum {seed} {k}" for k in edit]
        for column, value in (("street", "Nergensstraat"), ("postcode", "9999"), ("phone", None)):
            if column in rows:  # (TBT names some of its columns in Dutch)
                rows.iloc[edit, rows.columns.get_loc(column)] = value
        for column in ("email", "website"):
            if column in rows:
                rows.iloc[edit, rows.columns.get_loc(column)] = None
        if "employer_id" in rows and "enterprise_number" in rows:
            rows.iloc[edit, rows.columns.get_loc("enterprise_number")] = None
        added = rows.iloc[add].copy()
        if "enterprise_number" in added and "establishment_number" not in added:
            if "employer_id" in added:
                added["employer_id"] = [f"W-NEW-{seed}-{k}" for k in range(len(added))]
            else:
                added["enterprise_number"] = _valid_numbers(
                    len(added), 19_000_000 + 1_000 * seed + 100 * i
                )
        elif "site_id" in added:
            added["site_id"] = [f"V-NEW-{seed}-{k}" for k in range(len(added))]
        else:
            added = added.iloc[:0]
        rows = pd.concat([rows.drop(index=rows.index[drop]), added], ignore_index=True)
        if csv:
            rows.to_csv(path, index=False)
        else:
            rows.to_parquet(path, index=False)


@dataclass(frozen=True)
class _Made:
    """The reference's fingerprint rows, made at once (the feed makes them when the
    state is written: ``Fingerprinted.arrow``), and written as pandas writes them."""

    frame: pd.DataFrame

    def table(self) -> pd.DataFrame:
        return self.frame

    def arrow(self) -> pa.Table:
        return pa.Table.from_pandas(self.frame, preserve_index=False)


def _assert_feeds_equal(feed: feedlinks.FeedLinks, reference: feedlinks.FeedLinks) -> None:
    for field in ("tables", "fingerprints", "changes"):
        ours, theirs = getattr(feed, field), getattr(reference, field)
        assert ours.keys() == theirs.keys()
        for name in ours:
            mine, its = ours[name], theirs[name]
            if field == "fingerprints":
                mine, its = mine.table(), its.table()
            pd.testing.assert_frame_equal(mine, its, obj=f"{field}[{name}]")
    assert feed.refitted == reference.refitted
    assert {k: m.to_dict() for k, m in feed.models.items()} == {
        k: m.to_dict() for k, m in reference.models.items()
    }


def test_the_feed_links_as_the_pandas_reference_did(config, ring: KeyRing, monkeypatch) -> None:
    """The columnar bookkeeping delivers what the merges on string keys delivered, frame
    for frame (values, dtypes, order) and state file for state file: a first delivery,
    two re-runs with records edited, removed and added on both sides, and a refit."""
    feeds = []

    def both(*args, **kwargs):
        feed = feedlinks.link_to_vdab(*args, **kwargs)
        feeds.append((feed, _reference_link_to_vdab(*args, **kwargs)))
        return feed

    monkeypatch.setattr(_run, "link_to_vdab", both)
    run(config, ring=ring, today=TODAY)
    for seed in (1, 2):
        _perturb(config, seed)
        run(config, ring=ring, today=TODAY)
    run(config, ring=ring, today=TODAY, refit=True)
    reasons = {r for f, _ in feeds[1:3] for c in f.changes.values() for r in c["reason"]}
    assert reasons >= {
        "left changed",
        "right changed",
        "left gone",
        "right gone",
        "parent's link changed",
    }, reasons
    for number, (feed, reference) in enumerate(feeds):
        _assert_feeds_equal(feed, reference)
        ours, theirs = Path(f"ours{number}"), Path(f"theirs{number}")
        for folder, which in ((ours, feed), (theirs, reference)):
            target = config.store.parent / folder
            target.mkdir()
            feedlinks.write_state(target, which)
        for path in sorted((config.store.parent / ours / "state").iterdir()):
            twin = config.store.parent / theirs / "state" / path.name
            assert path.read_bytes() == twin.read_bytes(), path.name


def test_the_quality_pass_takes_the_links_rows_as_the_merges_find_them(
    config, ring: KeyRing, monkeypatch
) -> None:
    """VDAB's disagreements on the rows the linking hands over (``FeedLinks.rows``) are
    those found by merging the delivered links on keys, parties and numbers: a first
    delivery and a re-run with records edited, removed and added."""
    calls = []

    def both(enterprises, delivered, links, employers, **kwargs):
        ours = _checks.vdab_disagreements(enterprises, delivered, links, employers, **kwargs)
        merged = _checks.vdab_disagreements(
            enterprises, delivered, links, employers, **{**kwargs, "rows": None}
        )
        calls.append((kwargs.get("rows") is not None, ours, merged))
        return ours

    monkeypatch.setattr(_run, "vdab_disagreements", both)
    run(config, ring=ring, today=TODAY)
    _perturb(config, 1)
    run(config, ring=ring, today=TODAY)
    assert [given for given, _, _ in calls] == [True, True]
    for _, ours, merged in calls:
        assert sum(len(frame) for frame in merged) > 0
        assert len(ours) == len(merged)
        for mine, theirs in zip(ours, merged, strict=True):
            pd.testing.assert_frame_equal(mine, theirs)


# "" and "\x00" (what a missing value is hashed as), and NULs: hash_pandas_object's
# string hash table takes them for one value.
_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["", "a", "A", "\x00", "a\x00", "a\x00b", "\x00a", "Zoë", "  b", "1"]),
    st.text(max_size=6),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_TEXT, _TEXT, _TEXT, st.sampled_from(["VLAIO", "TBT", None])), max_size=30),
    st.sampled_from(["object", "string", "string[pyarrow]"]),
    st.booleans(),
)
def test_fingerprints_are_hash_pandas_object(rows, dtype: str, subset: bool) -> None:
    """Fingerprints hashed column by column as bytes are ``hash_pandas_object`` of the
    columns as text, missing as "\\x00" (the first implementation): the state a run
    writes is the one it wrote."""
    spec = enterprises_spec()
    frame = pd.DataFrame(
        {
            "enterprise_number": [f"{i:010d}" for i in range(len(rows))],
            "employer_id": [f"W{i}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "postcode": [r[1] for r in rows],
            "street": [r[2] for r in rows],
            "house_number": [len(r[0] or "") for r in rows],  # not text: as astype writes it
            "box": pd.Series([r[1] for r in rows], dtype=object).where(lambda v: v != "a", np.nan),
            "phone": [r[2] for r in rows],
            "email": pd.to_datetime([f"2026-01-{1 + len(r[1] or '') % 28:02d}" for r in rows]),
            "website": [r[0] for r in rows],
            "party": pd.Series([r[3] for r in rows], dtype="string"),
        }
    ).astype({c: dtype for c in ("name", "postcode", "street", "phone", "website")})
    keep = np.flatnonzero(np.arange(len(frame)) % 3 != 1) if subset else None
    chosen = frame if keep is None else frame.iloc[keep]
    for side, data in (("left", frame), ("right", frame.drop(columns="party"))):
        ours, prints = fingerprint(data, spec, side, rows=keep)
        theirs = _reference_fingerprints(
            chosen if side == "left" else chosen.drop(columns="party"), spec, side
        )
        pd.testing.assert_frame_equal(ours, theirs)
        assert (prints.hashes == theirs["fingerprint"].to_numpy()).all()


_LINKS = st.lists(
    st.tuples(st.sampled_from("abcdefg"), st.one_of(st.none(), st.sampled_from("xyzw"))), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(_LINKS, _LINKS, st.booleans())
def test_reasons_on_the_rows_that_may_move_are_the_whole_merge(before, after, whole) -> None:
    """The outer merge of the links before and after, taken on the rows that may have
    moved only (and one witness per join pattern), gives the whole merge's rows, order
    and dtypes: repeated ids, missing partners, empty sides included."""
    number, right = "enterprise_number", "employer_id"
    was = pd.DataFrame(
        {number: [n for n, _ in before], right: [r for _, r in before]}, dtype="string"
    )
    now = pd.DataFrame(
        {number: [n for n, _ in after], right: [r for _, r in after]}, dtype=object
    ).assign(match_probability=0.9)
    left = codes(text(was[number]), text(now[number]))
    partners = codes(text(was[right]), text(now[right]))
    rows = feedlinks._maybe_moved(
        (left.codes[0], partners.codes[0]), (left.codes[1], partners.codes[1]), left, partners
    )
    sets = {
        k: {"left": pd.Index(["a"]), "right": pd.Index(["x"])}
        for k in ("changed", "new", "gone", "parent")
    }
    reason = "refit" if whole else None
    pd.testing.assert_frame_equal(
        feedlinks._reasons(was, now, number, right, sets, whole=reason, rows=rows),
        feedlinks._reasons(was, now, number, right, sets, whole=reason),
    )


@settings(max_examples=200, deadline=None)
@given(_LINKS, st.sampled_from(["string", object]), st.booleans())
def test_reasons_with_nothing_before_are_the_merge(after, dtype, whole) -> None:
    """A first delivery's reasons (no link before) are those of the whole outer merge
    and its filter as first written: rows, order and dtypes."""
    number, right = "enterprise_number", "employer_id"
    was = pd.DataFrame({number: [], right: []}, dtype="string")
    now = pd.DataFrame(
        {number: [n for n, _ in after], right: [r for _, r in after]}, dtype=dtype
    ).assign(match_probability=0.9)
    both = was.merge(now[[number, right]], on=number, how="outer", suffixes=("_before", "_after"))
    old, new = both[f"{right}_before"], both[f"{right}_after"]
    expected = both[~((old == new) | (old.isna() & new.isna())).fillna(False)].copy()
    expected["reason"] = "first delivery" if whole else "partner let go"
    sets = {
        k: {"left": pd.Index([]), "right": pd.Index([])}
        for k in ("changed", "new", "gone", "parent")
    }
    pd.testing.assert_frame_equal(
        feedlinks._reasons(
            was, now, number, right, sets, whole="first delivery" if whole else None
        ),
        expected.reset_index(drop=True),
    )


_IDS = st.sampled_from(["a", "ab", "b", "B", "é", "z", "", "0100", "99"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_IDS, st.one_of(st.none(), _IDS)), max_size=8),
    st.lists(st.tuples(_IDS, st.one_of(st.none(), _IDS)), max_size=8),
    st.sampled_from(["string", "string[pyarrow]", object]),
)
def test_outer_merge_on_ranks_is_the_merge_on_text(before, after, dtype) -> None:
    """The links' outer merge on the ids' ranks is pandas' merge on the text: rows,
    order (non-ASCII, empty and repeated ids), fills and dtypes; with nothing before
    (a first delivery), the rows after, sorted without a merge."""
    on = "enterprise_number"
    was = pd.DataFrame({on: [n for n, _ in before], "x": [r for _, r in before]}, dtype="string")
    now = pd.DataFrame({on: [n for n, _ in after], "x": [r for _, r in after]}, dtype=dtype)
    pd.testing.assert_frame_equal(
        feedlinks._outer_merge(was, now, on),
        was.merge(now, on=on, how="outer", suffixes=("_before", "_after")),
    )


def test_outer_merge_of_ids_not_all_text_is_the_merge() -> None:
    """Missing or non-text ids: pandas' merge as it is."""
    on = "id"
    was = pd.DataFrame({on: ["a", None, "b"], "x": ["1", "2", "3"]}, dtype="string")
    now = pd.DataFrame({on: [None, 3, "a"], "x": ["4", "5", "6"]})
    pd.testing.assert_frame_equal(
        feedlinks._outer_merge(was, now, on),
        was.merge(now, on=on, how="outer", suffixes=("_before", "_after")),
    )


def test_fingerprints_of_long_columns_are_hash_pandas_object() -> None:
    """Past the first rows that choose how a column is hashed: per distinct value
    (few), per row (many), as C strings (NULs and "" beside missing values)."""
    rng = np.random.default_rng(3)
    n = 9_000
    few = rng.choice(["1000", "2000", "9000", None], n)
    frame = pd.DataFrame(
        {
            "enterprise_number": [f"{i:010d}" for i in range(n)],
            "name": [f"name {i}" for i in rng.permutation(n)],
            "postcode": pd.Series(few, dtype="string[pyarrow]"),
            "street": rng.choice(["Kerkstraat", "", None, "Markt\x00"], n),
            "house_number": rng.integers(0, 50, n),
            "box": pd.Series(few, dtype="string").fillna(""),
            "phone": rng.choice(["", "0475 12 34 56"], n),
            "email": None,
            "website": pd.Series(few, dtype=object).where(np.arange(n) > 5_000, ""),
            "party": pd.Series(rng.choice(["VLAIO", "TBT"], n), dtype="string[pyarrow]"),
        }
    )
    rows = np.flatnonzero(np.arange(n) % 7 != 3)
    ours, prints = fingerprint(frame, enterprises_spec(), "left", rows=rows)
    theirs = _reference_fingerprints(frame.iloc[rows], enterprises_spec(), "left")
    pd.testing.assert_frame_equal(ours, theirs)
    assert (prints.hashes == theirs["fingerprint"].to_numpy()).all()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(_TEXT | st.text(min_size=15, max_size=20), max_size=12), min_size=1, max_size=3
    )
)
def test_joint_codes_are_equality(arrays) -> None:
    """Joint codes: equal values (missing ones too) get equal codes, others not, short
    values read as integers or not."""
    parts = [pa.array(a, type=pa.large_string()) for a in arrays]
    coded = codes(*parts)
    flat = np.concatenate(coded.codes)
    values = [v for a in arrays for v in a]
    assert [len(c) for c in coded.codes] == [len(a) for a in arrays]
    assert coded.values.take(pa.array(flat, type=pa.int64())).to_pylist() == values
    assert len(coded) == len(set(values))


def test_joint_codes_refuse_a_fold_that_merges_values(monkeypatch) -> None:
    """Short values folded into one integer each: had two been folded alike, they are
    still told apart (the fold is checked, value by value)."""
    values = pa.array(["0001", "0002", "0001", "W7"], type=pa.large_string())
    monkeypatch.setattr(_fingerprints.pd, "factorize", lambda v: (np.zeros(len(v), np.intp), v[:1]))
    coded = codes(values)
    assert coded.codes[0].tolist() == [0, 1, 0, 2]
