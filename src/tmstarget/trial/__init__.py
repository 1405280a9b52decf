"""Trial design and analysis.

It covers randomization, primary and secondary analyses, blinding, power and simulation.

Randomization
    :func:`make_allocation` (blocked with random block sizes, stratified, seeded),
    :func:`stratum_labels`, :func:`reveal_next` and :func:`verify_allocation` (concealed list with
    salted commitments and a hash chain).
Visits and analysis sets
    :class:`VisitSchedule` (target days and windows after the last session), :func:`assign_visits`,
    :func:`analysis_sets` (ITT and per protocol).
Analysis of a long-format table (see :mod:`tmstarget.trial.data` for the columns)
    :func:`validate_trial_table`, :func:`ancova`, :func:`mixed_model`, :func:`trajectory` (group ×
    visit mixed model, Satterthwaite df), :func:`mice_ancova` (MICE sensitivity; :func:`mice_ols`
    for any data frame), :func:`cohens_d`, :func:`hedges_g`, :func:`response_and_remission`,
    :func:`compare_proportions`, :func:`scale_endpoint` (HAM-D-17, QIDS-SR-16, CGI-S, CGI-I as
    secondary endpoints), :func:`bang_index`, :func:`james_index`, :func:`analyze_trial` and
    :func:`format_summary` (CONSORT-style text).
Planning and exercise
    :func:`power_two_arm`, :func:`sample_size`, :func:`simulate_trial`.
File I/O (the only functions here that touch files)
    :mod:`tmstarget.trial.io`.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    "Estimate": ".analysis",
    "FitError": ".analysis",
    "ancova": ".analysis",
    "mixed_model": ".analysis",
    "reduction_effect_sizes": ".analysis",
    "BlindingAssessment": ".blinding",
    "BlindingIndex": ".blinding",
    "assess_blinding": ".blinding",
    "bang_index": ".blinding",
    "guess_counts": ".blinding",
    "james_index": ".blinding",
    "TrialTable": ".data",
    "check_allocation": ".data",
    "validate_trial_table": ".data",
    "EffectSize": ".effect_sizes",
    "cohens_d": ".effect_sizes",
    "hedges_correction": ".effect_sizes",
    "hedges_g": ".effect_sizes",
    "noncentrality_ci": ".effect_sizes",
    "mice_ancova": ".impute",
    "mice_ols": ".impute",
    "rubin_pool": ".impute",
    "PowerResult": ".power",
    "power_two_arm": ".power",
    "sample_size": ".power",
    "Allocation": ".randomization",
    "AllocationEntry": ".randomization",
    "Reveal": ".randomization",
    "commitment": ".randomization",
    "hash_chain": ".randomization",
    "make_allocation": ".randomization",
    "reveal_next": ".randomization",
    "stratum_labels": ".randomization",
    "verify_allocation": ".randomization",
    "ScaleEndpoint": ".scale_endpoints",
    "scale_endpoint": ".scale_endpoints",
    "BinaryComparison": ".secondary",
    "compare_proportions": ".secondary",
    "response_and_remission": ".secondary",
    "AnalysisSets": ".sets",
    "analysis_sets": ".sets",
    "TrialDesign": ".simulate",
    "simulate_trial": ".simulate",
    "TrialResult": ".summary",
    "analyze_trial": ".summary",
    "format_summary": ".text",
    "Trajectory": ".longitudinal",
    "VisitEffect": ".longitudinal",
    "trajectory": ".longitudinal",
    "DEFAULT_ENDPOINT": "..visits",
    "DEFAULT_SCHEDULE": "..visits",
    "Visit": "..visits",
    "VisitSchedule": "..visits",
    "assign_visits": "..visits",
    "parse_visit": "..visits",
}

__all__ = [
    "Allocation",
    "AllocationEntry",
    "AnalysisSets",
    "BinaryComparison",
    "BlindingAssessment",
    "BlindingIndex",
    "DEFAULT_ENDPOINT",
    "DEFAULT_SCHEDULE",
    "EffectSize",
    "Estimate",
    "FitError",
    "PowerResult",
    "Reveal",
    "Trajectory",
    "ScaleEndpoint",
    "TrialDesign",
    "TrialResult",
    "TrialTable",
    "Visit",
    "VisitEffect",
    "VisitSchedule",
    "analysis_sets",
    "analyze_trial",
    "ancova",
    "assess_blinding",
    "assign_visits",
    "bang_index",
    "check_allocation",
    "cohens_d",
    "commitment",
    "compare_proportions",
    "format_summary",
    "guess_counts",
    "hash_chain",
    "hedges_correction",
    "hedges_g",
    "james_index",
    "make_allocation",
    "mice_ancova",
    "mice_ols",
    "mixed_model",
    "noncentrality_ci",
    "parse_visit",
    "power_two_arm",
    "reduction_effect_sizes",
    "response_and_remission",
    "reveal_next",
    "rubin_pool",
    "sample_size",
    "scale_endpoint",
    "simulate_trial",
    "stratum_labels",
    "trajectory",
    "validate_trial_table",
    "verify_allocation",
]

__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)
