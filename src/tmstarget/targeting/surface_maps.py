"""Volumetric maps and regions on grayordinates.

These are circuit maps, the sgACC seed and the left-DLPFC search region.

The surface counterpart of ``circuits`` and ``regions`` (it lives in ``targeting``, beside them, so
that :mod:`tmstarget.surface` — meshes, grayordinates, reading runs — never imports ``targeting``).

- **Circuit maps** (group maps in MNI152) are sampled onto each hemisphere with nilearn's
  ``vol_to_surf``: between the white and pial surfaces for the template (``kind="depth"``), along
  the normal (±3 mm) of a user's midthickness mesh; CIFTI voxels take the map resampled onto the
  CIFTI volume grid.
- **sgACC seed**: the usable grayordinates within 10 mm of MNI (6, 16, −10) — as the volumetric 10
  mm sphere. On fsaverage5 these are the ~50 right-hemisphere vertices of subgenual cortex next to
  the medial wall (no left vertex is that close, as no left voxel of the volumetric sphere is in the
  left cortex ribbon); medial-wall vertices carry no cortex and are left out. For CIFTI, cortical
  vertices (with meshes) and subcortical voxels (e.g. accumbens) within 10 mm both count.
- **Search region**: left-hemisphere cortical vertices within 20 mm of BA9 (−36, 39, 43) or BA46
  (−44, 40, 29), at most 20 mm below the template brain's surface — the volumetric default on the
  mesh.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..surface.geometry import Grayordinates
from ..surface.mesh import HemiMesh
from .circuits import SGACC_MNI, SGACC_RADIUS_MM, load_circuit_map
from .regions import DLPFC_SPHERES, MAX_DEPTH_MM, depth_below_surface_mm

#: Fewest grayordinates accepted in the sgACC seed and in the search region.
MIN_SEED_POINTS = 5
MIN_SEARCH_POINTS = 10


def sample_to_mesh(
    data: np.ndarray, affine: np.ndarray, mesh: HemiMesh, mask: np.ndarray | None = None
) -> np.ndarray:
    """Sample a 3-D or 4-D volume onto a hemisphere with nilearn (shape (V,) or (V, T)).

    Between white and pial surfaces when they differ (10 depths), else along the normal of the mesh.
    """
    import nibabel as nib
    from nilearn.surface import InMemoryMesh, vol_to_surf

    img = nib.Nifti1Image(np.asarray(data, np.float32), affine)
    mask_img = None if mask is None else nib.Nifti1Image(mask.astype(np.uint8), affine)
    outer = InMemoryMesh(coordinates=mesh.pial, faces=mesh.faces)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mesh.pial is mesh.white or np.array_equal(mesh.pial, mesh.white):
            return vol_to_surf(img, outer, radius=3.0, kind="line", mask_img=mask_img)
        inner = InMemoryMesh(coordinates=mesh.white, faces=mesh.faces)
        return vol_to_surf(img, outer, inner_mesh=inner, kind="depth", mask_img=mask_img)


def sampling_matrix(
    affine: np.ndarray, shape: tuple[int, int, int], mesh: HemiMesh, mask: np.ndarray | None = None
):
    """Build the linear map of :func:`sample_to_mesh` for a fixed grid as a sparse matrix.

    It is fast for many volumes.

    ``sample_to_mesh`` (nilearn's ``vol_to_surf``, ``kind="depth"``) averages trilinear
    interpolations at 10 depths between the pial and white surfaces, leaving out points outside the
    image or ``mask``. That is linear in the voxel values, so it is a matrix, built here once from
    nilearn's own sample locations and mask: each 4-D volume is then one sparse product instead of
    one interpolation per volume.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix, shape (V, X*Y*Z)
        Over the voxels in Fortran order (``data.reshape(-1, T, order="F")``).
    empty : ndarray of bool, shape (V,)
        Vertices with every sample outside (NaN in ``sample_to_mesh``).
    """
    from nilearn.surface import InMemoryMesh
    from nilearn.surface.surface import _masked_indices, _sample_locations
    from scipy import sparse

    outer = InMemoryMesh(coordinates=mesh.pial, faces=mesh.faces)
    inner = InMemoryMesh(coordinates=mesh.white, faces=mesh.faces)
    loc = _sample_locations(outer, affine, radius=3.0, kind="depth", inner_mesh=inner)
    n_vertices, n_points, _ = loc.shape
    flat = loc.reshape(-1, 3)
    masked = _masked_indices(flat, shape, mask=mask)
    size = np.asarray(shape)
    base = np.clip(
        np.floor(flat).astype(int), 0, size - 2
    )  # scipy's linear RegularGridInterpolator cell
    frac = flat - base
    kept = ~masked.reshape(n_vertices, n_points)
    n_kept = kept.sum(axis=1)
    share = np.where(kept, 1.0 / np.maximum(n_kept, 1)[:, None], 0.0).ravel()
    rows, cols, vals = [], [], []
    vertex = np.repeat(np.arange(n_vertices), n_points)
    for corner in np.ndindex(2, 2, 2):
        c = np.asarray(corner)
        w = np.prod(np.where(c == 1, frac, 1.0 - frac), axis=1) * share
        ijk = base + c
        rows.append(vertex)
        cols.append(ijk[:, 0] + size[0] * (ijk[:, 1] + size[1] * ijk[:, 2]))
        vals.append(w)
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    nz = vals != 0
    matrix = sparse.csr_matrix(
        (vals[nz], (rows[nz], cols[nz])), shape=(n_vertices, int(np.prod(size)))
    )
    return matrix, n_kept == 0


def circuit_values(
    path: Path, geom: Grayordinates, meshes: dict[str, HemiMesh] | None
) -> np.ndarray:
    """Sample a group circuit map (NIfTI, MNI152) at each grayordinate; NaN where it has no data."""
    import nibabel as nib

    img = nib.load(str(path))
    values = load_circuit_map(path, img.affine, img.shape[:3])  # validated, NaN outside its support
    support = np.isfinite(values)
    filled = np.nan_to_num(values)
    out = np.full(geom.n, np.nan)
    for h in ("L", "R"):
        cols = np.flatnonzero((geom.hemi == h) & np.isfinite(geom.coords[:, 0]))
        if cols.size == 0 or meshes is None:
            continue
        v = sample_to_mesh(filled, img.affine, meshes[h])[geom.vertex[cols]]
        s = sample_to_mesh(support.astype(np.float32), img.affine, meshes[h])[geom.vertex[cols]]
        out[cols] = np.where(s >= 0.5, v / np.maximum(s, 1e-6), np.nan)
    vox = np.flatnonzero(geom.hemi == "")
    if vox.size:
        bm = geom.brain_model
        grid = load_circuit_map(path, bm.affine, bm.volume_shape)
        ijk = bm.voxel[vox]
        out[vox] = grid[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    return out


def sgacc_seed(geom: Grayordinates) -> np.ndarray:
    """Columns of the sgACC seed (see the module notes)."""
    d = np.linalg.norm(geom.coords - np.asarray(SGACC_MNI), axis=1)
    idx = np.flatnonzero(geom.usable & (d <= SGACC_RADIUS_MM))
    if idx.size < MIN_SEED_POINTS:
        raise InputError(
            f"only {idx.size} grayordinate(s) within {SGACC_RADIUS_MM:.0f} "
            f"mm of the sgACC seed MNI {SGACC_MNI} — "
            "give the CIFTI's cortical meshes (--surface-mesh) "
            "or use a circuit map (--circuit PATH)"
        )
    return idx


def _template_depth() -> tuple[np.ndarray, np.ndarray]:
    from nilearn.datasets import load_mni152_brain_mask

    img = load_mni152_brain_mask(resolution=2)
    return depth_below_surface_mm(np.asarray(img.dataobj) > 0.5, img.affine), img.affine


def dlpfc_search_region(
    geom: Grayordinates, max_depth_mm: float | None = MAX_DEPTH_MM
) -> np.ndarray:
    """Default left-DLPFC search region (boolean over columns), see the module notes."""
    region = geom.usable & (geom.hemi == "L")
    near = np.zeros(geom.n, bool)
    for _, centre, radius in DLPFC_SPHERES:
        near |= np.linalg.norm(geom.coords - np.asarray(centre), axis=1) <= radius
    region &= near
    if max_depth_mm is not None and region.any():
        depth, affine = _template_depth()
        ijk = np.rint(np.c_[geom.coords[region], np.ones(region.sum())] @ np.linalg.inv(affine).T)[
            :, :3
        ].astype(int)
        ijk = np.clip(ijk, 0, np.array(depth.shape) - 1)
        region[np.flatnonzero(region)] = depth[ijk[:, 0], ijk[:, 1], ijk[:, 2]] <= max_depth_mm
    return region


def search_region_from_file(path: Path, geom: Grayordinates) -> np.ndarray:
    """Read a ``--search-mask`` onto the grayordinates.

    It is a NIfTI mask in MNI152 (looked up at each grayordinate's nearest voxel) or a
    left-hemisphere GIFTI with one value per vertex (> 0.5 inside).
    """
    import nibabel as nib

    from ..io.images import load_mask

    path = Path(path)
    if path.name.endswith(".gii"):
        try:
            values = np.asarray(nib.load(str(path)).agg_data(), float).ravel()
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read search mask {path.name} ({exc}) "
                "— pass a GIFTI with one value per vertex"
            ) from exc
        cols = np.flatnonzero(geom.hemi == "L")
        if values.size != geom.n_vertices.get("L", -1):
            raise InputError(
                f"search mask {path.name} has {values.size} "
                f"values, the left hemisphere {geom.n_vertices.get('L', 0)} "
                "vertices — pass a mask on the same mesh"
            )
        region = np.zeros(geom.n, bool)
        region[cols] = values[geom.vertex[cols]] > 0.5
        return region & geom.usable
    mask, affine = load_mask(path, None, "", "search mask")
    region = np.zeros(geom.n, bool)
    ok = np.flatnonzero(geom.usable)
    ijk = np.rint(np.c_[geom.coords[ok], np.ones(ok.size)] @ np.linalg.inv(affine).T)[:, :3].astype(
        int
    )
    inside = ((ijk >= 0) & (ijk < np.array(mask.shape))).all(axis=1)
    region[ok[inside]] = mask[tuple(ijk[inside].T)]
    return region


def check_region(region: np.ndarray, what: str = "search region") -> np.ndarray:
    """Columns of a region, refusing (nearly) empty ones."""
    idx = np.flatnonzero(region)
    if idx.size < MIN_SEARCH_POINTS:
        raise InputError(
            f"{what} has {idx.size} grayordinate(s) with coordinates "
            f"(need >= {MIN_SEARCH_POINTS}) — "
            "check --search-mask is in MNI space, or give CIFTI cortical meshes with --surface-mesh"
        )
    return idx
