"""Bad input on the command line (issue 16, "Bad input"): every case ends in one line
``linkage: error: ...`` that names the file, exit code 3 (bad input) or 4 (a file
that cannot be read or written), no traceback, and no output file, whole or half.

The bad files are made in each test's folder: Parquet damaged, truncated, empty or
not Parquet at all; CSV in latin-1 with ``;`` separators (``Lëuven``), in UTF-16,
with a quote never closed, empty or a header only; a gzip cut short; TOML with bytes
that are not UTF-8 and renewals that are not tables; a delivery store with a damaged
manifest or table. Each case runs through :func:`linkage.cli.main` as a test id of
its own (``command-file``); a few run in a subprocess, to see the real stderr with
its logging; a seeded fuzz of damaged files runs through the readers and the
command line. The whole module takes a few seconds.

Cases that need a change in ``linkage.exchange`` are marked ``xfail(strict=True)``
with the change in their reason, so that they fail loudly once it is made.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import linkage.cli
import linkage.keys
from linkage.cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_IO, main
from linkage.exceptions import LinkageError
from linkage.exchange._demo import write_exchange
from linkage.io import read_table
from linkage.keys import KeyRing
from linkage.synthetic import SyntheticExchange, generate

PASS = "correct horse battery staple"
MASTER = "v1:" + "A" * 43 + "="
EXCHANGE = "vlaio-vdab-2025"
# What linkage.io.atomic_path leaves behind if a write is cut: ".name.XXXX.tmp|.old".
LEFTOVER = re.compile(r"^\..+\.(tmp|old)$")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(linkage.keys, "SCRYPT_N", 2**10)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    monkeypatch.setenv("LINKAGE_MASTER_KEY", MASTER)
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------ shared inputs


@dataclass(frozen=True)
class World:
    """Good inputs, made once: the tables a bad file stands in for, and a key file."""

    folder: Path
    exchange: Path  # a written exchange (config, extracts, VDAB files), no delivery
    delivered: Path  # the same after one run: a store with a delivery in force

    def _table(self, name: str) -> str:
        return str(self.folder / f"{name}.parquet")

    enterprises = property(lambda self: self._table("enterprises"))
    employers = property(lambda self: self._table("employers"))
    establishments = property(lambda self: self._table("establishments"))
    sites = property(lambda self: self._table("sites"))
    truth_enterprises = property(lambda self: self._table("truth_enterprises"))
    key = property(lambda self: str(self.folder / "exchange.key"))


@pytest.fixture(scope="module")
def synthetic() -> SyntheticExchange:
    return generate(n_enterprises=30, seed=3)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, synthetic: SyntheticExchange) -> World:
    folder = tmp_path_factory.mktemp("good")
    synthetic.write(folder / "tables")
    for name in ("enterprises", "employers", "establishments", "sites", "truth_enterprises"):
        shutil.copy(folder / "tables" / f"{name}.parquet", folder / f"{name}.parquet")
    KeyRing.generate(exchange=EXCHANGE).save(
        folder / "exchange.key", passphrase=PASS, scrypt_n=2**10
    )
    exchange = folder / "exchange"
    write_exchange(synthetic, exchange, columns={})
    delivered = folder / "delivered"
    shutil.copytree(exchange, delivered)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINKAGE_MASTER_KEY", MASTER)
        assert main(["-q", "exchange", "run", "--config", str(delivered / "exchange.toml")]) == 0
    return World(folder=folder, exchange=exchange, delivered=delivered)


# ------------------------------------------------------------------ the bad files


def _good_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "enterprise_number": ["0403170701", "0403.170.701", "0887010632"],
            "employer_id": ["E1", "E2", "E3"],
            "name": ["Aannemer Peeters", "Brouwerij Lëuven", "Café Zuid"],
        }
    )


def _parquet_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(_good_frame(), preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def _csv_text() -> str:
    return _good_frame().to_csv(index=False)


def _latin1_semicolons() -> bytes:
    return _csv_text().replace(",", ";").encode("latin-1")


def _corrupt_parquet() -> bytes:
    good = bytearray(_parquet_bytes())
    good[4 : len(good) // 2] = bytes(len(good) // 2 - 4)  # the pages zeroed, footer kept
    return bytes(good)


def _truncated_gzip() -> bytes:
    whole = gzip.compress(_csv_text().encode())
    return whole[: len(whole) // 2]


def _bad_pages_parquet() -> bytes:
    good = bytearray(_parquet_bytes())
    for at in range(8, len(good) // 2, 7):
        good[at] ^= 0x5A
    return bytes(good)


#: name -> content of a file that is not the table its name says (``None``: a folder).
BAD_TABLES: dict[str, Callable[[], bytes | None]] = {
    "empty.csv": lambda: b"",
    "empty.parquet": lambda: b"",
    "header-only.csv": lambda: _csv_text().splitlines()[0].encode() + b"\n",
    "zero-rows.parquet": lambda: _zero_rows(),
    "truncated.parquet": lambda: _parquet_bytes()[: len(_parquet_bytes()) // 2],
    "truncated-footer.parquet": lambda: _parquet_bytes()[:-10],
    "magic-only.parquet": lambda: b"PAR1",
    "corrupt.parquet": _corrupt_parquet,
    "bad-pages.parquet": _bad_pages_parquet,
    "csv-named.parquet": lambda: _csv_text().encode(),
    "latin1-semicolons.csv": _latin1_semicolons,
    "latin1.csv": lambda: _csv_text().encode("latin-1"),
    "utf16.csv": lambda: _csv_text().encode("utf-16"),
    "binary.csv": lambda: bytes(range(256)) * 8,
    "unterminated-quote.csv": lambda: _csv_text().encode() + b'"0403170701,E9,never closed\n',
    "quote-in-header.csv": lambda: b'"enterprise_number,name\n1,x\n',
    "semicolons.csv": lambda: _csv_text().replace(",", ";").encode(),
    "truncated.csv.gz": _truncated_gzip,
    "not-gzip.csv.gz": lambda: _csv_text().encode(),
    "spreadsheet.xlsx": lambda: b"PK\x03\x04",
    "folder.csv": lambda: None,
}


def _zero_rows() -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(_good_frame().iloc[:0], preserve_index=False)
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _make(folder: Path, name: str) -> str:
    content = BAD_TABLES[name]()
    path = folder / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return name


# ------------------------------------------------------------------ the commands


@dataclass(frozen=True)
class Command:
    """A command that reads a table: its argv around the table, and what it writes."""

    argv: Callable[[World, str], list[str]]
    outputs: tuple[str, ...] = ()


TABLE_COMMANDS: dict[str, Command] = {
    "check-numbers": Command(
        lambda w, t: ["check-numbers", t, "--column", "enterprise_number", "--out", "out.csv"],
        ("out.csv",),
    ),
    "link-left": Command(
        lambda w, t: ["link", t, w.employers, "--preset", "enterprises", "--out", "links.csv"],
        ("links.csv",),
    ),
    "link-right": Command(
        lambda w, t: ["link", w.enterprises, t, "--preset", "enterprises", "--out", "links.csv"],
        ("links.csv",),
    ),
    "link-parents": Command(
        lambda w, t: [
            *("link", w.establishments, w.sites, "--preset", "establishments"),
            *("--parents", t, "--out", "links.csv"),
        ],
        ("links.csv",),
    ),
    "evaluate-links": Command(lambda w, t: ["evaluate", t, w.truth_enterprises]),
    "evaluate-truth": Command(lambda w, t: ["evaluate", w.truth_enterprises, t]),
    "pseudonymise": Command(
        lambda w, t: [
            *("pseudonymise", t, "--column", "enterprise_number", "--domain", "enterprise"),
            *("--master-env", "--exchange", EXCHANGE, "--out", "pseudonyms.csv"),
        ],
        ("pseudonyms.csv",),
    ),
    "crosswalk": Command(
        lambda w, t: [
            *("keys", "crosswalk", t, "--column", "enterprise_number", "--domain", "enterprise"),
            *("--old", "1", "--key", w.key, "--out", "walk.csv"),
        ],
        ("walk.csv",),
    ),
}


# ------------------------------------------------------------------ the assertion


def one_line(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    *,
    names: str,
    outputs: tuple[str, ...] = (),
    codes: tuple[int, ...] = (EXIT_INPUT, EXIT_IO),
) -> str:
    """Run ``argv``: exit 3 or 4, one line on stderr naming ``names``, no traceback,
    none of ``outputs`` written and no temporary left. Returns the line."""
    folder = Path.cwd()
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("linkage: error: "), err
    assert code in codes, (code, err)
    assert names in lines[0], (names, lines[0])
    for output in outputs:
        assert not (folder / output).exists(), f"{output} was written"
    assert not [p for p in folder.rglob("*") if LEFTOVER.match(p.name)], "temporary left"
    return lines[0].removeprefix("linkage: error: ")


#: Files a strict reader refuses that ``link`` and ``evaluate``, which find a CSV's
#: separator and encoding, read as they are (tests/test_cli_files.py).
SNIFFED = {"latin1-semicolons.csv", "latin1.csv", "utf16.csv", "semicolons.csv"}


def _cases(table: dict[str, Callable[[], bytes | None]]) -> Iterator[object]:
    for command in TABLE_COMMANDS:
        for name in table:
            if name in SNIFFED and command.startswith(("link", "evaluate")):
                continue
            yield pytest.param(command, name, id=f"{command}-{name}")


@pytest.mark.parametrize(("command", "name"), list(_cases(BAD_TABLES)))
def test_a_bad_table_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World, command: str, name: str
) -> None:
    table = _make(tmp_path, name)
    spec = TABLE_COMMANDS[command]
    one_line(capsys, spec.argv(world, table), names=name, outputs=spec.outputs)


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("empty.parquet", "not a Parquet file, or a damaged one"),
        ("truncated.parquet", "not a Parquet file, or a damaged one"),
        ("zero-rows.parquet", "no rows"),
        ("latin1-semicolons.csv", "not UTF-8 text (byte 0xeb on line 3); save it as UTF-8 CSV"),
        ("unterminated-quote.csv", "not a well-formed CSV"),
        ("empty.csv", "empty file"),
        ("semicolons.csv", "separated by ';'? save it comma-separated"),
        ("truncated.csv.gz", "a damaged or truncated gzip file"),
        ("not-gzip.csv.gz", "not a gzip file, though named .gz"),
    ],
)
def test_what_the_line_says(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, detail: str
) -> None:
    _make(tmp_path, name)
    line = one_line(capsys, ["check-numbers", name, "--column", "enterprise_number"], names=name)
    assert line.startswith(f"{name}") and detail in line


def test_damaged_pandas_metadata_is_read_without_it(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(_good_frame(), preserve_index=False)
    for i, meta in enumerate([b"{not json", b"\xff\xfe", b"[]", b'{"index_columns": ["x"]}']):
        path = tmp_path / f"meta{i}.parquet"
        pq.write_table(table.replace_schema_metadata({b"pandas": meta}), path)
        for arrow_strings in (False, True):
            read = read_table(path, arrow_strings=arrow_strings)
            assert read["name"].tolist() == _good_frame()["name"].tolist()


# ------------------------------------------------------------- specs, models, TOML


TOML_BYTES = {
    "not-utf8": b"\xff\xfe[validity]\n",
    "latin1": "protocol = 'Lëuven'\n".encode("latin-1"),
    "invalid": b"[validity\n",
    "empty": b"",
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("kind", list(TOML_BYTES))
def test_a_bad_spec_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World, kind: str
) -> None:
    (tmp_path / "spec.toml").write_bytes(TOML_BYTES[kind])
    argv = ["link", world.enterprises, world.employers, "--spec", "spec.toml", "--out", "l.csv"]
    one_line(capsys, argv, names="spec.toml", outputs=("l.csv",))


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe", b'{"format": 3', b"[1, 2]", b'{"format": 3}', b"null"]
)
def test_a_bad_model_is_one_line(
    capsys: pytest.CaptureFixture[str], world: World, content: bytes
) -> None:
    Path("model.json").write_bytes(content)
    argv = [
        *("link", world.enterprises, world.employers, "--preset", "enterprises"),
        *("--model", "model.json", "--out", "l.csv"),
    ]
    one_line(capsys, argv, names="model.json", outputs=("l.csv",))


CONFIG_EDITS = [
    *(f"toml-{kind}" for kind in TOML_BYTES),
    "toml-latin1-protocol",
    "renewal-a-number",
    "renewal-a-string",
    "renewals-a-string",
    "renewals-a-table",
    "renewal-end-text",
    "renewal-without-end",
    "validity-a-number",
    "extracts-a-path",
]


@pytest.fixture(scope="module")
def config_edits(world: World) -> dict[str, bytes]:
    """The demo's config, each way wrong (every renewal edit on its one line)."""
    text = (world.exchange / "exchange.toml").read_text()
    renewals = re.search(r"^renewals = \[(\{.*\})\]$", text, flags=re.M)
    assert renewals is not None
    one = renewals.group(1)
    edits = {
        **{f"toml-{k}": v for k, v in TOML_BYTES.items()},
        "toml-latin1-protocol": text.replace("synthetic demo", "démo").encode("latin-1"),
        "renewal-a-number": text.replace(one, f"5, {one}").encode(),
        "renewal-a-string": text.replace(one, f'"soon", {one}').encode(),
        "renewals-a-string": text.replace(f"[{one}]", '"soon"').encode(),
        "renewals-a-table": text.replace(f"[{one}]", one).encode(),
        "renewal-end-text": re.sub(r"\{ end = [0-9-]+", "{ end = 'soon'", text).encode(),
        "renewal-without-end": re.sub(r"\{ end = [0-9-]+, ", "{ ", text).encode(),
        "validity-a-number": re.sub(
            r"\[validity\].*?\n\n", "validity = 5\n\n", text, flags=re.S
        ).encode(),
        "extracts-a-path": text.replace(
            "[extracts.VLAIO]\n", "[extracts]\nVLAIO = 'x.csv'\n[extracts.X]\n"
        ).encode(),
    }
    assert list(edits) == CONFIG_EDITS and all(v != text.encode() for v in edits.values())
    return edits


