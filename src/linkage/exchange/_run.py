"""One run of the exchange: read, validate, minimise, pseudonymise, link, deliver.

A run is all or nothing: it builds the whole delivery beside the one in force and
switches to it only when everything is written (see :mod:`._delivery`). It builds
on the delivery in force, its hashes checked (or on the fallback, if that one is
damaged: the manifest's ``fallback_from`` says so).

The audit log is write-ahead (:mod:`._audit`): a log that cannot be opened refuses
the run before any work; a run's ``started`` line is written before its work, its
``intent`` line (everything it delivers, the manifest's sha256) before the switch,
its outcome after. So every run leaves a line, killed or not, and every delivery
in force has its intent; a refused or failed run has its ``failed`` line.

Under the store's lock, a run first settles what an interruption left
(:func:`._verify.settle`: an unfinished purge is finished, a start or intent
without outcome gets one) and refuses while a withdrawn party is configured or a
purge is incomplete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage._memory import give_back, returning_pool, small_pages
from linkage._version import __version__
from linkage.exceptions import ConfigError, SchemaError
from linkage.exchange import _delivery as D
from linkage.exchange._aside import Aside, Beside, can_fork
from linkage.exchange._audit import append_event, check_writable
from linkage.exchange._checks import vdab_disagreements
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._defects import (
    corrected,
    earlier_defects,
    protocol_names,
    status_summary,
    with_status,
)
from linkage.exchange._extract import Extracts, InvalidNumbers, read_extracts, sha256_file
from linkage.exchange._given import given_links, read_given
from linkage.exchange._links import (
    FeedLinks,
    VdabSide,
    link_to_vdab,
    prepare_vdab_side,
    write_state,
)
from linkage.exchange._overlays import (
    aligned,
    answered_fields,
    apply_kept,
    has_rules,
    records_about,
    without_records,
)
from linkage.exchange._purge import refuse_withdrawn
from linkage.exchange._purposes import file_metadata
from linkage.exchange._quality import classified, quality_defects, write_quality
from linkage.exchange._rekey import crosswalks, rekey, write_crosswalks
from linkage.exchange._roles import load_roles, write_access
from linkage.exchange._shape import TABLES, known_keys, shaped
from linkage.exchange._verify import settle
from linkage.io import read_table
from linkage.keys import KeyRing
from linkage.national import national_number_mask

__all__ = ["RunResult", "load_ring", "preview_refit", "run"]

log = logging.getLogger(__name__)

FORMAT = "linkage-exchange-delivery"


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What a run delivered."""

    run_id: str
    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def changes(self) -> dict[str, dict[str, int]]:
        return self.manifest["changes"]

    def summary(self) -> str:
        """A few lines for people: counts, links, changes, quality, where."""
        m = self.manifest
        counts = ", ".join(f"{k} {v['rows']:,}" for k, v in m["outputs"].items())
        changes = (
            ", ".join(
                f"{k} +{v['added']:,} ~{v['changed']:,} -{v['removed']:,}"
                for k, v in m["changes"].items()
                if any(v.values())
            )
            or "none"
        )
        quality = "; ".join(f"{p}: {sum(c.values()):,} defects" for p, c in m["quality"].items())
        dropped = sorted({c for d in m["minimisation"]["dropped"] for c in d["columns"]})
        models = m["links"].get("models", {})
        moved = "; ".join(
            f"{name} " + (", ".join(f"{r} {n:,}" for r, n in reasons.items()) or "none")
            for name, reasons in m["links"].get("changed", {}).items()
        )
        fitted = (
            "models frozen"
            if models and all(x["frozen"] for x in models.values())
            else "models fitted on this run"
            if models
            else "a linkage party's links"
        )
        return "\n".join(
            [
                f"run {self.run_id}: delivered to {self.path}",
                f"tables: {counts}",
                f"changes since {m['previous_run_id'] or 'nothing (first delivery)'}: {changes}",
                f"columns dropped (not in art. 3): {', '.join(dropped) or 'none'}",
                f"links changed, by reason: {moved or 'none'} ({fitted})",
                f"data quality: {quality}",
                f"key version {m['key']['version']}"
                + (
                    f" (re-keyed from version {m['key']['rekeyed_from']}: crosswalks delivered)"
                    if "rekeyed_from" in m["key"]
                    else ""
                )
                + f"; valid {m['validity']['start']} to "
                f"{m['validity']['effective_end']}; {m['timings']['total']:.1f} s",
            ]
        )


