"""Retention that holds (art. 3, 6, 14): a purge removes every copy the tool made and
proves it; the end of the protocol stops every use but the purge; the store's files
are private to the exchange (or its BI group); refusals are logged with their reason.

The world: the synthetic demo exchange (VLAIO's extracts CSV, TBT's Parquet) with
the staff of both parties in one ``mixed`` CSV under a mapped ``party`` header,
delivered once, then given what the subject requests leave (rules, per-request
reports, outputs written outside the store and registered), a staging folder left
by a killed run, as the files' contract in ``exchange/_copies.py`` describes them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import grp
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError
from linkage.exchange import (
    ExchangeConfig,
    Validity,
    load_config,
    purge,
    read_delivery,
    read_events,
    run,
    verify_store,
)
from linkage.exchange._audit import reason
from linkage.exchange._copies import drop_rows
from linkage.exchange._delivery import protect
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)
IDS = ("enterprise_number", "establishment_number", "dossier_id", "contact_id", "staff_id")


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=120, seed=21)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture
def umask() -> Iterator[None]:
    """A permissive umask, as on most systems: what the store must not inherit."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _with_mixed_staff(config_path: Path) -> Path:
    """Both parties' staff in one mixed CSV whose sender column is ``afzender``."""
    folder = config_path.parent
    vlaio = pd.read_csv(folder / "extracts/VLAIO/staff.csv", dtype=str, keep_default_na=False)
    tbt = pd.read_parquet(folder / "extracts/TBT/staff.parquet").astype("string").fillna("")
    mixed = pd.concat([vlaio.assign(afzender="VLAIO"), tbt.assign(afzender="TBT")])
    (folder / "extracts/mixed").mkdir()
    mixed.to_csv(folder / "extracts/mixed/staff.csv", index=False)
    (folder / "extracts/VLAIO/staff.csv").unlink()
    (folder / "extracts/TBT/staff.parquet").unlink()
    text = config_path.read_text()
    for line in ('staff = "extracts/VLAIO/staff.csv"\n', 'staff = "extracts/TBT/staff.parquet"\n'):
        text = text.replace(line, "")
    text += (
        '\n[extracts.mixed]\nstaff = "extracts/mixed/staff.csv"\n'
        '[extracts.mixed.columns.staff]\nparty = "afzender"\n'
    )
    config_path.write_text(text)
    return config_path


@dataclass
class World:
    config: ExchangeConfig
    outside: Path
    needles: dict[str, set[str]]  # party -> values only that party sent or was given


def _needles(small, tables: dict[str, pd.DataFrame]) -> dict[str, set[str]]:
    """Per party, the ids and keys it alone sent (clear ids from the synthetic data,
    keys from the delivery): what must be gone after its purge, and stay after another's."""
    seen: dict[str, set[str]] = {"VLAIO": set(), "TBT": set()}
    frames = [getattr(small, n) for n in ("establishments", "dossiers", "contacts", "staff")]
    frames += list(tables.values())
    for frame in frames:
        for column in frame.columns:
            if column in IDS or column.endswith("_key"):
                for party, values in seen.items():
                    values.update(frame.loc[frame["party"] == party, column].dropna().astype(str))
    # A dossier names the staff on it (``staff_ids``), another party's staff too:
    # the reference is the dossier's sender's data.
    dossiers = small.dossiers
    for party, values in seen.items():
        refs = dossiers.loc[dossiers["party"] == party, "staff_ids"].dropna()
        values.update(s.strip() for text in refs for s in re.split(r"[;,|]", text))
    return {
        "TBT": seen["TBT"] - seen["VLAIO"],
        "VLAIO": seen["VLAIO"] - seen["TBT"],
    }


