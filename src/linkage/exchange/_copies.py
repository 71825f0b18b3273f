"""What a purge removes beyond the deliveries: every other copy the tool made.

Art. 3 asks VDAB to delete *all data received* from a party that withdraws, and
everything at the end of the protocol. Beyond the deliveries (:mod:`._purge`), the
tool holds a party's data in:

* **its extracts**, the files the configuration names under
  ``[extracts.<party>]``: data received from the party, deleted (a folder of
  Parquet parts with it). A ``mixed`` file of several parties is rewritten
  atomically without the party's rows (:func:`linkage.io.atomic_path`), in its own
  format (Parquet, or delimited text with its separator and compression), mode and
  group; removed if no row is left. ``--all`` deletes every party's files, mixed
  ones too; VDAB's own files (``[vdab]``) are VDAB's data and stay;
* **the subject requests' data** in the store (``subjects/``): the rules of
  ``suppressions.parquet`` and ``overlays.parquet``, and any other table there,
  lose the party's rows (removed when empty); a file named after the party (a
  request's ``inform-<PARTY>.csv``) is removed, and a request's folder left empty;
  ``--all`` removes ``subjects/`` whole;
* **the outputs** ``subject find --out`` wrote outside the store, as
  ``subjects/outputs.jsonl`` registers them: the party's files (every one with
  ``--all``) are deleted and the registry rewritten without them. A registered
  path that is not a file (a folder) is never deleted: it stays registered and the
  scan lists it.

Each step can be run again (a purge interrupted is finished by the next one):
files are deleted before the registry that names them is rewritten. What cannot be
removed is said and left for the scan (:mod:`._scan`), which then finds the purge
incomplete. Every file removed or rewritten is listed in the report.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.exchange._config import MIXED, ExchangeConfig
from linkage.exchange._scan import (
    OUTPUTS,
    SUBJECTS,
    extract_files,
    named_after,
    read_csv,
    read_outputs,
    table_format,
)
from linkage.io import atomic_path, fsync_dir

__all__ = ["remove_copies"]

log = logging.getLogger(__name__)

#: What reading or writing a table may raise; none of them is let through.
_TABLE_ERRORS = (OSError, EOFError, ValueError, UnicodeDecodeError, pa.ArrowException)

Done = list[dict[str, str]]


def _failed(exc: BaseException) -> str:
    """Why a file could not be removed or rewritten (no value of it: an OS error's
    own words, else the error's type)."""
    if isinstance(exc, OSError):
        return f"could not be changed ({type(exc).__name__}: {exc.strerror or 'failed'})"
    return f"could not be changed ({type(exc).__name__})"


def _rewrite(path: Path, write: Callable[[Path], None]) -> None:
    """Replace ``path`` with what ``write`` writes, atomically, keeping its mode and
    (if it can) its group."""
    info = path.stat()
    with atomic_path(path, mode=stat.S_IMODE(info.st_mode)) as tmp:
        write(tmp)
        with contextlib.suppress(OSError):
            os.chown(tmp, -1, info.st_gid)


def _unlink(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    fsync_dir(path.parent)


def drop_rows(
    path: Path, parties: tuple[str, ...], column: str = "party"
) -> tuple[int, int] | None:
    """Rewrite a table file without the rows whose ``column`` names one of
    ``parties`` (trimmed, as an extract is read), in its own format; remove it if
    none is left. ``(rows removed, rows left)``; None if it is not a table with
    that column (the scan says what it is)."""
    kind = table_format(path, column)
    if kind is None or isinstance(kind, str):
        return None
    fmt, sep, zipped = kind
    write: Callable[[Path], None]
    if fmt == "parquet":
        table = pq.read_table(path)
        values = pc.utf8_trim_whitespace(table.column(column).cast(pa.string()))
        hit = pc.fill_null(pc.is_in(values, value_set=pa.array(parties, pa.string())), False)
        removed = int(pc.sum(hit).as_py() or 0)
        kept = table.filter(pc.invert(hit))
        left = kept.num_rows

        def write(tmp: Path) -> None:
            pq.write_table(kept, tmp)

    else:
        assert sep is not None
        frame = read_csv(path, sep, zipped)
        mask = frame[column].str.strip().isin(parties)
        removed, left = int(mask.sum()), int((~mask).sum())
        rest = frame[~mask]

        def write(tmp: Path) -> None:
            rest.to_csv(tmp, sep=sep, index=False, compression="gzip" if zipped else None)

    if removed and not left:
        _unlink(path)
    elif removed:
        _rewrite(path, write)
    return removed, left


def _clean(
    path: Path, parties: tuple[str, ...], what: str, done: Done, *, column: str, name: str
) -> None:
    """Take the rows of ``parties`` out of one table file, saying what was done."""
    who = " and ".join(parties)
    try:
        result = drop_rows(path, parties, column)
    except _TABLE_ERRORS as exc:
        done.append({"file": name, "what": what, "action": _failed(exc)})
        return
    if result is None or not result[0]:
        return
    removed, left = result
    action = (
        f"rewritten without its {removed:,} rows of {who} ({left:,} left)"
        if left
        else f"removed (its {removed:,} rows were all {who}'s)"
    )
    done.append({"file": name, "what": what, "action": action})


def _remove(path: Path, what: str, done: Done, name: str | None = None) -> None:
    try:
        _unlink(path)
    except OSError as exc:
        done.append({"file": name or str(path), "what": what, "action": _failed(exc)})
    else:
        done.append({"file": name or str(path), "what": what, "action": "removed"})


def _extracts(
    config: ExchangeConfig, parties: tuple[str, ...], everything: bool, done: Done
) -> None:
    for path, party, column in extract_files(config, parties, everything):
        if not path.exists():
            continue
        if party != MIXED or everything:
            what = f"{party}'s extract" if party != MIXED else "mixed extract"
            _remove(path, what, done)
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            _clean(file, parties, "mixed extract", done, column=column, name=str(file))


def _outputs(store: Path, parties: tuple[str, ...], everything: bool, done: Done) -> None:
    """Delete the registered outputs of ``parties`` (all with ``everything``), then
    rewrite the registry without the ones that are gone."""
    registry = store / OUTPUTS
    entries, _ = read_outputs(store)
    gone = set()
    for entry in entries:
        if not (everything or entry["party"] in parties):
            continue
        path = Path(entry["path"])
        what = f"{entry['party']}'s subject output ({entry.get('request_id', 'no request id')})"
        if not path.exists() and not path.is_symlink():
            gone.add(entry["path"])
        elif path.is_file() or path.is_symlink():
            _remove(path, what, done)
            if not path.exists():
                gone.add(entry["path"])
        else:
            done.append(
                {"file": str(path), "what": what, "action": "not a file: left for a person"}
            )
    if not gone:
        return
    keep = []
    for line in registry.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            target = Path(json.loads(line)["path"])
            named: str | None = str(target if target.is_absolute() else store / target)
        except (ValueError, KeyError, TypeError):
            named = None  # not an entry: kept, and the scan says so
        if named not in gone:
            keep.append(line + b"\n")
    if not keep:
        _remove(registry, "registry of subject outputs", done, OUTPUTS)
        return

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"".join(keep))

    _rewrite(registry, write)
    done.append(
        {
            "file": OUTPUTS,
            "what": "registry of subject outputs",
            "action": f"rewritten without the {len(gone):,} outputs removed",
        }
    )


def _subjects(store: Path, parties: tuple[str, ...], everything: bool, done: Done) -> None:
    """The subject requests' data in the store (module docstring)."""
    folder = store / SUBJECTS
    if not folder.is_dir():
        return
    files = sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    for path in files:
        rel = path.relative_to(store).as_posix()
        if rel == OUTPUTS and not everything:
            continue
        if everything or named_after(path, parties):
            _remove(path, "subject request data", done, rel)
        else:
            _clean(path, parties, "subject request data", done, column="party", name=rel)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()  # only if empty: a request's folder emptied by the purge
    if everything:
        with contextlib.suppress(OSError):
            folder.rmdir()


def remove_copies(config: ExchangeConfig, parties: tuple[str, ...], everything: bool) -> Done:
    """Remove every copy of the parties' data outside the deliveries (module
    docstring); each file removed or rewritten: ``file``, ``what``, ``action``."""
    done: Done = []
    _extracts(config, parties, everything, done)
    _outputs(config.store, parties, everything, done)
    _subjects(config.store, parties, everything, done)
    for entry in done:
        log.debug("purge: %s %s: %s", entry["what"], entry["file"], entry["action"])
    return done
