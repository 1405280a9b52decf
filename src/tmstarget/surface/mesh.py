"""Template meshes in MNI152 coordinates, mesh graph distances and surface smoothing.

fsaverage meshes (bundled with nilearn for ``fsaverage5``) are in FreeSurfer's MNI305 space. Every
coordinate tmstarget uses on them — sampling volumetric group maps, the sgACC seed, the DLPFC search
region and the target's MNI coordinate — is first mapped to MNI152 with FreeSurfer's documented
linear MNI305 → MNI152 transform (:data:`MNI305_TO_MNI152`, a shift of about 1-2 mm), so surface
targets are comparable with volumetric ones. The target is reported on the *midthickness* (mean of
the white and pial surfaces). fsaverage vertices carry an individual's data through spherical
registration, so the MNI coordinate of a vertex is the template's, not the participant's own
anatomy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..exceptions import InputError

#: FreeSurfer's MNI305 → MNI152 affine (FreeSurfer wiki, "CoordinateSystems").
MNI305_TO_MNI152 = np.array(
    [
        [0.9975, -0.0073, 0.0176, -0.0429],
        [0.0146, 1.0009, -0.0024, 1.5496],
        [-0.0130, -0.0093, 0.9971, 1.1840],
        [0.0, 0.0, 0.0, 1.0],
    ]
)

#: Template meshes tmstarget can load offline (nilearn ships fsaverage5).
TEMPLATES = ("fsaverage5",)


@dataclass(frozen=True)
class HemiMesh:
    """One hemisphere of a mesh.

    Attributes
    ----------
    midthickness, pial, white : ndarray, shape (V, 3)
        Vertex coordinates (MNI152 mm); ``pial``/``white`` may equal ``midthickness`` for user
        meshes.
    faces : ndarray of int, shape (F, 3)
    cortex : ndarray of bool, shape (V,)
        Vertices outside the medial wall.
    """

    midthickness: np.ndarray
    pial: np.ndarray
    white: np.ndarray
    faces: np.ndarray
    cortex: np.ndarray


def _to_mni152(xyz: np.ndarray) -> np.ndarray:
    return xyz @ MNI305_TO_MNI152[:3, :3].T + MNI305_TO_MNI152[:3, 3]


@lru_cache(maxsize=2)
def load_template(name: str = "fsaverage5") -> dict[str, HemiMesh]:
    """Load the template's hemispheres ``{"L": HemiMesh, "R": HemiMesh}`` in MNI152 coordinates.

    The medial wall is where the template's cortical thickness is 0 (FreeSurfer's convention).
    """
    if name not in TEMPLATES:
        raise InputError(
            f"surface template '{name}' is not available offline "
            f"(available: {', '.join(TEMPLATES)}) — resample "
            "the data to fsaverage5 (fMRIPrep --output-spaces "
            "fsaverage:den-10k)"
        )
    from nilearn.datasets import load_fsaverage, load_fsaverage_data

    meshes = load_fsaverage(name)
    thickness = load_fsaverage_data(name, data_type="thickness").data.parts
    out = {}
    for hemi, part in (("L", "left"), ("R", "right")):
        pial = _to_mni152(np.asarray(meshes["pial"].parts[part].coordinates, float))
        white = _to_mni152(np.asarray(meshes["white_matter"].parts[part].coordinates, float))
        faces = np.asarray(meshes["pial"].parts[part].faces, int)
        cortex = np.asarray(thickness[part]).ravel() > 0
        out[hemi] = HemiMesh((pial + white) / 2, pial, white, faces, cortex)
    return out


def read_mesh(path: Path | str) -> HemiMesh:
    """Read a GIFTI surface (``.surf.gii``, coordinates as MNI152 mm) as a :class:`HemiMesh`."""
    import nibabel as nib

    path = Path(path)
    try:
        img = nib.load(str(path))
        coords = next(
            d.data
            for d in img.darrays
            if d.intent == nib.nifti1.intent_codes["NIFTI_INTENT_POINTSET"]
        )
        faces = next(
            d.data
            for d in img.darrays
            if d.intent == nib.nifti1.intent_codes["NIFTI_INTENT_TRIANGLE"]
        )
    except (StopIteration, AttributeError, OSError, ValueError) as exc:
        raise InputError(
            f"cannot read surface mesh {path.name} ({exc}) "
            "— pass a GIFTI .surf.gii with coordinates and "
            "triangles"
        ) from exc
    coords = np.asarray(coords, float)
    return HemiMesh(coords, coords, coords, np.asarray(faces, int), np.ones(len(coords), bool))


def edge_graph(coords: np.ndarray, faces: np.ndarray) -> sparse.csr_matrix:
    """Symmetric sparse matrix of mesh edge lengths (mm)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length = np.linalg.norm(coords[edges[:, 0]] - coords[edges[:, 1]], axis=1)
    n = len(coords)
    g = sparse.coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n))
    return (g + g.T).tocsr()


def graph_distances(
    coords: np.ndarray, faces: np.ndarray | None, limit_mm: float, batch: int = 512
) -> sparse.csr_matrix:
    """Compute distances (mm) between points closer than ``limit_mm``.

    Distances run along mesh edges, or straight for voxels.

    Parameters
    ----------
    coords : ndarray, shape (V, 3)
    faces : ndarray, shape (F, 3), or None
        Triangles; ``None`` for volume points (Euclidean distances).
    limit_mm : float
        Pairs further apart are left out.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (V, V)
        Distances with an explicit diagonal entry per point stored as a tiny positive value (1e-9).
    """
    n = len(coords)
    if faces is None:
        tree = cKDTree(coords)
        d = tree.sparse_distance_matrix(tree, limit_mm, output_type="coo_matrix").tocsr()
    else:
        graph = edge_graph(coords, faces)
        rows, cols, vals = [], [], []
        for b0 in range(0, n, batch):
            idx = np.arange(b0, min(n, b0 + batch))
            dist = dijkstra(graph, directed=False, indices=idx, limit=limit_mm)
            r, c = np.nonzero(np.isfinite(dist))
            rows.append(idx[r])
            cols.append(c)
            vals.append(dist[r, c])
        d = sparse.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        ).tocsr()
    d.setdiag(1e-9)  # keep the zero self-distance as a stored entry
    return d


def gaussian_smoother(
    coords: np.ndarray, faces: np.ndarray | None, fwhm_mm: float
) -> sparse.csr_matrix:
    """Build a row-normalised Gaussian smoothing matrix over mesh distances.

    The kernel has σ = FWHM / √(8 ln 2) and is cut at 3σ.
    """
    sigma = fwhm_mm / np.sqrt(8 * np.log(2))
    d = graph_distances(coords, faces, 3 * sigma)
    d.data = np.exp(-0.5 * (d.data / sigma) ** 2)
    rows = np.asarray(d.sum(axis=1)).ravel()
    return (sparse.diags(1.0 / rows) @ d).tocsr()
