"""The depression circuits a target is chosen against.

Sign convention: **positive = the end of the circuit to stimulate.** The group depression-circuit
maps (e.g. the convergent depression circuit, Siddiqi et al. 2021 Am J Psychiatry; Cash et al. 2021)
are negative in the subgenual cingulate and positive at effective DLPFC stimulation sites; for the
built-in ``sgacc`` circuit the individual's anticorrelation with the sgACC seed is the positive end
(Fox et al. 2012 Biol Psychiatry; seed at MNI (6, 16, −10), Cash et al. 2019).

Circuits are given as

- ``sgacc``: built in, a 10 mm sphere at MNI (6, 16, −10) whose individual seed map is used;
- ``convergent``: the group map, fetched at run time into a cache (``$TMSTARGET_DATA`` or
  ``~/.cache/tmstarget``) and checked against a SHA-256 checksum;
- a path to any group map NIfTI in MNI space (resampled to the data grid).
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from .._utils.cache import cache_dir
from ..exceptions import InputError

logger = logging.getLogger(__name__)

#: sgACC seed centre (MNI mm) and radius (mm).
SGACC_MNI = (6.0, 16.0, -10.0)
SGACC_RADIUS_MM = 10.0

#: Where the convergent depression circuit map is fetched from, and its checksum.
CONVERGENT_FILENAME = "DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz"
CONVERGENT_URL = (
    "https://raw.githubusercontent.com/nih-fmrif/contarg/dffdf1acec145f220571644f2f8cc4ec4dd54fa0/"
    f"contarg/data/rois/{CONVERGENT_FILENAME}"
)
CONVERGENT_SHA256 = "b457d79b04b9e0366b55edba222fd9499c5b6920978b5c078f1ff61a8d3a5373"


@dataclass(frozen=True)
class Circuit:
    """A resolved circuit.

    Attributes
    ----------
    label : str
        Alphanumeric label used in output filenames (``desc-<label>``).
    kind : {"seed", "map"}
        ``seed``: an individual seed map (sgACC); ``map``: a group map file.
    path : Path or None
        The map file, for ``kind == "map"``.
    """

    label: str
    kind: str
    path: Path | None = None


def _label_from_path(path: Path) -> str:
    stem = path.name.split(".")[0].split("_")[0]
    label = re.sub(r"[^a-zA-Z0-9]", "", stem)
    return label or "circuit"


def fetch_convergent(timeout_s: float = 30.0) -> Path:
    """Return the cached convergent-circuit map, downloading and verifying it if needed.

    Raises
    ------
    InputError
        When offline or when the checksum does not match; the message says how to pass the file
        instead.
    """
    from ..io.derivatives import atomic_path, sha256

    target = cache_dir() / CONVERGENT_FILENAME
    if target.is_file():
        if sha256(target) == CONVERGENT_SHA256:
            return target
        logger.warning("cached %s has a wrong checksum; downloading it again", target)
    how = f"download {CONVERGENT_URL} yourself and pass --circuit PATH, or save it as {target}"
    try:
        with atomic_path(target) as tmp:
            with (
                urllib.request.urlopen(CONVERGENT_URL, timeout=timeout_s) as resp,
                open(tmp, "wb") as out,
            ):
                while block := resp.read(1 << 20):
                    out.write(block)
            digest = sha256(tmp)
            if digest != CONVERGENT_SHA256:
                raise InputError(
                    "downloaded convergent circuit has checksum "
                    f"{digest[:12]}…, expected {CONVERGENT_SHA256[:12]}… "
                    f"— {how}"
                )
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise InputError(f"cannot download the convergent circuit ({exc}) — {how}") from exc
    return target


def resolve_circuit(spec: str, label: str | None = None) -> Circuit:
    """Turn a ``--circuit`` value into a :class:`Circuit` (fetching ``convergent`` when needed)."""
    if spec == "sgacc":
        return Circuit(label=label or "sgacc", kind="seed")
    if spec == "convergent":
        return Circuit(label=label or "convergent", kind="map", path=fetch_convergent())
    path = Path(spec)
    if not path.is_file():
        raise InputError(
            f"circuit '{spec}' is neither 'sgacc', 'convergent' "
            "nor an existing file — pass one of those or "
            "a NIfTI path"
        )
    return Circuit(label=label or _label_from_path(path), kind="map", path=path)


def check_circuit_values(data: np.ndarray, name: str) -> None:
    """Refuse a "circuit map" that is a mask or a label image.

    Such an image has at most two distinct values besides 0/NaN.

    A binary region scored as a circuit would give every point inside it the same score and rank
    targets by how much of their neighbourhood falls inside the mask — a plausible, meaningless
    answer.
    """
    values = np.unique(data[np.isfinite(data)])
    if 0 < values.size <= 3 and np.count_nonzero(values) <= 2:
        shown = ", ".join(f"{v:g}" for v in values)
        raise InputError(
            f"circuit map {name} holds only the values {{{shown}}}: "
            "a mask or label image, not a circuit map "
            "(connectivity t/r values, positive = stimulate) "
            "— pass a connectivity map, or give a region "
            "with --search-mask"
        )


def read_circuit_map(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """Read a group circuit map file as ``(data, affine)``, checked.

    It must be one readable volume with data, not a mask.

    Commands call it before reading any BOLD data, so a wrong ``--circuit`` file fails in a second.

    Raises
    ------
    InputError
        Unreadable or not one volume, empty (all zero or NaN), or a mask/label image.
    """
    from ..io.derivatives import load_map

    path = Path(path)
    data, map_affine = load_map(path, "circuit map")
    if not np.isfinite(data).any() or np.nanmax(np.abs(data)) == 0:
        raise InputError(f"circuit map {path.name} is empty (all zero or NaN) — check the file")
    check_circuit_values(data, path.name)
    return data, map_affine


def load_circuit_map(path: Path, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Load a group circuit map and resample it (continuous interpolation) onto a data grid.

    Returns
    -------
    ndarray, shape ``shape``
        Map values; NaN where the map has no data (outside its field of view or NaN in the file).
    """
    from nilearn.image import resample_img

    data, map_affine = read_circuit_map(path)
    valid = nib.Nifti1Image((np.isfinite(data) & (data != 0)).astype(np.float32), map_affine)
    img = nib.Nifti1Image(np.nan_to_num(data), map_affine)
    same = img.shape == tuple(shape) and np.allclose(img.affine, affine, atol=1e-3)
    if same:
        out, support = img.get_fdata(dtype=np.float32), valid.get_fdata(dtype=np.float32)
    else:
        kw = dict(
            target_affine=affine, target_shape=tuple(shape), force_resample=True, copy_header=True
        )
        out = resample_img(img, interpolation="continuous", **kw).get_fdata(dtype=np.float32)
        with warnings.catch_warnings():  # linear resampling of the support mask is intended
            warnings.simplefilter("ignore")
            support = resample_img(valid, interpolation="linear", **kw).get_fdata(dtype=np.float32)
    out[support < 0.5] = np.nan
    return out


