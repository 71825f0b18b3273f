"""The quality report a sender can act on: per party a CSV, a page and a ledger.

Files, in a delivery's ``quality/`` folder, each named after its party (so that a
purge of the party takes them, and every other file of the folder is another
party's):

* ``<PARTY>.csv`` — every open defect, one row each: ``defect_id, status,
  first_seen`` and the report's columns (:data:`._quality.REPORT_COLUMNS`, without
  ``party``). The full list, for the sender's own tools.
* ``<PARTY>.html`` — the page a person reads: the defects by art. 8 kind, what
  changed since the last report (new, still open, fixed, withdrawn), and the rules
  most urgent first (severity, then count), each with its count, the fields it
  found and a few example record ids; never the whole list, never a value.
* ``<PARTY>.parquet`` — the ledger of the defects closed by this delivery (fixed or
  withdrawn; no file when none was): ``party, defect_id, status, defect, kind,
  severity, table, column, first_seen, closed_in``. No record id: a defect id is a keyed hash
  (:mod:`._defects`), so nothing of a record erased since can be read from it.
"""

from __future__ import annotations

import html
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv

from linkage.exchange._art8 import KINDS, REPORT_COLUMNS, SEVERITIES
from linkage.io import write_table

__all__ = ["LEDGER_COLUMNS", "STATUSES", "ranked", "write_quality"]

