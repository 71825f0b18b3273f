"""Column mappings of the exchange config: a sender's own headers renamed to the
protocol's columns as a file is read (``[extracts.<party>.columns.<table>]``).

A mapped run delivers what the run of the same data under the protocol's names
delivers; a mapping that cannot be right is a one-line error naming party, table and
column; errors and the data-quality report name the column as the sender wrote it;
the manifest records the mapping, never a value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import load_config, read_delivery, read_extracts, run
from linkage.exchange._demo import DEMO_COLUMNS, write_exchange
from linkage.exchange._extract import DEFECT_COLUMNS, Extracts
from linkage.exchange._schema import EXTRACTS, NATIONAL_NUMBER_NAMES
from linkage.keys import KeyRing
from linkage.synthetic import generate

TODAY = dt.date(2026, 11, 28)

#: VLAIO's CSVs and TBT's Parquet files under headers of their own; TBT swaps two
#: names of the protocol (its ``status`` column holds the legal form and back).
MAPPED = {
    "VLAIO": {
        "enterprises": {
            "enterprise_number": "ondernemingsnummer",
            "name": "naam",
            "postcode": "postcode_nr",
            "email": "e-mail",
            "phone": "telefoon",
            "start_date": "oprichtingsdatum",
            "in_difficulty": "in moeilijkheden",
        },
        "dossiers": {
            "dossier_id": "dossiernummer",
            "enterprise_number": "ondernemingsnummer",
            "granted_amount": "toegekend bedrag",
            "decision_date": "beslissingsdatum",
        },
        "contacts": {"contact_id": "contactsleutel", "email": "e-mailadres"},
        "staff": {"staff_id": "medewerker", "last_name": "familienaam"},
    },
    "TBT": {
        "enterprises": {
            "enterprise_number": "KBO-nummer",
            "name": "Naam onderneming",
            "status": "legal_form",
            "legal_form": "status",
            "municipality": "gemeente",
        },
        "establishments": {
            "establishment_number": "vestigingsnummer",
            "enterprise_number": "ondernemingsnummer",
        },
    },
}


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def small():
    return generate(n_enterprises=300, seed=3)


@pytest.fixture
def plain(tmp_path: Path, small):
    """The small exchange under the protocol's names everywhere."""
    return load_config(write_exchange(small, tmp_path / "plain", columns={}))


@pytest.fixture
def mapped(tmp_path: Path, small):
    """The same exchange under the senders' own headers, and the config's mappings."""
    return load_config(write_exchange(small, tmp_path / "mapped", columns=MAPPED))


# ------------------------------------------------------------------ same delivery


def test_a_mapped_run_delivers_what_the_unmapped_run_does(plain, mapped, ring) -> None:
    assert pd.read_csv(mapped.extracts["VLAIO"]["enterprises"], nrows=0).columns[0] == (
        "ondernemingsnummer"
    )
    assert "KBO-nummer" in pd.read_parquet(mapped.extracts["TBT"]["enterprises"]).columns
    first = run(plain, ring=ring, today=TODAY)
    second = run(mapped, ring=ring, today=TODAY)
    expected, got = read_delivery(plain.store).tables(), read_delivery(mapped.store).tables()
    assert set(got) == set(expected)
    for name, table in expected.items():
        assert len(table), name
        pd.testing.assert_frame_equal(got[name], table, obj=name)
    assert second.manifest["links"] == first.manifest["links"]
    assert second.manifest["minimisation"] == first.manifest["minimisation"]
    # The manifest records which headers were mapped, file by file, and no value.
    recorded = {
        (i["party"], i["table"]): i["mapped_columns"]
        for i in second.manifest["inputs"]
        if "mapped_columns" in i
    }
    assert recorded == {(p, t): m for p, tables in MAPPED.items() for t, m in tables.items()}
    assert not any("mapped_columns" in i for i in first.manifest["inputs"])
    # The quality report is the same report, each column named as its sender wrote it.
    for party in ("VLAIO", "TBT"):
        # (A defect's id names the field as sent, and first_seen the run: both differ.)
        per_run = ["defect_id", "first_seen"]
        before = pd.read_csv(first.path / "quality" / f"{party}.csv", dtype=str).drop(
            columns=per_run
        )
        after = pd.read_csv(second.path / "quality" / f"{party}.csv", dtype=str).drop(
            columns=per_run
        )
        assert len(before) and len(after) == len(before)
        for table, mapping in MAPPED[party].items():
            rows = (before["table"] == table).to_numpy()
            before.loc[rows, "column"] = before.loc[rows, "column"].map(
                lambda c, m=mapping: m.get(c, c)
            )
        # (Rows of one record are in the order of the names the sender sees.)
        every = list(before.columns)
        pd.testing.assert_frame_equal(
            after.sort_values(every, ignore_index=True),
            before.sort_values(every, ignore_index=True),
            obj=f"quality/{party}.csv",
        )
    vlaio = pd.read_csv(second.path / "quality" / "VLAIO.csv", dtype=str)
    assert {"e-mail", "telefoon"} & set(vlaio.loc[vlaio["table"] == "enterprises", "column"])


