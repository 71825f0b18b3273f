"""The exchange run: end to end on the committed sample, validation, minimisation,
validity, the permanent feed, and all-or-nothing delivery under failures and kills."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage.evaluate import link_quality
from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import _delivery, load_config, read_delivery, read_events, run
from linkage.exchange._demo import write_exchange
from linkage.exchange._schema import EXTRACTS
from linkage.keys import KeyRing
from linkage.pseudonymise import PSEUDONYM_PATTERN
from linkage.synthetic import generate, load_sample

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=300, seed=3)


@pytest.fixture
def config(tmp_path: Path, small):
    """A small per-party exchange (VLAIO CSV, TBT Parquet) in a fresh folder."""
    return load_config(write_exchange(small, tmp_path))


def _sample_config(tmp_path: Path):
    config = load_config(ROOT / "data" / "exchange" / "demo.toml")
    return dataclasses.replace(config, store=tmp_path / "store", audit_log=tmp_path / "audit.jsonl")


def test_end_to_end_on_committed_sample(tmp_path: Path, ring: KeyRing) -> None:
    config = _sample_config(tmp_path)
    result = run(config, ring=ring, today=TODAY)
    sample = load_sample()
    m = result.manifest
    assert m["protocol"].startswith("Protocol VLAIO") and m["key"]["version"] == 1
    assert m["validity"] == {
        "start": "2025-11-15",
        "end": "2026-05-15",
        "effective_end": "2027-12-31",
        "renewals": [
            {"end": "2027-12-31", "reference": "synthetic demo only: not a signed renewal"}
        ],
    }
    assert m["outputs"]["enterprises"]["rows"] == len(sample.enterprises)
    assert m["outputs"]["contacts"]["rows"] == len(sample.contacts)
    assert m["outputs"]["staff"]["rows"] == 450
    assert {i["sha256"] for i in m["inputs"]} >= {
        hashlib.sha256((ROOT / "data/synthetic/enterprises.parquet").read_bytes()).hexdigest()
    }
    tables = read_delivery(config.store).tables()
    assert set(tables) == {
        "enterprises",
        "establishments",
        "dossiers",
        "dossier_staff",
        "dossier_services",
        "services",
        "amounts",
        "contacts",
        "staff",
        "links_enterprises",
        "links_establishments",
    }
    for name, frame in tables.items():
        entry = m["outputs"][name]
        path = result.path / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert set(frame["party"]) <= {"VLAIO", "TBT"} and frame["party"].notna().all()
        for column in (c for c in frame.columns if c.endswith("_key")):
            keys = frame[column].dropna()
            assert keys.str.match(PSEUDONYM_PATTERN).all(), (name, column)
    # no clear ids but the ones art. 3 lists as fields; contact/staff ids only as keys
    assert "contact_id" not in tables["contacts"] and "staff_id" not in tables["staff"]
    assert tables["enterprises"]["enterprise_number"].str.fullmatch(r"[01]\d{9}").all()
    # links carry keys and VDAB's ids; scored against the truth through the clear number
    links = tables["links_enterprises"].merge(
        tables["enterprises"][["enterprise_key", "enterprise_number"]]
    )
    quality = link_quality(links, sample.truth_enterprises, on=("enterprise_number", "employer_id"))
    assert quality.f1 > 0.97
    assert (result.path / "quality" / "VLAIO.html").exists()
    assert (result.path / "quality" / "TBT.csv").exists()
    assert read_events(config.audit_log)[-1]["outcome"] == "delivered"


def test_validity_window_refuses_with_dates(tmp_path: Path, ring: KeyRing) -> None:
    config = _sample_config(tmp_path)
    signed = dataclasses.replace(config.validity, renewals=())
    with pytest.raises(ConfigError) as error:
        run(dataclasses.replace(config, validity=signed), ring=ring, today=TODAY)
    assert str(error.value) == (
        "the protocol's validity window is 2025-11-15 to 2026-05-15; today is 2026-11-28: "
        "the protocol has ended; record its renewal in [validity] if it was renewed; if not, "
        "everything received must be deleted: linkage exchange purge --config "
        f"{config.source} --all"
    )
    with pytest.raises(ConfigError, match="not in force yet"):
        run(config, ring=ring, today=dt.date(2025, 11, 14))
    with pytest.raises(ConfigError, match="renewed to 2027-12-31; today is 2028-01-01"):
        run(config, ring=ring, today=dt.date(2028, 1, 1))
    assert not (config.store / "current").exists()
    assert [e["outcome"] for e in read_events(config.audit_log)] == ["failed"] * 3


def test_demo_config_renews_itself_a_year_ahead(tmp_path: Path, small) -> None:
    # The demo (the README's first command) must not expire: its made-up renewal
    # runs to 2027-12-31 or a year after the day it is written.
    early = load_config(write_exchange(small, tmp_path / "a", today=TODAY)).validity
    assert early.effective_end == dt.date(2027, 12, 31)
    later = dt.date(2031, 3, 1)
    late = load_config(write_exchange(small, tmp_path / "b", today=later)).validity
    assert late.effective_end == dt.date(2032, 2, 29)
    late.check(later)  # in force: no error


def test_minimisation_drops_and_reports(config, ring: KeyRing) -> None:
    result = run(config, ring=ring, today=TODAY)
    dropped = {
        (d["party"], d["table"]): d["columns"] for d in result.manifest["minimisation"]["dropped"]
    }
    assert dropped[("VLAIO", "enterprises")] == ["crm_segment", "internal_notes"]
    assert "crm_segment" not in read_delivery(config.store).table("enterprises")
    assert "crm_segment" in result.summary()


def _edit(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        (
            "staff",
            lambda f: f.insert(1, "notes", ["85.07.30-033.28"] * len(f)),
            "VLAIO/staff.csv, column 'notes', row 1: a national register or BIS number",
        ),
        (
            "staff",
            lambda f: f.insert(1, "rijksregisternummer", [""] * len(f)),
            "VLAIO/staff.csv, column 'rijksregisternummer': a national register number column",
        ),
        (
            "dossiers",
            lambda f: f.drop(columns="title", inplace=True),
            "VLAIO/dossiers.csv, column 'title': missing column(s) 'title'; found 'dossier_id'",
        ),
        (
            "dossiers",
            lambda f: f.__setitem__("decision_date", ["31/02/2024"] * len(f)),
            "VLAIO/dossiers.csv, column 'decision_date', row 1: expected a date (YYYY-MM-DD)",
        ),
        (
            "contacts",
            lambda f: f.__setitem__("contact_id", [f["contact_id"][0]] * len(f)),
            "VLAIO/contacts.csv, column 'contact_id', row 2: duplicate id (first at "
            "VLAIO/contacts.csv, row 1)",
        ),
        (
            "enterprises",
            lambda f: f.__setitem__(
                "enterprise_number", ["0403170702", *list(f["enterprise_number"][1:])]
            ),
            "VLAIO/enterprises.csv, column 'enterprise_number', row 1: "
            "not a valid enterprise number: check digits do not match (mod 97)",
        ),
    ],
)
def test_schema_errors_name_file_column_row(config, ring, table, change, message) -> None:
    _edit(config.extracts["VLAIO"][table], change)
    # a national number refuses the run when [checks] says so (else: withheld)
    config = dataclasses.replace(
        config, checks=dataclasses.replace(config.checks, national_numbers="refuse")
    )
    with pytest.raises(SchemaError) as error:
        run(config, ring=ring, today=TODAY)
    assert str(error.value).startswith(message)
    assert "85.07.30" not in str(error.value) and "0403170702" not in str(error.value)
    assert read_delivery(config.store) is None


def test_invalid_numbers_withheld_and_reported(config, ring: KeyRing) -> None:
    path = config.extracts["VLAIO"]["enterprises"]
    _edit(
        path,
        lambda f: f.__setitem__(
            "enterprise_number", ["0403170702", *list(f["enterprise_number"][1:])]
        ),
    )
    result = run(config, ring=ring, today=TODAY, invalid_numbers="withhold")
    quality = pd.read_csv(result.path / "quality" / "VLAIO.csv")
    hit = quality[quality["defect"] == "invalid number"]
    assert len(hit) == 1 and hit["row"].iloc[0] == 1
    assert hit["detail"].iloc[0] == "withheld: check digits do not match (mod 97)"
    rows = pd.read_csv(path, dtype=str)
    assert result.manifest["outputs"]["enterprises"]["rows_by_party"]["VLAIO"] == len(rows) - 1


def test_permanent_feed_keeps_keys_and_reports_changes(config, ring: KeyRing) -> None:
    first = run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store).table("enterprises")
    path = config.extracts["VLAIO"]["enterprises"]
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows.loc[0, "name"] = rows.loc[0, "name"] + " Renamed"
    removed = rows.loc[1, "enterprise_number"]
    rows.drop(index=1).to_csv(path, index=False)
    contacts = pd.read_parquet(config.extracts["TBT"]["contacts"])
    extra = contacts.iloc[[0]].assign(contact_id="C-NEW-1")
    pd.concat([contacts, extra]).to_parquet(config.extracts["TBT"]["contacts"], index=False)
    second = run(config, ring=ring, today=TODAY)
    assert second.manifest["previous_run_id"] == first.run_id
    changes = second.changes
    assert changes["enterprises"] == {"added": 0, "changed": 1, "removed": 1}
    assert changes["contacts"] == {"added": 1, "changed": 0, "removed": 0}
    assert changes["staff"] == {"added": 0, "changed": 0, "removed": 0}
    after = read_delivery(config.store).table("enterprises")
    kept = before[before["enterprise_number"] != removed]
    merged = kept.merge(after, on="enterprise_number", suffixes=("_1", "_2"))
    assert len(merged) == len(kept)
    assert (merged["enterprise_key_1"] == merged["enterprise_key_2"]).all()
    # The delivery replaced is kept as the fallback, one generation: the next run drops it.
    assert (config.store / "previous").read_text().strip() == first.run_id
    third = run(config, ring=ring, today=TODAY)
    kept = sorted(p.name for p in (config.store / "deliveries").iterdir())
    assert kept == sorted([second.run_id, third.run_id])


def test_the_stages_timings_add_up_to_no_more_than_the_run(config, ring, monkeypatch) -> None:
    """Each stage's seconds are wall time spent in it alone: work done beside another
    stage (the writes beside the links) is not counted twice."""
    import time

    from linkage.exchange import _run as R

    write_each = R._write_each

    def slow(*args, **kwargs):  # writes long enough to show in the sums
        time.sleep(0.5)
        return write_each(*args, **kwargs)

    monkeypatch.setattr(R, "_write_each", slow)
    run(config, ring=ring, today=TODAY)
    timings = run(config, ring=ring, today=TODAY).manifest["timings"]
    stages = {k: v for k, v in timings.items() if k != "total"}
    assert {"read_validate", "pseudonymise", "deliver", "quality"} <= stages.keys()
    assert sum(stages.values()) <= timings["total"] + 0.01, timings


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "stage",
    [
        "read",
        "pseudonymised",
        "linked",
        "wrote enterprises",
        "wrote links_establishments",
        "manifest",
        "staged",
        "renamed",
    ],
)
def test_failed_run_leaves_last_delivery_intact(config, ring, monkeypatch, stage) -> None:
    good = run(config, ring=ring, today=TODAY)
    snapshot = _hashes(good.path)
    _edit(config.extracts["VLAIO"]["staff"], lambda f: f.__setitem__("function", "Changed"))

    def fail(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"injected failure at {at}")

    monkeypatch.setattr(_delivery, "checkpoint", fail)
    with pytest.raises(RuntimeError, match="injected"):
        run(config, ring=ring, today=TODAY)
    current = read_delivery(config.store)
    assert current.run_id == good.run_id and _hashes(current.path) == snapshot
    assert read_events(config.audit_log)[-1]["outcome"] == "failed"
    monkeypatch.undo()
    third = run(config, ring=ring, today=TODAY)  # clears what the failure left
    assert third.changes["staff"]["changed"] > 0
    leftovers = [p.name for p in config.store.iterdir() if p.name.startswith(".staging")]
    assert leftovers == [] and sorted(p.name for p in (config.store / "deliveries").iterdir()) == (
        sorted([good.run_id, third.run_id])  # the one in force and the fallback
    )


def test_a_run_failing_while_its_writes_run_beside_waits_for_them(
    config, ring, monkeypatch
) -> None:
    """A run that fails while a thread of it still writes (the links' tables beside the
    quality pass) waits for that thread before it removes its staging folder: nothing
    is written after, no staging is left, and the last delivery stands."""
    from linkage.exchange import _run as R

    good = run(config, ring=ring, today=TODAY)
    snapshot = _hashes(good.path)
    write_links, ended = R._write_links, []

    def slow(*args, **kwargs):
        time.sleep(0.5)  # still writing when the quality pass fails
        try:
            return write_links(*args, **kwargs)
        finally:
            ended.append(time.monotonic())

    def fail(*args, **kwargs):
        raise RuntimeError("injected failure in the quality pass")

    monkeypatch.setattr(R, "_write_links", slow)
    monkeypatch.setattr(R, "write_quality", fail)
    with pytest.raises(RuntimeError, match="injected"):
        run(config, ring=ring, today=TODAY)
    failed = time.monotonic()
    assert ended and ended[0] <= failed  # waited for, not left running
    assert not [p for p in config.store.iterdir() if p.name.startswith(".staging")]
    current = read_delivery(config.store)
    assert current.run_id == good.run_id and _hashes(current.path) == snapshot


_KILLED = """
import sys, time
from pathlib import Path
from linkage.exchange import _delivery, load_config, run
from linkage.keys import KeyRing
import datetime as dt
marker = Path(sys.argv[2])
def hang(at):
    if at == sys.argv[3]:
        marker.write_text(at)
        time.sleep(60)