def load_ring(config: ExchangeConfig) -> KeyRing:
    """The key ring the configuration names (a key file or the environment)."""
    if config.key_env is not None:
        ring = KeyRing.from_env(exchange=config.exchange, var=config.key_env)
    else:
        assert config.key_file is not None
        ring = KeyRing.load(config.key_file, passphrase=os.environ.get(config.passphrase_env))
    return ring


def _checked_ring(config: ExchangeConfig, ring: KeyRing | None, today: dt.date) -> KeyRing:
    """Refuse outside the validity window, or for a purpose a sending party has not
    approved (art. 12); the key ring, which must be this exchange's."""
    config.validity.check(today)
    config.purposes.check(config.parties, today)
    ring = ring if ring is not None else load_ring(config)
    if ring.exchange != config.exchange:
        raise ConfigError(
            f"the key ring is for exchange {ring.exchange!r}, the "
            f"configuration for {config.exchange!r}"
        )
    return ring


def _run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _audit_fields(manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    """What the audit log holds of a delivery: counts, changes, hashes."""
    return {
        "key_version": manifest["key"]["version"],
        "previous_run_id": manifest["previous_run_id"],
        "rows": {k: v["rows"] for k, v in manifest["outputs"].items()},
        "changes": manifest["changes"],
        "inputs": [i["sha256"] for i in manifest["inputs"]],
        "manifest_sha256": sha256_file(folder / D.MANIFEST),
        **({"fallback_from": manifest["fallback_from"]} if "fallback_from" in manifest else {}),
        **({"subjects": manifest["subjects"]} if "subjects" in manifest else {}),
    }


def _write_ahead(config: ExchangeConfig, **fields: Any) -> None:
    """A line the run goes on only once it is written (its start, its intent)."""
    try:
        append_event(config.audit_log, "run", **fields)
    except OSError as exc:
        raise ConfigError(
            f"the audit log cannot be written ({exc.strerror or type(exc).__name__}); "
            "nothing was delivered: make it writable and run again",
            source=str(config.audit_log),
        ) from None


def _log_failure(config: ExchangeConfig, event: str, exc: BaseException, **fields: Any) -> None:
    """The ``failed`` line of an operation, with why (:func:`._audit.reason`); if the
    log cannot take it, the error says so."""
    from linkage.exchange._audit import reason

    try:
        append_event(
            config.audit_log,
            event,
            **fields,
            outcome="failed",
            error=type(exc).__name__,
            reason=reason(exc),
        )
    except OSError as audit_error:
        exc.add_note(f"the audit log could not record the failure: {audit_error}")


def run(
    config: ExchangeConfig,
    *,
    ring: KeyRing | None = None,
    today: dt.date | None = None,
    invalid_numbers: InvalidNumbers = "refuse",
    max_assessment_age_days: int = 730,
    refit: bool = False,
) -> RunResult:
    """Run the exchange once and deliver the result.

    Parameters
    ----------
    config : ExchangeConfig
    ring : KeyRing, optional
        The exchange's key ring; by default the one ``config`` names.
    today : date, optional
        The date the validity window is checked against (today by default).
    invalid_numbers : {"refuse", "withhold"}
        What an invalid enterprise or establishment number does (see
        :func:`read_extracts`).
    max_assessment_age_days : int
        Size-class and in-difficulty assessments older than this are reported.
    refit : bool
        Fit new link models and re-link everything, instead of re-linking only what
        changed with the models the first delivery froze (see :mod:`._links`).

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        Outside the validity window, a withdrawn party, a key ring of another exchange.
    SchemaError
        An extract breaks the protocol schema (file, column, row named).
    """
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_id = _run_id(now)
    today = today or dt.date.today()
    audit = {"run_id": run_id, "exchange": config.exchange, "parties": list(config.parties)}
    fields: dict[str, Any] = {}
    try:
        ring = _checked_ring(config, ring, today)
        check_writable(config.audit_log)
        with D.store_lock(config.store):
            settle(config)
            refuse_withdrawn(config)
            _write_ahead(config, **audit, outcome="started")
            with returning_pool(), small_pages():
                staged = _deliver(
                    config,
                    ring,
                    run_id=run_id,
                    now=now,
                    today=today,
                    invalid_numbers=invalid_numbers,
                    max_age=max_assessment_age_days,
                    refit=refit,
                    started=started,
                )
            assert isinstance(staged, RunResult)
            fields = _audit_fields(staged.manifest, staged.path)
            _write_ahead(config, **audit, outcome="intent", **fields)  # no switch without it
            D.checkpoint("audited")
            D.publish(
                config.store, staged.path, run_id, fallback=staged.manifest["previous_run_id"]
            )
            result = RunResult(
                run_id=run_id,
                path=config.store / "deliveries" / run_id,
                manifest=staged.manifest,
            )
            try:
                append_event(config.audit_log, "run", **audit, outcome="delivered", **fields)
            except OSError as exc:  # in force, with its intent line; the next run settles it
                log.warning("%s: the run's outcome could not be logged (%s)", config.audit_log, exc)
    except BaseException as exc:
        shutil.rmtree(config.store / f".staging-{run_id}", ignore_errors=True)
        if fields and D.pointer(config.store) == run_id:  # in force: failed after its switch
            with contextlib.suppress(OSError):  # else its intent stands; the next run settles
                append_event(
                    config.audit_log,
                    "run",
                    **audit,
                    outcome="delivered",
                    error=type(exc).__name__,
                    **fields,
                )
        else:
            _log_failure(config, "run", exc, **audit)
        raise
    log.info(
        "delivered run %s: %s",
        run_id,
        {k: v["rows"] for k, v in result.manifest["outputs"].items()},
    )
    return result


def preview_refit(
    config: ExchangeConfig,
    *,
    ring: KeyRing | None = None,
    today: dt.date | None = None,
    invalid_numbers: InvalidNumbers = "refuse",
) -> FeedLinks:
    """What a refit would change, delivering nothing: the links of new models fitted on
    today's extracts against the links in force (``changes``, reason ``refit``).
    ``run(config, refit=True)`` then delivers them. Audited as ``refit preview``."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_id = _run_id(now)
    audit = {"run_id": run_id, "exchange": config.exchange}
    try:
        ring = _checked_ring(config, ring, today or dt.date.today())
        check_writable(config.audit_log)
        with D.store_lock(config.store):
            settle(config)
            refuse_withdrawn(config)
            feed = _deliver(
                config,
                ring,
                run_id=run_id,
                now=now,
                today=today or dt.date.today(),
                invalid_numbers=invalid_numbers,
                max_age=730,
                refit=True,
                started=time.perf_counter(),
                preview=True,
            )
            assert isinstance(feed, FeedLinks)
    except BaseException as exc:
        _log_failure(config, "refit preview", exc, **audit)
        raise
    append_event(config.audit_log, "refit preview", **audit, outcome="previewed", **feed.summary())
    return feed


def _without_national_numbers(
    table: pd.DataFrame, ids: tuple[str, ...], path: Path, policy: str
) -> tuple[pd.DataFrame, int]:
    """VDAB's own rows whose id (delivered in the link tables) holds a national
    register or BIS number: left out of the link and counted, or (``refuse``) refused."""
    hit = np.zeros(len(table), dtype=bool)
    for column in ids:
        found = national_number_mask(table[column].reset_index(drop=True)).to_numpy(dtype=bool)
        if found.any() and policy == "refuse":
            raise SchemaError(
                "a national register or BIS number; the protocol (art. 3) does not allow one",
                source=str(path),
                column=column,
                row=int(found.argmax()) + 1,
            )
        hit |= found
    if not hit.any():
        return table, 0
    log.warning(
        "%s: %d rows left out of the link: their id holds a national number", path, hit.sum()
    )
    return table[~hit], int(hit.sum())


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def _vdab(config: ExchangeConfig) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """VDAB's employers and sites, and how many of each were withheld for a national
    number; empty frames where the links are a linkage party's."""
    if config.employers is None or config.sites is None:
        return pd.DataFrame(), pd.DataFrame(), 0, 0
    # A Parquet file's text as Arrow's (its types are the file's either way): no
    # Python string per value. A CSV file is read as pandas reads it.
    employers = read_table(
        config.employers,
        required=("employer_id",),
        unique="employer_id",
        arrow_strings=_is_parquet(config.employers),
    )
    sites = read_table(
        config.sites,
        required=("site_id", "employer_id"),
        unique="site_id",
        arrow_strings=_is_parquet(config.sites),
    )
    policy = config.checks.national_numbers
    employers, held_employers = _without_national_numbers(
        employers, ("employer_id",), config.employers, policy
    )
    sites, held_sites = _without_national_numbers(
        sites, ("site_id", "employer_id"), config.sites, policy
    )
    return employers, sites, held_employers, held_sites


def _link(
    extracts: dict[str, pd.DataFrame],
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    delivered: dict[str, pd.DataFrame],
    previous: D.Delivery | None,
    config: ExchangeConfig,
    refit: bool,
    vdab_side: VdabSide | None = None,
) -> FeedLinks:
    return link_to_vdab(
        extracts["enterprises"],
        extracts["establishments"],
        employers,
        sites,
        delivered=delivered,
        previous=previous,
        settings=config.links,
        refit=refit,
        vdab_side=vdab_side,
    )


#: Where a run keeps its defects, and the previous report's, while it links
#: (removed before its manifest).
PENDING, EARLIER = ".defects.parquet", ".earlier.parquet"


_TEXT = pd.StringDtype("pyarrow")


def _taken(path: Path) -> pd.DataFrame:
    """A frame a run kept on disk while it linked, its text as Arrow's (the defects'
    ids, statuses and reports then take no Python string per value); the file goes."""
    frame = pq.read_table(path).to_pandas(
        types_mapper={pa.string(): _TEXT, pa.large_string(): _TEXT}.get
    )
    path.unlink()
    return frame


def _set_aside(frame: pd.DataFrame, path: Path) -> None:
    """A frame kept on disk while the run links, for :func:`_taken`: uncompressed (it
    is read back within the run and removed)."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="none")


def _as_arrow_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its columns of Python strings as Arrow's text (as :func:`_taken`
    reads them)."""
    text = [
        c
        for c in frame.columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True) in ("string", "empty")
    ]
    return frame.astype(dict.fromkeys(text, _TEXT)) if text else frame