@pytest.fixture
def world(tmp_path: Path, small, ring: KeyRing) -> World:
    config = load_config(_with_mixed_staff(write_exchange(small, tmp_path / "x")))
    run(config, ring=ring, today=TODAY)
    tables = read_delivery(config.store).tables()
    store = config.store
    contacts = tables["contacts"]
    # What the subject requests leave in the store (the contract of _copies.py).
    subjects = store / "subjects"
    rules = []
    for party in ("VLAIO", "TBT"):
        key = contacts.loc[contacts["party"] == party, "contact_key"].iloc[0]
        rules.append(
            {"action": "remove", "table": "contacts", "key": key, "party": party}
            | {"column": None, "value": None, "request_id": "erase-1", "reference": "R-1"}
        )
    _write_parquet(subjects / "suppressions.parquet", pd.DataFrame(rules))
    sets = [
        {"action": "set", "table": "staff", "key": k, "column": "phone", "value": "+3225550000"}
        | {"party": p, "request_id": "rectify-1", "reference": "R-2"}
        for p in ("VLAIO", "TBT")
        for k in _own_staff(tables, p)[:2]
    ]
    _write_parquet(subjects / "overlays.parquet", pd.DataFrame(sets))
    request = subjects / "requests" / "erase-20261128T000000Z-abcdef"
    request.mkdir(parents=True)
    for party in ("VLAIO", "TBT"):
        rows = contacts[contacts["party"] == party].iloc[:3]
        rows.to_csv(request / f"inform-{party}.csv", index=False)
    # What `subject find --out` wrote outside the store, and registered.
    outside = tmp_path / "answers"
    outside.mkdir()
    lines = []
    for party in ("VLAIO", "TBT"):
        path = outside / f"{party}-contacts.csv"
        contacts[contacts["party"] == party].iloc[:5].to_csv(path, index=False)
        entry = {"path": str(path), "party": party, "request_id": "find-20261128T000000Z-1"}
        lines.append(json.dumps(entry) + "\n")
    (subjects / "outputs.jsonl").write_text("".join(lines))
    # A run killed while it staged its delivery.
    leftover = store / ".staging-20261128T000000Z-dead00"
    leftover.mkdir()
    (leftover / "contacts.parquet").write_bytes(
        (read_delivery(store).path / "contacts.parquet").read_bytes()
    )
    return World(config=config, outside=outside, needles=_needles(small, tables))


def _own_staff(tables: dict[str, pd.DataFrame], party: str) -> list[str]:
    """The keys of ``party``'s staff on none of the other party's dossiers."""
    links = tables["dossier_staff"]
    others = set(links.loc[links["party"] != party, "staff_key"])
    staff = tables["staff"]
    return [k for k in staff.loc[staff["party"] == party, "staff_key"] if k not in others]


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def _everything_written(world: World) -> list[Path]:
    """Every file the tool wrote or read in: the store, the audit log, every
    configured extract (and what is beside it), every registered output's folder."""
    config = world.config
    roots = [config.store, config.audit_log, config.source.parent / "extracts", world.outside]
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.exists():
            files.extend(p for p in root.rglob("*") if p.is_file())
    return sorted(files)


def _found(files: list[Path], needles: set[str]) -> dict[str, set[str]]:
    """The needles in each file, read independently of the tool: a Parquet file's
    every cell as text, any other file's bytes (a needle as a whole word)."""
    pattern = re.compile(
        rb"(?<![A-Za-z0-9_-])("
        + b"|".join(re.escape(n.encode()) for n in sorted(needles, key=len, reverse=True))
        + rb")(?![A-Za-z0-9_-])"
    )
    found: dict[str, set[str]] = {}
    for path in files:
        data = path.read_bytes()
        if data.startswith(b"PAR1"):
            table = pq.read_table(path)
            values: set[str] = set()
            for column in table.columns:
                values.update(str(v) for v in column.cast(pa.string()).to_pylist() if v)
            hits = values & needles
        else:
            hits = {m.decode() for m in pattern.findall(data)}
        if hits:
            found[str(path)] = hits
    return found


