"""CSV dialects (linkage.io._dialect): separators and encodings found, not refused.

Known answers for what spreadsheets save (a Belgian Excel CSV: semicolons,
Windows-1252, ``Lëuven``; UTF-8 with a byte-order mark; UTF-16; tabs; Excel's
``sep=;`` line), a property that any table written in any of them reads back as it
was, and the files that cannot be read right refused in one line naming the byte and
its line.
"""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.exceptions import ConfigError, LinkageError, SchemaError
from linkage.io import CsvDialect, read_table, sniff_csv

BELGIAN = (
    "kbo;naam;gemeente\r\n0403170701;Brouwerij Lëuven;Lëuven\r\n0887010632;Café, Zuid;Gent\r\n"
)
COMMAS = BELGIAN.replace(";", ",").replace("Café, Zuid", '"Café, Zuid"')
EXPECTED = [
    {"kbo": "0403170701", "naam": "Brouwerij Lëuven", "gemeente": "Lëuven"},
    {"kbo": "0887010632", "naam": "Café, Zuid", "gemeente": "Gent"},
]


def sniffed(path: Path, **kwargs: object) -> pd.DataFrame:
    """Both readers, sniffing; they must agree."""
    frames = [
        read_table(path, sep=None, encoding=None, arrow_strings=arrow, **kwargs)  # type: ignore[arg-type]
        for arrow in (False, True)
    ]
    assert frames[0].astype(object).to_dict("records") == frames[1].astype(object).to_dict(
        "records"
    )
    return frames[0]


