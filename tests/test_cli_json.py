"""``--json`` on ``synth``, ``check-numbers`` and ``keys show``: one JSON document on
stdout and nothing else; ``keys show`` never shows key material."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest

import linkage.keys
from linkage.cli import main
from linkage.keys import DOMAINS, KeyRing

PASS = "correct horse battery staple"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out), err  # the whole of stdout is one document


def test_synth_json(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    out = tmp_path / "synth"
    code, summary, _ = run_json(
        capsys, "synth", "--enterprises", "50", "--out", str(out), "--format", "csv", "--json"
    )
    assert code == 0
    assert summary["enterprises"] == 50 and summary["seed"] == 0
    assert summary["format"] == "csv" and Path(summary["out"]) == out
    assert summary["rows"]["enterprises"] == 50
    for table, rows in summary["rows"].items():
        assert len(pd.read_csv(out / f"{table}.csv")) == rows
    assert set(summary["seconds"]) == {"generate", "write"}
    assert "generating 50 enterprises (seed 0)..." in caplog.messages  # progress: logging


def test_synth_quiet_has_no_progress(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    assert main(["synth", "--enterprises", "20", "--out", str(tmp_path / "s"), "-q"]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    assert not [r for r in caplog.records if r.name.startswith("linkage")]


def test_check_numbers_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text('kbo\n0403.170.701\nBE0403170702\n" "\n12\n')
    code, summary, _ = run_json(capsys, "check-numbers", str(path), "--column", "kbo", "--json")
    assert code == 1  # the exit code still says there are invalid numbers
    assert summary["rows"] == 4
    assert (summary["valid"], summary["missing"], summary["invalid"]) == (1, 1, 2)
    assert sum(summary["reasons"].values()) == 2
    assert summary["column"] == "kbo" and summary["kind"] == "enterprise"
    assert summary["out"] is None


def test_keys_show_json_without_key_material(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(linkage.keys, "SCRYPT_N", 2**10)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    key = tmp_path / "ring.key"
    assert main(["keys", "new", "--exchange", "ex-1", "--out", str(key)]) == 0
    assert main(["keys", "rotate", "--key", str(key)]) == 0
    assert main(["keys", "retire", "--key", str(key), "--version", "1"]) == 0
    capsys.readouterr()
    code, summary, err = run_json(capsys, "keys", "show", "--key", str(key), "--json")
    assert code == 0
    assert summary["exchange"] == "ex-1" and summary["current"] == 2
    assert [v["version"] for v in summary["versions"]] == [2]
    assert summary["retired"] == [1]
    ring = KeyRing.load(key, passphrase=PASS)
    raws = [ring._versions[v].master.reveal() for v in ring.versions]
    raws += [ring.key(d, v).reveal() for d in DOMAINS for v in ring.versions]
    text = json.dumps(summary) + err
    for raw in raws:
        for form in (
            raw.hex(),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
        ):
            assert form not in text
    assert PASS not in text


def test_log_to_notebook_shows_progress_once(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    import linkage

    logger = logging.getLogger("linkage")
    level, propagate = logger.level, logger.propagate
    logger.propagate = False  # as in a notebook: no handler but this one
    try:
        handler = linkage.log_to_notebook()
        assert linkage.log_to_notebook() is handler  # attached once
        sample = linkage.synthetic.load_sample()
        linkage.link(sample.enterprises, sample.employers, linkage.presets.enterprises())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    err = capsys.readouterr().err
    for stage in ("prepare", "block", "compare", "fit", "score", "resolve"):
        assert f" {stage} " in err
