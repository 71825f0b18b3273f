"""A run's memory given back to the system between its stages.

What a stage makes and lets go is freed in the process, but not always returned: Arrow's
pool keeps the pages it freed for its next allocations, and glibc's heap keeps what
numpy and Python freed below its top. A run's peak RSS is then what it once held, not
what it holds. :func:`give_back` returns both between stages; :func:`returning_pool`
puts Arrow's allocations in jemalloc while a run works (mimalloc, pyarrow's default,
kept 300-400 MB more of its freed pages at 485,000 enterprises).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Callable, Iterator

import pyarrow as pa

__all__ = ["give_back", "returning_pool"]


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the memory freed (Arrow's pool: the readers' buffers, tables let go;
    glibc's heap: numpy's and Python's) to the system. At 485k the heap's free pages
    after the pseudonyms were 150-300 MB."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)


@contextlib.contextmanager
def returning_pool() -> Iterator[None]:
    """Arrow's memory from jemalloc in this block, where this pyarrow has it; then the
    pool that was the default again."""
    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)