CONFIG_COMMANDS = {
    "show": ["exchange", "show"],
    "run": ["exchange", "run"],
    "purge": ["exchange", "purge", "--party", "TBT"],
    "find": ["exchange", "subject", "find", "--email", "a@b.be"],
}


@pytest.mark.parametrize("command", list(CONFIG_COMMANDS))
@pytest.mark.parametrize("edit", CONFIG_EDITS)
def test_a_bad_exchange_config_is_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    world: World,
    config_edits: dict[str, bytes],
    edit: str,
    command: str,
) -> None:
    folder = tmp_path / "x"
    shutil.copytree(world.exchange, folder)
    (folder / "exchange.toml").write_bytes(config_edits[edit])
    argv = [*CONFIG_COMMANDS[command], "--config", str(folder / "exchange.toml")]
    one_line(capsys, argv, names="exchange.toml")
    assert not (folder / "delivery" / "current").exists()


def test_a_config_that_is_a_folder_or_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "dir.toml").mkdir()
    one_line(capsys, ["exchange", "show", "--config", "dir.toml"], names="dir.toml")
    one_line(capsys, ["exchange", "run", "--config", "none.toml"], names="none.toml")


# ------------------------------------------------------------- the exchange's files


#: An extract or VDAB file of the written exchange -> the bad tables put in its place.
EXTRACT_FILES = {
    "extracts/VLAIO/enterprises.csv": [
        "empty.csv",
        "header-only.csv",
        "latin1-semicolons.csv",
        "latin1.csv",
        "utf16.csv",
        "binary.csv",
        "unterminated-quote.csv",
        "semicolons.csv",
    ],
    "extracts/VLAIO/staff.csv": ["latin1-semicolons.csv", "unterminated-quote.csv", "empty.csv"],
    "extracts/TBT/enterprises.parquet": [
        "empty.parquet",
        "zero-rows.parquet",
        "truncated.parquet",
        "truncated-footer.parquet",
        "magic-only.parquet",
        "corrupt.parquet",
        "bad-pages.parquet",
        "csv-named.parquet",
    ],
    "extracts/TBT/contacts.parquet": ["truncated.parquet", "empty.parquet"],
    "vdab/employers.parquet": ["truncated.parquet", "empty.parquet", "csv-named.parquet"],
    "vdab/sites.parquet": ["truncated.parquet", "zero-rows.parquet"],
}


