"""The README's main job: the whole exchange on synthetic data, in one call.

:func:`demo` generates a synthetic exchange, writes each sending party's extracts
(VLAIO's as CSV, TBT's as Parquet, as two real senders might; TBT's enterprises with
some of its own Dutch headers, which the configuration maps), makes a key ring on
the spot (held in memory only: its pseudonyms cannot be re-made after the run),
writes a configuration, runs the exchange, and scores the delivered links against
the synthetic truth.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from linkage.evaluate import LinkQuality, link_quality
from linkage.exceptions import ConfigError
from linkage.exchange._config import load_config
from linkage.exchange._run import RunResult, run
from linkage.exchange._schema import EXTRACTS
from linkage.keys import KeyRing

if TYPE_CHECKING:
    from linkage.synthetic import SyntheticExchange

__all__ = ["DemoResult", "demo", "write_exchange"]

EXCHANGE = "vlaio-vdab-2025"
_FORMATS = {"VLAIO": "csv", "TBT": "parquet"}
_DEMO_RENEWAL = dt.date(2027, 12, 31)
#: The headers a sender writes instead of the protocol's column names: party ->
#: table -> column -> header (``[extracts.<party>.columns.<table>]``). Not the
#: enterprise number nor the name, which ``benchmarks/bench_exchange.py`` edits by name.
DEMO_COLUMNS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "TBT": {
        "enterprises": {
            "legal_form": "rechtsvorm",
            "start_date": "oprichtingsdatum",
            "street": "straat",
            "house_number": "huisnummer",
            "box": "bus",
            "municipality": "gemeente",
        }
    }
}

_TOML = """\
# Written by linkage.exchange.demo: the synthetic exchange, {n:,} enterprises, seed {seed}.
exchange = "{exchange}"
protocol = "Protocol VLAIO en TBT - VDAB (decreet 18 juli 2008, art. 8), 2025: synthetic demo"
parties = ["VLAIO", "TBT"]

[validity]
# The signed protocol (art. 14) ran from 2025-11-15 to 2026-05-15. The demo records
# its own renewal so that it runs today; a real renewal names the signed addendum.
start = 2025-11-15
end = 2026-05-15
renewals = [{{ end = {renewal}, reference = "synthetic demo only: not a signed renewal" }}]

[keys]
# The demo's ring is the master secret in this variable if it was set (openssl rand
# -base64 32), else one made in memory for one run: then a run or subject request on
# this config needs a secret here, and makes other keys.
env = "LINKAGE_MASTER_KEY"

{extracts}
[vdab]
employers = "vdab/employers.parquet"
sites = "vdab/sites.parquet"

[output]
store = "delivery"
audit_log = "audit.jsonl"
"""


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """The run, the link quality against the truth, and the timings."""

    out: Path
    result: RunResult = field(repr=False)
    enterprises: LinkQuality
    without_number: LinkQuality
    establishments: LinkQuality
    timings: dict[str, float]

    def summary(self) -> str:
        return "\n".join(
            [
                self.result.summary(),
                f"enterprise links vs truth: {self.enterprises}",
                f"  of which employers without an enterprise number: {self.without_number}",
                f"establishment links vs truth: {self.establishments}",
                "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.timings.items()),
                f"configuration: {self.out / 'exchange.toml'}; audit log: "
                f"{self.out / 'audit.jsonl'}",
            ]
        )


def _prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / "exchange.toml").exists() or not (out / "extracts").exists():
            raise ConfigError(f"{out}: exists and is not an earlier demo; choose a new directory")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


#: Shares of the art. 3 plurals a sender's export holds: enterprises with a second
#: e-mail address in the cell (``info@`` their own domain), dossiers with a second
#: service (a row more, with its own amounts).
SECOND_EMAIL, SECOND_SERVICE = 0.05, 0.05


def _plurals(name: str, own: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A party's extract with the plurals of :data:`SECOND_EMAIL` / ``SECOND_SERVICE``."""
    rng = np.random.default_rng([seed, 3])
    if name == "enterprises":
        email = own["email"].astype("string")
        domain = email.str.extract(r"@(.+)$", expand=False)
        second = (rng.random(len(own)) < SECOND_EMAIL) & domain.notna().to_numpy(dtype=bool)
        second &= ~email.str.startswith("info@").fillna(True).to_numpy(dtype=bool)
        return own.assign(email=email.where(~second, email + "; info@" + domain))
    if name == "dossiers":
        rows = np.flatnonzero(rng.random(len(own)) < SECOND_SERVICE)
        other = own.iloc[rng.permutation(rows)] if rows.size else own.iloc[rows]
        more = own.iloc[rows].copy()
        for column in ("service_id", "service_name", "service_description"):
            more[column] = other[column].to_numpy()
        more = more[(more["service_id"] != own["service_id"].iloc[rows]).to_numpy(dtype=bool)]
        more["granted_amount"] = more["granted_amount"] / 2
        more["paid_amount"] = more["paid_amount"] / 2
        return pd.concat([own, more]).sort_index(kind="stable")
    return own


