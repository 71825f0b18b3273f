"""Art. 12: what a delivery is used for, and the senders' approvals of it.

The protocol's own purpose (art. 2: VDAB's tasks, serving employers without asking
them again for what government knows) is ``"protocol"``. Art. 12 asks the *prior*
approval of the party that sent the data for two more: use in an AI system
(``"ai"``) and in direct marketing (``"direct_marketing"``). ``[purposes] use``
marks a delivery for its purposes; ``[purposes.approvals.<party>]`` records each
party's answer (approved or not, the reference of its decision, its date).

A run marked for a purpose needing approval is refused, before any work and
audited, unless every sending party approved it, with a reference, on or before
the day of the run (:meth:`Purposes.check`). The manifest records ``purposes``
(:meth:`Purposes.as_dict`), and every table the run delivers carries the same in
its Parquet schema metadata under :data:`METADATA_KEY` (:func:`file_metadata`).

The linkage model is itself a statistical model run on these data: the
Fellegi-Sunter model is fitted by EM on the extracts at the first delivery and at
each refit, and scores every later run. Whether that is an "AI system" in the
sense of art. 12 is for the parties to decide; an approval of ``"ai"`` can be
recorded for it like any other.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linkage.exceptions import ConfigError

__all__ = ["METADATA_KEY", "NEEDS_APPROVAL", "PURPOSES", "Approval", "Purposes", "file_metadata"]

#: The protocol's own purpose, which needs no approval beyond the protocol.
PROTOCOL = "protocol"
#: The purposes art. 12 makes subject to the sending party's prior approval.
NEEDS_APPROVAL = ("ai", "direct_marketing")
PURPOSES = (PROTOCOL, *NEEDS_APPROVAL)
#: The key of the delivered Parquet files' schema metadata that holds the purposes (JSON).
METADATA_KEY = b"linkage.purposes"


def _hint(value: object, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(choices)}"


@dataclass(frozen=True, kw_only=True)
class Approval:
    """One party's answer to one purpose: approved or not, the reference of its
    decision and its date (both required when approved)."""

    approved: bool
    reference: str | None = None
    date: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "reference": self.reference,
            "date": self.date.isoformat() if self.date else None,
        }


@dataclass(frozen=True, kw_only=True)
class Purposes:
    """``[purposes]``: what the delivery is used for, and the approvals of art. 12.

    Attributes
    ----------
    use : tuple of str
        The purposes the delivery is marked for (:data:`PURPOSES`).
    approvals : dict of party to dict of purpose to Approval
        Each party's recorded answers, for purposes in :data:`NEEDS_APPROVAL`.
    """

    use: tuple[str, ...] = (PROTOCOL,)
    approvals: dict[str, dict[str, Approval]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.use:
            raise ConfigError(f"[purposes] use: name at least one purpose, e.g. {PROTOCOL!r}")
        for purpose in self.use:
            if purpose not in PURPOSES:
                raise ConfigError(
                    f"[purposes] use: unknown purpose {purpose!r}; {_hint(purpose, PURPOSES)}"
                )
        if len(set(self.use)) != len(self.use):
            raise ConfigError(f"[purposes] use: a purpose named twice in {list(self.use)}")
        for party, answers in self.approvals.items():
            for purpose, approval in answers.items():
                where = f"[purposes.approvals.{party}] {purpose}"
                if purpose not in NEEDS_APPROVAL:
                    raise ConfigError(
                        f"{where}: not a purpose needing approval; "
                        + (
                            "the protocol's own purpose needs none"
                            if purpose == PROTOCOL
                            else _hint(purpose, NEEDS_APPROVAL)
                        )
                    )
                if not isinstance(approval.approved, bool):
                    raise ConfigError(
                        f"{where} approved: expected true or false, got {approval.approved!r}"
                    )
                reference = approval.reference
                if reference is not None and (not isinstance(reference, str) or not reference):
                    raise ConfigError(f"{where} reference: expected text, got {reference!r}")
                if approval.approved and (reference is None or approval.date is None):
                    raise ConfigError(
                        f"{where}: an approval needs the reference of the party's decision "
                        "and its date (reference = ..., date = YYYY-MM-DD)"
                    )

    def check(self, parties: tuple[str, ...], today: dt.date) -> None:
        """Refuse a delivery marked for a purpose that a sending party has not
        approved (art. 12): no approval recorded, ``approved = false``, or an
        approval dated after ``today`` (not prior).

        Raises
        ------
        ConfigError
            One line naming the party and the purpose.
        """
        for purpose in self.use:
            if purpose not in NEEDS_APPROVAL:
                continue
            for party in parties:
                approval = self.approvals.get(party, {}).get(purpose)
                fix = (
                    f"record its approval in [purposes.approvals.{party}] {purpose}, or "
                    f"remove {purpose!r} from [purposes] use"
                )
                marked = f"the delivery is marked for {purpose!r} (art. 12: prior approval)"
                if approval is None:
                    raise ConfigError(f"{marked}, which {party} has not approved: {fix}")
                if not approval.approved:
                    ref = f" ({approval.reference})" if approval.reference else ""
                    raise ConfigError(f"{marked}, which {party} did not approve{ref}: {fix}")
                if approval.date is not None and approval.date > today:
                    raise ConfigError(
                        f"{marked}: {party}'s approval ({approval.reference}) is dated "
                        f"{approval.date}, after today {today}, so it is not prior"
                    )

    def as_dict(self) -> dict[str, Any]:
        """What the manifest and the Parquet files record: the use, every approval."""
        return {
            "use": list(self.use),
            "approvals": {
                party: {purpose: a.as_dict() for purpose, a in sorted(answers.items())}
                for party, answers in sorted(self.approvals.items())
            },
        }


def file_metadata(purposes: Mapping[str, Any] | None) -> dict[bytes, bytes]:
    """The Parquet schema metadata that records a manifest's ``purposes`` (none for a
    delivery made before they were recorded).

    >>> file_metadata({"use": ["protocol"], "approvals": {}})
    {b'linkage.purposes': b'{"approvals": {}, "use": ["protocol"]}'}
    """
    if not purposes:
        return {}
    return {METADATA_KEY: json.dumps(purposes, sort_keys=True).encode("utf-8")}
