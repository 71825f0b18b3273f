"""Withdrawal and end of the protocol (art. 3): purge a party's data, or all of it.

"Bij het uittreden van VLAIO of TBT ... verwijdert VDAB onmiddellijk alle ontvangen
gegevens van deze uittredende partij"; at the end of the protocol, everything. A
purge makes a new delivery without the party's records (every record carries its
sending party) and its quality report, swaps it in atomically and removes every
other delivery; ``--all`` removes every delivery. It removes every other copy the
tool made too (:mod:`._copies`): the party's extract files (a ``mixed`` file
rewritten without its rows), its subject requests' data in the store and the
outputs they wrote outside it, and what interrupted operations left (staging
folders). The report proves it: rows per table and party before and after, each
file removed or rewritten, and a scan (:mod:`._scan`) of every file of the store,
of the extract paths and of the registered outputs, each with what it found.

Crash-consistent, in this order:

1. the withdrawal is recorded first, durably (``withdrawn.json``, status
   ``pending``): from then on no run delivers the party, whatever happens next;
2. the audit intent (:mod:`._audit`): a log that cannot be written stops here,
   the withdrawal recorded and its purge pending;
3. the purge of the deliveries. A delivery in force that is damaged gives way to
   the last good one (the purge builds on that one and says so); if none can be
   read whole, or the new delivery cannot be written (a full disk), every delivery
   is removed: a withdrawal puts erasure before availability, and the report says
   to run again;
4. the other copies: extracts, subject data, registered outputs (each step can be
   run again);
5. the scan (a file it cannot read, or that has no ``party`` column, cannot be
   proved clean and leaves the purge incomplete);
6. the withdrawal's status (``complete`` or ``incomplete``), the report, the audit
   outcome.

A purge killed or failed after step 1 is finished by the next run, purge or
``exchange verify --repair`` (:func:`finish_pending`), under the same purge id. A
run refuses while a purge is incomplete, naming what is left and the command. A
purge refused before step 1 (an unknown party, the store busy) and one that fails
after it log why (``"reason"``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._access import follow, protect
from linkage.exchange._audit import append_event, reason
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._copies import remove_copies
from linkage.exchange._links import carry_state
from linkage.exchange._scan import read_outputs, scan, scan_store

__all__ = [
    "PurgeReport",
    "finish_pending",
    "purge",
    "refuse_withdrawn",
    "scan_store",
    "withdrawn_parties",
]

log = logging.getLogger(__name__)

WITHDRAWN = D.WITHDRAWN


def withdrawn_parties(store: Path) -> dict[str, Any]:
    """The withdrawal records: party to ``time``, ``purge_id``, ``everything`` and
    ``status`` (``pending``, ``complete``, ``incomplete``; a record written before
    statuses existed is complete)."""
    path = store / WITHDRAWN
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, OSError):
        records = None
    if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
        raise ConfigError(
            "damaged (not the JSON of withdrawal records): it says which parties "
            "withdrew, so nothing runs until it is restored; the audit log's purge "
            "lines name them",
            source=str(path),
        )
    return records


def _record(store: Path, parties: tuple[str, ...], **fields: Any) -> None:
    """Set the withdrawal records of ``parties`` (the first ``time`` stays), durably."""
    records = withdrawn_parties(store)
    for party in parties:
        records[party] = {**fields, "time": records.get(party, {}).get("time", fields["time"])}
    D.write_json(store / WITHDRAWN, records)


def _command(config: ExchangeConfig, parties: tuple[str, ...], everything: bool) -> str:
    which = "--all" if everything else f"--party {parties[0]}"
    return f"linkage exchange purge --config {config.source or 'EXCHANGE.toml'} {which}"


@dataclass(frozen=True, kw_only=True)
class PurgeReport:
    """Counts before and after, every file removed or rewritten beyond the
    deliveries (``files``: ``file``, ``what``, ``action``), the scan after the purge
    (``scan["files"]``: every file it read, with what it found), and notes on what
    the purge had to do beyond the usual (a damaged store, a full disk)."""

    purge_id: str
    parties: tuple[str, ...]
    everything: bool
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]
    files: tuple[dict[str, str], ...] = ()
    scan: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    resumed: bool = False

    @property
    def complete(self) -> bool:
        """True if the scan found nothing of the purged parties, and nothing it
        could not read."""
        s = self.scan
        return s["rows_of_purged_parties"] == 0 and not s["files_of_purged"] and not s["unproven"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "purge_id": self.purge_id,
            "parties": list(self.parties),
            "everything": self.everything,
            "before": self.before,
            "after": self.after,
            "files": list(self.files),
            "scan": self.scan,
            "notes": list(self.notes),
            "resumed": self.resumed,
            "complete": self.complete,
        }

    def summary(self) -> str:
        what = "everything" if self.everything else ", ".join(self.parties)
        resumed = " (resumed: the first attempt was interrupted)" if self.resumed else ""
        lines = [f"purge {self.purge_id}: {what}{resumed}"]
        for table, counts in self.before.items():
            gone = sum(counts.get(p, 0) for p in self.parties)
            left = sum(self.after.get(table, {}).get(p, 0) for p in self.parties)
            lines.append(f"  {table}: {gone:,} rows of {what} before, {left:,} after")
        lines.extend(f"{f['action']}: {f['file']} ({f['what']})" for f in self.files)
        lines.extend(f"note: {note}" for note in self.notes)
        s = self.scan
        lines.append(
            f"scan: {s['files_scanned']:,} files, {s['rows_scanned']:,} rows, "
            f"{s['rows_of_purged_parties']:,} rows and {len(s['files_of_purged'])} "
            f"files of {what}, {len(s['unproven'])} files it cannot prove clean: "
            f"{'nothing left' if self.complete else 'NOT COMPLETE'}"
        )
        lines.extend(f"  {f['where']} {f['file']}: {f['found']}" for f in s.get("files", ()))
        for name in (*s["files_of_purged"], *s["unproven"])[:10]:
            lines.append(f"  left: {name}")
        return "\n".join(lines)


def _counts(delivery: D.Delivery | None) -> dict[str, dict[str, int]]:
    if delivery is None:
        return {}
    return {
        name: dict(entry["rows_by_party"]) for name, entry in delivery.manifest["outputs"].items()
    }


def _parties(config: ExchangeConfig, party: str | None, everything: bool) -> tuple[str, ...]:
    if everything and party is None:
        return tuple(config.parties)
    if party is not None and not everything:
        if party not in config.parties and party not in withdrawn_parties(config.store):
            raise ConfigError(
                f"purge: {party!r} is not one of the parties {', '.join(config.parties)}"
            )
        return (party,)
    raise ConfigError("purge: give one party or everything, not both or neither")


def purge(
    config: ExchangeConfig, *, party: str | None = None, everything: bool = False
) -> PurgeReport:
    """Remove everything received from ``party`` (withdrawal), or everything (end).

    The party is recorded as withdrawn in the store first, so that a later run with
    its extracts is refused even if the purge is interrupted; an interrupted purge
    is finished by the next run or purge (a purge of the same party reports the
    resumed one). Not bound by the validity window: after the end of the protocol
    is exactly when ``everything=True`` is needed. A party that withdrew may be
    purged again after it left ``parties`` (to finish an incomplete purge).

    Raises
    ------
    ConfigError
        Neither or both of ``party`` and ``everything``, or an unknown party; an
        audit log that cannot be written (the withdrawal is recorded, its purge
        pending: the message names the command that finishes it).
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    purge_id = f"purge-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    begun = False  # from the first withdrawal recorded on, every attempt logs itself
    try:
        parties = _parties(config, party, everything)
        with D.store_lock(config.store) as cleared:
            protect(config.store, config.group)
            withdrawn_parties(config.store)  # damaged: refused before anything is done
            begun = True
            for report in finish_pending(config):
                if set(parties) <= set(report.parties) and (report.everything or not everything):
                    return report
            return _purge(
                config,
                parties,
                everything=everything,
                purge_id=purge_id,
                now=now,
                cleared=tuple(cleared),
            )
    except Exception as exc:
        if not begun:
            _refused(config, exc, party=party, everything=everything)
        raise


