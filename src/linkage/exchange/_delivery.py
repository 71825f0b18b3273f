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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.exceptions import ConfigError
from linkage.exchange._extract import sha256_file
from linkage.exchange._schema import OUTPUTS
from linkage.io import atomic_path, fsync_dir, fsync_tree

__all__ = ["Delivery", "diff", "publish", "read_delivery", "store_lock", "write_tables"]

MANIFEST = "manifest.json"


def checkpoint(stage: str) -> None:
    """A named point of a run; tests replace this to inject a failure there."""


@dataclass(frozen=True)
class Delivery:
    """The delivery in force: its run id, folder and manifest."""

    run_id: str
    path: Path
    manifest: dict[str, Any]

    def table(self, name: str) -> pd.DataFrame:
        """One delivered table as pandas."""
        return pq.read_table(self.path / f"{name}.parquet").to_pandas(
            types_mapper={pa.string(): pd.StringDtype()}.get
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: self.table(name) for name in self.manifest["outputs"]}


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
        pa.field(f.name, pa.date32()) if pa.types.is_timestamp(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Write each table as ``<name>.parquet`` (rows sorted by key); describe what was written."""
    outputs = {}
    for name, frame in tables.items():
        key = [c for c in OUTPUTS[name].key if c in frame.columns] if name in OUTPUTS else []
        frame = frame.sort_values(key, kind="stable").reset_index(drop=True) if key else frame
        path = folder / f"{name}.parquet"
        pq.write_table(_arrow(frame), path, compression="zstd")
        checkpoint(f"wrote {name}")
        outputs[name] = {
            "file": path.name,
            "rows": len(frame),
            "rows_by_party": {
                str(k): int(v) for k, v in frame["party"].value_counts().sort_index().items()
            },
            "sha256": sha256_file(path),
        }
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


def diff(
    previous: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame]
) -> dict[str, dict[str, int]]:
    """Rows added, changed and removed per table, compared by key (pseudonyms).

    A row is changed when its key is in both and any other column differs.
    """
    changes = {}
    for name, new in current.items():
        key = list(OUTPUTS[name].key) if name in OUTPUTS else []
        old = previous.get(name)
        if old is None or not key:
            changes[name] = {"added": len(new), "changed": 0, "removed": 0}
            continue
        both = [c for c in new.columns if c in old.columns]
        rest = [c for c in both if c not in key]

        def digest(
            frame: pd.DataFrame, key: list[str] = key, rest: list[str] = rest
        ) -> pd.DataFrame:
            out = frame[key].astype("string").copy()
            # Compare values as text so that dtypes read back from Parquet match.
            out["_hash"] = (
                pd.util.hash_pandas_object(frame[rest].astype("string"), index=False).to_numpy()
                if rest
                else 0
            )
            return out

        merged = digest(old).merge(
            digest(new), on=key, how="outer", indicator=True, suffixes=("_old", "_new")
        )
        kept = merged["_merge"] == "both"
        changes[name] = {
            "added": int((merged["_merge"] == "right_only").sum()),
            "changed": int((kept & (merged["_hash_old"] != merged["_hash_new"])).sum()),
            "removed": int((merged["_merge"] == "left_only").sum()),
        }
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
) -> Delivery:
    """Deliver changed tables of the delivery in force, as a new delivery, atomically.

    The manifest is the old one with new outputs, the changes against the old
    delivery, and ``operation`` appended to its ``operations`` list; the quality
    reports of the parties in ``drop_quality`` are left out. ``keep_party`` (a
    predicate on a party name) filters the party-keyed parts of the manifest.
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
