"""Write a participant's targeting outputs (the BIDS-derivatives contract), all or nothing."""

from __future__ import annotations

from pathlib import Path

from .derivatives import entities, participant_dir, target_path, write_dataset_description, write_json_atomic, write_nifti_atomic, write_text_atomic


def write_target_outputs(result, out_dir: Path, participant: str, session: str | None, source: Path | None = None) -> dict[str, Path]:
    """Write ``dataset_description.json``, the score map, QC files and the target JSON for one participant.

    Files (``<p>`` = ``sub-<l>[_ses-<s>]``): ``<p>_desc-<circuit>_score.nii.gz`` (the map the target
    maximises, NaN outside the search region), ``<p>_desc-tsnr_map.nii.gz`` (temporal SNR),
    ``<p>_desc-motion_timeseries.tsv`` (framewise displacement and censoring per volume) and, last,
    ``<p>_desc-<circuit>_target.json``. Each is written atomically; if a later one fails, the ones this
    call created are removed, so a failed run leaves no partial target.

    Parameters
    ----------
    result : tmstarget.workflow.TargetResult
        Outcome of :func:`tmstarget.workflow.compute_target`.
    out_dir : Path
        Derivatives root.
    participant, session : str
        BIDS labels (without prefixes).
    source : Path, optional
        The input dataset, recorded in ``dataset_description.json``.

    Returns
    -------
    dict
        Paths written, keyed ``"json"`` and ``"score"``.
    """
    out_dir = Path(out_dir)
    write_dataset_description(out_dir, source)
    score = target_path(out_dir, participant, session, result.circuit, "score", ".nii.gz")
    json_path = target_path(out_dir, participant, session, result.circuit, "target", ".json")
    stem = participant_dir(out_dir, participant, session) / entities(participant, session)
    tsnr = Path(f"{stem}_desc-tsnr_map.nii.gz")
    motion = Path(f"{stem}_desc-motion_timeseries.tsv")
    created = [p for p in (score, tsnr, motion, json_path) if not p.exists()]
    try:
        write_nifti_atomic(score, result.score_map, result.affine, f"tmstarget {result.circuit} {result.method} score")
        if result.tsnr_map is not None:
            write_nifti_atomic(tsnr, result.tsnr_map, result.affine, "temporal SNR")
        write_text_atomic(motion, result.motion_table())
        write_json_atomic(json_path, result.to_json(participant, session))
    except BaseException:
        for p in created:
            p.unlink(missing_ok=True)
        raise
    return {"json": json_path, "score": score, "tsnr": tsnr, "motion": motion}
