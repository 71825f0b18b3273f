"""linkage._memory.reused_memory and small_pages: what they set inside, and what they
restore."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from linkage import _memory
from linkage._memory import reused_memory, small_pages

_GET = getattr(getattr(np, "_core", np).multiarray, "_get_madvise_hugepage", None)
glibc = pytest.mark.skipif(
    _memory._LIBC is None or _GET is None, reason="glibc and numpy's huge-page switch"
)


@pytest.fixture(params=[True, False])
def before(request: pytest.FixtureRequest) -> Iterator[bool]:
    """numpy's huge-page advice set to the parameter for the test, and restored after."""
    assert _memory._HUGE_PAGES is not None and _GET is not None
    old = _memory._HUGE_PAGES(request.param)
    yield request.param
    _memory._HUGE_PAGES(old)


@glibc
def test_huge_pages_are_off_inside_and_as_before_after(before: bool) -> None:
    with reused_memory():
        assert _GET is not None and _GET() is False
        with reused_memory():  # nested: one block
            assert _GET() is False
        assert _GET() is False
    assert _GET() is before


@pytest.mark.skipif(_memory._HUGE_PAGES is None or _GET is None, reason="numpy's switch")
def test_small_pages_nest_with_reused_memory_and_restore(before: bool) -> None:
    with small_pages():
        assert _GET is not None and _GET() is False
        with reused_memory():
            assert _GET() is False
        assert _GET() is False  # the outer block is still open
    assert _GET() is before
    with pytest.raises(ValueError, match="inside"), small_pages():
        raise ValueError("inside")
    assert _GET() is before
    assert _memory._small_depth == 0


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
