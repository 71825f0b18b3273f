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

from collections.abc import Collection, Iterable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any, Literal

from linkage._kinds import build
from linkage.comparisons import Comparison, comparison_from_dict
from linkage.exceptions import ConfigError
from linkage.preparers import PREPARERS
from linkage.rules import BlockingRule, rule_from_dict

__all__ = ["Field", "LinkSpec", "ModelSettings", "spec_from_dict", "spec_to_dict"]


@dataclass(frozen=True, kw_only=True)
class Field:
    """A derived column: ``prepare`` applied to ``source`` (one or more input columns).

    ``left_source`` / ``right_source`` override ``source`` for one side, which is how
    a preset reads a user's own column names. Only ``address`` takes several
    columns (street, house number, box; or one address line); every other preparer
    takes one.

    An ``optional`` field may be missing from a table: :meth:`LinkSpec.for_columns`
    then leaves it out, with the blocking rules and comparisons that use it, or, for
    several sources, makes it from the leading ones present (an address without its
    box). A column the user named (a source that is not the spec's own name) is
    never optional: it must be there.
    """

    name: str
    source: str | tuple[str, ...]
    prepare: str = "text"
    left_source: str | tuple[str, ...] | None = None
    right_source: str | tuple[str, ...] | None = None
    # Out of the repr, hence out of the spec's hash (spec_sha256, the exchange's frozen
    # spec): on tables that have the columns, an optional field links the same.
    optional: bool = field(default=False, repr=False)

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
        """The same spec reading other input column names (logical name -> actual name).

        A name may also be a field's that is made from several columns: it is then
        made from the one column given. So ``address = "adres"``
        reads a one-line address ("Kerkstraat 12 bus 3"), which the ``address``
        preparer splits into street, number and box.
        """
        left, right = dict(left or {}), dict(right or {})
        for mapping, side in ((left, "left"), (right, "right")):
            logical = {c for f in self.fields for c in f.source} | {getattr(self, f"{side}_id")}
            whole = {f.name for f in self.fields if len(f.source) > 1} - logical
            unknown = sorted(set(mapping) - logical - whole)
            if unknown:
                raise ConfigError(
                    f"{side} column mapping names {unknown}, which the spec does not read; "
                    f"it reads {sorted(logical)}"
                    + (f", or a field made from one column: {sorted(whole)}" if whole else "")
                )
        return replace(
            self,
            fields=tuple(
                replace(
                    f,
                    left_source=_mapped(f, "left", left),
                    right_source=_mapped(f, "right", right),
                )
                for f in self.fields
            ),
            left_id=left.get(self.left_id, self.left_id),
            right_id=right.get(self.right_id, self.right_id),
        )

    def without(self, names: Iterable[str]) -> LinkSpec:
        """The spec without the fields ``names``, and the blocking rules and
        comparisons that use them."""
        gone = set(names)
        return replace(
            self,
            fields=tuple(f for f in self.fields if f.name not in gone),
            blocking=tuple(r for r in self.blocking if gone.isdisjoint(r.reads)),
            comparisons=tuple(c for c in self.comparisons if c.column not in gone),
        )

    def for_columns(
        self,
        left: Collection[str],
        right: Collection[str],
        *,
        names: tuple[str, str] = ("left", "right"),
    ) -> tuple[LinkSpec, tuple[str, ...]]:
        """The spec as it runs on tables with these columns, and a note per change.

        An optional field (:class:`Field`) whose first source is absent from either
        table is left out, with its blocking rules and comparisons; one with several
        sources is made from the leading ones present. A column a required field
        reads, or one the user named, is left for the missing-column check. A spec
        that changes nothing is returned as it is.

        Parameters
        ----------
        left, right : collection of str
            The tables' columns.
        names : pair of str
            The tables' names, for the notes.

        Returns
        -------
        spec : LinkSpec
        notes : tuple of str
            One line per field left out or made from fewer columns.

        Examples
        --------
        >>> from linkage.presets import enterprises
        >>> spec = enterprises()
        >>> columns = [c for f in spec.fields for c in f.source if c != "website"]
        >>> narrowed, notes = spec.for_columns(columns, columns)
        >>> print(notes[0][:53])
        field 'website' left out (no column 'website' in left
        >>> [c.name for c in narrowed.comparisons][-1]
        'email'
        """
        columns = {"left": set(left), "right": set(right)}
        where = {"left": names[0], "right": names[1]}
        fields: list[Field] = []
        dropped: dict[str, dict[str, list[str]]] = {}  # field -> absent column -> tables
        notes: list[str] = []
        for f in self.fields:
            kept: dict[str, tuple[str, ...]] = {}
            absent: dict[str, list[str]] = {}
            for side in ("left", "right"):
                sources = f.source_for(side)
                missing = [c for c in sources if c not in columns[side]]
                # A required field's column, or one the user named, is not let go.
                if not missing or not f.optional or not set(missing) <= set(f.source):
                    kept[side] = sources
                    continue
                lead = sources.index(missing[0])
                kept[side] = sources[:lead]
                tables = absent.setdefault(sources[lead], [])
                if where[side] not in tables:  # one table on both sides (dedupe)
                    tables.append(where[side])
            gone = ", ".join(f"{c!r} in {', '.join(t)}" for c, t in absent.items())
            if not (kept["left"] and kept["right"]):
                dropped[f.name] = absent
                rules = [r.name for r in self.blocking if f.name in r.reads]
                compared = [c.name for c in self.comparisons if c.column == f.name]
                notes.append(
                    f"field {f.name!r} left out (no column {gone})"
                    + (f", with comparison {_quoted(compared)}" if compared else "")
                    + (f" and blocking rule {_quoted(rules)}" if rules else "")
                )
                continue
            if absent:
                made = "; ".join(f"{', '.join(kept[s])} in {where[s]}" for s in ("left", "right"))
                notes.append(f"field {f.name!r} made from {made} (no column {gone})")
                f = replace(f, left_source=kept["left"], right_source=kept["right"])
            fields.append(f)
        if not notes:
            return self, ()
        if all(c.column in dropped for c in self.comparisons) or all(
            not set(dropped).isdisjoint(r.reads) for r in self.blocking
        ):
            raise ConfigError(
                f"too few columns to link ({'; '.join(notes)}); map your columns to the "
                "spec's names, e.g. --left-columns name=naam"
            )
        return replace(self.without(dropped), fields=tuple(fields)), tuple(notes)


