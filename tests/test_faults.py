"""Faults of the exchange's store: a kill at each named point of a run and of a purge,
an audit log that cannot be written, a damaged store, a purge against a full disk
and against files it cannot read.

A kill is simulated at a checkpoint (``_delivery.checkpoint``) by copying the whole
exchange folder as it stands there (the store, the audit log) and stopping the
operation with an exception no handler catches; the copy then replaces the folder,
so that nothing the operation would have done after that point (its handlers
included) is seen, as after SIGKILL. Two real SIGKILLs, in a child process, hold the
simulation to the real thing at the two points the audit found worst.

What must hold: a withdrawal, once recorded, is never undone; every delivery in
force has its audit line; every interrupted operation gets its outcome from the
next one; a damaged store is recovered from its fallback, or refused in one line
that names the repair.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from linkage.cli import EXIT_INPUT, main
from linkage.exceptions import ConfigError
from linkage.exchange import (
    ExchangeConfig,
    erase_subject,
    find_subject,
    load_config,
    purge,
    read_delivery,
    read_events,
    run,
    scan_store,
    verify_store,
)
from linkage.exchange import _delivery as D
from linkage.exchange._audit import dangling
from linkage.exchange._demo import write_exchange
from linkage.exchange._purge import withdrawn_parties
from linkage.synthetic import generate

KEY_ENV = "LINKAGE_MASTER_KEY"
MASTER = "v1:" + "A" * 43 + "="


@pytest.fixture(autouse=True)
def _master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, MASTER)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two delivered exchanges: ``one`` after one run (no fallback kept), ``two``
    after two (the first kept as the fallback)."""
    base = tmp_path_factory.mktemp("faults")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, MASTER)
        run(load_config(write_exchange(generate(n_enterprises=60, seed=11), base / "one")))
        shutil.copytree(base / "one", base / "two")
        staff = base / "two" / "extracts" / "VLAIO" / "staff.csv"
        frame = pd.read_csv(staff, dtype=str, keep_default_na=False)
        frame["function"] = "Changed"
        frame.to_csv(staff, index=False)
        run(load_config(base / "two" / "exchange.toml"))
    return {"one": base / "one", "two": base / "two"}


def _copy(worlds: dict[str, Path], name: str, tmp_path: Path) -> ExchangeConfig:
    folder = tmp_path / "x"
    shutil.copytree(worlds[name], folder)
    return load_config(folder / "exchange.toml")


def _without(config: ExchangeConfig, party: str) -> ExchangeConfig:
    """The config once a withdrawn party is taken out of it."""
    keep = tuple(p for p in config.parties if p != party)
    return dataclasses.replace(config, parties=keep, extracts={p: config.extracts[p] for p in keep})


class _Killed(BaseException):
    """The simulated SIGKILL: no ``except Exception`` catches it."""


def _kill_at(config: ExchangeConfig, stage: str, operation: Callable[[], Any]) -> None:
    """Run ``operation`` until ``stage``; leave the exchange folder as it was there."""
    folder = config.source.parent
    frozen = folder.parent / "as-killed"
    reached = []

    def hook(at: str) -> None:
        if at == stage:
            shutil.copytree(folder, frozen)
            reached.append(at)
            raise _Killed(at)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(D, "checkpoint", hook)
        with pytest.raises(_Killed):
            operation()
    assert reached == [stage]
    shutil.rmtree(folder)
    frozen.rename(folder)


def _ids(config: ExchangeConfig) -> set[str]:
    """Every run, purge and repair id the audit log has a line for."""
    return {
        str(e[k])
        for e in read_events(config.audit_log)
        for k in ("run_id", "purge_id", "repair_id")
        if k in e
    }


def _outcomes(config: ExchangeConfig, key: str, value: str) -> list[str]:
    return [e["outcome"] for e in read_events(config.audit_log) if e.get(key) == value]


def _party_rows(config: ExchangeConfig, party: str) -> int:
    delivery = read_delivery(config.store, hashes=True)
    assert delivery is not None
    return sum(int((f["party"] == party).sum()) for f in delivery.tables().values())


