"""The independent check of a purge: read every copy the tool made, by its content.

A purge proves itself by reading what is left, not by trusting what it did. It
reads three places:

* **the store**, every file of any extension: Parquet by its magic bytes whatever
  its name, delimited text (gzip'd too) by a header with a ``party`` column, the
  subject requests' registry of outputs (``subjects/outputs.jsonl``) line by line;
  a file named after a purged party (its quality report, ``inform-<PARTY>.csv``) is
  listed; the store's own files that hold no records (pointers, manifests, models,
  spec hashes, purge reports, the withdrawal records) are known by their place;
* **the extracts** the configuration names: a purged party's own files must be
  gone, and a ``mixed`` file free of its rows (read through the file's mapped
  ``party`` header); after the end of the protocol (``--all``) every one must be
  gone. VDAB's own files are VDAB's data and are not read;
* **the outputs** the subject requests wrote outside the store, as their registry
  lists them: a purged party's must be gone; another party's are read for the
  purged party's rows.

Anything else, a file that cannot be read or a table without a ``party`` column,
cannot be proved free of the party's data: it is listed as ``unproven`` and the
purge is not complete. Every file looked at is listed with what was found there
(``files``). The scan itself never fails on what it finds.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exchange import _delivery as D
from linkage.exchange._config import MIXED, ExchangeConfig

__all__ = ["OUTPUTS", "SUBJECTS", "extract_files", "read_outputs", "scan", "scan_store"]

_MAGIC = b"PAR1"
_GZIP = b"\x1f\x8b"
#: The subject requests' data in the store, and their registry of outputs written
#: outside it (one JSON object a line: ``path``, ``party``, ``request_id``).
SUBJECTS = "subjects"
OUTPUTS = f"{SUBJECTS}/outputs.jsonl"


def _own(rel: str) -> bool:
    """A file of the store's own that holds no records: pointers, the lock, the
    withdrawal records, purge reports (counts), and a delivery's manifest, models,
    spec hashes and roles' definitions."""
    parts = rel.split("/")
    if rel in ("current", "previous", ".lock", D.WITHDRAWN):
        return True
    if parts[0] == "reports" and len(parts) == 2:
        return parts[1].startswith("purge-") and parts[1].endswith(".json")
    if parts[0] == "deliveries" and len(parts) == 3:
        return parts[2] == D.MANIFEST
    if parts[0] == "deliveries" and len(parts) == 4 and parts[2] == "access":
        return parts[3] in ("roles.json", "roles.tmsl.json")  # the roles' grants, no records
    if parts[0] == "deliveries" and len(parts) == 4 and parts[2] == "state":
        return parts[3].startswith(("model_", "spec_")) and parts[3].endswith((".json", ".sha256"))
    return False


