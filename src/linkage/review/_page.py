"""The labelling page: one self-contained HTML file (inline script and style, no
network), the sample embedded as JSON.

Keys m / n / u label the pair shown as match / non-match / unsure and move on; the
arrows move; a notes field is kept with the label. Labels are kept in the browser's
``localStorage`` as they are given (a reload keeps them) and downloaded as
``labels.csv`` (the sample's columns, ``label``, ``notes``, ``labelled_at``), which
``linkage review score`` reads.
"""

from __future__ import annotations

import hashlib
import html
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.io import atomic_path

__all__ = ["render", "write_page"]


def _cells(frame: pd.DataFrame) -> list[list[object]]:
    """The rows as JSON-ready lists: numbers as numbers, missing as None."""
    out = frame.astype(object).where(frame.notna(), None)
    return [
        [v.item() if isinstance(v, np.generic) else v for v in row]
        for row in out.itertuples(index=False, name=None)
    ]


def render(sample: pd.DataFrame, *, title: str = "review sample") -> str:
    """The page for ``sample`` (a frame from :func:`linkage.review.sample`)."""
    columns = [str(c) for c in sample.columns]
    fields = [c.removeprefix("left.") for c in columns if c.startswith("left.")]
    levels = [c.removeprefix("level_") for c in columns if c.startswith("level_")]
    rows = _cells(sample)
    payload = {"columns": columns, "rows": rows, "fields": fields, "levels": levels}
    text = json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":"))
    # The id keys the browser's store: the same sample, the same saved labels.
    payload["id"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    data = json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":"))
    # Inside <script>: no "</" may close it early, no "<!--" open a comment.
    data = data.replace("<", "\\u003c")
    template = resources.files("linkage.review").joinpath("page.html").read_text("utf-8")
    return template.replace("__TITLE__", html.escape(title)).replace("__DATA__", data)


def write_page(sample: pd.DataFrame, path: str | Path, *, title: str = "review sample") -> Path:
    """Write the labelling page for ``sample`` to ``path`` (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render(sample, title=title), encoding="utf-8")
    return path
