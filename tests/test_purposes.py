"""Art. 12: a delivery's purposes and the senders' approvals, in the config, the
manifest and every delivered Parquet file; a run marked for an unapproved purpose
refused before any work."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from linkage.exceptions import ConfigError
from linkage.exchange import load_config, purge, read_delivery, read_events, run
from linkage.exchange._demo import write_exchange
from linkage.exchange._purposes import METADATA_KEY
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)

APPROVED = """
[purposes]
use = ["protocol", "ai"]
[purposes.approvals.VLAIO]
ai = { approved = true, reference = "VLAIO letter 2026/014", date = 2026-01-10 }
direct_marketing = { approved = false, reference = "VLAIO letter 2026/015" }
[purposes.approvals.TBT]
ai = { approved = true, reference = "TBT decision 7", date = 2026-02-01 }
"""


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=200, seed=11)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


def _config(tmp_path: Path, small, purposes: str = ""):
    path = write_exchange(small, tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + purposes, encoding="utf-8")
    return load_config(path)


def _file_purposes(folder: Path, outputs: dict) -> dict[str, dict]:
    found = {}
    for name, output in outputs.items():
        metadata = pq.read_schema(folder / output["file"]).metadata or {}
        found[name] = json.loads(metadata[METADATA_KEY])
    return found


def test_default_is_the_protocols_own_purpose(tmp_path: Path, small, ring: KeyRing) -> None:
    result = run(_config(tmp_path, small), ring=ring, today=TODAY)
    purposes = result.manifest["purposes"]
    assert purposes == {"use": ["protocol"], "approvals": {}}
    files = _file_purposes(result.path, result.manifest["outputs"])
    assert set(files) >= {"enterprises", "links_enterprises"}
    assert all(p == purposes for p in files.values())


def test_approved_purpose_runs_and_every_file_records_it(
    tmp_path: Path, small, ring: KeyRing
) -> None:
    config = _config(tmp_path, small, APPROVED)
    result = run(config, ring=ring, today=TODAY)
    purposes = result.manifest["purposes"]
    assert purposes["use"] == ["protocol", "ai"]
    assert purposes["approvals"]["VLAIO"] == {
        "ai": {"approved": True, "reference": "VLAIO letter 2026/014", "date": "2026-01-10"},
        "direct_marketing": {
            "approved": False,
            "reference": "VLAIO letter 2026/015",
            "date": None,
        },
    }
    assert purposes["approvals"]["TBT"]["ai"]["reference"] == "TBT decision 7"
    files = _file_purposes(result.path, result.manifest["outputs"])
    assert len(files) == len(result.manifest["outputs"])
    assert all(p == purposes for p in files.values())
    # a purge rewrites the tables: they keep the purposes the manifest keeps
    purge(config, party="TBT")
    after = read_delivery(config.store)
    assert after is not None and after.manifest["purposes"] == purposes
    assert all(
        p == purposes for p in _file_purposes(after.path, after.manifest["outputs"]).values()
    )


@pytest.mark.parametrize(
    ("purposes", "refused"),
    [
        # TBT never answered
        (
            '[purposes]\nuse = ["ai"]\n[purposes.approvals.VLAIO]\n'
            'ai = { approved = true, reference = "r1", date = 2026-01-10 }\n',
            "marked for 'ai' .*, which TBT has not approved",
        ),
        # VLAIO said no
        (
            '[purposes]\nuse = ["protocol", "direct_marketing"]\n'
            "[purposes.approvals.VLAIO]\n"
            'direct_marketing = { approved = false, reference = "no" }\n',
            "marked for 'direct_marketing' .*, which VLAIO did not approve \\(no\\)",
        ),
        # approved, but only after the run: not prior
        (
            '[purposes]\nuse = ["ai"]\n'
            "[purposes.approvals.VLAIO]\n"
            'ai = { approved = true, reference = "r", date = 2027-01-01 }\n'
            "[purposes.approvals.TBT]\n"
            'ai = { approved = true, reference = "r", date = 2026-01-01 }\n',
            "VLAIO's approval .* dated 2027-01-01, after today 2026-11-28",
        ),
    ],
)
def test_unapproved_purpose_is_refused_and_nothing_delivered(
    tmp_path: Path, small, ring: KeyRing, purposes: str, refused: str
) -> None:
    config = _config(tmp_path, small, purposes)
    with pytest.raises(ConfigError, match=refused) as caught:
        run(config, ring=ring, today=TODAY)
    assert "\n" not in str(caught.value)
    assert read_delivery(config.store) is None
    assert not config.store.exists() or not list(config.store.rglob("*.parquet"))
    (event,) = read_events(config.audit_log)
    assert event["outcome"] == "failed" and event["reason"] == str(caught.value)


@pytest.mark.parametrize(
    ("purposes", "message"),
    [
        ('[purposes]\nuse = ["marketing"]\n', "use: unknown purpose 'marketing'"),
        ('[purposes]\nuse = "ai"\n', "use: expected a list"),
        ("[purposes]\nuse = []\n", "use: name at least one purpose"),
        ('[purposes]\nuse = ["ai", "ai"]\n', "named twice"),
        ("[purposes]\nusage = []\n", "unknown key"),
        (
            "[purposes.approvals.VDAB]\nai = { approved = true }\n",
            r"\[purposes.approvals.VDAB\]: not one of the parties",
        ),
        (
            "[purposes.approvals.VLAIO]\nai = { approved = true, date = 2026-01-10 }\n",
            "ai: an approval needs the reference",
        ),
        (
            '[purposes.approvals.VLAIO]\nai = { approved = true, reference = "r" }\n',
            "ai: an approval needs the reference .* and its date",
        ),
        (
            '[purposes.approvals.VLAIO]\nai = { approved = "yes", reference = "r" }\n',
            "ai approved: expected true or false",
        ),
        ('[purposes.approvals.VLAIO]\nai = { reference = "r" }\n', "missing 'approved'"),
        (
            "[purposes.approvals.VLAIO]\nprotocol = { approved = true }\n",
            "the protocol's own purpose needs none",
        ),
        (
            "[purposes.approvals.VLAIO]\nmarketing = { approved = true }\n",
            "did you mean 'direct_marketing'",
        ),
        (
            "[purposes.approvals.VLAIO]\n"
            'ai = { approved = true, reference = "r", date = "soon" }\n',
            "ai date: expected a date",
        ),
        (
            '[purposes.approvals.VLAIO]\nai = { approved = false, by = "x" }\n',
            r"unknown key\(s\) \['by'\]",
        ),
    ],
)
def test_bad_purposes_are_refused_when_loading(
    tmp_path: Path, small, purposes: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _config(tmp_path, small, purposes)
    assert "\n" not in str(caught.value)
    assert caught.value.source == "exchange.toml"
