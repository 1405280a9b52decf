"""Echo-wise series in fMRIPrep's BOLD reference space, brought onto the combined series' grid.

fMRIPrep (23.1+, ``--me-output-echos``) writes the echo-wise series in the BOLD reference space
(``<prefix>_echo-<n>_desc-preproc_bold.nii.gz``, no ``space-``) and the optimally combined series,
brain mask and confounds in the output spaces. Two of its transforms link the spaces:

- ``<prefix>_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt`` (``func/``, ITK affine), which
  maps T1w points to BOLD reference points, and
- ``sub-<l>[_ses-<s>]_from-T1w_to-<template>_mode-image_xfm.h5`` (``anat/``, ITK composite),
  which maps template points to T1w points (:mod:`tmstarget.io.transforms`: an image transform
  ``from-A_to-B`` maps B points to A points).

:func:`boldref_resampler` maps the centres of the mask's voxels on the target grid **once** through
both (template → T1w → BOLD reference mm → BOLD reference voxel coordinates) and builds a sparse
trilinear interpolation matrix (:func:`trilinear_matrix`: rows the mask's voxels, columns only the
BOLD reference voxels needed). :meth:`BoldrefResampler.chunks` then streams an echo 32 volumes at a
time and multiplies: no 4-D BOLD reference array is held and no per-volume resampler is called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import InputError

#: Largest share of the mask's voxels that may map outside the BOLD reference field of view
#: (their echo series are 0 and the voxels are left out as constant); beyond it the transforms are
#: taken to be the wrong ones.
MAX_OUTSIDE_FRACTION = 0.05

_PREFIX_RE = re.compile(
    r"^(?P<prefix>(?P<sub>sub-[a-zA-Z0-9]+)(?:_(?P<ses>ses-[a-zA-Z0-9]+))?.*?)_echo-"
)
_XFM_EXTS = (".txt", ".h5", ".mat")


def _first_existing(folder: Path, stems: Iterable[str]) -> Path | None:
    for stem in stems:
        for ext in _XFM_EXTS:
            p = folder / f"{stem}{ext}"
            if p.is_file():
                return p
    return None


def find_echo_transforms(echo: Path | str, space: str) -> tuple[Path, Path]:
    """Find the coregistration and anatomical transforms of a run with BOLD reference echoes.

    Parameters
    ----------
    echo : path
        One of the run's echo-wise series (``<prefix>_echo-<n>_desc-preproc_bold.nii.gz``).
    space : str
        The template space of the combined series (e.g. ``MNI152NLin6Asym``).

    Returns
    -------
    coreg, anat : Path
        ``<prefix>_from-boldref_to-T1w_mode-image[_desc-coreg]_xfm.txt`` beside the echo, and
        ``sub-<l>[_ses-<s>]_from-T1w_to-<space>_mode-image_xfm.h5`` in the session's or the
        participant's ``anat`` folder (``.txt``/``.h5``/``.mat`` accepted for both).

    Raises
    ------
    InputError
        Either file is missing (the message names the file expected and where).
    """
    echo = Path(echo)
    m = _PREFIX_RE.match(echo.name)
    if m is None:
        raise InputError(
            f"{echo.name} is not an echo-wise series (sub-<l>_..._echo-<n>_desc-preproc_bold) "
            "— pass fMRIPrep's --me-output-echos files"
        )
    func, prefix = echo.parent, m["prefix"]
    coreg_stem = f"{prefix}_from-boldref_to-T1w_mode-image"
    coreg = _first_existing(func, (f"{coreg_stem}_desc-coreg_xfm", f"{coreg_stem}_xfm"))
    if coreg is None:
        raise InputError(
            f"{echo.name} is in fMRIPrep's BOLD reference space but "
            f"{coreg_stem}_desc-coreg_xfm.txt is not in {func} — copy fMRIPrep's coregistration "
            "transform beside the echoes (fMRIPrep 23.1+ writes it), or pass --me-denoise none"
        )
    sub, ses = m["sub"], m["ses"]
    folders = [func.parent / "anat"]
    if func.parent.name.startswith("ses-"):
        folders.append(func.parent.parent / "anat")
    tail = f"from-T1w_to-{space}_mode-image_xfm"
    stems = ([f"{sub}_{ses}_{tail}"] if ses else []) + [f"{sub}_{tail}"]
    for folder in folders:
        anat = _first_existing(folder, stems)
        if anat is not None:
            return coreg, anat
    raise InputError(
        f"{echo.name} is in fMRIPrep's BOLD reference space but {sub}_{tail}.h5 is not in "
        f"{' or '.join(str(f) for f in folders)} — copy fMRIPrep's anat transforms (T1w → {space}) "
        "into the derivatives, or pass --me-denoise none"
    )


def trilinear_matrix(ijk: np.ndarray, shape: tuple[int, int, int]):
    """Sparse trilinear interpolation from a grid to points given in its voxel coordinates.

    Parameters
    ----------
    ijk : ndarray, shape (V, 3)
        Continuous voxel coordinates of the points in the source grid.
    shape : tuple of int
        The source grid's shape.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix, shape (V, K)
        Interpolation weights (each row sums to 1; empty for points outside the grid).
    columns : ndarray of int, shape (K,)
        The source voxels the columns stand for, as Fortran-order flat indices, increasing (the
        order :func:`tmstarget.io.images.stream_masked_volumes` reads a mask's voxels in).
    inside : ndarray of bool, shape (V,)
        Points within the grid's field of view (voxel centres ± half a voxel); points in the outer
        half voxel take the edge values.
    """
    from scipy import sparse

    ijk = np.asarray(ijk, float).reshape(-1, 3)
    n = np.asarray(shape, int)
    inside = np.all((ijk >= -0.5) & (ijk <= n - 0.5), axis=1)
    c = np.clip(ijk, 0, n - 1)
    i0 = np.minimum(np.floor(c).astype(np.int64), np.maximum(n - 2, 0))
    frac = c - i0
    i1 = np.minimum(i0 + 1, n - 1)
    rows, cols, weights = [], [], []
    v = np.flatnonzero(inside)
    for corner in range(8):
        bits = [(corner >> k) & 1 for k in range(3)]
        idx = [np.where(b, i1[v, k], i0[v, k]) for k, b in enumerate(bits)]
        w = np.prod([np.where(b, frac[v, k], 1.0 - frac[v, k]) for k, b in enumerate(bits)], axis=0)
        rows.append(v)
        cols.append(idx[0] + n[0] * (idx[1] + n[1] * idx[2]))
        weights.append(w)
    rows_a, cols_a, w_a = (np.concatenate(x) for x in (rows, cols, weights))
    keep = w_a > 0
    columns, inverse = np.unique(cols_a[keep], return_inverse=True)
    matrix = sparse.csr_matrix(
        (w_a[keep], (rows_a[keep], inverse.ravel())), shape=(len(ijk), len(columns))
    )
    matrix.sum_duplicates()
    return matrix, columns, inside


@dataclass(frozen=True)
class BoldrefResampler:
    """Brings echo-wise series of one BOLD reference grid onto the voxels of a target-grid mask.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (V, K)
        Trilinear weights: rows the mask's voxels (Fortran order), columns the needed voxels.
    needed : ndarray of bool
        The needed BOLD reference voxels (a volume of the echoes' grid).
    shape : tuple of int
        The BOLD reference grid's shape.
    affine : ndarray, shape (4, 4)
        The BOLD reference grid's affine.
    transforms : tuple of Path
        The coregistration and anatomical transforms applied.
    outside_fraction : float
        Share of the mask's voxels that map outside the BOLD reference field of view.
    """

    matrix: object
    needed: np.ndarray
    shape: tuple[int, int, int]
    affine: np.ndarray
    transforms: tuple[Path, ...]
    outside_fraction: float

    def chunks(self, path: Path | str, chunk: int = 32) -> Iterator[tuple[int, np.ndarray]]:
        """``(t0, X)`` chunks of an echo on the mask's voxels, X float32 (n, V), as it is read."""
        from .images import load_image, stream_masked_volumes

        img = load_image(path, "echo-wise BOLD")
        if tuple(img.shape[:3]) != self.shape or not np.allclose(
            img.affine, self.affine, atol=1e-3
        ):
            raise InputError(
                f"{Path(path).name} is on another grid than the run's first echo — use the "
                "echoes of one fMRIPrep run"
            )
        for t0, x in stream_masked_volumes(img, self.needed, Path(path).name, chunk):
            yield t0, np.ascontiguousarray((self.matrix @ x.T).T, dtype=np.float32)


def boldref_resampler(
    mask: np.ndarray,
    affine: np.ndarray,
    echo: Path | str,
    transforms: tuple[Path, Path],
    run_name: str = "",
) -> BoldrefResampler:
    """Map the mask's voxels to an echo's BOLD reference grid once; return the resampler.

    Parameters
    ----------
    mask : ndarray of bool, shape (X, Y, Z)
        The voxels wanted, on the target grid ``affine`` (the combined series' grid).
    echo : path
        An echo-wise series of the run (its grid is the BOLD reference grid).
    transforms : (coreg, anat)
        From :func:`find_echo_transforms`.

    Raises
    ------
    InputError
        A transform unreadable, or more than :data:`MAX_OUTSIDE_FRACTION` of the mask mapping
        outside the echoes' field of view.
    """
    from .images import load_image
    from .transforms import load_transform, map_points

    coreg_path, anat_path = (Path(p) for p in transforms)
    coreg, anat = load_transform(coreg_path), load_transform(anat_path)
    img = load_image(echo, "echo-wise BOLD")
    mask = np.asarray(mask, bool)
    ijk_t = np.column_stack(
        np.unravel_index(np.flatnonzero(mask.ravel(order="F")), mask.shape, order="F")
    )
    points = ijk_t @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3]
    try:  # template → T1w → BOLD reference
        boldref_mm = map_points(coreg, map_points(anat, points))
    except InputError:
        raise InputError(
            f"{run_name or Path(echo).name}: brain mask voxels map outside the field of "
            f"{anat_path.name} or {coreg_path.name} — check that both transforms belong to this "
            "participant and run, or pass --me-denoise none"
        ) from None
    inv = np.linalg.inv(img.affine)
    ijk = boldref_mm @ inv[:3, :3].T + inv[:3, 3]
    shape = tuple(int(s) for s in img.shape[:3])
    matrix, columns, inside = trilinear_matrix(ijk, shape)
    outside = 1.0 - float(inside.mean()) if len(inside) else 0.0
    if outside > MAX_OUTSIDE_FRACTION:
        raise InputError(
            f"{run_name or Path(echo).name}: {100 * outside:.1f}% of the brain mask maps outside "
            f"the echoes' field of view through {coreg_path.name} and {anat_path.name} "
            f"(at most {100 * MAX_OUTSIDE_FRACTION:g}% allowed) — check that both transforms "
            "belong to this participant and run, or pass --me-denoise none"
        )
    needed = np.zeros(shape, bool, order="F")
    needed.ravel(order="F")[columns] = True
    return BoldrefResampler(matrix, needed, shape, img.affine, (coreg_path, anat_path), outside)


def write_masked_series(
    path: Path | str,
    chunks: Iterable[tuple[int, np.ndarray]],
    mask: np.ndarray,
    affine: np.ndarray,
    n_volumes: int,
    t_r: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Write masked series chunks as an uncompressed 4-D NIfTI on the mask's bounding box, streamed.

    Each chunk (t0, X (n, V)) is written as it comes (volumes are contiguous in a NIfTI), so at
    most one chunk is in memory. Used to hand resampled echoes to tedana.

    Returns
    -------
    box_mask : ndarray of bool
        The mask cropped to its bounding box (the file's grid); its voxels in Fortran order are the
        mask's.
    box_affine : ndarray, shape (4, 4)
    """
    import nibabel as nib

    mask = np.asarray(mask, bool)
    ijk = np.argwhere(mask)
    lo, hi = ijk.min(0), ijk.max(0) + 1
    box = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    box_affine = np.asarray(affine, float).copy()
    box_affine[:3, 3] = affine[:3, :3] @ lo + affine[:3, 3]
    flat = np.flatnonzero(box.ravel(order="F"))
    header = nib.Nifti1Header()
    header.set_data_shape((*box.shape, n_volumes))
    header.set_data_dtype(np.float32)
    header.set_qform(box_affine, code=1)
    header.set_sform(box_affine, code=1)
    header.set_xyzt_units("mm", "sec")
    header["pixdim"][4] = t_r
    header["vox_offset"] = 352
    written = 0
    with open(path, "wb") as f:
        header.write_to(f)
        f.write(b"\0" * (352 - f.tell()))
        vol = np.zeros(box.size, "<f4")
        for _, x in chunks:
            for row in x:
                vol[flat] = row
                f.write(vol.tobytes())
                written += 1
    if written != n_volumes:
        raise InputError(f"{Path(path).name}: {written} volumes written, {n_volumes} expected")
    return box, box_affine
