"""Brain figures of the reports (nilearn on the MNI template): score map, tSNR and cohort targets.

Each function takes arrays/images and coordinates and returns a ``data:`` URI (PNG); nothing is read
from or written to disk, and the same inputs give the same bytes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ._mpl import figure_uri, new_figure

#: Marker colour of the connectivity target in every brain figure.
TARGET_COLOUR = "#00c853"
#: Colour of the search-region outline.
OUTLINE_COLOUR = "#222222"
#: Colour of the confidence-region outline.
CONFIDENCE_COLOUR = "#ffd600"


def _finite_image(data: np.ndarray, affine: np.ndarray):
    """Return a float32 NIfTI image with non-finite values set to 0.

    nilearn draws 0 as transparent here.
    """
    import nibabel as nib

    arr = np.asarray(data, dtype=np.float32)
    return nib.Nifti1Image(
        np.where(np.isfinite(arr), arr, 0.0).astype(np.float32), np.asarray(affine, float)
    )


@lru_cache(maxsize=1)
def _template():
    """Nilearn's bundled 1 mm MNI152 template (no download), loaded once per process."""
    from nilearn.datasets import load_mni152_template

    return load_mni152_template(resolution=1)


def sphere_image(centre_mm: Sequence[float], radius_mm: float, step_mm: float = 1.0):
    """Binary image of a sphere (MNI mm) on a 1 mm grid around it, for drawing its outline."""
    import nibabel as nib

    c = np.asarray(centre_mm, float)
    half = int(np.ceil(radius_mm / step_mm)) + 3
    grid = np.arange(-half, half + 1) * step_mm
    x, y, z = np.meshgrid(grid, grid, grid, indexing="ij")
    inside = (x**2 + y**2 + z**2) <= radius_mm**2
    affine = np.diag([step_mm, step_mm, step_mm, 1.0])
    affine[:3, 3] = c - half * step_mm
    return nib.Nifti1Image(inside.astype(np.float32), affine)


