"""Write a participant's targeting outputs (the BIDS-derivatives contract), all or nothing."""

from __future__ import annotations

from pathlib import Path

from .derivatives import target_path, write_dataset_description, write_json_atomic, write_nifti_atomic


def write_target_outputs(result, out_dir: Path, participant: str, session: str | None, source: Path | None = None) -> dict[str, Path]:
    """Write ``dataset_description.json``, the score map and the target JSON for one participant.

    The score map is written first and the JSON last, each atomically; if the JSON cannot be written the
    score map just written is removed, so a failed run leaves no partial target.

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
    existed = score.exists()
    write_nifti_atomic(score, result.score_map, result.affine, f"tmstarget {result.circuit} {result.method} score")
    try:
        write_json_atomic(json_path, result.to_json(participant, session))
    except BaseException:
        if not existed:
            score.unlink(missing_ok=True)
        raise
    return {"json": json_path, "score": score}
