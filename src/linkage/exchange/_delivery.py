"""The delivery store: whole deliveries, swapped in atomically.

Layout::

    <store>/
      current                  one line: the run id of the delivery in force
      deliveries/<run id>/     one Parquet file per table, quality/, manifest.json
      .staging-<run id>/       a delivery being built (never read)
      reports/                 purge and subject-request reports (counts only)
      .lock                    held while a run, purge or request changes the store

A new delivery is built whole in ``.staging-<run id>``, its files fsync'd, renamed
to ``deliveries/<run id>``, and only then does ``current`` (written to a temporary
file, fsync'd, ``os.replace``'d) point at it; the previous delivery is removed last.
A run that fails or is killed at any point before the pointer moves leaves the
previous delivery in force; what it left behind is cleared by the next operation.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exceptions import ConfigError
from linkage.exchange._extract import sha256_file
from linkage.exchange._schema import OUTPUTS
from linkage.io import atomic_path, fsync_dir, fsync_tree

__all__ = [
    "Delivery",
    "diff",
    "diff_deliveries",
    "publish",
    "read_delivery",
    "store_lock",
    "write_tables",
]

MANIFEST = "manifest.json"


def checkpoint(stage: str) -> None:
    """A named point of a run; tests replace this to inject a failure there."""


@dataclass(frozen=True)
class Delivery:
    """The delivery in force: its run id, folder and manifest."""

    run_id: str
    path: Path
    manifest: dict[str, Any]

    def table(self, name: str, *, arrow: bool = False) -> pd.DataFrame:
        """One delivered table as pandas; ``arrow``: every column Arrow-backed
        (``pd.ArrowDtype``, no copy into Python objects), as :func:`diff` reads it."""
        table = pq.read_table(self.path / f"{name}.parquet")
        if arrow:
            return table.to_pandas(types_mapper=pd.ArrowDtype)
        return table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)

    def arrow(self, name: str) -> pa.Table:
        """One delivered table as Arrow, as written."""
        return pq.read_table(self.path / f"{name}.parquet")

    def tables(self, *, arrow: bool = False) -> dict[str, pd.DataFrame]:
        return {name: self.table(name, arrow=arrow) for name in self.manifest["outputs"]}


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write JSON to ``path`` atomically (:func:`linkage.io.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")


def read_delivery(store: str | os.PathLike[str]) -> Delivery | None:
    """The delivery in force, or None if the store holds none."""
    store = Path(store)
    pointer = store / "current"
    if not pointer.exists():
        return None
    run_id = pointer.read_text(encoding="utf-8", errors="replace").strip()
    path = store / "deliveries" / run_id
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except ValueError:  # not UTF-8, or not JSON: altered by hand
        raise ConfigError(
            f"the manifest of delivery {run_id!r} is damaged (not JSON)", source=str(store)
        ) from None
    return Delivery(run_id=run_id, path=path, manifest=manifest)


@contextlib.contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Hold the store's lock; refuse if another process holds it. Clear leftovers."""
    store.mkdir(parents=True, exist_ok=True)
    with open(store / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{store}: another run, purge or request is changing this "
                "store; try again when it has finished"
            ) from None
        try:
            clear_leftovers(store)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clear_leftovers(store: Path) -> list[str]:
    """Remove staging folders, deliveries that ``current`` does not point at, and
    the temporary files of atomic writes that a kill interrupted."""
    current = read_delivery(store)
    removed = []
    for path in store.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in (*store.glob(".*.tmp"), *(store / "reports").glob(".*.tmp")):
        path.unlink(missing_ok=True)
        removed.append(path.relative_to(store).as_posix())
    for path in (store / "deliveries").glob("*"):
        if current is None or path.name != current.run_id:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"deliveries/{path.name}")
    return removed


def _arrow(frame: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        pa.field(f.name, pa.date32())
        if pa.types.is_timestamp(f.type)
        # One text type in the files, whether pandas held it as objects or Arrow.
        else pa.field(f.name, pa.string())
        if pa.types.is_large_string(f.type)
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)