#: A defect's status in a report: found for the first time, found again, gone from
#: a record still sent (or corrected), gone with its record.
STATUSES = ("new", "open", "fixed", "withdrawn")
#: The columns of the closed defects' ledger.
LEDGER_COLUMNS = (
    "party",
    "defect_id",
    "status",
    "defect",
    "kind",
    "severity",
    "table",
    "column",
    "first_seen",
    "closed_in",
)
#: Example record ids shown per rule on the page.
EXAMPLES = 5
_CSV = ("defect_id", "status", "first_seen")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 background:#f6f7f9;color:#1d2430;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:1.6em;margin:0.2em 0}h2{font-size:1.2em;margin-top:1.8em}
p.lead{color:#4a5568;max-width:60em}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 16px;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{padding:6px 10px;border-bottom:1px solid #e2e6ea;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.9em;color:#2d3748;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border-radius:6px;padding:10px 14px;min-width:120px;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:1.5em}.card span{color:#4a5568;font-size:.9em}
.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:.85em;color:#fff}
.high{background:#c53030}.medium{background:#c05621}.low{background:#718096}
"""


def _escape(text: object) -> str:
    return "" if text is None or text is pd.NA or text != text else html.escape(str(text))


def ranked(defects: pd.DataFrame, *, examples: int = EXAMPLES) -> pd.DataFrame:
    """One row per rule: ``defect, kind, severity, count, fields, examples``, the most
    urgent first (severity, then count). ``fields`` lists the ``table.column`` it found
    (most frequent first), ``examples`` up to ``examples`` record ids."""
    columns = ["defect", "kind", "severity", "count", "fields", "examples"]
    if not len(defects):
        return pd.DataFrame(columns=columns)
    # A rule's kind and severity are its first row's (a groupby's "first" made a
    # Python string of every row's Arrow text).
    count = defects.groupby("defect", sort=False).size()
    first = defects.drop_duplicates("defect").set_index("defect")
    rules = first.loc[count.index, ["kind", "severity"]].assign(count=count.to_numpy("int64"))
    fields = (
        _field_counts(defects)
        .reset_index()
        .groupby("defect", sort=False)["field"]
        .agg(lambda f: ", ".join(f.head(4)) + (", ..." if len(f) > 4 else ""))
    )
    shown = _examples(defects, examples)
    some = (shown["table"].astype(str) + " " + shown["record_id"].astype(str)).groupby(
        shown["defect"], sort=False
    )
    rules["fields"] = fields.reindex(rules.index)
    rules["examples"] = some.agg("; ".join).reindex(rules.index).fillna("")
    rules["_sev"] = rules["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    rules = rules.sort_values(["_sev", "count"], ascending=[True, False], kind="stable")
    return rules.reset_index()[columns]


def _is_arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _field_counts(defects: pd.DataFrame) -> pd.Series:
    """``DataFrame({"defect", "field": "<table>.<column>"}).value_counts()``: the
    defects per rule and field, most first. Of Arrow text, each field is written
    once per rule, table and column (the same text: its missing value is ``<NA>``)."""
    where = defects[["defect", "table", "column"]]
    if not all(_is_arrow_text(where[c]) for c in ("table", "column")):
        field = (where["table"].astype(str) + "." + where["column"].astype(str)).rename("field")
        return pd.DataFrame({"defect": where["defect"], "field": field}).value_counts()
    groups = where.groupby(list(where.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = _first_rows(groups)
    each = where.iloc[first]
    field = each["table"].astype(str) + "." + each["column"].astype(str)
    counts = pd.DataFrame(
        {"defect": each["defect"].to_numpy(), "field": field.to_numpy(dtype=object)}
    ).assign(count=np.bincount(groups, minlength=len(first)))
    # As value_counts: the groups' sizes in the order of their keys, then by size.
    sizes = counts.groupby(["defect", "field"])["count"].sum()
    return sizes.sort_values(ascending=False)


def _first_rows(groups: np.ndarray) -> np.ndarray:
    """The first row of each group, of group numbers in order of first appearance."""
    seen = np.maximum.accumulate(np.concatenate([[-1], groups[:-1]]))
    return np.flatnonzero(groups > seen)


#: Rows of a rule looked at first for its examples (all of them if those repeat).
_LOOKED_AT = 64


def _examples(defects: pd.DataFrame, examples: int) -> pd.DataFrame:
    """Per rule, its first ``examples`` distinct (table, record id) with a record id."""
    ids = defects[["defect", "table", "record_id"]].dropna()
    ids = (
        ids[ids["record_id"].astype(str) != ""]
        if not _is_arrow_text(ids["record_id"])
        else ids[(ids["record_id"] != "").to_numpy(dtype=bool)]
    )
    rank = ids.groupby("defect", sort=False).cumcount().to_numpy()
    first = ids[rank < _LOOKED_AT].drop_duplicates()
    shown = first.groupby("defect", sort=False).head(examples)
    found = shown.groupby("defect", sort=False).size()
    rows = ids.groupby("defect", sort=False).size()
    short = found.reindex(rows.index, fill_value=0) < examples
    if (short & (rows > _LOOKED_AT)).any():  # a rule whose first rows repeat: all of it
        shown = ids.drop_duplicates().groupby("defect", sort=False).head(examples)
    return shown


def _cards(counts: dict[str, int]) -> str:
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card'><b>{n:,}</b><span>{_escape(k)}</span></div>"
            for k, n in counts.items()
        )
        + "</div>"
    )


def _rows(frame: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(
        f"<th class='n'>{_escape(c)}</th>" if c in numeric else f"<th>{_escape(c)}</th>"
        for c in frame.columns
    )
    body = []
    for row in frame.itertuples(index=False, name=None):  # a rule per row: a few dozen
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column == "severity":
                cells.append(f"<td><span class='sev {_escape(value)}'>{_escape(value)}</span></td>")
            elif column in numeric:
                cells.append(f"<td class='n'>{int(value):,}</td>")
            elif column == "examples":
                cells.append(f"<td><code>{_escape(value)}</code></td>")
            else:
                cells.append(f"<td>{_escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _changes(own: pd.DataFrame, closed: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per rule, how many defects are new, still open, fixed and withdrawn."""
    if "status" not in own.columns:
        return None
    parts = [own[["defect", "status"]]]
    if closed is not None and len(closed):
        parts.append(closed[["defect", "status"]])
    both = pd.concat(parts, ignore_index=True)
    table = (
        pd.crosstab(both["defect"], pd.Categorical(both["status"], categories=list(STATUSES)))
        .reindex(columns=list(STATUSES), fill_value=0)
        .reset_index()
    )
    table.columns = ["rule", *STATUSES]
    return table.sort_values(["new", "fixed"], ascending=False, kind="stable")


def page(
    party: str,
    own: pd.DataFrame,
    run_id: str,
    closed: pd.DataFrame | None = None,
) -> str:
    """The HTML report of one party (see the module docstring)."""
    title = f"Data quality report for {party}"
    by_kind = own["kind"].value_counts() if len(own) else pd.Series(dtype="int64")
    kinds = {k: int(by_kind.get(k, 0)) for k in KINDS}
    rules = ranked(own)
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_escape(title)} (run {_escape(run_id)})</title><style>{_STYLE}</style>",
        f"</head><body><main><h1>{_escape(title)}</h1>",
        f"<p class='lead'>Run <code>{_escape(run_id)}</code>. Defects VDAB found in the data "
        f"received from {_escape(party)} under the protocol (art. 8: wrong, inaccurate, "
        "incomplete, missing, outdated or superfluous data), to be corrected at the source "
        "or answered with a corrections file. Records are named by your own ids and the row "
        f"of your extract; values are never repeated. The full list is <code>"
        f"{_escape(party)}.csv</code> ({len(own):,} rows), one defect a row with its "
        "<code>defect_id</code>, which stays the same from one report to the next.</p>",
        f"<h2>{len(own):,} open defects, by art. 8 kind</h2>",
        _cards(kinds),
    ]
    parts += [
        "<h2>Rules, most urgent first</h2>",
        "<p>Ranked by severity, then by count. The examples are record ids of your "
        "extract (table and id); the CSV lists every defect.</p>",
        _rows(rules, numeric=("count",)) if len(rules) else "<p>No defects.</p>",
    ]
    changes = _changes(own, closed)
    if changes is not None:
        totals = {s: int(changes[s].sum()) for s in STATUSES}
        parts += [
            "<h2>Since the last report, per rule</h2>",
            _cards(
                {
                    "new": totals["new"],
                    "still open": totals["open"],
                    **{s: totals[s] for s in ("fixed", "withdrawn")},
                }
            ),
            "<p>Fixed: the record is still sent and the rule no longer finds it, or a "
            "correction answered it. Withdrawn: the record is no longer sent.</p>",
            _rows(changes, numeric=STATUSES),
        ]
    parts.append("</main></body></html>\n")
    return "".join(parts)


