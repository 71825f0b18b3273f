"""The audit log: JSON lines for every run, purge, repair and subject request, append-only.

Each line says who (the operating-system user), when (UTC), what (the event and its
outcome), and how much (counts, run ids, file hashes, party names). It never holds
personal data: no names, e-mail addresses, numbers of persons, nor key material.
The file is opened for appending only and each line is fsync'd before the
operation goes on.

Write-ahead: an operation that puts a delivery in force (a run, a purge, a repair)
first appends its *intent* (``"outcome": "intent"``, with everything it is about to
deliver) and only then switches; its outcome line follows the switch. So every
delivery in force has its line even if the process is killed right after the
switch, and a log that cannot be written refuses the operation before anything is
delivered (:func:`check_writable` refuses it before any work). A run also writes
``"outcome": "started"`` before its work, so that a run killed early leaves a line
too. A start or intent left without an outcome by a kill is settled by the next
operation (:func:`dangling`), with the outcome the store shows.

A refused or failed operation logs why (``"reason"``, :func:`reason`): the one-line
message of the library's own errors, which by design carry no value of a record and
no key material (file, column and row name where); any other error only by its type,
since a message it did not write may quote a value. ``exchange show`` logs what it
showed (``"event": "read"``, :func:`record_read`): who read which delivery, its
tables and row counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from linkage.exceptions import ConfigError, LinkageError
from linkage.national import contains_national_number

T = TypeVar("T")

__all__ = [
    "append_event",
    "check_writable",
    "dangling",
    "read_events",
    "reason",
    "record_read",
]

log = logging.getLogger(__name__)

_FORBIDDEN = ("email", "first_name", "last_name", "name", "phone", "passphrase", "secret")
#: The field that names what a line is about, by event (the first one a line has).
IDS = ("run_id", "purge_id", "repair_id", "request_id")
#: How far back :func:`dangling` looks: an intent older than the last few
#: operations has been settled by them.
_TAIL = 1 << 20


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return f"uid:{os.getuid()}"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def check_writable(path: Path) -> None:
    """Refuse now, before any work, if the log cannot be opened for appending.

    Raises
    ------
    ConfigError
        Naming the log and why (permissions, a folder in its place, a read-only
        file system): nothing was done.
    """
    try:
        os.close(_open(path))
    except OSError as exc:
        raise ConfigError(
            f"the audit log cannot be written ({exc.strerror or type(exc).__name__}); nothing "
            "was done: make it writable and run again",
            source=str(path),
        ) from None


def append_event(path: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one event line, fsync'd; return it.

    Parameters
    ----------
    path : Path
        The log file (created with its folder if missing, mode 0600).
    event : str
        ``run``, ``purge``, ``repair``, ``subject`` ...
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
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False) + "\n"
    fd = _open(path)
    try:
        size = os.fstat(fd).st_size
        # A line torn by a kill mid-write is closed first, so that it stays one bad
        # line and this one stays whole.
        if size and _last_byte(path) != b"\n":
            line = "\n" + line
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return record


def reason(exc: BaseException) -> str:
    """Why an operation was refused or failed, for its audit line.

    The message of the library's own errors (:class:`linkage.exceptions.LinkageError`),
    which carry no record's value nor key material by design; an ``OSError``'s
    system message and file; any other error by its type alone (its message, not
    ours, may quote a value). As a last guard, a text that holds a national
    register number (:mod:`linkage.national`) is not logged.

    >>> reason(ConfigError("[output] group: no group 'bi' on this system"))
    "[output] group: no group 'bi' on this system"
    >>> reason(ValueError("could not convert 'Jan Peeters'"))
    'ValueError (its message is not logged: it may quote a value)'
    """
    if isinstance(exc, LinkageError):
        text = str(exc)
    elif isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        text = f"{type(exc).__name__}: {exc.strerror or 'failed'}{where}"
    elif isinstance(exc, KeyboardInterrupt):
        text = "interrupted (KeyboardInterrupt)"
    else:
        text = f"{type(exc).__name__} (its message is not logged: it may quote a value)"
    if contains_national_number(text):
        return f"{type(exc).__name__} (its message is not logged: it holds a national number)"
    return text


def audited(path: Path, event: str, request: dict[str, Any], call: Callable[[list[str]], T]) -> T:
    """Run a request that records its own intent: ``call(stage)`` appends ``"intent"``
    to ``stage`` once its intent line is written, ``"switched"`` once its delivery is in
    force. A refusal or failure is logged with its reason: ``refused`` before the
    intent, ``failed`` after it (the delivery it was to make not in force),
    ``delivered`` with the error once it is."""
    stage: list[str] = []
    try:
        return call(stage)
    except BaseException as exc:
        outcome = {"": "refused", "intent": "failed", "switched": "delivered"}
        with contextlib.suppress(OSError):
            append_event(
                path,
                event,
                **request,
                outcome=outcome[stage[-1] if stage else ""],
                reason=reason(exc),
            )
        raise


def record_read(path: Path, *, run_id: str | None, tables: dict[str, int], **fields: Any) -> None:
    """Log a read of the delivery in force (``"event": "read"``): its run id, the
    tables and row counts shown, and the user; before anything is shown.

    Raises
    ------
    ConfigError
        The log cannot be written: nothing may be shown unlogged (art. 6).
    """
    try:
        append_event(path, "read", run_id=run_id, tables=tables, **fields, outcome="shown")
    except OSError as exc:
        raise ConfigError(
            f"the audit log cannot be written ({exc.strerror or type(exc).__name__}); nothing "
            "was shown: make it writable and run again",
            source=str(path),
        ) from None


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def _parse(lines: list[bytes]) -> list[dict[str, Any]]:
    events = []
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:  # torn by a kill mid-write, or not UTF-8
            log.warning("audit log: skipped a line that is not whole JSON")
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of the log, oldest first (a line torn by a kill is skipped)."""
    if not path.exists():
        return []
    return _parse(path.read_bytes().splitlines())


def _key(event: dict[str, Any]) -> tuple[str, str] | None:
    for name in IDS:
        if name in event:
            return str(event.get("event")), str(event[name])
    return None


def dangling(path: Path) -> list[dict[str, Any]]:
    """The intents of the log's tail that no later line of the same event and id
    settles: operations killed between their intent and their outcome."""
    if not path.exists():
        return []
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - _TAIL))
        lines = handle.read().splitlines()
    if size > _TAIL:
        lines = lines[1:]  # the first may be cut
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for event in _parse(lines):
        key = _key(event)
        if key is not None:
            last[key] = event
    return [e for e in last.values() if e.get("outcome") in ("started", "intent")]
