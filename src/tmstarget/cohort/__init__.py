"""Targeting a cohort: one job per participant (and session), run in this process or on Dask.

A :class:`Job` is a small, picklable description of where a participant's data are; :func:`run_job`
finds the runs, computes the target (volumetric or surface), writes the outputs and returns an
:class:`Outcome` without raising, so one participant's failure never stops the others.
:func:`run_jobs` runs many jobs: in this process for one job (or ``n_workers=1``), otherwise on a
``dask.distributed`` cluster — a local one (one single-threaded worker process per core by default)
or an existing one given by its scheduler address. Participants whose target JSON already exists
with the same parameters are skipped, so a run that was killed resumes where it stopped (outputs are
written atomically, the target JSON last).

Modules: ``inputs`` (the input layout, participants and sessions, :func:`find_jobs`), ``jobs``
(:class:`Job`, :func:`run_job`, resume check), ``run`` (:func:`run_jobs`, :func:`parallel_map` on
Dask), ``table`` (the group level's cohort table), ``reliability`` (:func:`cohort_reliability`,
:func:`group_reliability`).
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(
        [
            "Job",
            "Outcome",
            "SURFACE_SPACES",
            "circuit_label",
            "execute",
            "fingerprint",
            "finished_target",
            "resolve_options",
            "run_job",
        ],
        ".jobs",
    ),
    **dict.fromkeys(
        [
            "check_fmriprep_dir",
            "check_search_mask_grid",
            "find_jobs",
            "participant_sessions_of",
            "resolve_layout",
        ],
        ".inputs",
    ),
    **dict.fromkeys(["cohort_reliability", "group_reliability"], ".reliability"),
    **dict.fromkeys(["default_workers", "parallel_map", "run_jobs"], ".run"),
    **dict.fromkeys(["GROUP_COLUMNS", "group_rows", "write_group_table"], ".table"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "GROUP_COLUMNS",
    "Job",
    "Outcome",
    "SURFACE_SPACES",
    "check_fmriprep_dir",
    "check_search_mask_grid",
    "circuit_label",
    "cohort_reliability",
    "default_workers",
    "execute",
    "find_jobs",
    "finished_target",
    "fingerprint",
    "group_reliability",
    "group_rows",
    "parallel_map",
    "participant_sessions_of",
    "resolve_layout",
    "resolve_options",
    "run_job",
    "run_jobs",
    "write_group_table",
]
