"""The protocol layer: the ETL job of the VLAIO/TBT -> VDAB exchange.

One call runs the exchange as the protocol describes it::

    >>> from linkage.exchange import load_config, run      # doctest: +SKIP
    >>> result = run(load_config("exchange.toml"))          # doctest: +SKIP
    >>> print(result.summary())                             # doctest: +SKIP

It reads each sending party's extracts of Gegeven 1-3 (CSV or Parquet), validates
them against the protocol schema, drops every column art. 3 does not list (and
refuses national register numbers anywhere), pseudonymises every key with the
exchange's key ring, links enterprises and establishment units to VDAB's employers
and sites, and delivers Parquet tables for the BI workspace with a manifest,
atomically. The other articles: :func:`purge` (art. 3, withdrawal and end),
:func:`quality_defects` and a sender's :func:`correct` (art. 8),
:func:`find_subject` / :func:`erase_subject` / :func:`rectify_subject` (art. 11),
the roles' security definitions and an employer's own view (:func:`employer_view`, art. 4),
the audit log (:func:`read_events`), the validity window (art. 14) in
:class:`ExchangeConfig`, and the store's own check and repair (:func:`verify_store`).
:func:`demo` runs it all on synthetic data with a key made on the spot.
"""

from __future__ import annotations

from linkage.exchange._audit import read_events
from linkage.exchange._config import ExchangeConfig, Renewal, Validity, load_config
from linkage.exchange._corrections import CorrectionReport, correct
from linkage.exchange._delivery import Delivery, read_delivery
from linkage.exchange._demo import DemoResult, demo
from linkage.exchange._extract import read_extracts
from linkage.exchange._purge import PurgeReport, purge, scan_store
from linkage.exchange._quality import quality_defects
from linkage.exchange._roles import EmployerView, Role, employer_view, load_roles
from linkage.exchange._run import RunResult, load_ring, preview_refit, run
from linkage.exchange._subjects import (
    SubjectReport,
    erase_subject,
    find_subject,
    rectify_subject,
)
from linkage.exchange._verify import StoreCheck, verify_store

__all__ = [
    "CorrectionReport",
    "Delivery",
    "DemoResult",
    "EmployerView",
    "ExchangeConfig",
    "PurgeReport",
    "Renewal",
    "Role",
    "RunResult",
    "StoreCheck",
    "SubjectReport",
    "Validity",
    "correct",
    "demo",
    "employer_view",
    "erase_subject",
    "find_subject",
    "load_config",
    "load_ring",
    "load_roles",
    "preview_refit",
    "purge",
    "quality_defects",
    "read_delivery",
    "read_events",
    "read_extracts",
    "rectify_subject",
    "run",
    "scan_store",
    "verify_store",
]
