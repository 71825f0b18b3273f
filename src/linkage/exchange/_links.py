"""The feed's links to VDAB: frozen models, incremental and stable from run to run.

The first delivery fits a model per link (enterprises to employers, establishment
units to sites) and freezes it: the delivery's ``state/`` folder keeps the models,
the hash of the spec they belong to, and a fingerprint of every record each link
read (a 64-bit hash of the columns its spec reads). Every later run re-links with the
frozen models and only what changed: a link is kept, probability and all, unless one
of its two records is new, changed, gone, or had its earlier link let go
(:class:`linkage.pipeline.Increment`). A unit counts as changed too when its
enterprise's link changed, and a site when its employer's did, so that units stay
within their linked employer. Each changed link is reported with its reason.

Refitting is explicit (``refit=True``, ``linkage exchange refit``): new models, a
whole re-link, and every changed link reported as ``refit``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linkage.config import LinkSpec
from linkage.exceptions import ConfigError
from linkage.exchange._config import LinkSettings
from linkage.exchange._delivery import Delivery
from linkage.io import write_table
from linkage.model import FellegiSunter
from linkage.pipeline import Increment, LinkResult, ParentLinks, link

__all__ = ["FeedLinks", "carry_state", "link_to_vdab", "write_state"]

STATE = "state"
LINKS = ("enterprises", "establishments")
# Per link: the delivered link table, the left key and number, the right id.
_DELIVERED = {
    "enterprises": ("links_enterprises", "enterprise_key", "enterprise_number", "employer_id"),
    "establishments": (
        "links_establishments",
        "establishment_key",
        "establishment_number",
        "site_id",
    ),
}


def spec_hash(spec: LinkSpec) -> str:
    """A stable hash of everything a spec says (its frozen dataclasses' repr)."""
    return hashlib.sha256(repr(spec).encode("utf-8")).hexdigest()


def fingerprints(frame: pd.DataFrame, spec: LinkSpec, side: str) -> pd.DataFrame:
    """Per record (its id and sending party), a 64-bit hash of the input columns the
    spec reads. VDAB's records (no ``party`` column) are VDAB's: a purge of a sender
    can then prove the state holds none of its rows (see :func:`.scan_store`)."""
    ident = spec.left_id if side == "left" else spec.right_id
    columns = list(dict.fromkeys(c for f in spec.fields for c in f.source_for(side)))  # type: ignore[arg-type]
    values = frame[columns].astype("string").fillna("\x00")
    party = frame["party"].astype("string") if "party" in frame else "VDAB"
    return pd.DataFrame(
        {
            "id": frame[ident].astype("string").to_numpy(),
            "party": party,
            "fingerprint": pd.util.hash_pandas_object(values, index=False).to_numpy(np.uint64),
        }
    ).reset_index(drop=True)


def _changed(now: pd.DataFrame, before: pd.DataFrame) -> pd.Index:
    """Ids present now that are new since ``before``, or any of whose parties' rows
    is new, gone or differs."""
    merged = now.merge(
        before, on=["id", "party"], how="outer", suffixes=("", "_before"), indicator=True
    )
    differ = (merged["_merge"] != "both") | (merged["fingerprint"] != merged["fingerprint_before"])
    return pd.Index(merged.loc[differ, "id"].unique()).intersection(pd.Index(now["id"]))


@dataclass(frozen=True)
class FeedLinks:
    """What the feed's linking produced.

    ``tables``: the delivered link tables; ``state``: models and fingerprints for the
    next run (written by :func:`write_state`); ``changes``: per link, the changed
    links with their reason; ``timings``: seconds per link.
    """

    tables: dict[str, pd.DataFrame]
    specs: dict[str, LinkSpec]
    models: dict[str, FellegiSunter]
    fingerprints: dict[str, pd.DataFrame]
    changes: dict[str, pd.DataFrame]
    timings: dict[str, float]
    refitted: bool

    def summary(self) -> dict[str, Any]:
        """Counts of changed links by reason, and the models' hashes, for the manifest."""
        return {
            "models": {
                name: {
                    "sha256": _model_hash(model),
                    "frozen": not self.refitted,
                    "spec_sha256": spec_hash(self.specs[name]),
                }
                for name, model in self.models.items()
            },
            "changed": {
                name: {
                    str(k): int(v) for k, v in frame["reason"].value_counts().sort_index().items()
                }
                for name, frame in self.changes.items()
            },
        }


def _model_hash(model: FellegiSunter) -> str:
    text = json.dumps(model.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_state(folder: Path, feed: FeedLinks) -> None:
    """The next run's state, into a delivery being staged: ``state/``."""
    state = folder / STATE
    state.mkdir()
    for name, model in feed.models.items():
        model.save(state / f"model_{name}.json")
        (state / f"spec_{name}.sha256").write_text(spec_hash(feed.specs[name]) + "\n")
    for name, frame in feed.fingerprints.items():
        write_table(frame, state / f"fingerprints_{name}.parquet")
    for name, frame in feed.changes.items():
        write_table(frame, state / f"link_changes_{name}.parquet")


def carry_state(old: Path, new: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Bring a delivery's link state into its rewrite (a purge, an erasure): the frozen
    models and VDAB's fingerprints as they were, the senders' fingerprints only of the
    records still delivered, so that nothing of a removed record stays behind."""
    if not (old / STATE).is_dir():
        return
    state = new / STATE
    state.mkdir()
    for path in (*(old / STATE).glob("model_*.json"), *(old / STATE).glob("spec_*.sha256")):
        shutil.copy2(path, state / path.name)
    for name in LINKS:
        number = _DELIVERED[name][2]
        left = pd.read_parquet(old / STATE / f"fingerprints_{name}_left.parquet")
        delivered = tables[name][[number, "party"]].astype("string")
        still = pd.MultiIndex.from_frame(left[["id", "party"]]).isin(
            pd.MultiIndex.from_frame(delivered)
        )
        write_table(left[still], state / f"fingerprints_{name}_left.parquet")
        shutil.copy2(
            old / STATE / f"fingerprints_{name}_right.parquet",
            state / f"fingerprints_{name}_right.parquet",
        )


@dataclass(frozen=True)
class _Earlier:
    models: dict[str, FellegiSunter]
    fingerprints: dict[str, pd.DataFrame]
    links: dict[str, pd.DataFrame]


def _read_earlier(previous: Delivery, specs: dict[str, LinkSpec]) -> _Earlier | None:
    """The state a delivery left for the next run, or None (made before it existed)."""
    state = previous.path / STATE
    if not state.is_dir():
        return None
    models, prints, links = {}, {}, {}
    for name in LINKS:
        frozen = (state / f"spec_{name}.sha256").read_text().strip()
        if frozen != spec_hash(specs[name]):
            raise ConfigError(
                f"the {name} link spec changed since its model was frozen (delivery "
                f"{previous.run_id}); refit it: linkage exchange refit --config ... --apply"
            )
        models[name] = FellegiSunter.load(state / f"model_{name}.json")
        for side in ("left", "right"):
            prints[f"{name}_{side}"] = pd.read_parquet(
                state / f"fingerprints_{name}_{side}.parquet"
            )
        table, key, number, right = _DELIVERED[name]
        numbers = previous.table(name)[[key, number]].drop_duplicates(key)
        earlier = previous.table(table).merge(numbers, on=key)
        links[name] = (
            earlier[[number, right, "match_probability"]]
            .drop_duplicates(number)
            .astype({number: "string", right: "string"})
        )
    return _Earlier(models, prints, links)


def _reasons(
    before: pd.DataFrame,
    after: pd.DataFrame,
    number: str,
    right: str,
    changed: dict[str, pd.Index],
    new: dict[str, pd.Index],
    gone: dict[str, pd.Index],
    parent: dict[str, pd.Index],
    whole: str | None,
) -> pd.DataFrame:
    """Per left record whose link changed: the link before and after, and why
    (``whole``: the one reason of a whole link, "first delivery" or "refit")."""
    both = before[[number, right]].merge(
        after[[number, right]], on=number, how="outer", suffixes=("_before", "_after")
    )
    was, now = both[f"{right}_before"], both[f"{right}_after"]
    moved = both[~((was == now) | (was.isna() & now.isna())).fillna(False)].copy()
    if whole is not None:
        moved["reason"] = whole
        return moved.reset_index(drop=True)
    ids = moved[number]
    partner = moved[f"{right}_before"].fillna(moved[f"{right}_after"])
    reason = np.select(
        [
            ids.isin(new["left"]),
            ids.isin(gone["left"]),
            ids.isin(changed["left"]),
            partner.isin(new["right"]) | moved[f"{right}_after"].isin(new["right"]),
            partner.isin(gone["right"]),
            partner.isin(changed["right"]) | moved[f"{right}_after"].isin(changed["right"]),
            ids.isin(parent["left"]) | partner.isin(parent["right"]),
        ],
        [
            "left new",
            "left gone",
            "left changed",
            "right new",
            "right gone",
            "right changed",
            "parent's link changed",
        ],
        default="partner let go",
    )
    moved["reason"] = reason
    return moved.reset_index(drop=True)


def link_to_vdab(
    enterprises: pd.DataFrame,
    establishments: pd.DataFrame,
    employers: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    delivered: dict[str, pd.DataFrame],
    previous: Delivery | None,
    settings: dict[str, LinkSettings],
    refit: bool = False,
) -> FeedLinks:
    """Link enterprises to employers and establishment units to sites, for the feed.

    Parameters
    ----------
    enterprises, establishments : DataFrame
        Validated extracts, clear numbers, all parties (an enterprise sent by two
        parties is linked once).
    employers, sites : DataFrame
        VDAB's records, with ``employer_id`` and ``site_id`` (and ``employer_id``).
    delivered : dict
        The shaped tables (see :func:`linkage.exchange._shape.shape`), for keys and parties.
    previous : Delivery or None
        The delivery in force: its state makes this run incremental.
    settings : dict of str to LinkSettings
        Per link, its spec and, optionally, a saved model to freeze instead of fitting.
    refit : bool
        Fit new models and re-link everything, whatever the state says.
    """
    timings: dict[str, float] = {}
    sent = {
        "enterprises": enterprises[enterprises["enterprise_number"].notna()],
        "establishments": establishments[establishments["establishment_number"].notna()],
    }
    prints = {
        f"{name}_{side}": fingerprints(frame, settings[name].spec, side)
        for name, right_frame in (("enterprises", employers), ("establishments", sites))
        for side, frame in (("left", sent[name]), ("right", right_frame))
    }
    # An enterprise (unit) sent by both parties is linked once.
    left = sent["enterprises"].drop_duplicates("enterprise_number").reset_index(drop=True)
    units = sent["establishments"].drop_duplicates("establishment_number").reset_index(drop=True)
    inputs = {"enterprises": (left, employers), "establishments": (units, sites)}
    specs = {name: settings[name].spec for name in LINKS}
    earlier = None if refit or previous is None else _read_earlier(previous, specs)
    results: dict[str, LinkResult] = {}
    changes: dict[str, pd.DataFrame] = {}
    moved: dict[str, pd.Index] = {"left": pd.Index([]), "right": pd.Index([])}
    for name in LINKS:
        started = time.perf_counter()
        spec = specs[name]
        lframe, rframe = inputs[name]
        parents = ParentLinks.of(results["enterprises"]) if name == "establishments" else None
        number, right = spec.left_id, spec.right_id
        increment = None
        sets: dict[str, dict[str, pd.Index]] = {"changed": {}, "new": {}, "gone": {}, "parent": {}}
        if earlier is not None:
            for side in ("left", "right"):
                now, before = prints[f"{name}_{side}"], earlier.fingerprints[f"{name}_{side}"]
                sets["changed"][side] = _changed(now, before)
                sets["new"][side] = pd.Index(now["id"]).difference(pd.Index(before["id"]))
                sets["gone"][side] = pd.Index(before["id"]).difference(pd.Index(now["id"]))
            # Units of an enterprise whose link moved, sites of an employer whose did.
            left_also = lframe.loc[lframe["enterprise_number"].isin(moved["left"]), number]
            right_also = rframe.loc[rframe["employer_id"].isin(moved["right"]), right]
            sets["parent"] = {
                "left": pd.Index(left_also.astype("string")),
                "right": pd.Index(right_also.astype("string")),
            }
            increment = Increment(
                links=earlier.links[name],
                left_changed=sets["changed"]["left"].union(sets["parent"]["left"]),
                right_changed=sets["changed"]["right"].union(sets["parent"]["right"]),
            )
        result = link(
            lframe.astype({number: "string"}),
            rframe.astype({right: "string"}),
            spec,
            model=earlier.models[name] if earlier is not None else _given(settings[name]),
            parents=parents,
            increment=increment,
            names=(name, "employers" if name == "enterprises" else "sites"),
        )
        results[name] = result
        timings[f"link_{name}"] = time.perf_counter() - started
        before = earlier.links[name] if earlier is not None else _no_links(number, right)
        changes[name] = _reasons(
            before,
            result.links,
            number,
            right,
            sets["changed"],
            sets["new"],
            sets["gone"],
            sets["parent"],
            whole=None if earlier else "first delivery" if previous is None else "refit",
        )
        if name == "enterprises":
            moved = {
                "left": pd.Index(changes[name][number]),
                "right": pd.Index(
                    pd.concat(
                        [changes[name][f"{right}_before"], changes[name][f"{right}_after"]]
                    ).dropna()
                ),
            }
    return FeedLinks(
        tables=_delivered_links(results, delivered, sites),
        specs=specs,
        models={name: r.model for name, r in results.items()}
        if earlier is None
        else earlier.models,
        fingerprints=prints,
        changes=changes,
        timings=timings,
        refitted=earlier is None,
    )


def _given(settings: LinkSettings) -> FellegiSunter | None:
    """The saved model the configuration freezes, if any; it must fit the spec."""
    if settings.model is None:
        return None
    model = FellegiSunter.load(settings.model)
    if model.comparisons != settings.spec.comparisons:
        raise ConfigError(
            "the saved model compares other columns than the link's spec",
            source=settings.model.name,
        )
    return model


def _no_links(number: str, right: str) -> pd.DataFrame:
    return pd.DataFrame({number: pd.Series(dtype="string"), right: pd.Series(dtype="string")})


def _delivered_links(
    results: dict[str, LinkResult], delivered: dict[str, pd.DataFrame], sites: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The link tables as delivered: one row per link and sending party, by key."""
    ent, est = results["enterprises"], results["establishments"]
    ent_keys = delivered["enterprises"][["enterprise_key", "enterprise_number", "party"]]
    links_ent = ent_keys.astype({"enterprise_number": "string"}).merge(
        ent.links, on="enterprise_number"
    )[["enterprise_key", "party", "employer_id", "match_probability"]]
    est_keys = delivered["establishments"][["establishment_key", "establishment_number", "party"]]
    site_employer = sites[["site_id", "employer_id"]].drop_duplicates("site_id")
    site_employer = site_employer.astype({"site_id": "string"})
    links_est = (
        est_keys.astype({"establishment_number": "string"})
        .merge(est.links, on="establishment_number")
        .merge(site_employer, on="site_id", how="left")
    )[["establishment_key", "party", "site_id", "employer_id", "match_probability"]]
    return {"links_enterprises": links_ent, "links_establishments": links_est}
