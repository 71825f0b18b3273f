"""Kinds: a registry of the subclasses of a base class, each named by its ``kind``.

The comparison and blocking-rule libraries (:mod:`linkage.comparisons`,
:mod:`linkage.rules`) register each kind of theirs here by a class keyword, and
build one from plain data (a TOML table, a saved model) by its ``kind`` key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Generic, TypeVar

from linkage.exceptions import ConfigError

T = TypeVar("T")


class Kinds(Generic[T]):
    """The kinds of one base class, by name; ``default`` when data names none."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.classes: dict[str, type[T]] = {}

    def register(self, cls: type[T], kind: str) -> None:
        cls.kind = kind  # type: ignore[attr-defined]
        self.classes[kind] = cls

    def __iter__(self) -> Any:
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
                f"{where}: kind must be one of {', '.join(self.classes)}, not {kind!r}"
            )
        allowed = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        try:
            return cls(**raw)
        except ConfigError as exc:
            raise ConfigError(exc.detail, source=where) from None
        except (TypeError, ValueError) as exc:
            # A value of the wrong type (columns = 5, thresholds = "high").
            raise ConfigError(f"{exc}", source=where) from None


def as_dict(instance: Any) -> dict[str, Any]:
    """A registered dataclass as plain data: its ``kind`` and its fields."""
    return {"kind": instance.kind, **{f.name: getattr(instance, f.name) for f in fields(instance)}}
