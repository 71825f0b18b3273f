"""The error tree: structured fields, and every bad input to the command line ending
in one line ``linkage: error: ...`` with exit code 3 (input) or 4 (file), never a
traceback."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pandas as pd
import pytest

import linkage.keys
from linkage.cli import EXIT_INPUT, EXIT_IO, EXIT_USAGE, main
from linkage.exceptions import (
    ConfigError,
    InvalidIdentifier,
    KeyringError,
    LinkageError,
    NotFittedError,
    SchemaError,
)
from linkage.io import atomic_path

PASS = "correct horse battery staple"


# ------------------------------------------------------------------ the exceptions


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({}, "empty file"),
        ({"source": "x.csv"}, "x.csv: empty file"),
        ({"column": "kbo"}, "column 'kbo': empty file"),
        ({"row": 1204}, "row 1,204: empty file"),
        ({"source": "x.csv", "row": 3}, "x.csv, row 3: empty file"),
        (
            {"source": "employers.csv", "column": "kbo", "row": 1204},
            "employers.csv, column 'kbo', row 1,204: empty file",
        ),
    ],
)
def test_one_line_from_the_fields(fields: dict[str, object], line: str) -> None:
    error = SchemaError("empty file", **fields)  # type: ignore[arg-type]
    assert str(error) == line
    assert error.detail == "empty file"
    assert (error.source, error.column, error.row) == (
        fields.get("source"),
        fields.get("column"),
        fields.get("row"),
    )


def test_subclasses_keep_their_bases_and_fields_survive_pickling() -> None:
    error = InvalidIdentifier("bad check digits", reason="checksum", column="kbo", row=7)
    assert isinstance(error, LinkageError) and isinstance(error, ValueError)
    assert error.reason == "checksum" and str(error) == "column 'kbo', row 7: bad check digits"
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InvalidIdentifier and str(back) == str(error)
    assert (back.reason, back.column, back.row) == ("checksum", "kbo", 7)
    assert isinstance(NotFittedError("fit first"), AttributeError)
    assert isinstance(ConfigError("x"), ValueError) and not isinstance(
        KeyringError("x"), ValueError
    )
    assert pickle.loads(pickle.dumps(KeyringError("no such key file", source="k.key"))).source == (
        "k.key"
    )


def test_atomic_write_errors_name_the_target_not_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(src))

    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "out" / "out.csv"
    with pytest.raises(PermissionError) as caught, atomic_path(target) as tmp:
        tmp.write_text("x")
    assert caught.value.filename == str(target)
    assert list(target.parent.iterdir()) == []


# ------------------------------------------------------------------ the command line


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(linkage.keys, "SCRYPT_N", 2**10)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    monkeypatch.chdir(tmp_path)
    Path("t.csv").write_text("kbo,nn\n0403170701,85.07.30-033.28\n")
    Path("links.csv").write_text("l,r,match_probability\na,b,high\n")


def fails(capsys: pytest.CaptureFixture[str], *argv: str, code: int = EXIT_INPUT) -> str:
    """Run the command; it must fail with ``code`` and one line on stderr, returned."""
    assert main(list(argv)) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("linkage: error: "), err
    assert "Traceback" not in err
    return err.removeprefix("linkage: error: ").rstrip("\n")


def test_a_file_with_an_unknown_extension(capsys: pytest.CaptureFixture[str]) -> None:
    Path("t.xlsx").write_text("kbo\n")
    err = fails(capsys, "check-numbers", "t.xlsx", "--column", "kbo")
    assert err.startswith("t.xlsx: unknown table format; expected a name ending in .csv")
    err = fails(capsys, "check-numbers", ".", "--column", "kbo")
    assert err.startswith(".: unknown table format")  # a name, even for "."
    err = fails(capsys, "check-numbers", "t.csv", "--column", "kbo", "--out", "o.xlsx")
    assert err.startswith("o.xlsx: unknown table format")


def test_a_csv_that_is_not_utf8_names_the_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("latin.csv").write_bytes(
        "kbo,naam\n0403170701,Brussel\n0403170701,Liège\n".encode("latin-1")
    )
    err = fails(capsys, "check-numbers", "latin.csv", "--column", "kbo")
    assert err == "latin.csv: not UTF-8 text (byte 0xe8 on line 3); save it as UTF-8 CSV"


@pytest.mark.parametrize(
    ("name", "content", "detail"),
    [
        ("text.parquet", b"kbo\n1\n", "not a Parquet file, or a damaged one"),
        ("plain.csv.gz", b"kbo\n1\n", "not a gzip file, though named .gz"),
        ("open.csv", b'kbo,x\n1,"never closed\n', "not a well-formed CSV: "),
    ],
)
def test_a_file_that_is_not_what_its_name_says(
    capsys: pytest.CaptureFixture[str], name: str, content: bytes, detail: str
) -> None:
    Path(name).write_bytes(content)
    err = fails(capsys, "check-numbers", name, "--column", "kbo")
    assert err.startswith(f"{name}: {detail}")


def test_a_non_numeric_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["synth", "--enterprises", "many", "--out", "x"])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "linkage synth: error: argument --enterprises: invalid int value: 'many'"
    )


def test_a_non_numeric_score_names_file_column_and_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = fails(capsys, "evaluate", "links.csv", "links.csv", "--sweep")
    assert err == "links.csv, column 'match_probability', row 1: expected a number"


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"\xff\xfe\x00", "not UTF-8 text, so not a TOML file"),
        (b"[validity\n", "not valid TOML: "),
        (b"validity = 5\n", "validity: expected a table, got 5"),
        (b'[validity]\nrenewals = "soon"\n', "[validity] renewals: expected a list, got 'soon'"),
        (b"[validity]\nrenewals = [1]\n", "[validity] renewals[0]: expected a table, got 1"),
        (
            b"[validity]\nstart = 2025-01-01\nend = 2026-01-01\n[keys]\nenv = 'K'\n"
            b"[extracts]\nVLAIO = 'x.csv'\n",
            "[extracts] VLAIO: expected a table, got 'x.csv'",
        ),
        (
            b"parties = [5]\n[validity]\nstart = 2025-01-01\nend = 2026-01-01\n[keys]\n"
            b"env = 'K'\n[extracts]\n[vdab]\n[output]\n",
            "parties[0]: expected text, got 5",
        ),
        (
            b"exchange = 'e'\nparties = ['VLAIO']\n[validity]\nstart = 2025-01-01\n"
            b"end = 2026-01-01\n[keys]\nenv = 5\n[extracts]\n"
            b"[vdab]\nemployers = 'e.csv'\nsites = 's.csv'\n[output]\nstore = 'd'\n",
            "[keys] env: expected text, got 5",
        ),
        (
            b"exchange = 'e'\nparties = ['vlaio']\n[validity]\nstart = 2025-01-01\n"
            b"end = 2026-01-01\n[keys]\nenv = 'K'\n[extracts]\n"
            b"[vdab]\nemployers = 'e.csv'\nsites = 's.csv'\n[output]\nstore = 'd'\n",
            "parties: 'vlaio' is not a party name",
        ),
    ],
)
def test_a_malformed_exchange_config(
    capsys: pytest.CaptureFixture[str], content: bytes, detail: str
) -> None:
    Path("exchange.toml").write_bytes(content)
    err = fails(capsys, "exchange", "show", "--config", "exchange.toml")
    assert err.startswith(f"exchange.toml: {detail}")


@pytest.mark.parametrize("content", [b'{"hello": 1}', b"\x00\x01\xff", b"", b"[1, 2]"])
def test_a_key_file_that_is_not_a_key_file(
    capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    Path("k.key").write_bytes(content)
    os.chmod("k.key", 0o600)
    err = fails(capsys, "keys", "show", "--key", "k.key")
    assert err == "k.key: not a linkage key file (truncated or corrupt)"


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"\xff\xfe", "not a saved model"),
        (b'{"format": 3', "not a saved model"),
        (b"[1, 2]", "not a saved model"),
        (b'{"format": 99}', "not a saved"),
    ],
)
def test_a_model_file_that_is_not_a_model(
    capsys: pytest.CaptureFixture[str], content: bytes, detail: str
) -> None:
    Path("model.json").write_bytes(content)
    err = fails(
        capsys,
        *("link", "t.csv", "t.csv", "--preset", "enterprises", "--out", "l.csv"),
        *("--model", "model.json"),
    )
    assert err.startswith(f"model.json: {detail}")
    assert not Path("l.csv").exists()


def test_a_spec_that_is_not_text(capsys: pytest.CaptureFixture[str]) -> None:
    Path("spec.toml").write_bytes(b"\xff\xfe\x00")
    err = fails(capsys, "link", "t.csv", "t.csv", "--spec", "spec.toml", "--out", "l.csv")
    assert err == "spec.toml: not UTF-8 text, so not a TOML spec"


def test_an_identifier_error_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new", "--exchange", "e", "--out", "k.key"]) == 0
    capsys.readouterr()
    err = fails(
        capsys,
        *("pseudonymise", "t.csv", "--column", "nn", "--domain", "staff"),
        *("--out", "p.csv", "--key", "k.key"),
    )
    assert err.startswith("t.csv, column 'nn', row 1: a national register or BIS number")
    assert "85" not in err.replace("row 1", "")


def test_a_table_written_where_no_folder_can_be(capsys: pytest.CaptureFixture[str]) -> None:
    err = fails(
        capsys, "check-numbers", "t.csv", "--column", "kbo", "--out", "t.csv/o.csv", code=EXIT_IO
    )
    assert ".tmp" not in err and "t.csv" in err
    assert pd.read_csv("t.csv").shape == (1, 2)
