"""Reading fMRIPrep's ITK transform files with nitransforms, and mapping points through them.

fMRIPrep's transforms are **image** transforms (antsApplyTransforms' convention): to resample an
image of space A into space B, each B voxel looks up its A position. So, as point mappings, a file
``from-A_to-B`` maps **B points to A points**. Examples: ``from-T1w_to-<template>`` maps template
points to T1w points, ``from-boldref_to-T1w`` maps T1w points to BOLD reference points. Files are
``.h5`` composites (affine + displacement field) or ``.txt``/``.mat``/``.tfm`` affines. All points
RAS+ mm (nitransforms converts ITK's LPS internally).

Used by :mod:`tmstarget.export.native` (MNI ↔ T1w) and :mod:`tmstarget.io.echo_resample`
(echo-wise series in the BOLD reference space).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputError


def load_transform(path: Path | str) -> Any:
    """Read an ITK transform as a nitransforms object.

    The transform is an ``.h5`` composite or a ``.txt``/``.mat``/``.tfm`` affine.

    Raises
    ------
    InputError
        The file is missing, of another type or unreadable.
    """
    import nitransforms as nt
    from nitransforms.manip import load as load_chain

    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"transform file {p} not found — pass fMRIPrep's ..._xfm.h5 from the anat folder"
        )
    try:
        with warnings.catch_warnings():  # "reference space not set": irrelevant for point mapping
            warnings.simplefilter("ignore", UserWarning)
            if p.name.endswith(".h5"):
                return load_chain(p, fmt="itk")
            if p.suffix in (".txt", ".mat", ".tfm"):
                return nt.linear.load(p, fmt="itk")
    except Exception as exc:  # nitransforms raises assorted errors for malformed files
        raise InputError(
            f"cannot read transform {p.name}: {exc} — pass an ITK .h5/.txt/.mat transform"
        ) from None
    raise InputError(
        f"{p.name}: unsupported transform type — pass an ITK .h5 composite or .txt/.mat affine"
    )


def map_points(xfm: Any, points: np.ndarray) -> np.ndarray:
    """Map (N, 3) RAS mm points through a nitransforms object (its ``map``), as (N, 3) floats.

    Raises
    ------
    InputError
        A point maps to NaN or infinity (outside a displacement field).
    """
    with warnings.catch_warnings():  # "reference space not set": irrelevant for point mapping
        warnings.simplefilter("ignore", UserWarning)
        out = np.asarray(xfm.map(np.asarray(points, dtype=float)), dtype=float).reshape(-1, 3)
    if not np.isfinite(out).all():
        raise InputError(
            "a point maps outside the transform's field — check that the point lies in the brain"
        )
    return out
