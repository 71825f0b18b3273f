"""The documentation under ``docs/`` runs as written, and its generated pages are complete.

A page's examples run in a fresh folder, in the order the page shows them:

* a ```` ```pycon ```` block is a doctest (``>>>`` and the output it must print);
* on the pages of ``RUN_WHOLE`` (the tutorial, the exchange), a ```` ```python ````
  block is executed too, and each ``$ command`` of a ```` ```console ```` block runs
  in bash and must exit 0; the lines shown under it must all be in what it printed,
  except ``...``, which stands for lines left out. The environment a command exports
  is kept for the next.

The reference pages (spec schema, presets, CLI) are generated from the code when the
site is built, by ``docs/_ext/linkage_docs.py``; the tests here hold them complete:
every key described, every registered kind, preparer, preset field and command
present. The site itself is built strictly by ``.ci/run`` (``sphinx -W``).
"""

from __future__ import annotations

import dataclasses
import doctest
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from linkage import presets
from linkage.comparisons import Comparison
from linkage.config import Field, LinkSpec, ModelSettings
from linkage.preparers import PREPARERS
from linkage.rules import BlockingRule

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import linkage_docs  # noqa: E402

FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PAGES = sorted(p.name for p in DOCS.glob("*.md"))
# Pages written to be run whole, commands and Python blocks in order, in one folder.
# Every other page's ``>>>`` examples (pycon blocks) run as doctests; its commands and
# Python blocks may be illustrations (a key file, a passphrase prompt), and do not.
RUN_WHOLE = ("tutorial.md", "exchange.md")


def steps(page: Path) -> list[tuple[str, str, int]]:
    """The page's runnable blocks in order: (language, text, line number)."""
    text = page.read_text(encoding="utf-8")
    run = ("python", "pycon", "console") if page.name in RUN_WHOLE else ("pycon",)
    return [
        (m.group(1), m.group(2), text.count("\n", 0, m.start()) + 2)
        for m in FENCE.finditer(text)
        if m.group(1) in run
    ]