def table_format(path: Path, column: str = "party") -> tuple[str, str | None, bool] | str | None:
    """How a file holds a table with ``column``, read by its content: ``("parquet",
    None, False)``, or ``("csv", separator, gzipped)``; None if it holds no such
    column; a string saying why if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
        if head.startswith(_MAGIC):
            names = pq.read_schema(path).names
            return ("parquet", None, False) if column in names else None
        zipped = head.startswith(_GZIP)
        if zipped:
            with gzip.open(path, "rb") as handle:
                head = handle.read(64 * 1024)
        first = head.split(b"\n", 1)[0].decode("utf-8").strip().lstrip("\ufeff")
    except (OSError, EOFError, UnicodeDecodeError, pa.ArrowException) as exc:
        return f"cannot be read ({type(exc).__name__})"
    for sep in (",", ";", "\t", "|"):
        if column in [h.strip().strip('"') for h in first.split(sep)]:
            return ("csv", sep, zipped)
    return None


def read_csv(path: Path, sep: str, zipped: bool, **options: Any) -> pd.DataFrame:
    """A delimited text table as text, every cell as written (none read as missing)."""
    return pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8-sig",
        compression="gzip" if zipped else None,
        **options,
    )


def party_column(path: Path, column: str = "party") -> pa.ChunkedArray | str | None:
    """The ``party`` column (or the header it is sent under) of a table file, read by
    its content (:func:`table_format`), its values trimmed; None if it has none; a
    string saying why if it cannot be read."""
    kind = table_format(path, column)
    if kind is None or isinstance(kind, str):
        return kind
    fmt, sep, zipped = kind
    try:
        if fmt == "parquet":
            values = pq.read_table(path, columns=[column]).column(column).cast(pa.string())
        else:
            assert sep is not None
            frame = read_csv(path, sep, zipped, usecols=[column])
            values = pa.chunked_array([pa.array(frame[column], type=pa.string())])
    except (ValueError, OSError, EOFError, UnicodeDecodeError, pa.ArrowException) as exc:
        return f"cannot be read as a table ({type(exc).__name__})"
    return pc.utf8_trim_whitespace(values)


def count_of(values: pa.ChunkedArray, parties: tuple[str, ...] | None) -> int:
    """How many of ``values`` name one of ``parties`` (None: every row)."""
    if parties is None:
        return len(values)
    hit = pc.is_in(values, value_set=pa.array(parties, pa.string()))
    return int(pc.sum(pc.fill_null(hit, False)).as_py() or 0)


def named_after(path: Path, parties: tuple[str, ...]) -> bool:
    """A file named after a party: ``TBT.csv``, ``inform-TBT.csv``."""
    return bool(set(path.name.split(".", 1)[0].split("-")) & set(parties))


def read_outputs(store: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The registry of outputs written outside the store: its entries (``path``
    made absolute, ``party``, ``request_id``), and its lines that are not one."""
    path = store / OUTPUTS
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return [], []
    entries, bad = [], []
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            assert isinstance(entry, dict)
            assert isinstance(entry["path"], str) and entry["path"]
            assert isinstance(entry["party"], str)
        except (ValueError, KeyError, AssertionError):
            bad.append(line.decode("utf-8", errors="replace"))
            continue
        target = Path(entry["path"])
        entries.append({**entry, "path": str(target if target.is_absolute() else store / target)})
    return entries, bad


def extract_files(
    config: ExchangeConfig, parties: tuple[str, ...], everything: bool
) -> Iterator[tuple[Path, str, str]]:
    """The extract files a purge removes or cleans: ``(path, party, party header)``,
    party ``mixed`` for a file of several parties (whose rows of ``parties`` go),
    else the party whose file it is (the whole file goes). VDAB's are not listed."""
    for party, tables in config.extracts.items():
        if not everything and party != MIXED and party not in parties:
            continue
        for table, path in tables.items():
            yield path, party, config.mapping(party, table).get("party", "party")


class _Scan:
    """What a scan found, file by file."""

    def __init__(self, parties: tuple[str, ...] | None) -> None:
        self.parties = parties
        self.files: list[dict[str, str]] = []
        self.scanned = self.rows = self.found = 0
        self.named: list[str] = []
        self.unproven: list[str] = []

    def note(self, name: str, where: str, found: str) -> None:
        self.files.append({"file": name, "where": where, "found": found})

    def left(self, name: str, where: str, found: str) -> None:
        self.note(name, where, found)
        self.named.append(name)

    def doubt(self, name: str, where: str, why: str) -> None:
        self.note(name, where, f"cannot prove: {why}")
        self.unproven.append(f"{name} ({why})")

    def table(self, name: str, where: str, path: Path, column: str = "party") -> bool:
        """Count a table file's rows of the parties; False if it is not one."""
        values = party_column(path, column)
        if isinstance(values, str):
            self.doubt(name, where, values)
            return True
        if values is None:
            return False
        hit = count_of(values, self.parties)
        self.rows += len(values)
        self.found += hit
        if hit:
            self.left(name, where, f"{hit:,} of {len(values):,} rows of the purged parties")
        else:
            self.note(name, where, f"{len(values):,} rows, none of the purged parties")
        return True

    def registry(self, name: str, path: Path, store: Path) -> None:
        entries, bad = read_outputs(store)
        hit = count_of(pa.chunked_array([[e["party"] for e in entries]], pa.string()), self.parties)
        self.rows += len(entries)
        self.found += hit
        if bad:
            self.doubt(name, "store", f"{len(bad)} lines that are not an output's entry")
        elif hit:
            self.left(name, "store", f"{hit:,} outputs of the purged parties still registered")
        else:
            self.note(name, "store", f"{len(entries):,} outputs, none of the purged parties")

    def result(self) -> dict[str, Any]:
        return {
            "files_scanned": self.scanned,
            "rows_scanned": self.rows,
            "rows_of_purged_parties": self.found,
            "files_of_purged": self.named,
            "unproven": self.unproven,
            "files": self.files,
        }


