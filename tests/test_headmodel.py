"""The template head: surface, transforms, 10-10 positions, projection to cortex."""

from __future__ import annotations

import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.headmodel import (
    MNI152_TO_MNI305,
    MNI305_TO_MNI152,
    is_inside_head,
    load_template_head,
    nearest_scalp_point,
    scalp_to_cortex,
    standard_positions,
)

#: Okamoto et al. 2004 NeuroImage 21:99–111, mean MNI coordinates of the cortical projections of
#: 10-20
#: positions over 17 adults (their Table of MNI coordinates).
OKAMOTO_2004_CORTEX = {
    "F3": (-35.5, 49.4, 32.4),
    "F4": (40.2, 47.6, 32.1),
    "C3": (-52.2, -16.4, 57.8),
    "Fz": (0.6, 40.9, 53.9),
}


@pytest.fixture(scope="module")
def head():
    return load_template_head()


def test_surface_is_a_closed_outward_mesh(head):
    v, n, f = head.scalp_vertices, head.scalp_normals, head.scalp_faces
    assert (
        v.ndim == 2
        and v.shape[1] == 3
        and n.shape == v.shape
        and f.shape[1] == 3
        and f.dtype.kind == "i"
    )
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-9)
    edges = {
        tuple(sorted(e))
        for tri in f
        for e in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0]))
    }
    assert len(v) - len(edges) + len(f) == 2  # Euler characteristic of a closed surface
    assert np.mean(np.sum((v - v.mean(0)) * n, axis=1) > 0) > 0.95  # normals point outwards
    assert not v.flags.writeable  # a shared cached model must not be modified
    assert load_template_head() is head


def test_mni_transforms_match_freesurfer_example():
    # FreeSurfer wiki "CoordinateSystems" 8b: MNI152 (10, -20, 35) -> MNI305 (9.3131, -21.5849,
    # 33.8345)
    np.testing.assert_allclose(
        MNI152_TO_MNI305 @ [10, -20, 35, 1], [9.3131, -21.5849, 33.8345, 1], atol=2e-3
    )  # matrix printed to 4 decimals
    np.testing.assert_allclose(
        MNI305_TO_MNI152 @ [9.3131, -21.5849, 33.8345, 1], [10, -20, 35, 1], atol=2e-3
    )


def test_template_head_size_is_adult(head):
    f = head.fiducials
    assert 150 < np.linalg.norm(f["rpa"] - f["lpa"]) < 175  # bitragion breadth ~ 14-16 cm
    assert 185 < np.linalg.norm(f["nasion"] - f["inion"]) < 210  # nasion-inion chord ~ 19-20 cm
    top = head.scalp_vertices[:, 2].max()
    assert 95 < top < 110  # vertex of the scalp ~100 mm above the AC in MNI


def test_standard_positions(head):
    pos = standard_positions(head)
    for name in ("Fp1", "Fpz", "Fz", "F3", "F4", "C3", "Cz", "C4", "T7", "T3", "Oz", "Iz"):
        assert name in pos
    assert pos["F3"][0] < -30 < 30 < pos["F4"][0] and abs(pos["Cz"][0]) < 5
    assert pos["Fz"][1] > pos["Cz"][1] > pos["Oz"][1]
    np.testing.assert_array_equal(pos["T3"], pos["T7"])
    for p in pos.values():  # snapped onto the scalp
        assert np.linalg.norm(nearest_scalp_point(head, p)[0] - p) < 1e-6


@pytest.mark.parametrize("name", ["F3", "F4", "C3"])  # midline sites project ambiguously (fissure)
def test_cortical_projection_within_1cm_of_okamoto_2004(head, name):
    scalp = standard_positions(head)[name]
    q, n = nearest_scalp_point(head, scalp)
    cortex, depth = scalp_to_cortex(head, q, n)
    assert np.linalg.norm(cortex - OKAMOTO_2004_CORTEX[name]) < 10.0
    assert 8 < depth < 25  # scalp-to-cortex distance at 10-20 sites (Okamoto et al. 2004: ~1-2 cm)


def test_nearest_point_and_inside(head):
    v, n = head.scalp_vertices[100], head.scalp_normals[100]
    q, m = nearest_scalp_point(head, v + 5 * n)
    assert np.linalg.norm(q - v) < 1.0 and np.dot(m, n) > 0.9
    assert is_inside_head(head, [0, 0, 0]) and is_inside_head(head, [-38, 44, 26])
    assert not is_inside_head(head, [0, 0, 200]) and not is_inside_head(head, [-120, 0, 0])
    with pytest.raises(InputError):
        nearest_scalp_point(head, [np.nan, 0, 0])


def test_scalp_to_cortex_refuses_points_off_the_brain(head):
    q, n = nearest_scalp_point(head, [0, 0, -160])  # the neck
    with pytest.raises(InputError, match="no cortex"):
        scalp_to_cortex(head, q, n)


def test_template_head_cache_round_trip(tmp_path, monkeypatch):
    from tmstarget import headmodel

    monkeypatch.setenv("TMSTARGET_DATA", str(tmp_path))
    path = headmodel._head_cache_path()
    assert path is not None and path.parent == tmp_path / "templates"
    built = headmodel._build_template_head()
    headmodel._write_head(path, built)
    read = headmodel._read_head(path)
    for name in ("scalp_vertices", "scalp_normals", "scalp_faces"):
        assert np.array_equal(getattr(read, name), getattr(built, name))
        assert not getattr(read, name).flags.writeable
    assert set(read.fiducials) == {"nasion", "lpa", "rpa", "inion"}
    for k, v in built.fiducials.items():
        assert np.array_equal(read.fiducials[k], v)
    assert len(read.scalp_vertices) == 2033
    path.write_bytes(b"not an npz")
    assert headmodel._read_head(path) is None  # a damaged cache is rebuilt