_delivery.checkpoint = hang
run(load_config(sys.argv[1]), ring=KeyRing.generate(exchange="vlaio-vdab-2025"),
    today=dt.date(2026, 11, 28))
"""


@pytest.mark.parametrize("stage", ["wrote contacts", "renamed"])
def test_killed_run_leaves_last_delivery_intact(config, ring, tmp_path, stage) -> None:
    good = run(config, ring=ring, today=TODAY)
    snapshot = _hashes(good.path)
    marker = tmp_path / "reached"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(config.source), str(marker), stage],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the child never reached the stage"
    child.send_signal(signal.SIGKILL)
    child.wait()
    current = read_delivery(config.store)
    assert current.run_id == good.run_id and _hashes(current.path) == snapshot
    again = run(config, ring=ring, today=TODAY)
    assert again.manifest["previous_run_id"] == good.run_id
    kept = sorted(p.name for p in (config.store / "deliveries").iterdir())
    assert kept == sorted([good.run_id, again.run_id])  # the one in force and the fallback


def test_leftovers_of_interrupted_atomic_writes_are_cleared(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "reports").mkdir(parents=True)
    (store / ".staging-x").mkdir()
    (store / ".current.abc123.tmp").write_text("half")
    (store / "reports" / ".p1.json.def456.tmp").write_text("half")
    (store / "reports" / "p0.json").write_text("{}")
    removed = _delivery.clear_leftovers(store)
    assert sorted(removed) == [".current.abc123.tmp", ".staging-x", "reports/.p1.json.def456.tmp"]
    assert sorted(p.name for p in store.rglob("*")) == ["p0.json", "reports"]


def test_schema_lists_only_article_3_fields() -> None:
    for extract in EXTRACTS.values():
        assert extract.id in extract.columns
        assert all(c.item for c in extract.columns.values())


def test_missing_required_column_says_why(config, ring) -> None:
    _edit(config.extracts["VLAIO"]["dossiers"], lambda f: f.drop(columns="title", inplace=True))
    with pytest.raises(SchemaError) as error:
        run(config, ring=ring, today=TODAY)
    assert (error.value.source, error.value.column, error.value.row) == (
        "VLAIO/dossiers.csv",
        "title",
        None,
    )
    assert error.value.detail.endswith("(required by art. 3, Gegeven 1)")


def test_an_extract_that_is_not_utf8_is_named_as_the_party_sent_it(config, ring) -> None:
    path = config.extracts["VLAIO"]["staff"]
    path.write_bytes(path.read_bytes().replace(b"\n", "\nLi\u00e8ge,".encode("latin-1"), 1))
    with pytest.raises(SchemaError) as error:
        run(config, ring=ring, today=TODAY)
    assert str(error.value).startswith("VLAIO/staff.csv: not UTF-8 text (byte 0xe8 on line 2)")


def test_a_damaged_manifest_is_a_config_error_not_a_traceback(config, ring) -> None:
    good = run(config, ring=ring, today=TODAY)
    (good.path / "manifest.json").write_text('{"outputs": ')
    with pytest.raises(ConfigError) as error:
        read_delivery(config.store, config_file=config.source)
    assert str(error.value) == (
        f"{config.store}: delivery {good.run_id}: its manifest.json is damaged (not JSON), and "
        f"no earlier good delivery is kept: run linkage exchange verify --config "
        f"{config.source} --repair"
    )


def _diff_reference(previous, current):
    """The diff as first written (merge on the keys as text, a hash of the rest as
    text): the reference the columnar one is held to."""
    changes = {}
    for name, new in current.items():
        key = list(_delivery.OUTPUTS[name].key)
        old = previous.get(name)
        if old is None:
            changes[name] = {"added": len(new), "changed": 0, "removed": 0}
            continue
        rest = [c for c in new.columns if c in old.columns and c not in key]

        def digest(frame, key=key, rest=rest):
            out = frame[key].astype("string").copy()
            out["_hash"] = (
                pd.util.hash_pandas_object(frame[rest].astype("string"), index=False).to_numpy()
                if rest
                else 0
            )
            return out

        merged = digest(old).merge(
            digest(new), on=key, how="outer", indicator=True, suffixes=("_old", "_new")
        )
        kept = merged["_merge"] == "both"
        changes[name] = {
            "added": int((merged["_merge"] == "right_only").sum()),
            "changed": int((kept & (merged["_hash_old"] != merged["_hash_new"])).sum()),
            "removed": int((merged["_merge"] == "left_only").sum()),
        }
    return changes


def _random_delivery(rng, n: int, *, retype: bool) -> dict[str, pd.DataFrame]:
    """A few tables with the delivery's keys: text, numbers, dates, flags, nulls,
    and (``retype``) columns of another type than the other side will have."""
    import numpy as np

    def pick(values, p_null=0.2):
        out = np.array(values, dtype=object)[rng.integers(0, len(values), n)]
        out[rng.random(n) < p_null] = None
        return out

    keys = np.array([f"K{k:04d}" for k in rng.choice(n * 2, n, replace=False)], dtype=object)
    keys[rng.random(n) < 0.05] = keys[0]  # repeated keys pair as a merge pairs them
    party = pick(["VLAIO", "TBT"], p_null=0.0)
    amount = rng.choice([0.0, -0.0, 1.0, 2.5, np.nan], n)
    enterprises = pd.DataFrame(
        {
            "enterprise_key": keys,
            "party": party,
            "name": pick(["a", "b", "c", "", " a"]),
            "start_date": pick([dt.date(2020, 1, 1), dt.date(2021, 5, 3)]),
            "in_difficulty": pd.array(pick([True, False]), dtype="boolean"),
            "all_null": pd.Series([None] * n, dtype=object),
        }
    )
    amounts = pd.DataFrame(
        {
            "amount_key": keys,
            "party": party,
            "paid_amount": amount,
            "granted_amount": rng.integers(0, 3, n).astype("float64"),
        }
    )
    if retype:
        enterprises["all_null"] = pick(["x", "y"])
        amounts["granted_amount"] = amounts["granted_amount"].astype("int64")
        enterprises["start_date"] = pd.Series(enterprises["start_date"]).astype("string")
    staff = pd.DataFrame({"staff_key": pick(["S1", "S2", "S3"]), "party": party})
    return {"enterprises": enterprises, "amounts": amounts, "staff": staff}


@pytest.mark.parametrize("seed", range(6))
def test_diff_equals_the_reference_on_random_tables_read_back(tmp_path: Path, seed) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    sides = {}
    for side, n, retype in (("old", 400, False), ("new", 450, seed % 2 == 1)):
        tables = _random_delivery(rng, n, retype=retype)
        folder = tmp_path / side
        folder.mkdir()
        for name, frame in tables.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        delivery = _delivery.Delivery(
            side, folder, {"outputs": dict.fromkeys(tables)}, verified=True
        )
        sides[side] = delivery
    old, new = sides["old"].tables(), sides["new"].tables()
    expected = _diff_reference(old, new)
    assert _delivery.diff(old, new) == expected
    # As Arrow-backed frames, and as the Arrow tables the run reads: the same answer.
    assert _delivery.diff(sides["old"].tables(arrow=True), sides["new"].tables(arrow=True)) == (
        expected
    )
    arrow = {side: {n: d.arrow(n) for n in d.manifest["outputs"]} for side, d in sides.items()}
    assert _delivery.diff(arrow["old"], arrow["new"]) == expected
    assert _delivery.diff(arrow["old"], new) == expected
    # Half the rows the same on both sides: changes and keeps both counted.
    same = {k: v.iloc[: len(v) // 2] for k, v in old.items()}
    both = {k: pd.concat([same[k], v]) for k, v in old.items()}
    assert _delivery.diff(old, both) == _diff_reference(old, both)
    # Keys unique on both sides (as delivered), paired without a merge: the same answer.
    unique = {
        side: {k: v.drop_duplicates(list(_delivery.OUTPUTS[k].key)) for k, v in t.items()}
        for side, t in (("old", old), ("new", new))
    }
    assert _delivery.diff(unique["old"], unique["new"]) == _diff_reference(
        unique["old"], unique["new"]
    )


_SPACES = ["", " ", "\u00a0", "\u2003", "\t", "\x1c"]


def test_list_items_by_arrow_equal_the_pandas_split() -> None:
    import numpy as np

    from linkage.exchange._extract import list_items

    rng = np.random.default_rng(11)
    ids = ["S1", "S22", "TBT-00017", ""]
    seps = [";", ",", "|", ";;"]
    values = []
    for _ in range(2_000):
        k = int(rng.integers(0, 4))
        if k == 0:
            values.append(None)
            continue
        parts = [
            str(rng.choice(_SPACES)) + str(rng.choice(ids)) + str(rng.choice(_SPACES))
            for _ in range(k)
        ]
        values.append("".join(p + str(rng.choice(seps)) for p in parts[:-1]) + parts[-1])
    index = pd.Index(rng.permutation(len(values)) * 7)
    plain = pd.Series(values, index=index, dtype=object, name="staff_ids")
    expected = list_items(plain)  # the pandas split, for object columns
    found = list_items(plain.astype("string[pyarrow]"))
    assert list(found.index) == list(expected.index)
    assert list(found.astype(object)) == list(expected.astype(object))


def test_national_numbers_asked_of_candidates_only_equal_the_mask() -> None:
    import numpy as np

    from linkage.exchange._extract import _national_numbers
    from linkage.identifiers import national_register_mask

    rng = np.random.default_rng(5)
    shapes = [
        "85073003328",
        "85.07.30-033.28",
        "85 07 30 033 28",
        "\u00a085073003328\u2003",
        "00000000000",
        "85073003327",
        "0470.123.456",
        "+32 470 12 34 56",
        "Kerkstraat 12",
        "12345678901234",
        "",
        None,
    ]
    values = pd.Series(rng.choice(np.array(shapes, dtype=object), 3_000), dtype="string[pyarrow]")
    expected = national_register_mask(values).to_numpy(dtype=bool)
    assert expected.any()
    assert (_national_numbers(values) == expected).all()


@pytest.mark.parametrize(
    "text",
    [
        b'id,name,note\n1, a ,x\n2,,\n3,"","two\nlines"\n4,nan,NA\n',
        b"\xef\xbb\xbfid,name\n1,caf\xc3\xa9\n\n2,\xc2\xa0b\xc2\xa0\n",
        b'id,name\r\n1,"a, b"\r\n2,"say ""hi"""\r\n',
        b"id,id\n1,2\n",  # a repeated name: read by pandas, as before
        b"id,name\n1\n2,b\n",  # a short row: read by pandas, as before
    ],
)
def test_extract_csv_read_by_arrow_equals_pandas(tmp_path: Path, text: bytes) -> None:
    from linkage.io import read_table

    path = tmp_path / "t.csv"
    path.write_bytes(text)
    expected = read_table(path)
    found = read_table(path, arrow_strings=True)
    assert list(found.columns) == list(expected.columns)
    for column in expected.columns:
        assert found[column].astype(object).where(found[column].notna(), None).tolist() == (
            expected[column].astype(object).where(expected[column].notna(), None).tolist()
        )