# ------------------------------------------------------------- purge: every copy


def test_a_purge_by_party_leaves_no_byte_of_it_in_anything_the_tool_wrote(world) -> None:
    files = _everything_written(world)
    tbt, vlaio = world.needles["TBT"], world.needles["VLAIO"]
    assert len(tbt) > 500 and len(vlaio) > 500
    before = _found(files, tbt)
    # the check itself finds TBT everywhere the tool put it: it can fail
    for where in (
        "extracts/TBT/",
        "extracts/mixed/staff.csv",
        "/deliveries/",
        "subjects/",
        ".staging-",
        "answers/TBT-contacts.csv",
        "inform-TBT.csv",
    ):
        assert any(where in f for f in before), where
    report = purge(world.config, party="TBT")
    assert report.complete, report.summary()
    after = _everything_written(world)
    assert _found(after, tbt) == {}
    still = _found(after, vlaio)  # and VLAIO's data is all still there
    for where in (
        "extracts/VLAIO/",
        "extracts/mixed/staff.csv",
        "/deliveries/",
        "suppressions.parquet",
        "overlays.parquet",
        "inform-VLAIO.csv",
        "answers/VLAIO-contacts.csv",
    ):
        assert any(where in f for f in still), where
    assert set().union(*still.values()) >= {n for n in vlaio if n.startswith("S0")}


def test_a_purge_lists_each_copy_removed_and_each_file_scanned(world) -> None:
    config = world.config
    report = purge(config, party="TBT")
    done = {
        Path(f["file"]).name if f["file"].startswith("/") else f["file"]: f["action"]
        for f in report.files
    }
    for name in ("enterprises.parquet", "contacts.parquet", "dossiers.parquet"):
        assert any(
            Path(f["file"]) == config.source.parent / "extracts/TBT" / name
            and f["action"] == "removed"
            for f in report.files
        ), name
    assert done["staff.csv"].startswith("rewritten without its ")
    assert done["TBT-contacts.csv"] == "removed"
    assert done["subjects/requests/erase-20261128T000000Z-abcdef/inform-TBT.csv"] == "removed"
    assert done["subjects/suppressions.parquet"].startswith("rewritten without its 1 rows")
    assert done["subjects/overlays.parquet"].startswith("rewritten without its 2 rows")
    assert done["subjects/outputs.jsonl"].startswith("rewritten without the 1 outputs")
    assert done[".staging-20261128T000000Z-dead00"] == "removed"
    assert "VLAIO-contacts.csv" not in done and "inform-VLAIO.csv" not in str(done)
    # the mixed file keeps its format and VLAIO's rows as they were sent
    mixed = pd.read_csv(config.extracts["mixed"]["staff"], dtype=str, keep_default_na=False)
    assert set(mixed["afzender"]) == {"VLAIO"} and len(mixed) > 100
    registry = (config.store / "subjects/outputs.jsonl").read_text().splitlines()
    assert [json.loads(line)["party"] for line in registry] == ["VLAIO"]
    # the scan read the store, the extracts and the outputs, and says so file by file
    scanned = {f["file"]: f for f in report.scan["files"]}
    assert scanned[str(config.extracts["TBT"]["enterprises"])]["found"] == "gone"
    assert scanned[str(world.outside / "TBT-contacts.csv")]["found"] == "gone"
    assert "none of the purged parties" in scanned[str(config.extracts["mixed"]["staff"])]["found"]
    assert (
        "none of the purged parties" in scanned[str(world.outside / "VLAIO-contacts.csv")]["found"]
    )
    assert "none of the purged parties" in scanned["subjects/suppressions.parquet"]["found"]
    assert {f["where"] for f in report.scan["files"]} == {"store", "extract", "output"}
    summary = report.summary()
    assert "nothing left" in summary and str(config.extracts["TBT"]["dossiers"]) in summary
    saved = json.loads(next((config.store / "reports").glob("purge-*.json")).read_text())
    assert saved["files"] == [dict(f) for f in report.files]
    assert saved["scan"]["files"] == report.scan["files"]


