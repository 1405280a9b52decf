"""Score-map images: one value per column of the targeting geometry.

They are written as NIfTI (volumes), GIFTI (fsaverage, one file per hemisphere with search vertices)
or CIFTI (grayordinates).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from .names import entities, participant_dir, target_path


def nifti_image(data: np.ndarray, affine: np.ndarray, intent: str | None = None) -> nib.Nifti1Image:
    """Return a float32 NIfTI image in MNI space with ``intent`` as its description.

    Units are mm and s; sform and qform codes are 4 (MNI).
    """
    img = nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_sform(affine, code=4)
    img.header.set_qform(affine, code=4)
    if intent:
        img.header["descrip"] = intent[:79].encode()
    return img


def _gifti(values: np.ndarray, hemi: str) -> nib.gifti.GiftiImage:
    meta = nib.gifti.GiftiMetaData(
        {"AnatomicalStructurePrimary": "CortexLeft" if hemi == "L" else "CortexRight"}
    )
    arr = nib.gifti.GiftiDataArray(
        values.astype(np.float32), intent="NIFTI_INTENT_NONE", datatype="NIFTI_TYPE_FLOAT32"
    )
    return nib.gifti.GiftiImage(meta=meta, darrays=[arr])


def surface_score_images(
    values: np.ndarray, geom, circuit: str, out_dir: Path, participant: str, session: str | None
) -> dict[Path, object]:
    """Score map images of a surface target, keyed by path.

    They are a GIFTI per hemisphere with search vertices
    (``<p>_hemi-L_space-fsaverage5_desc-<c>_score.shape.gii``), or one CIFTI
    ``<p>_space-<s>_desc-<c>_score.dscalar.nii``.

    ``geom`` is a :class:`tmstarget.surface.geometry.Grayordinates`; ``values`` has one entry per
    column.
    """
    stem = participant_dir(out_dir, participant, session) / entities(participant, session)
    if geom.brain_model is not None:
        header = (nib.cifti2.ScalarAxis([f"{circuit} score"]), geom.brain_model)
        return {
            Path(
                f"{stem}_space-{geom.space}_desc-{circuit}_score.dscalar.nii"
            ): nib.cifti2.Cifti2Image(values[None, :].astype(np.float32), header)
        }
    out = {}
    for h in ("L", "R"):
        cols = np.flatnonzero(geom.hemi == h)
        if np.isfinite(values[cols]).any():
            full = np.full(geom.n_vertices[h], np.nan, np.float32)
            full[geom.vertex[cols]] = values[cols]
            out[Path(f"{stem}_hemi-{h}_space-{geom.space}_desc-{circuit}_score.shape.gii")] = (
                _gifti(full, h)
            )
    return out


def volume_score_images(
    values: np.ndarray,
    affine: np.ndarray,
    circuit: str,
    method: str,
    out_dir: Path,
    participant: str,
    session: str | None,
) -> dict[Path, object]:
    """Return the volumetric score map ``<p>_desc-<circuit>_score.nii.gz``.

    It is NaN outside the search region.
    """
    path = target_path(out_dir, participant, session, circuit, "score", ".nii.gz")
    return {path: nifti_image(values, affine, f"tmstarget {circuit} {method} score")}
