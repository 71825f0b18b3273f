"""``prepare`` in two threads (``threads=2``): the same frame as in one, and one
normalised name per source column for every field made from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import linkage.prepare as preparing
from linkage.config import Field
from linkage.pipeline import link
from linkage.prepare import field_groups, prepare
from linkage.presets import enterprises as enterprises_spec
from linkage.synthetic import generate

# Fields of every kind, three made from the normalised name of one column and one
# from another's: a spec whose name fields share a source.
FIELDS = (
    Field(name="name", source="name", prepare="company_name"),
    Field(name="name_sorted", source="name", prepare="name_sorted"),
    Field(name="prefix", source="name", prepare="name_prefix"),
    Field(name="trade", source="trade_name", prepare="name_sorted"),
    Field(name="text", source="name", prepare="text"),
    Field(name="postcode", source="postcode", prepare="postcode"),
    Field(name="address", source=("street", "house_number", "box"), prepare="address"),
    Field(name="email", source="email", prepare="email"),
    Field(name="phone", source="phone", prepare="phone"),
    Field(name="website", source="website", prepare="website"),
)

_CELL = {
    "name": ["Acme NV", "ACME n.v.", "Bakkerij Peeters BVBA", "  ", "Zoë & Co", "de Vries"],
    "trade_name": ["Acme", "'t Hoekske", "Café Sport", ""],
    "postcode": ["9000", "B-2000", "1000 Brussel", "x"],
    "street": ["Kerkstraat", "Rue de la Loi", "Dorp"],
    "house_number": ["1", "12A", "3-5", ""],
    "box": ["b", "bus 2", ""],
    "email": ["Info@Acme.be", "x@", "jan@peeters.com"],
    "phone": ["03 907 37 57", "+32 9 123 45 67", "123"],
    "website": ["www.acme.be", "https://Peeters.be/", "acme"],
}


@st.composite
def _frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    return pd.DataFrame(
        {
            column: draw(
                st.lists(st.one_of(st.none(), st.sampled_from(values)), min_size=n, max_size=n)
            )
            for column, values in _CELL.items()
        },
        dtype=object,
    )


@settings(max_examples=40, deadline=None)
@given(frame=_frames(), start=st.integers(0, 5))
def test_prepare_in_two_threads_is_prepare_in_one(frame: pd.DataFrame, start: int) -> None:
    frame.index = frame.index + start  # any index: the result's is positions
    serial = prepare(frame, FIELDS, side="right")
    pd.testing.assert_frame_equal(prepare(frame, FIELDS, side="right", threads=2), serial)
    done = {"postcode": serial["postcode"], "name_sorted": serial["name_sorted"]}
    given_some = prepare(frame, FIELDS, side="right", done=done, threads=2)
    pd.testing.assert_frame_equal(given_some, serial)


def test_fields_of_one_normalised_name_share_it(monkeypatch) -> None:
    calls: list[str] = []
    normalise = preparing.normalise_names

    def counted(values: pd.Series) -> pd.Series:
        calls.append(str(values.name))
        return normalise(values)

    monkeypatch.setattr(preparing, "normalise_names", counted)
    frame = pd.DataFrame({c: values[:1] * 3 for c, values in _CELL.items()})
    prepare(frame, FIELDS, side="left", threads=2)
    assert sorted(calls) == ["name", "trade_name"]
    groups = [[f.name for f in group] for group in field_groups(FIELDS, "left")]
    assert groups[:2] == [["name", "name_sorted", "prefix"], ["trade"]]
    assert sorted(name for group in groups for name in group) == sorted(f.name for f in FIELDS)


def test_a_link_given_the_whole_right_side_links_as_one_preparing_it() -> None:
    """``link(right_prepared=)`` with every field: the left side alone is prepared,
    in two threads; the links are those of both sides prepared side by side, and
    those of both sides given (``left_prepared=`` too)."""
    data = generate(n_enterprises=600, seed=3)
    spec = enterprises_spec()
    left, right = data.enterprises.drop_duplicates("enterprise_number"), data.employers
    alone = link(left, right, spec)
    whole = prepare(right, alone.spec.fields, side="right")
    given_all = link(left, right, spec, right_prepared=dict(whole.items()))
    pd.testing.assert_frame_equal(given_all.links, alone.links)
    np.testing.assert_array_equal(given_all.weights, alone.weights)
    both = link(
        left,
        right,
        spec,
        left_prepared=dict(prepare(left, alone.spec.fields, side="left").items()),
        right_prepared=dict(whole.items()),
    )
    pd.testing.assert_frame_equal(both.links, alone.links)
    np.testing.assert_array_equal(both.weights, alone.weights)
