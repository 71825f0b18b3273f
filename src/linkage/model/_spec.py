"""The spec a model was fitted for, and the check that a spec can use it.

A fitted model scores the agreement levels of its own comparisons, on columns made
the way they were when it was fitted. Used with a spec that compares other columns,
or the same ones with other levels, it would fail after prepare, block and compare
(``gamma`` of the wrong shape) or, worse, score levels that mean something else. A
model made by :meth:`FellegiSunter.from_spec` therefore keeps a :class:`SpecDigest`
(saved with it): the spec's sha256 and how each compared column is prepared. Its
comparisons it keeps anyway. :func:`check_spec` compares both with a spec before
any work and says what differs.

What a model does not depend on may differ: the blocking rules, the threshold, the
ids, a mapping of input column names (``LinkSpec.with_columns``). A spec that
differs only there uses the model; the sha256 says it is not the same spec.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linkage.comparisons import Comparison
from linkage.exceptions import ConfigError

if TYPE_CHECKING:
    from linkage.config import LinkSpec

__all__ = ["SpecDigest", "check_spec", "spec_sha256"]

log = logging.getLogger(__name__)


def spec_sha256(spec: LinkSpec) -> str:
    """A stable hash of everything a spec says (its frozen dataclasses' repr)."""
    return hashlib.sha256(repr(spec).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SpecDigest:
    """What a model keeps of the spec it was made for.

    Attributes
    ----------
    sha256 : str
        :func:`spec_sha256` of the whole spec.
    prepare : tuple of (str, str)
        Each compared column and the preparer that makes it (``("name", "name")``).
    """

    sha256: str
    prepare: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, spec: LinkSpec) -> SpecDigest:
        compared = dict.fromkeys(c.column for c in spec.comparisons)
        return cls(
            sha256=spec_sha256(spec),
            prepare=tuple((f.name, f.prepare) for f in spec.fields if f.name in compared),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "prepare": dict(self.prepare)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpecDigest:
        return cls(
            sha256=str(data["sha256"]),
            prepare=tuple((str(k), str(v)) for k, v in dict(data["prepare"]).items()),
        )


def check_spec(
    comparisons: Sequence[Comparison],
    digest: SpecDigest | None,
    spec: LinkSpec,
    *,
    source: str = "model",
) -> None:
    """Refuse a spec whose comparisons, or the preparation of their columns, are not
    the model's.

    Parameters
    ----------
    comparisons : sequence of Comparison
        The model's.
    digest : SpecDigest, optional
        The model's record of its spec (None for a model saved before it was kept:
        then only the comparisons are checked).
    spec : LinkSpec
    source : str
        The model, in the message (its file name).

    Raises
    ------
    ConfigError
        Saying each difference: a comparison only one of them has, one whose levels
        differ (the setting, in the model and in the spec), another order, a column
        prepared otherwise.
    """
    differences = _comparison_differences(tuple(comparisons), spec.comparisons)
    if digest is not None:
        made = dict(digest.prepare)
        for f in spec.fields:
            if f.name in made and made[f.name] != f.prepare:
                differences.append(
                    f"column {f.name!r} is prepared by {made[f.name]!r} in the model, "
                    f"by {f.prepare!r} in the spec"
                )
    if differences:
        raise ConfigError(
            f"fitted for another spec: {'; '.join(differences)}; fit a model for this "
            "spec (leave out the model), or use the spec it was fitted for",
            source=source,
        )
    if digest is not None and digest.sha256 != spec_sha256(spec):
        log.info(
            "%s: fitted with another spec whose comparisons and their columns are these; "
            "used as it is",
            source,
        )


def _comparison_differences(
    model: tuple[Comparison, ...], spec: tuple[Comparison, ...]
) -> list[str]:
    if model == spec:
        return []
    mine = {c.name: c for c in model}
    theirs = {c.name: c for c in spec}
    differences = [
        f"the model compares {name!r}, the spec does not" for name in mine if name not in theirs
    ]
    differences += [
        f"the spec compares {name!r}, the model does not" for name in theirs if name not in mine
    ]
    for name in (name for name in mine if name in theirs):
        a, b = mine[name].to_dict(), theirs[name].to_dict()
        changed = [
            f"{key} {a.get(key)!r} in the model, {b.get(key)!r} in the spec"
            for key in dict.fromkeys([*a, *b])
            if a.get(key) != b.get(key)
        ]
        if changed:
            differences.append(f"comparison {name!r}: {', '.join(changed)}")
    if not differences:
        differences.append(
            f"the comparisons are in another order: {[c.name for c in model]} in the model, "
            f"{[c.name for c in spec]} in the spec"
        )
    return differences
