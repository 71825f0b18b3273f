"""Reference pages generated from the code at build time, so that they cannot drift.

A page holds a marker line, ``<!-- generated: NAME -->``, that the ``source-read``
event replaces with the Markdown of ``GENERATORS[NAME]``:

* ``spec-schema`` — every key of a TOML link spec: the fields of ``LinkSpec``,
  ``ModelSettings`` and ``Field``, every registered blocking-rule kind and
  comparison kind with its own keys, and every registered preparer; each with its
  TOML type and default, read from the dataclasses, and its meaning, read from the
  docstrings (numpydoc ``Parameters`` / ``Attributes``) or, for the few keys no
  docstring describes, from ``MEANINGS`` below;
* ``presets`` — each preset's ids, fields and the logical columns they read;
* ``cli`` — ``--help`` of the ``linkage`` command and every subcommand;
* ``other-pages`` — in the home page's last toctree, every page no toctree lists.

``tests/test_docs.py`` holds these complete (every key described, every kind and
command present). The functions return plain Markdown and import nothing from
Sphinx, so the tests call them directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from linkage import presets
from linkage.comparisons import Comparison
from linkage.config import Field, LinkSpec, ModelSettings
from linkage.model import FellegiSunter
from linkage.preparers import PREPARERS
from linkage.rules import BlockingRule

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)

# Keys that no docstring describes; every other key's meaning is read from the code.
MEANINGS: dict[str, str] = {
    "LinkSpec.left_id": "the column naming a record in the left table (unique)",
    "LinkSpec.right_id": "the column naming a record in the right table (unique)",
    "LinkSpec.fields": "the derived columns: `[[fields]]` tables, below",
    "LinkSpec.blocking": "the rules proposing candidate pairs: `[[blocking]]` tables, below",
    "LinkSpec.comparisons": "the agreement levels the model weighs: `[[comparisons]]` tables",
    "LinkSpec.model": "the Fellegi-Sunter settings: the `[model]` table, below",
    "LinkSpec.threshold": "the match probability a pair needs to be linked, in (0, 1)",
    "LinkSpec.one_to_one": "keep at most one link per record (the best), else every pair "
    "over the threshold",
    "LinkSpec.chunk_size": "candidate pairs compared at once (memory against speed)",
    "Field.name": "the derived column's name, which blocking rules and comparisons use",
    "Field.source": "the input column(s) it is made from, on both sides; several only "
    "for `address` (street, house number, box)",
    "Field.prepare": "the preparer: one of the table below",
    "Field.left_source": "the left table's own column(s), instead of `source`",
    "Field.right_source": "the right table's own column(s), instead of `source`",
    "Field.optional": "left out, with a note, when a table lacks its column (a column "
    "you named is never optional)",
    "Comparison.column": "the field compared",
    "Comparison.term_frequency": "an agreement on a rare value counts for more than one "
    "on a common value",
    "Comparison.decisive": "its exact level settles a pair (two equal, valid enterprise "
    "numbers); the model is anchored on it",
    "Comparison.name": "how the comparison is named in output and charts (default: its column)",
    "scorer": "the rapidfuzz scorer",
    "Similarity.thresholds": "one level per threshold: similarities in (0, 1], highest first",
    "Distance.thresholds": "one level per threshold: whole numbers of edits, smallest first",
    "thresholds": "one level per threshold",
    "SplitBlockOn.split_by": "fields that split a block over `max_block_size`, in turn, "
    "instead of skipping it",
    "SortedNeighbourhood.window": "how many neighbours of the other side each record "
    "is paired with, once both are sorted on the key",
}

PREPARER_MEANINGS: dict[str, str] = {
    "text": "lower case, white space collapsed",
    "company_name": "a company name: legal form and punctuation off, lower case",
    "name_sorted": "the normalised name's words in order (`Bakkerij Peeters` = `Peeters Bakkerij`)",
    "name_tokens": "the normalised name's words, as a list (for a `tokens` rule)",
    "name_prefix": "the first four letters of the normalised name",
    "address": "street and house number, from one address line or from (street, number[, box])",
    "email": "an e-mail address, checked and lower case",
    "email_domain": "the domain of an e-mail address",
    "legal_form": "the legal form found in a company name (BV, NV, VZW, ...)",
    "enterprise_number": "an enterprise number in any written form, checked (mod 97)",
    "establishment_number": "an establishment-unit number in any written form, checked",
    "number_digits": "the digits of an enterprise or unit number, unchecked (a typo still "
    "compares)",
    "street": "a street name, abbreviations written out",
    "postcode": "a Belgian postcode",
    "phone": "a phone number in E.164, every possible number, valid or not (validity is "
    "the quality report's)",
    "website": "a web host, without scheme and `www.`",
}


# --- types and defaults, as TOML writes them -----------------------------------------


def toml_type(hint: Any) -> str:
    """A type hint in TOML's words: ``str | tuple[str, ...]`` is "string or list of strings"."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(hint))
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        words = " or ".join(toml_type(a) for a in args)
        return " or ".join(dict.fromkeys(words.split(" or ")))
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if item is str:  # every list of column names takes one name as a string too
            return "string or list of strings"
        return f"list of {_plural(toml_type(item))}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if hint in names:
        return names[hint]
    if hint is ModelSettings:
        return "table"
    if isinstance(hint, type):
        return "tables" if hint in (Field, BlockingRule, Comparison) else hint.__name__
    return str(hint)