@pytest.mark.parametrize(
    ("target", "bad"),
    [
        pytest.param(target, bad, id=f"{target.split('/', 1)[1]}-{bad}")
        for target, bads in EXTRACT_FILES.items()
        for bad in bads
    ],
)
def test_a_bad_extract_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World, target: str, bad: str
) -> None:
    folder = tmp_path / "x"
    shutil.copytree(world.exchange, folder)
    content = BAD_TABLES[bad]()
    assert content is not None
    (folder / target).write_bytes(content)
    names = target.removeprefix("extracts/").removeprefix("vdab/")
    one_line(capsys, ["exchange", "run", "--config", str(folder / "exchange.toml")], names=names)
    assert not (folder / "delivery" / "current").exists()


def test_a_missing_extract_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World
) -> None:
    folder = tmp_path / "x"
    shutil.copytree(world.exchange, folder)
    (folder / "extracts" / "TBT" / "staff.parquet").unlink()
    argv = ["exchange", "run", "--config", str(folder / "exchange.toml")]
    one_line(capsys, argv, names="staff.parquet", codes=(EXIT_IO,))


# ------------------------------------------------------------- a damaged store

_MANIFEST_SHAPE = (
    "exchange: read_delivery (exchange/_delivery.py) must check that manifest.json is "
    "an object with the fields a run writes ('created', 'key', 'validity', 'outputs' "
    "with 'rows' and 'rows_by_party') and raise SchemaError(source=<manifest path>) "
    "otherwise; today _run.py, _purge.py and Delivery.tables() index it as they find it"
)