def test_the_demo_maps_some_of_tbts_headers(tmp_path: Path, small) -> None:
    config = load_config(write_exchange(small, tmp_path))
    assert config.columns == DEMO_COLUMNS
    headers = set(pd.read_parquet(config.extracts["TBT"]["enterprises"]).columns)
    assert set(DEMO_COLUMNS["TBT"]["enterprises"].values()) <= headers
    extracts = read_extracts(config)
    assert extracts.tables["enterprises"]["municipality"].notna().any()
    assert extracts.dropped[0]["columns"] == ["crm_segment", "internal_notes"]


# ------------------------------------------------------------------ the config


def _with(path: Path, text: str) -> Path:
    """The config at ``path`` with ``text`` added at its end."""
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            '[extracts.VLAIO.columns.enterprises]\nnam = "naam"\n',
            "exchange.toml: [extracts.VLAIO.columns.enterprises] nam: not a column of the "
            "enterprises extract; did you mean 'name'?",
        ),
        (
            '[extracts.TBT.columns.staff]\nrijksregister = "rrn"\n',
            "exchange.toml: [extracts.TBT.columns.staff] rijksregister: not a column of the "
            "staff extract; expected staff_id, first_name, last_name, function, service, "
            "department, email, phone, party",
        ),
        (
            '[extracts.VLAIO.columns.firms]\nname = "naam"\n',
            "exchange.toml: [extracts.VLAIO.columns.firms]: unknown table 'firms'; expected "
            "enterprises, establishments, dossiers, contacts, staff",
        ),
        (
            '[extracts.VLAIO.columns.enterprises]\nname = "naam"\nmanager_last_name = "naam"\n',
            "exchange.toml: [extracts.VLAIO.columns.enterprises] manager_last_name: header "
            "'naam' is mapped to name too; one header gives one column",
        ),
        (
            '[extracts.TBT.columns.dossiers]\nstart_date = "contact_date"\n',
            "exchange.toml: [extracts.TBT.columns.dossiers] start_date: header 'contact_date' "
            "would give both start_date and contact_date (the column of that name); map "
            "contact_date from another header",
        ),
        (
            '[extracts.TBT.columns.staff]\nstaff_id = "Rijksregisternummer"\n',
            "exchange.toml: [extracts.TBT.columns.staff] staff_id: header "
            "'Rijksregisternummer' names a national register number, which the protocol "
            "(art. 3) does not allow",
        ),
        (
            '[extracts.VLAIO.columns.enterprises]\nname = ""\n',
            "exchange.toml: [extracts.VLAIO.columns.enterprises] name: expected the header in "
            "the file, got ''",
        ),
        (
            "[extracts.VLAIO.columns.enterprises]\nname = 5\n",
            "exchange.toml: [extracts.VLAIO.columns.enterprises] name: expected the header in "
            "the file, got 5",
        ),
        (
            '[extracts.VLAIO.columns]\nenterprises = "naam"\n',
            "exchange.toml: [extracts.VLAIO.columns] enterprises: expected a table, got 'naam'",
        ),
        (
            '[extracts.mixed.columns.enterprises]\nparty = "partij"\n',
            "exchange.toml: [extracts.mixed.columns.enterprises]: [extracts.mixed] names no "
            "enterprises file to map",
        ),
    ],
)
def test_a_wrong_mapping_is_a_one_line_config_error(tmp_path: Path, small, text, line) -> None:
    path = _with(write_exchange(small, tmp_path, columns={}), text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == line


def test_a_swap_and_an_identity_are_fine(tmp_path: Path, small) -> None:
    path = _with(
        write_exchange(small, tmp_path, columns={}),
        '[extracts.VLAIO.columns.enterprises]\nstatus = "legal_form"\nlegal_form = "status"\n'
        'name = "name"\n',
    )
    assert load_config(path).mapping("VLAIO", "enterprises") == {
        "status": "legal_form",
        "legal_form": "status",
        "name": "name",
    }


def test_the_config_checks_a_mapping_made_in_python(mapped) -> None:
    with pytest.raises(ConfigError, match=r"^\[extracts.VLAIO.columns.staff\] nam: not a colu"):
        dataclasses.replace(mapped, columns={"VLAIO": {"staff": {"nam": "naam"}}})


# ------------------------------------------------------------------ the files


def _edit(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("table", "change", "line"),
    [
        (
            "enterprises",
            lambda f: f.rename(columns={"naam": "name"}, inplace=True),
            r"VLAIO/enterprises.csv, column 'naam': missing column\(s\) 'naam'; found "
            r"'ondernemingsnummer', 'name', .*, 'internal_notes' "
            r"\(\[extracts.VLAIO.columns.enterprises\] maps it to name\)",
        ),
        (
            "enterprises",
            lambda f: f.insert(2, "name", f["naam"]),
            r"VLAIO/enterprises.csv, column 'name': the file has this column and 'naam', which "
            r"\[extracts.VLAIO.columns.enterprises\] maps to name; remove one of them",
        ),
        (
            "dossiers",
            lambda f: f.__setitem__("beslissingsdatum", ["31/02/2024"] * len(f)),
            r"VLAIO/dossiers.csv, column 'beslissingsdatum', row 1: expected a date "
            r"\(YYYY-MM-DD\)",
        ),
        (
            "dossiers",
            lambda f: f.__setitem__("toegekend bedrag", ["veel"] * len(f)),
            r"VLAIO/dossiers.csv, column 'toegekend bedrag', row 1: expected a number "
            r"\(e.g. 1250.50\)",
        ),
        (
            "dossiers",
            lambda f: f.drop(columns="title", inplace=True),
            r"VLAIO/dossiers.csv, column 'title': missing column\(s\) 'title'; found "
            r"'dossiernummer', 'ondernemingsnummer', 'status', .*, 'toegekend bedrag', .*, "
            r"'beslissingsdatum', 'crm_reference' \(required by art. 3, Gegeven 1\)",
        ),
        (
            "contacts",
            lambda f: f.__setitem__("contactsleutel", [f["contactsleutel"][0]] * len(f)),
            r"VLAIO/contacts.csv, column 'contactsleutel', row 2: duplicate id \(first at "
            r"VLAIO/contacts.csv, row 1\)",
        ),
        (
            "enterprises",
            lambda f: f.__setitem__(
                "ondernemingsnummer", ["0403170702", *list(f["ondernemingsnummer"][1:])]
            ),
            r"VLAIO/enterprises.csv, column 'ondernemingsnummer', row 1: not a valid enterprise "
            r"number: check digits do not match \(mod 97\)",
        ),
        (
            "staff",
            lambda f: f.__setitem__("familienaam", ["85.07.30-033.28"] * len(f)),
            r"VLAIO/staff.csv, column 'familienaam', row 1: a national register or BIS number "
            r"\([\d,]+ in this column\); the protocol \(art. 3\) does not allow them: remove them "
            r"from the extract",
        ),
    ],
)
def test_file_errors_name_the_column_as_the_sender_wrote_it(mapped, table, change, line) -> None:
    _edit(mapped.extracts["VLAIO"][table], change)
    # a national number refuses the run when [checks] says so (else: withheld)
    refuse = dataclasses.replace(mapped.checks, national_numbers="refuse")
    with pytest.raises(SchemaError) as error:
        read_extracts(dataclasses.replace(mapped, checks=refuse))
    message = str(error.value)
    assert re.fullmatch(line, message) and "\n" not in message, message
    assert "85.07.30" not in message and "0403170702" not in message


def test_a_withheld_number_is_reported_under_the_senders_header(mapped, ring) -> None:
    _edit(
        mapped.extracts["VLAIO"]["dossiers"],
        lambda f: f.__setitem__(
            "ondernemingsnummer", ["0403170702", *list(f["ondernemingsnummer"][1:])]
        ),
    )
    result = run(mapped, ring=ring, today=TODAY, invalid_numbers="withhold")
    quality = pd.read_csv(result.path / "quality" / "VLAIO.csv", dtype=str)
    number = quality[quality["defect"] == "invalid number"]
    assert number[["table", "column", "row"]].values.tolist() == [
        ["dossiers", "ondernemingsnummer", "1"]
    ]


def test_a_mixed_file_maps_its_party_column(tmp_path: Path, small) -> None:
    """A ``mixed`` file names each record's sender under a header of its own."""
    config = load_config(write_exchange(small, tmp_path, columns={}))
    others = {
        party: {t: f for t, f in files.items() if t != "enterprises"}
        for party, files in config.extracts.items()
    }
    read = {}
    for kind, mapping in (("plain", {}), ("mapped", {"party": "partij", "name": "naam"})):
        path = tmp_path / kind / "enterprises.parquet"
        path.parent.mkdir()
        small.enterprises.rename(columns=mapping).to_parquet(path, index=False)
        mixed = dataclasses.replace(
            config,
            extracts={**others, "mixed": {"enterprises": path}},
            columns={"mixed": {"enterprises": mapping}} if mapping else {},
        )
        read[kind] = read_extracts(mixed).tables["enterprises"]
    assert set(read["plain"]["party"]) == {"VLAIO", "TBT"}
    pd.testing.assert_frame_equal(read["mapped"], read["plain"])
    small.enterprises.rename(columns=mapping).assign(partij="ANDERE").to_parquet(path, index=False)
    with pytest.raises(SchemaError, match=r"^enterprises.parquet, column 'partij', row 1: not"):
        read_extracts(mixed)


# ------------------------------------------------------------------ any mapping


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny exchange under the protocol's names, and what it reads as."""
    config = load_config(
        write_exchange(generate(n_enterprises=40, seed=5), tmp_path_factory.mktemp("x"), columns={})
    )
    return config, read_extracts(config)


_HEADER = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.éëï"),
    min_size=1,
    max_size=12,
)