def _scan_store(found: _Scan, store: Path) -> None:
    parties = found.parties
    for path in sorted(store.rglob("*")):
        rel = path.relative_to(store).as_posix()
        if not path.is_file() or rel == ".lock":
            continue
        found.scanned += 1
        if _own(rel):
            if parties is None and rel.split("/")[0] == "deliveries":
                found.left(rel, "store", "a delivery's file")  # the end leaves none at all
            else:
                found.note(rel, "store", "the store's own (no records)")
            continue
        if rel == OUTPUTS:
            found.registry(rel, path, store)
            continue
        if found.table(rel, "store", path):
            continue
        if parties is not None and named_after(path, parties):
            found.left(rel, "store", "named after a purged party")
        elif parties is not None and _named_after_another(path, rel):
            found.note(rel, "store", "another party's quality report")
        else:
            found.doubt(rel, "store", "no party column")


def scan_store(store: Path, parties: tuple[str, ...] | None) -> dict[str, Any]:
    """Read every file under ``store``, of any extension: rows of ``parties`` (None:
    any row at all). See the module docstring; ``files`` lists each file with what
    was found there."""
    found = _Scan(parties)
    _scan_store(found, store)
    return found.result()


def _scan_path(found: _Scan, path: Path, party: str, column: str) -> None:
    """One extract path: a party's own file must be gone; a mixed file (or a folder
    of Parquet parts) must hold no row of the purged parties."""
    name = str(path)
    if not path.exists():
        found.note(name, "extract", "gone")
        return
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if party != MIXED or found.parties is None:
        found.scanned += len(files)
        found.left(name, "extract", f"still there: {party}'s data received")
        return
    for file in files:
        found.scanned += 1
        if not found.table(str(file), "extract", file, column):
            found.doubt(str(file), "extract", f"no {column!r} column")


def scan(
    config: ExchangeConfig,
    parties: tuple[str, ...],
    everything: bool,
    *,
    registered: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The proof of a purge of ``parties`` (or of everything): the store, the
    extracts and the registered outputs (module docstring): those the registry
    lists now, and ``registered``, what it listed before the purge took the
    removed ones out of it."""
    found = _Scan(None if everything else parties)
    _scan_store(found, config.store)
    seen = set()
    for path, party, column in extract_files(config, parties, everything):
        if path not in seen:
            seen.add(path)
            _scan_path(found, path, party, column)
    entries = {e["path"]: e for e in (*registered, *read_outputs(config.store)[0])}
    for entry in entries.values():
        path = Path(entry["path"])
        if not path.exists():
            found.note(str(path), "output", "gone")
        elif everything or entry["party"] in parties:
            found.scanned += 1
            found.left(str(path), "output", f"still there: written for {entry['party']}")
        elif path.is_file():
            found.scanned += 1
            if not found.table(str(path), "output", path):
                found.note(str(path), "output", f"written for {entry['party']}, no party column")
        else:
            found.note(str(path), "output", f"written for {entry['party']}: not a file, not read")
    return found.result()


def _named_after_another(path: Path, rel: str) -> bool:
    """A delivery's quality report of a party (``quality/<PARTY>.csv|html``)."""
    parts = rel.split("/")
    return (
        len(parts) == 4
        and parts[0] == "deliveries"
        and parts[2] == "quality"
        and path.suffix in (".csv", ".html")
    )
