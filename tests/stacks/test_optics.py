"""The optics helper against the published starter table and its own algebra."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raild.stacks.errors import InvalidPlan
from raild.stacks.optics import dof_um, step_um


@pytest.mark.parametrize(
    ("m", "n", "expected_dof_um"),
    # Littlefield's MP-E 65 starter table (c = 15 µm), rounded as published.
    [(1, 11, 660), (2, 8, 180), (3, 5.6, 75), (4, 4, 37.5), (5, 4, 28.8)],
)
def test_dof_matches_published_table(m: float, n: float, expected_dof_um: float) -> None:
    assert dof_um(m, n) == pytest.approx(expected_dof_um, rel=0.01)


def test_default_overlap_is_twenty_percent() -> None:
    dof, step = step_um(2, 8)
    assert dof == pytest.approx(180.0)
    assert step == pytest.approx(144.0)


@given(m=st.floats(0.05, 100), n=st.floats(0.7, 64), c=st.floats(1, 100), overlap=st.floats(0, 0.95))
def test_step_is_dof_times_one_minus_overlap(m: float, n: float, c: float, overlap: float) -> None:
    dof, step = step_um(m, n, c, overlap)
    assert dof == pytest.approx(2 * c * n * (m + 1) / m**2)
    assert step == pytest.approx(dof * (1 - overlap))
    assert 0 < step <= dof


@given(m1=st.floats(0.1, 50), m2=st.floats(0.1, 50), n=st.floats(1, 32))
def test_more_magnification_means_thinner_dof(m1: float, m2: float, n: float) -> None:
    if m1 < m2:
        assert dof_um(m1, n) > dof_um(m2, n)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"magnification": 0, "aperture": 4}, "magnification"),
        ({"magnification": -1, "aperture": 4}, "magnification"),
        ({"magnification": math.nan, "aperture": 4}, "magnification"),
        ({"magnification": 2, "aperture": math.inf}, "aperture"),
        ({"magnification": 2, "aperture": 4, "coc_um": 0}, "coc_um"),
        ({"magnification": 2, "aperture": 4, "overlap": 1.0}, "overlap"),
        ({"magnification": 2, "aperture": 4, "overlap": -0.1}, "overlap"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidPlan) as err:
        step_um(**kwargs)
    assert err.value.status == 422
    assert [e["field"] for e in err.value.errors] == [field]
