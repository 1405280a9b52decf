"""Coil placement geometry, field summary and optimisation on synthetic spherical heads."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.spatial import ConvexHull

from tmstarget.coil.efield import sphere_efield
from tmstarget.coil.geometry import (
    Sphere,
    fit_sphere,
    handle_angle_deg,
    handle_direction,
    local_sphere,
    place_coil,
    place_on_head,
    rotation_between,
)
from tmstarget.coil.models import PRESETS, coil_dipoles, get_coil
from tmstarget.coil.optimize import optimize_placement, reference_field, weighted_circuit_score
from tmstarget.coil.summary import summarize_field
from tmstarget.exceptions import InputError

headmodel = pytest.importorskip("tmstarget.headmodel")

CENTRE, RADIUS = np.array([2.0, 12.0, 6.0]), 86.0


def sphere_head(centre=CENTRE, radius=RADIUS, n=3000):
    """Build a HeadModel whose scalp is a sphere.

    The sphere has Fibonacci vertices, convex-hull faces and radial normals.
    """
    i = np.arange(n) + 0.5
    polar, azimuth = np.arccos(1 - 2 * i / n), np.pi * (1 + 5**0.5) * i
    d = np.column_stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)]
    )
    return headmodel.HeadModel(centre + radius * d, d, ConvexHull(d).simplices, {})


def _direction(x, y, z):
    v = np.array([x, y, z], dtype=float)
    return v / np.linalg.norm(v)


LEFT_DLPFC = _direction(-0.55, 0.5, 0.67)


def test_fit_sphere_recovers_centre_and_radius(rng):
    d = rng.normal(size=(300, 3))
    d = d[d[:, 2] > 0.3] / np.linalg.norm(d[d[:, 2] > 0.3], axis=1, keepdims=True)
    fit = fit_sphere(CENTRE + (RADIUS + rng.normal(scale=0.3, size=len(d)))[:, None] * d)
    assert_allclose(fit.centre_mm, CENTRE, atol=1.0)
    assert abs(fit.radius_mm - RADIUS) < 1.0 and fit.rms_mm < 0.5
    with pytest.raises(InputError, match="coplanar"):
        fit_sphere(np.column_stack([rng.normal(size=(20, 2)), np.zeros(20)]))
    with pytest.raises(InputError, match="at least 4"):
        fit_sphere(np.zeros((3, 3)))


@pytest.mark.parametrize("angle", [45.0, 0.0, -30.0, 90.0])
def test_handle_direction_angle_from_posterior_midline(angle):
    normal = LEFT_DLPFC
    h = handle_direction(normal, -1.0, angle)
    assert abs(h @ normal) < 1e-12 and abs(np.linalg.norm(h) - 1) < 1e-12
    assert handle_angle_deg(normal, h, -1.0) == pytest.approx(angle, abs=1e-9)
    if angle == 45.0:
        assert h[1] < 0 and h[0] < 0  # posterior and lateral (left) for a left target


def test_default_placement_on_sphere_head():
    head = sphere_head()
    target = CENTRE + (RADIUS - 18.0) * LEFT_DLPFC
    pl = place_on_head(head, target, scalp_offset_mm=3.0)
    assert (
        np.linalg.norm(pl.scalp_mm - (CENTRE + RADIUS * LEFT_DLPFC)) < 0.5
    )  # the nearest scalp point is radial
    assert_allclose(pl.normal, LEFT_DLPFC, atol=0.01)
    assert pl.scalp_cortex_distance_mm == pytest.approx(18.0, abs=0.5)
    assert pl.coil_cortex_distance_mm == pytest.approx(21.0, abs=0.5)
    m = pl.matrix
    assert_allclose(m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-12)
    assert np.linalg.det(m[:3, :3]) == pytest.approx(1.0)
    assert_allclose(m[:3, 2], -pl.normal)  # z into the head
    assert_allclose(m[:3, 1], pl.handle)
    assert pl.handle_angle_deg == 45.0 and pl.handle[1] < 0
    j = pl.to_json()
    assert j["scalp_offset_mm"] == 3.0 and len(j["matrix"]) == 4


def test_placement_errors():
    with pytest.raises(InputError, match="outside the head"):
        place_coil([0, 0, 200.0], [0, 0, 90.0], [0, 0, 1.0])
    with pytest.raises(InputError, match="three finite numbers"):
        place_coil([0, np.nan, 0], [0, 0, 90.0], [0, 0, 1.0])
    with pytest.raises(InputError, match="scalp offset"):
        place_coil([0, 0, 60.0], [0, 0, 90.0], [0, 0, 1.0], scalp_offset_mm=-1)
    with pytest.raises(InputError, match="unknown coil"):
        get_coil("no-such-coil")


def test_rotation_between_maps_vectors(rng):
    for _ in range(5):
        a, b = rng.normal(size=3), rng.normal(size=3)
        r = rotation_between(a, b)
        assert_allclose(r @ (a / np.linalg.norm(a)), b / np.linalg.norm(b), atol=1e-12)
        assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    assert_allclose(
        rotation_between([0, 0, 1.0], [0, 0, -1.0]) @ [0, 0, 1.0], [0, 0, -1.0], atol=1e-12
    )


def test_field_summary_under_the_coil():
    head = sphere_head()
    target = CENTRE + (RADIUS - 18.0) * LEFT_DLPFC
    pl = place_on_head(head, target)
    sphere = local_sphere(head, pl.scalp_mm)
    assert_allclose(sphere.centre_mm, CENTRE, atol=0.2)
    dip = coil_dipoles(PRESETS["magstim-d70"], 1, 12)
    s = summarize_field(pl, dip, sphere, didt_a_per_us=100.0)
    assert s.max_to_target_mm < 2.0 and s.target_pct_of_max > 98
    assert (
        s.e_target_direction @ pl.handle < -0.99
    )  # model convention: E under the centre points away from the handle
    assert 50 < s.e_target < 300  # V/m at 100 A/µs, 18 mm deep
    assert (
        10 < s.half_max_area_cm2 < 60
        and 5 < s.half_max_volume_cm3 < 60
        and 5 < s.half_value_depth_mm < 25
    )
    # a larger coil-cortex distance weakens the field
    far = summarize_field(place_on_head(head, target, scalp_offset_mm=5.0), dip, sphere, 100.0)
    assert far.e_target < s.e_target


def test_sphere_that_misses_the_target_is_refused():
    head = sphere_head()
    pl = place_on_head(head, CENTRE + (RADIUS - 18.0) * LEFT_DLPFC)
    dip = coil_dipoles(PRESETS["magstim-d70"], 1, 12)
    small = Sphere(
        pl.scalp_mm - 5.0 * pl.normal, 5.0
    )  # a tiny sphere that the 18 mm deep target is outside of
    with pytest.raises(InputError, match="does not contain the target"):
        summarize_field(pl, dip, small)
    with pytest.raises(InputError, match="does not contain the target"):
        optimize_placement(head, pl, dip, small, np.zeros((20, 3)), np.zeros(20))


def test_weighted_score_matches_explicit_loop(rng):
    e = rng.random((4, 50))
    c = rng.normal(size=50)
    expected = []
    for row in e:
        keep = row >= 0.5 * row.max()
        expected.append((row[keep] * c[keep]).sum() / row[keep].sum())
    assert_allclose(weighted_circuit_score(e, c), expected, rtol=1e-12)
    assert weighted_circuit_score(e[0], c) == pytest.approx(expected[0])


def test_reference_field_interpolates_the_direct_solution(rng):
    dip = coil_dipoles(PRESETS["magventure-cool-b65"], 1, 12)
    ref = reference_field(dip, RADIUS + 1.0, RADIUS)
    d = rng.normal(size=(200, 3))
    d[:, 2] = np.abs(d[:, 2]) + 4.0
    q = (
        d
        / np.linalg.norm(d, axis=1, keepdims=True)
        * rng.uniform(RADIUS - 35, RADIUS - 10, size=(200, 1))
    )
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([[-1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]])
    pose[:3, 3] = [0, 0, RADIUS + 1.0]
    direct = np.linalg.norm(sphere_efield(q, dip.transformed(pose), np.zeros(3)), axis=1)
    assert np.abs(ref.sample(q) - direct).max() < 0.01 * direct.max()


def _synthetic_participant(seed: int):
    """Grey-matter shell voxels of a sphere head and a circuit blob beside the default target.

    The blob lies 10-20 mm from the default target.
    """
    rng = np.random.default_rng(seed)
    head = sphere_head()
    target = CENTRE + (RADIUS - 17.0) * LEFT_DLPFC
    g = np.arange(-90.0, 91.0, 3.0)
    vox = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3) + CENTRE
    r = np.linalg.norm(vox - CENTRE, axis=1)
    vox = vox[(r < RADIUS - 12) & (r > RADIUS - 30) & ((vox - CENTRE) @ LEFT_DLPFC > 30)]
    side = np.cross(LEFT_DLPFC, rng.normal(size=3))
    side /= np.linalg.norm(side)
    angle = rng.uniform(10, 20) / (RADIUS - 15)
    blob = CENTRE + (RADIUS - 15) * (np.cos(angle) * LEFT_DLPFC + np.sin(angle) * side)
    values = np.exp(-((vox - blob) ** 2).sum(1) / (2 * 7.0**2)) + 0.05 * rng.normal(size=len(vox))
    return head, target, vox, values, blob


@pytest.mark.parametrize("seed", [1, 2])
def test_optimised_score_not_below_default(seed):
    head, target, vox, values, blob = _synthetic_participant(seed)
    default = place_on_head(head, target)
    sphere = local_sphere(head, default.scalp_mm)
    res = optimize_placement(
        head, default, coil_dipoles(get_coil("magventure-cool-b65"), 1, 12), sphere, vox, values
    )
    assert res.score >= res.default_score
    assert res.score > res.default_score + 0.05  # the blob is off-target: moving the coil pays
    assert np.linalg.norm(res.stimulated_centroid_mm - blob) < np.linalg.norm(
        default.target_mm - blob
    )
    assert res.shift_mm <= 25.0 + 1.0
    assert res.placement.handle[1] <= 0  # handle kept pointing backwards
    assert_allclose(np.linalg.norm(res.placement.handle), 1.0)
    assert res.to_json()["n_evaluations"] == res.n_evaluations > 100


def test_zero_search_radius_keeps_position_and_bad_voxels_are_refused():
    head, target, vox, values, _ = _synthetic_participant(3)
    default = place_on_head(head, target)
    sphere = Sphere(CENTRE, RADIUS)
    dip = coil_dipoles(get_coil("magstim-d70"), 1, 12)
    res = optimize_placement(head, default, dip, sphere, vox, values, search_radius_mm=0.0)
    assert res.shift_mm < 0.5 and res.score >= res.default_score
    with pytest.raises(InputError, match="NaN"):
        optimize_placement(head, default, dip, sphere, vox, np.full(len(vox), np.nan))
    with pytest.raises(InputError, match="brain voxels"):
        optimize_placement(head, default, dip, sphere, vox[:3] - 500, values[:3])


@pytest.mark.parametrize("angle", [0.0, 45.0, 100.0])
def test_single_precision_screening_gives_the_double_precision_summary(angle, monkeypatch):
    from tmstarget.coil import summary

    head = sphere_head()
    placement = place_on_head(head, CENTRE + (RADIUS - 18.0) * LEFT_DLPFC, angle)
    sphere = local_sphere(head, placement.scalp_mm)
    dip = coil_dipoles(get_coil("magstim-d70"))
    screened = summarize_field(placement, dip, sphere)
    monkeypatch.setattr(summary, "SCREEN_MIN_GAP_MM", np.inf)  # double precision everywhere
    exact = summarize_field(placement, dip, sphere)
    assert screened.to_json() == exact.to_json()
    assert_allclose(screened.e_max_cortex, exact.e_max_cortex, rtol=1e-13)
    assert_allclose(screened.half_max_area_cm2, exact.half_max_area_cm2, rtol=1e-13)
    assert_allclose(screened.half_max_volume_cm3, exact.half_max_volume_cm3, rtol=1e-13)
    assert_allclose(screened.half_value_depth_mm, exact.half_value_depth_mm, rtol=1e-12)
    assert 0 < exact.half_max_area_cm2 < 60 and exact.e_max_cortex > 0.5
