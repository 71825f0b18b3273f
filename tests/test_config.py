"""Link specs: checked on creation, loaded from TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.comparisons import exact_match
from linkage.config import Field, LinkSpec
from linkage.exceptions import ConfigError
from linkage.presets import load_spec
from linkage.rules import block_on


def test_preset_with_mapping_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('preset = "enterprises"\nthreshold = 0.9\n[right_columns]\nname = "naam"\n')
    spec = load_spec(path)
    assert spec.threshold == 0.9
    name_field = next(f for f in spec.fields if f.name == "name")
    assert name_field.source_for("right") == ("naam",) and name_field.source_for("left") == (
        "name",
    )


def test_whole_spec_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        'left_id = "id"\nright_id = "id"\n'
        '[[fields]]\nname = "pc"\nsource = "postcode"\nprepare = "postcode"\n'
        '[[blocking]]\ncolumns = ["pc"]\nmax_block_size = 100\n'
        '[[comparisons]]\ncolumn = "pc"\n'
        "[model]\nmax_iter = 50\njoint_unlabelled = false\n"
    )
    spec = load_spec(path)
    assert spec.blocking[0].max_block_size == 100 and spec.model.max_iter == 50
    assert spec.model.joint_unlabelled is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('preset = "enterprises"\ncolour = "red"\n', r"unknown key\(s\) \['colour'\]"),
        ('preset = "enterprises"\n[right_columns]\nnaam = "x"\n', "does not read"),
        ("left_id = \n", "not valid TOML"),
        (
            'left_id = "a"\nright_id = "b"\n'
            '[[fields]]\nname = "x"\nsource = "y"\nprepare = "soundex"\n',
            "prepare must be one of",
        ),
        # Wrong kinds and wrong types end in a ConfigError naming the table.
        (
            'left_id = "a"\nright_id = "b"\n[[fields]]\nname = "x"\nsource = "y"\n'
            '[[blocking]]\nkind = "soundex"\ncolumns = ["x"]\n[[comparisons]]\ncolumn = "x"\n',
            r"\[\[blocking\]\]: kind must be one of equal, equal_split, tokens, window",
        ),
        (
            'left_id = "a"\nright_id = "b"\n[[fields]]\nname = "x"\nsource = "y"\n'
            '[[blocking]]\ncolumns = 5\n[[comparisons]]\ncolumn = "x"\n',
            r"spec.toml \[\[blocking\]\]: ",
        ),
        (
            'left_id = "a"\nright_id = "b"\n[[fields]]\nname = "x"\nsource = "y"\n'
            '[[blocking]]\ncolumns = ["x"]\n[[comparisons]]\ncolumn = "x"\n'
            'kind = "similarity"\nthresholds = "high"\n',
            r"spec.toml \[\[comparisons\]\]: ",
        ),
    ],
)
def test_bad_toml_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_spec(path)


def test_spec_refuses_unknown_columns() -> None:
    with pytest.raises(ConfigError, match=r"use \['name'\], which no field makes"):
        LinkSpec(
            left_id="a",
            right_id="b",
            fields=(Field(name="pc", source="postcode"),),
            blocking=(block_on("name"),),
            comparisons=(exact_match("pc"),),
        )
    with pytest.raises(ConfigError, match="threshold is a match probability"):
        LinkSpec(
            left_id="a",
            right_id="b",
            fields=(Field(name="pc", source="postcode"),),
            blocking=(block_on("pc"),),
            comparisons=(exact_match("pc"),),
            threshold=2,
        )
