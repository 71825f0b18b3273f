"""The command line: help, version, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from linkage import __version__
from linkage.cli import EXIT_INPUT, EXIT_IO, build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"linkage {__version__}"


def test_every_command_has_help() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert commands
    for name, command in commands.items():
        assert command.format_help().startswith(f"usage: linkage {name}")


def test_logging_flags_after_any_command_or_action() -> None:
    parser = build_parser()
    link = ["link", "a.csv", "b.csv", "--preset", "enterprises", "--out", "l.csv"]
    assert parser.parse_args([*link, "-q"]).quiet
    assert parser.parse_args(["keys", "show", "--key", "k.key", "-q"]).quiet
    assert parser.parse_args(["exchange", "show", "--config", "c.toml", "--verbose"]).verbose
    assert not parser.parse_args(["keys", "show", "--key", "k.key"]).quiet


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "linkage",
            "check-numbers",
            str(tmp_path / "none.csv"),
            "--column",
            "kbo",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_IO
    assert done.stderr == f"linkage: error: no such file: {tmp_path / 'none.csv'}\n"


def test_check_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("kbo\n0403.170.701\nBE0403170702\n\n403170701\n")
    out = tmp_path / "o.parquet"
    assert main(["check-numbers", str(path), "--column", "kbo", "--out", str(out), "-q"]) == 1
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "3 rows: 2 valid, 0 missing, 1 invalid"
    written = pd.read_parquet(out)
    assert written["kbo_canonical"].tolist()[0] == "0403170701"


def test_check_numbers_counts_a_blank_cell_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text('kbo,x\n0403.170.701,1\n" ",2\n,3\nnope,4\n')
    assert main(["check-numbers", str(path), "--column", "kbo"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "4 rows: 1 valid, 2 missing, 1 invalid"


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("naam\nx\n")
    assert main(["check-numbers", str(path), "--column", "kbo"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "missing column(s) 'kbo'" in err