def test_delivered_files_keep_the_ranges_of_what_is_not_text(config, ring) -> None:
    """Minimum and maximum in a delivered file for dates and numbers, not for text."""
    delivered = run(config, ring=ring, today=TODAY).path
    ranged = set()
    for path in sorted(delivered.glob("*.parquet")):
        meta = pq.ParquetFile(path).metadata
        for i in range(meta.num_columns):
            chunk = meta.row_group(0).column(i)
            text = chunk.physical_type == "BYTE_ARRAY"
            assert chunk.is_stats_set != text, (path.name, chunk.path_in_schema)
            if chunk.is_stats_set:
                ranged.add(chunk.path_in_schema)
    assert {"start_date", "match_probability"} <= ranged


def test_diff_of_deliveries_table_by_table_equals_the_whole_diff(config, ring) -> None:
    first = run(config, ring=ring, today=TODAY)
    before = read_delivery(config.store).tables()  # the first delivery goes with the second
    counted = {
        n: {"added": o["rows"], "changed": 0, "removed": 0}
        for n, o in first.manifest["outputs"].items()
    }
    assert first.changes == counted == _delivery.diff({}, before)
    _edit(config.extracts["VLAIO"]["staff"], lambda f: f.__setitem__("function", "Changed"))
    second = run(config, ring=ring, today=TODAY)
    assert second.changes["staff"]["changed"] > 0
    assert second.changes == _delivery.diff(before, read_delivery(config.store).tables())