def _delivery(folder: Path) -> Path:
    run_id = (folder / "delivery" / "current").read_text().strip()
    return folder / "delivery" / "deliveries" / run_id


STORE_DAMAGE: dict[str, Callable[[Path], object]] = {
    "manifest-garbage": lambda f: (_delivery(f) / "manifest.json").write_bytes(b"\xff\x00{"),
    "manifest-empty": lambda f: (_delivery(f) / "manifest.json").write_bytes(b""),
    "manifest-a-list": lambda f: (_delivery(f) / "manifest.json").write_text("[1, 2]"),
    "manifest-no-fields": lambda f: (_delivery(f) / "manifest.json").write_text("{}"),
    "manifest-missing": lambda f: (_delivery(f) / "manifest.json").unlink(),
    "table-truncated": lambda f: (_delivery(f) / "enterprises.parquet").write_bytes(b"PAR1"),
    "current-elsewhere": lambda f: (f / "delivery" / "current").write_text("nowhere"),
}
STORE_COMMANDS = {
    **CONFIG_COMMANDS,
    "erase": ["exchange", "subject", "erase", "--email", "a@b.be"],
    "rectify": ["exchange", "subject", "rectify", "--email", "a@b.be", "--set", "phone=1"],
}


def _exchange_checks_manifests() -> bool:
    """Whether the exchange refuses (or sets aside) a manifest that is JSON but not
    a manifest: the change _MANIFEST_SHAPE asks for, probed on a store of one."""
    from linkage.exchange import read_delivery

    with tempfile.TemporaryDirectory() as folder:
        store, run_id = Path(folder), "20260101T000000Z-000000"
        (store / "deliveries" / run_id).mkdir(parents=True)
        (store / "deliveries" / run_id / "manifest.json").write_text("[1, 2]")
        (store / "current").write_text(run_id + "\n")
        try:
            delivery = read_delivery(store)
        except LinkageError:
            return True
        except Exception:  # any other error is what the change is for
            return False
        return delivery is None or isinstance(delivery.manifest, dict)


