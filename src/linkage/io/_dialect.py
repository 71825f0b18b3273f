"""How a CSV file is written: its separator, its encoding, lines before its header.

A file as a spreadsheet saves it is read as it is, not refused: Excel in Belgium
writes semicolons and Windows-1252 (``Lëuven`` as the byte ``0xeb``), sometimes a
``sep=;`` line above the header; other tools write UTF-8 with a byte-order mark, or
tabs. :func:`sniff_csv` finds each part the caller does not give.

The encoding is found from the whole file, not a sample, so that a byte that is not
UTF-8 on line 400,000 cannot end a long read: UTF-8 (a byte-order mark or none), else
UTF-16 with its byte-order mark, else Windows-1252 when every byte before the first
one that is not UTF-8 is ASCII. A file that is UTF-8 up to a line and something else
after it is a mix of encodings, and refused where it changes: read as either, part of
it would be wrong without a word. The separator is the one of ``,``, ``;``, tab and
``|`` that splits the header into the most columns and every sampled row into as
many.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from linkage.exceptions import ConfigError, SchemaError

__all__ = ["SEPARATORS", "CsvDialect", "check_encoding", "check_sep", "open_text", "sniff_csv"]

#: The separators sniffed, in the order that wins a tie.
SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}
_CHUNK = 1 << 22  # bytes scanned at a time for the encoding
_SAMPLE = 1 << 16  # characters sampled for the separator
_SAMPLE_ROWS = 200
# What reading a damaged .gz raises; the reader names it, the sniffer leaves it.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
# Excel's first line naming the separator: sep=;
_SEP_LINE = re.compile(r'^"?sep=(.)"?\r?\n')


@dataclass(frozen=True)
class CsvDialect:
    """A CSV file's separator, encoding (a Python codec name) and lines above its header.

    >>> CsvDialect(sep=";", encoding="cp1252").describe()
    'Windows-1252 text separated by semicolons'
    """

    sep: str = ","
    encoding: str = "utf-8"
    skip: int = 0

    def describe(self) -> str:
        """How the file is written, in a few words (for a log line)."""
        name = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "utf-16": "UTF-16"}.get(
            self.encoding, self.encoding
        )
        sep = _SEPARATOR_NAMES.get(self.sep, repr(self.sep))
        above = f", {self.skip} line above the header" if self.skip else ""
        return f"{name} text separated by {sep}{above}"


def check_sep(sep: str) -> str:
    """A separator as given (``\\t`` and ``tab`` are a tab), or :class:`ConfigError`.

    >>> check_sep("tab") == check_sep("\\\\t") == "\\t"
    True
    """
    sep = {"tab": "\t", "\\t": "\t", "TAB": "\t"}.get(sep, sep)
    if len(sep) != 1 or sep in '"\r\n':
        raise ConfigError(
            f"a separator is one character other than a quote or a line break "
            f"(',', ';', tab as \\t), got {sep!r}"
        )
    return sep


def check_encoding(encoding: str) -> str:
    """The codec's own name for ``encoding`` (``UTF8`` is ``utf-8``), or
    :class:`ConfigError`.

    >>> check_encoding("Windows-1252"), check_encoding("latin1"), check_encoding("UTF8")
    ('cp1252', 'iso8859-1', 'utf-8')
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"unknown encoding {encoding!r}; e.g. utf-8, cp1252 (Windows), latin-1, utf-16"
        ) from None
    if not codec._is_text_encoding:  # e.g. "base64"
        raise ConfigError(f"{encoding!r} is not a text encoding")
    return codec.name