def _defects_aside(
    staging: Path,
    extracts: Extracts,
    *,
    today: dt.date,
    max_age: int,
    vdab: tuple[pd.DataFrame, pd.DataFrame],
    previous: D.Delivery | None,
    parties: tuple[str, ...],
    ring: KeyRing,
) -> float:
    """What a run finds in the extracts alone, put on disk for after the links (on
    the second core: :class:`._aside.Aside`): the defects of the quality checks
    (``PENDING``) and the previous report's (``EARLIER``). Its seconds."""
    mark = time.perf_counter()
    reading: list[Beside[pd.DataFrame]] = []

    def read_earlier() -> None:
        # The previous report read (Arrow's CSV reader and hash sets, which let go of
        # the GIL) from when the checks' two threads are done: beside the one core
        # that classifies this run's defects and writes them. Beside the checks, they
        # took as much longer (benchmarks/runs/exchange_485k_stop39.txt).
        reading.append(
            Beside(
                earlier_defects,
                previous.path / "quality" if previous else None,
                parties,
                ring,
                extracts.tables,
                previous.run_id if previous else None,
            )
        )

    try:
        found = quality_defects(
            extracts, today=today, max_age_days=max_age, vdab=vdab, then=read_earlier
        )
    except BaseException:
        for each in reading:
            each.cancel()  # waited for: the staging folder goes after
        raise
    earlier = reading[0]
    try:
        _set_aside(found, staging / PENDING)
    except BaseException:
        earlier.cancel()  # waited for: the staging folder goes after
        raise
    del found
    _set_aside(earlier.result(), staging / EARLIER)
    return time.perf_counter() - mark


