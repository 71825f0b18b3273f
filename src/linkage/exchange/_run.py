"""One run of the exchange: read, validate, minimise, pseudonymise, link, deliver.

A run is all or nothing: it builds the whole delivery beside the one in force and
switches to it only when everything is written (see :mod:`._delivery`). Every run,
refused, failed or delivered, leaves one line in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from linkage._version import __version__
from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._audit import append_event
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._extract import InvalidNumbers, read_extracts, sha256_file
from linkage.exchange._links import FeedLinks, link_to_vdab, write_state
from linkage.exchange._quality import quality_defects, write_quality
from linkage.exchange._rekey import crosswalks, rekey, write_crosswalks
from linkage.exchange._shape import shape
from linkage.io import read_table
from linkage.keys import KeyRing

__all__ = ["RunResult", "load_ring", "preview_refit", "run"]

log = logging.getLogger(__name__)

FORMAT = "linkage-exchange-delivery"
WITHDRAWN = "withdrawn.json"


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
        fitted = "frozen" if all(x["frozen"] for x in models.values()) else "fitted on this run"
        return "\n".join(
            [
                f"run {self.run_id}: delivered to {self.path}",
                f"tables: {counts}",
                f"changes since {m['previous_run_id'] or 'nothing (first delivery)'}: {changes}",
                f"columns dropped (not in art. 3): {', '.join(dropped) or 'none'}",
                f"links changed, by reason: {moved or 'none'} (models {fitted})",
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
    """Refuse outside the validity window; the key ring, which must be this exchange's."""
    config.validity.check(today)
    ring = ring if ring is not None else load_ring(config)
    if ring.exchange != config.exchange:
        raise ConfigError(
            f"the key ring is for exchange {ring.exchange!r}, the "
            f"configuration for {config.exchange!r}"
        )
    return ring


