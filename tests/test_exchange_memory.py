"""What a run lets go and gives back (issue 13: the feed under 2 GiB at 485k): the
tables written one at a time and let go, the linked extracts' columns, the known
pseudonyms taken once, hashing a block of values at a time, Arrow's pool for the run;
each with the same output as before."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linkage._memory import give_back, returning_pool
from linkage.exchange import _run as R
from linkage.exchange import _shape, load_config, run
from linkage.exchange._demo import write_exchange
from linkage.keys import KeyRing
from linkage.synthetic import generate

PSEUDONYMISE = sys.modules["linkage.pseudonymise"]
TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=200, seed=5)


def test_a_run_delivers_in_small_pages(tmp_path: Path, small, ring: KeyRing, monkeypatch) -> None:
    get = getattr(getattr(np, "_core", np).multiarray, "_get_madvise_hugepage", None)
    if get is None:
        pytest.skip("this numpy has no huge-page switch")
    seen = []
    deliver = R._deliver

    def noting(*args, **kwargs):
        seen.append(get())
        return deliver(*args, **kwargs)

    monkeypatch.setattr(R, "_deliver", noting)
    before = get()
    run(load_config(write_exchange(small, tmp_path)), ring=ring, today=TODAY)
    assert seen == [False]
    assert get() is before


def test_give_back_runs_and_keeps_what_is_held() -> None:
    table = pa.table({"a": pa.array(range(100_000))})
    give_back()
    assert table.column("a")[99_999].as_py() == 99_999


_HEAPS = """
import ctypes, os, sys, tempfile, threading
from linkage._memory import _LIBC, few_arenas
if sys.argv[1] == "few":
    few_arenas(2)
ready = threading.Barrier(6)
def work():
    held = [bytearray(4096) for _ in range(100)]  # glibc's malloc, this thread's heap
    ready.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
