"""A saved model keeps the spec it was fitted for (linkage.model._spec), and a spec
it cannot score is refused before any work, saying what differs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import linkage
from linkage import presets
from linkage.cli import EXIT_INPUT, main
from linkage.config import Field
from linkage.exceptions import ConfigError
from linkage.model import FellegiSunter
from linkage.model._spec import SpecDigest, spec_sha256
from linkage.pipeline import link
from linkage.rules import block_on


@pytest.fixture(scope="module")
def sample() -> linkage.synthetic.SyntheticExchange:
    return linkage.synthetic.load_sample()


@pytest.fixture(scope="module")
def fitted(sample: linkage.synthetic.SyntheticExchange) -> FellegiSunter:
    return link(sample.enterprises, sample.employers, presets.enterprises()).model


def test_a_fitted_model_keeps_its_spec_and_saves_it(fitted: FellegiSunter, tmp_path: Path) -> None:
    spec = presets.enterprises()
    assert fitted.spec_digest == SpecDigest.of(spec)
    fitted.save(tmp_path / "m.json")
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["spec"]["sha256"] == spec_sha256(spec)
    assert saved["spec"]["prepare"] == {
        "number": "number_digits",
        "name_sorted": "name_sorted",
        "postcode": "postcode",
        "address": "address",
        "phone": "phone",
        "email": "email",
        "website": "website",
    }
    loaded = FellegiSunter.load(tmp_path / "m.json")
    assert loaded.spec_digest == fitted.spec_digest
    assert loaded.clone().spec_digest == fitted.spec_digest
    # Other comparisons: no longer the spec's.
    assert loaded.clone().set_params(comparisons=()).spec_digest is None


def test_what_a_model_does_not_depend_on_may_differ(fitted: FellegiSunter) -> None:
    spec = presets.enterprises()
    fitted.check_spec(spec)
    fitted.check_spec(replace(spec, threshold=0.9, blocking=spec.blocking[:2]))
    fitted.check_spec(spec.with_columns(left={"name": "naam", "postcode": "postcode_nr"}))


def test_another_spec_is_refused_saying_what_differs(fitted: FellegiSunter) -> None:
    establishments = presets.establishments()
    with pytest.raises(ConfigError) as caught:
        fitted.check_spec(establishments, source="m.json")
    assert caught.value.source == "m.json"
    detail = caught.value.detail
    assert detail.startswith(
        "fitted for another spec: the model compares 'phone', the spec does not"
    )
    assert (
        "comparison 'name': column 'name_sorted' in the model, 'name' in the spec, "
        "tf_reference 'tables' in the model, 'pairs' in the spec, "
        "thresholds (0.95, 0.88, 0.75) in the model, (0.92,) in the spec" in detail
    )
    # One level's threshold, the order, a column prepared otherwise.
    spec = presets.enterprises()
    k = next(i for i, c in enumerate(spec.comparisons) if c.name == "name")
    tighter = replace(spec.comparisons[k], thresholds=(0.97, 0.88, 0.75))
    cases = {
        "comparison 'name': thresholds (0.95, 0.88, 0.75) in the model, (0.97, 0.88, 0.75) "
        "in the spec": replace(
            spec, comparisons=(*spec.comparisons[:k], tighter, *spec.comparisons[k + 1 :])
        ),
        "the comparisons are in another order": replace(spec, comparisons=spec.comparisons[::-1]),
        "column 'phone' is prepared by 'phone' in the model, by 'text' in the spec": replace(
            spec,
            fields=tuple(
                replace(f, prepare="text") if f.name == "phone" else f for f in spec.fields
            ),
        ),
    }
    for says, other in cases.items():
        with pytest.raises(ConfigError, match="fitted for another spec") as caught:
            fitted.check_spec(other)
        assert says in caught.value.detail, caught.value.detail


def test_a_model_saved_before_it_kept_its_spec_still_loads(
    fitted: FellegiSunter, sample: linkage.synthetic.SyntheticExchange, tmp_path: Path
) -> None:
    data = fitted.to_dict()
    del data["spec"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = FellegiSunter.load(tmp_path / "old.json")
    assert old.spec_digest is None
    spec = presets.enterprises()
    again = link(sample.enterprises, sample.employers, spec, model=old)
    first = link(sample.enterprises, sample.employers, spec, model=fitted)
    pd.testing.assert_frame_equal(again.links, first.links)
    # Its comparisons are still checked.
    with pytest.raises(ConfigError, match="the model compares 'phone', the spec does not"):
        old.check_spec(presets.establishments())


def test_link_refuses_a_model_of_another_spec_before_any_work(
    fitted: FellegiSunter,
    sample: linkage.synthetic.SyntheticExchange,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("prepared before the model was checked")

    monkeypatch.setattr("linkage.pipeline.prepare", no_work)
    with pytest.raises(ConfigError, match=r"^model: fitted for another spec"):
        link(sample.establishments, sample.sites, presets.establishments(), model=fitted)


def test_the_command_refuses_it_before_reading_the_tables(
    tmp_path: Path,
    sample: linkage.synthetic.SyntheticExchange,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample.write(tmp_path)
    tables = [str(tmp_path / "enterprises.parquet"), str(tmp_path / "employers.parquet")]
    model = str(tmp_path / "m.json")
    argv = ["link", *tables, "--preset", "enterprises", "--out", str(tmp_path / "l.parquet")]
    assert main(["-q", *argv, "--save-model", model]) == 0
    capsys.readouterr()

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("read a table before the model was checked")

    monkeypatch.setattr("linkage.cli._link.read_table", no_work)
    units = [str(tmp_path / "establishments.parquet"), str(tmp_path / "sites.parquet")]
    out = tmp_path / "u.parquet"
    argv = ["link", *units, "--preset", "establishments", "--model", model, "--out", str(out)]
    assert main(argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("linkage: error: m.json: fitted for another spec: the model compares")
    assert err.count("\n") == 1 and not out.exists()


def test_a_spec_toml_that_names_the_presets_columns_otherwise_uses_its_model(
    fitted: FellegiSunter,
) -> None:
    # A whole spec of its own, the same comparisons and preparers: the model fits.
    spec = presets.enterprises()
    own = replace(
        spec,
        fields=tuple(replace(f, source=tuple(f"x_{s}" for s in f.source)) for f in spec.fields),
        blocking=(block_on("postcode"),),
    )
    fitted.check_spec(own)
    with pytest.raises(ConfigError, match="by 'text' in the spec"):
        fitted.check_spec(
            replace(own, fields=(*own.fields[:-1], Field(name="website", source="w")))
        )
