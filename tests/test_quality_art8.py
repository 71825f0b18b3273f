"""Art. 8 data quality: every planted defect is found, with its art. 8 kind, and the
report never repeats a value."""

from __future__ import annotations

import base64
import datetime as dt
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.exchange import _defects, load_config, run
from linkage.exchange._checks import fold
from linkage.exchange._defects import earlier_defects
from linkage.exchange._demo import write_exchange
from linkage.exchange._extract import read_extracts
from linkage.exchange._quality import KINDS, RULES, classified
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=400, seed=11)


def _kbo(first8: int) -> str:
    """A valid enterprise number (mod-97 check digits) from its first 8 digits."""
    return f"{first8:08d}{97 - first8 % 97:02d}"


def _plant(config, small) -> dict[str, tuple[str, str, str, str]]:
    """Plant one defect of each kind the report used to miss; name -> (table,
    record id, column, rule)."""
    planted: dict[str, tuple[str, str, str, str]] = {}
    ent_path = config.extracts["VLAIO"]["enterprises"]
    ent = pd.read_csv(ent_path, dtype=str, keep_default_na=False)
    ids = ent["enterprise_number"]
    legal = ent.index[ent["entity_type"] == "legal_person"]
    natural = ent.index[ent["entity_type"] == "natural_person"]

    ent.loc[legal[0], "start_date"] = "2031-02-01"
    planted["future"] = ("enterprises", ids[legal[0]], "start_date", "date in the future")
    ent.loc[legal[1], "legal_form"] = "Vennootschap X"
    planted["code legal form"] = ("enterprises", ids[legal[1]], "legal_form", "not in code list")
    ent.loc[legal[2], "size_class"] = "reusachtig"
    planted["code size"] = ("enterprises", ids[legal[2]], "size_class", "not in code list")
    ent.loc[legal[3], "status"] = "Slapend"
    planted["code status"] = ("enterprises", ids[legal[3]], "status", "not in code list")
    ent.loc[legal[4], "entity_type"] = "vennootschap"
    planted["code entity"] = ("enterprises", ids[legal[4]], "entity_type", "not in code list")
    ent.loc[natural[0], "legal_form"] = "BV"
    planted["natural form"] = (
        "enterprises",
        ids[natural[0]],
        "legal_form",
        "legal form of a natural person",
    )
    # A postcode of another municipality, on a record of a municipality seen elsewhere.
    town = fold(ent["municipality"])
    common = town.value_counts().index[0]
    at = ent.index[(town == common).to_numpy()][0]
    other = ent.index[(town != common).to_numpy() & (ent["postcode"] != ent.loc[at, "postcode"])]
    ent.loc[at, "postcode"] = ent.loc[other[0], "postcode"]
    planted["postcode"] = ("enterprises", ids[at], "postcode", "postcode not of the municipality")

    # VDAB's linked employer knows another postcode (the sender's is a valid one).
    truth = set(small.truth_enterprises["enterprise_number"])
    linked = [i for i in legal[10:] if ids[i] in truth and i != at]
    ent.loc[linked[0], "postcode"] = "9992" if ent.loc[linked[0], "postcode"] != "9992" else "9991"
    planted["vdab"] = ("enterprises", ids[linked[0]], "postcode", "differs from VDAB's employer")
    ent.to_csv(ent_path, index=False)

    # The same enterprise sent by TBT too, under another name.
    tbt_path = config.extracts["TBT"]["enterprises"]
    tbt = pd.read_parquet(tbt_path)
    mapping = config.mapping("TBT", "enterprises")
    copy = ent.loc[[legal[20]]].rename(columns=mapping)[tbt.columns.drop("party", errors="ignore")]
    copy["name"] = "Heel Andere Naam"
    for column in tbt.columns:
        if column in copy.columns:
            copy[column] = copy[column].astype(tbt[column].dtype, errors="ignore")
    pd.concat([tbt, copy], ignore_index=True).to_parquet(tbt_path, index=False)
    planted["cross party"] = ("enterprises", ids[legal[20]], "name", "differs between parties")

    dos_path = config.extracts["VLAIO"]["dossiers"]
    dos = pd.read_csv(dos_path, dtype=str, keep_default_na=False)
    dated = dos.index[(dos["contact_date"] != "") & (dos["start_date"] != "")]
    first = pd.to_datetime(dos.loc[dated[0], ["start_date", "contact_date"]]).min()
    dos.loc[dated[0], "decision_date"] = (first - pd.DateOffset(years=19)).strftime("%Y-%m-%d")
    did = dos["dossier_id"]
    planted["order"] = ("dossiers", did[dated[0]], "decision_date", "dates out of order")
    dos.loc[dated[1], "status"] = "Vergeten"
    planted["code dossier"] = ("dossiers", did[dated[1]], "status", "not in code list")
    dos.loc[dated[2], "granted_amount"], dos.loc[dated[2], "paid_amount"] = "100", "250"
    planted["paid"] = ("dossiers", did[dated[2]], "paid_amount", "paid more than granted")
    dos.loc[dated[3], "enterprise_number"] = _kbo(9_999_999)
    planted["reference"] = ("dossiers", did[dated[3]], "enterprise_number", "unknown reference")
    dos.to_csv(dos_path, index=False)

    con_path = config.extracts["VLAIO"]["contacts"]
    con = pd.read_csv(con_path, dtype=str, keep_default_na=False)
    reachable = con.index[(con["email"] != "") | (con["phone"] != "")]
    con.loc[reachable[0], ["email", "phone"]] = ""
    cid = con.loc[reachable[0], "contact_id"]
    planted["reach"] = ("contacts", cid, "email", "contact cannot be reached")
    con.to_csv(con_path, index=False)

    staff_path = config.extracts["VLAIO"]["staff"]
    staff = pd.read_csv(staff_path, dtype=str, keep_default_na=False)
    staff.loc[0, "email"] = "rudi.privé.adres@gmail.com"
    planted["personal"] = ("staff", staff.loc[0, "staff_id"], "email", "personal e-mail address")
    staff.to_csv(staff_path, index=False)
    return planted


