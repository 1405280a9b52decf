"""A cohort's reliability: each participant's (session's) target reliability, and cohort stability.

The participant level re-targets re-weightings of each session's cleaned data
(:func:`~tmstarget.targeting.uncertainty.session_reliability`) and writes one reliability JSON per
session; the group level compares within-person with between-person target distances over the
targets of a derivatives folder (Cash et al. 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..exceptions import InputError
from ..targeting.defaults import N_BOOTSTRAP
from .inputs import participant_sessions_of
from .jobs import Job


def cohort_reliability(
    fmriprep_dir: Path,
    out_dir: Path,
    options,
    *,
    participants: Sequence[str] | None = None,
    session: str | None = None,
    task: str = "rest",
    space: str | None = None,
    surface_mesh: Sequence[Path] = (),
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
    block_length_s: float | None = None,
    norm_voxels: int | None = 20_000,
) -> tuple[list[dict], list[Path]]:
    """Compute and write the reliability of every participant's (session's) target.

    Runs are found as ``tmstarget target`` finds them (:class:`Job`); with several sessions each
    result also gets its session-vs-session distances.

    Parameters
    ----------
    fmriprep_dir, out_dir : Path
        fMRIPrep folder and derivatives folder.
    options : TargetingOptions
        Circuit, method and cleaning, as for the target; the circuit map and search mask files are
        checked first.
    participants : list of str, optional
        Labels (default: every participant).
    session : str, optional
        The one session to take (default: every session).
    task, space : str, optional
        As for :class:`Job`.
    surface_mesh : (Path, Path), optional
        Midthickness meshes of CIFTI cortical vertices.
    n_bootstrap, seed, block_length_s, norm_voxels
        Resampling settings of :func:`~tmstarget.targeting.uncertainty.session_reliability`
        (``n_bootstrap`` ``None``: its default).

    Returns
    -------
    results : list of dict
        The reliability JSONs, by participant and session.
    written : list of Path
        The files written.

    Raises
    ------
    InputError
        If an input is missing or unusable (nothing is written then).
    """
    from ..io.derivatives import write_reliability_outputs
    from ..targeting import uncertainty
    from ..targeting.options import check_map_inputs

    check_map_inputs(options.circuit, options.search_mask)
    mesh = tuple(Path(m).resolve() for m in surface_mesh or ())
    settings = dict(
        n_bootstrap=n_bootstrap,
        seed=seed,
        block_length_s=block_length_s,
        norm_voxels=norm_voxels,
        meshes=mesh or None,
    )
    results = []
    for label, sessions in participant_sessions_of(fmriprep_dir, participants, session):
        jobs = [Job(label, ses, fmriprep_dir, task, space, surface_mesh=mesh) for ses in sessions]
        results += uncertainty.add_session_distances(
            [
                uncertainty.session_reliability(job.runs(), options, label, job.session, **settings)
                for job in jobs
            ]
        )
    return results, write_reliability_outputs(results, out_dir, fmriprep_dir)


def group_reliability(
    out_dir: Path | str, circuit_label: str | None = None
) -> tuple[dict, Path, Path]:
    """Compare within-person (between sessions) with between-person target distances.

    Reads every ``OUT/sub-*/[ses-*/]*_desc-<circuit>_target.json`` and writes
    ``OUT/group_desc-<circuit>_reliability.tsv`` (one row per participant) and its ``.json``
    summary, both or neither.

    Parameters
    ----------
    out_dir : Path
        The derivatives folder ``tmstarget target`` wrote to.
    circuit_label : str, optional
        Which targets to read (default: the only circuit present).

    Returns
    -------
    summary : dict
        Circuit, median within/between distances, their ratio and the reference.
    tsv, summary_path : Path
        The files written.

    Raises
    ------
    InputError
        If the folder is missing or holds no (or several circuits') targets.
    """
    from ..io.derivatives import read_circuit_targets, write_table_outputs
    from ..targeting.uncertainty import cohort_stability, stability_table

    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(
            f"output folder not found: {out} — pass the folder 'tmstarget target' wrote to"
        )
    circuit, docs = read_circuit_targets(out, circuit_label)
    rows, summary = cohort_stability(
        [
            (str(t["participant"]), t.get("session"), [float(v) for v in t["target_mni"]])
            for t in docs
        ]
    )
    summary = {"circuit": circuit, **summary, "reference": "Cash et al. 2021, Human Brain Mapping"}
    summary_path = out / f"group_desc-{circuit}_reliability.json"
    tsv = write_table_outputs(
        out / f"group_desc-{circuit}_reliability.tsv", stability_table(rows), summary_path, summary
    )
    return summary, tsv, summary_path