def _plural(word: str) -> str:
    return {"tables": "tables"}.get(word, word + "s" if word.isalpha() else word)


def default_of(f: dataclasses.Field[Any]) -> str:
    """A field's default as it reads in TOML, or "required"."""
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        return "its defaults"
    else:
        return "required"
    if value is None:
        return "none"
    if value == "" and f.name == "name":
        return "made from its column(s)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(repr(v) if isinstance(v, str) else f"{v:g}" for v in value) + "]`"
    if isinstance(value, int):
        return f"`{value:_}`" if value >= 10_000 else f"`{value}`"  # TOML reads 1_000
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


# --- meanings, read from numpydoc sections ----------------------------------------------


def documented(obj: object) -> dict[str, str]:
    """``name : type`` entries of an object's numpydoc Parameters and Attributes, joined
    to one line each (``a, b : int`` gives both)."""
    doc = inspect.cleandoc(getattr(obj, "__doc__", None) or "")
    found: dict[str, str] = {}
    section = ""
    names: list[str] = []
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and line.strip():
            section, names = line.strip(), []
            continue
        if section not in ("Parameters", "Attributes") or set(line.strip()) == {"-"}:
            continue
        head = re.match(r"^([A-Za-z_][\w, ]*?)\s*(?::.*)?$", line)
        if line and not line.startswith(" ") and head:
            names = [n.strip() for n in head.group(1).split(",")]
            for name in names:
                found.setdefault(name, "")
        elif line.startswith(" ") and names:
            for name in names:
                found[name] = (found[name] + " " + line.strip()).strip()
    return {k: v for k, v in found.items() if v}


def meaning(cls: type, name: str) -> str:
    """What a key means: ``MEANINGS`` for the class (or a base) or the bare key, else the
    docstrings of the class, its bases and the estimator its settings feed."""
    for klass in cls.__mro__:
        key = f"{klass.__name__}.{name}"
        if key in MEANINGS:
            return MEANINGS[key]
    if name in MEANINGS:
        return MEANINGS[name]
    sources: list[object] = [*cls.__mro__]
    if cls is ModelSettings:
        sources.append(FellegiSunter)
    for source in sources:
        text = documented(source).get(name)
        if text:
            text = _markdown(text).rstrip(".")
            return text if text[1:2].isupper() else text[:1].lower() + text[1:]
    return ""


def _markdown(text: str) -> str:
    """reST inline markup as Markdown: ``code`` and :role:`target`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


# --- the pages -------------------------------------------------------------------------


def keys(cls: type, *, skip: tuple[str, ...] = ()) -> Iterator[tuple[str, str, str, str]]:
    """(key, TOML type, default, meaning) of each field of a settings dataclass."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in skip:
            yield f.name, toml_type(hints[f.name]), default_of(f), meaning(cls, f.name)


def _table(rows: Iterator[tuple[str, ...]] | list[tuple[str, ...]], head: tuple[str, ...]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in row]
        out.append("| " + " | ".join([f"`{cells[0]}`", *cells[1:]]) + " |")
    return "\n".join(out)


HEAD = ("key", "type", "default", "meaning")


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return _markdown(" ".join(doc.split("\n\n")[0].split()))


def _kinds(base: type, section: str, inherited: tuple[str, ...]) -> list[str]:
    """One section per registered kind: its own keys, after the keys every kind has."""
    out = [
        f"Keys of every `[[{section}]]` table:",
        "",
        _table(
            [("kind", "string", f'`"{base.kinds.default}"`', "the kind: a section below")]
            + [row for row in keys(base) if row[0] in inherited],
            HEAD,
        ),
    ]
    for kind in base.kinds:
        cls = base.kinds[kind]
        out += ["", f'### `kind = "{kind}"`', "", f"`{cls.__name__}`: {_first_line(cls)}", ""]
        own = [row for row in keys(cls) if row[0] not in inherited]
        changed = [
            (name, kind_, f"{default} for this kind", text)
            for name, kind_, default, text in keys(cls)
            if name in inherited and default != default_of(_field(base, name))
        ]
        if own or changed:
            out.append(_table([*own, *changed], HEAD))
        else:
            out.append("No keys beyond those above.")
    return out


def _field(cls: type, name: str) -> dataclasses.Field[Any]:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def spec_schema() -> str:
    """Every key of a TOML link spec, by table."""
    base_rule = tuple(f.name for f in dataclasses.fields(BlockingRule))
    base_comparison = tuple(f.name for f in dataclasses.fields(Comparison))
    out = [
        "## Top-level keys",
        "",
        "A whole spec (`linkage.LinkSpec`):",
        "",
        _table(keys(LinkSpec), HEAD),
        "",
        "## `[model]`",
        "",
        "The Fellegi-Sunter fit (`linkage.ModelSettings`; the parameters of "
        "`linkage.FellegiSunter`):",
        "",
        _table(keys(ModelSettings), HEAD),
        "",
        "## `[[fields]]`",
        "",
        "A derived column (`linkage.Field`), made on both sides by a preparer:",
        "",
        _table(keys(Field), HEAD),
        "",
        "## `[[blocking]]`",
        "",
        *_kinds(BlockingRule, "blocking", base_rule),
        "",
        "## `[[comparisons]]`",
        "",
        *_kinds(Comparison, "comparisons", base_comparison),
        "",
        "## Preparers",
        "",
        "The values of a field's `prepare` (`linkage.preparers.PREPARERS`):",
        "",
        _table(
            [
                (
                    name,
                    str(p.max_sources),
                    "yes" if p.from_names else "",
                    preparer_meaning(name),
                )
                for name, p in PREPARERS.items()
            ],
            ("prepare", "source columns at most", "from the normalised name", "what it makes"),
        ),
    ]
    return "\n".join(out) + "\n"


def preparer_meaning(name: str) -> str:
    """What a preparer makes: ``PREPARER_MEANINGS``, else its function's docstring."""
    return PREPARER_MEANINGS.get(name) or _first_line(PREPARERS[name].make)


def presets_page() -> str:
    """Each preset: its ids and the logical columns its fields read."""
    out: list[str] = []
    for name in presets._PRESETS:
        spec = presets.get(name)
        factory = presets._PRESETS[name]
        out += [
            f"## `{name}`",
            "",
            f"{_first_line(factory)} Threshold {spec.threshold:g}; "
            f"`linkage spec show --preset {name}` prints it whole.",
            "",
            f"Ids: `{spec.left_id}` (left), `{spec.right_id}` (right): required.",
            "",
        ]
        rows = []
        for f in spec.fields:
            rules = [r.name for r in spec.blocking if f.name in r.reads]
            compared = [c.name for c in spec.comparisons if c.column == f.name]
            columns = ", ".join(f"`{c}`" for c in f.source)
            if len(f.source) > 1:
                columns += f", or one line as `{f.name}`"
            rows.append(
                (
                    f.name,
                    columns,
                    f"`{f.prepare}`",
                    "optional" if f.optional else "**required**",
                    ", ".join(f"`{r}`" for r in rules) or "—",
                    ", ".join(f"`{c}`" for c in compared) or "—",
                )
            )
        out += [
            _table(
                rows,
                ("field", "logical columns", "prepare", "needed", "blocking rules", "comparisons"),
            ),
            "",
        ]
    return "\n".join(out)


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def cli_page() -> str:
    """``--help`` of ``linkage`` and of every subcommand, each under its own heading."""
    from linkage.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"  # argparse wraps to it: the same page on every terminal
    try:
        out: list[str] = []
        for path, parser in _commands(build_parser()):
            level = "#" * min(2 + max(len(path) - 1, 0), 4)
            out += [f"{level} `{' '.join(('linkage', *path))}`", "", "```text"]
            out += [parser.format_help().rstrip(), "```", ""]
        return "\n".join(out)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def cli_commands() -> list[str]:
    """Every command's words, ``linkage`` first: ``["linkage", "linkage link", ...]``."""
    from linkage.cli import build_parser

    return [" ".join(("linkage", *path)) for path, _ in _commands(build_parser())]


