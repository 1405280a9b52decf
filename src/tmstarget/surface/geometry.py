"""Grayordinates: the points surface data live on, with MNI152 coordinates and neighbourhoods.

Surface data come as columns — fsaverage vertices of the left then the right hemisphere (GIFTI), or
the brain-model axis of a CIFTI file (cortical vertices of each hemisphere, then subcortical
voxels). Targeting needs each column's MNI coordinate and, for smoothing, its neighbours;
:class:`Grayordinates` holds both. CIFTI voxels get coordinates from the file's volume affine; CIFTI
cortical vertices from midthickness meshes given by the user (fsLR meshes are not shipped with
tmstarget or nilearn), and none without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from ..exceptions import InputError
from .mesh import HemiMesh, gaussian_smoother, load_template

_CIFTI_HEMI = {"CIFTI_STRUCTURE_CORTEX_LEFT": "L", "CIFTI_STRUCTURE_CORTEX_RIGHT": "R"}


@dataclass
class Grayordinates:
    """Columns of surface data and their geometry.

    Attributes
    ----------
    coords : ndarray, shape (N, 3)
        MNI152 mm; NaN where unknown (CIFTI cortex without meshes).
    hemi : ndarray of str, shape (N,)
        ``"L"``/``"R"`` for cortical vertices, ``""`` for voxels.
    vertex : ndarray of int, shape (N,)
        Vertex index within its hemisphere's mesh (-1 for voxels).
    usable : ndarray of bool, shape (N,)
        Known coordinates and not medial wall.
    parts : list of (ndarray of int, ndarray or None)
        Columns of each mesh (with its triangles in local indices) or of the volume (``None``):
        smoothing
        and neighbourhoods stay within a part.
    space : str
        ``fsaverage5`` or ``fsLR``.
    n_vertices : dict
        Vertices of each hemisphere's full mesh.
    brain_model : nibabel.cifti2.BrainModelAxis or None
        The CIFTI axis the columns follow.
    mesh : str
        What the coordinates come from (recorded in the target JSON).
    """

    coords: np.ndarray
    hemi: np.ndarray
    vertex: np.ndarray
    usable: np.ndarray
    parts: list
    space: str
    n_vertices: dict = field(default_factory=dict)
    brain_model: object = None
    mesh: str = ""

    @property
    def n(self) -> int:
        """Number of columns."""
        return len(self.coords)

    @cached_property
    def adjacency(self) -> sparse.csr_matrix:
        """Adjacency of the columns (N × N, symmetric, boolean).

        Columns touch along mesh edges within each hemisphere; voxels of the volume part touch when
        their indices differ by at most 1 on every axis (26-connectivity).
        """
        rows, cols = [], []
        for idx, faces in self.parts:
            if faces is not None:
                edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
                rows.append(idx[edges[:, 0]])
                cols.append(idx[edges[:, 1]])
            elif self.brain_model is not None:
                from scipy.spatial import cKDTree

                ijk = np.asarray(self.brain_model.voxel[idx], float)
                pairs = cKDTree(ijk).query_pairs(np.sqrt(3.0) + 1e-6, output_type="ndarray")
                rows.append(idx[pairs[:, 0]])
                cols.append(idx[pairs[:, 1]])
        r, c = (np.concatenate(x) if x else np.zeros(0, int) for x in (rows, cols))
        a = sparse.coo_matrix((np.ones(r.size, bool), (r, c)), shape=(self.n, self.n)).tocsr()
        return (a + a.T).tocsr()

    @cached_property
    def areas(self) -> np.ndarray:
        """Weight of each column in a patch (N,).

        A vertex's weight is its area (mm²: a third of the area of each of its triangles, on the
        mesh giving the coordinates); a CIFTI voxel's is its face area (its side², a cortical ribbon
        one voxel thick).
        """
        out = np.zeros(self.n)
        for idx, faces in self.parts:
            if faces is not None:
                xyz = self.coords[idx]
                tri = 0.5 * np.linalg.norm(
                    np.cross(
                        xyz[faces[:, 1]] - xyz[faces[:, 0]], xyz[faces[:, 2]] - xyz[faces[:, 0]]
                    ),
                    axis=1,
                )
                out[idx] = np.bincount(
                    faces.ravel(), weights=np.repeat(tri / 3.0, 3), minlength=idx.size
                )
            elif self.brain_model is not None:
                zooms = np.sqrt((np.asarray(self.brain_model.affine)[:3, :3] ** 2).sum(0))
                out[idx] = float(np.prod(zooms)) ** (2.0 / 3.0)
        return out

    def smoother(self, fwhm_mm: float) -> sparse.csr_matrix:
        """Return the block-diagonal Gaussian smoothing matrix (N × N) of the columns.

        It smooths over mesh (or voxel) distances within each part.
        """
        rows, cols, vals = [], [], []
        for idx, faces in self.parts:
            s = gaussian_smoother(self.coords[idx], faces, fwhm_mm).tocoo()
            rows.append(idx[s.row])
            cols.append(idx[s.col])
            vals.append(s.data)
        alone = np.setdiff1d(
            np.arange(self.n), np.concatenate([idx for idx, _ in self.parts] or [np.zeros(0, int)])
        )
        rows, cols, vals = (
            [*rows, alone],
            [*cols, alone],
            [*vals, np.ones(alone.size)],
        )  # no neighbours: unchanged
        return sparse.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n, self.n),
        ).tocsr()


def template_grayordinates(name: str = "fsaverage5") -> Grayordinates:
    """Both hemispheres of a template mesh, left then right (fMRIPrep's GIFTI outputs)."""
    meshes = load_template(name)
    return _from_hemis(meshes, name, f"{name} midthickness (MNI305 -> MNI152)")


def _from_hemis(meshes: dict[str, HemiMesh], space: str, mesh: str) -> Grayordinates:
    coords, hemi, vertex, usable, parts, start = [], [], [], [], [], 0
    for h in ("L", "R"):
        m = meshes[h]
        n = len(m.midthickness)
        coords.append(m.midthickness)
        hemi.append(np.full(n, h))
        vertex.append(np.arange(n))
        usable.append(m.cortex)
        parts.append((np.arange(start, start + n), m.faces))
        start += n
    return Grayordinates(
        np.concatenate(coords),
        np.concatenate(hemi),
        np.concatenate(vertex),
        np.concatenate(usable),
        parts,
        space,
        {h: len(meshes[h].midthickness) for h in ("L", "R")},
        None,
        mesh,
    )


def cifti_grayordinates(
    brain_model, meshes: dict[str, HemiMesh] | None = None, space: str = "fsLR"
) -> Grayordinates:
    """Return the grayordinates of a CIFTI brain-model axis.

    Cortical coordinates come from ``meshes`` (``{"L", "R"}``) if given.
    """
    n = len(brain_model)
    coords = np.full((n, 3), np.nan)
    hemi = np.full(n, "", dtype="<U1")
    vertex = np.full(n, -1)
    parts, n_vertices = [], {}
    vox_idx = []
    for name, sl, sub in brain_model.iter_structures():
        idx = np.arange(n)[sl]
        if name in _CIFTI_HEMI:
            h = _CIFTI_HEMI[name]
            hemi[idx], vertex[idx] = h, sub.vertex
            n_vertices[h] = int(sub.nvertices[name])
            if meshes is None:
                continue
            m = meshes[h]
            if len(m.midthickness) != n_vertices[h]:
                raise InputError(
                    f"surface mesh of hemisphere {h} has {len(m.midthickness)} "
                    f"vertices but the CIFTI's cortex has {n_vertices[h]} "
                    "— "
                    "pass the midthickness meshes of the same density (e.g. fsLR 32k for den-91k)"
                )
            coords[idx] = m.midthickness[sub.vertex]
            local = np.full(n_vertices[h], -1)
            local[sub.vertex] = np.arange(idx.size)
            faces = local[m.faces]
            parts.append((idx, faces[(faces >= 0).all(axis=1)]))
        elif sub.volume_mask.any():
            ijk = sub.voxel
            coords[idx] = ijk @ sub.affine[:3, :3].T + sub.affine[:3, 3]
            vox_idx.append(idx)
    if vox_idx:
        parts.append((np.concatenate(vox_idx), None))
    usable = np.isfinite(coords).all(axis=1)
    mesh = (
        "user meshes for cortex; volume affine for voxels"
        if meshes
        else "volume affine for voxels; cortex without coordinates (no --surface-mesh)"
    )
    return Grayordinates(coords, hemi, vertex, usable, parts, space, n_vertices, brain_model, mesh)
