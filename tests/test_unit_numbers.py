"""Establishment-unit numbers as evidence for the enterprise link (issue 17).

An employer without an enterprise number whose seat is not the enterprise's (it moved)
and whose name is a trade name shares nothing with its enterprise but this: one of
its sites carries the number of one of the enterprise's units. ``enterprises(
unit_numbers=True)`` blocks on and compares the unit numbers each side lists
(``child_values`` makes the column from the child tables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import linkage
from linkage.blocking import candidate_pairs
from linkage.compare import compare, compare_reference
from linkage.comparisons import SharedValue, comparison_from_dict, shared_value
from linkage.evaluate import link_quality
from linkage.exceptions import SchemaError
from linkage.pipeline import child_values
from linkage.prepare import prepare
from linkage.preparers import PREPARERS, join_listed, listed_values
from linkage.presets import enterprises
from linkage.rules import block_on_tokens
from linkage.synthetic import generate

# Valid establishment-unit numbers (check digits right), and one that is not.
UNIT_A, UNIT_B, UNIT_C = "2073157343", "2248887095", "2013633589"
NOT_VALID = "2073157344"


def test_unit_numbers_preparer_by_hand() -> None:
    """Text cells joined by ';' and list cells; written any way; invalid numbers and
    blanks left out; the same numbers in any order give the same text."""
    cells = pd.Series(
        [
            f"2.073.157.343; {UNIT_B}",
            [UNIT_B, "2.073.157.343"],  # the same two, listed the other way
            f"{NOT_VALID};  ;",
            None,
            f"{UNIT_C};{UNIT_C}",
        ],
        index=[10, 11, 12, 13, 14],
    )
    out = PREPARERS["unit_numbers"].make(cells)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert sorted(out[10].split(" ")) == [UNIT_A, UNIT_B]
    assert out[10] == out[11]
    assert out[12] is pd.NA and out[13] is pd.NA
    assert out[14] == UNIT_C


def test_listed_values_and_join() -> None:
    rows, items = listed_values(pd.Series(["x; y", None, ["z", ""], "  "]))
    assert rows.tolist() == [0, 0, 2] and items.tolist() == ["x", "y", "z"]
    first = join_listed(np.array([0, 0, 1, 1]), pd.Series(["b", "a", "a", "b"]), 3)
    assert first[0] == first[1] and sorted(first[0].split(" ")) == ["a", "b"]
    assert first[2] is pd.NA


def test_child_values() -> None:
    """A parent's children's values, children of unknown parents and missing values
    left out."""
    parents = pd.DataFrame({"id": ["e1", "e2", "e3"]}, index=[5, 6, 7])
    children = pd.DataFrame(
        {"parent": ["e3", "e1", "e3", "e9", "e2"], "number": [UNIT_A, UNIT_B, UNIT_C, "x", None]}
    )
    cells = child_values(parents, "id", children, "parent", "number")
    assert cells.index.tolist() == [5, 6, 7]
    assert cells[5] == UNIT_B and cells[6] is pd.NA
    assert sorted(cells[7].split("; ")) == sorted([UNIT_A, UNIT_C])


def test_child_values_ids_of_any_kind() -> None:
    """Ids as numbers, or of another type on each side (the pandas path), give the same
    cells; repeated or missing parent ids are refused, naming the row."""
    children = pd.DataFrame({"parent": [3, 1, 3], "number": [UNIT_A, UNIT_B, UNIT_C]})
    by_number = child_values(pd.DataFrame({"id": [1, 2, 3]}), "id", children, "parent", "number")
    mixed = child_values(
        pd.DataFrame({"id": [1, "2", 3]}, dtype=object), "id", children, "parent", "number"
    )
    assert by_number.equals(mixed)
    assert by_number[0] == UNIT_B and by_number[1] is pd.NA
    for ids in ([1, 2, 1], [1, None, 3]):
        with pytest.raises(SchemaError, match="parents"):
            child_values(pd.DataFrame({"id": ids}), "id", children, "parent", "number")


def test_shared_value_levels_by_hand() -> None:
    c = shared_value("units")
    assert c.level_labels == ("else", "shared") and c.n_levels == 2
    assert c.level_of(f"{UNIT_A} {UNIT_B}", UNIT_B) == 1
    assert c.level_of(UNIT_A, f"{UNIT_B} {UNIT_C}") == 0
    assert c.level_of(UNIT_A, UNIT_A) == 1
    assert c.level_of(None, UNIT_A) == -1
    assert c.level_of(f"{UNIT_A}  {UNIT_B}", f"{UNIT_C}  ") == 0  # no empty value shared
    assert comparison_from_dict({"kind": "shared", "column": "units"}) == c
    assert isinstance(c, SharedValue)


def test_shared_value_kernel_equals_reference() -> None:
    """The vectorised kernel against the plain-Python reference, on lists of one to
    many values (a chain's hundreds), in chunks smaller than the pairs."""
    rng = np.random.default_rng(5)

    def lists(n: int) -> list[str | None]:
        sizes = rng.choice([0, 1, 1, 1, 2, 3, 40], size=n)
        return [
            " ".join(sorted({str(v) for v in rng.integers(0, 60, size)})) if size else None
            for size in sizes
        ]

    left = pd.DataFrame({"u": [*lists(297), "7  8", " 9", "  "]})  # empty values share nothing
    right = pd.DataFrame({"u": lists(200)})
    lpos = rng.integers(0, 300, 4_000)
    rpos = rng.integers(0, 200, 4_000)
    comparisons = [shared_value("u")]
    got = compare(left, right, lpos, rpos, comparisons, chunk_size=700)
    want = compare_reference(left, right, lpos, rpos, comparisons)
    assert (got == want).all()
    assert set(np.unique(got)) == {-1, 0, 1}


def test_block_on_tokens_of_text() -> None:
    """A text column's space-separated tokens are blocked on as a list's items."""
    left = pd.DataFrame({"u": pd.Series([f"{UNIT_A} {UNIT_B}", None, UNIT_C], dtype="string")})
    right = pd.DataFrame({"u": pd.Series([UNIT_B, f"{UNIT_C} {UNIT_A}", "x"], dtype="string")})
    pairs = candidate_pairs(left, right, [block_on_tokens("u")])
    assert sorted(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (2, 1),
    ]


def test_preset_option_and_absent_columns() -> None:
    spec = enterprises(unit_numbers=True)
    assert spec.comparisons[-1] == shared_value("unit_numbers")
    assert spec.blocking[-1].columns == ("unit_numbers",)
    assert enterprises() != spec
    # Tables without the column link as before, with a note.
    columns = [c for f in enterprises().fields for c in f.source]
    narrowed, notes = spec.for_columns(columns, columns)
    assert narrowed == enterprises()
    assert len(notes) == 1 and "'unit_numbers' left out" in notes[0]


# Two enterprises, each with an employer without an enterprise number that the link
# missed before (issue 17, at 485 k): one whose seat moved (same name, another address),
# one known by a trade name at the enterprise's address. Each employer has a site at
# one of its enterprise's units, which carries that unit's number.
PLANTED = [
    (
        ("0999.000.025", "Peeters Brood NV", "Gabriëlstraat", "12", "2000", [UNIT_A, UNIT_B]),
        ("WMOVED", "Peeters Brood", "Kouter", "3", "9000", UNIT_B),
    ),
    (
        ("0999.000.124", "Claes & Wouters BV", "Stationsstraat", "88", "3500", [UNIT_C]),
        ("WTRADE", "Het Bakkershuis", "Stationsstraat", "88", "3500", UNIT_C),
    ),
]


def _record(id_column: str, values: tuple, *, employer: bool) -> dict[str, object]:
    ident, name, street, number, postcode, units = values
    contact = {"box": None, "phone": None, "email": None, "website": None}
    return {
        id_column: ident,
        **({"enterprise_number": None} if employer else {}),
        "name": name,
        "street": street,
        "house_number": number,
        "postcode": postcode,
        **contact,
        "unit_numbers": units,
    }


@pytest.fixture(scope="module")
def exchange_with_planted():
    """A small synthetic exchange, each side with the unit numbers it lists, and the
    planted pairs."""
    x = generate(n_enterprises=3_000, seed=11)
    left = x.enterprises.copy()
    right = x.employers.copy()
    left["unit_numbers"] = child_values(
        left, "enterprise_number", x.establishments, "enterprise_number", "establishment_number"
    )
    right["unit_numbers"] = child_values(
        right, "employer_id", x.sites, "employer_id", "establishment_number"
    )
    assert left["unit_numbers"].notna().mean() > 0.8
    assert right["unit_numbers"].notna().mean() > 0.5
    planted_left = [_record("enterprise_number", e, employer=False) for e, _ in PLANTED]
    planted_right = [_record("employer_id", w, employer=True) for _, w in PLANTED]
    left = pd.concat([left, pd.DataFrame(planted_left)], ignore_index=True)
    right = pd.concat([right, pd.DataFrame(planted_right)], ignore_index=True)
    return left, right, x.truth_enterprises


def test_planted_pairs_link_on_a_shared_unit_number(exchange_with_planted) -> None:
    left, right, truth = exchange_with_planted
    want = {w[0]: e[0] for e, w in PLANTED}
    without = linkage.link(left, right, enterprises())
    # Without the unit numbers, the moved seat's name alone is not enough (the trade
    # name's address may be, in a table this small, where few records share one).
    assert "WMOVED" not in set(without.links["employer_id"])
    result = linkage.link(left, right, enterprises(unit_numbers=True))
    linked = result.links.set_index("employer_id")["enterprise_number"]
    assert {w: linked.get(w) for w in want} == want
    assert "tokens(unit_numbers)" in result.pairs.by_rule
    # The shared number is evidence the model learnt, as any other: its weight at
    # the "shared" level (null, else, shared) is large, at "else" below zero.
    weights = result.model.weight_tables()[-1]
    assert weights[2] > 8 and weights[1] < 0
    # And the link as a whole does no worse on the generator's truth.
    on = ("enterprise_number", "employer_id")
    assert (
        link_quality(result.links, truth, on=on).f1 >= link_quality(without.links, truth, on=on).f1
    )


def test_prepared_columns_of_the_exchange(exchange_with_planted) -> None:
    left, right, _ = exchange_with_planted
    spec = enterprises(unit_numbers=True)
    lp = prepare(left, spec.fields, side="left")
    rp = prepare(right, spec.fields, side="right")
    assert sorted(lp["unit_numbers"].iloc[-2].split(" ")) == [UNIT_A, UNIT_B]
    assert rp["unit_numbers"].iloc[-1] == UNIT_C
