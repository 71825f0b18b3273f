"""Work a run does on the second core: a function run in a forked child process.

A run's stages that need only what was read (its quality checks, the previous
report's defects) do not wait for the ones that need the keys or the links: they run
in a child forked from the run, which sees the run's memory as it was at the fork
(copy on write: the extracts are shared, not copied) and hands back only a small
result; what it makes goes to files in the staging folder. The run takes the result
when it needs it (:meth:`Aside.result`).

* Kill-safe: the child is killed with its parent (``PR_SET_PDEATHSIG`` on Linux; a
  daemon process otherwise), and :meth:`Aside.cancel` kills it when the run fails,
  before the staging folder is removed.
* Errors are the function's own: the child's error comes back as it was raised (a
  RuntimeError with its message, if it does not pickle); a child that ends without
  a result (killed) is a RuntimeError.
* Off unless ``LINKAGE_FORK=1`` (and ``fork`` is there, on Linux): the function then
  runs in the run itself, when it is started. At 485k on 2 cores the children took
  the run's wall time down by 10-14 % but its memory (the process tree's) up by
  0.7-1.5 GB and its CPU time by 2-13 % (``benchmarks/runs/exchange_485k_stop25.txt``),
  the wrong way for a feed meant to stay under 2 GiB.
* The run keeps no reference to the arguments: what it lets go is freed in it.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import pickle
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["Aside", "Beside", "can_fork"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether work is put aside in a child (Linux, ``LINKAGE_FORK=1``)."""
    return sys.platform.startswith("linux") and os.environ.get("LINKAGE_FORK") == "1"


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the run died before the line above
        os._exit(1)


def _outcome(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    try:
        outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except BaseException as exc:
        outcome = (False, exc)
    try:
        data = pickle.dumps(outcome)
        pickle.loads(data)  # an error whose class cannot be made again from its args
    except Exception as exc:
        what = outcome[1] if not outcome[0] else "the result"
        data = pickle.dumps((False, RuntimeError(f"{what!r} could not be sent back: {exc!r}")))
    return data


class Aside(Generic[T]):
    """``fn(*args, **kwargs)`` started in a forked child; :meth:`result` waits for it."""

    def __init__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> None:
        self._pid = 0
        self._read = -1
        self._value: tuple[T] | None = None
        if not can_fork():
            self._value = (fn(*args, **kwargs),)
            return
        parent = os.getpid()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read)
                _die_with_parent(parent)
                data = _outcome(fn, args, kwargs)
                with io.FileIO(write, "w", closefd=True) as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> T:
        """The function's result; its error if it fails (raised here)."""
        if self._value is not None:
            return self._value[0]
        if not self._pid:
            raise RuntimeError("the work put aside was cancelled")
        with io.FileIO(self._read, "r", closefd=True) as source:
            data = source.readall()
        os.waitpid(self._pid, 0)
        self._pid = 0
        if not data:
            raise RuntimeError("the work put aside ended without a result (killed?)")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        self._value = (value,)
        return value

    def cancel(self) -> None:
        """Kill the child if it still runs, and wait for it (a failed run's)."""
        if not self._pid:
            return
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self._pid, 0)
        with contextlib.suppress(OSError):
            os.close(self._read)
        self._pid = 0


class Beside(Generic[T]):
    """``fn(*args, **kwargs)`` started in a thread of the run, for work that lets go
    of the GIL (Arrow's sorts and Parquet writes) while the run goes on; the run's
    memory, no copy. :meth:`result` waits for it and raises its error."""

    def __init__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> None:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside")
        self._future = pool.submit(fn, *args, **kwargs)
        pool.shutdown(wait=False)

    def result(self) -> T:
        """The function's result; its error if it fails (raised here)."""
        return self._future.result()

    def cancel(self) -> None:
        """Wait for it to end (a thread cannot be killed): a failed run removes its
        staging folder only after."""
        with contextlib.suppress(BaseException):
            self._future.result()
