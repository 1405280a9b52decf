"""The placement landscape (coil.landscape) and the stimulation share, against brute force.

The reference recomputes each placement from scratch: its pose with scipy's rotations (not the
landscape's), its induced field with the closed-form spherical-conductor solution at every
grey-matter lattice point (not the tabulated reference field), the half-maximum weights and the
weighted mean by explicit sums, and the placement-error average by enumerating the jittered
placements.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tmstarget.coil.efield import sphere_efield
from tmstarget.coil.geometry import coil_matrix, place_on_head
from tmstarget.coil.landscape import (
    ANGLE_STEP_DEG,
    REACH_MM,
    STEP_MM,
    _grey_matter_lattice,
    build_landscape,
)
from tmstarget.coil.models import DEFAULT_COIL, coil_dipoles, get_coil
from tmstarget.exceptions import InputError
from tmstarget.headmodel import load_template_head
from tmstarget.targeting.uncertainty.stimulation import plan_placement_index, stimulation_share

BLOB = np.array([-40.0, 40.0, 34.0])


@pytest.fixture(scope="module")
def region():
    """Left-DLPFC search columns (2 mm template grey matter) and a smooth circuit blob on them."""
    from nilearn.datasets import load_mni152_gm_mask

    from tmstarget.targeting.regions import dlpfc_search_mask

    img = load_mni152_gm_mask(resolution=2)
    mask = dlpfc_search_mask(np.asarray(img.dataobj) > 0.5, img.affine)
    coords = np.argwhere(mask) @ img.affine[:3, :3].T + img.affine[:3, 3]
    values = np.exp(-np.sum((coords - BLOB) ** 2, axis=1) / (2 * 10.0**2))
    head = load_template_head()
    return coords, values, head, build_landscape(head, coords)


_CELLS: dict = {}


def _cell_values(coords, values):
    """Lattice, each column's nearest lattice point and the cells' mean values (else 0).

    The nearest points are found by brute force over the whole lattice.
    """
    key = (coords.tobytes(), values.tobytes())
    if key not in _CELLS:
        lattice = _grey_matter_lattice()
        owner = np.array([np.argmin(np.sum((lattice - x) ** 2, axis=1)) for x in coords])
        cell_value = np.zeros(len(lattice))
        for k in np.unique(owner):
            cell_value[k] = values[owner == k].mean()
        _CELLS[key] = lattice, owner, cell_value
    return _CELLS[key]


def _brute_score(land, head, coords, values, a, b, psi) -> float:
    """E-field-weighted score of the placement (a, b, ψ), from scratch."""
    c, radius = land.sphere.centre_mm, land.head_radius_mm
    start = place_on_head(
        head, coords.mean(axis=0), 0.0
    )  # the landscape's search centre and ψ = 0 handle
    u0 = (start.scalp_mm - c) / np.linalg.norm(start.scalp_mm - c)
    h0 = start.handle - (start.handle @ u0) * u0
    h0 /= np.linalg.norm(h0)
    e2 = np.cross(u0, h0)
    s = np.hypot(a, b)
    tangent = (a * h0 + b * e2) / s if s > 0 else h0
    move = (
        Rotation.from_rotvec(
            (s / radius) * np.cross(u0, tangent) / max(np.linalg.norm(np.cross(u0, tangent)), 1e-12)
        )
        if s > 0
        else Rotation.identity()
    )
    u = move.apply(u0)
    h = Rotation.from_rotvec(np.deg2rad(psi) * u).apply(move.apply(h0))
    dipoles = coil_dipoles(get_coil(DEFAULT_COIL)).transformed(coil_matrix(c + radius * u, u, h))
    # grey-matter lattice cells: a cell's value is the mean of the columns nearest to it
    # (brute-force nearest over the
    # whole lattice), else 0; the field is summed over the cells in the head sphere's grey-matter
    # shell within REACH_MM
    # (arc on the scalp) of the coil axis and the cells holding columns
    lattice, owner, cell_value = _cell_values(coords, values)
    near = np.linalg.norm(lattice - c, axis=1)
    off_axis = np.arccos(
        np.clip((lattice - c) @ u / np.maximum(near, 1e-9), -1.0, 1.0)
    )  # the score counts grey matter within REACH_MM
    keep = (near < radius - 2.0) & (near > radius - 45.0) & (off_axis <= REACH_MM / radius)
    keep[owner] = True
    pts, cell_value = lattice[keep], cell_value[keep]
    e = np.linalg.norm(sphere_efield(pts, dipoles, c), axis=1)
    w = np.where(e >= 0.5 * e.max(), e, 0.0)
    return float((w * cell_value).sum() / w.sum())


def test_scores_match_brute_force_sums(region):
    coords, values, head, land = region
    exact = land.scores(values, averaged=False)
    for a, b, psi in [(0.0, 0.0, 0.0), (-5.0, 7.5, 40.0), (10.0, -2.5, 120.0)]:
        i = int(np.argmin(np.abs(land.params - [a, b, psi]).sum(axis=1)))
        a, b, psi = land.params[i]
        assert exact[i] == pytest.approx(
            _brute_score(land, head, coords, values, a, b, psi), rel=0.03
        )


def test_error_average_matches_enumerated_placements(region):
    """The expected score = the mean over the placements within 5 mm and ±10°.

    Those are 13 positions × 3 rotations.
    """
    coords, values, head, land = region
    i = int(np.argmin(np.abs(land.params - [2.5, -5.0, 60.0]).sum(axis=1)))
    a, b, psi = land.params[i]
    offsets = [
        (da, db)
        for da in np.arange(-5.0, 5.1, STEP_MM)
        for db in np.arange(-5.0, 5.1, STEP_MM)
        if da**2 + db**2 <= 25.0 + 1e-9
    ]
    assert len(offsets) == 13
    brute = np.mean(
        [
            _brute_score(land, head, coords, values, a + da, b + db, psi + dk * ANGLE_STEP_DEG)
            for da, db in offsets
            for dk in (-1, 0, 1)
        ]
    )
    assert land.scores(values)[i] == pytest.approx(brute, rel=0.03)


def test_best_placement_sits_over_the_blob(region):
    coords, values, head, land = region
    best, expected = land.best(values)
    assert land.inner[best] and expected == pytest.approx(land.scores(values)[land.inner].max())
    assert (
        np.linalg.norm(land.hotspots_mm[best] - BLOB) < 8.0
    )  # the field's centre of mass lies on the crown under the coil
    over_blob = place_on_head(head, BLOB).scalp_mm
    assert np.linalg.norm(land.placement(head, best).scalp_mm - over_blob) < 8.0
    # a 180° turn induces the same |E|: the handle is reported pointing backwards
    assert land.placement(head, best).handle[1] < 0


def test_stimulation_share_falls_with_the_displacement(region):
    """The plan keeps its whole score when every plausible target is the target.

    It keeps less the farther they move.
    """
    coords, values, head, land = region
    best, _ = land.best(values)
    centre = land.hotspots_mm[best]

    def share(shift):
        return stimulation_share(land, best, values, np.tile(centre + shift, (20, 1)), centre)

    still, near, far = share([0.0, 0.0, 0.0]), share([0.0, 6.0, 0.0]), share([0.0, 20.0, 0.0])
    assert still["share_kept"] == still["plan_share"] == 1.0
    assert 0.5 < near["share_kept"] < 1.0 and far["share_kept"] < near["share_kept"]
    assert "keeps >= " in near["text"] and near["placement_error_mm"] == 5.0
    # the plan over another spot keeps less where it is
    elsewhere = plan_placement_index(land, BLOB + [0.0, -20.0, 0.0])
    assert (
        stimulation_share(land, elsewhere, values, np.tile(centre, (5, 1)), centre)["plan_share"]
        < 0.9
    )


def test_bad_landscape_inputs_are_refused(region):
    coords, _, head, land = region
    with pytest.raises(InputError, match="placement error"):
        build_landscape(head, coords, error_mm=-1.0)
    with pytest.raises(InputError, match="at least 3"):
        build_landscape(head, coords[:2])
    with pytest.raises(InputError, match="one value per search column"):
        land.scores(np.zeros(5))


def test_no_share_when_the_best_score_is_not_reliably_positive(region):
    """Resample maps whose best-placement score straddles 0: no share is stated.

    A share of such a score would mean nothing.
    """
    coords, values, head, land = region
    best, _ = land.best(values)
    centre = land.hotspots_mm[best]
    rng = np.random.default_rng(0)
    cloud = np.tile(centre, (40, 1))
    steady = values[:, None] * (
        1.0 + 0.1 * rng.standard_normal(40)
    )  # the circuit clearly there in every resample
    shaky = values[:, None] * rng.standard_normal(40)  # sometimes there, sometimes reversed
    kept = stimulation_share(land, best, values, cloud, centre, maps=steady)
    assert kept["share_kept"] == 1.0 and kept["achievable_score_range"][0] > 0
    none = stimulation_share(land, best, values, cloud, centre, maps=shaky)
    assert (
        none["share_kept"] is None
        and none["achievable_score_range"][0] < 0
        and "not reliably above 0" in none["text"]
    )


def test_disk_cache_returns_the_same_landscape(region, tmp_path, monkeypatch):
    """A landscape is data-independent, so it is cached on disk.

    The second participant on the same region reads it from the data cache, identical to a fresh
    build; a damaged cache file is rebuilt and replaced.
    """
    from tmstarget.coil import landscape as mod

    coords, values, _, _ = region
    monkeypatch.setenv("TMSTARGET_DATA", str(tmp_path))
    monkeypatch.setattr(mod, "_CACHE", {})
    first = mod.landscape_for(coords[::3])
    files = list((tmp_path / "landscapes").glob("landscape-*.npz"))
    assert len(files) == 1 and not list((tmp_path / "landscapes").glob(".*tmp"))
    monkeypatch.setattr(mod, "_CACHE", {})
    again = mod.landscape_for(coords[::3])
    assert again is not first and again.build_s == first.build_s  # read from disk, not rebuilt
    assert np.array_equal(again.scores(values[::3]), first.scores(values[::3])) and np.array_equal(
        again.hotspots_mm, first.hotspots_mm
    )
    files[0].write_bytes(b"not a landscape")
    monkeypatch.setattr(mod, "_CACHE", {})
    rebuilt = mod.landscape_for(coords[::3])
    assert (
        np.array_equal(rebuilt.scores(values[::3]), first.scores(values[::3]))
        and files[0].stat().st_size > 1000
    )


def test_coil_centre_region_is_capped_at_the_search_area(region):
    """Resamples scattered over the whole placement grid cap the coil centre's radius.

    The radius is then the area's extent, and the output says so.
    """
    from tmstarget.cohort.run import placement_line
    from tmstarget.targeting.uncertainty.stimulation import coil_centre_region

    coords, values, head, land = region
    best, _ = land.best(values)
    inner = np.flatnonzero(land.inner)
    near = coil_centre_region(land, best, np.full(50, best), [best, best], [5.0, 5.0], 1.0, 0.95)
    assert (
        near["radius_mm"] == 0.0
        and not near["spans_search_area"]
        and near["handle_spread_deg"] == 0.0
    )
    spread = coil_centre_region(
        land, best, inner[:: max(1, len(inner) // 50)], [inner[0], inner[-1]], [5.0, 5.0], 1.0, 0.95
    )
    extent = np.linalg.norm(land.scalp_mm[land.inner] - land.scalp_mm[best], axis=1).max()
    assert spread["spans_search_area"] and spread["radius_mm"] == pytest.approx(extent, abs=0.06)
    block = {
        "placement": land.placement(head, best).to_json(),
        "expected_score": 0.2,
        "placement_error_mm": 5.0,
        "placement_error_deg": 10.0,
        "coil_centre_confidence": spread,
    }
    assert "spans the whole search area" in placement_line(block)


def test_score_at_is_one_row_of_the_scores(region):
    """score_at gives the same number as the full score vector's row.

    This holds for one map and for a batch of maps.
    """
    coords, values, _, land = region
    maps = np.column_stack([values, values[::-1], np.zeros_like(values)])
    for i in (0, int(np.argmax(land.inner)), len(land.params) - 1):
        for averaged in (True, False):
            assert land.score_at(i, values, averaged) == pytest.approx(
                land.scores(values, averaged)[i], rel=1e-12, abs=1e-15
            )
            assert np.allclose(
                land.score_at(i, maps, averaged),
                land.scores(maps, averaged)[i],
                rtol=1e-12,
                atol=1e-15,
            )
