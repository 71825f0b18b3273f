"""Reading encodings back: the Arrow table, its description, packed words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from linkage.encoding._encode import Encoded
from linkage.encoding._params import FORMAT, METADATA_KEY
from linkage.exceptions import SchemaError

__all__ = ["as_words", "read_encoded"]


def read_encoded(path: str | Path) -> Encoded:
    """Encodings written by :meth:`Encoded.write`; anything else is a SchemaError."""
    path = Path(path)
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    try:
        description: dict[str, Any] = json.loads(raw) if raw else {}
    except ValueError:
        description = {}
    if description.get("format") != FORMAT:
        raise SchemaError(
            f"not an encoded file of this version (expected {FORMAT}; made by `linkage encode`)",
            source=path.name,
        )
    return Encoded(table, description)


def as_words(
    column: pa.ChunkedArray | pa.Array,
) -> tuple[NDArray[np.uint64] | NDArray[np.uint8], NDArray[np.bool_]]:
    """A fixed-size binary column as rows of bytes, and which rows are present."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    width = array.type.byte_width
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    rows = data[array.offset * width : (array.offset + len(array)) * width].reshape(-1, width)
    present = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if width % 8 == 0:
        return rows.view("<u8"), present
    return rows, present