def _write_table(folder: Path, name: str, frame: pd.DataFrame) -> dict[str, Any]:
    key = [c for c in OUTPUTS[name].key if c in frame.columns] if name in OUTPUTS else []
    table = _arrow(frame)
    if key:
        table = table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in key]))
    path = folder / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd")
    counts = pc.value_counts(table.column("party")).to_pylist()
    return {
        "file": path.name,
        "rows": table.num_rows,
        "rows_by_party": {
            str(c["values"]): int(c["counts"])
            for c in sorted(counts, key=lambda c: str(c["values"]))
            if c["values"] is not None
        },
        "sha256": sha256_file(path),
    }


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Write each table as ``<name>.parquet`` (rows sorted by key); describe what was written.

    Sorted by Arrow (stable, missing last: the order of a stable ``sort_values``).
    Two tables are written at a time (Arrow's sort, take and Parquet writer let go
    of the GIL); each table's checkpoint is passed in order once it is written, and
    a failure waits for the writes under way and starts no other.
    """
    outputs = {}
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="write-tables")
    try:
        futures = {name: pool.submit(_write_table, folder, name, f) for name, f in tables.items()}
        for name, future in futures.items():
            outputs[name] = future.result()
            checkpoint(f"wrote {name}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outputs


def publish(store: Path, staging: Path, run_id: str) -> None:
    """Make the staged delivery current; remove the previous one.

    Three durable steps, each a point a kill may fall between: the staged files are
    flushed; the folder is renamed into ``deliveries/``; the pointer is replaced.
    """
    fsync_tree(staging)
    checkpoint("staged")
    deliveries = store / "deliveries"
    deliveries.mkdir(exist_ok=True)
    previous = read_delivery(store)
    target = deliveries / run_id
    os.rename(staging, target)
    fsync_dir(deliveries)
    checkpoint("renamed")
    with atomic_path(store / "current") as pointer:
        pointer.write_text(run_id + "\n", encoding="utf-8")
    checkpoint("switched")
    if previous is not None and previous.run_id != run_id:
        shutil.rmtree(previous.path, ignore_errors=True)


def remove_all(store: Path) -> None:
    """Remove the pointer first (no delivery in force), then every delivery."""
    (store / "current").unlink(missing_ok=True)
    fsync_dir(store)
    shutil.rmtree(store / "deliveries", ignore_errors=True)
    for path in store.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)


Frame: TypeAlias = pd.DataFrame | pa.Table


def _column(frame: Frame, name: str) -> pa.Array | None:
    """One column as one Arrow array (NaN as null; text as ``string``), or None
    where Arrow cannot hold it."""
    if isinstance(frame, pa.Table):
        array = frame.column(name).combine_chunks()
    else:
        try:
            array = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    # One type for text however it was stored (pandas writes large_string).
    return array.cast(pa.string()) if pa.types.is_large_string(array.type) else array


def _text(frame: Frame, name: str) -> pa.Array:
    """One column as the text pandas writes of it (``astype("string")``)."""
    values = (
        frame.column(name).to_pandas(types_mapper=pd.ArrowDtype)
        if isinstance(frame, pa.Table)
        else frame[name]
    )
    return pa.array(values.astype("string"), type=pa.large_string(), from_pandas=True)


def _pair(old: Frame, new: Frame, name: str) -> tuple[pa.Array, pa.Array]:
    """The column of both sides, of one type: their own, or their text."""
    a, b = _column(old, name), _column(new, name)
    if a is None or b is None or a.type != b.type:
        return _text(old, name), _text(new, name)
    return a, b


def _differ(old: Frame, new: Frame, name: str, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Whether column ``name`` differs between row ``i`` of ``old`` and ``j`` of ``new``,
    as their text would.

    Two values are the same when their text (``astype("string")``, missing as
    missing) is: of one Arrow type, that is value equality, with 0.0 and -0.0 apart
    and NaN as missing; of two types (a column read back as null, as another
    number type), the text itself is compared.
    """
    a, b = _pair(old, new, name)
    try:
        return _differ_arrow(a, b, i, j)
    except pa.ArrowNotImplementedError:  # a type without equality kernel: as text
        return _differ_arrow(_text(old, name), _text(new, name), i, j)


