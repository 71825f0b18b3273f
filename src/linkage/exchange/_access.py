"""Who may read what the exchange writes: the user running it, or one group.

Every file the exchange writes in the store is ``0600`` and every folder ``0700``,
whatever the umask; with ``[output] group`` (the BI readers), ``0640`` and ``0750``,
owned by that group. A run, purge or repair gives the whole store the
configuration's access first (:func:`protect`); a folder of the store then carries
it, and what is written in it later follows it (:func:`follow`: shared with the
folder's group if the folder is ``0750``, else private). A folder left ``0755`` by
an older version counts as private. Files written outside the store for a person
(a subject's records) are given the same access by their writer.
"""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from linkage.exceptions import ConfigError

__all__ = ["PRIVATE", "SHARED", "follow", "protect", "shared_group", "unprotected"]

#: File and folder modes: the user alone, or with ``[output] group`` its members.
PRIVATE = (0o600, 0o700)
SHARED = (0o640, 0o750)


def _gid(group: str | int | None) -> int | None:
    if group is None or isinstance(group, int):
        return group
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(f"[output] group: no group {group!r} on this system") from None


def _apply(path: Path, gid: int | None) -> None:
    """One file or folder (not what it holds): its mode, and its group if shared.
    A symbolic link is left alone (its target is not the exchange's to change)."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return
    file_mode, dir_mode = PRIVATE if gid is None else SHARED
    if gid is not None and info.st_gid != gid:
        os.chown(path, -1, gid)
    mode = dir_mode if stat.S_ISDIR(info.st_mode) else file_mode
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)


def protect(path: str | os.PathLike[str], group: str | int | None = None) -> None:
    """Give a file, or a folder and everything under it, the store's access.

    Without ``group``, files ``0600`` and folders ``0700``: the user running the
    exchange alone, whatever the umask. With ``group`` (``[output] group``: a name,
    or a gid), files ``0640`` and folders ``0750``, owned by that group. Symbolic
    links are left alone. For every file the exchange writes, in the store or
    outside it (a subject's records written with ``--out``).

    Raises
    ------
    ConfigError
        No group of that name.
    OSError
        A file that cannot be changed (another user's).
    """
    path = Path(path)
    gid = _gid(group)
    _apply(path, gid)
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                _apply(Path(folder) / name, gid)


def unprotected(store: Path, group: str | int | None = None) -> list[str]:
    """The files and folders of ``store`` (relative; ``.`` for itself) whose mode or
    group is not what :func:`protect` gives them."""
    gid = _gid(group)
    file_mode, dir_mode = PRIVATE if gid is None else SHARED
    wrong = []
    for path in (store, *sorted(store.rglob("*"))):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        want = dir_mode if stat.S_ISDIR(info.st_mode) else file_mode
        if stat.S_IMODE(info.st_mode) != want or (gid is not None and info.st_gid != gid):
            wrong.append(path.relative_to(store).as_posix())
    return wrong


def shared_group(folder: Path) -> int | None:
    """The gid a store folder is shared with (mode ``0750``), or None (private)."""
    try:
        info = folder.stat()
    except FileNotFoundError:
        return None
    return info.st_gid if stat.S_IMODE(info.st_mode) == SHARED[1] else None


def follow(path: Path) -> None:
    """Give ``path`` (a file, or a folder and what it holds) the access of the
    folder it is in: shared with that folder's group if the folder is, else private."""
    protect(path, shared_group(path.parent))
