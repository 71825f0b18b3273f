"""The independent check of a purge: read every file of the store, of any extension.

A purge proves itself by reading what is left, not by trusting what it wrote: every
file under the store is read by its content (Parquet by its magic bytes whatever its
name, delimited text by a header with a ``party`` column) and its rows of the purged
parties counted; a file named after a purged party (its quality report) is listed;
the store's own files that hold no records (pointers, manifests, models, spec
hashes, purge reports, the withdrawal records) are known by their place. Anything
else, a file that cannot be read or a table without a ``party`` column, cannot be
proved free of the party's data: it is listed as ``unproven`` and the purge is not
complete. The scan itself never fails on what it finds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exchange import _delivery as D

__all__ = ["scan_store"]

_MAGIC = b"PAR1"


def _own(rel: str) -> bool:
    """A file of the store's own that holds no records: pointers, the lock, the
    withdrawal records, purge reports (counts), and a delivery's manifest, models
    and spec hashes."""
    parts = rel.split("/")
    if rel in ("current", "previous", ".lock", D.WITHDRAWN):
        return True
    if parts[0] == "reports" and len(parts) == 2:
        return parts[1].startswith("purge-") and parts[1].endswith(".json")
    if parts[0] == "deliveries" and len(parts) == 3:
        return parts[2] == D.MANIFEST
    if parts[0] == "deliveries" and len(parts) == 4 and parts[2] == "state":
        return parts[3].startswith(("model_", "spec_")) and parts[3].endswith((".json", ".sha256"))
    return False


def _party_column(path: Path) -> pa.ChunkedArray | str | None:
    """The ``party`` column of a table file, read by its content (Parquet by its
    magic bytes, else delimited text with a header); None if it has none; a string
    saying why if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
        if head.startswith(_MAGIC):
            schema = pq.read_schema(path)
            if "party" not in schema.names:
                return None
            return pq.read_table(path, columns=["party"]).column("party")
        first = head.split(b"\n", 1)[0].decode("utf-8").strip().lstrip("\ufeff")
    except (OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        return f"cannot be read ({type(exc).__name__})"
    for sep in (",", ";", "\t", "|"):
        if "party" in [h.strip().strip('"') for h in first.split(sep)]:
            try:
                frame = pd.read_csv(path, sep=sep, usecols=["party"], dtype=str)
            except (ValueError, OSError, UnicodeDecodeError) as exc:
                return f"cannot be read as a table ({type(exc).__name__})"
            return pa.chunked_array([pa.array(frame["party"], type=pa.string())])
    return None


def scan_store(store: Path, parties: tuple[str, ...] | None) -> dict[str, Any]:
    """Read every file under ``store``, of any extension: rows of ``parties`` (None:
    any row at all).

    A file is read by its content: Parquet (by its magic bytes, whatever its name)
    and delimited text with a ``party`` column are counted row by row; a file named
    after a purged party (its quality report) is listed; the store's own files
    (pointers, manifests, models, purge reports) hold no records. Anything else,
    a file that cannot be read or a table without a ``party`` column, cannot be
    proved free of the party's data and is listed as ``unproven``.
    """
    files = rows = found = 0
    named: list[str] = []
    unproven: list[str] = []
    for path in sorted(store.rglob("*")):
        rel = path.relative_to(store).as_posix()
        if not path.is_file() or rel == ".lock":
            continue
        files += 1
        if _own(rel):
            if parties is None and rel.split("/")[0] == "deliveries":
                named.append(rel)  # the end of the protocol leaves no delivery at all
            continue
        column = _party_column(path)
        if isinstance(column, str):
            unproven.append(f"{rel} ({column})")
            continue
        if column is None:
            if parties is not None and path.stem in parties:
                named.append(rel)
            elif parties is None or not _named_after_another(path, rel):
                unproven.append(f"{rel} (no party column)")
            continue
        rows += len(column)
        if parties is None:
            hit = len(column)
        else:
            value_set = pa.array(parties, pa.string())
            hit = int(pc.sum(pc.is_in(column.cast(pa.string()), value_set=value_set)).as_py() or 0)
        if hit:
            found += hit
            named.append(rel)
    return {
        "files_scanned": files,
        "rows_scanned": rows,
        "rows_of_purged_parties": found,
        "files_of_purged": named,
        "unproven": unproven,
    }


def _named_after_another(path: Path, rel: str) -> bool:
    """A delivery's quality report of a party (``quality/<PARTY>.csv|html``)."""
    parts = rel.split("/")
    return (
        len(parts) == 4
        and parts[0] == "deliveries"
        and parts[2] == "quality"
        and path.suffix in (".csv", ".html")
    )