def commands(block: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of a console block (continued over ``\\`` lines) and the
    lines shown under it."""
    found: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            found.append((command, []))
        elif found:
            found[-1][1].append(line)
        i += 1
    return found


def check_shown(command: str, shown: list[str], printed: str, where: str) -> None:
    got = {line.strip() for line in printed.splitlines()}
    for line in shown:
        if line.strip() and line.strip() != "..." and line.strip() not in got:
            pytest.fail(f"{where}: `{command}` did not print {line.strip()!r}:\n{printed}")


def run_page(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = DOCS / name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for language, text, line in steps(page):
        where = f"docs/{name}:{line}"
        if language == "console":
            for command, shown in commands(text):
                state = tmp_path / ".env-after"
                script = f"{command}\nstatus=$?\nenv -0 > {state}\nexit $status"
                done = subprocess.run(
                    ["bash", "-c", script],
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                printed = done.stdout + done.stderr
                assert done.returncode == 0, (
                    f"{where}: `{command}` exited {done.returncode}:\n{printed}"
                )
                env = dict(
                    item.split("=", 1) for item in state.read_text().split("\0") if "=" in item
                )
                check_shown(command, shown, printed, where)
            continue
        # Python runs here, with the environment the commands left.
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if language == "python":
            exec(compile(text, where, "exec"), namespace)
        else:
            test = doctest.DocTestParser().get_doctest(text, namespace, where, str(page), line)
            out = io.StringIO()
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            runner.run(test, out=out.write, clear_globs=False)
            namespace.update(test.globs)  # a doctest runs on a copy: carry its names on
            assert not runner.failures, out.getvalue()


@pytest.mark.parametrize("name", [p for p in PAGES if steps(DOCS / p)])
def test_page_runs_as_written(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_page(name, tmp_path, monkeypatch)


def test_the_pages_run_whole_are_there() -> None:
    for name in RUN_WHOLE:
        assert {language for language, _, _ in steps(DOCS / name)} >= {"console", "python"}


def test_the_tutorial_shows_the_new_user_path() -> None:
    """What the tutorial promises to teach, it runs: Dutch headers from a semicolon
    cp1252 file, a column mapping, optional fields, the preset as TOML, dedupe, --json."""
    ran = " ".join(
        command
        for language, text, _ in steps(DOCS / "tutorial.md")
        if language == "console"
        for command, _ in commands(text)
    )
    python = " ".join(text for language, text, _ in steps(DOCS / "tutorial.md"))
    for needed in (
        "--left-columns",
        "address=adres",
        "spec show --preset enterprises",
        "linkage dedupe",
        "--json",
        "examples/enterprises_dutch.toml",
    ):
        assert needed in ran, needed
    assert 'sep=";"' in python and 'encoding="cp1252"' in python
    assert "left out" in (DOCS / "tutorial.md").read_text(encoding="utf-8")


# --- the generated pages --------------------------------------------------------------


def test_spec_schema_has_every_key_described() -> None:
    page = linkage_docs.spec_schema()
    classes = [LinkSpec, ModelSettings, Field]
    classes += [BlockingRule.kinds[k] for k in BlockingRule.kinds]
    classes += [Comparison.kinds[k] for k in Comparison.kinds]
    for cls in classes:
        for key, toml_type, default, meaning in linkage_docs.keys(cls):
            assert f"| `{key}` |" in page, (cls.__name__, key)
            assert meaning, (
                f"{cls.__name__}.{key} has no meaning in the spec reference: describe it in "
                "the class's numpydoc Attributes, or in MEANINGS of docs/_ext/linkage_docs.py"
            )
            assert toml_type and default
    for kind in [*BlockingRule.kinds, *Comparison.kinds]:
        assert f'### `kind = "{kind}"`' in page, kind
    for name in PREPARERS:
        assert f"| `{name}` |" in page, name
        assert linkage_docs.preparer_meaning(name), f"preparer {name!r}: give it a docstring"


def test_spec_schema_types_and_defaults_read_from_the_code() -> None:
    rows = {row[0]: row for row in linkage_docs.keys(LinkSpec)}
    assert rows["threshold"][1:3] == ("number", "`0.5`")
    assert rows["left_id"][2] == "required"
    assert rows["chunk_size"][2] == f"`{LinkSpec.__dataclass_fields__['chunk_size'].default:_}`"
    field_rows = {row[0]: row for row in linkage_docs.keys(Field)}
    assert field_rows["source"][1] == "string or list of strings"
    scorer = {row[0]: row for row in linkage_docs.keys(Comparison.kinds["similarity"])}["scorer"]
    assert scorer[1].startswith("one of `jaro_winkler`")
    model = {f.name for f in dataclasses.fields(ModelSettings)}
    assert {row[0] for row in linkage_docs.keys(ModelSettings)} == model


def test_presets_page_lists_every_logical_column() -> None:
    page = linkage_docs.presets_page()
    for name in presets._PRESETS:
        spec = presets.get(name)
        assert f"## `{name}`" in page
        assert f"`{spec.left_id}` (left), `{spec.right_id}` (right)" in page
        for f in spec.fields:
            assert f"| `{f.name}` |" in page
            for column in f.source:
                assert f"`{column}`" in page, (name, f.name, column)


def test_cli_page_has_every_command_and_option() -> None:
    from linkage.cli import build_parser

    page = linkage_docs.cli_page()
    commands_ = linkage_docs.cli_commands()
    assert "linkage link" in commands_ and "linkage exchange subject erase" in commands_
    for command in commands_:
        assert f"`{command}`" in page, command
    for flag in ("--left-columns", "--right-columns", "--sep", "--encoding", "--max-cluster-size"):
        assert flag in page, flag
    assert build_parser().prog == "linkage"


def test_markers_name_generators(tmp_path: Path) -> None:
    """Every marker in a page has its generator, and expanding removes it."""
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for name in linkage_docs.MARKER.findall(text):
            assert name in linkage_docs.GENERATORS, (page.name, name)
        assert not linkage_docs.MARKER.search(linkage_docs.expand(text))


def test_every_page_is_in_the_navigation() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = linkage_docs.expand(index)
    for page in DOCS.glob("*.md"):
        if page.stem != "index":
            assert re.search(rf"^{re.escape(page.stem)}$", listed, re.MULTILINE), page.name


def test_the_readme_parts_the_pages_include_are_there() -> None:
    """The pages include parts of the README rather than copy them: the headings they
    start and end at must stay (else the strict build fails, later and less clearly)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for marker in re.findall(r'^:(?:start-after|end-before): "(.*)"$', text, re.MULTILINE):
            assert marker in readme, f"docs/{page.name} includes README.md from {marker!r}"


def test_api_reference_has_the_public_surface() -> None:
    """Every name ``import linkage`` exports is on the API page (the modules among them
    by their own sections); ``linkage.exchange`` is documented whole, by its ``__all__``."""
    import types

    import linkage

    page = (DOCS / "api.md").read_text(encoding="utf-8")
    for name in linkage.__all__:
        if name == "__version__":
            continue
        if isinstance(getattr(linkage, name), types.ModuleType):
            assert f"linkage.{name}" in page, name
        else:
            assert re.search(rf":: linkage\.{name}$", page, re.MULTILINE), name
    assert ".. automodule:: linkage.exchange\n   :members:" in page


def test_spec_page_examples_load() -> None:
    """The TOML examples of the spec reference are specs that load, and what it says of
    the preset form holds: only those keys beside ``preset``, an unknown one refused."""
    import tomllib

    from linkage.exceptions import ConfigError

    blocks = [text for language, text in FENCE.findall(_read("spec.md")) if language == "toml"]
    assert len(blocks) == 2
    for text in blocks:
        assert isinstance(presets.spec_from_dict(tomllib.loads(text)), LinkSpec)
    allowed = {"threshold": 0.7, "one_to_one": False, "chunk_size": 1000, "model": {"seed": 1}}
    assert presets.spec_from_dict({"preset": "enterprises", **allowed}).threshold == 0.7
    with pytest.raises(ConfigError, match="unknown key"):
        presets.spec_from_dict({"preset": "enterprises", "blocking": []})


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """The site builds with every warning an error, as .ci/run builds it (skipped where
    the ``docs`` extra is not installed): a page added to docs/ is checked here too."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("furo")
    argv = ["-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path / "html")]
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "html" / "tutorial.html").exists()