def write_exchange(
    exchange: SyntheticExchange,
    out: Path,
    *,
    today: dt.date | None = None,
    columns: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    plurals: bool = False,
) -> Path:
    """Write a synthetic exchange as per-party extracts, VDAB's files and a config.

    The config's made-up renewal runs to 2027-12-31, or a year after ``today`` (the
    date it is written by default) if that is later: the demo never expires.
    ``columns`` (party -> table -> column -> header) writes those columns under the
    sender's own headers and maps them in the config; by default
    :data:`DEMO_COLUMNS`, ``{}`` for the protocol's names everywhere. ``plurals``
    writes art. 3's plurals as a sender's export holds them (:data:`SECOND_EMAIL`).
    Returns the path of the configuration (``out/exchange.toml``).
    """
    renewal = max(_DEMO_RENEWAL, (today or dt.date.today()) + dt.timedelta(days=365))
    columns = DEMO_COLUMNS if columns is None else columns
    sections = []
    for party, fmt in _FORMATS.items():
        folder = out / "extracts" / party
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"[extracts.{party}]"]
        mapped = []
        for name in EXTRACTS:
            frame = getattr(exchange, name)
            own = frame[frame["party"] == party].drop(columns="party")
            if plurals:
                own = _plurals(name, own, exchange.seed)
            if name == "enterprises":
                # What a CRM export carries beyond art. 3: the run drops and reports it.
                own = own.assign(crm_segment="KMO", internal_notes=None)
            if mapping := columns.get(party, {}).get(name):
                own = own.rename(columns=dict(mapping))
                mapped.append(f"[extracts.{party}.columns.{name}]")
                mapped.extend(
                    f"{c} = {json.dumps(h, ensure_ascii=False)}" for c, h in mapping.items()
                )
            path = folder / f"{name}.{fmt}"
            if fmt == "csv":
                own.to_csv(path, index=False, date_format="%Y-%m-%d")
            else:
                own.to_parquet(path, index=False)
            lines.append(f'{name} = "extracts/{party}/{path.name}"')
        if mapped:
            lines.append(f"# {party}'s own headers: the protocol's column = the header in its file")
            lines.extend(mapped)
        sections.append("\n".join(lines) + "\n")
    (out / "vdab").mkdir(exist_ok=True)
    exchange.employers.to_parquet(out / "vdab" / "employers.parquet", index=False)
    exchange.sites.to_parquet(out / "vdab" / "sites.parquet", index=False)
    path = out / "exchange.toml"
    path.write_text(
        _TOML.format(
            n=exchange.n_enterprises,
            seed=exchange.seed,
            exchange=EXCHANGE,
            renewal=renewal.isoformat(),
            extracts="\n".join(sections),
        ),
        encoding="utf-8",
    )
    return path


def demo(out_dir: str | Path, *, n_enterprises: int = 20_000, seed: int = 7) -> DemoResult:
    """Run the whole exchange on a synthetic one (see the module docstring).

    Parameters
    ----------
    out_dir : path
        New or empty directory (an earlier demo there is replaced).
    n_enterprises : int
        Enterprises on VLAIO/TBT's side.
    seed : int
        Seed of the synthetic exchange.
    """
    from linkage.synthetic import generate

    out = Path(out_dir)
    _prepare_out(out)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    exchange = generate(n_enterprises=n_enterprises, seed=seed)
    timings["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    config_path = write_exchange(exchange, out, plurals=True)
    timings["write extracts"] = time.perf_counter() - started
    started = time.perf_counter()
    # The master secret in LINKAGE_MASTER_KEY if one is set (so that the requests and
    # runs that follow use the same keys), else one made for this run only.
    config = load_config(config_path)
    ring = (
        KeyRing.from_env(exchange=EXCHANGE)
        if os.environ.get("LINKAGE_MASTER_KEY", "").strip()
        else KeyRing.generate(exchange=EXCHANGE)
    )
    result = run(config, ring=ring)
    timings["run"] = time.perf_counter() - started
    delivered = result.path
    ent = pd.read_parquet(
        delivered / "enterprises.parquet", columns=["enterprise_key", "enterprise_number"]
    ).drop_duplicates()
    est = pd.read_parquet(
        delivered / "establishments.parquet", columns=["establishment_key", "establishment_number"]
    ).drop_duplicates()
    links_ent = pd.read_parquet(delivered / "links_enterprises.parquet").merge(ent)
    links_est = pd.read_parquet(delivered / "links_establishments.parquet").merge(est)
    # The hard slice: VDAB records that carry no enterprise number at all.
    no_number = set(
        exchange.employers.loc[exchange.employers["enterprise_number"].isna(), "employer_id"]
    )
    truth = exchange.truth_enterprises
    quality: dict[str, Any] = {
        "enterprises": link_quality(links_ent, truth, on=("enterprise_number", "employer_id")),
        "without_number": link_quality(
            links_ent[links_ent["employer_id"].isin(no_number)],
            truth[truth["employer_id"].isin(no_number)],
            on=("enterprise_number", "employer_id"),
        ),
        "establishments": link_quality(
            links_est, exchange.truth_establishments, on=("establishment_number", "site_id")
        ),
    }
    return DemoResult(out=out, result=result, timings=timings, **quality)