def test_without_removing_the_copies_the_scan_finds_them(world, monkeypatch) -> None:
    monkeypatch.setattr("linkage.exchange._purge.remove_copies", lambda *a: [])
    report = purge(world.config, party="TBT")
    assert not report.complete
    left = " ".join(report.scan["files_of_purged"])
    for name in (
        "extracts/TBT/enterprises.parquet",
        "extracts/mixed/staff.csv",
        "TBT-contacts.csv",
        "inform-TBT.csv",
        "subjects/suppressions.parquet",
        "subjects/outputs.jsonl",
    ):
        assert name in left, name
    with pytest.raises(ConfigError, match=r"the purge of TBT .* is not complete"):
        run(world.config, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)


def test_purge_all_removes_every_extract_and_output_but_not_vdab_files(world) -> None:
    config = world.config
    report = purge(config, everything=True)
    assert report.complete, report.summary()
    for tables in config.extracts.values():
        assert not any(p.exists() for p in tables.values())
    assert config.employers.exists() and config.sites.exists()
    assert not (config.store / "subjects").exists()
    assert not list(world.outside.iterdir())
    assert _found(_everything_written(world), world.needles["TBT"] | world.needles["VLAIO"]) == {}


def test_a_registered_output_that_is_a_folder_is_left_and_listed(world) -> None:
    config = world.config
    folder = world.outside / "TBT-folder"
    folder.mkdir()
    (folder / "contacts.csv").write_text("x\n1\n")
    with open(config.store / "subjects/outputs.jsonl", "a") as handle:
        handle.write(json.dumps({"path": str(folder), "party": "TBT", "request_id": "f"}) + "\n")
        handle.write("not json\n")
    report = purge(config, party="TBT")
    assert not report.complete and folder.exists()
    assert str(folder) in report.scan["files_of_purged"]
    assert any("outputs.jsonl (1 lines that are not" in u for u in report.scan["unproven"])
    assert "not a file: left for a person" in report.summary()


