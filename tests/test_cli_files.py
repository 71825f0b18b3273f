"""``linkage link`` and ``linkage evaluate`` on files as users bring them.

A Belgian Excel CSV (semicolons, Windows-1252, ``Lëuven``) links as its Parquet
original does; ``--sep`` and ``--encoding`` override what is found; and a fuzz of the
commands' file inputs (bytes of any kind, damaged copies of a good CSV, tables in
any dialect) never ends in a traceback: exit 0, or one line ``linkage: error:``
naming the file with the exit code the CLI maps the error to, and no output.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linkage
from linkage.cli import EXIT_INPUT, EXIT_IO, main
from linkage.io import read_table


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample, its enterprises in Lëuven where they were in Leuven."""
    folder = tmp_path_factory.mktemp("sample")
    linkage.synthetic.load_sample().write(folder)
    enterprises = pd.read_parquet(folder / "enterprises.parquet")
    assert (enterprises["municipality"] == "Leuven").sum() > 10
    enterprises["municipality"] = enterprises["municipality"].replace("Leuven", "Lëuven")
    enterprises.to_parquet(folder / "enterprises.parquet")
    return folder


@pytest.fixture(scope="module")
def parquet_links(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("links") / "links.parquet"
    argv = ["link", str(sample / "enterprises.parquet"), str(sample / "employers.parquet")]
    assert main(["-q", *argv, "--preset", "enterprises", "--out", str(out)]) == 0
    return pd.read_parquet(out)


EXCEL = {
    # name: separator, encoding, an Excel "sep=" line above the header
    "excel.csv": (";", "cp1252", False),
    "excel-sep-line.csv": (";", "cp1252", True),
    "excel-utf8.csv": (";", "utf-8-sig", False),
    "unicode-text.txt": ("\t", "utf-16", False),
    "excel.csv.gz": (";", "cp1252", False),
}


def _write(frame: pd.DataFrame, path: Path, sep: str, encoding: str, sep_line: bool) -> None:
    text = ("sep=;\r\n" if sep_line else "") + frame.to_csv(
        index=False, sep=sep, lineterminator="\r\n"
    )
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


@pytest.mark.parametrize("name", list(EXCEL))
def test_a_spreadsheets_csv_links_as_its_original(
    sample: Path,
    parquet_links: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    enterprises = pd.read_parquet(sample / "enterprises.parquet")
    assert (enterprises["municipality"] == "Lëuven").any()
    path = tmp_path / name
    _write(enterprises, path, *EXCEL[name])
    # Read as the original was: every value, "ë" too.
    read = read_table(path, sep=None, encoding=None)
    assert read["municipality"].tolist() == enterprises["municipality"].tolist()
    out = tmp_path / "links.parquet"
    argv = ["link", str(path), str(sample / "employers.parquet"), "--preset", "enterprises"]
    assert main([*argv, "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), parquet_links)
    assert len(parquet_links) > 1_000


def test_sep_and_encoding_override_what_is_found(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enterprises = pd.read_parquet(sample / "enterprises.parquet")
    path = tmp_path / "excel.csv"
    _write(enterprises, path, ";", "cp1252", False)
    base = ["link", str(path), str(sample / "employers.parquet"), "--preset", "enterprises"]
    out = ["--out", str(tmp_path / "l.csv")]
    assert main([*base, *out, "--sep", ";", "--encoding", "cp1252"]) == 0
    capsys.readouterr()
    # Told UTF-8, it is not: one line naming the byte, its line and the file.
    assert main([*base, *out, "--encoding", "utf-8"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert (
        err.startswith("linkage: error: excel.csv: not UTF-8 text (byte 0x")
        and err.count("\n") == 1
    )
    # Told commas, the commas in its names make rows of other lengths.
    assert main([*base, *out, "--sep", ","]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("linkage: error: excel.csv: not a well-formed CSV: ")
    assert err.count("\n") == 1
    for option, value, says in (
        ("--encoding", "klingon", "unknown encoding 'klingon'"),
        ("--sep", ";;", "a separator is one character"),
    ):
        assert main([*base, *out, option, value]) == EXIT_INPUT
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1


def test_evaluate_reads_a_spreadsheets_csv(
    sample: Path, parquet_links: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = tmp_path / "links.csv"
    _write(parquet_links, links, ";", "cp1252", True)
    truth = tmp_path / "truth.txt"
    _write(pd.read_parquet(sample / "truth_enterprises.parquet"), truth, "\t", "utf-16", False)
    capsys.readouterr()
    assert main(["evaluate", str(links), str(truth), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["f1"] >= 0.99


# ------------------------------------------------------------------ fuzz


@pytest.fixture(scope="module")
def small(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Forty enterprises as a Belgian CSV (bytes), forty employers (a Parquet file), so
    that a fuzzed file that still reads links in a fraction of a second."""
    folder = tmp_path_factory.mktemp("small")
    employers, enterprises = folder / "employers.parquet", folder / "enterprises.parquet"
    pd.read_parquet(sample / "employers.parquet").head(40).to_parquet(employers)
    pd.read_parquet(sample / "enterprises.parquet").head(40).to_parquet(enterprises)
    text = pd.read_parquet(enterprises).to_csv(index=False, sep=";")
    return {"csv": text.encode("cp1252"), "employers": employers, "enterprises": enterprises}


@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    """A good file cut, with bytes flipped, inserted or cut out."""
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        if kind == "cut":
            del data[at:]
        elif kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            del data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


CELL = st.text(alphabet=st.sampled_from('ab1 ,;\t"\n\rëé€\x00\ufeff'), max_size=6)


@st.composite
def dialect_tables(draw: st.DrawFn) -> bytes:
    """Rows of any length, cells of separators, quotes, line breaks, NUL and BOM
    characters, joined by any separator, in any encoding, a BOM or not."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows = draw(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=0, max_size=5))
    text = "\n".join(sep.join(row) for row in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def _run_file_commands(content: bytes, name: str, small: dict[str, object]) -> None:
    folder = Path.cwd()
    Path(name).write_bytes(content)
    commands = [
        ["link", name, str(small["employers"]), "--preset", "enterprises", "--out", "l.csv"],
        ["link", str(small["enterprises"]), name, "--preset", "enterprises", "--out", "l.csv"],
        ["evaluate", name, name],
    ]
    for argv in commands:
        (folder / "l.csv").unlink(missing_ok=True)
        code, _, err = _main(argv)
        assert "Traceback" not in err, err
        if code == 0:
            continue
        lines = err.splitlines()
        assert code in (EXIT_INPUT, EXIT_IO), (code, err)
        assert len(lines) == 1 and lines[0].startswith("linkage: error: "), err
        assert name in lines[0], lines[0]
        assert not (folder / "l.csv").exists()


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-q", *argv])
    return code, out.getvalue(), err.getvalue()


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_a_table_that_meets_no_record_is_named_in_one_line(
    small: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row with a number and no name: no candidate pair, so no model can be
    fitted; the line names both tables (found by the fuzzing below)."""
    monkeypatch.chdir(tmp_path)
    _run_file_commands(b"enterprise_number;name\n0", "fuzzed.csv", small)


@FUZZ
@given(data=st.data())
def test_fuzzed_csv_inputs_never_end_in_a_traceback(
    small: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    monkeypatch.chdir(tmp_path)
    content = data.draw(
        st.one_of(
            st.binary(max_size=400),
            damaged(small["csv"]),  # type: ignore[arg-type]
            dialect_tables(),
        )
    )
    _run_file_commands(content, "fuzzed.csv", small)


@FUZZ
@given(data=st.data())
def test_fuzzed_gzip_inputs_never_end_in_a_traceback(
    small: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    monkeypatch.chdir(tmp_path)
    good = gzip.compress(small["csv"])  # type: ignore[arg-type]
    content = data.draw(st.one_of(damaged(good), dialect_tables().map(gzip.compress)))
    _run_file_commands(content, "fuzzed.csv.gz", small)


# ------------------------------------------------------------------ a new user's tables

DUTCH = {
    "enterprise_number": "ondernemingsnummer",
    "name": "naam",
    "street": "straat",
    "house_number": "huisnummer",
    "box": "bus",
    "postcode": "postcode_nr",
    "municipality": "gemeente",
    "phone": "telefoon",
    "email": "e-mail",
}


def test_dutch_headers_in_a_belgian_csv_link_with_a_column_mapping(
    sample: Path, parquet_links: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enterprises = pd.read_parquet(sample / "enterprises.parquet").rename(columns=DUTCH)
    path = tmp_path / "ondernemingen.csv"
    _write(enterprises, path, ";", "cp1252", False)
    mapping = ",".join(f"{k}={v}" for k, v in DUTCH.items() if k != "municipality")
    out = tmp_path / "links.csv"
    argv = [
        *("link", str(path), str(sample / "employers.parquet"), "--preset", "enterprises"),
        *("--left-columns", mapping, "--out", str(out), "--json"),
    ]
    capsys.readouterr()
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    links = pd.read_csv(out, dtype={"ondernemingsnummer": str})
    assert list(links.columns[:2]) == ["ondernemingsnummer", "employer_id"]
    assert set(zip(links["ondernemingsnummer"], links["employer_id"], strict=True)) == set(
        zip(parquet_links["enterprise_number"], parquet_links["employer_id"], strict=True)
    )
    assert summary["links"] == len(links) == len(parquet_links)
    assert summary["left"] == {"file": str(path), "rows": len(enterprises)}
    assert summary["right"]["rows"] == len(pd.read_parquet(sample / "employers.parquet"))
    # The union of the rules' pairs: no more than their sum.
    assert summary["candidate_pairs"] <= sum(summary["pairs_by_rule"].values())
    assert summary["candidate_pairs"] >= summary["links"] > 1_000
    assert summary["model"]["fitted"] is True and summary["out"] == str(out)
    assert set(summary["seconds"]) == {"prepare", "block", "compare", "fit", "score", "resolve"}


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        ("naam", "--left-columns takes NAME=YOURS pairs separated by commas"),
        ("name=naam,name=naam2", "--left-columns names 'name' twice"),
        ("nam=naam", "left column mapping names ['nam'], which the spec does not read"),
    ],
)
def test_a_wrong_column_mapping_is_one_line(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str, says: str
) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("read a table before the mapping was checked")

    argv = [
        *("link", str(sample / "enterprises.parquet"), str(sample / "employers.parquet")),
        *("--preset", "enterprises", "--left-columns", mapping, "--out", str(tmp_path / "l.csv")),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("linkage.cli._link.read_table", no_read)
        assert main(argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("linkage: error: ") and says in err and err.count("\n") == 1


def test_a_mapped_column_that_is_absent_is_named_as_the_user_calls_it(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        *("link", str(sample / "enterprises.parquet"), str(sample / "employers.parquet")),
        *("--preset", "enterprises", "--left-columns", "name=naam"),
        *("--out", str(tmp_path / "l.csv")),
    ]
    assert main(argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "enterprises.parquet, column 'naam': missing column(s) 'naam'" in err


def test_parent_links_with_their_columns_the_other_way_round(
    sample: Path, parquet_links: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = []
    for name, frame in (
        ("in-order.csv", parquet_links),
        ("reversed.csv", parquet_links[["employer_id", "enterprise_number"]]),
    ):
        parents = tmp_path / name
        frame.to_csv(parents, index=False)
        out = tmp_path / f"units-{name}"
        argv = [
            *("link", str(sample / "establishments.parquet"), str(sample / "sites.parquet")),
            *("--preset", "establishments", "--parents", str(parents), "--out", str(out)),
        ]
        assert main(["-q", *argv]) == 0
        units.append(pd.read_csv(out, dtype=str))
    pd.testing.assert_frame_equal(units[0], units[1])
    assert len(units[0]) > 1_000