def _symmetric_limit(data: np.ndarray) -> float:
    finite = np.asarray(data)[np.isfinite(data)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    return vmax if vmax > 0 else 1.0


def score_map_slices(
    score: np.ndarray,
    affine: np.ndarray,
    target_mni: Sequence[float],
    confidence_radius_mm: float | None = None,
) -> str:
    """Draw orthogonal slices through the target: the score map over the search region.

    The map is shown on the MNI template.

    Parameters
    ----------
    score : ndarray, shape (X, Y, Z)
        Circuit score (higher = better), NaN outside the search region.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI-mm affine of ``score``.
    target_mni : sequence of 3 floats
        The target (MNI mm), marked and used as the cut.
    confidence_radius_mm : float, optional
        Radius of the 95 % confidence region, drawn as a sphere outline around the target.

    Returns
    -------
    str
        PNG ``data:`` URI.
    """
    from nilearn import plotting

    fig = new_figure(9.0, 3.3)
    target = [float(v) for v in target_mni]
    vmax = _symmetric_limit(score)
    region = _finite_image(np.isfinite(score).astype(np.float32), affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        display = plotting.plot_stat_map(
            _finite_image(score, affine),
            bg_img=_template(),
            cut_coords=target,
            display_mode="ortho",
            figure=fig,
            threshold=1e-9,
            cmap="RdBu_r",
            vmin=-vmax,
            vmax=vmax,
            symmetric_cbar=True,
            draw_cross=False,
            black_bg=True,
            colorbar=True,
        )
        display.add_contours(region, levels=[0.5], colors=OUTLINE_COLOUR, linewidths=0.9)
        with_region = (
            confidence_radius_mm is not None
            and np.isfinite(confidence_radius_mm)
            and confidence_radius_mm > 0
        )
        display.add_markers(
            [target], marker_color=TARGET_COLOUR, marker_size=25 if with_region else 70
        )
        if with_region:
            display.add_contours(
                sphere_image(target, float(confidence_radius_mm), step_mm=0.5),
                levels=[0.5],
                colors=CONFIDENCE_COLOUR,
                linewidths=1.4,
                linestyles="dashed",
            )
    return figure_uri(fig, "png")


def score_map_glass(
    score: np.ndarray,
    affine: np.ndarray,
    target_mni: Sequence[float],
    others: Sequence[tuple[Sequence[float], str]] = (),
) -> str:
    """Glass brain (left, top and right views) of the score map, the target and alternative targets.

    Parameters
    ----------
    score, affine, target_mni
        As in :func:`score_map_slices`.
    others : sequence of (xyz, colour)
        Further points (e.g. scalp-rule targets projected to cortex) drawn as squares.

    Returns
    -------
    str
        PNG ``data:`` URI.
    """
    from nilearn import plotting

    fig = new_figure(9.0, 3.3)
    vmax = _symmetric_limit(score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        display = plotting.plot_glass_brain(
            _finite_image(score, affine),
            display_mode="lzr",
            figure=fig,
            threshold=1e-9,
            plot_abs=False,
            cmap="RdBu_r",
            vmin=-vmax,
            vmax=vmax,
            symmetric_cbar=True,
            colorbar=True,
        )
        for xyz, colour in others:
            display.add_markers(
                [[float(v) for v in xyz]], marker_color=colour, marker_size=55, marker="s"
            )
        display.add_markers(
            [[float(v) for v in target_mni]], marker_color=TARGET_COLOUR, marker_size=80
        )
    return figure_uri(fig, "png")


def tsnr_slices(tsnr: np.ndarray, affine: np.ndarray, region: np.ndarray | None = None) -> str:
    """Axial slices of the temporal SNR map, with the search region outlined.

    Parameters
    ----------
    tsnr : ndarray, shape (X, Y, Z)
        Temporal SNR (mean / SD over time), NaN outside the brain.
    affine : ndarray, shape (4, 4)
        Its affine.
    region : ndarray of bool, shape (X, Y, Z), optional
        Search region on the same grid.

    Returns
    -------
    str
        PNG ``data:`` URI.
    """
    from nilearn import plotting

    finite = np.asarray(tsnr)[np.isfinite(tsnr)]
    vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
    fig = new_figure(9.0, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        display = plotting.plot_img(
            _finite_image(tsnr, affine),
            display_mode="z",
            cut_coords=7,
            figure=fig,
            cmap="viridis",
            colorbar=True,
            vmin=0.0,
            vmax=max(vmax, 1e-6),
            threshold=1e-9,
            black_bg=True,
        )
        if region is not None and np.any(region):
            display.add_contours(
                _finite_image(np.asarray(region, np.float32), affine),
                levels=[0.5],
                colors="white",
                linewidths=0.8,
            )
    return figure_uri(fig, "png")


def cohort_glass(
    points: Sequence[Sequence[float]], reference: Sequence[tuple[Sequence[float], str]] = ()
) -> str:
    """Every participant's target on one glass brain (left, top, right and front views).

    Parameters
    ----------
    points : sequence of (x, y, z)
        Targets (MNI mm).
    reference : sequence of (xyz, colour)
        Reference points (e.g. the template F3 projected to cortex), drawn as squares.

    Returns
    -------
    str
        PNG ``data:`` URI.
    """
    from nilearn import plotting

    fig = new_figure(9.0, 2.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        display = plotting.plot_glass_brain(None, display_mode="lzry", figure=fig)
        for xyz, colour in reference:
            display.add_markers(
                [[float(v) for v in xyz]], marker_color=colour, marker_size=45, marker="s"
            )
        if len(points):
            display.add_markers(
                np.asarray(points, float), marker_color=TARGET_COLOUR, marker_size=35, alpha=0.8
            )
    return figure_uri(fig, "png")


def region_glass(
    target_mni: Sequence[float],
    cloud_mni: Sequence[Sequence[float]],
    radius_mm: float | None,
    centre_mni: Sequence[float] | None = None,
) -> str:
    """Glass brain (left, top, right, front) of the target, its bootstrap cloud and 95 % region.

    Parameters
    ----------
    target_mni : (x, y, z)
        The target (MNI mm), drawn in red.
    cloud_mni : sequence of (x, y, z)
        The bootstrap resamples' targets, drawn as small grey dots.
    radius_mm : float or None
        Radius of the 95 % region, drawn as a sphere's outline around ``centre_mni`` (default: the
        target); None draws no outline.
    centre_mni : (x, y, z), optional
        Centre of the region.

    Returns
    -------
    str
        PNG ``data:`` URI.
    """
    from nilearn import plotting

    fig = new_figure(9.0, 2.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        display = plotting.plot_glass_brain(None, display_mode="lzry", figure=fig)
        if radius_mm is not None and radius_mm > 0:
            display.add_contours(
                sphere_image(target_mni if centre_mni is None else centre_mni, float(radius_mm)),
                levels=[0.5],
                colors=[TARGET_COLOUR],
                linewidths=1.2,
            )
        if len(cloud_mni):
            display.add_markers(
                np.asarray(cloud_mni, float), marker_color="0.35", marker_size=6, alpha=0.6
            )
        display.add_markers(
            [[float(v) for v in target_mni]], marker_color=TARGET_COLOUR, marker_size=60
        )
    return figure_uri(fig, "png")
