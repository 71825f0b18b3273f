"""Settings: frozen, keyword-only dataclasses, checked on creation, loadable from TOML.

A :class:`LinkSpec` says how to link two tables, as Splink's settings do:

* ``fields`` — which derived column to make from which source column, and how
  (``prepare``: one of :data:`linkage.preparers.PREPARERS`);
* ``blocking`` — rules that propose candidate pairs (:mod:`linkage.rules`);
* ``comparisons`` — ordered levels per field (:mod:`linkage.comparisons`);
* ``model`` and ``threshold`` — the Fellegi-Sunter settings and the link cut-off.

It builds on the three libraries (comparisons, rules, preparers) and imports no stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from linkage._kinds import build
from linkage.comparisons import Comparison, comparison_from_dict
from linkage.exceptions import ConfigError
from linkage.preparers import PREPARERS
from linkage.rules import BlockingRule, rule_from_dict

__all__ = ["Field", "LinkSpec", "ModelSettings"]


@dataclass(frozen=True, kw_only=True)
class Field:
    """A derived column: ``prepare`` applied to ``source`` (one or more input columns).

    ``left_source`` / ``right_source`` override ``source`` for one side, which is how
    a preset reads a user's own column names. Only ``address`` takes several
    columns (street, house number, box); every other preparer takes one.
    """

    name: str
    source: str | tuple[str, ...]
    prepare: str = "text"
    left_source: str | tuple[str, ...] | None = None
    right_source: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for attr in ("source", "left_source", "right_source"):
            value = getattr(self, attr)
            if isinstance(value, str):
                object.__setattr__(self, attr, (value,))
            elif value is not None:
                object.__setattr__(self, attr, tuple(value))
        if self.prepare not in PREPARERS:
            raise ConfigError(
                f"field {self.name!r}: prepare must be one of {', '.join(PREPARERS)}, "
                f"not {self.prepare!r}"
            )
        most = PREPARERS[self.prepare].max_sources
        for sources in (self.source, self.left_source, self.right_source):
            if sources is not None and not 1 <= len(sources) <= most:
                raise ConfigError(
                    f"field {self.name!r}: {self.prepare} takes 1 to {most} source column(s), "
                    f"got {list(sources)}"
                )

    def source_for(self, side: Literal["left", "right"]) -> tuple[str, ...]:
        """The input columns this field is made from on one side."""
        found = (self.left_source if side == "left" else self.right_source) or self.source
        return (found,) if isinstance(found, str) else found


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """Fellegi-Sunter fitting: EM limits, random pairs for u, seed."""

    max_iter: int = 200
    tol: float = 1e-6
    u_sample_size: int = 300_000
    seed: int = 0
    fix_u: bool = False
    joint_unlabelled: bool = True
    settled_mixture: bool = True

    def __post_init__(self) -> None:
        if self.max_iter < 1 or self.tol <= 0 or self.u_sample_size < 1:
            raise ConfigError(
                f"model settings need max_iter >= 1, tol > 0, u_sample_size >= 1; got "
                f"{self.max_iter}, {self.tol}, {self.u_sample_size}"
            )


@dataclass(frozen=True, kw_only=True)
class LinkSpec:
    """How to link a left table to a right table."""

    left_id: str
    right_id: str
    fields: tuple[Field, ...]
    blocking: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    model: ModelSettings = field(default_factory=ModelSettings)
    threshold: float = 0.5
    one_to_one: bool = True
    chunk_size: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("fields", "blocking", "comparisons"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.blocking or not self.comparisons:
            raise ConfigError("a link spec needs at least one blocking rule and one comparison")
        if not 0 < self.threshold < 1:
            raise ConfigError(f"threshold is a match probability in (0, 1), got {self.threshold}")
        known = {f.name for f in self.fields}
        used = {c for r in self.blocking for c in r.columns} | {c.column for c in self.comparisons}
        unknown = sorted(used - known)
        if unknown:
            raise ConfigError(
                f"blocking rules or comparisons use {unknown}, which no field makes; "
                f"add e.g. Field(name={unknown[0]!r}, source=..., prepare=...)"
            )
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise ConfigError(f"comparison names repeat: {names}")

    def with_columns(
        self, *, left: Mapping[str, str] | None = None, right: Mapping[str, str] | None = None
    ) -> LinkSpec:
        """The same spec reading other input column names (logical name -> actual name)."""
        left, right = dict(left or {}), dict(right or {})
        for mapping, side in ((left, "left"), (right, "right")):
            logical = {c for f in self.fields for c in f.source} | {getattr(self, f"{side}_id")}
            unknown = sorted(set(mapping) - logical)
            if unknown:
                raise ConfigError(
                    f"{side} column mapping names {unknown}, which the spec does not read; "
                    f"it reads {sorted(logical)}"
                )
        new_fields = tuple(
            replace(
                f,
                left_source=tuple(
                    left.get(c, o) for c, o in zip(f.source, f.source_for("left"), strict=True)
                ),
                right_source=tuple(
                    right.get(c, o) for c, o in zip(f.source, f.source_for("right"), strict=True)
                ),
            )
            for f in self.fields
        )
        return replace(
            self,
            fields=new_fields,
            left_id=left.get(self.left_id, self.left_id),
            right_id=right.get(self.right_id, self.right_id),
        )


def model_settings_from_dict(raw: Mapping[str, Any], *, source: str = "spec") -> ModelSettings:
    """:class:`ModelSettings` from plain data (a TOML ``[model]`` table)."""
    return build(ModelSettings, raw, where=f"{source} [model]")


def spec_from_dict(raw: Mapping[str, Any], *, source: str = "spec") -> LinkSpec:
    """A whole :class:`LinkSpec` from plain data (as TOML gives it).

    Keys: ``left_id``, ``right_id``, ``[[fields]]``, ``[[blocking]]`` (``kind`` one of
    ``BlockingRule.kinds``), ``[[comparisons]]`` (``kind`` one of
    ``Comparison.kinds``), an optional ``[model]`` table
    (:class:`ModelSettings`) and the other :class:`LinkSpec` settings. A preset by name
    is read by :func:`linkage.presets.spec_from_dict`.
    """
    raw = dict(raw)
    parts = {
        "fields": tuple(
            build(Field, f, where=f"{source} [[fields]]") for f in raw.get("fields", ())
        ),
        "blocking": tuple(
            rule_from_dict(b, where=f"{source} [[blocking]]") for b in raw.get("blocking", ())
        ),
        "comparisons": tuple(
            comparison_from_dict(c, where=f"{source} [[comparisons]]")
            for c in raw.get("comparisons", ())
        ),
        "model": model_settings_from_dict(raw.get("model", {}), source=source),
    }
    return build(LinkSpec, {**raw, **parts}, where=source)