def open_text(path: Path, encoding: str, *, errors: str = "strict") -> IO[str]:
    """The file as text, a UTF-8 byte-order mark dropped, line ends as they are."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding=codec, errors=errors, newline="")
    return open(path, encoding=codec, errors=errors, newline="")


def _open_bytes(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes
    return open(path, "rb")


def sniff_csv(path: Path, *, sep: str | None = None, encoding: str | None = None) -> CsvDialect:
    """How ``path`` is written: ``sep`` and ``encoding`` where given, the rest found.

    Parameters
    ----------
    path : Path
        A CSV file, gzip'd if its name ends in ``.gz``.
    sep, encoding : str, optional
        The separator and encoding, if known; each one not given is sniffed (see the
        module's docstring).

    Returns
    -------
    CsvDialect

    Raises
    ------
    ConfigError
        ``sep`` or ``encoding`` is not one.
    SchemaError
        The file holds NUL bytes (binary, or UTF-16 without its byte-order mark),
        mixes UTF-8 with another encoding, or is neither UTF-8 nor Windows-1252; the
        message names the byte and its line.
    """
    encoding = check_encoding(encoding) if encoding is not None else _sniff_encoding(path)
    if sep is not None:
        return CsvDialect(sep=check_sep(sep), encoding=encoding)
    try:
        with open_text(path, encoding, errors="replace") as handle:
            sample = handle.read(_SAMPLE)
    except (OSError, *_GZIP_ERRORS):
        return CsvDialect(encoding=encoding)  # the reader names what is wrong
    named = _SEP_LINE.match(sample)
    if named:
        return CsvDialect(sep=named.group(1), encoding=encoding, skip=1)
    return CsvDialect(sep=_sniff_sep(sample, cut=len(sample) == _SAMPLE), encoding=encoding)


def _sniff_sep(sample: str, *, cut: bool) -> str:
    """The separator that splits the header into the most columns, every sampled
    row into as many; ``,`` if none splits it."""
    best, best_score = ",", (False, 1)
    for sep in SEPARATORS:
        try:
            rows = [
                row
                for row in itertools.islice(
                    csv.reader(io.StringIO(sample), delimiter=sep), _SAMPLE_ROWS + 1
                )
                if row
            ]
        except csv.Error:
            continue
        if cut and len(rows) > 1:
            rows = rows[:-1]  # the sample may end inside the last row
        if not rows:
            continue
        width = len(rows[0])
        score = (all(len(row) == width for row in rows[1:]), width)
        if width > 1 and score > best_score:
            best, best_score = sep, score
    return best


def _chunks(path: Path) -> Iterator[bytes]:
    with _open_bytes(path) as raw:
        while chunk := raw.read(_CHUNK):
            yield chunk


def _sniff_encoding(path: Path) -> str:
    """``utf-8``, ``utf-16`` or ``cp1252``, from every byte of the file (see the
    module's docstring); a damaged ``.gz`` or an unreadable file is left to the reader."""
    try:
        return _scan(path)
    except _GZIP_ERRORS:
        return "utf-8"


def _scan(path: Path) -> str:
    chunks = _chunks(path)
    first = next(chunks, b"")
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = 1  # the line of the next byte
    ascii_so_far = True
    carry = b""
    for chunk in itertools.chain([first], chunks):
        data = carry + chunk
        _refuse_nul(data, path, lines)
        try:
            _, consumed = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            before = data[: exc.start]
            line = lines + before.count(b"\n")
            byte = data[exc.start]
            if not (ascii_so_far and before.isascii()):
                raise SchemaError(
                    f"a mix of encodings: UTF-8 text before byte 0x{byte:02x} on line "
                    f"{line:,}, which is not UTF-8; save the file in one encoding",
                    source=path.name,
                ) from None
            return _windows_1252(path, itertools.chain([data[exc.start :]], chunks), line)
        done = data[:consumed]
        lines += done.count(b"\n")
        ascii_so_far = ascii_so_far and done.isascii()
        carry = data[consumed:]
    if carry:  # the file ends inside a character
        raise SchemaError(
            f"not UTF-8 text (a character cut short at the end, line {lines:,})",
            source=path.name,
        )
    return "utf-8"


def _windows_1252(path: Path, rest: Iterator[bytes], line: int) -> str:
    """``cp1252`` if every byte from the first one that is not UTF-8 on is
    Windows-1252 text (five bytes are not: 0x81, 0x8d, 0x8f, 0x90, 0x9d)."""
    for data in rest:
        _refuse_nul(data, path, line)
        try:
            data.decode("cp1252")
        except UnicodeDecodeError as exc:
            at = line + data[: exc.start].count(b"\n")
            raise SchemaError(
                f"neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x} on "
                f"line {at:,}); name its encoding (--encoding)",
                source=path.name,
            ) from None
        line += data.count(b"\n")
    return "cp1252"


def _refuse_nul(data: bytes, path: Path, line: int) -> None:
    at = data.find(b"\0")
    if at >= 0:
        line += data[:at].count(b"\n")
        raise SchemaError(
            f"not CSV text: a NUL byte on line {line:,} (binary data, or UTF-16 without "
            "its byte-order mark: --encoding utf-16-le)",
            source=path.name,
        )
