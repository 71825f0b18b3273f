"""The labelling page in a real headless chromium: keys and clicks label pairs, the
labels survive a reload, and the downloaded file is read back by ``review score``.

Skipped only where no chromium is installed and ``LINKAGE_REQUIRE_BROWSER`` is unset
(CI sets it, so a missing browser fails there).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from _cdp import Browser, find_browser

import linkage
from linkage import review
from linkage.presets import enterprises
from linkage.synthetic import generate

EXECUTABLE = find_browser()
if EXECUTABLE is None and not os.environ.get("LINKAGE_REQUIRE_BROWSER"):
    pytest.skip("no chromium (set LINKAGE_REQUIRE_BROWSER=1 to fail)", allow_module_level=True)


@pytest.fixture(scope="module")
def drawn():
    x = generate(n_enterprises=400, seed=3)
    result = linkage.link(x.enterprises, x.employers, enterprises(), trace=True)
    columns = ["name", "street", "postcode", "municipality", "phone"]
    return review.sample(
        result.scored_pairs(),
        left=x.enterprises,
        right=x.employers,
        n=30,
        left_columns=columns,
        right_columns=columns,
    )


@pytest.fixture
def browser():
    assert EXECUTABLE is not None, "LINKAGE_REQUIRE_BROWSER is set but no chromium is installed"
    b = Browser(EXECUTABLE)
    yield b
    b.close()


def _wait_for_file(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path.name} was not downloaded"


def _reopened_until(browser, page: Path, expression: str, expected, timeout: float = 10):
    """``expression`` on ``page`` opened again until it is ``expected`` (or time is up).

    Chromium under load can hand a reloaded page the store before the last writes of the
    page it replaced have reached it; a later load has them, as long as no page wrote its
    older copy back over them in between (which the page no longer does on opening).
    """
    deadline = time.monotonic() + timeout
    while True:
        browser.open(page)
        value = browser.evaluate(expression)
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_keys_and_clicks_are_read_back(tmp_path, drawn, browser) -> None:
    review.write(drawn, tmp_path)
    page = tmp_path / "review.html"
    browser.open(page)
    assert browser.evaluate("document.querySelectorAll('nav button').length") == len(drawn)
    # Opening the page writes nothing: only a label or a note is stored.
    assert browser.evaluate("localStorage.length") == 0
    # The first pair's values are on the page, side by side.
    shown = browser.evaluate("document.querySelector('#values').innerText")
    assert str(drawn.loc[0, "left_id"]) in shown and str(drawn.loc[0, "right_id"]) in shown

    browser.key("m")  # pair 1: match, moves on
    browser.click("#b-non-match")  # pair 2: non-match by a click
    browser.key("u")  # pair 3: unsure
    browser.key("ArrowLeft")  # back to pair 3
    browser.click("#notes")
    browser.type_text("same street, other firm?")
    browser.key("ArrowRight")
    state = browser.evaluate("document.getElementById('state').textContent")
    assert state.startswith('["match","non-match","unsure",""')
    assert browser.evaluate("document.getElementById('progress').textContent").startswith("3 /")

    # A reload keeps them (localStorage), notes included.
    notes = _reopened_until(
        browser, page, "linkageReview.labels[2].notes", "same street, other firm?"
    )
    assert notes == "same street, other firm?"
    assert browser.evaluate("linkageReview.labels.map(l => l.label).slice(0, 3)") == [
        "match",
        "non-match",
        "unsure",
    ]

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.allow_downloads(downloads)
    browser.click("#save")
    _wait_for_file(downloads / "labels.csv")
    time.sleep(0.2)
    labels = review.read_labels(downloads / "labels.csv")
    assert labels["label"].fillna("").tolist()[:4] == ["match", "non-match", "unsure", ""]
    assert labels.loc[2, "notes"] == "same street, other firm?"
    assert labels["left_id"].tolist() == drawn["left_id"].astype(str).tolist()
    scored = review.score(labels)
    assert (scored.labelled, scored.unsure) == (2, 1)


def test_page_screenshot(tmp_path, drawn, browser) -> None:
    review.write(drawn, tmp_path)
    browser.open(tmp_path / "review.html")
    browser.key("m")
    shot = Path(os.environ.get("LINKAGE_SCREENSHOT", tmp_path / "review.png"))
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000  # a page drawn, not a blank one
    assert browser.evaluate("document.documentElement.scrollWidth") <= 1280
