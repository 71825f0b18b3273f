"""linkage._memory.reused_memory and small_pages: what they set inside, and what they
restore."""

from __future__ import annotations

import numpy as np
import pytest

from linkage import _memory
from linkage._memory import reused_memory, small_pages

_GET = getattr(getattr(np, "_core", np).multiarray, "_get_madvise_hugepage", None)
glibc = pytest.mark.skipif(
    _memory._LIBC is None or _GET is None, reason="glibc and numpy's huge-page switch"
)


@glibc
@pytest.mark.parametrize("before", [True, False])
def test_huge_pages_are_off_inside_and_as_before_after(before: bool) -> None:
    assert _memory._HUGE_PAGES is not None and _GET is not None
    old = _memory._HUGE_PAGES(before)
    try:
        with reused_memory():
            assert _GET() is False
            with reused_memory():  # nested: one block
                assert _GET() is False
            assert _GET() is False
        assert _GET() is before
    finally:
        _memory._HUGE_PAGES(old)


@pytest.mark.skipif(_memory._HUGE_PAGES is None or _GET is None, reason="numpy's switch")
@pytest.mark.parametrize("before", [True, False])
def test_small_pages_nest_with_reused_memory_and_restore(before: bool) -> None:
    assert _memory._HUGE_PAGES is not None and _GET is not None
    old = _memory._HUGE_PAGES(before)
    try:
        with small_pages():
            assert _GET() is False
            with reused_memory():
                assert _GET() is False
            assert _GET() is False  # the outer block is still open
        assert _GET() is before
        with pytest.raises(ValueError, match="inside"), small_pages():
            raise ValueError("inside")
        assert _GET() is before
        assert _memory._small_depth == 0
    finally:
        _memory._HUGE_PAGES(old)


@glibc
def test_an_error_inside_still_restores() -> None:
    assert _GET is not None
    before = _GET()
    with pytest.raises(ValueError, match="inside"), reused_memory():
        raise ValueError("inside")
    assert _GET() is before
    assert _memory._depth == 0


def test_arrays_made_inside_are_sound() -> None:
    @reused_memory()
    def work() -> np.ndarray:
        parts = [np.arange(1 << 22, dtype=np.int64) * k for k in range(4)]  # 32 MiB each
        del parts[:2]
        return parts[0] + parts[1]

    assert (work() == np.arange(1 << 22, dtype=np.int64) * 5).all()
