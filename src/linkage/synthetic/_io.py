"""Writing and reading a synthetic exchange: one file per table and a manifest.

Parquet files are built column by column from :data:`SCHEMA` (no pandas metadata,
no timestamps), so the same tables give the same bytes with the same pyarrow. The
directory appears whole or not at all: it is written beside its final place and
renamed (:func:`linkage.io.atomic_path`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from linkage.exceptions import ConfigError, SchemaError
from linkage.io import atomic_path

Format = Literal["parquet", "csv"]
Kind = Literal["str", "date", "float", "bool"]

# Every table, in order, with the kind of each column (strings unless said).
SCHEMA: dict[str, dict[str, Kind]] = {}


def _table(columns: tuple[str, ...], **kinds: Kind) -> dict[str, Kind]:
    return {c: kinds.get(c, "str") for c in columns}


def _build_schema() -> None:
    from linkage.synthetic._dossiers import CONTACT_COLUMNS, DOSSIER_COLUMNS, STAFF_COLUMNS
    from linkage.synthetic._enterprises import ENTERPRISE_COLUMNS, ESTABLISHMENT_COLUMNS
    from linkage.synthetic._vdab import EMPLOYER_COLUMNS, SITE_COLUMNS

    SCHEMA.update(
        {
            "enterprises": _table(
                ENTERPRISE_COLUMNS,
                start_date="date",
                size_class_date="date",
                in_difficulty="bool",
                in_difficulty_date="date",
            ),
            "establishments": _table(ESTABLISHMENT_COLUMNS),
            "dossiers": _table(
                DOSSIER_COLUMNS,
                granted_amount="float",
                paid_amount="float",
                start_date="date",
                contact_date="date",
                decision_date="date",
            ),
            "contacts": _table(CONTACT_COLUMNS),
            "staff": _table(STAFF_COLUMNS),
            "employers": _table(EMPLOYER_COLUMNS),
            "sites": _table(SITE_COLUMNS),
            "truth_enterprises": _table(("enterprise_number", "employer_id")),
            "truth_establishments": _table(("establishment_number", "site_id")),
        }
    )


_build_schema()
_ARROW = {"str": pa.string(), "date": pa.date32(), "float": pa.float64(), "bool": pa.bool_()}


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """One table as Arrow, typed by :data:`SCHEMA` (dates as date32)."""
    arrays = []
    for column, kind in SCHEMA[name].items():
        values = frame[column]
        if kind == "date":
            arrays.append(
                pa.array(values.to_numpy("datetime64[D]"), type=pa.date32(), from_pandas=True)
            )
        elif kind == "str":
            arrays.append(
                pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            )
        else:
            arrays.append(pa.array(values.to_numpy(), type=_ARROW[kind], from_pandas=True))
    return pa.Table.from_arrays(
        arrays, schema=pa.schema([pa.field(c, _ARROW[k]) for c, k in SCHEMA[name].items()])
    )


def from_arrow(name: str, table: pa.Table) -> pd.DataFrame:
    """Back to the frames :func:`linkage.synthetic.generate` returns."""
    frame = table.to_pandas(date_as_object=False)
    for column, kind in SCHEMA[name].items():
        if kind == "date":
            frame[column] = frame[column].astype("datetime64[ns]")
        elif kind == "str":
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def check_target(out: str | os.PathLike[str]) -> Path:
    """Refuse an output directory that holds something other than an exchange."""
    out = Path(out)
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())
    ):
        raise ConfigError(
            f"{out}: exists and is not a synthetic exchange (no manifest.json); "
            "choose an empty or new directory"
        )
    return out


def write(
    tables: dict[str, pd.DataFrame],
    out: str | os.PathLike[str],
    *,
    manifest: dict[str, Any],
    format: Format = "parquet",
) -> Path:
    """Write every table and ``manifest.json`` into the directory ``out``.

    ``out`` must not exist, be empty, or hold an earlier synthetic exchange (a
    ``manifest.json``), which is replaced. Anything else is refused.
    """
    if format not in ("parquet", "csv"):
        raise ConfigError(f"format: expected 'parquet' or 'csv', got {format!r}")
    out = check_target(out)
    with atomic_path(out) as tmp:
        tmp.mkdir()
        files = {}
        for name in SCHEMA:
            table = to_arrow(name, tables[name])
            file = f"{name}.{format}"
            if format == "parquet":
                pq.write_table(table, tmp / file, compression="zstd", store_schema=False)
            else:
                pacsv.write_csv(table, tmp / file)
            files[name] = {"file": file, "rows": table.num_rows, "columns": table.column_names}
        document = {**manifest, "format": format, "tables": files}
        (tmp / "manifest.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return out


def read(directory: str | os.PathLike[str]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The tables and the manifest written by :func:`write`."""
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(2, "no manifest.json in synthetic exchange", str(manifest_path))
    manifest = json.loads(manifest_path.read_text())
    tables = {}
    for name, kinds in SCHEMA.items():
        entry = manifest["tables"].get(name)
        if entry is None:
            raise SchemaError(f"{manifest_path}: no table {name!r}")
        path = directory / entry["file"]
        if manifest["format"] == "parquet":
            table = pq.read_table(path)
        else:
            types = {c: _ARROW[k] for c, k in kinds.items()}
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
        tables[name] = from_arrow(name, table)
    return tables, manifest


__all__ = ["SCHEMA", "check_target", "from_arrow", "read", "to_arrow", "write"]
