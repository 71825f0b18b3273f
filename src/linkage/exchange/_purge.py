"""Withdrawal and end of the protocol (art. 3): purge a party's data, or all of it.

"Bij het uittreden van VLAIO of TBT ... verwijdert VDAB onmiddellijk alle ontvangen
gegevens van deze uittredende partij"; at the end of the protocol, everything. A
purge makes a new delivery without the party's records (every record carries its
sending party) and its quality report, swaps it in atomically and removes the old
one; ``--all`` removes every delivery. The report proves it: rows per table and
party before and after, and a scan of every file left in the store.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from linkage.exceptions import ConfigError
from linkage.exchange import _delivery as D
from linkage.exchange._audit import append_event
from linkage.exchange._config import ExchangeConfig
from linkage.exchange._links import carry_state
from linkage.exchange._run import WITHDRAWN, withdrawn_parties

__all__ = ["PurgeReport", "purge", "scan_store"]


@dataclass(frozen=True, kw_only=True)
class PurgeReport:
    """Counts before and after, and the scan of the store after the purge."""

    purge_id: str
    parties: tuple[str, ...]
    everything: bool
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]
    scan: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True if the scan found nothing of the purged parties."""
        return self.scan["rows_of_purged_parties"] == 0 and not self.scan["files_of_purged"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "purge_id": self.purge_id,
            "parties": list(self.parties),
            "everything": self.everything,
            "before": self.before,
            "after": self.after,
            "scan": self.scan,
            "complete": self.complete,
        }

    def summary(self) -> str:
        what = "everything" if self.everything else ", ".join(self.parties)
        lines = [f"purge {self.purge_id}: {what}"]
        for table, counts in self.before.items():
            gone = sum(counts.get(p, 0) for p in self.parties)
            left = sum(self.after.get(table, {}).get(p, 0) for p in self.parties)
            lines.append(f"  {table}: {gone:,} rows of {what} before, {left:,} after")
        s = self.scan
        lines.append(
            f"scan: {s['files_scanned']:,} files, {s['rows_scanned']:,} rows, "
            f"{s['rows_of_purged_parties']:,} rows and {len(s['files_of_purged'])} "
            f"files of {what}: {'nothing left' if self.complete else 'NOT COMPLETE'}"
        )
        return "\n".join(lines)


def _counts(delivery: D.Delivery | None) -> dict[str, dict[str, int]]:
    if delivery is None:
        return {}
    return {
        name: dict(entry["rows_by_party"]) for name, entry in delivery.manifest["outputs"].items()
    }


def scan_store(store: Path, parties: tuple[str, ...] | None) -> dict[str, Any]:
    """Read every file under ``store``: rows of ``parties`` (None: any row at all).

    Parquet tables are read whole (their ``party`` column); any other file named
    after a party (a quality report) is listed.
    """
    files = rows = found = 0
    named = []
    for path in sorted(store.rglob("*")):
        if not path.is_file() or path.name == ".lock":
            continue
        files += 1
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            rows += table.num_rows
            if parties is None:
                found += table.num_rows
            elif "party" in table.column_names:
                found += int(table.column("party").to_pandas().isin(parties).sum())
            else:
                found += table.num_rows  # a table without parties cannot be proved clean
        elif parties is None:
            if path.parent.name == "reports" or path.name in (WITHDRAWN,):
                continue
            named.append(str(path.relative_to(store)))
        elif path.stem in parties:
            named.append(str(path.relative_to(store)))
    return {
        "files_scanned": files,
        "rows_scanned": rows,
        "rows_of_purged_parties": found,
        "files_of_purged": named,
    }


def purge(
    config: ExchangeConfig, *, party: str | None = None, everything: bool = False
) -> PurgeReport:
    """Remove everything received from ``party`` (withdrawal), or everything (end).

    The party is recorded as withdrawn in the store, so that a later run with its
    extracts is refused. Not bound by the validity window: after the end of the
    protocol is exactly when ``everything=True`` is needed.

    Raises
    ------
    ConfigError
        Neither or both of ``party`` and ``everything``, or an unknown party.
    """
    if everything and party is None:
        parties = tuple(config.parties)
    elif party is not None and not everything:
        if party not in config.parties:
            raise ConfigError(
                f"purge: {party!r} is not one of the parties {', '.join(config.parties)}"
            )
        parties = (party,)
    else:
        raise ConfigError("purge: give one party or everything, not both or neither")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    purge_id = f"purge-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    try:
        with D.store_lock(config.store):
            current = D.read_delivery(config.store)
            before = _counts(current)
            if everything:
                D.remove_all(config.store)
            elif current is not None:
                tables = {
                    name: frame[frame["party"] != party].reset_index(drop=True)
                    for name, frame in current.tables().items()
                }
                D.rewrite(
                    config.store,
                    current,
                    tables,
                    run_id=purge_id,
                    operation={"purge": party, "time": now.isoformat()},
                    drop_quality=parties,
                    keep_party=lambda p: p != party,
                    carry=carry_state,
                )
            after = _counts(D.read_delivery(config.store))
            scan = scan_store(config.store, None if everything else parties)
            gone = withdrawn_parties(config.store)
            gone.update({p: {"time": now.isoformat(), "purge_id": purge_id} for p in parties})
            D.write_json(config.store / WITHDRAWN, gone)
            report = PurgeReport(
                purge_id=purge_id,
                parties=parties,
                everything=everything,
                before=before,
                after=after,
                scan=scan,
            )
            reports = config.store / "reports"
            reports.mkdir(exist_ok=True)
            D.write_json(reports / f"{purge_id}.json", report.as_dict())
    except BaseException as exc:
        append_event(
            config.audit_log,
            "purge",
            purge_id=purge_id,
            parties=list(parties),
            everything=everything,
            outcome="failed",
            error=type(exc).__name__,
        )
        raise
    append_event(
        config.audit_log,
        "purge",
        purge_id=purge_id,
        parties=list(parties),
        everything=everything,
        outcome="complete" if report.complete else "incomplete",
        rows_removed={t: sum(c.get(p, 0) for p in parties) for t, c in before.items()},
        rows_left_of_parties=scan["rows_of_purged_parties"],
        files_scanned=scan["files_scanned"],
    )
    return report
