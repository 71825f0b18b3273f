"""Art. 8's six kinds of defect, the severities, and the catalogue of the report's rules.

The table of rules, with what each finds, is the docstring of :mod:`._quality`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "REPORT_COLUMNS", "RULES", "SEVERITIES", "Rule"]


@dataclass(frozen=True)
class Rule:
    """What a rule's defects are under art. 8, and how much they matter."""

    kind: str
    severity: str


#: Art. 8's six kinds, in the order the report lists them.
KINDS = ("wrong", "inaccurate", "incomplete", "missing", "outdated", "superfluous")
#: Severities, most urgent first.
SEVERITIES = ("high", "medium", "low")

#: Every rule of the report (``defect``), its art. 8 kind and severity.
RULES: dict[str, Rule] = {
    "national register number": Rule("superfluous", "high"),
    "invalid number": Rule("wrong", "high"),
    "invalid phone": Rule("wrong", "medium"),
    "invalid e-mail": Rule("wrong", "medium"),
    "invalid website": Rule("wrong", "medium"),
    "invalid postcode": Rule("wrong", "medium"),
    "postcode not of the municipality": Rule("wrong", "medium"),
    "not in code list": Rule("wrong", "medium"),
    "date in the future": Rule("wrong", "high"),
    "paid more than granted": Rule("wrong", "high"),
    "dates out of order": Rule("inaccurate", "medium"),
    "open dossier of a stopped enterprise": Rule("inaccurate", "medium"),
    "legal form of a natural person": Rule("inaccurate", "medium"),
    "differs between parties": Rule("inaccurate", "medium"),
    "differs between rows": Rule("inaccurate", "medium"),
    "differs from VDAB's employer": Rule("inaccurate", "low"),
    "unknown reference": Rule("incomplete", "high"),
    "contact cannot be reached": Rule("incomplete", "medium"),
    "legal person without legal form": Rule("incomplete", "low"),
    "missing required field": Rule("missing", "high"),
    "outdated assessment": Rule("outdated", "low"),
    "duplicate": Rule("superfluous", "medium"),
    "personal e-mail address": Rule("superfluous", "high"),
}
assert all(r.kind in KINDS and r.severity in SEVERITIES for r in RULES.values())

#: The columns of a quality report, in order.
REPORT_COLUMNS = (
    "party",
    "table",
    "record_id",
    "column",
    "defect",
    "kind",
    "severity",
    "detail",
    "file",
    "row",
)