def _deliveries(config: ExchangeConfig) -> list[str]:
    return sorted(p.name for p in (config.store / "deliveries").glob("*"))


# ------------------------------------------------------------------ kills in a run

RUN_POINTS = [
    "read",
    "pseudonymised",
    "linked",
    "wrote enterprises",
    "wrote links_establishments",
    "manifest",
    "audited",
    "staged",
    "renamed",
    "switched",
]


@pytest.mark.parametrize("stage", RUN_POINTS)
def test_a_run_killed_at_each_point(worlds, tmp_path: Path, stage: str) -> None:
    config = _copy(worlds, "two", tmp_path)
    before = D.pointer(config.store)
    _kill_at(config, stage, lambda: run(config))
    killed = read_events(config.audit_log)[-1]["run_id"]  # its start, at least
    in_force = D.pointer(config.store)
    assert in_force == (killed if stage == "switched" else before)
    assert in_force in _ids(config)  # the delivery in force has its line
    assert read_delivery(config.store, hashes=True).run_id == in_force  # and is whole
    again = run(config)
    assert _outcomes(config, "run_id", killed)[-1] == (
        "delivered" if stage == "switched" else "failed"
    )
    assert not dangling(config.audit_log)
    assert again.manifest["previous_run_id"] == in_force
    assert _deliveries(config) == sorted([in_force, again.run_id])


# ---------------------------------------------------------------- kills in a purge

PURGE_POINTS = [
    "withdrawal recorded",
    "purge audited",
    "wrote enterprises",
    "staged",
    "renamed",
    "switched",
    "purged",
    "copies removed",
    "scanned",
    "withdrawal settled",
]


@pytest.mark.parametrize("stage", PURGE_POINTS)
def test_a_purge_killed_at_each_point_is_finished_never_undone(
    worlds, tmp_path: Path, stage: str
) -> None:
    config = _copy(worlds, "two", tmp_path)
    assert _party_rows(config, "TBT") > 0
    _kill_at(config, stage, lambda: purge(config, party="TBT"))
    record = withdrawn_parties(config.store)["TBT"]
    assert record["status"] == ("complete" if stage == "withdrawal settled" else "pending")
    assert D.pointer(config.store) in _ids(config)
    # The next run, TBT still configured: it finishes the purge, then refuses TBT.
    with pytest.raises(ConfigError, match="TBT withdrew"):
        run(config)
    assert withdrawn_parties(config.store)["TBT"]["status"] == "complete"
    assert _party_rows(config, "TBT") == 0
    scan = scan_store(config.store, ("TBT",))
    assert scan["rows_of_purged_parties"] == 0 and not scan["files_of_purged"]
    assert not scan["unproven"], scan
    assert len(_deliveries(config)) == 1 and not (config.store / "previous").exists()
    assert D.pointer(config.store) in _ids(config)
    assert _outcomes(config, "purge_id", record["purge_id"])[-1] == "complete"
    assert not dangling(config.audit_log)
    # Without TBT the feed goes on, and never with TBT's records again.
    after = run(_without(config, "TBT"))
    assert all("TBT" not in o["rows_by_party"] for o in after.manifest["outputs"].values())


def test_a_purge_of_the_same_party_after_a_kill_reports_the_finished_one(
    worlds, tmp_path: Path
) -> None:
    config = _copy(worlds, "two", tmp_path)
    _kill_at(config, "switched", lambda: purge(config, party="TBT"))
    first = withdrawn_parties(config.store)["TBT"]["purge_id"]
    report = purge(config, party="TBT")
    assert report.purge_id == first and report.resumed and report.complete
    assert "resumed" in report.summary()