@pytest.fixture(scope="module")
def report(small, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("art8")
    config = load_config(write_exchange(small, tmp))
    planted = _plant(config, small)
    result = run(config, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)
    return result, planted


def _read(result, party: str) -> pd.DataFrame:
    return pd.read_csv(
        result.path / "quality" / f"{party}.csv", dtype=str, keep_default_na=False
    ).assign(party=party)


@pytest.mark.parametrize(
    "name",
    [
        "future",
        "code legal form",
        "code size",
        "code status",
        "code entity",
        "natural form",
        "postcode",
        "vdab",
        "cross party",
        "order",
        "code dossier",
        "paid",
        "reference",
        "reach",
        "personal",
    ],
)
def test_each_planted_defect_is_found_with_its_kind(report, name: str) -> None:
    result, planted = report
    table, record, column, rule = planted[name]
    q = _read(result, "VLAIO")
    hit = q[(q["table"] == table) & (q["record_id"] == record) & (q["defect"] == rule)]
    assert len(hit) >= 1, f"{name}: {rule} not found on {table} {record}"
    assert set(hit["column"]) == {column}
    assert set(hit["kind"]) == {RULES[rule].kind}
    assert set(hit["severity"]) == {RULES[rule].severity}
    assert (hit["row"].astype(int) >= 1).all() and (hit["file"] != "").all()


def test_cross_party_difference_is_reported_to_both(report) -> None:
    result, planted = report
    _, record, _, rule = planted["cross party"]
    tbt = _read(result, "TBT")
    assert ((tbt["record_id"] == record) & (tbt["defect"] == rule)).any()


def test_the_report_lists_defects_by_table_row_and_column(report) -> None:
    """The checks' defects and the links' are sorted together, once (a run leaves the
    checks' in the order found until then)."""
    result, _ = report
    for party in ("VLAIO", "TBT"):
        q = _read(result, party)
        assert len(q) > 10
        rows = [int(r) if r else float("inf") for r in q["row"]]
        keys = list(zip(q["table"], rows, q["column"], strict=True))
        assert keys == sorted(keys)


def test_every_kind_is_a_kind_of_art_8_and_values_are_not_repeated(report) -> None:
    result, _ = report
    q = pd.concat([_read(result, p) for p in ("VLAIO", "TBT")])
    assert set(q["kind"]) <= set(KINDS)
    assert {"wrong", "inaccurate", "incomplete", "outdated", "superfluous"} <= set(q["kind"])
    text = (result.path / "quality" / "VLAIO.csv").read_text() + (
        result.path / "quality" / "VLAIO.html"
    ).read_text()
    for value in ("gmail", "Vennootschap X", "reusachtig", "Heel Andere Naam", "2031-02-01"):
        assert value not in text


def test_outdated_assessments_are_low_severity(report) -> None:
    result, _ = report
    q = _read(result, "VLAIO")
    outdated = q[q["defect"] == "outdated assessment"]
    assert len(outdated) and set(outdated["severity"]) == {"low"}


def test_clean_synthetic_data_has_no_false_alarms(tmp_path: Path, small) -> None:
    """The new rules find nothing on the generator's clean extracts."""
    config = load_config(write_exchange(small, tmp_path))
    result = run(config, ring=KeyRing.generate(exchange="vlaio-vdab-2025"), today=TODAY)
    q = pd.concat([_read(result, p) for p in ("VLAIO", "TBT")])
    quiet = {
        "date in the future",
        "dates out of order",
        "not in code list",
        "postcode not of the municipality",
        "invalid postcode",
        "personal e-mail address",
        "legal form of a natural person",
        "differs between parties",
    }
    assert not (set(q["defect"]) & quiet), q[q["defect"].isin(quiet)]


def test_page_ranks_rules_with_examples_not_every_row(report) -> None:
    result, _ = report
    page = (result.path / "quality" / "VLAIO.html").read_text()
    q = _read(result, "VLAIO")
    assert "Rules, most urgent first" in page and "by art. 8 kind" in page
    # the swamping rule is low severity: after every high and medium rule
    rules = page.split("Rules, most urgent first")[1]
    assert rules.index("outdated assessment") > rules.index("paid more than granted")
    assert rules.index("outdated assessment") > rules.index("not in code list")
    # examples, not every row: a rule lists at most five record ids
    outdated = q[q["defect"] == "outdated assessment"]["record_id"]
    assert len(outdated) > 5
    row = next(r for r in rules.split("<tr>") if "outdated assessment" in r)
    assert 1 <= sum(rid in row for rid in set(outdated)) <= 5
    assert page.count("<tr>") < 60


def _rerun(config, ring, **changes):
    """Change VLAIO's extracts (file -> function on the frame) and run again."""
    for table, change in changes.items():
        path = config.extracts["VLAIO"][table]
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        change(frame).to_csv(path, index=False)
    return run(config, ring=ring, today=TODAY)


def test_defect_ids_are_stable_and_statuses_follow_the_sender(small, tmp_path: Path) -> None:
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    config = load_config(write_exchange(small, tmp_path))
    planted = _plant(config, small)
    first = run(config, ring=ring, today=TODAY)
    second = run(config, ring=ring, today=TODAY)
    a, b = _read(first, "VLAIO"), _read(second, "VLAIO")
    assert set(a["status"]) == {"new"} and set(b["status"]) == {"open"}
    assert sorted(a["defect_id"]) == sorted(b["defect_id"])
    assert (b["first_seen"] == first.run_id).all()
    assert a["defect_id"].str.match(r"^d1\.[a-z2-7]{26}$").all()
    # the sender fixes the future date and stops sending the unreachable contact
    _, future, _, _ = planted["future"]
    _, contact, _, _ = planted["reach"]

    def fix(frame):
        frame.loc[frame["enterprise_number"] == future, "start_date"] = "2001-01-01"
        return frame

    third = _rerun(
        config,
        ring,
        enterprises=fix,
        contacts=lambda f: f[f["contact_id"] != contact],
    )
    c = _read(third, "VLAIO")
    ledger = pd.read_parquet(third.path / "quality" / "VLAIO.parquet")
    assert "record_id" not in ledger.columns
    was = b.set_index("defect_id")
    gone = ledger.set_index("defect_id")["status"]
    fixed_id = was.index[(was["record_id"] == future) & (was["defect"] == "date in the future")][0]
    drop_id = was.index[(was["record_id"] == contact)][0]
    assert gone[fixed_id] == "fixed" and gone[drop_id] == "withdrawn"
    assert fixed_id not in set(c["defect_id"])
    summary = third.manifest["quality_status"]["VLAIO"]
    assert summary["fixed"] >= 1 and summary["withdrawn"] >= 1 and summary["new"] == 0
    assert summary["by_rule"]["date in the future"] == {"fixed": 1}
    page = (third.path / "quality" / "VLAIO.html").read_text()
    assert "Since the last report" in page


def test_classified_gives_ids_one_type_whatever_each_check_gave() -> None:
    # A defect of a withheld number has no record id (object, all missing); the
    # checks' are Arrow text. No part decides the type alone (pandas warns of that).
    withheld = pd.DataFrame(
        {
            "party": ["TBT"],
            "table": "enterprises",
            "record_id": [None],
            "column": "enterprise_number",
            "defect": "invalid number",
            "detail": "check digits",
            "file": "TBT/e.csv",
            "row": [3],
        }
    )
    checked = withheld.assign(
        party=pd.array(["VLAIO"], dtype="string[pyarrow]"),
        record_id=pd.array(["0403170701"], dtype="string[pyarrow]"),
        column="name",
        defect="missing required field",
        row=[2],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = classified([withheld, checked])
    assert out["party"].dtype == out["record_id"].dtype == pd.StringDtype("pyarrow")
    assert out[["party", "record_id", "defect"]].astype(object).where(
        out[["party", "record_id", "defect"]].notna(), None
    ).values.tolist() == [
        ["TBT", None, "invalid number"],
        ["VLAIO", "0403170701", "missing required field"],
    ]


def test_a_reports_ids_of_the_current_key_are_taken_as_they_are(
    small, tmp_path: Path, monkeypatch
) -> None:
    """The previous report's ids are recomputed only where one is not of the current
    key version: those of that version are what recomputing gives."""
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    config = load_config(write_exchange(small, tmp_path))
    _plant(config, small)
    first = run(config, ring=ring, today=TODAY)
    tables = read_extracts(config).tables
    folder = first.path / "quality"
    taken = earlier_defects(folder, config.parties, ring, tables, first.run_id)
    with monkeypatch.context() as patch:
        patch.setattr(_defects, "_of_version", lambda ids, version: False)
        recomputed = earlier_defects(folder, config.parties, ring, tables, first.run_id)
    assert len(taken) > 10
    pd.testing.assert_frame_equal(taken, recomputed)
    # One id of another version (a report from before a rotation): all recomputed.
    report = folder / "VLAIO.csv"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace('"d1.', '"d0.', 1), encoding="utf-8")
    again = earlier_defects(folder, config.parties, ring, tables, first.run_id)
    pd.testing.assert_frame_equal(again, recomputed)


def test_classified_sets_no_column_on_a_selection_while_it_is_held() -> None:
    # A profiler or debugger holding the frames kept the frame selected from alive:
    # pandas then warned of setting a column on a copy (one line in a run's log).
    part = pd.DataFrame(
        {
            "party": pd.array(["VLAIO", "VLAIO"], dtype="string[pyarrow]"),
            "table": "enterprises",
            "record_id": pd.array(["0403170701", "0403170701"], dtype="string[pyarrow]"),
            "column": "name",
            "defect": "missing required field",
            "detail": "",
            "file": "VLAIO/e.csv",
            "row": [2, 2],  # the same defect twice: a selection drops one
        }
    )
    held: list[pd.DataFrame] = []

    def hold(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code is not classified.__code__:
            return None

        def each_line(frame: Any, event: str, arg: Any) -> Any:
            if isinstance(frame.f_locals.get("found"), pd.DataFrame):
                held.append(frame.f_locals["found"])
            return each_line

        return each_line

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.SettingWithCopyWarning)
        before = sys.gettrace()  # a coverage tool's, if any
        sys.settrace(hold)
        try:
            out = classified([part])
        finally:
            sys.settrace(before)
    assert len(held) > 1 and len(out) == 1
    assert out[["kind", "severity"]].notna().all(axis=None)


def test_an_earlier_defect_is_still_sent_only_by_its_own_party() -> None:
    """A hand-worked case: a record counts as still sent only where the defect's party
    sends its id now; a defect without a record id, where its party sends the table."""
    text = "string[pyarrow]"
    tables = {
        "enterprises": pd.DataFrame(
            {
                "enterprise_number": pd.array(["A", "B", "C", None], dtype=text),
                "party": pd.array(["VLAIO", "VLAIO", "TBT", "TBT"], dtype=text),
            }
        ),
        "dossiers": pd.DataFrame(
            {"dossier_id": pd.array(["D1"], dtype=text), "party": pd.array(["TBT"], dtype=text)}
        ),
    }
    earlier = pd.DataFrame(
        {
            "party": ["VLAIO", "VLAIO", "TBT", "TBT", "VLAIO", "TBT", "VLAIO"],
            "table": [
                "enterprises",
                "enterprises",
                "enterprises",
                "enterprises",
                "dossiers",
                "dossiers",
                "enterprises",
            ],
            "record_id": ["A", "C", "C", None, None, "D2", "Z"],
        }
    ).astype(text)
    sent = _defects._still_sent(earlier, tables)
    assert sent.tolist() == [True, False, True, True, False, False, False]


def test_the_previous_report_is_read_once_the_checks_are_done_before_they_are_classified(
    small, tmp_path: Path, monkeypatch
) -> None:
    """A re-run reads its previous report beside the one core that classifies and
    writes its defects, not beside the checks' two threads nor after them; with the
    same statuses as when it is read after."""
    from linkage.exchange import _quality
    from linkage.exchange import _run as R

    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    config = load_config(write_exchange(small, tmp_path))
    first = run(config, ring=ring, today=TODAY)
    events: list[str] = []
    call, classify, beside = _quality.call, _quality.classified, R.Beside

    def check(fn):
        found = call(fn)
        events.append("check")
        return found

    def classifying(parts):
        events.append("classified")
        return classify(parts)

    def started(fn, /, *args, **kwargs):
        events.append(fn.__name__)
        return beside(fn, *args, **kwargs)

    monkeypatch.setattr(_quality, "call", check)
    monkeypatch.setattr(_quality, "classified", classifying)
    monkeypatch.setattr(R, "Beside", started)
    second = run(config, ring=ring, today=TODAY)
    order = [e for e in events if e in ("check", "earlier_defects", "classified")]
    read = order.index("earlier_defects")
    assert order[:read] == ["check"] * read and read > 1
    assert order[read + 1] == "classified"
    assert set(_read(second, "VLAIO")["status"]) == {"open"}
    assert _read(first, "VLAIO")["defect_id"].sort_values().tolist() == (
        _read(second, "VLAIO")["defect_id"].sort_values().tolist()
    )


_WORDS = st.text(min_size=1, max_size=12)


@given(rows=st.lists(st.tuples(_WORDS, _WORDS, _WORDS, _WORDS, _WORDS), min_size=1, max_size=8))
@settings(max_examples=40, deadline=None)
def test_a_defect_id_is_the_siphash_of_its_name_as_text(rows: list[tuple[str, ...]]) -> None:
    """Each id, worked out one defect at a time from its name as a Python string (the
    two keyed SipHash-2-4 of pandas, little-endian, base32): the ids reports carry,
    whatever text the names hold (accents, NULs, other scripts)."""
    ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    frame = pd.DataFrame(rows, columns=["party", "table", "record_id", "column", "defect"])
    frame["file"], frame["row"] = "file.csv", range(1, len(rows) + 1)
    text_key = base64.b64encode(ring.key(_defects.DOMAIN).reveal()).decode("ascii")
    for got, row in zip(_defects.defect_ids(frame, ring), rows, strict=True):
        name = np.array(["\x1f".join(row)], dtype=object)
        raw = b"".join(
            pd.util.hash_array(name, hash_key=text_key[16 * k : 16 * k + 16], categorize=False)
            .astype("<u8")
            .tobytes()
            for k in (0, 1)
        )
        assert got == f"d{ring.current}." + base64.b32encode(raw).decode("ascii").lower()[:26]
