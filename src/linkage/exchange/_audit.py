"""The audit log: one JSON line per run, purge and subject request, append-only.

Each line says who (the operating-system user), when (UTC), what (the event and its
outcome), and how much (counts, run ids, file hashes, party names). It never holds
personal data: no names, e-mail addresses, numbers of persons, nor key material.
The file is opened for appending only and each line is fsync'd before the
operation reports success.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["append_event", "read_events"]

_FORBIDDEN = ("email", "first_name", "last_name", "name", "phone", "passphrase", "secret")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return f"uid:{os.getuid()}"


def append_event(path: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one event line; return it.

    Parameters
    ----------
    path : Path
        The log file (created with its folder if missing, mode 0600).
    event : str
        ``run``, ``purge``, ``subject`` ...
    **fields
        Counts, ids, hashes, outcome. Keys that name personal fields are refused.
    """
    bad = [k for k in fields if k in _FORBIDDEN]
    if bad:
        raise ValueError(f"audit events hold no personal data; refused fields {bad}")
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": _user(),
        "event": event,
        **fields,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return record


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of the log, oldest first."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