@pytest.mark.parametrize(
    ("name", "sep", "header"),
    [("a.csv", ",", "party"), ("b.txt", ";", "afzender"), ("c.csv.gz", "\t", "party")],
)
def test_drop_rows_keeps_the_text_format(tmp_path: Path, name: str, sep: str, header: str) -> None:
    path = tmp_path / name
    frame = pd.DataFrame(
        {"id": ["1", "2", "3"], header: ["VLAIO", " TBT ", "VLAIO"], "x": ["", "a;b", "é"]}
    )
    frame.to_csv(path, sep=sep, index=False, compression="gzip" if name.endswith(".gz") else None)
    os.chmod(path, 0o640)
    assert drop_rows(path, ("TBT",), header) == (1, 2)
    back = pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        compression="gzip" if name.endswith(".gz") else None,
    )
    assert back.to_dict("list") == {"id": ["1", "3"], header: ["VLAIO", "VLAIO"], "x": ["", "é"]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert drop_rows(path, ("VLAIO",), header) == (2, 0) and not path.exists()


def test_drop_rows_keeps_the_parquet_schema(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    table = pa.table({"n": pa.array([1, 2, 3], pa.int16()), "party": ["TBT", "VLAIO", None]})
    pq.write_table(table, path)
    assert drop_rows(path, ("TBT",)) == (1, 2)
    back = pq.read_table(path)
    assert back.schema.equals(table.schema) and back.column("n").to_pylist() == [2, 3]
    assert drop_rows(tmp_path / "t.parquet", ("X",)) == (0, 2)
    (tmp_path / "nothing.csv").write_text("id\n1\n")
    assert drop_rows(tmp_path / "nothing.csv", ("TBT",)) is None


# -------------------------------------------------------- the end of the protocol


def _expire(config: ExchangeConfig) -> Path:
    """The config without its renewal: it ended on 2026-05-15."""
    text = config.source.read_text()
    start = text.index("renewals = ")
    config.source.write_text(text[:start] + text[text.index("\n", start) + 1 :])
    return config.source


def test_after_the_end_show_refuses_and_names_purge_all(world, capsys) -> None:
    path = str(_expire(world.config))
    if dt.date.today() <= dt.date(2026, 5, 15):
        pytest.skip("the signed window has not ended yet")
    assert main(["exchange", "show", "--config", path]) == EXIT_INPUT
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "the protocol ended on 2026-05-15" in err[0], err
    assert err[0].endswith(f"linkage exchange purge --config {path} --all")
    event = read_events(world.config.audit_log)[-1]
    assert event["event"] == "read" and event["outcome"] == "refused"
    assert event["reason"].startswith("the protocol ended on 2026-05-15")
    # the purge it names is not refused, and then nothing is left
    assert main(["exchange", "purge", "--config", path, "--all"]) == 0
    assert "nothing left" in capsys.readouterr().out


def test_refuse_expired_is_for_after_the_end_only() -> None:
    validity = Validity(start=dt.date(2025, 11, 15), end=dt.date(2026, 5, 15))
    validity.refuse_expired(dt.date(2025, 1, 1))  # before the start: nothing received
    validity.refuse_expired(dt.date(2026, 5, 15))  # the last day
    with pytest.raises(ConfigError) as error:
        validity.refuse_expired(dt.date(2026, 5, 16))
    assert "purge --config EXCHANGE.toml --all" in str(error.value)
    with pytest.raises(ConfigError, match=r"the protocol has ended; .* purge --config"):
        validity.check(dt.date(2026, 5, 16))


def test_show_shows_the_window_of_the_config_and_logs_the_read(world, capsys) -> None:
    path = str(world.config.source)
    assert main(["exchange", "show", "--config", path]) == 0
    out = capsys.readouterr().out
    assert "protocol valid 2025-11-15 to 2026-05-15, renewed to " in out
    assert "(synthetic demo only: not a signed renewal)" in out
    event = read_events(world.config.audit_log)[-1]
    run_id = read_delivery(world.config.store).run_id
    assert event["event"] == "read" and event["run_id"] == run_id and event["user"]
    assert (
        event["tables"]["contacts"]
        == read_delivery(world.config.store).manifest["outputs"]["contacts"]["rows"]
    )


@pytest.mark.parametrize(
    "renewal", ['{ end = 2027-12-31, reference = "  " }', "{ end = 2027-12-31 }"]
)
def test_a_renewal_needs_its_reference(tmp_path: Path, small, capsys, renewal: str) -> None:
    path = write_exchange(small, tmp_path)
    text = re.sub(r"renewals = \[.*\]", f"renewals = [{renewal}]", path.read_text())
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        "exchange.toml: [validity] renewals[0] reference: a renewal needs the reference "
        "of its signed addendum"
    )
    assert main(["exchange", "show", "--config", str(path)]) == EXIT_INPUT
    assert len(capsys.readouterr().err.splitlines()) == 1


# ------------------------------------------------------------------ file access


def _modes(root: Path) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {"files": set(), "folders": set()}
    for path in (root, *root.rglob("*")):
        kind = "folders" if path.is_dir() else "files"
        found[kind].add(stat.S_IMODE(path.stat().st_mode))
    return found


@pytest.fixture
def plain(tmp_path: Path, small) -> ExchangeConfig:
    """The demo exchange, not yet run."""
    return load_config(write_exchange(small, tmp_path / "plain"))


def test_the_store_is_private_whatever_the_umask(plain, umask, ring) -> None:
    config = plain
    run(config, ring=ring, today=TODAY)
    assert _modes(config.store) == {"files": {0o600}, "folders": {0o700}}
    purge(config, party="TBT")
    assert _modes(config.store) == {"files": {0o600}, "folders": {0o700}}
    assert verify_store(config).ok
    # a file opened up by hand is found, and repaired
    os.chmod(read_delivery(config.store).path / "contacts.parquet", 0o644)
    check = verify_store(config)
    assert not check.ok and "are not 0600/0700" in check.summary()
    assert verify_store(config, repair=True).ok
    assert _modes(config.store) == {"files": {0o600}, "folders": {0o700}}


def _a_group() -> grp.struct_group:
    """A group this user may give files to, other than its own where it can."""
    if os.geteuid() == 0:
        return next(g for g in grp.getgrall() if g.gr_gid != os.getegid())
    return grp.getgrgid(os.getegid())


def test_with_a_group_the_store_is_readable_by_it_alone(plain, umask, ring) -> None:
    group = _a_group()
    config = plain
    text = config.source.read_text()
    config.source.write_text(text.replace("[output]\n", f'[output]\ngroup = "{group.gr_name}"\n'))
    config = load_config(config.source)
    assert config.group == group.gr_name
    run(config, ring=ring, today=TODAY)
    assert _modes(config.store) == {"files": {0o640}, "folders": {0o750}}
    assert {p.stat().st_gid for p in (config.store, *config.store.rglob("*"))} == {group.gr_gid}
    purge(config, party="TBT")
    assert _modes(config.store) == {"files": {0o640}, "folders": {0o750}}
    assert verify_store(config).ok


def test_a_group_that_does_not_exist_is_refused_at_load(plain) -> None:
    text = plain.source.read_text()
    plain.source.write_text(text.replace("[output]\n", '[output]\ngroup = "no-such-grp"\n'))
    with pytest.raises(ConfigError, match=r"\[output\] group: no group 'no-such-grp'"):
        load_config(plain.source)


def test_protect_gives_a_tree_the_access_whatever_the_umask(tmp_path: Path, umask) -> None:
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "sub" / "a.csv").write_text("x\n")
    protect(tmp_path / "out")
    assert _modes(tmp_path / "out") == {"files": {0o600}, "folders": {0o700}}
    group = _a_group()
    protect(tmp_path / "out", group.gr_name)
    assert _modes(tmp_path / "out") == {"files": {0o640}, "folders": {0o750}}
    assert (tmp_path / "out" / "sub" / "a.csv").stat().st_gid == group.gr_gid