def _mapped(
    f: Field, side: Literal["left", "right"], mapping: Mapping[str, str]
) -> tuple[str, ...]:
    """A field's sources on one side, after a column mapping (see ``with_columns``)."""
    if f.name in mapping and len(f.source) > 1 and f.name not in f.source:
        return (mapping[f.name],)
    current = f.source_for(side)
    if len(current) != len(f.source):  # already one column, by an earlier mapping
        return current
    return tuple(mapping.get(c, o) for c, o in zip(f.source, current, strict=True))


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in items)


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


def spec_to_dict(spec: LinkSpec) -> dict[str, Any]:
    """A :class:`LinkSpec` as plain data that :func:`spec_from_dict` reads back to an
    equal spec (what ``linkage spec show`` writes as TOML).

    A value equal to its default is left out, as is a name the rule or comparison
    would be given anyway, and so is None (no ``left_source``, no
    ``max_block_size``), as TOML has no null; either reads back as the default. A
    one-column source is a string.
    """
    settings = {
        f.name: getattr(spec, f.name)
        for f in fields(spec)
        if f.name not in ("fields", "blocking", "comparisons", "model")
    }
    return {
        **settings,
        "model": asdict(spec.model),
        "fields": [_plain(f, {a.name: getattr(f, a.name) for a in fields(f)}) for f in spec.fields],
        "blocking": [_plain(r, r.to_dict()) for r in spec.blocking],
        "comparisons": [_plain(c, c.to_dict()) for c in spec.comparisons],
    }


def _plain(obj: object, values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as TOML holds them: tuples as lists (one string as itself), None left
    out where it is the default, and refused where it is not."""
    defaults = {f.name: f.default for f in fields(obj)}  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key != "kind" and defaults.get(key, MISSING) == value:
            continue
        if key == "name" and replace(obj, name="").name == value:  # type: ignore[type-var,attr-defined]
            continue  # the name it is given anyway: kept in step when the user edits
        if value is None:
            if defaults.get(key, MISSING) is not None:
                raise ConfigError(f"{type(obj).__name__}.{key} = None cannot be written as TOML")
            continue
        if isinstance(value, tuple):
            value = value[0] if len(value) == 1 and isinstance(value[0], str) else list(value)
        out[key] = value
    return out