def sphere_mask(
    affine: np.ndarray,
    shape: tuple[int, int, int],
    center_mm: tuple[float, float, float],
    radius_mm: float,
) -> np.ndarray:
    """Boolean mask of voxels whose centres lie within ``radius_mm`` of ``center_mm``."""
    return voxel_distance(affine, shape, center_mm) <= radius_mm


def voxel_distance(affine: np.ndarray, shape: tuple[int, int, int], point_mm) -> np.ndarray:
    """Euclidean distance (mm) of every voxel centre of a grid to a point."""
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
    xyz = affine[:3, :3].astype(np.float32) @ ijk + affine[:3, 3:4].astype(np.float32)
    d = np.linalg.norm(xyz - np.asarray(point_mm, dtype=np.float32)[:, None], axis=0)
    return d.reshape(shape)


def load_group_map(spec: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Load a group circuit given as PATH or ``convergent``, on its own grid.

    Returns ``(data, affine, label)``.

    ``sgacc`` / ``sgacc-group`` are refused: the sgACC circuit is individual and no group map is
    bundled.
    """
    from ..io.derivatives import load_map

    if spec in ("sgacc-group", "sgacc"):
        raise InputError(
            f"--circuit {spec}: no group sgACC map is bundled "
            "with tmstarget (the sgacc circuit is individual) "
            "— "
            "pass a group map NIfTI path, or use --circuit convergent"
        )
    circuit = resolve_circuit(spec)
    data, affine = load_map(circuit.path, "circuit map")
    check_circuit_values(data, circuit.path.name)
    return data, affine, circuit.label