def test_a_purge_that_fails_after_its_switch_is_not_undone(
    worlds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _copy(worlds, "two", tmp_path)

    def fail(at: str) -> None:
        if at == "scanned":  # where a stray file once failed it, withdrawal unrecorded
            raise RuntimeError("injected")

    monkeypatch.setattr(D, "checkpoint", fail)
    with pytest.raises(RuntimeError):
        purge(config, party="TBT")
    assert D.pointer(config.store) == withdrawn_parties(config.store)["TBT"]["purge_id"]
    monkeypatch.setattr(D, "checkpoint", lambda at: None)
    assert _outcomes(config, "purge_id", withdrawn_parties(config.store)["TBT"]["purge_id"]) == [
        "intent",
        "failed",
    ]
    with pytest.raises(ConfigError, match="TBT withdrew"):
        run(config)
    assert withdrawn_parties(config.store)["TBT"]["status"] == "complete"


_CHILD = """
import os, sys, time
from pathlib import Path
from linkage.exchange import _delivery, load_config, purge, run
marker = Path(sys.argv[2])
def hang(at):
    if at == sys.argv[3]:
        marker.write_text(at)
        time.sleep(60)
_delivery.checkpoint = hang
config = load_config(sys.argv[1])
run(config) if sys.argv[4] == "run" else purge(config, party="TBT")
"""


@pytest.mark.parametrize("operation", ["run", "purge"])
def test_a_real_sigkill_right_after_the_switch(worlds, tmp_path: Path, operation: str) -> None:
    config = _copy(worlds, "two", tmp_path)
    marker = tmp_path / "reached"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(config.source), str(marker), "switched", operation],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the child never reached the switch"
    child.send_signal(signal.SIGKILL)
    child.wait()
    in_force = D.pointer(config.store)
    assert in_force in _ids(config) and dangling(config.audit_log)
    if operation == "run":
        again = run(config)
        assert _outcomes(config, "run_id", in_force)[-1] == "delivered"
        assert again.manifest["previous_run_id"] == in_force
    else:
        assert withdrawn_parties(config.store)["TBT"]["status"] == "pending"
        with pytest.raises(ConfigError, match="TBT withdrew"):
            run(config)
        assert _party_rows(config, "TBT") == 0
    assert not dangling(config.audit_log)


# ------------------------------------------------------------------- the audit log