#: The cases that wait for a change in linkage.exchange (none once it is made).
STORE_XFAIL = (
    {}
    if _exchange_checks_manifests()
    else {
        (damage, command): _MANIFEST_SHAPE
        for damage in ("manifest-a-list", "manifest-no-fields")
        for command in ("run", "purge", "find", "erase", "rectify")
    }
)


@pytest.mark.parametrize(
    ("damage", "command"),
    [
        pytest.param(
            damage,
            command,
            id=f"{command}-{damage}",
            marks=[pytest.mark.xfail(strict=True, reason=STORE_XFAIL[damage, command])]
            if (damage, command) in STORE_XFAIL
            else [],
        )
        for damage in STORE_DAMAGE
        for command in STORE_COMMANDS
    ],
)
def test_a_damaged_store_is_one_line_or_recovered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World, damage: str, command: str
) -> None:
    """Refused in one line naming the store or the damaged file, or recovered (exit
    0, which the store's own repair may make of any case): never a traceback."""
    folder = tmp_path / "x"
    shutil.copytree(world.delivered, folder)
    STORE_DAMAGE[damage](folder)
    code = main([*STORE_COMMANDS[command], "--config", str(folder / "exchange.toml")])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if code == 0:
        return
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("linkage: error: "), err
    assert code in (EXIT_INPUT, EXIT_IO), (code, err)
    assert "delivery" in lines[0] or "manifest" in lines[0], lines[0]
    assert not [p for p in folder.rglob("*") if LEFTOVER.match(p.name)]


# ------------------------------------------------------------- synth and demo


