"""What the process does with the memory a stage frees: keep it, or give it back.

**Keep it** (:func:`reused_memory`, for speed). glibc gives a large freed block back
to the system at once (it was its own ``mmap``), and a fresh page costs a page fault
and zeroing when next touched: on a virtual machine, about a microsecond a kilobyte.
A stage that makes and drops arrays of tens of megabytes in turn then spends as much
time in the kernel as in its own work. :func:`reused_memory` has glibc take large
blocks from its heap and keep what is freed there, so that the stage's next arrays
reuse those pages; at the end the free pages go back to the system (``malloc_trim``)
and the defaults return. Elsewhere than glibc it does nothing.

Within it numpy does not ask for transparent huge pages either (:func:`small_pages`,
which a feed's whole run is in): each first touch of a 2 MiB page clears all of it,
and here that cost more than the small pages' faults. Measured on both parties'
tables at 485k, every name distinct: the bands and filters took 1.3-2.3 s of
system time before, 0.4-0.6 s in most runs within.

**Give it back** (:func:`give_back`, :func:`returning_pool`, for the peak RSS of a
long run). What a stage frees is not always returned: Arrow's pool keeps the pages it
freed for its next allocations, and glibc's heap keeps what numpy and Python freed
below its top. A run's peak RSS is then what it once held, not what it holds.
:func:`give_back` returns both between stages; :func:`returning_pool` puts Arrow's
allocations in jemalloc while a run works (mimalloc, pyarrow's default, kept 300-400
MB more of its freed pages in the feed at 485,000 enterprises).

**Few heaps** (:func:`few_arenas`, for the command line). glibc gives each new thread
a heap of its own (up to eight a core), and a heap keeps what was freed in it for its
own threads. The feed's threads (reads, checks, writes, links) then hold their
high-water marks side by side. Two heaps for all of them took a re-run's peak from
1,785,940-1,915,104 KiB to 1,710,084-1,754,040 KiB at 485,000 enterprises, as fast
(``benchmarks/runs/exchange_485k_stop36.txt``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow as pa

__all__ = ["few_arenas", "give_back", "returning_pool", "reused_memory", "small_pages"]

# mallopt parameters (malloc.h) and glibc's defaults for them.
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_DEFAULTS = {_M_TRIM_THRESHOLD: 128 * 1024, _M_MMAP_MAX: 65_536}


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (glibc only)
        libc.mallopt  # noqa: B018
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
#: numpy's switch for advising huge pages on large arrays (returns the old setting).
_HUGE_PAGES = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
_depth = 0  # reused_memory blocks open, across threads
_small_depth = 0  # small_pages blocks open, across threads
_huge_before = False
_lock = threading.Lock()


@contextmanager
def small_pages() -> Iterator[None]:
    """Within the block numpy does not advise transparent huge pages for its large
    arrays (where the kernel leaves them to that advice: ``madvise``). The feed's
    stages make fresh arrays of millions of rows in turn; each first touch of a huge
    page clears 2 MiB and may wait for the kernel to compact memory. At 485,000
    enterprises a run took 0.2-4.2 s less CPU without them (1.9 s on average, 8
    pairs of runs) and peaked as high (``benchmarks/runs/exchange_485k_stop33.txt``).
    Nested blocks, and blocks open at once in several threads, act as one."""
    global _small_depth, _huge_before
    if _HUGE_PAGES is None:
        yield
        return
    with _lock:
        _small_depth += 1
        if _small_depth == 1:
            _huge_before = bool(_HUGE_PAGES(False))
    try:
        yield
    finally:
        with _lock:
            _small_depth -= 1
            if _small_depth == 0:
                _HUGE_PAGES(_huge_before)


@contextmanager
def reused_memory() -> Iterator[None]:
    """Within the block, large allocations come from the heap and freed memory stays
    there for reuse, in small pages (:func:`small_pages`); after it, free memory goes
    back to the system (glibc; elsewhere nothing changes). Nested blocks, and blocks
    open at once in several threads, act as one."""
    global _depth
    if _LIBC is None:
        with small_pages():
            yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, 1 << 62)
    try:
        with small_pages():
            yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for parameter, value in _DEFAULTS.items():
                    _LIBC.mallopt(parameter, value)
                _LIBC.malloc_trim(0)


def give_back() -> None:
    """Return the memory freed (Arrow's pool: the readers' buffers, tables let go;
    glibc's heap: numpy's and Python's) to the system. In the feed at 485k the heap's
    free pages after the pseudonyms were 150-300 MB."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def few_arenas(limit: int = 2) -> None:
    """Have the process's threads share at most ``limit`` glibc heaps (arenas), as
    ``MALLOC_ARENA_MAX`` does, for a command line before its work starts threads.

    By default glibc gives threads up to eight heaps a core, and each keeps what its
    threads freed for them alone: the feed's threads (checks, writes, Arrow's pool)
    then hold their own high-water marks at once. glibc fixes the limit the first time
    a thread asks for a new heap after this call (or, without it, after eight were
    made); it cannot be lifted after. Elsewhere than glibc it does nothing."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, limit)


@contextmanager
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