DOCS = Path(__file__).resolve().parents[1]
_TOCTREE = re.compile(r"^```\{toctree\}\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def other_pages() -> str:
    """The pages of ``docs/`` that no toctree of the home page lists, one a line: a page
    added later (``encodings.md``) is in the navigation without an edit of the index."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = {
        line.strip()
        for block in _TOCTREE.findall(index)
        for line in block.splitlines()
        if line.strip() and not line.startswith(":")
    }
    pages = sorted(p.stem for p in DOCS.glob("*.md"))
    return "\n".join(p for p in pages if p not in listed and p != "index")


GENERATORS: dict[str, Callable[[], str]] = {
    "spec-schema": spec_schema,
    "presets": presets_page,
    "cli": cli_page,
    "other-pages": other_pages,
}


def expand(text: str) -> str:
    """A page's source with each marker replaced by its generated Markdown."""
    return MARKER.sub(lambda m: GENERATORS[m.group(1)]().rstrip("\n"), text)


# --- Sphinx ------------------------------------------------------------------------------


def _source_read(app: Any, docname: str, source: list[str]) -> None:
    source[0] = expand(source[0])


def _outdated(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list:
    """Pages with a marker are read again on every build: the code may have changed."""
    found = []
    for docname in env.found_docs:
        path = Path(env.doc2path(docname))
        if MARKER.search(path.read_text(encoding="utf-8")):
            found.append(docname)
    return found


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
