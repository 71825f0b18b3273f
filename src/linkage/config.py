"""Settings: frozen, keyword-only dataclasses, checked on creation, loadable from TOML.

A :class:`LinkSpec` says how to link two tables, as Splink's settings do:

* ``fields`` — which derived column to make from which source column, and how
  (``prepare``: one of :data:`PREPARERS`);
* ``blocking`` — rules that propose candidate pairs;
* ``comparisons`` — ordered levels per field (null = -1, else = 0, exact = highest);
* ``model`` and ``threshold`` — the Fellegi-Sunter settings and the link cut-off.

Stages import these types; they import no stage.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, get_args

from linkage.exceptions import ConfigError

__all__ = [
    "PREPARERS",
    "SCORERS",
    "BlockingRule",
    "Comparison",
    "Field",
    "LinkSpec",
    "ModelSettings",
    "load_spec",
]

RuleKind = Literal["equal", "tokens", "window"]
ComparisonKind = Literal["exact", "similarity", "distance"]
Scorer = Literal[
    "jaro_winkler",
    "jaro",
    "ratio",
    "token_sort_ratio",
    "token_set_ratio",
    "levenshtein",
    "damerau_levenshtein",
]
SCORERS: tuple[str, ...] = get_args(Scorer)
Prepare = Literal[
    "text",
    "company_name",
    "name_sorted",
    "name_tokens",
    "name_prefix",
    "legal_form",
    "enterprise_number",
    "establishment_number",
    "number_digits",
    "street",
    "address",
    "postcode",
    "phone",
    "email",
    "email_domain",
    "website",
]
PREPARERS: tuple[str, ...] = get_args(Prepare)


@dataclass(frozen=True, kw_only=True)
class BlockingRule:
    """One blocking rule; build it with ``block_on`` and friends in :mod:`linkage.blocking`."""

    columns: tuple[str, ...]
    kind: RuleKind = "equal"
    max_block_size: int | None = None
    window: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.columns:
            raise ConfigError(
                "a blocking rule needs at least one column, e.g. block_on('postcode')"
            )
        if self.kind not in get_args(RuleKind):
            raise ConfigError(
                f"blocking rule kind must be equal, tokens or window, not {self.kind!r}"
            )
        if self.kind != "equal" and len(self.columns) != 1:
            raise ConfigError(f"a {self.kind} rule takes one column, got {list(self.columns)}")
        if self.kind == "window" and self.window < 1:
            raise ConfigError(f"sorted_neighbourhood needs window >= 1, got {self.window}")
        if self.max_block_size is not None and self.max_block_size < 1:
            raise ConfigError(f"max_block_size must be positive, got {self.max_block_size}")
        if not self.name:
            label = "+".join(self.columns)
            names = {
                "equal": label,
                "tokens": f"tokens({label})",
                "window": f"window({label}, {self.window})",
            }
            object.__setattr__(self, "name", names[self.kind])


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Ordered agreement levels of one column.

    Levels: -1 where either value is missing, 0 for no agreement, then one level
    per threshold from loose to tight, and ``n_levels - 1`` for an exact match.
    ``similarity`` thresholds are scores in (0, 1], tightest first; ``distance``
    thresholds are edit distances, tightest (smallest) first.

    ``term_frequency`` makes an exact match on a common value count for less than one
    on a rare value. ``decisive`` marks a comparison whose exact level outweighs any
    disagreement elsewhere (two equal, valid enterprise numbers).
    """

    column: str
    kind: ComparisonKind = "exact"
    scorer: Scorer | None = None
    thresholds: tuple[float, ...] = ()
    term_frequency: bool = False
    decisive: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        if not self.name:
            object.__setattr__(self, "name", self.column)
        if self.kind not in get_args(ComparisonKind):
            raise ConfigError(
                f"comparison {self.name!r}: kind must be exact, similarity or distance, "
                f"not {self.kind!r}"
            )
        if self.kind == "exact":
            if self.thresholds or self.scorer:
                raise ConfigError(f"comparison {self.name!r}: exact takes no scorer or thresholds")
            return
        if self.scorer not in SCORERS:
            raise ConfigError(
                f"comparison {self.name!r}: scorer must be one of {', '.join(SCORERS)}, "
                f"not {self.scorer!r}"
            )
        if not self.thresholds:
            raise ConfigError(f"comparison {self.name!r}: {self.kind} needs thresholds")
        t = self.thresholds
        if self.kind == "similarity" and not (
            all(0 < x <= 1 for x in t) and all(a > b for a, b in pairwise(t))
        ):
            raise ConfigError(
                f"comparison {self.name!r}: similarity thresholds must fall within (0, 1], "
                f"tightest first, e.g. (0.95, 0.85); got {t}"
            )
        if self.kind == "distance" and not (
            all(x >= 1 and float(x).is_integer() for x in t) and all(a < b for a, b in pairwise(t))
        ):
            raise ConfigError(
                f"comparison {self.name!r}: distance thresholds must be whole edits, "
                f"tightest first, e.g. (1, 2); got {t}"
            )

    @property
    def n_levels(self) -> int:
        """Levels other than null: else, one per threshold, exact."""
        return len(self.thresholds) + 2

    @property
    def level_labels(self) -> tuple[str, ...]:
        """A label per level, from ``else`` (0) to ``exact`` (``n_levels - 1``)."""
        op = ">=" if self.kind == "similarity" else "<="
        fuzzy = [f"{self.scorer} {op} {t:g}" for t in reversed(self.thresholds)]
        return ("else", *fuzzy, "exact")