def test_an_audit_log_that_cannot_be_opened_refuses_the_run_before_any_work(
    worlds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _copy(worlds, "two", tmp_path)
    config.audit_log.unlink()
    config.audit_log.mkdir()  # root writes through permissions: a folder stops anyone
    before = D.pointer(config.store)
    with pytest.raises(ConfigError, match="the audit log cannot be written"):
        run(config)
    assert D.pointer(config.store) == before and not list(config.store.glob(".staging-*"))
    assert main(["exchange", "run", "--config", str(config.source)]) == EXIT_INPUT
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "the audit log cannot be written" in err[0], err


def test_an_audit_log_lost_before_the_intent_delivers_nothing(worlds, tmp_path: Path) -> None:
    config = _copy(worlds, "two", tmp_path)
    before = D.pointer(config.store)

    def lose(at: str) -> None:
        if at == "manifest":
            config.audit_log.rename(config.audit_log.with_suffix(".kept"))
            config.audit_log.mkdir()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(D, "checkpoint", lose)
        with pytest.raises(ConfigError, match="nothing was delivered"):
            run(config)
    assert D.pointer(config.store) == before
    assert not list(config.store.glob(".staging-*")) and len(_deliveries(config)) == 2


def test_an_audit_log_lost_after_the_switch_keeps_the_intent_and_is_settled(
    worlds, tmp_path: Path
) -> None:
    config = _copy(worlds, "two", tmp_path)
    kept = config.audit_log.with_suffix(".kept")

    def lose(at: str) -> None:
        if at == "switched":
            config.audit_log.rename(kept)
            config.audit_log.mkdir()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(D, "checkpoint", lose)
        result = run(config)  # in force: the run succeeds, and warns
    config.audit_log.rmdir()
    kept.rename(config.audit_log)
    assert D.pointer(config.store) == result.run_id
    assert _outcomes(config, "run_id", result.run_id) == ["started", "intent"]
    run(config)
    assert _outcomes(config, "run_id", result.run_id)[-1] == "delivered"


def test_a_purge_with_an_unwritable_audit_log_records_the_withdrawal(
    worlds, tmp_path: Path
) -> None:
    config = _copy(worlds, "two", tmp_path)
    kept = config.audit_log.with_suffix(".kept")
    config.audit_log.rename(kept)
    config.audit_log.mkdir()
    with pytest.raises(ConfigError) as error:
        purge(config, party="TBT")
    assert "withdrawal of TBT is recorded" in str(error.value)
    assert f"linkage exchange purge --config {config.source} --party TBT" in str(error.value)
    assert withdrawn_parties(config.store)["TBT"]["status"] == "pending"
    with pytest.raises(ConfigError, match="audit log cannot be written"):
        run(_without(config, "TBT"))  # nothing runs before the log is fixed
    config.audit_log.rmdir()
    kept.rename(config.audit_log)
    result = run(_without(config, "TBT"))  # finishes the purge first
    assert withdrawn_parties(config.store)["TBT"]["status"] == "complete"
    assert all("TBT" not in o["rows_by_party"] for o in result.manifest["outputs"].values())


def test_a_torn_audit_line_stays_one_bad_line(worlds, tmp_path: Path) -> None:
    config = _copy(worlds, "two", tmp_path)
    lines = len(read_events(config.audit_log))
    with open(config.audit_log, "a") as handle:
        handle.write('{"event": "run", "run_id": "x", "outc')  # a kill mid-write
    run(config)
    assert len(read_events(config.audit_log)) == lines + 3  # started, intent, delivered


# -------------------------------------------------------------- a damaged store


def _in_force(config: ExchangeConfig) -> Path:
    return config.store / "deliveries" / (config.store / "current").read_text().strip()


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[ExchangeConfig], object]] = {
    "table-garbage": lambda c: (_in_force(c) / "enterprises.parquet").write_bytes(b"PAR1"),
    "table-bit-flip": lambda c: _flip(_in_force(c) / "contacts.parquet"),
    "state-missing": lambda c: (_in_force(c) / "state" / "model_enterprises.json").unlink(),
    "manifest-not-json": lambda c: (_in_force(c) / "manifest.json").write_text('{"outputs": '),
    "manifest-a-list": lambda c: (_in_force(c) / "manifest.json").write_text("[1, 2]"),
    "manifest-missing": lambda c: (_in_force(c) / "manifest.json").unlink(),
    "current-elsewhere": lambda c: (c.store / "current").write_text("nowhere\n"),
    "folder-missing": lambda c: shutil.rmtree(_in_force(c)),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_delivery_gives_way_to_the_fallback(
    worlds,
    tmp_path: Path,
    damage: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = _copy(worlds, "two", tmp_path)
    fallback = (config.store / "previous").read_text().strip()
    DAMAGE[damage](config)
    damaged = D.pointer(config.store)
    path = str(config.source)
    # show: the fallback, with a warning naming the repair; show checks sizes only,
    # so a table changed in place with its size kept is for verify and the rest
    assert main(["exchange", "show", "--config", path]) == 0
    if damage != "table-bit-flip":
        assert f"run {fallback}" in capsys.readouterr().out
        assert f"delivery {damaged}" in caplog.text and "--repair" in caplog.text
    # subject find: from the fallback, or (a table changed in place, its size kept)
    # refused in one line naming the repair
    code = main(["exchange", "subject", "find", "--config", path, "--email", "a@b.be"])
    out, err = capsys.readouterr()
    if code != 0:
        assert damage == "table-bit-flip" and code == EXIT_INPUT
        assert err.count("linkage: error:") == 1 and "verify" in err and "--repair" in err
    # verify: found, with the command; exit 1
    assert main(["exchange", "verify", "--config", path]) == 1
    out = capsys.readouterr().out
    assert f"delivery {damaged}" in out and "--repair" in out
    # a run builds on the fallback, says so, and leaves the damaged one behind
    result = run(config)
    assert result.manifest["previous_run_id"] == fallback
    assert result.manifest["fallback_from"].startswith(f"delivery {damaged}")
    assert _deliveries(config) == sorted([fallback, result.run_id])
    assert verify_store(config).ok


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_purge_works_on_a_damaged_store(worlds, tmp_path: Path, damage: str) -> None:
    config = _copy(worlds, "two", tmp_path)
    DAMAGE[damage](config)
    report = purge(config, party="TBT")
    assert report.complete, report.summary()
    assert any("purged the last good delivery" in n for n in report.notes)
    assert _party_rows(config, "TBT") == 0 and len(_deliveries(config)) == 1
    assert not (config.store / "previous").exists()


@pytest.mark.parametrize("damage", ["table-garbage", "manifest-not-json", "current-elsewhere"])
def test_with_no_fallback_commands_refuse_naming_the_repair(
    worlds, tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _copy(worlds, "one", tmp_path)
    DAMAGE[damage](config)
    path = str(config.source)
    repair = f"linkage exchange verify --config {path} --repair"
    for argv in (
        ["exchange", "run", "--config", path],
        ["exchange", "subject", "find", "--config", path, "--email", "a@b.be"],
    ):
        assert main(argv) == EXIT_INPUT, argv
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith("linkage: error: "), err
        assert "no earlier good delivery is kept" in err[0] and "--repair" in err[0]
    assert main(["exchange", "show", "--config", path]) == EXIT_INPUT
    assert "--repair" in capsys.readouterr().err
    # the repair: the damaged delivery set aside, nothing in force, then a new run
    assert main(["exchange", "verify", "--config", path]) == 1
    assert repair in capsys.readouterr().out
    assert main(["exchange", "verify", "--config", path, "--repair"]) == 0
    out = capsys.readouterr().out
    assert "no good delivery is left" in out and "linkage exchange run" in out
    assert D.pointer(config.store) is None
    if damage != "current-elsewhere":
        assert len(list((config.store / "damaged").iterdir())) == 1
    events = [e for e in read_events(config.audit_log) if e["event"] == "repair"]
    assert [e["outcome"] for e in events] == ["intent", "repaired"]
    assert main(["exchange", "run", "--config", path]) == 0
    assert verify_store(config).ok


def test_with_no_fallback_a_purge_removes_every_delivery_and_says_so(
    worlds, tmp_path: Path
) -> None:
    config = _copy(worlds, "one", tmp_path)
    DAMAGE["table-garbage"](config)
    report = purge(config, party="TBT")
    assert report.complete and D.pointer(config.store) is None
    assert "every delivery removed; run again to deliver without TBT" in report.summary()
    assert not list(config.store.rglob("*.parquet"))
    result = run(_without(config, "TBT"))
    assert all("TBT" not in o["rows_by_party"] for o in result.manifest["outputs"].values())


def test_verify_repair_puts_the_fallback_in_force(worlds, tmp_path: Path) -> None:
    config = _copy(worlds, "two", tmp_path)
    fallback = (config.store / "previous").read_text().strip()
    damaged = D.pointer(config.store)
    DAMAGE["table-bit-flip"](config)
    check = verify_store(config, repair=True)
    assert check.ok and check.in_force == fallback
    assert D.pointer(config.store) == fallback and not (config.store / "previous").exists()
    assert (config.store / "damaged" / damaged / "contacts.parquet").exists()
    assert verify_store(config).ok and "sound" in verify_store(config).summary()
    # the damaged copy holds TBT's records too: a purge removes it with the rest
    assert purge(config, party="TBT").complete
    assert not (config.store / "damaged").exists()


# ------------------------------------------------- what a purge scans and survives


def test_a_purge_scans_csv_files_in_the_store(
    worlds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _copy(worlds, "two", tmp_path)
    export = config.store / "exports" / "contacts.csv"
    export.parent.mkdir()
    read_delivery(config.store).table("contacts").to_csv(export, index=False)
    assert main(["exchange", "purge", "--config", str(config.source), "--party", "TBT"]) == 1
    out = capsys.readouterr().out
    assert "NOT COMPLETE" in out and "exports/contacts.csv" in out
    # the withdrawal holds; runs refuse, naming what is left and the command
    with pytest.raises(ConfigError) as error:
        run(_without(config, "TBT"))
    assert "exports/contacts.csv" in str(error.value)
    assert f"linkage exchange purge --config {config.source} --party TBT" in str(error.value)
    export.unlink()
    assert purge(_without(config, "TBT"), party="TBT").complete
    run(_without(config, "TBT"))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("stray.parquet", b"not Parquet at all"),
        ("notes.txt", b"anything"),
        ("reports/extra.tsv", b"party\tx\nTBT\t1\n"),
    ],
)
def test_a_purge_never_fails_on_a_stray_file_and_lists_it(
    worlds, tmp_path: Path, name: str, content: bytes
) -> None:
    config = _copy(worlds, "two", tmp_path)
    (config.store / name).parent.mkdir(exist_ok=True)
    (config.store / name).write_bytes(content)
    report = purge(config, party="TBT")
    assert not report.complete and name in report.summary()
    assert _party_rows(config, "TBT") == 0
    assert withdrawn_parties(config.store)["TBT"]["status"] == "incomplete"
    with pytest.raises(ConfigError, match="not complete"):
        run(config)  # never re-delivered


def test_a_purge_that_cannot_write_leaves_the_party_out_of_force(worlds, tmp_path: Path) -> None:
    config = _copy(worlds, "two", tmp_path)

    def full(at: str) -> None:
        if at == "wrote contacts":
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(D, "checkpoint", full)
        report = purge(config, party="TBT")
    assert report.complete and D.pointer(config.store) is None
    assert "could not be written (OSError" in report.summary()
    assert "run again to deliver without TBT" in report.summary()
    assert not list(config.store.rglob("*.parquet"))
    assert withdrawn_parties(config.store)["TBT"]["status"] == "complete"
    result = run(_without(config, "TBT"))
    assert all("TBT" not in o["rows_by_party"] for o in result.manifest["outputs"].values())


def test_damaged_withdrawal_records_stop_every_run_in_one_line(
    worlds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _copy(worlds, "two", tmp_path)
    assert purge(config, party="TBT").complete
    (config.store / "withdrawn.json").write_text("{")
    path = str(config.source)
    assert main(["exchange", "run", "--config", path]) == EXIT_INPUT
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "withdrawn.json" in err[0] and "damaged" in err[0], err
    assert main(["exchange", "verify", "--config", path]) == 1
    assert "restore withdrawn.json from a backup (the audit log's purges name TBT)" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("stage", ["repair audited", "repaired"])
def test_a_repair_killed_is_settled_and_finished_by_the_next(
    worlds, tmp_path: Path, stage: str
) -> None:
    config = _copy(worlds, "two", tmp_path)
    fallback = (config.store / "previous").read_text().strip()
    DAMAGE["table-garbage"](config)
    _kill_at(config, stage, lambda: verify_store(config, repair=True))
    assert read_delivery(config.store).run_id == fallback  # in force, or the fallback
    repair_id = read_events(config.audit_log)[-1]["repair_id"]
    check = verify_store(config, repair=True)
    assert check.ok and D.pointer(config.store) == fallback
    assert _outcomes(config, "repair_id", repair_id)[-1] == (
        "repaired" if stage == "repaired" else "failed"
    )
    assert not dangling(config.audit_log) and verify_store(config).ok


def test_a_subject_request_killed_after_its_switch_has_its_audit_line(
    worlds, tmp_path: Path
) -> None:
    config = _copy(worlds, "two", tmp_path)
    contacts = read_delivery(config.store).table("contacts").dropna(subset=["email"])
    contact = contacts[~contacts["email"].duplicated(keep=False)].iloc[0]
    (person,) = find_subject(config, email=contact["email"]).people
    _kill_at(
        config,
        "switched",
        lambda: erase_subject(
            config, email=contact["email"], person=person.id, apply=True, reference="REQ-KILLED"
        ),
    )
    request_id = D.pointer(config.store)
    assert request_id is not None and request_id.startswith("erase-")  # in force ...
    assert _outcomes(config, "request_id", request_id) == ["intent"]  # ... and on record
    run(config)
    assert _outcomes(config, "request_id", request_id)[-1] == "delivered"
