"""The delivery store: whole deliveries, swapped in atomically, verified when opened.

Layout::

    <store>/
      current                  one line: the run id of the delivery in force
      previous                 one line: the delivery kept as fallback (after a run only)
      deliveries/<run id>/     one Parquet file per table, quality/, state/, manifest.json
      .staging-<run id>/       a delivery being built (never read)
      damaged/<run id>/        a damaged delivery set aside by ``exchange verify --repair``
      withdrawn.json           the parties that withdrew, and whether their purge finished
      reports/                 purge and subject-request reports (counts only)
      subjects/                the subject requests' rules, per-request reports and the
                               registry of outputs written outside the store
      .lock                    held while a run, purge or request changes the store

A new delivery is built whole in ``.staging-<run id>``, its files fsync'd, renamed
to ``deliveries/<run id>``, and only then does ``current`` (written to a temporary
file, fsync'd, ``os.replace``'d) point at it. A run that fails or is killed at any
point before the pointer moves leaves the previous delivery in force; what it left
behind is cleared by the next operation.

The manifest lists every file of its delivery with its size and sha256 (``files``).
Opening a delivery checks it: sizes always (a stat per file: ``show``, subject
requests), hashes where the delivery is about to be built on or purged (a run, a
purge, ``exchange verify``; 0.16 s for 200 MB, a 485,000-enterprise delivery, from
the page cache). A damaged delivery in force (a file changed or gone, a manifest
that is not one, ``current`` naming a missing folder) is not used: the delivery
kept as fallback is, if it verifies, and a run then builds on it; otherwise the
error names the repair, ``linkage exchange verify --config F --repair``.

Access: every file the exchange writes in the store is ``0600`` and every folder
``0700`` (whatever the umask), or ``0640`` and ``0750`` owned by ``[output] group``
(:func:`._access.protect`). The store's own folder carries its access: a run, purge
or repair gives it, and everything under it, the configuration's
(``_verify.settle``, ``_purge``); what is written here follows the folder it is
written in (:func:`._access.follow`), and a delivery is protected before its switch.

What is kept, and why: a run keeps the delivery it replaced as the fallback
(``previous``: one generation, never in force, removed by the run after), so that a
store damaged after a run still opens. A purge or a subject request keeps none: the
delivery it replaced holds what it removed, so its switch drops the fallback
pointer first and every other delivery (and ``damaged/``) after.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exceptions import ConfigError
from linkage.exchange._access import PRIVATE, SHARED, follow, protect, shared_group
from linkage.exchange._diff import diff, diff_deliveries, diff_table, key_order
from linkage.exchange._extract import sha256_file
from linkage.exchange._order import sort_order
from linkage.exchange._purposes import file_metadata
from linkage.exchange._schema import OUTPUTS
from linkage.io import atomic_path, fsync_dir, fsync_tree

__all__ = [
    "Delivery",
    "check_delivery",
    "diff",
    "diff_deliveries",
    "diff_table",
    "open_delivery",
    "protect",
    "publish",
    "read_delivery",
    "repair_command",
    "store_lock",
    "write_tables",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CURRENT = "current"
PREVIOUS = "previous"
DAMAGED = "damaged"
WITHDRAWN = "withdrawn.json"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def checkpoint(stage: str) -> None:
    """A named point of a run; tests replace this to inject a failure there."""


def repair_command(config_file: str | os.PathLike[str] | None = None) -> str:
    """The command that repairs a damaged store, for error messages."""
    return f"linkage exchange verify --config {config_file or 'EXCHANGE.toml'} --repair"


def _unreadable(run_id: str, name: str, exc: Exception) -> ConfigError:
    return ConfigError(
        f"delivery {run_id}: {name} cannot be read ({type(exc).__name__}); the store is "
        f"damaged: run {repair_command()}"
    )


@dataclass(frozen=True)
class Delivery:
    """A delivery: its run id, folder and manifest.

    ``verified``: its files' hashes were checked when it was opened.
    ``fallback_from``: it is the fallback, opened because the delivery in force is
    damaged (``"<run id>: <what is wrong>"``).
    """

    run_id: str
    path: Path
    manifest: dict[str, Any]
    verified: bool = False
    fallback_from: str | None = None

    def table(self, name: str, *, arrow: bool = False, text: str = "python") -> pd.DataFrame:
        """One delivered table as pandas; ``arrow``: every column Arrow-backed
        (``pd.ArrowDtype``, no copy into Python objects), as :func:`diff` reads it;
        ``text="pyarrow"``: text as ``string[pyarrow]`` (ten times faster to read than
        a Python object per value), other columns as pandas makes them."""
        table = self.arrow(name)
        if arrow:
            return table.to_pandas(types_mapper=pd.ArrowDtype)
        return table.to_pandas(types_mapper={pa.string(): pd.StringDtype(text)}.get)

    def arrow(self, name: str) -> pa.Table:
        """One delivered table as Arrow, as written."""
        try:
            return pq.read_table(self.path / f"{name}.parquet")
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(self.run_id, f"{name}.parquet", exc) from None

    def tables(self, *, arrow: bool = False, text: str = "python") -> dict[str, pd.DataFrame]:
        """Every delivered table; their hashes checked first unless they were when
        the delivery was opened (a table read whole is worth its hash)."""
        if not self.verified:
            outputs = {"outputs": self.manifest["outputs"]}
            problem = check_delivery(self.path, outputs, hashes=True)
            if problem is not None:
                raise ConfigError(
                    f"delivery {self.run_id}: {problem}; the store is damaged: run "
                    f"{repair_command()}"
                )
        return {name: self.table(name, arrow=arrow, text=text) for name in self.manifest["outputs"]}


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write JSON to ``path`` atomically (:func:`linkage.io.atomic_path`), with the
    access of its folder (:func:`follow`) before it takes its name."""
    mode = PRIVATE[0] if shared_group(path.parent) is None else SHARED[0]
    with atomic_path(path, mode=mode) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
        follow(tmp)


