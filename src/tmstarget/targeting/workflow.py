"""The participant-level targeting run: runs in, a :class:`TargetResult` out.

The runs are volume, fsaverage or CIFTI data. One path for every input kind:
:func:`~tmstarget.targeting.prepare.prepare` reads and cleans the runs,
:func:`~tmstarget.targeting.components.finalize_components` normalises them,
:func:`~tmstarget.targeting.selection.method_scores` scores the search region, when asked
:func:`~tmstarget.targeting.uncertainty.bootstrap_confidence` gives the target's confidence radius,
and :func:`~tmstarget.targeting.selection.score_and_select` applies the method of the registry
(:data:`~tmstarget.targeting.methods.METHODS`: its selector, then its post-step if it has one).
Nothing is written here (see :func:`tmstarget.io.derivatives.write_target_outputs`).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import sha256
from .circuits import resolve_circuit
from .geometry import SurfaceGeometry
from .methods import check_method
from .prepare import components_from, prepare
from .result import TargetingOptions, TargetResult
from .selection import method_scores, score_and_select
from .sources import SurfaceSource, VolumeSource, input_kind

logger = logging.getLogger(__name__)


def hash_inputs(files: list[Path], root: Path | None) -> dict[str, str]:
    """Return the SHA-256 of each file, keyed by its path relative to ``root``.

    The path is absolute when the file is outside ``root`` or there is no root.
    """
    out = {}
    for f in files:
        key = str(f.relative_to(root)) if root is not None and f.is_relative_to(root) else str(f)
        out[key] = sha256(f)
    return out


def _check(runs: list, options: TargetingOptions) -> None:
    check_method(options.method, input_kind(runs))
    if not runs:
        raise InputError("no runs to process — check the inputs")


def compute_target(
    runs: list,
    options: TargetingOptions = TargetingOptions(),
    root: Path | None = None,
    meshes: tuple[Path, Path] | None = None,
) -> TargetResult:
    """Clean the runs, score the search region against the circuit and pick the target.

    Parameters
    ----------
    runs : list of Run or SurfaceRun
        One or more runs of one participant: volumetric (same grid, with confounds and masks) or
        surface (GIFTI pairs of one template, or CIFTI with the same columns).
    options : TargetingOptions
        Parameters; for surfaces ``fwhm_mm`` is applied on the mesh and ``search_mask`` may be NIfTI
        or GIFTI.
    root : Path, optional
        Folder the ``inputs`` checksums are reported relative to (the fMRIPrep folder).
    meshes : (Path, Path), optional
        Left and right midthickness GIFTIs (MNI mm) giving CIFTI cortical vertices their
        coordinates.

    Returns
    -------
    TargetResult
        With the geometry of the columns and, for surfaces, the target's column.
    """
    _check(runs, options)
    surface = input_kind(runs) != "volume"
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    circuit = resolve_circuit(options.circuit, options.circuit_label)
    kind = SurfaceSource if surface else VolumeSource
    files = sorted(
        (kind.files(runs) if surface else kind.files(runs, options))
        | ({circuit.path} if circuit.path else set())
    )
    files += [Path(options.search_mask)] if options.search_mask else []
    hasher = ThreadPoolExecutor(max_workers=1)
    hashes = hasher.submit(hash_inputs, files, root)
    try:
        source = kind(runs, meshes) if surface else kind(runs, options)
        return _compute(source, options, circuit, hashes, timings, t_start)
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)


def _compute(source, options, circuit, hashes, timings, t_start) -> TargetResult:
    prep = prepare(source.runs, options, circuit, timings, source=source)
    t0 = time.perf_counter()
    comp = components_from(prep)
    scores = method_scores(
        comp, prep.region, prep.circuit_map, options.method, options.exclude_local_mm
    )
    timings["score_select"] = time.perf_counter() - t0
    confidence = None
    if options.bootstrap > 0:
        from .uncertainty import bootstrap_confidence

        t0 = time.perf_counter()
        confidence = bootstrap_confidence(
            prep, options, options.bootstrap, options.bootstrap_seed, components=comp, scores=scores
        )
        timings["bootstrap"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    choice = score_and_select(
        comp,
        prep.region,
        prep.circuit_map,
        options,
        prep.operators,
        scores=scores,
        radius_mm=confidence["confidence_radius_mm"] if confidence else None,
    )
    timings["score_select"] += time.perf_counter() - t0
    selection, raw = choice.selection, choice.raw
    score_map = prep.geometry.to_grid(
        selection.selection_map, scores.search_idx
    )  # NaN = outside the search region
    column = int(scores.search_idx[selection.index])
    timings["total"] = time.perf_counter() - t_start
    where = ""
    if isinstance(prep.geometry, SurfaceGeometry):
        g = prep.geometry.grayordinates
        where = f"vertex {g.hemi[column]}{g.vertex[column]}, "
    logger.info(
        "target (%s, %s): %sMNI (%.1f, %.1f, %.1f), score %.3f",
        circuit.label,
        options.method,
        where,
        *selection.coord_mm,
        selection.score,
    )
    return TargetResult(
        target_mni=selection.coord_mm,
        score=selection.score,
        score_raw=float(raw[selection.index]),
        circuit=circuit.label,
        method=options.method,
        space=source.space,
        runs=prep.infos,
        score_map=score_map,
        affine=prep.affine,
        n_search_voxels=int(scores.search_idx.size),
        tsnr_map=prep.tsnr,
        confidence=confidence,
        inputs=hashes.result(),
        timings_s=timings,
        options=options,
        geometry=prep.geometry,
        column=column,
        shrinkage=choice.post,
        coil_placement=_coil_placement(selection, confidence),
        multi_echo=source.multi_echo,
    )


def _coil_placement(selection, confidence: dict | None) -> dict | None:
    """Return the ``coil_placement`` block of a method whose answer is a placement.

    The block includes its coil centre's 95% region.
    """
    if selection.placement is None:
        return None
    from ..headmodel import load_template_head

    p = selection.placement
    block = p["landscape"].describe(
        load_template_head(), p["index"], selection.coord_mm, p["expected_score"], p["score"]
    )
    if confidence and confidence.get("coil_centre"):
        block["coil_centre_confidence"] = confidence["coil_centre"]
    return block
