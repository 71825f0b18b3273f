"""``linkage exchange verify``: check the whole store, and repair what can be.

It checks the delivery in force and the fallback (every file's size and sha256
against its manifest), the withdrawals (a purge interrupted, or incomplete) and the
audit log (an intent left without its outcome). With ``repair``, under the store's
lock:

* an interrupted purge is finished, and the audit intents left without outcome
  get theirs (:func:`settle`, what every run does first);
* a damaged delivery in force is set aside in ``damaged/<run id>`` (for a person
  to look at, then delete; a purge or subject request removes it) and the
  fallback, if it verifies, is put in force; if none does, nothing is in force and
  the next run delivers anew (fitting new link models, as a first delivery does);
* a damaged fallback is set aside;
* files and folders whose access is not the configuration's (``0600``/``0700``,
  or ``0640``/``0750`` and ``[output] group``) are given it.

A repair that changes the delivery in force is audited write-ahead, as a run is.
Every check is logged (``"event": "verify"``, what was found and repaired; a
check refused or failed with its ``"reason"``).
What it cannot repair (an incomplete purge: files it cannot prove clean; a damaged
``withdrawn.json``) is said with the command or step that does.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._access import protect, unprotected
from linkage.exchange._audit import append_event, check_writable, dangling, read_events, reason
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._purge import PurgeReport, finish_pending, withdrawn_parties

__all__ = ["StoreCheck", "settle", "verify_store"]

log = logging.getLogger(__name__)


def settle(config: ExchangeConfig) -> list[PurgeReport]:
    """Make the store whole after an interruption, under its lock: finish every
    pending purge (:func:`._purge.finish_pending`), then give each start or intent
    the audit log holds without an outcome the outcome the store shows. A delivery
    (a run's, a subject request's) in force, or built on by the one in force, was
    delivered; any other was not. A purge is what its withdrawal record says; a
    repair, whether the delivery it meant to put in force is. The store is given
    the configuration's access first (:func:`._delivery.protect`). The purges
    finished."""
    protect(config.store, config.group)
    reports = finish_pending(config)
    in_force = D.pointer(config.store)
    built_on = None
    if in_force:
        delivery, _ = D.open_delivery(config.store, in_force, hashes=False)
        built_on = delivery.manifest.get("previous_run_id") if delivery else None
    records = withdrawn_parties(config.store)
    late = {"recorded": "after an interruption"}
    for intent in dangling(config.audit_log):
        event = str(intent.get("event"))
        if "purge_id" in intent:
            status = {
                r.get("status") for r in records.values() if r.get("purge_id") == intent["purge_id"]
            }
            outcome = "complete" if status == {"complete"} else "incomplete"
            about = {"purge_id": intent["purge_id"], "parties": intent.get("parties")}
        elif "repair_id" in intent:
            outcome = "repaired" if in_force == intent.get("in_force") else "failed"
            about = {"repair_id": intent["repair_id"]}
        else:  # a run, or a subject request: a delivery of its own id
            key = "run_id" if "run_id" in intent else "request_id"
            delivered = intent[key] in (in_force, built_on)
            outcome = "delivered" if delivered else "failed"
            about = {key: intent[key], **({} if delivered else {"error": "interrupted"})}
        append_event(config.audit_log, event, **about, outcome=outcome, **late)
    return reports


@dataclass(frozen=True, kw_only=True)
class StoreCheck:
    """What :func:`verify_store` found and did."""

    store: Path
    in_force: str | None
    checked: tuple[str, ...]
    problems: tuple[str, ...]
    repaired: tuple[str, ...] = ()
    left: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True if nothing is left to do (nothing found, or all of it repaired)."""
        return not self.left

    def summary(self) -> str:
        lines = [f"store {self.store}: delivery in force {self.in_force or '(none)'}"]
        lines.extend(f"  {line}" for line in self.checked)
        lines.extend(f"problem: {line}" for line in self.problems)
        lines.extend(f"repaired: {line}" for line in self.repaired)
        lines.extend(f"left: {line}" for line in self.left)
        lines.append("sound" if self.ok and not self.problems else "repaired" if self.ok else "")
        return "\n".join(line for line in lines if line)


def _files(delivery: D.Delivery) -> int:
    return len(delivery.manifest.get("files") or delivery.manifest["outputs"])


def verify_store(config: ExchangeConfig, *, repair: bool = False) -> StoreCheck:
    """Check the store of ``config``; with ``repair``, repair it (module docstring).
    Logged in the audit log (``"event": "verify"``), refused or failed with why.

    Raises
    ------
    ConfigError
        Another process holds the store; a repair whose audit line cannot be written.
    """
    try:
        check = _verify(config, repair=repair)
    except Exception as exc:
        try:
            append_event(
                config.audit_log,
                "verify",
                repair=repair,
                outcome="failed",
                error=type(exc).__name__,
                reason=reason(exc),
            )
        except OSError as audit_error:
            exc.add_note(f"and the audit log could not record it: {audit_error}")
        raise
    outcome = "sound" if check.ok and not check.problems else "repaired" if check.ok else "left"
    try:
        append_event(
            config.audit_log,
            "verify",
            repair=repair,
            outcome=outcome,
            in_force=check.in_force,
            problems=len(check.problems),
            repaired=len(check.repaired),
            left=len(check.left),
        )
    except OSError as exc:  # a check that changed nothing stands without its line
        log.warning("%s: the check could not be logged (%s)", config.audit_log, exc)
    return check


