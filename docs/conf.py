"""Sphinx configuration of the linkage documentation.

Build it strictly, as CI does (``.ci/run``)::

    pip install -e '.[docs]'
    python -m sphinx -W --keep-going -b html docs build/docs

Why Sphinx rather than MkDocs: the docstrings are numpydoc with reST inside
(``:func:`x```, ``:class:``, double-backquoted literals, ``::`` blocks such as the
exchange configuration in ``linkage.exchange._config``), which Sphinx's autodoc and
napoleon render as written; mkdocstrings reads docstrings as Markdown and would show
the roles raw. MyST lets the pages themselves be Markdown, as ``docs/architecture.md``
and the README are.

Pages are Markdown (MyST). The API reference is read from the docstrings (autodoc,
numpydoc sections by napoleon); the spec schema, the presets' columns and the CLI
reference are generated from the code at build time by ``docs/_ext/linkage_docs.py``,
so they cannot drift from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))  # the source tree, installed or not

import linkage  # noqa: E402

project = "linkage"
author = "VLAIO / TBT - VDAB exchange"
release = version = linkage.__version__
copyright = "EUPL-1.2"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "linkage_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The docstrings are numpydoc, with Sphinx roles (:func:, :class:, ``code``).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = True  # one "Return type", not autodoc's beside napoleon's
autodoc_member_order = "bysource"
# Signatures without types (a dataclass's would spell out every NDArray); the types are
# in the numpydoc sections, and autodoc adds those of documented parameters without one.
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
add_module_names = False

html_theme = "furo"
html_title = f"linkage {release}"
html_show_sourcelink = False
html_static_path: list[str] = []