def _quality(
    staging: Path,
    headers: dict[tuple[str, str], dict[str, str]],
    enterprises: pd.DataFrame,
    delivered: pd.DataFrame,
    feed: FeedLinks,
    employers: pd.DataFrame,
    removed: tuple[dict[str, pd.DataFrame], KeyRing] | None = None,
) -> pd.DataFrame:
    """The defects found before linking (less those about records an erasure
    ``removed``), and those the links show (art. 8, inaccurate: VDAB's linked employer
    disagrees with the sender; not where VDAB's records are not here, links given by
    a linkage party)."""
    first = _taken(staging / PENDING)
    if removed is not None:
        first = without_records(first, *removed)
    linked = classified(
        vdab_disagreements(
            enterprises,
            delivered,
            feed.tables["links_enterprises"],
            employers,
            rows=feed.rows.get("links_enterprises"),
        )
        if len(employers.columns)
        else []
    )
    names = Extracts(tables={}, inputs=[], dropped=[], defects=linked, headers=headers)
    linked["column"] = names.as_sent(linked)
    linked = _as_arrow_text(linked)
    both = pd.concat([p for p in (first, linked) if len(p)] or [first], ignore_index=True)
    return both.sort_values(["party", "table", "row", "column"], kind="stable", ignore_index=True)