# ------------------------------------------------------------------------ audit


def test_refusals_are_logged_with_their_reason(world) -> None:
    config = world.config
    signed = _expire(config)
    with pytest.raises(ConfigError) as error:
        run(load_config(signed), today=TODAY)
    event = read_events(config.audit_log)[-1]
    assert event["outcome"] == "failed" and event["reason"] == str(error.value)
    with pytest.raises(ConfigError) as error:
        purge(config, party="NOPE")
    event = read_events(config.audit_log)[-1]
    assert (event["event"], event["outcome"]) == ("purge", "refused")
    assert event["reason"] == str(error.value)
    with open(config.store / ".lock", "a+") as handle:  # another process holds the store
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError) as error:
            verify_store(config)
        with pytest.raises(ConfigError):
            purge(config, party="TBT")
    verify_line, purge_line = read_events(config.audit_log)[-2:]
    assert verify_line["event"] == "verify" and verify_line["outcome"] == "failed"
    assert "another run, purge or request" in verify_line["reason"]
    assert purge_line["outcome"] == "refused" and "another run" in purge_line["reason"]


def test_a_reason_never_quotes_what_the_library_did_not_write() -> None:
    assert reason(ValueError("could not convert 'Jan Peeters'")) == (
        "ValueError (its message is not logged: it may quote a value)"
    )
    assert "85073003328" not in reason(ConfigError("a value 85.07.30-033.28 in it"))
    assert reason(ConfigError("[output] group: no group 'x'")) == "[output] group: no group 'x'"