@dataclass(frozen=True, kw_only=True)
class Field:
    """A derived column: ``prepare`` applied to ``source`` (one or more input columns).

    ``left_source`` / ``right_source`` override ``source`` for one side, which is how
    a preset reads a user's own column names. Only ``address`` takes several
    columns (street, house number, box); every other preparer takes one.
    """

    name: str
    source: tuple[str, ...]
    prepare: Prepare = "text"
    left_source: tuple[str, ...] | None = None
    right_source: tuple[str, ...] | None = None

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
        most = 3 if self.prepare == "address" else 1
        for sources in (self.source, self.left_source, self.right_source):
            if sources is not None and not 1 <= len(sources) <= most:
                raise ConfigError(
                    f"field {self.name!r}: {self.prepare} takes 1 to {most} source column(s), "
                    f"got {list(sources)}"
                )

    def source_for(self, side: Literal["left", "right"]) -> tuple[str, ...]:
        """The input columns this field is made from on one side."""
        override = self.left_source if side == "left" else self.right_source
        return override or self.source


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


def _build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    try:
        return cls(**raw)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def spec_from_dict(raw: Mapping[str, Any], *, source: str = "spec") -> LinkSpec:
    """A :class:`LinkSpec` from plain data (as TOML gives it).

    Either ``preset = "enterprises"`` (see :mod:`linkage.presets`) with optional
    ``[left_columns]`` / ``[right_columns]`` tables and a ``threshold``, or a whole
    spec: ``left_id``, ``right_id``, ``[[fields]]``, ``[[blocking]]``,
    ``[[comparisons]]`` and an optional ``[model]`` table.
    """
    raw = dict(raw)
    left_columns = raw.pop("left_columns", None)
    right_columns = raw.pop("right_columns", None)
    if "preset" in raw:
        from linkage import presets

        name = raw.pop("preset")
        spec = presets.get(name)
        overrides = {k: raw.pop(k) for k in ("threshold", "one_to_one", "chunk_size") if k in raw}
        if "model" in raw:
            overrides["model"] = _build(ModelSettings, raw.pop("model"), f"{source} [model]")
        if raw:
            raise ConfigError(f"{source}: with a preset, unknown key(s) {sorted(raw)}")
        spec = replace(spec, **overrides)
    else:
        try:
            spec = _build(
                LinkSpec,
                {
                    **raw,
                    "fields": tuple(
                        _build(Field, f, f"{source} [[fields]]") for f in raw.get("fields", ())
                    ),
                    "blocking": tuple(
                        _build(BlockingRule, b, f"{source} [[blocking]]")
                        for b in raw.get("blocking", ())
                    ),
                    "comparisons": tuple(
                        _build(Comparison, c, f"{source} [[comparisons]]")
                        for c in raw.get("comparisons", ())
                    ),
                    "model": _build(ModelSettings, raw.get("model", {}), f"{source} [model]"),
                },
                source,
            )
        except ConfigError as exc:
            raise ConfigError(str(exc)) from None
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
