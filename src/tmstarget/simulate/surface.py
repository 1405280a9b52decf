"""Simulated surface participants: the volumetric model sampled onto fsaverage5 with nilearn.

The planted target is a vertex of the left-DLPFC surface search region (its midthickness MNI
coordinate, see :mod:`tmstarget.surface.mesh`), displaced from the group site like the volumetric
simulation's. Each run is simulated in the MNI 2 mm volume
(:func:`tmstarget.simulate.model.simulate_participant`, target node at that coordinate) and sampled
onto both hemispheres between the white and pial surfaces as nilearn's ``vol_to_surf`` does (one
sparse matrix per hemisphere, :func:`tmstarget.targeting.surface_maps.sampling_matrix`), as fMRIPrep
samples BOLD onto the cortical ribbon. Confounds are computed from the volume.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..io.derivatives import atomic_path, write_json_atomic, write_text_atomic
from .dataset import confounds_table
from .model import GROUP_TARGET_MNI, SimulationParams, anatomy, simulate_participant

logger = logging.getLogger(__name__)


def planted_vertex(
    rng: np.random.Generator, shift_mm: float | None, space: str = "fsaverage5"
) -> tuple[int, np.ndarray]:
    """Return a search-region column displaced from the group site, and its MNI mm.

    The displacement is ``shift_mm`` (default 4-15 mm).
    """
    from ..surface.geometry import template_grayordinates
    from ..targeting.surface_maps import dlpfc_search_region

    geom = template_grayordinates(space)
    cols = np.flatnonzero(dlpfc_search_region(geom))
    shift = shift_mm if shift_mm is not None else float(rng.uniform(4.0, 15.0))
    direction = rng.standard_normal(3)
    point = np.asarray(GROUP_TARGET_MNI) + shift * direction / np.linalg.norm(direction)
    col = int(cols[np.argmin(np.linalg.norm(geom.coords[cols] - point, axis=1))])
    return col, geom.coords[col]


@lru_cache(maxsize=2)
def _samplers(fov: str, space: str) -> tuple:
    """Return per-hemisphere (L, R) sampling matrices of the simulation grid onto the template.

    See :func:`tmstarget.targeting.surface_maps.sampling_matrix`: nilearn's ``vol_to_surf`` as one
    sparse product.
    """
    from ..surface.mesh import load_template
    from ..targeting.surface_maps import sampling_matrix

    anat, meshes = anatomy(fov), load_template(space)
    return tuple(
        sampling_matrix(anat.affine, anat.shape, meshes[h], anat.brain) for h in ("L", "R")
    )


def simulate_surface_runs(
    rng: np.random.Generator,
    target_mni,
    params: SimulationParams = SimulationParams(),
    n_runs: int = 1,
    space: str = "fsaverage5",
    chunk: int = 40,
    voxels_mni: np.ndarray | None = None,
    deviation: np.ndarray | None = None,
) -> list[tuple]:
    """Simulate the runs of one participant on the template surface.

    Parameters
    ----------
    voxels_mni : ndarray, shape (k, 3), optional
        Also return the volume's time series at the voxels nearest these points (e.g. a CIFTI's
        subcortical grayordinates).
    deviation : ndarray, optional
        The participant's own deviation field (:func:`~tmstarget.simulate.model.deviation_field`),
        so that separate calls (sessions) share it; by default ``simulate_participant`` draws one.

    Returns
    -------
    list of tuple
        Per run: time series (T, N) of the left then right vertices, the fMRIPrep-style confounds,
        and (with ``voxels_mni``) the (T, k) voxel time series.
    """
    anat = anatomy(params.fov)
    samplers = _samplers(params.fov, space)
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue = {
        "global": flat,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    out = []
    for bold, motion in simulate_participant(
        rng, anat, target_mni, params, n_runs, deviation=deviation
    ):
        n = bold.shape[3]
        table = confounds_table(bold.reshape(-1, n, order="F"), motion, tissue)
        flat_bold = bold.reshape(-1, n, order="F")
        hemis = []
        for matrix, empty in samplers:
            parts = [matrix @ flat_bold[:, t0 : t0 + chunk] for t0 in range(0, n, chunk)]
            values = np.concatenate(parts, axis=1).T
            values[:, empty] = np.nan
            hemis.append(values)
        run = (np.concatenate(hemis, axis=1).astype(np.float32), table)
        if voxels_mni is not None:
            ijk = np.rint(
                np.c_[voxels_mni, np.ones(len(voxels_mni))] @ np.linalg.inv(anat.affine).T
            )[:, :3].astype(int)
            run += (np.ascontiguousarray(bold[ijk[:, 0], ijk[:, 1], ijk[:, 2]].T),)
        out.append(run)
        del bold
    return out


def _write_gifti(path: Path, data: np.ndarray, hemi: str) -> None:
    import nibabel as nib

    meta = nib.gifti.GiftiMetaData(
        {"AnatomicalStructurePrimary": "CortexLeft" if hemi == "L" else "CortexRight"}
    )
    arrays = [
        nib.gifti.GiftiDataArray(
            v, intent="NIFTI_INTENT_TIME_SERIES", datatype="NIFTI_TYPE_FLOAT32"
        )
        for v in data
    ]
    with atomic_path(path) as tmp:
        nib.save(nib.gifti.GiftiImage(meta=meta, darrays=arrays), str(tmp))


def cifti_axes(space: str = "fsaverage5", radius_mm: float = 12.0):
    """Build the brain models of a synthetic CIFTI on the template.

    First come its cortical vertices (medial wall left out), then grey-matter voxels of the
    simulation grid within ``radius_mm`` of the sgACC seed and its mirror (labelled accumbens,
    standing in for the 91k subcortical structures). Returns (axis, voxel MNI mm).
    """
    import nibabel as nib

    from ..surface.mesh import load_template
    from ..targeting.circuits import SGACC_MNI

    meshes, anat = load_template(space), anatomy("brain")
    bm = None
    for h, name in (("L", "CortexLeft"), ("R", "CortexRight")):
        part = nib.cifti2.BrainModelAxis.from_surface(
            np.flatnonzero(meshes[h].cortex), len(meshes[h].cortex), name
        )
        bm = part if bm is None else bm + part
    ijk = np.indices(anat.shape).reshape(3, -1).T
    xyz = ijk @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    for sign, name in ((-1, "accumbens_left"), (1, "accumbens_right")):
        near = (
            np.linalg.norm(xyz - np.array([sign * abs(SGACC_MNI[0]), *SGACC_MNI[1:]]), axis=1)
            <= radius_mm
        )
        mask = (near & anat.gm.ravel() & (np.sign(xyz[:, 0]) == sign)).reshape(anat.shape)
        bm = bm + nib.cifti2.BrainModelAxis.from_mask(mask, name, anat.affine)
    vox = bm.voxel[bm.volume_mask]
    return bm, vox @ anat.affine[:3, :3].T + anat.affine[:3, 3]


def _write_cifti(path: Path, data: np.ndarray, voxels: np.ndarray, bm, geom, t_r: float) -> None:
    import nibabel as nib

    cortex = np.concatenate(
        [
            np.flatnonzero(geom.hemi == h)[sub.vertex]
            for h, (_, _, sub) in zip("LR", list(bm.iter_structures())[:2])
        ]
    )
    values = np.concatenate([data[:, cortex], voxels], axis=1).astype(np.float32)
    series = nib.cifti2.SeriesAxis(0.0, t_r, values.shape[0], "SECOND")
    with atomic_path(path) as tmp:
        nib.save(nib.cifti2.Cifti2Image(values, (series, bm)), str(tmp))


def simulate_surface_dataset(
    out_dir: Path | str,
    n_participants: int = 1,
    n_runs: int = 1,
    params: SimulationParams = SimulationParams(),
    seed: int = 0,
    space: str = "fsaverage5",
    cifti: bool = False,
) -> dict:
    """Write simulated participants as fMRIPrep surface outputs.

    The files are ``*_hemi-L/R_space-fsaverage5_bold.func.gii``.

    Per run: both hemispheres' GIFTIs, a ``_bold.json`` sidecar with ``RepetitionTime``, the
    confounds TSV; per participant ``sub-<l>_desc-truth_target.json`` with the planted target (MNI
    mm and vertex). With ``cifti``, also the same run as a synthetic CIFTI dense time series
    (:func:`cifti_axes`), ``<prefix>_space-fsaverage5_den-10k_bold.dtseries.nii`` (fsLR meshes are
    not available offline).

    Returns
    -------
    dict
        ``{"participants": {label: {"target_mni": [...], "vertex": v, "hemi": "L"}}}``.
    """
    from ..surface.geometry import template_grayordinates

    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    geom = template_grayordinates(space)
    n_left = geom.n_vertices["L"]
    write_json_atomic(
        out / "dataset_description.json",
        {
            "Name": "tmstarget simulated fMRIPrep surface derivatives",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [
                {
                    "Name": "tmstarget.simulate.surface",
                    "Description": "synthetic data with planted targets (not real participants)",
                }
            ],
            "Seed": seed,
        },
    )
    truth: dict = {"participants": {}}
    for i in range(n_participants):
        label = f"{i + 1:02d}"
        col, target = planted_vertex(rng, params.shift_mm, space)
        func = out / f"sub-{label}" / "func"
        axes = cifti_axes(space) if cifti else None
        for r, (data, table, *vox) in enumerate(
            simulate_surface_runs(rng, target, params, n_runs, space, voxels_mni=axes and axes[1]),
            1,
        ):
            prefix = f"sub-{label}_task-rest" + (f"_run-{r}" if n_runs > 1 else "")
            if axes is not None:
                _write_cifti(
                    func / f"{prefix}_space-{space}_den-10k_bold.dtseries.nii",
                    data,
                    vox[0],
                    axes[0],
                    geom,
                    params.t_r,
                )
            for h, cols in (("L", slice(0, n_left)), ("R", slice(n_left, None))):
                _write_gifti(
                    func / f"{prefix}_hemi-{h}_space-{space}_bold.func.gii", data[:, cols], h
                )
            write_json_atomic(
                func / f"{prefix}_space-{space}_bold.json",
                {"RepetitionTime": params.t_r, "TaskName": "rest"},
            )
            write_text_atomic(
                func / f"{prefix}_desc-confounds_timeseries.tsv",
                table.to_csv(sep="\t", index=False, na_rep="n/a", float_format="%.6g"),
            )
        entry = {
            "target_mni": [float(v) for v in target],
            "hemi": "L",
            "vertex": int(geom.vertex[col]),
        }
        write_json_atomic(
            out / f"sub-{label}" / f"sub-{label}_desc-truth_target.json",
            {"participant": label, **entry},
        )
        truth["participants"][label] = entry
        logger.info(
            "sub-%s: planted target at vertex L%d, MNI (%.1f, %.1f, %.1f)",
            label,
            entry["vertex"],
            *target,
        )
    return truth
