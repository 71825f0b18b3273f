"""Kinds: subclasses registered by name, and dataclasses built from plain data.

The comparison and blocking-rule libraries (:mod:`linkage.comparisons`,
:mod:`linkage.rules`) derive their base class from :class:`Kind`: a subclass
declared with ``kind="..."`` is registered under that name, and
:meth:`Kinds.from_dict` builds one from a TOML table or a saved model by its
``kind`` key. :func:`build` is the one way plain data becomes a settings dataclass,
with unknown keys and wrong types reported as a :class:`ConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any, ClassVar, Generic, TypeVar

from linkage.exceptions import ConfigError

T = TypeVar("T")


def build(cls: type[T], raw: Mapping[str, Any], *, where: str) -> T:
    """``cls(**raw)``, or a ConfigError at ``where`` naming the unknown or wrong keys."""
    allowed = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown}; allowed: {sorted(allowed)}", source=where)
    try:
        return cls(**raw)
    except ConfigError as exc:
        raise ConfigError(exc.detail, source=where) from None
    except (TypeError, ValueError) as exc:
        # A value of the wrong type (columns = 5, thresholds = "high").
        raise ConfigError(str(exc), source=where) from None


class Kinds(Generic[T]):
    """The kinds of one base class, by name; ``default`` when data names none."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.classes: dict[str, type[T]] = {}

    def __iter__(self) -> Iterator[str]:
        return iter(self.classes)

    def __getitem__(self, kind: str) -> type[T]:
        return self.classes[kind]

    def from_dict(self, raw: Mapping[str, Any], *, where: str) -> T:
        """An instance of the kind ``raw["kind"]`` names, the other keys its fields."""
        raw = dict(raw)
        kind = raw.pop("kind", self.default)
        cls = self.classes.get(kind)
        if cls is None:
            raise ConfigError(
                f"kind must be one of {', '.join(self.classes)}, not {kind!r}", source=where
            )
        return build(cls, raw, where=where)


class Kind:
    """A base class whose subclasses register by ``kind`` in the base's ``kinds``."""

    kind: ClassVar[str]
    kinds: ClassVar[Kinds[Any]]

    def __init_subclass__(cls, *, kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind
            cls.kinds.classes[kind] = cls

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a TOML table or a saved model holds it: ``kind`` and the fields."""
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in fields(self)}}  # type: ignore[arg-type]
