"""Reliability of a participant's sessions from their runs.

This is what ``tmstarget reliability ... participant`` computes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import __version__
from ..circuits import resolve_circuit
from ..methods import check_method
from ..prepare import components_from, prepare
from ..result import TargetingOptions
from ..sources import input_kind, open_source
from .engine import NORM_VOXELS
from .participant import N_BOOTSTRAP, participant_reliability


def session_reliability(
    runs: list,
    options: TargetingOptions,
    participant: str,
    session: str | None,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
    block_length_s: float | None = None,
    norm_voxels: int | None = NORM_VOXELS,
    meshes: tuple[Path, Path] | None = None,
) -> dict:
    """Read and clean one session's runs as ``tmstarget target`` does.

    Then compute :func:`participant_reliability` on them.

    Any input kind: volumetric runs, fsaverage GIFTI pairs or CIFTI (``meshes``: left and right
    midthickness GIFTIs giving the CIFTI's cortical vertices their coordinates), through the same
    :func:`~tmstarget.targeting.prepare.prepare` as the targeting run.

    Returns
    -------
    dict
        The reliability JSON (docs/outputs.md): ``participant``, ``session``, ``space``,
        ``circuit``, ``runs``, ``n_volumes_censored``, ``multi_echo`` (multi-echo runs: the
        target JSON's block), the results of
        :func:`participant_reliability` (run pairs named by file), ``parameters`` and
        ``tmstarget_version``.
    """
    check_method(options.method, input_kind(runs))
    circuit = resolve_circuit(options.circuit, options.circuit_label)
    source = open_source(runs, meshes, options)
    prep = prepare(runs, options, circuit, meshes=meshes, source=source)
    comp = components_from(prep)
    prep.blocks.clear()  # the components hold a copy; free the blocks
    res = participant_reliability(
        comp,
        prep.operators,
        [i.t_r for i in prep.infos],
        [i.n_volumes for i in prep.infos],
        prep.region,
        prep.circuit_map,
        method=options.method,
        neighbourhood_mm=options.neighbourhood_mm,
        exclude_local_mm=options.exclude_local_mm,
        n_bootstrap=n_bootstrap,
        seed=seed,
        block_length_s=block_length_s,
        norm_voxels=norm_voxels,
        options=options,
    )
    names = [r.name for r in runs]
    for row in res.get("run_distances_mm", []):
        row["runs"] = [names[i] for i in row["runs"]]
    head = {
        "participant": participant,
        "session": session,
        "space": runs[0].space,
        "circuit": circuit.label,
        "runs": names,
        "n_volumes_censored": sum(i.n_censored for i in prep.infos),
    }
    if source.multi_echo is not None:  # how the echoes were used, as in the target JSON
        head["multi_echo"] = source.multi_echo
    params = {
        "seed": seed,
        "fwhm_mm": options.fwhm_mm,
        "fd_threshold_mm": options.fd_threshold_mm,
        "confounds_strategy": options.confounds_strategy
        + ("+gsr" if options.global_signal else ""),
        "neighbourhood_mm": options.neighbourhood_mm,
        "search_mask": "default-left-dlpfc"
        if options.search_mask is None
        else Path(options.search_mask).name,
    }
    return {**head, **res, "parameters": params, "tmstarget_version": __version__}


def add_session_distances(results: list[dict]) -> list[dict]:
    """Add to each session its ``session_distances_mm`` to the other sessions (in place).

    ``results`` are several sessions of one participant.
    """
    for a in results:
        if len(results) > 1:
            a["session_distances_mm"] = {
                str(b["session"]): round(
                    float(np.linalg.norm(np.subtract(a["target_mni"], b["target_mni"]))), 1
                )
                for b in results
                if b is not a
            }
    return results
