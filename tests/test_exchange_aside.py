"""Work a run puts aside on the second core (``exchange/_aside.py``): results and errors
come back as they are, a failed run leaves no child behind, and a run delivers the
same files, byte for byte, with its work put aside or done in line."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sys
from pathlib import Path

import pytest

from linkage.exceptions import SchemaError
from linkage.exchange import _delivery as D
from linkage.exchange import load_config, run
from linkage.exchange._aside import Aside, Beside, can_fork
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)
forks = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="no fork here")


@pytest.fixture(autouse=True)
def _fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work is put aside only when asked (``LINKAGE_FORK=1``): these tests ask."""
    monkeypatch.setenv("LINKAGE_FORK", "1")


def _pid() -> int:
    return os.getpid()


def _fail(message: str) -> None:
    raise SchemaError(message, source="x.csv", column="name", row=3)


class _Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickle makes it again from one arg
        super().__init__(f"{a} and {b}")


def _fail_oddly() -> None:
    raise _Unpicklable(1, 2)


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == me:  # running or not yet waited for
                found.add(int(entry))
    return found


@forks
def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    aside = Aside(_pid)
    assert aside.result() != os.getpid()
    assert aside.result() == aside.result()  # kept


@forks
def test_an_error_comes_back_as_raised() -> None:
    with pytest.raises(SchemaError) as caught:
        Aside(_fail, "bad value").result()
    assert caught.value.source == "x.csv" and caught.value.row == 3
    assert "bad value" in str(caught.value)


@forks
def test_an_error_that_does_not_pickle_is_a_runtime_error_with_its_message() -> None:
    with pytest.raises(RuntimeError, match="1 and 2"):
        Aside(_fail_oddly).result()


def test_without_fork_the_work_is_done_in_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKAGE_FORK")
    assert not can_fork()
    assert Aside(_pid).result() == os.getpid()
    with pytest.raises(SchemaError):
        Aside(_fail, "bad value")


def test_work_beside_runs_in_a_thread_and_its_error_comes_back() -> None:
    import threading

    beside = Beside(threading.get_ident)
    assert beside.result() != threading.get_ident()
    with pytest.raises(SchemaError) as caught:
        Beside(_fail, "bad value").result()
    assert caught.value.row == 3


def test_cancelling_work_beside_waits_for_its_end() -> None:
    import threading

    release, ended = threading.Event(), threading.Event()

    def work() -> None:
        release.wait(5)
        ended.set()
        raise RuntimeError("after its end")

    beside = Beside(work)
    threading.Timer(0.2, release.set).start()
    beside.cancel()  # its error is not raised here: the run's own is
    assert ended.is_set()


@forks
def test_a_cancelled_child_is_gone() -> None:
    import time

    aside = Aside(time.sleep, 30)
    assert aside._pid in _children()
    aside.cancel()
    assert aside._pid == 0 and not _children()
    with pytest.raises(RuntimeError, match="cancelled"):
        aside.result()


# ------------------------------------------------------------------------ in a run


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def exchange():
    return generate(n_enterprises=800, seed=11)


_RUN_ID = re.compile(rb"\d{8}T\d{6}Z-[0-9a-f]{6}")


def _files(folder: Path) -> dict[str, str]:
    """sha256 of every file of a delivery but its manifest (run ids masked in text)."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name == D.MANIFEST:
            continue
        data = path.read_bytes()
        if path.suffix in (".csv", ".html", ".json"):
            data = _RUN_ID.sub(b"RUN", data)
        elif path.parent.name == "quality":  # closed defects: run ids inside Parquet
            import pandas as pd

            data = _RUN_ID.sub(b"RUN", pd.read_parquet(path).to_csv().encode())
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


@forks
def test_a_run_delivers_the_same_with_its_work_aside_or_in_line(
    exchange, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = {}
    for mode in ("aside", "in line"):
        if mode == "in line":
            monkeypatch.delenv("LINKAGE_FORK")
        config = load_config(write_exchange(exchange, tmp_path / mode.replace(" ", "_")))
        first = run(config, ring=ring, today=TODAY)
        (config.store.parent / "extracts" / "VLAIO" / "contacts.csv").write_text(
            (config.store.parent / "extracts" / "VLAIO" / "contacts.csv")
            .read_text()
            .replace("@", "@@", 5)
        )
        second = run(config, ring=ring, today=TODAY)
        made[mode] = (_files(first.path), _files(second.path), second.manifest["changes"])
    assert made["aside"] == made["in line"]
    assert made["aside"][2]["contacts"]["changed"] > 0


@forks
def test_a_run_that_fails_leaves_no_child_and_no_staging(
    exchange, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_exchange(exchange, tmp_path))
    seen: list[set[int]] = []

    def fail(at: str) -> None:
        if at == "pseudonymised":  # the quality checks are still under way aside
            seen.append(_children())
            raise RuntimeError("injected")

    monkeypatch.setattr(D, "checkpoint", fail)
    with pytest.raises(RuntimeError, match="injected"):
        run(config, ring=ring, today=TODAY)
    assert seen and seen[0], "nothing was put aside"
    assert not _children()
    assert not list(config.store.glob(".staging-*"))