def _verify(config: ExchangeConfig, *, repair: bool) -> StoreCheck:
    store, source = config.store, config.source or "EXCHANGE.toml"
    again = f"repair: {D.repair_command(config.source)}"
    checked: list[str] = []
    problems: list[str] = []
    repaired: list[str] = []
    left: list[str] = []
    with D.store_lock(store):
        if repair:
            check_writable(config.audit_log)
        wrong = unprotected(store, config.group)
        if wrong:
            access = f"0640/0750, group {config.group}" if config.group else "0600/0700"
            problems.append(
                f"{len(wrong):,} files or folders of the store are not {access}: "
                + ", ".join(wrong[:3])
                + (", ..." if len(wrong) > 3 else "")
            )
            if repair:  # settle gives them the configuration's access
                repaired.append(f"gave {len(wrong):,} files or folders the store's access")
            else:
                left.append(again)
        try:
            if repair:
                for report in settle(config):
                    state = "nothing left" if report.complete else "NOT COMPLETE"
                    repaired.append(f"finished the interrupted purge {report.purge_id}: {state}")
            records = withdrawn_parties(store)
        except ConfigError as exc:
            named = {
                p
                for e in read_events(config.audit_log)
                if e.get("event") == "purge"
                for p in e.get("parties") or ()
            }
            problems.append(str(exc))
            left.append(
                "restore withdrawn.json from a backup (the audit log's purges name "
                f"{', '.join(sorted(named)) or 'no party'})"
            )
            records = {}
        for party, record in sorted(records.items()):
            status = record.get("status", "complete")
            checked.append(f"withdrawal of {party} ({record.get('purge_id')}): purge {status}")
            if status == "pending":
                problems.append(f"the purge of {party} was interrupted")
                left.append(again)
            elif status == "incomplete":
                problems.append(f"the purge of {party} left {'; '.join(record.get('left', []))}")
                left.append(
                    f"remove what the purge of {party} left, then run linkage exchange purge "
                    f"--config {source} --party {party}"
                )
        for intent in dangling(config.audit_log):
            name = next(intent[k] for k in ("run_id", "purge_id", "repair_id") if k in intent)
            problems.append(f"audit: {intent['event']} {name} has its intent but no outcome")
            left.append(again)
        in_force = D.pointer(store)
        spare = D.pointer(store, D.PREVIOUS)
        current, why = (
            (None, None) if in_force is None else D.open_delivery(store, in_force, hashes=True)
        )
        fallback, spare_why = (
            (None, None)
            if spare is None or spare == in_force
            else D.open_delivery(store, spare, hashes=True)
        )
        if current is not None:
            checked.append(f"delivery {in_force} (in force): {_files(current)} files, sha256 match")
        if fallback is not None:
            checked.append(f"delivery {spare} (fallback): {_files(fallback)} files, sha256 match")
        if spare_why is not None:
            problems.append(f"delivery {spare or '(previous)'} (fallback): {spare_why}")
            if repair:
                moved = D.set_aside(store, spare) if spare else None
                D.drop_fallback(store)
                repaired.append(f"set the damaged fallback aside{f' in {moved}' if moved else ''}")
            else:
                left.append(again)
        if why is not None:
            problems.append(f"delivery {in_force or '(current)'} (in force): {why}")
            if repair:
                in_force = _repair(config, in_force or "", fallback, repaired)
            else:
                left.append(again)
    return StoreCheck(
        store=store,
        in_force=in_force,
        checked=tuple(checked),
        problems=tuple(problems),
        repaired=tuple(repaired),
        left=tuple(dict.fromkeys(left)),
    )


def _repair(
    config: ExchangeConfig, run_id: str, fallback: D.Delivery | None, repaired: list[str]
) -> str | None:
    """Set the damaged delivery in force aside; put the fallback in force, or none.
    Audited write-ahead. The run id now in force."""
    store = config.store
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    repair_id = f"repair-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    target = fallback.run_id if fallback is not None else None
    check_writable(config.audit_log)
    audit = {"repair_id": repair_id, "damaged": run_id or None, "in_force": target}
    append_event(config.audit_log, "repair", **audit, outcome="intent")
    D.checkpoint("repair audited")
    moved = D.set_aside(store, run_id) if run_id else None
    D.switch_to(store, target)
    D.checkpoint("repaired")
    append_event(config.audit_log, "repair", **audit, outcome="repaired", set_aside=moved)
    where = f" in {moved}" if moved else ""
    repaired.append(f"set the damaged delivery {run_id or '(current)'} aside{where}")
    if target is not None:
        repaired.append(f"put the last good delivery, {target}, in force")
    else:
        repaired.append(
            "no good delivery is left, so none is in force: run linkage exchange run --config "
            f"{config.source or 'EXCHANGE.toml'} to deliver anew (new link models are fitted)"
        )
    return target