@pytest.mark.parametrize("n", range(1, 8))
def test_synth_makes_an_exchange_of_any_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, n: int
) -> None:
    for seed in (0, 3):
        out = tmp_path / f"s{n}-{seed}"
        assert (
            main(["-q", "synth", "--enterprises", str(n), "--seed", str(seed), "--out", str(out)])
            == 0
        )
        assert pd.read_parquet(out / "enterprises.parquet").shape[0] == n
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("n", "seed"), [(1, 3), (2, 0), (7, 0)])
def test_demo_with_a_handful_of_enterprises(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, n: int, seed: int
) -> None:
    """Runs, or says in one line that a party's extract is empty and leaves no demo."""
    out = tmp_path / "demo"
    argv = ["-q", "exchange", "demo", "--enterprises", str(n), "--seed", str(seed)]
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code != 0:
        line = one_line_of(err)
        assert code == EXIT_INPUT and "enterprises leave this extract empty" in line
        assert not out.exists()


@pytest.mark.parametrize(
    "argv", [["synth", "--enterprises", "0"], ["exchange", "demo", "--enterprises", "-1"]]
)
def test_no_enterprises_is_refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    line = one_line(capsys, [*argv, "--out", "o"], names="--enterprises", outputs=("o",))
    assert "expected a positive number" in line


def one_line_of(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("linkage: error: "), err
    return lines[0]


# ------------------------------------------------------------- options


@pytest.mark.parametrize("passphrase", ["x", "short", "eleven char"])
def test_keys_new_refuses_a_short_passphrase_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, passphrase: str
) -> None:
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", passphrase)
    line = one_line(
        capsys,
        ["keys", "new", "--exchange", EXCHANGE, "--out", "k.key"],
        names="LINKAGE_KEY_PASSPHRASE",
        outputs=("k.key",),
    )
    assert "at least 12 characters" in line and "eleven char" not in line


def test_a_short_passphrase_is_refused_everywhere_a_key_file_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    shutil.copy(world.key, "k.key")
    before = Path("k.key").read_bytes()
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", "x")
    for argv in (["keys", "rotate"], ["keys", "retire", "--version", "1"]):
        one_line(capsys, [*argv, "--key", "k.key"], names="LINKAGE_KEY_PASSPHRASE")
    assert Path("k.key").read_bytes() == before
    from linkage.exceptions import KeyringError

    with pytest.raises(KeyringError, match="at least 12 characters"):
        KeyRing.generate(exchange=EXCHANGE).save("lib.key", passphrase="x" * 11)
    with pytest.raises(KeyringError, match="at least 12 characters"):
        KeyRing.generate(exchange=EXCHANGE).save("lib.key")  # from the environment
    assert not Path("lib.key").exists()
    # Twelve characters, not bytes: "ë" is two bytes, one character.
    KeyRing.generate(exchange=EXCHANGE).save("ok.key", passphrase="ë" * 12, scrypt_n=2**10)


def _links(world: World, frame: pd.DataFrame) -> str:
    frame.to_csv("links.csv", index=False)
    return "links.csv"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("names-as-ids", "no id is an id of truth column 'enterprise_number'"),
        ("swapped", "(left and right swapped?)"),
        ("same-column-twice", "expected two different id columns"),
        ("repeated-pair", "repeats: not id columns?"),
        ("missing-id", "missing id"),
        ("no-such-column", "missing column(s) 'nope'"),
    ],
)
def test_evaluate_checks_the_id_columns(
    capsys: pytest.CaptureFixture[str], world: World, case: str, expected: str
) -> None:
    truth = pd.read_parquet(world.truth_enterprises)
    links = truth.assign(name="x", match_probability=0.9)
    on = "enterprise_number,employer_id"
    if case == "names-as-ids":
        links, on = links.assign(a=[f"n{i}" for i in range(len(links))]), "a,employer_id"
    elif case == "swapped":
        on = "employer_id,enterprise_number"
    elif case == "same-column-twice":
        on = "employer_id,employer_id"
    elif case == "repeated-pair":
        links = pd.concat([links, links.iloc[:1]])
    elif case == "missing-id":
        links.loc[links.index[1], "employer_id"] = None
    elif case == "no-such-column":
        on = "nope,employer_id"
    argv = ["evaluate", _links(world, links), world.truth_enterprises, "--on", on, "--sweep"]
    line = one_line(capsys, argv, names="links.csv")
    assert expected in line


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--out", "links.xlsx"),
        ("--out", "folder"),
        ("--pairs-out", "pairs.json"),
        ("--save-model", "folder"),
    ],
)
def test_link_refuses_an_output_before_any_work(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    world: World,
    option: str,
    value: str,
) -> None:
    Path("folder").mkdir()

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("linked before checking the outputs")

    monkeypatch.setattr("linkage.cli._link.link", no_work)
    monkeypatch.setattr("linkage.cli._link.read_table", no_work)
    argv = ["link", world.enterprises, world.employers, "--preset", "enterprises"]
    if option != "--out":
        argv += ["--out", "links.csv"]
    one_line(capsys, [*argv, option, value], names=value, outputs=("links.csv",))


