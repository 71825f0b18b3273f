"""Shared benchmark data: synthetic exchanges at 10,000 / 100,000 / 485,000 enterprises.

``synthetic_exchange`` is parametrised over :data:`SIZES` and generated lazily, once
per size per session (seed 7); ``synthetic_factory(n)`` gives any size from the same
cache. Only the two most recently used sizes stay in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import pytest

from linkage.synthetic import SyntheticExchange, generate

SIZES = (10_000, 100_000, 485_000)
SEED = 7
_KEEP = 2


@pytest.fixture(scope="session")
def synthetic_factory() -> Callable[[int], SyntheticExchange]:
    cache: OrderedDict[int, SyntheticExchange] = OrderedDict()

    def get(n_enterprises: int) -> SyntheticExchange:
        if n_enterprises in cache:
            cache.move_to_end(n_enterprises)
        else:
            cache[n_enterprises] = generate(n_enterprises=n_enterprises, seed=SEED)
            while len(cache) > _KEEP:
                cache.popitem(last=False)
        return cache[n_enterprises]

    return get


@pytest.fixture(params=SIZES, ids=lambda n: f"{n // 1000}k")
def synthetic_exchange(
    request: pytest.FixtureRequest, synthetic_factory: Callable[[int], SyntheticExchange]
) -> SyntheticExchange:
    return synthetic_factory(request.param)
