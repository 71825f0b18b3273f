"""``linkage keys ...`` and ``linkage pseudonymise``: exit codes, one-line errors, no key bytes."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import linkage.cli
import linkage.keys
from linkage.cli import EXIT_INPUT, EXIT_IO, build_parser, main
from linkage.keys import DOMAINS, KeyRing
from linkage.pseudonymise import PSEUDONYM_PATTERN, pseudonymise

PASS = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(linkage.keys, "SCRYPT_N", 2**10)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    monkeypatch.delenv("LINKAGE_MASTER_KEY", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def key_forms(ring: KeyRing) -> list[str]:
    raws = [ring._versions[v].master.reveal() for v in ring.versions]
    raws += [ring.key(d, v).reveal() for d in DOMAINS for v in ring.versions]
    return [f for r in raws for f in (r.hex(), base64.b64encode(r).decode())]


def test_help_of_every_action(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["keys"],
        *(["keys", a] for a in ("new", "rotate", "retire", "show", "crosswalk")),
        ["pseudonymise"],
    ):
        with pytest.raises(SystemExit) as exited:
            main([*argv, "--help"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: linkage {' '.join(argv)}")
    help_text = build_parser().format_help()
    assert "keys" in help_text and "pseudonymise" in help_text


def test_no_passphrase_argument_exists() -> None:
    for argv in (["keys", "new"], ["keys", "show"], ["pseudonymise"]):
        with pytest.raises(SystemExit):
            main([*argv, "--passphrase", "x"])


def test_whole_life_of_a_key_file(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    code, out, err = run(
        capsys, "keys", "new", "--exchange", "vlaio-vdab-2025", "--out", "exchange.key"
    )
    assert code == 0, err
    outputs += [out, err]
    assert stat.S_IMODE(os.stat("exchange.key").st_mode) == 0o600

    code, out, err = run(capsys, "keys", "new", "--exchange", "x", "--out", "exchange.key")
    assert code == EXIT_INPUT
    assert err == "linkage: error: exchange.key exists; give --force to replace it\n"

    pd.DataFrame({"kbo": ["0403.170.701", None, "BE0403170701"], "name": ["A", "B", "C"]}).to_csv(
        "in.csv", index=False
    )
    code, out, err = run(
        capsys,
        "pseudonymise",
        "in.csv",
        "--column",
        "kbo",
        "--domain",
        "enterprise",
        "--key",
        "exchange.key",
        "--out",
        "v1.csv",
    )
    assert code == 0, err
    outputs += [out, err]
    v1 = pd.read_csv("v1.csv", dtype=str)
    assert v1["name"].tolist() == ["A", "B", "C"]
    assert v1["kbo"][0] == v1["kbo"][2] and pd.isna(v1["kbo"][1])
    assert v1["kbo"].dropna().str.fullmatch(PSEUDONYM_PATTERN[1:-1]).all()
    ring = KeyRing.load("exchange.key", passphrase=PASS)
    assert v1["kbo"][0] == pseudonymise(pd.Series(["0403170701"]), ring, domain="enterprise")[0]

    code, out, err = run(capsys, "keys", "rotate", "--key", "exchange.key")
    assert code == 0, err
    assert "added key version 2" in out
    outputs += [out, err]

    code, out, err = run(
        capsys,
        "keys",
        "crosswalk",
        "in.csv",
        "--column",
        "kbo",
        "--domain",
        "enterprise",
        "--old",
        "1",
        "--key",
        "exchange.key",
        "--out",
        "walk.parquet",
    )
    assert code == 0, err
    outputs += [out, err]
    walk = pd.read_parquet("walk.parquet")
    assert walk["old"].tolist() == [v1["kbo"][0]]
    assert walk["new"][0].startswith("v2.")

    code, out, err = run(capsys, "keys", "retire", "--key", "exchange.key", "--version", "2")
    assert code == EXIT_INPUT and "current version" in err
    code, out, err = run(capsys, "keys", "retire", "--key", "exchange.key", "--version", "1")
    assert code == 0, err
    outputs += [out, err]

    code, out, err = run(capsys, "keys", "show", "--key", "exchange.key")
    assert code == 0, err
    outputs += [out, err]
    assert "vlaio-vdab-2025" in out and "v2" in out and "retired   v1" in out
    assert "created 20" in out

    text = "\n".join(outputs) + Path("exchange.key").read_text() + Path("v1.csv").read_text()
    full = KeyRing.load("exchange.key", passphrase=PASS)
    for form in key_forms(ring) + key_forms(full):
        assert form not in text


def test_wrong_passphrase_missing_file_and_truncated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")[0] == 0
    monkeypatch.setenv("OTHER_PASS", "not the passphrase")
    code, _, err = run(capsys, "keys", "show", "--key", "k.key", "--passphrase-env", "OTHER_PASS")
    assert code == EXIT_INPUT
    assert err == (
        "linkage: error: k.key: cannot decrypt: wrong passphrase or the file was altered "
        "(AES-GCM cannot tell these apart)\n"
    )
    code, _, err = run(capsys, "keys", "show", "--key", "none.key")
    assert (code, err) == (EXIT_INPUT, "linkage: error: none.key: no such key file\n")
    Path("k.key").write_bytes(Path("k.key").read_bytes()[:120])
    code, _, err = run(capsys, "keys", "rotate", "--key", "k.key")
    assert code == EXIT_INPUT
    assert err == "linkage: error: k.key: not a linkage key file (truncated or corrupt)\n"


def test_no_passphrase_without_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKAGE_KEY_PASSPHRASE")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    code, _, err = run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")
    assert code == EXIT_INPUT
    assert "no passphrase" in err and "LINKAGE_KEY_PASSPHRASE" in err
    assert not Path("k.key").exists()


def test_prompt_twice_on_new(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("LINKAGE_KEY_PASSPHRASE")
    monkeypatch.setattr("linkage.cli._keys.sys.stdin", type("T", (), {"isatty": lambda s: True})())
    answers = iter([PASS, "something else"])
    monkeypatch.setattr("linkage.cli._keys.getpass.getpass", lambda prompt: next(answers))
    code, _, err = run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")
    assert (code, err) == (EXIT_INPUT, "linkage: error: the two passphrases differ\n")
    answers = iter([PASS, PASS])
    assert run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")[0] == 0
    assert KeyRing.load("k.key", passphrase=PASS).exchange == "e"


def test_pseudonymise_from_master_key_in_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    master = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("LINKAGE_MASTER_KEY", master)
    pd.DataFrame({"staff": ["s-1", "s-2", "s-1"]}).to_parquet("in.parquet")
    code, out, err = run(
        capsys,
        "pseudonymise",
        "in.parquet",
        "--column",
        "staff",
        "--domain",
        "staff",
        "--master-env",
        "--exchange",
        "vlaio-vdab-2025",
        "--out",
        "out.parquet",
    )
    assert code == 0, err
    assert master not in out + err
    got = pd.read_parquet("out.parquet")["staff"]
    ring = KeyRing.from_env(exchange="vlaio-vdab-2025")
    assert (
        got.tolist()
        == pseudonymise(pd.Series(["s-1", "s-2", "s-1"]), ring, domain="staff").tolist()
    )
    code, _, err = run(
        capsys,
        "pseudonymise",
        "in.parquet",
        "--column",
        "staff",
        "--domain",
        "staff",
        "--master-env",
        "--out",
        "o.parquet",
    )
    assert (code, err) == (EXIT_INPUT, "linkage: error: --master-env needs --exchange\n")


def test_pseudonymise_refuses_national_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")[0] == 0
    pd.DataFrame({"contact": ["c-1", "85.07.30-033.28"]}).to_csv("in.csv", index=False)
    code, _, err = run(
        capsys,
        "pseudonymise",
        "in.csv",
        "--column",
        "contact",
        "--domain",
        "contact",
        "--key",
        "k.key",
        "--out",
        "out.csv",
    )
    assert code == EXIT_INPUT
    assert err == (
        "linkage: error: in.csv, column 'contact', row 2: a national register or BIS number "
        "cannot be key material (protocol art. 3)\n"
    )
    assert "85" not in err.replace("row 2", "")
    assert not Path("out.csv").exists()


def test_pseudonymise_missing_input_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "keys", "new", "--exchange", "e", "--out", "k.key")[0] == 0
    code, _, err = run(
        capsys,
        "pseudonymise",
        "none.csv",
        "--column",
        "x",
        "--domain",
        "staff",
        "--key",
        "k.key",
        "--out",
        "out.csv",
    )
    assert code == EXIT_IO and "none.csv" in err
    pd.DataFrame({"a": ["1"]}).to_csv("in.csv", index=False)
    code, _, err = run(
        capsys,
        "pseudonymise",
        "in.csv",
        "--column",
        "x",
        "--domain",
        "staff",
        "--key",
        "k.key",
        "--out",
        "out.csv",
    )
    assert code == EXIT_INPUT and "'x'" in err