#: The delivered tables whose text is mostly the linked extracts'.
_LINKED = ("enterprises", "establishments")

#: What the quality pass reads of the enterprises as linked (:func:`vdab_disagreements`).
_COMPARED = ("enterprise_number", "party", "_file", "_row", "postcode")


def _as_linked(frame: pd.DataFrame, config: ExchangeConfig, name: str) -> pd.DataFrame:
    """The columns of an extract that its link (the spec's id and sources, the
    parent's number, the party) and the quality pass after it read; the others are
    let go before the links are made."""
    if name not in config.links:
        return frame
    spec = config.links[name].spec
    sources = (c for f in spec.fields for c in f.source_for("left"))
    wanted = {spec.left_id, "enterprise_number", *sources, *_COMPARED}
    return frame[[c for c in frame.columns if c in wanted]]


def _write_each(
    staging: Path,
    tables: dict[str, pd.DataFrame],
    *,
    metadata: dict[bytes, bytes],
    then: Callable[[str, pa.Table], None],
    workers: int = 1,
    within_largest: bool = False,
) -> dict[str, dict[str, Any]]:
    """:func:`._delivery.write_tables` of ``workers`` tables at a time, each taken out
    of ``tables`` (emptied) as its write starts and so let go once sorted. The
    enterprises and establishments go last: their text is the linked extracts', held
    anyway, so the others' is let go before their writes (their sort and diff copies
    are the largest). With ``within_largest`` (a re-run: its diffs hold copies too),
    the largest go first, and a write waits until the tables being written and its
    own are no larger than the largest alone. The writes not started when a failure
    is found are not made. What was written, in the order of ``tables``."""
    order = list(tables)
    size = {name: int(frame.memory_usage(index=False).sum()) for name, frame in tables.items()}
    budget = max(size.values(), default=0) if within_largest else None
    held = 0  # the size of the tables being written
    failed = False
    room = threading.Condition()

    def fits(name: str) -> bool:
        return failed or budget is None or not held or held + size[name] <= budget

    def one(name: str) -> dict[str, dict[str, Any]]:
        nonlocal held, failed
        with room:
            room.wait_for(lambda: fits(name))
            if failed:
                return {}  # not started: another failed (raised by its own job)
            held += size[name]
        try:
            return D.write_tables(
                staging,
                {name: tables.pop(name)},
                metadata=metadata,
                then=then,
                checkpoints=False,
                workers=1,
                let_go=True,
            )
        except BaseException:
            failed = True
            raise
        finally:
            with room:
                held -= size[name]
                room.notify_all()

    def first(name: str) -> tuple[bool, int]:
        return name in _LINKED, -size[name] if within_largest else 0

    written: dict[str, dict[str, Any]] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="write-each")
    try:
        jobs = [pool.submit(one, name) for name in sorted(order, key=first)]
        for job in jobs:
            written.update(job.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {name: written[name] for name in order}


def _write_links(
    staging: Path,
    feed: FeedLinks,
    *,
    metadata: dict[bytes, bytes],
    then: Callable[[str, pa.Table], None],
    state: bool,
) -> dict[str, dict[str, Any]]:
    """The links' tables (:func:`._delivery.write_tables`) and, with ``state``, the
    next run's (not for a linkage party's links); what was written."""
    outputs = D.write_tables(staging, feed.tables, metadata=metadata, then=then, checkpoints=False)
    if state:
        write_state(staging, feed)
    return outputs


def _deliver(
    config: ExchangeConfig,
    ring: KeyRing,
    *,
    run_id: str,
    now: dt.datetime,
    today: dt.date,
    invalid_numbers: InvalidNumbers,
    max_age: int,
    refit: bool,
    started: float,
    preview: bool = False,
) -> RunResult | FeedLinks:
    """Build a run's delivery in ``.staging-<run id>`` (see :func:`run`), whole and
    described by its manifest, for :func:`run` to switch to; with ``preview``, stop
    after linking and return the links, delivering nothing."""
    timings: dict[str, float] = {}
    # Before any work: the delivery this run builds on, its hashes checked.
    previous = D.read_delivery(config.store, hashes=True, config_file=config.source)
    roles = load_roles(config.roles) if config.roles is not None else None  # art. 4
    mark = time.perf_counter()
    vdab = Beside(_vdab, config)  # VDAB's files read beside the extracts
    try:
        extracts = read_extracts(config, invalid_numbers=invalid_numbers)
        D.checkpoint("read")
    except BaseException:
        vdab.cancel()
        raise
    policy = config.checks.national_numbers
    employers, sites, held_employers, held_sites = vdab.result()
    del vdab
    given = {n: read_given(p, n, policy) for n, p in config.given.items()}
    timings["read_validate"] = time.perf_counter() - mark
    give_back()
    staging = config.store / f".staging-{run_id}"
    aside: Aside[float] | None = None
    asides: list[Aside[Any] | Beside[Any]] = []
    if not preview:  # the quality checks on the second core while the run goes on
        staging.mkdir()
        aside = Aside(
            _defects_aside,
            staging,
            extracts,
            today=today,
            max_age=max_age,
            vdab=(employers, sites),
            previous=previous,
            parties=config.parties,
            ring=ring,
        )
        asides.append(aside)
        give_back()  # what the quality checks made and let go (run here, unforked)
    box = [extracts]  # the only reference: let go in _deliver_on before the links
    del extracts
    try:
        return _deliver_on(
            config,
            ring,
            aside=aside,
            asides=asides,
            staging=staging,
            box=box,
            previous=previous,
            roles=roles,
            employers=employers,
            sites=sites,
            held=(held_employers, held_sites),
            given=given,
            run_id=run_id,
            now=now,
            refit=refit,
            started=started,
            timings=timings,
            preview=preview,
        )
    except BaseException:
        for each in asides:
            each.cancel()
        raise


def _deliver_on(
    config: ExchangeConfig,
    ring: KeyRing,
    *,
    aside: Aside[float] | None,
    asides: list[Aside[Any] | Beside[Any]],
    staging: Path,
    box: list[Extracts],
    previous: D.Delivery | None,
    roles: Any,
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    held: tuple[int, int],
    given: dict[str, pd.DataFrame],
    run_id: str,
    now: dt.datetime,
    refit: bool,
    started: float,
    timings: dict[str, float],
    preview: bool,
) -> RunResult | FeedLinks:
    """:func:`_deliver` once the extracts are read (``box``: them, its only reference;
    ``aside``: their defects, being found on the second core; ``asides``: every work
    put aside, which a failure cancels)."""
    held_employers, held_sites = held
    extracts = box.pop()
    # A newer key version than the delivery in force: deliver the crosswalks, and
    # compare through them (re-keyed rows are not removed and added); from the
    # extracts before they are shaped (and let go).
    old_version = previous.manifest["key"]["version"] if previous else ring.current
    walks = (
        crosswalks(extracts.tables, ring, old=old_version, new=ring.current)
        if old_version != ring.current and not preview
        else {}
    )
    mark = time.perf_counter()
    # VDAB's side of the links is made in a thread (one core) beside the shaping,
    # which leaves the other core idle (it hashes, holding the GIL). A re-run holds it
    # through its writes' diffs: 1.4-3.1 s faster, peaks 1,790,444-1,900,444 KiB with
    # the command line's two heaps (benchmarks/runs/exchange_485k_stop36.txt).
    vdab_side: Beside[VdabSide] | None = None
    if not can_fork() and not preview and len(employers.columns) and not given:
        vdab_side = Beside(prepare_vdab_side, employers, sites, config.links, threads=1)
        asides.append(vdab_side)
    # The dossiers', contacts' and staff extracts are let go as they are shaped.
    # Keys as codes until written, unless kept rules read them as text first.
    tables = dict(
        shaped(
            extracts.tables,
            ring,
            known=known_keys(previous, ring.current),
            lazy=not has_rules(config.store),
        )
    )
    timings["pseudonymise"] = time.perf_counter() - mark
    D.checkpoint("pseudonymised")
    if preview:
        if given:
            raise ConfigError(
                "the links are a linkage party's ([vdab] links_*): there is no model to refit"
            )
        return _link(extracts.tables, employers, sites, tables, previous, config, refit)
    # Erasures and rectifications of subject requests, until the sender has made them.
    kept = apply_kept(config.store, tables, ring, walks)
    answered = None
    if kept is not None:
        tables = kept.applied.tables
        # A sender's correction (exchange correct) answers its field's defects until
        # the extract carries it: found on the extract again, they are not reopened.
        answered = answered_fields(kept.live, tables)
    # What is written now is let go before the links are made: the run's peak.
    mark = time.perf_counter()
    # The defects wait on disk while the links are made (the run's peak is the link's);
    # the linkage adds its own pass to them after.
    headers = extracts.headers
    rekeyed = write_crosswalks(staging, walks) if walks else None
    purposes = config.purposes.as_dict()  # art. 12: in the manifest and in every table
    # Each table is diffed against the delivery in force as it is written (through the
    # crosswalks if re-keyed), not read back after.
    diffs: dict[str, dict[str, int]] = {}
    through = (lambda old: rekey(old, walks)) if walks else None

    def compare(name: str, table: pa.Table) -> None:
        diffs[name] = D.diff_table(previous, name, table, through=through)

    def write(
        tables: dict[str, pd.DataFrame], workers: int = 1, within_largest: bool = False
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, int]]]:
        written = _write_each(
            staging,
            tables,
            metadata=file_metadata(purposes),
            then=compare,
            workers=workers,
            within_largest=within_largest,
        )
        return written, diffs

    # What the links and their quality pass read of the delivered records: keys,
    # numbers and parties (the rest is let go before the links are made).
    keys = {
        name: tables[name][[f"{name[:-1]}_key", f"{name[:-1]}_number", "party"]]
        for name in ("enterprises", "establishments")
    }
    linked = {name: extracts.tables[name] for name in ("enterprises", "establishments")}
    if kept is not None:
        linked = {
            name: aligned(frame, kept.applied, name, f"{name[:-1]}_number")
            for name, frame in linked.items()
        }
    linked = {name: _as_linked(frame, config, name) for name, frame in linked.items()}
    inputs, dropped = extracts.inputs, extracts.dropped
    del extracts  # the extracts not linked are let go before the tables are written
    give_back()
    # The tables are written and diffed, each let go once written: all of them in a
    # child while the links are made, if forked; else those whose text is theirs
    # alone here, first, and the enterprises and establishments (their text is the
    # linked extracts', held anyway) in a thread beside the links.
    writings: list[Aside[Any] | Beside[Any]]
    if can_fork():
        writings = [Aside(write, tables)]
    else:
        beside = {name: tables.pop(name) for name in _LINKED}
        # Two tables at a time; where they are diffed (a re-run: the diffs hold
        # copies), no more of them at once than the largest alone.
        writings = [Aside(write, tables, 2, previous is not None), Beside(write, beside)]
        del beside
    asides.extend(writings)
    del tables
    give_back()
    timings["deliver"] = time.perf_counter() - mark
    feed = (
        given_links(given, keys, previous)
        if given
        else _link(
            linked,
            employers,
            sites,
            keys,
            previous,
            config,
            refit,
            vdab_side.result() if vdab_side is not None else None,
        )
    )
    if vdab_side is not None:  # let go: its thread's future holds it
        asides.remove(vdab_side)
        del vdab_side
    # What only the links read is let go before the quality pass (a peak of its own).
    linked, keys = {"enterprises": linked["enterprises"]}, {"enterprises": keys["enterprises"]}
    timings.update(feed.timings)
    mark = time.perf_counter()
    made: dict[str, dict[str, Any]] = {}
    for writing in writings:
        written, differences = writing.result()
        made.update(written)
        diffs.update(differences)
    outputs = {name: made[name] for name in TABLES}
    timings["deliver"] += time.perf_counter() - mark
    for name in outputs:
        D.checkpoint(f"wrote {name}")
    D.checkpoint("linked")
    # The links' tables and the next run's state are written (Arrow lets go of the
    # GIL) while the quality pass runs here.
    linking = Beside(
        _write_links,
        staging,
        feed,
        metadata=file_metadata(purposes),
        then=compare,
        state=not given,  # a linkage party's links keep no state here
    )
    asides.append(linking)
    assert aside is not None
    timings["quality"] = aside.result()  # the defects are on disk
    give_back()  # what the links made and let go
    mark = time.perf_counter()
    removed = (kept.applied.removed, ring) if kept is not None else None
    found = _quality(
        staging, headers, linked["enterprises"], keys["enterprises"], feed, employers, removed
    )
    if answered is not None and len(answered):
        found = found[~corrected(found, answered, ring, protocol_names(config))]
        found = found.reset_index(drop=True)
    earlier = _taken(staging / EARLIER)
    if kept is not None:  # erased: its defects are withdrawn
        earlier.loc[records_about(earlier, kept.applied.removed, ring), "sent"] = False
    found, closed = with_status(found, earlier, ring, run_id)
    del earlier
    quality = write_quality(
        staging / "quality", found, parties=config.parties, run_id=run_id, closed=closed
    )
    quality_status = status_summary(found, closed, config.parties)
    del found, closed
    timings["quality"] += time.perf_counter() - mark
    mark = time.perf_counter()
    links = linking.result()
    for name in links:  # here, not in its thread: a kill there stops the run's work
        D.checkpoint(f"wrote {name}")
    outputs.update(links)
    granted = write_access(staging, roles) if roles is not None else None
    changes = {name: diffs[name] for name in outputs}
    read_from: list[tuple[str, Path | None, int]] = [
        (f"links_{n}", p, len(given[n])) for n, p in config.given.items()
    ] or [("employers", config.employers, len(employers)), ("sites", config.sites, len(sites))]
    vdab_inputs = [
        {
            "party": "VDAB",
            "table": name,
            "file": str(path),
            "sha256": sha256_file(path),
            "rows": rows,
        }
        for name, path, rows in read_from
        if path is not None
    ]
    manifest = {
        "format": FORMAT,
        "format_version": 1,
        "run_id": run_id,
        "created": now.isoformat(),
        "exchange": config.exchange,
        "protocol": config.protocol,
        "validity": config.validity.as_dict(),
        "parties": list(config.parties),
        "purposes": purposes,
        "key": {
            "exchange": ring.exchange,
            "version": ring.current,
            **({"rekeyed_from": old_version, "crosswalk_rows": rekeyed} if rekeyed else {}),
        },
        "library": f"linkage {__version__}",
        "inputs": [*inputs, *vdab_inputs],
        "minimisation": {"dropped": dropped},
        "vdab_withheld": {"employers": held_employers, "sites": held_sites},
        "outputs": outputs,
        "links": {
            "enterprises": int(feed.tables["links_enterprises"]["enterprise_key"].nunique()),
            "establishments": int(
                feed.tables["links_establishments"]["establishment_key"].nunique()
            ),
            **feed.summary(),
        },
        "quality": quality,
        "quality_status": quality_status,
        **({"subjects": kept.summary()} if kept is not None else {}),
        **({"roles": granted} if granted is not None else {}),
        "previous_run_id": previous.run_id if previous else None,
        "changes": changes,
        "timings": {},
    }
    if previous is not None and previous.fallback_from is not None:
        manifest["fallback_from"] = previous.fallback_from
    timings["deliver"] += time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    manifest["files"] = D.describe_files(staging, outputs)
    D.write_json(staging / D.MANIFEST, manifest)
    D.checkpoint("manifest")
    return RunResult(run_id=run_id, path=staging, manifest=manifest)