@pytest.mark.parametrize(
    ("name", "content", "dialect"),
    [
        ("excel.csv", BELGIAN.encode("cp1252"), CsvDialect(sep=";", encoding="cp1252")),
        ("excel.csv.gz", gzip.compress(BELGIAN.encode("cp1252")), CsvDialect(";", "cp1252")),
        ("sep-line.csv", ("sep=;\r\n" + BELGIAN).encode("cp1252"), CsvDialect(";", "cp1252", 1)),
        (
            "bom.csv",
            ("\ufeff" + COMMAS).encode(),
            CsvDialect(",", "utf-8"),
        ),
        ("plain.csv", BELGIAN.encode(), CsvDialect(";", "utf-8")),
        ("tabs.txt", BELGIAN.replace(";", "\t").encode(), CsvDialect("\t", "utf-8")),
        ("unicode.txt", BELGIAN.replace(";", "\t").encode("utf-16"), CsvDialect("\t", "utf-16")),
        ("pipes.csv", BELGIAN.replace(";", "|").encode("cp1252"), CsvDialect("|", "cp1252")),
    ],
)
def test_what_spreadsheets_save_reads_right(
    tmp_path: Path, name: str, content: bytes, dialect: CsvDialect
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert sniff_csv(path) == dialect
    assert sniffed(path).to_dict("records") == EXPECTED


def test_a_strict_reader_still_refuses_what_it_did(tmp_path: Path) -> None:
    # The default (the exchange's extracts) is UTF-8 and commas, as before.
    path = tmp_path / "excel.csv"
    path.write_bytes(BELGIAN.replace("Café, Zuid", "Café Zuid").encode("cp1252"))
    with pytest.raises(SchemaError, match=r"^excel.csv: not UTF-8 text \(byte 0xeb on line 2\)"):
        read_table(path)


def test_the_separator_is_the_one_every_row_agrees_with(tmp_path: Path) -> None:
    # Commas in every value of a semicolon file (decimal commas), semicolons in one
    # value of a comma file: the header and the rows decide, not a count of characters.
    decimals = tmp_path / "decimals.csv"
    decimals.write_text("id;lat;lon\n1;50,88;4,70\n2;51,05;3,72\n")
    assert sniff_csv(decimals).sep == ";"
    assert sniffed(decimals)["lat"].tolist() == ["50,88", "51,05"]
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,name\n1,"a; b; c"\n2,d\n')
    assert sniff_csv(quoted).sep == ","
    assert sniffed(quoted)["name"].tolist() == ["a; b; c", "d"]
    one = tmp_path / "one.csv"
    one.write_text("id\n1\n2\n")
    assert sniff_csv(one).sep == ","


def test_a_byte_that_is_not_utf8_late_in_the_file_is_found(tmp_path: Path) -> None:
    # The encoding is found from every byte, not a sample: Windows-1252 on line
    # 200,002 of an ASCII file.
    path = tmp_path / "late.csv"
    path.write_bytes(b"id;name\n" + b"1;a\n" * 200_000 + "2;Liège\n".encode("cp1252"))
    assert sniff_csv(path) == CsvDialect(";", "cp1252")
    assert read_table(path, sep=None, encoding=None)["name"].iloc[-1] == "Liège"


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (
            "id,name\n1,Lëuven\n".encode() + "2,Liège\n".encode("cp1252"),
            "a mix of encodings: UTF-8 text before byte 0xe8 on line 3, which is not UTF-8",
        ),
        (
            b"id,name\n1,a\n2,\x81\n",
            "neither UTF-8 nor Windows-1252 text (byte 0x81 on line 3)",
        ),
        (bytes(range(256)), "not CSV text: a NUL byte on line 1"),
        ("id,name\n1,a\n".encode("utf-16-le"), "not CSV text: a NUL byte on line 1"),
        (b"", "empty file"),
        (b"id;name\r\n", "no rows"),
        (b"id;name\n1;a;b\n", "not a well-formed CSV: expected 2 fields in line 2, saw 3"),
        (b'id;name\n1;"open\n', "not a well-formed CSV"),
        (b"id,name\n1,caf\xc3", "not UTF-8 text (a character cut short at the end, line 2)"),
    ],
)
def test_what_cannot_be_read_right_is_one_line(tmp_path: Path, content: bytes, detail: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    # Arrow's reader takes a quote left open for a value running to the end of the
    # file (as before sniffing; the exchange's reader): only pandas' is held here.
    for arrow in (False,) if b'"open' in content else (False, True):
        with pytest.raises(SchemaError) as caught:
            read_table(path, sep=None, encoding=None, arrow_strings=arrow)
        assert caught.value.source == "t.csv"
        assert caught.value.detail.startswith(detail), caught.value.detail
        assert "\n" not in str(caught.value)


def test_a_given_dialect_is_read_as_given(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("id;name\n1;Lëuven\n".encode("cp1252"))
    assert read_table(path, sep=";", encoding="cp1252")["name"].tolist() == ["Lëuven"]
    assert read_table(path, sep="\\t", encoding="latin-1").columns.tolist() == ["id;name"]
    with pytest.raises(SchemaError, match=r"^t.csv: not UTF-8 text \(byte 0xeb on line 2\)"):
        read_table(path, sep=";", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"^t.csv: not ascii text \(byte 0xeb on line 2\)$"):
        read_table(path, sep=";", encoding="ascii")
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")
    with pytest.raises(ConfigError, match="not a text encoding"):
        read_table(path, encoding="base64")
    with pytest.raises(ConfigError, match="a separator is one character"):
        read_table(path, sep=";;")


# ------------------------------------------------------------------ property

FIXTURE = HealthCheck.function_scoped_fixture  # tmp_path: each example rewrites its file

# A carriage return alone in a value is not held (both readers take it for missing).
# Letters whose Windows-1252 bytes (0xc0 and up) never continue a UTF-8 sequence, so
# that a Windows-1252 file of them is never also UTF-8 (as "Ã©" would be: "é").
TEXT = st.text(alphabet=st.sampled_from("abcXYZ019 .-'\",;\t\nëéèçàüöôÉÇ"), min_size=1, max_size=12)
NAMES = st.lists(
    st.text(alphabet="abcdefghij_", min_size=1, max_size=6), min_size=2, max_size=5, unique=True
)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    names = draw(NAMES)
    n = draw(st.integers(1, 6))
    return pd.DataFrame(
        {name: draw(st.lists(TEXT, min_size=n, max_size=n)) for name in names}, dtype=object
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=tables(),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_table_in_any_dialect_reads_back_as_it_was(
    tmp_path: Path, table: pd.DataFrame, sep: str, encoding: str, newline: str
) -> None:
    path = tmp_path / "t.csv"
    table.to_csv(path, sep=sep, encoding=encoding, index=False, lineterminator=newline)
    read = sniffed(path)
    # A value of spaces only is kept; an empty one cannot arise (min_size=1).
    assert read.astype(object).to_dict("records") == table.to_dict("records")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300))
def test_any_bytes_read_or_refuse_in_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    for arrow in (False, True):
        with contextlib.suppress(LinkageError):
            read_table(path, sep=None, encoding=None, arrow_strings=arrow)