@st.composite
def _mappings(draw, columns: list[str], taken: set[str]) -> dict[str, str]:
    """Some columns under fresh headers, some permuted among themselves."""
    chosen = draw(st.lists(st.sampled_from(columns), unique=True, max_size=len(columns)))
    cut = draw(st.integers(0, len(chosen)))
    permuted, fresh = chosen[:cut], chosen[cut:]
    mapping = dict(zip(permuted, draw(st.permutations(permuted)), strict=True))
    headers = draw(
        st.lists(
            _HEADER.filter(lambda h: h not in taken and not re.search(NATIONAL_NUMBER_NAMES, h)),
            min_size=len(fresh),
            max_size=len(fresh),
            unique=True,
        )
    )
    mapping.update(zip(fresh, headers, strict=True))
    return mapping


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(), party=st.sampled_from(["VLAIO", "TBT"]), table=st.sampled_from(list(EXTRACTS))
)
def test_any_mapping_reads_as_the_protocols_names(tiny, data, party, table) -> None:
    config, expected = tiny
    path = config.extracts[party][table]
    frame = (
        pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        if path.suffix == ".csv"
        else pd.read_parquet(path)
    )
    columns = [c for c in frame.columns if c in EXTRACTS[table].columns]
    taken = set(frame.columns) | set(EXTRACTS[table].columns) | {"party"}
    mapping = data.draw(_mappings(columns, taken), label="mapping")
    with tempfile.TemporaryDirectory() as folder:
        renamed = Path(folder) / path.name
        sent = frame.rename(columns=mapping)
        if path.suffix == ".csv":
            sent.to_csv(renamed, index=False)
        else:
            sent.to_parquet(renamed, index=False)
        mapped = dataclasses.replace(
            config,
            extracts={**config.extracts, party: {**config.extracts[party], table: renamed}},
            columns={party: {table: mapping}},
        )
        got = read_extracts(mapped)
    for name, table_frame in expected.tables.items():
        pd.testing.assert_frame_equal(got.tables[name], table_frame, obj=name)
    assert got.dropped == expected.dropped
    pd.testing.assert_frame_equal(got.defects, expected.defects)


_NAMES = st.sampled_from(["name", "status", "legal_form", "email", "naam"])


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["enterprises", "staff"]),
            st.sampled_from(["VLAIO/a.csv", "TBT/a.parquet", "a.parquet"]),
            _NAMES,
        ),
        max_size=30,
    ),
    headers=st.dictionaries(
        st.tuples(
            st.sampled_from(["enterprises", "staff"]),
            st.sampled_from(["VLAIO/a.csv", "TBT/a.parquet", "b.csv"]),
        ),
        st.dictionaries(_NAMES, _NAMES),
        max_size=4,
    ),
)
def test_defects_as_sent_equal_a_look_up_per_row(rows, headers) -> None:
    defects = pd.DataFrame(rows, columns=["table", "file", "column"]).reindex(
        columns=list(DEFECT_COLUMNS)
    )
    extracts = Extracts(tables={}, inputs=[], dropped=[], defects=defects, headers=headers)
    expected = [headers.get((t, f), {}).get(c, c) for t, f, c in rows]
    assert extracts.as_sent(defects).tolist() == expected
