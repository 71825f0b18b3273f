"""Ready link specs for the exchange, with their column names mappable.

* :func:`enterprises` — VLAIO/TBT enterprises to VDAB employers;
* :func:`establishments` — establishment units to VDAB employer sites, run with the
  enterprise links as parents (see :func:`linkage.pipeline.link`).

Both read the column names of :mod:`linkage.synthetic`; pass ``left_columns`` /
``right_columns`` (logical name -> your name) to read your own tables as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from linkage.blocking import block_on, sorted_neighbourhood
from linkage.compare import distance, exact_match, similarity
from linkage.config import Field, LinkSpec
from linkage.exceptions import ConfigError

__all__ = ["enterprises", "establishments", "get"]

ADDRESS = ("street", "house_number", "box")


def enterprises(
    *,
    left_columns: Mapping[str, str] | None = None,
    right_columns: Mapping[str, str] | None = None,
    threshold: float = 0.5,
) -> LinkSpec:
    """Enterprises (id ``enterprise_number``) to employers (id ``employer_id``)."""
    spec = LinkSpec(
        left_id="enterprise_number",
        right_id="employer_id",
        fields=(
            Field(name="number", source="enterprise_number", prepare="number_digits"),
            Field(name="name", source="name", prepare="company_name"),
            Field(name="name_sorted", source="name", prepare="name_sorted"),
            Field(name="postcode", source="postcode", prepare="postcode"),
            Field(name="address", source=ADDRESS, prepare="address"),
            Field(name="phone", source="phone", prepare="phone"),
            Field(name="email", source="email", prepare="email"),
            Field(name="website", source="website", prepare="website"),
        ),
        blocking=(
            block_on("number"),
            block_on("phone", max_block_size=1_000),
            block_on("email", max_block_size=1_000),
            block_on("website", max_block_size=1_000),
            block_on("postcode", "address", max_block_size=2_000),
            block_on("name", max_block_size=500),
            sorted_neighbourhood("name_sorted", window=3),
        ),
        comparisons=(
            distance("number", thresholds=(1,), decisive=True),
            similarity(
                "name_sorted",
                scorer="jaro_winkler",
                thresholds=(0.95, 0.88, 0.75),
                term_frequency=True,
                name="name",
            ),
            similarity(
                "address", scorer="jaro_winkler", thresholds=(0.95, 0.85), term_frequency=True
            ),
            exact_match("postcode", term_frequency=True),
            exact_match("phone", term_frequency=True),
            exact_match("email", term_frequency=True),
            exact_match("website", term_frequency=True),
        ),
        threshold=threshold,
    )
    return spec.with_columns(left=left_columns, right=right_columns)


def establishments(
    *,
    left_columns: Mapping[str, str] | None = None,
    right_columns: Mapping[str, str] | None = None,
    threshold: float = 0.5,
) -> LinkSpec:
    """Establishment units (id ``establishment_number``) to sites (id ``site_id``).

    Run with ``parents=ParentLinks(links=<enterprise links>, left_parent=
    "enterprise_number", right_parent="employer_id")``: units are then compared with
    the sites of the employer their enterprise was linked to.
    """
    spec = LinkSpec(
        left_id="establishment_number",
        right_id="site_id",
        fields=(
            Field(name="number", source="establishment_number", prepare="number_digits"),
            Field(name="name", source="name", prepare="name_sorted"),
            Field(name="postcode", source="postcode", prepare="postcode"),
            Field(name="address", source=ADDRESS, prepare="address"),
        ),
        blocking=(
            block_on("number"),
            block_on("postcode", "address", max_block_size=2_000),
        ),
        comparisons=(
            distance("number", thresholds=(1,), decisive=True),
            similarity(
                "address", scorer="jaro_winkler", thresholds=(0.95, 0.85), term_frequency=True
            ),
            exact_match("postcode", term_frequency=True),
            similarity("name", scorer="jaro_winkler", thresholds=(0.92,), term_frequency=True),
        ),
        threshold=threshold,
    )
    return spec.with_columns(left=left_columns, right=right_columns)


_PRESETS: dict[str, Callable[..., LinkSpec]] = {
    "enterprises": enterprises,
    "establishments": establishments,
}


def get(name: str) -> LinkSpec:
    """A preset by name: ``enterprises`` or ``establishments``."""
    try:
        return _PRESETS[name]()
    except KeyError:
        raise ConfigError(f"no preset {name!r}; choose one of {', '.join(_PRESETS)}") from None
