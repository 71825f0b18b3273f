"""Ready link specs for the exchange, with their column names mappable.

* :func:`enterprises` — VLAIO/TBT enterprises to VDAB employers;
* :func:`establishments` — establishment units to VDAB employer sites, run with the
  enterprise links as parents (see :func:`linkage.pipeline.link`).

Both read the column names of :mod:`linkage.synthetic`; pass ``left_columns`` /
``right_columns`` (logical name -> your name) to read your own tables as they are,
``address`` -> your column for a one-line address ("Kerkstraat 12 bus 3"). Every
field but the name is optional: a table without its columns (no ``website``, no
``box``) links on the others, with a note (:meth:`linkage.config.LinkSpec.for_columns`).
:func:`load_spec` reads a spec from TOML: a preset by name, or a whole spec;
:func:`spec_to_toml` writes a whole spec as commented TOML that reads back to an
equal spec (``linkage spec show --preset enterprises``).
"""

from __future__ import annotations

import json
import math
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from linkage.comparisons import Comparison, distance, exact_match, shared_value, similarity
from linkage.config import Field, LinkSpec, model_settings_from_dict, spec_to_dict
from linkage.config import spec_from_dict as whole_spec_from_dict
from linkage.exceptions import ConfigError
from linkage.preparers import PREPARERS
from linkage.rules import BlockingRule, block_on, block_on_tokens, sorted_neighbourhood

__all__ = [
    "enterprises",
    "establishments",
    "get",
    "load_spec",
    "spec_from_dict",
    "spec_to_toml",
]

ADDRESS = ("street", "house_number", "box")


