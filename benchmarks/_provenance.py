"""Where a benchmark figure comes from: the commit, the machine, and the stored file.

Shared by ``conftest.py`` (the stage benchmarks, key ``"stages"``) and
``compare_tools.py`` (the side-by-side runs) of ``results.json``, from which
``results_md.py`` writes RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from linkage.io import atomic_path

REPO = Path(__file__).resolve().parent.parent


def machine(packages: Sequence[str]) -> dict[str, Any]:
    """The machine, Python, the packages' versions, niceness and where linkage came from."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cores": os.cpu_count(),
    }
    try:
        info["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        info["memory_gib"] = round(int(Path("/proc/meminfo").read_text().split()[1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    info["versions"] = versions
    info["nice"] = os.nice(0)
    # The runs import linkage from here (PYTHONPATH or the editable install): a run
    # measures the commit of git_state() only if this is inside REPO.
    spec = find_spec("linkage")
    info["linkage_from"] = str(Path(spec.origin).parent) if spec and spec.origin else None
    return info


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout


def git_state() -> dict[str, Any]:
    """The commit the working tree is at and whether its tracked files differ from it.

    A dirty tree means the run did not measure the commit alone: ``dirty_paths`` says
    which tracked files differed (untracked files are not listed). For a run at a
    clean commit while others edit the tree: ``git worktree add --detach DIR`` and run
    from DIR with ``PYTHONPATH=DIR/src``.
    """
    try:
        commit = _git("rev-parse", "HEAD").strip()
        status = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"commit": None, "error": str(exc)}
    paths = sorted(line[3:] for line in status.splitlines() if line.strip())
    return {"commit": commit, "dirty": bool(paths), "dirty_paths": paths}


def update_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the JSON object at ``path``, keeping its other keys.

    Read just before writing and replaced atomically, so that a concurrent writer of
    another key loses at most a race, never the file.
    """
    data = json.loads(path.read_text()) if path.exists() else {}
    change(data)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, default=str) + "\n")