fd, path = tempfile.mkstemp()
os.close(fd)
_LIBC.fopen.restype = ctypes.c_void_p
out = ctypes.c_void_p(_LIBC.fopen(path.encode(), b"w"))
_LIBC.malloc_info(0, out)
_LIBC.fclose(out)
print(open(path).read().count("<heap nr="))
os.unlink(path)
"""


def _heaps(mode: str) -> int:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _HEAPS, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_few_arenas_has_six_threads_share_two_heaps() -> None:
    """glibc's heaps (``malloc_info``), in a fresh process: six threads that allocate
    at once get heaps of their own by default, two in all after ``few_arenas(2)``."""
    from linkage._memory import _LIBC

    if _LIBC is None or not hasattr(_LIBC, "malloc_info"):
        pytest.skip("not glibc")
    assert _heaps("default") > 2
    assert _heaps("few") == 2


def test_the_command_line_limits_the_heaps_before_its_work(monkeypatch) -> None:
    import linkage.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "few_arenas", lambda: calls.append("few_arenas"))
    monkeypatch.setattr(cli, "_run", lambda args: calls.append("run") or 0)
    assert cli.main(["exchange", "show", "--config", "x.toml"]) == 0
    assert calls == ["few_arenas", "run"]


def test_returning_pool_is_jemalloc_inside_and_the_default_again_after() -> None:
    before = pa.default_memory_pool().backend_name
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    with returning_pool():
        assert pa.default_memory_pool().backend_name == "jemalloc"
        made = pa.array(["x"] * 1000)
    assert pa.default_memory_pool().backend_name == before
    assert made[999].as_py() == "x"  # made in jemalloc, still readable after


def test_returning_pool_gives_the_default_back_on_error() -> None:
    before = pa.default_memory_pool().backend_name
    with pytest.raises(RuntimeError), returning_pool():
        raise RuntimeError("a failed run")
    assert pa.default_memory_pool().backend_name == before


class _Frame(pd.DataFrame):
    """A frame that can be referred to weakly (to see when it is let go)."""

    @property
    def _constructor(self) -> type[_Frame]:
        return _Frame


def test_write_each_lets_each_table_go_once_sorted_and_keeps_their_order(
    tmp_path: Path,
) -> None:
    tables = {
        name: _Frame({"x": [3, 1, 2], "party": ["VLAIO", "TBT", "VLAIO"]})
        for name in ("enterprises", "contacts", "establishments", "staff")
    }
    alive = {name: weakref.ref(frame) for name, frame in tables.items()}
    seen: list[str] = []

    def then(name: str, table: pa.Table) -> None:
        # The tables not linked go first; each is let go once sorted (here: called
        # with its sorted copy), before its file is written.
        seen.append(name)
        assert all(alive[done]() is None for done in seen)

    written = R._write_each(tmp_path, tables, metadata={}, then=then)
    assert tables == {}
    assert seen == ["contacts", "staff", "enterprises", "establishments"]
    assert list(written) == ["enterprises", "contacts", "establishments", "staff"]
    for name in written:
        assert pq.read_table(tmp_path / f"{name}.parquet").num_rows == 3


def test_write_each_two_at_a_time_writes_the_same_and_starts_none_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("enterprises", "contacts", "establishments", "staff", "dossiers")

    def tables() -> dict[str, pd.DataFrame]:
        return {
            n: pd.DataFrame({"x": [3, 1, 2], "party": ["VLAIO", "TBT", "VLAIO"]}) for n in names
        }

    files = {}
    for workers in (1, 2):
        folder = tmp_path / str(workers)
        folder.mkdir()
        given = tables()
        written = R._write_each(folder, given, metadata={}, then=lambda *_: None, workers=workers)
        assert given == {} and list(written) == list(names)
        files[workers] = {n: (folder / f"{n}.parquet").read_bytes() for n in names}
    assert files[1] == files[2]

    write = R.D.write_tables
    started: list[str] = []

    def failing(folder, one, **kwargs):
        (name,) = one
        started.append(name)
        if name == "contacts":
            raise OSError("disk full")
        return write(folder, one, **kwargs)

    monkeypatch.setattr(R.D, "write_tables", failing)
    (tmp_path / "failed").mkdir()
    with pytest.raises(OSError, match="disk full"):
        R._write_each(tmp_path / "failed", tables(), metadata={}, then=lambda *_: None, workers=1)
    assert started == ["contacts"]  # the first not linked: none after it


def test_write_each_within_the_largest_has_no_more_at_once_than_the_largest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {"dossiers": 700, "staff": 200, "contacts": 1000, "amounts": 250, "services": 100}
    size = {n: 8 * r for n, r in rows.items()}  # one int64 column
    lock = threading.Lock()
    writing: dict[str, int] = {}
    started: list[str] = []
    most, pairs = [0], []

    def tables() -> dict[str, pd.DataFrame]:
        return {n: pd.DataFrame({"x": np.arange(r, dtype=np.int64)}) for n, r in rows.items()}

    def fake(folder, one, **kwargs):
        (name,) = one
        with lock:
            started.append(name)
            writing[name] = size[name]
            most[0] = max(most[0], sum(writing.values()))
            pairs.extend([tuple(sorted(writing))] if len(writing) == 2 else [])
        if name == fails:
            raise OSError("disk full")
        time.sleep(0.05)
        with lock:
            del writing[name]
        return {one.popitem()[0]: {}}

    monkeypatch.setattr(R.D, "write_tables", fake)
    fails = None
    kwargs = {"metadata": {}, "then": lambda *_: None, "workers": 2, "within_largest": True}
    assert list(R._write_each(tmp_path, tables(), **kwargs)) == list(rows)
    assert started[0] == "contacts"  # the largest first, alone
    assert most[0] <= size["contacts"]
    assert ("amounts", "dossiers") in pairs  # two at once where they fit
    started.clear()
    writing.clear()
    fails = "contacts"
    with pytest.raises(OSError, match="disk full"):
        R._write_each(tmp_path, tables(), **kwargs)
    assert started == ["contacts"]  # the one waiting beside it is not started


def test_with_takes_no_copy_when_every_number_is_there() -> None:
    frame = pd.DataFrame({"n": pd.array(["1", "2"], dtype="string[pyarrow]")})
    assert _shape._with(frame, "n") is frame
    holes = pd.DataFrame({"n": pd.array(["1", None, "3"], dtype="string[pyarrow]")})
    assert _shape._with(holes, "n")["n"].tolist() == ["1", "3"]


@pytest.mark.parametrize("at_once", [1, 3, 1 << 16])
def test_pseudonyms_hashed_a_block_at_a_time_are_the_same(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    values = pd.Series(["a", None, "b", "c", "a", " d ", "e", "f"], dtype="string[pyarrow]")
    whole = PSEUDONYMISE.pseudonymise(values, ring, domain="contact")
    monkeypatch.setattr(PSEUDONYMISE, "_HASHED_AT_ONCE", at_once)
    blocks = PSEUDONYMISE.pseudonymise(values, ring, domain="contact")
    pd.testing.assert_series_equal(blocks, whole)
    none = PSEUDONYMISE.pseudonymise(values.iloc[:0], ring, domain="contact")
    assert len(none) == 0


def test_shape_takes_the_known_pseudonyms_once(tmp_path: Path, small, ring: KeyRing) -> None:
    config = load_config(write_exchange(small, tmp_path))
    first = run(config, ring=ring, today=TODAY)
    extracts = R.read_extracts(config, invalid_numbers="refuse")
    known = _shape.known_keys(R.D.read_delivery(config.store), ring.current)
    assert set(known) == {"enterprise", "establishment", "dossier"}
    taken = _shape.shape(extracts.tables, ring, known=known)
    assert known == {}  # each domain's let go once used
    anew = _shape.shape(extracts.tables, ring)
    for name, frame in anew.items():
        pd.testing.assert_frame_equal(taken[name], frame)
    delivered = pq.read_table(first.path / "enterprises.parquet").to_pandas()
    assert set(taken["enterprises"]["enterprise_key"]) == set(delivered["enterprise_key"])


def test_shaped_tables_come_each_once_the_linked_last_and_the_other_extracts_are_let_go(
    tmp_path: Path, small, ring: KeyRing
) -> None:
    config = load_config(write_exchange(small, tmp_path))
    extracts = R.read_extracts(config, invalid_numbers="refuse")
    given = dict(extracts.tables)
    made = list(_shape.shaped(given, ring))
    names = [name for name, _ in made]
    assert sorted(names) == sorted(_shape.TABLES)
    assert names[-2:] == ["enterprises", "establishments"]  # written beside the links
    assert set(given) == {"enterprises", "establishments"}  # the links read them
    whole = _shape.shape(extracts.tables, ring)
    assert list(whole) == list(_shape.TABLES)
    for name, frame in made:
        pd.testing.assert_frame_equal(whole[name], frame)
        assert frame.index.equals(pd.RangeIndex(len(frame)))


def test_lazy_keys_are_codes_until_written_and_written_the_same(
    tmp_path: Path, small, ring: KeyRing
) -> None:
    """A run's tables not linked hold their keys as Arrow dictionaries (at 485k the
    shaping peaked about 300 MB lower); their files are byte for byte the text keys'."""
    config = load_config(write_exchange(small, tmp_path))
    extracts = R.read_extracts(config, invalid_numbers="refuse")
    lazy = dict(_shape.shaped(dict(extracts.tables), ring, lazy=True))
    whole = _shape.shape(extracts.tables, ring)
    coded = 0
    for name, frame in lazy.items():
        for column in frame.columns:
            array = pa.array(frame[column].array)
            if pa.types.is_dictionary(array.type):
                coded += 1
                assert name not in ("enterprises", "establishments")  # the links read them
                assert column.endswith("_key")
                decoded = array.dictionary_decode().to_pylist()
                assert (
                    decoded
                    == whole[name][column]
                    .astype(object)
                    .where(whole[name][column].notna(), None)
                    .tolist()
                )
        written = {}
        for label, tables in (("lazy", lazy), ("text", whole)):
            folder = tmp_path / label
            folder.mkdir(exist_ok=True)
            R.D.write_tables(folder, {name: tables[name]}, checkpoints=False)
            written[label] = (folder / f"{name}.parquet").read_bytes()
        assert written["lazy"] == written["text"], name
    assert coded == 14  # every key of the seven tables not linked


def test_linked_extracts_keep_what_the_links_and_quality_read(tmp_path: Path, small) -> None:
    config = load_config(write_exchange(small, tmp_path))
    extracts = R.read_extracts(config, invalid_numbers="refuse")
    ent = R._as_linked(extracts.tables["enterprises"], config, "enterprises")
    est = R._as_linked(extracts.tables["establishments"], config, "establishments")
    spec = config.links["enterprises"].spec
    read = {c for f in spec.fields for c in f.source_for("left")}
    assert read | set(R._COMPARED) <= set(ent.columns)
    assert {"activity", "legal_form", "start_date"}.isdisjoint(ent.columns)  # let go
    assert {"establishment_number", "enterprise_number", "party"} <= set(est.columns)
    assert len(ent) == len(extracts.tables["enterprises"])
