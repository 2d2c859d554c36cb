"""Coverage analysis on synthetic sharpness tables (no images): fast checks of the rules."""

from __future__ import annotations

import numpy as np

from raild.focus.coverage import Q, analyse_coverage, dof_from_width

W_UM = 200.0  # model width: DOF = 2 w sqrt(2^(1/Q) - 1)
DOF_UM = dof_from_width(W_UM)


def table(positions: np.ndarray, focus_um: np.ndarray, floor: float = 5.0) -> np.ndarray:
    """frames x tiles: the defocus curve of each tile, peak 1000 at its focus position."""
    d = positions[:, None] - focus_um[None, :]
    return 1000.0 * (1.0 + (d / W_UM) ** 2) ** -Q + floor


SUBJECT = np.linspace(1000.0, 3000.0, 40)  # tiles in focus from 1000 to 3000 µm


def test_full_stack_is_complete_and_measures_dof() -> None:
    xs = np.arange(700.0, 3300.0, 0.7 * DOF_UM)
    cov = analyse_coverage(list(xs), table(xs, SUBJECT), state="final")
    assert cov.complete and cov.near_end == "covered" and cov.far_end == "covered" and not cov.gaps, cov
    assert cov.suggest is None
    assert abs(cov.dof_um - DOF_UM) < 0.1 * DOF_UM


def test_cut_near_end_is_flagged_and_the_suggestion_reaches_the_subject() -> None:
    xs = np.arange(1600.0, 3300.0, 0.7 * DOF_UM)
    cov = analyse_coverage(list(xs), table(xs, SUBJECT), state="final")
    assert cov.near_end == "cut" and cov.far_end == "covered" and not cov.complete
    assert cov.suggest is not None and cov.suggest["start_um"] <= 1000.0
    assert cov.suggest["start_um"] >= 1000.0 - 3 * DOF_UM  # extended by the measured amount, not blindly
    assert cov.suggest["end_um"] == round(xs[-1], 1)


def test_cut_far_end_on_a_stack_run_backwards() -> None:
    xs = np.arange(3300.0, 1500.0, -0.7 * DOF_UM)  # focus order from far to near
    cov = analyse_coverage(list(xs), table(xs, SUBJECT), state="final")
    assert cov.near_end == "covered" and cov.far_end == "cut"
    assert cov.suggest is not None and cov.suggest["end_um"] <= 1000.0 and cov.suggest["start_um"] == round(xs[0], 1)


def test_step_of_four_dof_leaves_gaps_and_suggests_a_step_near_dof() -> None:
    xs = np.arange(700.0, 3400.0, 4 * DOF_UM)
    cov = analyse_coverage(list(xs), table(xs, SUBJECT), state="final")
    assert cov.gaps and not cov.complete
    for a, b in cov.gaps:
        assert 700.0 < a < b < 3400.0
    assert cov.suggest is not None
    assert 0.4 * DOF_UM <= cov.suggest["step_um"] <= 1.2 * DOF_UM, (cov.suggest, DOF_UM)


def test_identical_frames_say_there_is_no_depth_information() -> None:
    xs = np.arange(0.0, 1000.0, 100.0)
    flat = np.tile(np.random.default_rng(1).uniform(10, 500, 96), (len(xs), 1))
    cov = analyse_coverage(list(xs), flat, state="final")
    assert not cov.depth_information and not cov.complete and cov.textured_tiles == 0
    assert cov.suggest is None and "no depth information" in cov.detail


def test_textureless_tiles_are_ignored_not_counted_as_gaps() -> None:
    xs = np.arange(700.0, 3300.0, 0.7 * DOF_UM)
    sharp = table(xs, SUBJECT)
    plain = np.full((len(xs), 30), 0.2)  # a flat backdrop: JPEG noise only
    cov = analyse_coverage(list(xs), np.hstack([sharp, plain]), state="final")
    assert cov.complete and cov.textured_tiles == len(SUBJECT) and cov.tiles == len(SUBJECT) + 30


def test_pending_and_too_few_frames() -> None:
    assert analyse_coverage([], np.zeros((0, 4)), state="pending").state == "pending"
    cov = analyse_coverage([1.0, 2.0], np.ones((2, 4)), state="partial")
    assert cov.state == "partial" and cov.frames_analyzed == 2 and not cov.complete and cov.suggest is None


def test_repeated_shots_per_position_are_averaged() -> None:
    xs = np.repeat(np.arange(700.0, 3300.0, 0.7 * DOF_UM), 2)
    cov = analyse_coverage(list(xs), table(xs, SUBJECT), state="final")
    assert cov.complete and cov.frames_analyzed == len(xs)


def test_frames_out_of_order_are_judged_in_depth_order() -> None:
    xs = np.arange(700.0, 3300.0, 0.7 * DOF_UM)
    shuffled = np.random.default_rng(2).permutation(len(xs))
    xs_shuffled = xs[shuffled]
    xs_shuffled = np.concatenate([[xs[0]], xs_shuffled[xs_shuffled != xs[0]]])  # still starts at the near end
    cov = analyse_coverage(list(xs_shuffled), table(xs_shuffled, SUBJECT), state="final")
    assert cov.complete and cov.dof_um is not None and abs(cov.dof_um - DOF_UM) < 0.1 * DOF_UM, cov