def _refused(
    config: ExchangeConfig, exc: BaseException, *, party: str | None, everything: bool
) -> None:
    """The audit line of a purge refused before anything was done, with why."""
    try:
        append_event(
            config.audit_log,
            "purge",
            parties=[party] if party is not None else list(config.parties),
            everything=everything,
            outcome="refused",
            error=type(exc).__name__,
            reason=reason(exc),
        )
    except OSError as audit_error:
        exc.add_note(f"and the audit log could not record it: {audit_error}")


def _purge(
    config: ExchangeConfig,
    parties: tuple[str, ...],
    *,
    everything: bool,
    purge_id: str,
    now: dt.datetime,
    resumed: bool = False,
    cleared: tuple[str, ...] = (),
) -> PurgeReport:
    """The purge, under the store's lock (module docstring, steps 1-6); ``cleared``:
    what the lock cleared that an interrupted operation left."""
    store = config.store
    withdrawal = {"time": now.isoformat(), "purge_id": purge_id, "everything": everything}
    _record(store, parties, **withdrawal, status="pending")
    D.checkpoint("withdrawal recorded")
    audit = {
        "purge_id": purge_id,
        "parties": list(parties),
        "everything": everything,
        **({"resumed": True} if resumed else {}),
    }
    try:
        append_event(config.audit_log, "purge", **audit, outcome="intent")
    except OSError as exc:
        raise ConfigError(
            f"the audit log cannot be written ({exc.strerror or type(exc).__name__}): the "
            f"withdrawal of {', '.join(parties)} is recorded and its purge pending; make the "
            f"log writable, then run {_command(config, parties, everything)}",
            source=str(config.audit_log),
        ) from None
    D.checkpoint("purge audited")
    try:
        before, notes = _remove(config, parties, everything=everything, purge_id=purge_id, now=now)
        D.checkpoint("purged")
        files = [
            {"file": name, "what": "left by an interrupted operation", "action": "removed"}
            for name in cleared
        ]
        registered, _ = read_outputs(store)  # before the removed ones leave the registry
        files.extend(remove_copies(config, parties, everything))
        D.checkpoint("copies removed")
        after = _counts(D.read_delivery(store))
        found = scan(config, parties, everything, registered=registered)
        D.checkpoint("scanned")
        report = PurgeReport(
            purge_id=purge_id,
            parties=parties,
            everything=everything,
            before=before,
            after=after,
            files=tuple(files),
            scan=found,
            notes=tuple(notes),
            resumed=resumed,
        )
        reports = store / "reports"
        if not reports.exists():
            reports.mkdir()
            follow(reports)
        D.write_json(reports / f"{purge_id}.json", report.as_dict())
        status = "complete" if report.complete else "incomplete"
        left = [*found["files_of_purged"], *found["unproven"]][:3]
        _record(store, parties, **withdrawal, status=status, **({"left": left} if left else {}))
        D.checkpoint("withdrawal settled")
    except Exception as exc:
        try:
            append_event(
                config.audit_log,
                "purge",
                **audit,
                outcome="failed",
                error=type(exc).__name__,
                reason=reason(exc),
                withdrawal="pending",
            )
        except OSError as audit_error:
            exc.add_note(f"and the audit log could not record it: {audit_error}")
        raise
    _outcome(config, report)
    return report