def write_quality(
    folder: Path,
    defects: pd.DataFrame,
    *,
    parties: tuple[str, ...],
    run_id: str,
    closed: pd.DataFrame | None = None,
) -> dict[str, dict[str, int]]:
    """Write ``<party>.csv`` and ``<party>.html`` per party, and ``<party>.parquet``
    (the ledger) when ``closed`` is given; return the open defects' counts by rule.

    ``defects`` has the report's columns (and ``defect_id``, ``status``,
    ``first_seen`` once :mod:`._defects` has given them), as a run makes them or as
    a report's CSV reads back. Without ``closed``, a ledger already in ``folder`` is
    kept and shown on the page.
    """
    folder.mkdir(parents=True, exist_ok=True)
    front = [c for c in _CSV if c in defects.columns]
    order = front + [c for c in REPORT_COLUMNS if c != "party"]
    counts = {}
    # Each party's CSV written in a thread (Arrow's writer lets go of the GIL) while
    # the next party's report is made.
    writes = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="report") as pool:
        for party in parties:
            mine = (defects["party"] == party).to_numpy(dtype=bool)
            own = defects.loc[mine, order].reset_index(drop=True)
            table = pa.Table.from_pandas(own.astype({"row": "int64"}), preserve_index=False)
            options = csv.WriteOptions(quoting_style="needed")
            writes.append(pool.submit(csv.write_csv, table, folder / f"{party}.csv", options))
            ledger = folder / f"{party}.parquet"
            if closed is not None:
                gone = closed[(closed["party"] == party).to_numpy(dtype=bool)]
                if len(gone):
                    rows = gone[list(LEDGER_COLUMNS)].astype("string").reset_index(drop=True)
                    write_table(rows, ledger)
                else:  # none closed: no file (an empty table is no proof of anything)
                    ledger.unlink(missing_ok=True)
            gone = pd.read_parquet(ledger) if ledger.exists() else None
            page_html = page(party, own, run_id, gone)
            (folder / f"{party}.html").write_text(page_html, encoding="utf-8")
            by_rule = own["defect"].value_counts().sort_index()
            counts[party] = {str(k): int(v) for k, v in by_rule.items()}
    for write in writes:
        write.result()  # its error, if any, raised here
    return counts
