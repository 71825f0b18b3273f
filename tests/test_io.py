"""Table reading checks and atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from linkage.exceptions import ConfigError, SchemaError
from linkage.io import atomic_path, read_table, require_columns, write_table


def test_csv_keeps_leading_zeros_and_empty_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("kbo,name\n0403170701,a\n,b\n")
    table = read_table(path, required=("kbo",))
    assert table["kbo"].tolist()[0] == "0403170701"
    assert pd.isna(table["kbo"].iloc[1])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    table = pd.DataFrame({"id": ["a", "b"], "kbo": ["0403170701", None]})
    path = write_table(table, tmp_path / f"t{suffix}")
    back = read_table(path, unique="id")
    assert back["id"].tolist() == ["a", "b"]
    assert back["kbo"].iloc[0] == "0403170701" and pd.isna(back["kbo"].iloc[1])


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SchemaError, match=r"^e\.csv: empty file$"):
        read_table(tmp_path / "e.csv")


def test_header_only_has_no_rows(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,kbo\n")
    with pytest.raises(SchemaError, match="no rows"):
        read_table(tmp_path / "h.csv")


def test_missing_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,naam\n1,a\n")
    with pytest.raises(SchemaError) as caught:
        read_table(tmp_path / "t.csv", required=("kbo", "name"))
    assert str(caught.value) == (
        "t.csv, column 'kbo': missing column(s) 'kbo', 'name'; found 'id', 'naam'"
    )
    assert (caught.value.source, caught.value.column, caught.value.row) == ("t.csv", "kbo", None)


def test_require_columns_names_each_missing_column_once() -> None:
    table = pd.DataFrame({"x": [1], "y": [2]})
    require_columns(table, ("x", "y"), source="left")
    with pytest.raises(SchemaError) as caught:
        require_columns(table, ("b", "x", "a", "b"), source="left")
    assert caught.value.detail == "missing column(s) 'b', 'a'; found 'x', 'y'"
    assert (caught.value.source, caught.value.column) == ("left", "b")


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id\na\nb\nc\nb\n")
    with pytest.raises(SchemaError) as caught:
        read_table(tmp_path / "t.csv", unique="id")
    assert str(caught.value) == "t.csv, column 'id', row 4: duplicate id (first at row 2)"
    assert (caught.value.column, caught.value.row) == ("id", 4)


def test_missing_id(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,x\na,1\n,2\n")
    with pytest.raises(SchemaError, match=r"row 2: missing id"):
        read_table(tmp_path / "t.csv", unique="id")


@pytest.mark.parametrize(
    ("name", "content", "detail"),
    [
        ("latin.csv", b"id,name\n1,caf\xe9\n", "not UTF-8 text (byte 0xe9 on line 2)"),
        ("quote.csv", b'id,name\n1,"open\n', "not a well-formed CSV"),
        ("plain.csv.gz", b"id\n1\n", "not a gzip file"),
        ("text.parquet", b"id\n1\n", "not a Parquet file"),
        ("zero.parquet", b"", "not a Parquet file"),
    ],
)
def test_unreadable_table_is_a_schema_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, detail: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SchemaError) as caught:
        read_table(tmp_path / name)
    assert caught.value.source == name
    assert caught.value.detail.startswith(detail)
    assert "\n" not in str(caught.value)


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown table format"):
        read_table(tmp_path / "t.xlsx")


def test_atomic_path_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("fails in the middle")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_path_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_path_fsyncs_the_file_then_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "out.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert synced == [str(tmp), str(tmp_path)]


def test_atomic_path_mode_is_set_before_anything_is_written(tmp_path: Path) -> None:
    target = tmp_path / "secret.key"
    target.write_text("old")
    target.chmod(0o644)
    with atomic_path(target, mode=0o600) as tmp:
        assert tmp.exists() and stat.S_IMODE(tmp.stat().st_mode) == 0o600
        with open(tmp, "wb") as handle:
            handle.write(b"key")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == b"key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_atomic_path_replaces_a_folder_whole(tmp_path: Path) -> None:
    target = tmp_path / "exchange"
    target.mkdir()
    (target / "old.parquet").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new.parquet").write_text("half")
        raise RuntimeError("fails in the middle")
    assert sorted(p.name for p in target.iterdir()) == ["old.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["exchange"]
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "sub").mkdir()
        (tmp / "sub" / "new.parquet").write_text("new")
    assert [p.relative_to(target).as_posix() for p in sorted(target.rglob("*"))] == [
        "sub",
        "sub/new.parquet",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["exchange"]


def test_a_missing_parquet_file_is_a_file_error_not_a_damaged_one(tmp_path: Path) -> None:
    # Arrow reports a missing file as an OSError without an errno, as a damaged one.
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "none.parquet")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"kbo\n1\n", "not a gzip file, though named .gz"),
        (b"\x1f\x8b\x08\x00\x00\x00", "a damaged or truncated gzip file"),
    ],
)
def test_a_bad_gzip_names_the_file(tmp_path: Path, content: bytes, detail: str) -> None:
    (tmp_path / "t.csv.gz").write_bytes(content)
    for arrow_strings in (False, True):
        with pytest.raises(SchemaError, match=f"^t.csv.gz: {detail}$"):
            read_table(tmp_path / "t.csv.gz", arrow_strings=arrow_strings)


def test_one_column_with_semicolons_hints_at_the_separator(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("kbo;naam\n0403170701;Leuven\n")
    with pytest.raises(SchemaError, match=r"separated by ';'\? save it comma-separated"):
        read_table(tmp_path / "t.csv", required=("kbo",))


def test_check_output_refuses_before_any_work(tmp_path: Path) -> None:
    from linkage.io import check_output

    assert check_output(tmp_path / "links.parquet") == tmp_path / "links.parquet"
    with pytest.raises(ConfigError, match="unknown table format"):
        check_output(tmp_path / "links.xlsx")
    with pytest.raises(ConfigError, match="is a folder"):
        check_output(tmp_path, table=False)
    check_output(tmp_path / "model.json", table=False)