def _run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def withdrawn_parties(store: Path) -> dict[str, Any]:
    path = store / WITHDRAWN
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _check_withdrawn(config: ExchangeConfig) -> None:
    gone = withdrawn_parties(config.store)
    sending = sorted(set(config.parties) & gone.keys())
    if sending:
        raise ConfigError(
            f"{', '.join(sending)} withdrew (purged on {gone[sending[0]]['time']}): remove "
            f"them from parties and [extracts], or, if they re-joined under a renewed "
            f"protocol, delete {config.store / WITHDRAWN}"
        )


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
    try:
        ring = _checked_ring(config, ring, today)
        with D.store_lock(config.store):
            _check_withdrawn(config)
            result = _deliver(
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
            assert isinstance(result, RunResult)
    except BaseException as exc:
        shutil.rmtree(config.store / f".staging-{run_id}", ignore_errors=True)
        append_event(config.audit_log, "run", **audit, outcome="failed", error=type(exc).__name__)
        raise
    m = result.manifest
    append_event(
        config.audit_log,
        "run",
        **audit,
        outcome="delivered",
        key_version=m["key"]["version"],
        previous_run_id=m["previous_run_id"],
        rows={k: v["rows"] for k, v in m["outputs"].items()},
        changes=m["changes"],
        inputs=[i["sha256"] for i in m["inputs"]],
        manifest_sha256=sha256_file(result.path / D.MANIFEST),
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
        with D.store_lock(config.store):
            _check_withdrawn(config)
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
        append_event(
            config.audit_log, "refit preview", **audit, outcome="failed", error=type(exc).__name__
        )
        raise
    append_event(config.audit_log, "refit preview", **audit, outcome="previewed", **feed.summary())
    return feed


def _give_back() -> None:
    """Return the memory Arrow freed (the readers' buffers, tables let go) to the
    system, so that the peak of a run is what it holds, not what it once held."""
    pa.default_memory_pool().release_unused()


def _link(
    extracts: dict[str, pd.DataFrame],
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    delivered: dict[str, pd.DataFrame],
    previous: D.Delivery | None,
    config: ExchangeConfig,
    refit: bool,
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
    )


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
    """Deliver a run (see :func:`run`); with ``preview``, stop after linking and
    return the links, delivering nothing."""
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    extracts = read_extracts(config, invalid_numbers=invalid_numbers)
    D.checkpoint("read")
    employers = read_table(config.employers, required=("employer_id",), unique="employer_id")
    sites = read_table(config.sites, required=("site_id", "employer_id"), unique="site_id")
    timings["read_validate"] = time.perf_counter() - mark
    _give_back()
    mark = time.perf_counter()
    defects = quality_defects(extracts, today=today, max_age_days=max_age)
    timings["quality"] = time.perf_counter() - mark
    mark = time.perf_counter()
    tables = shape(extracts.tables, ring)
    timings["pseudonymise"] = time.perf_counter() - mark
    D.checkpoint("pseudonymised")
    previous = D.read_delivery(config.store)
    if preview:
        return _link(extracts.tables, employers, sites, tables, previous, config, refit)
    # A newer key version than the delivery in force: deliver the crosswalks, and
    # compare through them (re-keyed rows are not removed and added).
    old_version = previous.manifest["key"]["version"] if previous else ring.current
    walks = (
        crosswalks(extracts.tables, ring, old=old_version, new=ring.current)
        if old_version != ring.current
        else {}
    )
    # What is written now is let go before the links are made: the run's peak.
    mark = time.perf_counter()
    staging = config.store / f".staging-{run_id}"
    staging.mkdir()
    quality = write_quality(staging / "quality", defects, parties=config.parties, run_id=run_id)
    del defects
    rekeyed = write_crosswalks(staging, walks) if walks else None
    outputs = D.write_tables(staging, tables)
    keys = {name: tables[name] for name in ("enterprises", "establishments")}
    del tables
    linked = {name: extracts.tables[name] for name in ("enterprises", "establishments")}
    inputs, dropped = extracts.inputs, extracts.dropped
    del extracts
    _give_back()
    timings["deliver"] = time.perf_counter() - mark
    feed = _link(linked, employers, sites, keys, previous, config, refit)
    timings.update(feed.timings)
    D.checkpoint("linked")
    mark = time.perf_counter()
    outputs.update(D.write_tables(staging, feed.tables))
    write_state(staging, feed)
    written = D.Delivery(run_id=run_id, path=staging, manifest={"outputs": outputs})
    changes = D.diff_deliveries(
        previous, written, through=(lambda old: rekey(old, walks)) if walks else None
    )
    vdab_inputs = [
        {
            "party": "VDAB",
            "table": name,
            "file": str(path),
            "sha256": sha256_file(path),
            "rows": rows,
        }
        for name, path, rows in (
            ("employers", config.employers, len(employers)),
            ("sites", config.sites, len(sites)),
        )
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
        "key": {
            "exchange": ring.exchange,
            "version": ring.current,
            **({"rekeyed_from": old_version, "crosswalk_rows": rekeyed} if rekeyed else {}),
        },
        "library": f"linkage {__version__}",
        "inputs": [*inputs, *vdab_inputs],
        "minimisation": {"dropped": dropped},
        "outputs": outputs,
        "links": {
            "enterprises": int(feed.tables["links_enterprises"]["enterprise_key"].nunique()),
            "establishments": int(
                feed.tables["links_establishments"]["establishment_key"].nunique()
            ),
            **feed.summary(),
        },
        "quality": quality,
        "previous_run_id": previous.run_id if previous else None,
        "changes": changes,
        "timings": {},
    }
    timings["deliver"] += time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    D.write_json(staging / D.MANIFEST, manifest)
    D.checkpoint("manifest")
    D.publish(config.store, staging, run_id)
    path = config.store / "deliveries" / run_id
    log.info("delivered run %s: %s", run_id, {k: v["rows"] for k, v in outputs.items()})
    return RunResult(run_id=run_id, path=path, manifest=manifest)