def enterprises(
    *,
    left_columns: Mapping[str, str] | None = None,
    right_columns: Mapping[str, str] | None = None,
    threshold: float = 0.5,
    unit_numbers: bool = False,
) -> LinkSpec:
    """Enterprises (id ``enterprise_number``) to employers (id ``employer_id``).

    With ``unit_numbers``, each side also lists establishment-unit numbers in a column
    ``unit_numbers`` (a list, or a text of numbers joined by ``;``): an enterprise its
    units', an employer those its sites carry
    (:func:`linkage.pipeline.child_values` makes the column from the child tables).
    A unit belongs to one enterprise, so a number in common is blocked on and
    compared (:class:`~linkage.comparisons.SharedValue`, its weight learnt by the
    model as any other's): the evidence for an employer without an enterprise number
    whose seat is not the enterprise's, or whose name is a trade name, when one of
    its sites is one of the enterprise's units.
    """
    spec = LinkSpec(
        left_id="enterprise_number",
        right_id="employer_id",
        fields=(
            Field(
                name="number", source="enterprise_number", prepare="number_digits", optional=True
            ),
            Field(name="name", source="name", prepare="company_name"),
            Field(name="name_sorted", source="name", prepare="name_sorted"),
            Field(name="postcode", source="postcode", prepare="postcode", optional=True),
            Field(name="address", source=ADDRESS, prepare="address", optional=True),
            Field(name="phone", source="phone", prepare="phone", optional=True),
            Field(name="email", source="email", prepare="email", optional=True),
            Field(name="website", source="website", prepare="website", optional=True),
        ),
        # A block over its cap is split by a second key, not skipped: the name's by
        # the postcode (a chain, or a name as common as "Bakkerij Peeters", within one
        # municipality), a contact's by postcode and then address, an address's by
        # name. The name is blocked on with its words sorted, as it is compared.
        # The caps bound the pairs per record, not per table: a block of a x b
        # records holds at most min(a, b) matches, so one over 100 pairs (10 x 10)
        # is at most a tenth matches, and splitting it costs little recall. A value
        # held by a share of the records makes blocks that grow with the tables;
        # capped, they are split sooner as the tables grow, and the pairs per record
        # stay bounded. The name with the address pairs what the name's split by
        # postcode misses where a postcode is missing.
        blocking=(
            block_on("number"),
            block_on("phone", max_block_size=1_000, split_by=("postcode", "address")),
            block_on("email", max_block_size=100, split_by=("postcode", "address")),
            block_on("website", max_block_size=100, split_by=("postcode", "address")),
            block_on("postcode", "address", max_block_size=100, split_by=("name_sorted",)),
            block_on("name_sorted", max_block_size=100, split_by=("postcode",), name="name"),
            block_on(
                "name_sorted",
                "address",
                max_block_size=100,
                split_by=("postcode",),
                name="name+address",
            ),
            sorted_neighbourhood("name_sorted", window=3),
        ),
        # The name's term frequencies are judged against every pair of the two
        # tables that agrees, not against the candidate pairs: the name's blocks are
        # the ones split most (at 2 M enterprises, 35 M of the name rule's pairs are
        # in blocks over the cap, against 5 M of the website's), so the candidates'
        # mean is the one that would move with the caps and the tables' size. For
        # the others the candidates' mean kept precision higher (measured at 485 k
        # and 2 M: benchmarks/runs/scale_485k_2m.txt).
        comparisons=(
            distance("number", thresholds=(1,), decisive=True),
            similarity(
                "name_sorted",
                scorer="jaro_winkler",
                thresholds=(0.95, 0.88, 0.75),
                term_frequency=True,
                tf_reference="tables",
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
    if unit_numbers:
        spec = replace(
            spec,
            fields=(
                *spec.fields,
                Field(
                    name="unit_numbers",
                    source="unit_numbers",
                    prepare="unit_numbers",
                    optional=True,
                ),
            ),
            blocking=(*spec.blocking, block_on_tokens("unit_numbers", max_block_size=100)),
            comparisons=(*spec.comparisons, shared_value("unit_numbers")),
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
            Field(
                name="number", source="establishment_number", prepare="number_digits", optional=True
            ),
            Field(name="name", source="name", prepare="name_sorted"),
            Field(name="postcode", source="postcode", prepare="postcode", optional=True),
            Field(name="address", source=ADDRESS, prepare="address", optional=True),
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


def get(name: str, *, unit_numbers: bool = False) -> LinkSpec:
    """A preset by name: ``enterprises`` or ``establishments``; ``unit_numbers`` is
    the enterprises preset's option (:func:`enterprises`)."""
    if name not in _PRESETS:
        raise ConfigError(f"no preset {name!r}; choose one of {', '.join(_PRESETS)}")
    if unit_numbers and name != "enterprises":
        raise ConfigError(f"unit_numbers is an option of the enterprises preset, not of {name!r}")
    return enterprises(unit_numbers=True) if unit_numbers else _PRESETS[name]()


def spec_from_dict(raw: Mapping[str, Any], *, source: str = "spec") -> LinkSpec:
    """A :class:`LinkSpec` from plain data (as TOML gives it).

    Either ``preset = "enterprises"`` with optional ``unit_numbers`` (true or false),
    ``threshold``, ``one_to_one``, ``chunk_size`` and ``[model]``, or a whole spec (see
    :func:`linkage.config.spec_from_dict`); either with optional ``[left_columns]`` /
    ``[right_columns]`` tables (logical name -> your column).
    """
    raw = dict(raw)
    left_columns = raw.pop("left_columns", None)
    right_columns = raw.pop("right_columns", None)
    if "preset" in raw:
        name = raw.pop("preset")
        unit_numbers = raw.pop("unit_numbers", False)
        if not isinstance(unit_numbers, bool):
            raise ConfigError(f"{source}: unit_numbers must be true or false, got {unit_numbers!r}")
        spec = get(name, unit_numbers=unit_numbers)
        overrides: dict[str, Any] = {
            k: raw.pop(k) for k in ("threshold", "one_to_one", "chunk_size") if k in raw
        }
        if "model" in raw:
            overrides["model"] = model_settings_from_dict(raw.pop("model"), source=source)
        if raw:
            raise ConfigError(f"{source}: with a preset, unknown key(s) {sorted(raw)}")
        spec = replace(spec, **overrides)
    else:
        spec = whole_spec_from_dict(raw, source=source)
    if left_columns or right_columns:
        spec = spec.with_columns(left=left_columns, right=right_columns)
    return spec


def load_spec(path: str | Path) -> LinkSpec:
    """Read a :class:`LinkSpec` from a TOML file (see :func:`spec_from_dict`)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return spec_from_dict(raw, source=path.name)


def spec_to_toml(spec: LinkSpec, *, title: str = "") -> str:
    """A whole spec as commented TOML, for a user to edit and load again.

    :func:`load_spec` reads it back to a spec equal to ``spec``. Each section starts
    with a comment saying what its keys mean and which values they take.

    Examples
    --------
    >>> text = spec_to_toml(enterprises())
    >>> spec_from_dict(tomllib.loads(text)) == enterprises()
    True
    """
    data = spec_to_dict(spec)
    kinds = ", ".join(BlockingRule.kinds)
    lines = [
        f"# {title or 'A linkage spec'}: edit it, then `linkage link --spec FILE ...`.",
        "# Every key is a field of a class in linkage.config; a key left out takes its",
        "# default. left_id / right_id: the column naming a record on each side.",
    ]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    lines += ["", "# Fitting the Fellegi-Sunter model (linkage.config.ModelSettings).", "[model]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data["model"].items()]
    sections = {
        "fields": (
            "A derived column: `prepare` applied to `source`, read on each side from",
            "left_source / right_source: your column names go there. prepare is one of",
            *textwrap.wrap(", ".join(PREPARERS), 76),
            "optional = true: left out, with a note, when a table lacks its column.",
        ),
        "blocking": (
            "Which pairs are compared at all: records agreeing on `columns` (fields).",
            f"kind: {kinds};",
            "blocks over max_block_size are skipped, and counted.",
        ),
        "comparisons": (
            "Agreement levels of one field, scored by the model.",
            f"kind: {', '.join(Comparison.kinds)};",
            "`thresholds` bin a similarity (highest first) or a distance (lowest first).",
        ),
    }
    for section, comment in sections.items():
        lines += ["", *(f"# {line}" for line in comment)]
        for n, table in enumerate(data[section]):
            lines += [*([""] if n else []), f"[[{section}]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """One TOML value: a string, a boolean, a number or a list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} {value!r} as TOML")