@pytest.mark.parametrize(
    "argv",
    [
        ["check-numbers", "{t}", "--column", "enterprise_number", "--out", "o.xlsx"],
        [
            *("pseudonymise", "{t}", "--column", "enterprise_number", "--domain", "enterprise"),
            *("--key", "{key}", "--out", "o.json"),
        ],
        [
            *("keys", "crosswalk", "{t}", "--column", "enterprise_number", "--domain", "x"),
            *("--old", "1", "--key", "{key}", "--out", "o.xlsx"),
        ],
        ["keys", "new", "--exchange", EXCHANGE, "--out", "folder"],
    ],
    ids=["check-numbers", "pseudonymise", "crosswalk", "keys-new"],
)
def test_other_outputs_are_refused_before_any_work(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    world: World,
    argv: list[str],
) -> None:
    Path("folder").mkdir()
    monkeypatch.setattr(KeyRing, "load", _no_key)
    filled = [a.format(t=world.enterprises, key=world.key) for a in argv]
    target = filled[filled.index("--out") + 1]
    one_line(capsys, [*filled, "--force"] if "new" in argv else filled, names=target)


def _no_key(*args: object, **kwargs: object) -> KeyRing:
    raise AssertionError("the key was loaded before the output was checked")


def test_subject_find_refuses_a_file_for_its_folder(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    Path("records").write_text("not a folder")
    config = str(world.delivered / "exchange.toml")
    argv = ["exchange", "subject", "find", "--config", config, "--email", "a@b.be"]
    one_line(capsys, [*argv, "--out", "records"], names="records")


# ------------------------------------------------------------- bad values


def test_bad_values_are_counted_not_raised(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Identifiers that are bytes (not UTF-8), huge or fractional floats: invalid
    with a reason, through the command line too."""
    table = pa.table(
        {
            "raw": pa.array([b"0403170701", b"\xff\xfe", b"\xed\xa0\x80", None], pa.binary()),
            "float": pa.array([403170701.0, 1e20, 0.5, float("inf")]),
        }
    )
    pq.write_table(table, "values.parquet")
    for column, valid in (("raw", 1), ("float", 1)):
        code = main(["check-numbers", "values.parquet", "--column", column, "--out", "o.csv"])
        out, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in err and err == ""
        assert out.splitlines()[0].startswith(f"4 rows: {valid} valid")
        reasons = pd.read_csv("o.csv")[f"{column}_reason"].dropna().tolist()
        assert reasons and all(isinstance(r, str) for r in reasons)


# ------------------------------------------------------------- the last resort


def test_an_unexpected_error_is_one_line_and_the_traceback_is_under_v(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    def bug(args: object) -> int:
        return {"a": 1}["b"]

    monkeypatch.setattr("linkage.cli._identifiers._check_numbers", bug)
    argv = ["check-numbers", world.enterprises, "--column", "enterprise_number"]
    assert main(argv) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected KeyError at linkage/cli/__init__.py:" in err
    assert "a bug in linkage (run with -v for the traceback)" in err
    assert "'b'" not in err  # never the message: it may hold a value
    assert main([*argv, "-v"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1].startswith("linkage: error: unexpected")


def test_a_format_error_that_escapes_a_reader_names_its_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    def arrow(args: object) -> int:
        raise pa.ArrowInvalid(
            "Could not open Parquet input source '/srv/x/store/t.parquet': Parquet magic "
            "bytes not found in footer. Value '85073003328' is not a number"
        )

    monkeypatch.setattr("linkage.cli._identifiers._check_numbers", arrow)
    code = main(["check-numbers", world.enterprises, "--column", "enterprise_number"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and err.count("\n") == 1
    assert err.startswith("linkage: error: /srv/x/store/t.parquet: cannot be read")
    assert "85073003328" not in err and "run with -v" in err

    def encode(args: object) -> int:  # writing, not reading: not the input's fault
        return len("Lëuven".encode("ascii"))

    monkeypatch.setattr("linkage.cli._identifiers._check_numbers", encode)
    code = main(["check-numbers", world.enterprises, "--column", "enterprise_number"])
    assert code == EXIT_INTERNAL and "unexpected UnicodeEncodeError" in capsys.readouterr().err


# ------------------------------------------------------------- a real process


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["check-numbers", "truncated.parquet", "--column", "enterprise_number"], "truncated"),
        (["check-numbers", "latin1-semicolons.csv", "--column", "x"], "latin1-semicolons.csv"),
        (["exchange", "run", "--config", "{config}"], "VLAIO/enterprises.csv"),
        (["synth", "--enterprises", "3", "--out", "s", "--format", "csv"], None),
    ],
    ids=["truncated-parquet", "latin1-csv", "exchange-latin1-extract", "synth-3"],
)
def test_in_a_real_process(tmp_path: Path, world: World, argv: list[str], name: str | None) -> None:
    """stderr as a job sees it: logging included, one line, no traceback."""
    _make(tmp_path, "truncated.parquet")
    _make(tmp_path, "latin1-semicolons.csv")
    folder = tmp_path / "x"
    shutil.copytree(world.exchange, folder)
    (folder / "extracts/VLAIO/enterprises.csv").write_bytes(_latin1_semicolons())
    filled = [a.format(config=folder / "exchange.toml") for a in argv]
    env = {**os.environ, "LINKAGE_MASTER_KEY": MASTER}
    done = subprocess.run(
        [sys.executable, "-m", "linkage", *filled],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "Traceback" not in done.stderr
    if name is None:
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == EXIT_INPUT, done.stderr
    assert len(done.stderr.splitlines()) == 1 and name in done.stderr


# ------------------------------------------------------------- fuzz


def _mutations(good: bytes, rng: np.random.Generator, n: int) -> Iterator[bytes]:
    """Damaged copies of ``good``: cut, bytes flipped, bytes inserted, bytes cut out."""
    for _ in range(n):
        data = bytearray(good)
        kind = rng.integers(4)
        if kind == 0:
            data = data[: rng.integers(len(data))]
        elif kind == 1:
            for _ in range(rng.integers(1, 8)):
                data[rng.integers(len(data))] = rng.integers(256)
        elif kind == 2:
            at = rng.integers(len(data))
            data[at:at] = rng.bytes(int(rng.integers(1, 50)))
        else:
            at = rng.integers(len(data))
            del data[at : at + rng.integers(1, 200)]
        yield bytes(data)


@pytest.fixture(scope="module")
def good_files(synthetic: SyntheticExchange) -> dict[str, bytes]:
    frame = synthetic.enterprises.head(40)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    text = frame.to_csv(index=False).encode()
    return {"parquet": sink.getvalue().to_pybytes(), "csv": text, "csv.gz": gzip.compress(text)}


@pytest.mark.parametrize("ext", ["parquet", "csv", "csv.gz"])
def test_fuzzed_files_read_or_refuse(
    tmp_path: Path, good_files: dict[str, bytes], ext: str
) -> None:
    """Seeded damage to a good file: the readers return a table or raise a
    LinkageError, never anything else."""
    rng = np.random.default_rng(16)
    for i, data in enumerate(_mutations(good_files[ext], rng, 150)):
        path = tmp_path / f"f{i}.{ext}"
        path.write_bytes(data)
        for arrow_strings in (False, True):
            with contextlib.suppress(LinkageError):
                read_table(path, arrow_strings=arrow_strings)


@pytest.mark.parametrize("ext", ["parquet", "csv.gz"])
def test_fuzzed_files_through_the_command_line(
    capsys: pytest.CaptureFixture[str], good_files: dict[str, bytes], world: World, ext: str
) -> None:
    rng = np.random.default_rng(61)
    for i, data in enumerate(_mutations(good_files[ext], rng, 15)):
        name = f"f{i}.{ext}"
        Path(name).write_bytes(data)
        for argv in (
            ["check-numbers", name, "--column", "enterprise_number"],
            ["link", name, world.employers, "--preset", "enterprises", "--out", f"l{i}.csv"],
        ):
            code = main(argv)
            err = capsys.readouterr().err
            assert "Traceback" not in err
            if code in (0, 1):  # read, despite the damage
                continue
            assert code in (EXIT_INPUT, EXIT_IO) and len(err.splitlines()) == 1, err
            assert name in err and not Path(f"l{i}.csv").exists()