def _differ_arrow(a: pa.Array, b: pa.Array, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    if pa.types.is_null(a.type):
        return np.zeros(len(i), dtype=bool)
    if pa.types.is_floating(a.type):
        x = a.to_numpy(zero_copy_only=False).astype("float64")[i]
        y = b.to_numpy(zero_copy_only=False).astype("float64")[j]
        x_na, y_na = np.isnan(x), np.isnan(y)
        bits = x.view(np.int64) != y.view(np.int64)  # -0.0 and 0.0 read differently
        return (x_na != y_na) | (~x_na & ~y_na & bits)
    x_arr, y_arr = a.take(pa.array(i)), b.take(pa.array(j))
    x_na = x_arr.is_null().to_numpy(zero_copy_only=False)
    y_na = y_arr.is_null().to_numpy(zero_copy_only=False)
    equal = pc.fill_null(pc.equal(x_arr, y_arr), True).to_numpy(zero_copy_only=False)
    return (x_na != y_na) | ~equal


def _key_codes(old: Frame, new: Frame, key: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """One code per row for the key columns, the same code for the same key in both
    (missing matches missing, as in a pandas merge), and the number of codes."""
    combined = np.zeros(len(old) + len(new), dtype=np.int64)
    size = 1
    for column in key:
        a, b = _pair(old, new, column)
        encoded = pa.chunked_array([a, b], type=a.type).dictionary_encode(null_encoding="encode")
        codes = np.concatenate(
            [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
        ).astype(np.int64)
        width = int(codes.max(initial=0)) + 1
        if size * width > 4 * len(combined) + 1:  # keep codes dense: renumber
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * width + codes
        size *= width
    if size > 4 * len(combined) + 1:
        combined, uniques = pd.factorize(combined)
        size = len(uniques)
    return combined[: len(old)], combined[len(old) :], size


def _matched_rows(old_key: np.ndarray, new_key: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Rows ``i`` of old and ``j`` of new with one key, paired as a pandas merge pairs
    them (a key repeated on both sides pairs every old row with every new one)."""
    if np.bincount(old_key, minlength=size).max(initial=0) <= 1 and (
        np.bincount(new_key, minlength=size).max(initial=0) <= 1
    ):
        at = np.full(size, -1, dtype=np.int64)
        at[new_key] = np.arange(len(new_key))
        j = at[old_key]
        i = np.flatnonzero(j >= 0)
        return i, j[i]
    pairs = pd.DataFrame({"k": old_key, "i": np.arange(len(old_key))}).merge(
        pd.DataFrame({"k": new_key, "j": np.arange(len(new_key))}), on="k"
    )
    return pairs["i"].to_numpy(), pairs["j"].to_numpy()


def _names(frame: Frame) -> list[str]:
    return list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)


def diff(previous: Mapping[str, Frame], current: Mapping[str, Frame]) -> dict[str, dict[str, int]]:
    """Rows added, changed and removed per table, compared by key (pseudonyms).

    Tables are pandas frames or Arrow tables. A row is changed when its key is in
    both and any other column differs (as text: a value read back as another type
    but written the same is no change). Rows are matched as a pandas outer merge on
    the key would match them (a key repeated on both sides pairs every old row with
    every new one).
    """
    changes = {}
    for name, new in current.items():
        key = list(OUTPUTS[name].key) if name in OUTPUTS else []
        old = previous.get(name)
        if old is None or not key:
            changes[name] = {"added": len(new), "changed": 0, "removed": 0}
            continue
        old_names = set(_names(old))
        rest = [c for c in _names(new) if c in old_names and c not in key]
        old_key, new_key, size = _key_codes(old, new, key)
        i, j = _matched_rows(old_key, new_key, size)
        changed = np.zeros(len(i), dtype=bool)
        for column in rest:
            unsettled = np.flatnonzero(~changed)
            if not unsettled.size:
                break
            changed[unsettled] = _differ(old, new, column, i[unsettled], j[unsettled])
        in_old = np.bincount(old_key, minlength=size) > 0
        in_new = np.bincount(new_key, minlength=size) > 0
        changes[name] = {
            "added": int((~in_old[new_key]).sum()),
            "changed": int(changed.sum()),
            "removed": int((~in_new[old_key]).sum()),
        }
    return changes


def diff_deliveries(
    previous: Delivery | None,
    current: Delivery,
    *,
    through: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]] | None = None,
) -> dict[str, dict[str, int]]:
    """:func:`diff` of two deliveries, one table at a time (read as Arrow, then let
    go), so that no more than one table of each is held at once.

    ``through`` maps the previous delivery's tables first (a key rotation's crosswalks).
    """

    def one(name: str, output: Any) -> dict[str, dict[str, int]]:
        if previous is None or name not in previous.manifest["outputs"]:
            if isinstance(output, dict) and "rows" in output:  # all added: no need to read
                return {name: {"added": int(output["rows"]), "changed": 0, "removed": 0}}
            return diff({}, {name: current.arrow(name)})
        if through is None:
            return diff({name: previous.arrow(name)}, {name: current.arrow(name)})
        return diff(through({name: previous.table(name, arrow=True)}), {name: current.arrow(name)})

    changes: dict[str, dict[str, int]] = {}
    # One table at a time: two at a time saved 3 s of a 60 s re-run at 485k but added
    # 0.4 GB to its peak, which falls here while the run still holds its extracts.
    for name, output in current.manifest["outputs"].items():
        changes.update(one(name, output))
    return changes


def rewrite(
    store: Path,
    current: Delivery,
    tables: dict[str, pd.DataFrame],
    *,
    run_id: str,
    operation: dict[str, Any],
    drop_quality: tuple[str, ...] = (),
    keep_party: Any = None,
    carry: Callable[[Path, Path, dict[str, pd.DataFrame]], None] | None = None,
) -> Delivery:
    """Deliver changed tables of the delivery in force, as a new delivery, atomically.

    The manifest is the old one with new outputs, the changes against the old
    delivery, and ``operation`` appended to its ``operations`` list; the quality
    reports of the parties in ``drop_quality`` are left out. ``keep_party`` (a
    predicate on a party name) filters the party-keyed parts of the manifest.
    ``carry(old folder, new folder, tables)`` brings over what else the delivery
    keeps for the next run (the links' state, see :mod:`._links`).
    """
    staging = store / f".staging-{run_id}"
    staging.mkdir()
    try:
        outputs = write_tables(staging, tables)
        quality = staging / "quality"
        quality.mkdir()
        for path in (current.path / "quality").glob("*"):
            if path.stem not in drop_quality:
                shutil.copy2(path, quality / path.name)
        if carry is not None:
            carry(current.path, staging, tables)
        manifest = dict(current.manifest)
        keep = keep_party or (lambda party: True)
        manifest.update(
            {
                "run_id": run_id,
                "previous_run_id": current.run_id,
                "outputs": outputs,
                "changes": diff(
                    current.tables(), Delivery(run_id, staging, {"outputs": outputs}).tables()
                ),
                "inputs": [i for i in manifest["inputs"] if keep(i["party"])],
                "minimisation": {
                    "dropped": [d for d in manifest["minimisation"]["dropped"] if keep(d["party"])]
                },
                "quality": {p: c for p, c in manifest["quality"].items() if p not in drop_quality},
                "operations": [*manifest.get("operations", []), operation],
            }
        )
        write_json(staging / MANIFEST, manifest)
        publish(store, staging, run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Delivery(run_id=run_id, path=store / "deliveries" / run_id, manifest=manifest)