def pointer(store: Path, name: str = CURRENT) -> str | None:
    """The run id a pointer (``current``, ``previous``) names; None if there is none,
    ``""`` if it names no delivery (altered: not a plain folder name)."""
    try:
        text = (store / name).read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    return text if _RUN_ID.fullmatch(text) else ""


def _set_pointer(store: Path, name: str, run_id: str | None) -> None:
    """Point ``name`` at ``run_id`` (None: remove it), durably."""
    if run_id is None:
        if (store / name).exists():
            (store / name).unlink()
            fsync_dir(store)
        return
    mode = PRIVATE[0] if shared_group(store) is None else SHARED[0]
    with atomic_path(store / name, mode=mode) as tmp:
        tmp.write_text(run_id + "\n", encoding="utf-8")
        follow(tmp)


def describe_files(folder: Path, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every file of a delivery being staged but its manifest: size and sha256 (the
    tables' hashes as :func:`write_tables` took them)."""
    known = {o["file"]: o["sha256"] for o in outputs.values()}
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != MANIFEST:
            digest = known.get(rel) or sha256_file(path)
            files[rel] = {"bytes": path.stat().st_size, "sha256": digest}
    return files


def _shape(manifest: Any) -> str | None:
    """What a manifest lacks of the fields a run writes and others read, or None."""
    if not isinstance(manifest, dict):
        return f"{MANIFEST} is not an object"
    try:
        assert isinstance(manifest["created"], str) and isinstance(manifest["validity"], dict)
        assert isinstance(manifest["key"]["version"], int)
        assert isinstance(manifest["inputs"], list) and isinstance(manifest["quality"], dict)
        assert isinstance(manifest["minimisation"]["dropped"], list)
        outputs = manifest["outputs"]
        assert isinstance(outputs, dict) and outputs
        for entry in outputs.values():
            assert isinstance(entry["file"], str) and isinstance(entry["sha256"], str)
            assert isinstance(entry["rows"], int) and isinstance(entry["rows_by_party"], dict)
        files = manifest.get("files", {})
        assert isinstance(files, dict)
        assert all(isinstance(e, dict) and isinstance(e["sha256"], str) for e in files.values())
    except (KeyError, TypeError, AssertionError):
        return f"{MANIFEST} lacks fields a delivery's manifest has"
    return None


def check_delivery(path: Path, manifest: Any, *, hashes: bool) -> str | None:
    """What is wrong with the delivery in ``path`` as its manifest describes it, or
    None. Every file the manifest lists must be there with its size; with
    ``hashes``, with its sha256 too. A manifest written before ``files`` existed
    lists its tables only (``outputs``), and no sizes."""
    outputs = manifest["outputs"]
    files = manifest.get("files") or {o["file"]: {"sha256": o["sha256"]} for o in outputs.values()}
    for rel, entry in files.items():
        if rel.startswith("/") or ".." in rel.split("/"):
            return f"{MANIFEST} names a file outside its folder: {rel!r}"
        file, size = path / rel, entry.get("bytes")
        try:
            actual = file.stat().st_size
        except OSError:
            return f"{rel} is missing"
        if size is not None and actual != size:
            return f"{rel} has {actual:,} bytes, its manifest says {size:,}"
    if hashes:
        # Two files at a time (hashlib lets go of the GIL); the first in order reported,
        # and the files not yet hashed then left alone.
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sha256")
        try:
            found = pool.map(lambda rel: sha256_file(path / rel), files)
            for (rel, entry), digest in zip(files.items(), found, strict=True):
                if digest != entry["sha256"]:
                    return f"{rel} differs from its sha256 in the manifest"
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return None


def open_delivery(
    store: Path, run_id: str | None, *, hashes: bool
) -> tuple[Delivery | None, str | None]:
    """The delivery ``run_id`` of ``store``, checked: ``(delivery, None)``, or
    ``(None, what is wrong)``."""
    if not run_id:
        return None, "the pointer does not name a delivery"
    path = store / "deliveries" / run_id
    if not path.is_dir():
        return None, f"its folder deliveries/{run_id} is missing"
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"its {MANIFEST} is missing"
    except (ValueError, OSError):  # not UTF-8, not JSON: altered by hand
        return None, f"its {MANIFEST} is damaged (not JSON)"
    problem = _shape(manifest)
    if problem is None and manifest.get("run_id", run_id) != run_id:
        problem = f"its {MANIFEST} is another delivery's"
    if problem is None:
        problem = check_delivery(path, manifest, hashes=hashes)
    if problem is not None:
        return None, problem
    return Delivery(run_id=run_id, path=path, manifest=manifest, verified=hashes), None


def open_in_force(store: Path, *, hashes: bool) -> tuple[Delivery | None, str | None]:
    """The delivery in force, checked, or the fallback if it is damaged and the
    fallback is not (its ``fallback_from`` says why); ``(None, None)`` if the store
    holds none; ``(None, what is wrong)`` if it is damaged and no fallback is good."""
    run_id = pointer(store)
    if run_id is None:
        return None, None
    current, problem = open_delivery(store, run_id, hashes=hashes)
    if current is not None:
        return current, None
    what = f"delivery {run_id or '(current)'}: {problem}"
    spare = pointer(store, PREVIOUS)
    if spare and spare != run_id:
        fallback, _ = open_delivery(store, spare, hashes=hashes)
        if fallback is not None:
            return replace(fallback, fallback_from=what), None
    return None, what


def read_delivery(
    store: str | os.PathLike[str],
    *,
    hashes: bool = False,
    config_file: str | os.PathLike[str] | None = None,
) -> Delivery | None:
    """The delivery in force, checked (sizes; with ``hashes``, hashes too); None if
    the store holds none.

    A damaged delivery in force gives way to the fallback (``previous``) if that one
    checks out, with a warning: the returned delivery's ``fallback_from`` says why.

    Raises
    ------
    ConfigError
        The delivery in force is damaged and no good fallback is kept; the message
        names the repair (``config_file`` is the exchange's TOML, for that command).
    """
    store = Path(store)
    delivery, problem = open_in_force(store, hashes=hashes)
    if problem is not None:
        raise ConfigError(
            f"{problem}, and no earlier good delivery is kept: run {repair_command(config_file)}",
            source=str(store),
        )
    if delivery is not None and delivery.fallback_from is not None:
        log.warning(
            "%s: %s; using the last good delivery, %s (repair: %s)",
            store,
            delivery.fallback_from,
            delivery.run_id,
            repair_command(config_file),
        )
    return delivery


@contextlib.contextmanager
def store_lock(store: Path) -> Iterator[list[str]]:
    """Hold the store's lock; refuse if another process holds it. Clear leftovers,
    and yield what was cleared (:func:`clear_leftovers`). A store made here is
    private (``0700``) until a run, purge or repair gives it the configuration's
    access."""
    if not store.exists():
        store.mkdir(parents=True, exist_ok=True)
        protect(store)
    fd = os.open(store / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE[0])
    with open(fd, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{store}: another run, purge or request is changing this "
                "store; try again when it has finished"
            ) from None
        try:
            yield clear_leftovers(store)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clear_leftovers(store: Path) -> list[str]:
    """Remove staging folders, deliveries that neither ``current`` nor ``previous``
    names, and the temporary files of atomic writes that a kill interrupted. Reads
    the pointers only: a damaged store is cleared as well as a sound one."""
    keep = {pointer(store, CURRENT), pointer(store, PREVIOUS)}
    removed = []
    for path in store.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in (*store.glob(".*.tmp"), *(store / "reports").glob(".*.tmp")):
        path.unlink(missing_ok=True)
        removed.append(path.relative_to(store).as_posix())
    for path in (store / "deliveries").glob("*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"deliveries/{path.name}")
    return removed


def _arrow(frame: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        pa.field(f.name, pa.date32())
        if pa.types.is_timestamp(f.type)
        # One text type in the files, whether pandas held it as objects, Arrow or
        # codes into its values (a run's keys until written).
        else pa.field(f.name, pa.string())
        if pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type)
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)


def _ranged(table: pa.Table) -> list[str]:
    """The columns whose minimum and maximum a file keeps: those not text. A date's
    range lets a reader skip what it does not want; a pseudonym's, a name's or an
    id's skips nothing, and their statistics cost a tenth of a table's write."""
    return [f.name for f in table.schema if not pa.types.is_string(f.type)]


def _write_table(
    folder: Path,
    name: str,
    box: list[pd.DataFrame],
    metadata: Mapping[bytes, bytes] | None = None,
    then: Callable[[str, pa.Table], None] | None = None,
) -> dict[str, Any]:
    frame = box.pop()  # the frame, let go once sorted if this was its only reference
    key = [c for c in OUTPUTS[name].key if c in frame.columns] if name in OUTPUTS else []
    table = _arrow(frame)
    del frame
    if metadata:
        table = table.replace_schema_metadata(dict(metadata))
    if key:
        order = key_order(table, key)
        table = table.take(sort_order(table, key) if order is None else order)
    path = folder / f"{name}.parquet"
    # ``then`` (a run's diff) beside the write: both are Arrow's and numpy's work,
    # which let go of the GIL, on a table held anyway.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="then") as pool:
        after = pool.submit(then, name, table) if then is not None else None
        pq.write_table(table, path, compression="zstd", write_statistics=_ranged(table))
        if after is not None:
            after.result()
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


def write_tables(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    *,
    metadata: Mapping[bytes, bytes] | None = None,
    then: Callable[[str, pa.Table], None] | None = None,
    checkpoints: bool = True,
    workers: int = 2,
    let_go: bool = False,
) -> dict[str, dict[str, Any]]:
    """Write each table as ``<name>.parquet`` (rows sorted by key); describe what was written.

    ``metadata``: the files' schema metadata (the purposes of art. 12, see
    :func:`._purposes.file_metadata`); none by default. ``then(name, table)`` is
    called with each table, sorted, in a thread beside its write, and waited for before
    the table is let go (a run diffs it against the delivery in force there: no
    reading it back).

    Sorted by Arrow (stable, missing last: the order of a stable ``sort_values``).
    Two tables are written at a time (Arrow's sort, take and Parquet writer let go
    of the GIL); each table's checkpoint is passed in order once it is written, and
    a failure waits for the writes under way and starts no other. Without
    ``checkpoints`` (written in a child process), the caller passes them; ``workers``:
    tables written at a time (one where another process takes the other core). With
    ``let_go``, each table is taken out of ``tables`` (emptied), so that a caller that
    holds it nowhere else has it let go once it is sorted, before its file is written.
    """
    outputs = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="write-tables")
    try:
        futures = {
            name: pool.submit(
                _write_table,
                folder,
                name,
                [tables.pop(name) if let_go else tables[name]],
                metadata,
                then,
            )
            for name in list(tables)
        }
        for name, future in futures.items():
            outputs[name] = future.result()
            if checkpoints:
                checkpoint(f"wrote {name}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outputs


def publish(store: Path, staging: Path, run_id: str, *, fallback: str | None = None) -> None:
    """Make the staged delivery current; keep ``fallback`` (a delivery that verified)
    as ``previous``, or none; remove every other delivery.

    Durable steps, each a point a kill may fall between: the staged files are
    flushed; the folder is renamed into ``deliveries/``; the fallback pointer is set
    (or removed: a purge's old delivery must not outlive its switch); the pointer
    ``current`` is replaced; the rest is removed.
    """
    deliveries = store / "deliveries"
    if not deliveries.exists():
        deliveries.mkdir()
        follow(deliveries)
    protect(staging, shared_group(deliveries))  # before it is in force, or readable
    fsync_tree(staging)
    checkpoint("staged")
    os.rename(staging, deliveries / run_id)
    fsync_dir(deliveries)
    checkpoint("renamed")
    _set_pointer(store, PREVIOUS, fallback)
    _set_pointer(store, CURRENT, run_id)
    checkpoint("switched")
    for path in deliveries.glob("*"):
        if path.name not in (run_id, fallback):
            shutil.rmtree(path, ignore_errors=True)
    if fallback is None:
        shutil.rmtree(store / DAMAGED, ignore_errors=True)


def remove_all(store: Path) -> None:
    """Remove the pointer first (no delivery in force), then every delivery, the
    fallback and the damaged ones set aside."""
    _set_pointer(store, CURRENT, None)
    _set_pointer(store, PREVIOUS, None)
    for path in (store / "deliveries", store / DAMAGED, *store.glob(".staging-*")):
        shutil.rmtree(path, ignore_errors=True)


def keep_only(store: Path, run_id: str) -> list[str]:
    """Keep the delivery ``run_id`` (in force) alone: drop the fallback, every other
    delivery and the damaged ones set aside; what was removed."""
    _set_pointer(store, PREVIOUS, None)
    removed = []
    for path in sorted((store / "deliveries").glob("*")):
        if path.name != run_id:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"deliveries/{path.name}")
    for path in sorted((store / DAMAGED).glob("*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(f"{DAMAGED}/{path.name}")
    return removed


def set_aside(store: Path, run_id: str) -> str | None:
    """Move a damaged delivery to ``damaged/``, out of the way, for a person to look
    at; where it went (relative to the store), or None if there was no folder."""
    path = store / "deliveries" / run_id
    if not run_id or not path.is_dir():
        return None
    if not (store / DAMAGED).exists():
        (store / DAMAGED).mkdir()
        follow(store / DAMAGED)
    target = store / DAMAGED / run_id
    n = 1
    while target.exists():
        n += 1
        target = store / DAMAGED / f"{run_id}.{n}"
    os.rename(path, target)
    fsync_dir(store / DAMAGED)
    fsync_dir(store / "deliveries")
    return target.relative_to(store).as_posix()


def drop_fallback(store: Path) -> None:
    """Keep no fallback (its folder goes with the next clearing of leftovers)."""
    _set_pointer(store, PREVIOUS, None)


def switch_to(store: Path, run_id: str | None) -> None:
    """Point ``current`` at ``run_id`` (None: no delivery in force), then drop the
    fallback pointer (a repair's last step: ``run_id`` is the fallback, which stays
    pointed at until ``current`` names it)."""
    _set_pointer(store, CURRENT, run_id)
    _set_pointer(store, PREVIOUS, None)


def _quality_counts(folder: Path) -> dict[str, dict[str, int]]:
    """Defects per party and kind, as the quality reports in ``folder`` now hold them."""
    counts = {}
    for path in sorted(folder.glob("*.csv")):
        kinds = pd.read_csv(path, usecols=["defect"], dtype="string")["defect"]
        counts[path.stem] = {str(k): int(v) for k, v in kinds.value_counts().sort_index().items()}
    return counts


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
    keeps for the next run (the links' state, see :mod:`._links`). No fallback is
    kept: the delivery replaced holds what was removed or corrected.
    """
    staging = store / f".staging-{run_id}"
    staging.mkdir()
    try:
        # The purposes recorded by the manifest carried over (art. 12), in its files too.
        outputs = write_tables(
            staging, tables, metadata=file_metadata(current.manifest.get("purposes"))
        )
        quality = staging / "quality"
        quality.mkdir()
        for path in (current.path / "quality").glob("*"):
            if path.stem not in drop_quality:
                shutil.copy2(path, quality / path.name)
        if (current.path / "access").is_dir():  # the roles' definitions hold no data
            shutil.copytree(current.path / "access", staging / "access")
        if carry is not None:
            carry(current.path, staging, tables)
        manifest = dict(current.manifest)
        manifest.pop("fallback_from", None)
        keep = keep_party or (lambda party: True)
        manifest.update(
            {
                "run_id": run_id,
                "previous_run_id": current.run_id,
                "outputs": outputs,
                "changes": diff_deliveries(  # a table at a time, as Arrow
                    current, Delivery(run_id, staging, {"outputs": outputs}, verified=True)
                ),
                "inputs": [i for i in manifest["inputs"] if keep(i["party"])],
                "minimisation": {
                    "dropped": [d for d in manifest["minimisation"]["dropped"] if keep(d["party"])]
                },
                "quality": _quality_counts(quality),
                "operations": [*manifest.get("operations", []), operation],
            }
        )
        manifest["files"] = describe_files(staging, outputs)
        write_json(staging / MANIFEST, manifest)
        publish(store, staging, run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Delivery(run_id=run_id, path=store / "deliveries" / run_id, manifest=manifest)