def _outcome(config: ExchangeConfig, report: PurgeReport) -> None:
    parties = report.parties
    try:
        append_event(
            config.audit_log,
            "purge",
            purge_id=report.purge_id,
            parties=list(parties),
            everything=report.everything,
            **({"resumed": True} if report.resumed else {}),
            outcome="complete" if report.complete else "incomplete",
            rows_removed={t: sum(c.get(p, 0) for p in parties) for t, c in report.before.items()},
            rows_left_of_parties=report.scan["rows_of_purged_parties"],
            files_scanned=report.scan["files_scanned"],
            files_removed=len(report.files),
            files_left=len(report.scan["files_of_purged"]) + len(report.scan["unproven"]),
            notes=list(report.notes),
        )
    except OSError as exc:  # done and recorded in the store; the next run settles the log
        log.warning("%s: the purge's outcome could not be logged (%s)", config.audit_log, exc)


def _remove(
    config: ExchangeConfig,
    parties: tuple[str, ...],
    *,
    everything: bool,
    purge_id: str,
    now: dt.datetime,
) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Take the parties' data out of force and out of the store; the counts of the
    delivery it was taken from, and notes on what else had to be done."""
    store = config.store
    what = " and ".join(parties)
    if everything:
        try:
            before = _counts(D.read_delivery(store))
        except ConfigError as exc:
            before, notes = {}, [f"{exc.detail}: counted nothing before"]
        else:
            notes = []
        D.remove_all(store)
        return before, notes
    current, problem = D.open_in_force(store, hashes=True)
    if current is None:  # none in force, or none that can be read whole
        D.remove_all(store)  # no fallback nor damaged copy may stay either
        if problem is None:
            return {}, []
        return {}, [
            f"{problem}, and no earlier good delivery is kept: every delivery removed; "
            f"run again to deliver without {what}"
        ]
    notes = []
    if current.fallback_from is not None:
        notes.append(
            f"{current.fallback_from}: purged the last good delivery, {current.run_id}, "
            "instead, and removed the damaged one"
        )
    before = _counts(current)
    if current.run_id == purge_id:  # this purge's own, resumed after its switch
        D.keep_only(store, current.run_id)
        return before, notes
    try:
        tables = {
            name: frame[~frame["party"].isin(parties)].reset_index(drop=True)
            for name, frame in current.tables().items()
        }
        D.rewrite(
            store,
            current,
            tables,
            run_id=purge_id,
            operation={"purge": parties[0], "time": now.isoformat()},
            drop_quality=parties,
            keep_party=lambda p: p not in parties,
            carry=carry_state,
        )
    except Exception as exc:  # a full disk, or anything else: erasure comes first
        if D.pointer(store) == purge_id:  # failed after its switch: the purged one is in force
            D.keep_only(store, purge_id)
            return before, notes
        D.remove_all(store)
        notes.append(
            f"the new delivery could not be written ({type(exc).__name__}: {exc}): removed "
            f"every delivery, so nothing of {what} is in force; run again to deliver "
            f"without {what}"
        )
        log.warning("purge %s: %s", purge_id, notes[-1])
    return before, notes


def finish_pending(config: ExchangeConfig) -> list[PurgeReport]:
    """Finish every purge whose withdrawal is recorded but whose purge is not done
    (killed, or failed), under its own purge id."""
    pending: dict[str, tuple[list[str], bool, str]] = {}
    for party, record in withdrawn_parties(config.store).items():
        if record.get("status") == "pending":
            parties, everything, time = pending.setdefault(
                record["purge_id"], ([], bool(record.get("everything")), record["time"])
            )
            parties.append(party)
    reports = []
    for purge_id, (parties, everything, time) in pending.items():
        log.warning("finishing purge %s of %s, interrupted", purge_id, ", ".join(parties))
        report = _purge(
            config,
            tuple(parties),
            everything=everything,
            purge_id=purge_id,
            now=dt.datetime.fromisoformat(time),
            resumed=True,
        )
        log.warning("%s", report.summary())
        reports.append(report)
    return reports


def refuse_withdrawn(config: ExchangeConfig) -> None:
    """Refuse a run while a configured party has withdrawn, or a purge is incomplete."""
    records = withdrawn_parties(config.store)
    for party, record in sorted(records.items()):
        if record.get("status") in ("pending", "incomplete"):
            left = "; ".join(record.get("left", [])) or "see its report"
            raise ConfigError(
                f"the purge of {party} ({record['purge_id']}) is not complete: what it "
                f"could not remove or prove clean is still there ({left}); remove "
                "that, then run "
                f"{_command(config, (party,), bool(record.get('everything')))}",
                source=str(config.store),
            )
    sending = sorted(set(config.parties) & records.keys())
    if sending:
        raise ConfigError(
            f"{', '.join(sending)} withdrew (purged on {records[sending[0]]['time']}): remove "
            f"them from parties and [extracts], or, if they re-joined under a renewed "
            f"protocol, delete {config.store / WITHDRAWN}"
        )
