"""Cleaning as one linear operator, applied in a single pass over the voxels.

Detrending, interpolation of censored volumes, Butterworth band-pass filtering (of signals and
confounds), censoring and confound regression are all linear in the voxel time series. So the whole
of :func:`nilearn.signal.clean` for one run is a matrix ``L`` of shape (kept volumes, volumes). We
obtain ``L`` by cleaning the T×T identity with nilearn itself (T "voxels" instead of ~200,000:
milliseconds), then
factor it by SVD, ``L = U S Vᵀ``, and keep the ``r`` components with non-negligible singular values.

For voxel data ``X`` (T × V) the cleaned data are ``Y = L X``, and every correlation between voxels
only needs ``YᵀY = XᵀV S² VᵀX = WᵀW`` with ``W = (S Vᵀ) X`` of shape (r × V), r ≈ the number of
in-band degrees of freedom (~100 for 10 min of data). ``W`` is accumulated while the BOLD file is
streamed, so the voxel data are touched once, by one matrix product, and never held whole in memory.
The cleaned time series themselves, when needed, are ``U W``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .defaults import HIGH_PASS_HZ, LOW_PASS_HZ  # noqa: F401 - the default band-pass (Hz), re-exported here


@dataclass(frozen=True)
class CleaningOperator:
    """Compressed cleaning operator of one run.

    Attributes
    ----------
    projector : ndarray, shape (r, T)
        ``S Vᵀ``: applied to raw voxel data (T × V) it gives the compressed cleaned data (r × V).
    basis : ndarray, shape (K, r)
        ``U``: maps compressed data back to cleaned time series at the K kept volumes.
    sample_mask : ndarray of int, shape (K,)
        Indices of the kept volumes.
    """

    projector: np.ndarray
    basis: np.ndarray
    sample_mask: np.ndarray

    @property
    def rank(self) -> int:
        """Degrees of freedom left after cleaning."""
        return int(self.projector.shape[0])


def cleaning_matrix(
    n_volumes: int,
    t_r: float,
    confounds: np.ndarray | None = None,
    sample_mask: np.ndarray | None = None,
    high_pass: float | None = HIGH_PASS_HZ,
    low_pass: float | None = LOW_PASS_HZ,
    detrend: bool = True,
) -> np.ndarray:
    """Build the matrix ``L`` such that ``L @ X`` equals ``nilearn.signal.clean(X, ...)``.

    This holds with ``standardize`` off.

    Parameters
    ----------
    n_volumes : int
        Number of volumes T of the run.
    t_r : float
        Repetition time (s).
    confounds : ndarray, shape (T, K), optional
        Confound regressors (filtered like the signals before regression, as nilearn does).
    sample_mask : ndarray of int, optional
        Indices of volumes to keep; censored volumes are interpolated before filtering and then
        dropped.
    high_pass, low_pass : float or None
        Band edges (Hz); ``None`` disables that side.
    detrend : bool
        Remove a linear trend first.

    Returns
    -------
    ndarray, shape (n_kept, T)
    """
    from nilearn.signal import clean

    eye = np.eye(n_volumes)
    nyquist = 0.5 / t_r
    if low_pass is not None and low_pass >= nyquist:
        low_pass = None  # nothing to remove above Nyquist
    conf = confounds if confounds is not None and confounds.shape[1] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return clean(
                eye,
                detrend=detrend,
                standardize=False,
                confounds=conf,
                standardize_confounds=True,
                sample_mask=sample_mask,
                filter="butterworth" if (low_pass or high_pass) else False,
                low_pass=low_pass,
                high_pass=high_pass,
                t_r=t_r,
            )
        except (
            ValueError
        ) as exc:  # scipy's filtfilt: the run is shorter than the filter's edge padding
            found = re.search(r"padlen, which is (\d+)", str(exc))
            if found is None:
                raise
            need = int(found.group(1)) + 1
            raise InputError(
                f"a run of {n_volumes} volumes is too short "
                "for the band-pass filter, which needs more "
                "than "
                f"{need - 1} volumes — use runs of at least {need} volumes"
            ) from None


def compress_operator(
    matrix: np.ndarray, sample_mask: np.ndarray, rtol: float = 1e-4
) -> CleaningOperator:
    """Factor a cleaning matrix ``L`` (K × T) and keep its leading components.

    Components with singular value > ``rtol`` × max are kept.

    Dropping components below ``rtol`` changes any voxel-voxel inner product by at most ``rtol²``
    relative.
    """
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    keep = s > rtol * s[0] if s.size and s[0] > 0 else np.zeros_like(s, bool)
    r = int(keep.sum())
    return CleaningOperator(
        projector=(s[:r, None] * vt[:r]).astype(np.float32),
        basis=u[:, :r],
        sample_mask=np.asarray(sample_mask),
    )


def run_operator(
    n_volumes: int,
    t_r: float,
    confounds: np.ndarray | None,
    sample_mask: np.ndarray,
    high_pass: float | None = HIGH_PASS_HZ,
    low_pass: float | None = LOW_PASS_HZ,
    min_volumes: int = 1,
    name: str = "run",
) -> CleaningOperator:
    """Build the cleaning operator for one run (cleaned series centred over the kept volumes).

    Checks that enough volumes survive censoring and that some degrees of freedom are left.
    """
    if sample_mask.size < min_volumes:
        raise InputError(
            f"{name}: {sample_mask.size} of {n_volumes} volumes "
            f"left after censoring, need >= {min_volumes} "
            "— "
            "raise --fd-threshold, add runs or lower --min-volumes"
        )
    full = sample_mask.size == n_volumes
    mat = cleaning_matrix(
        n_volumes, t_r, confounds, None if full else sample_mask, high_pass, low_pass
    )
    # centre over the kept volumes (band-passed series need not average to zero once volumes are
    # censored), so that inner products of unit-norm columns are Pearson correlations
    mat = mat - mat.mean(axis=0, keepdims=True)
    op = compress_operator(mat, sample_mask)
    if op.rank < 10:
        raise InputError(
            f"{name}: only {op.rank} degrees of freedom left "
            "after filtering and confound regression — "
            "use longer runs, fewer confounds or a wider band"
        )
    return op


def normalize_columns(w: np.ndarray, eps: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Scale each column of ``w`` to unit norm; return it and the valid-column mask.

    Scaling is in place when ``w`` is float32.

    Columns with (near) zero norm — constant voxels — are set to zero and flagged invalid.
    """
    norms = np.sqrt(np.einsum("ij,ij->j", w, w, dtype=np.float64))
    ok = norms > eps * max(1.0, float(norms.max(initial=0.0)))
    scale = np.zeros_like(norms)
    scale[ok] = 1.0 / norms[ok]
    w *= scale.astype(w.dtype)[None, :]
    return w, ok
