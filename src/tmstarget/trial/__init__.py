"""Trial design and analysis: randomization, primary and secondary analyses, blinding, power, simulation.

Randomization
    :func:`make_allocation` (blocked with random block sizes, stratified, seeded), :func:`stratum_labels`,
    :func:`reveal_next` and :func:`verify_allocation` (concealed list with salted commitments and a hash chain).
Visits and analysis sets
    :class:`VisitSchedule` (target days and windows after the last session), :func:`assign_visits`,
    :func:`analysis_sets` (ITT and per protocol).
Analysis of a long-format table (see :mod:`tmstarget.trial.data` for the columns)
    :func:`validate_trial_table`, :func:`ancova`, :func:`mixed_model`, :func:`trajectory` (group × visit
    mixed model, Satterthwaite df), :func:`mice_ancova` (MICE sensitivity; :func:`mice_ols` for any data frame), :func:`cohens_d`, :func:`hedges_g`,
    :func:`response_and_remission`, :func:`compare_proportions`, :func:`scale_endpoint` (HAM-D-17, QIDS-SR-16, CGI-S, CGI-I as
    secondary endpoints), :func:`bang_index`, :func:`james_index`,
    :func:`analyze_trial` and :func:`format_summary` (CONSORT-style text).
Planning and exercise
    :func:`power_two_arm`, :func:`sample_size`, :func:`simulate_trial`.
File I/O (the only functions here that touch files)
    :mod:`tmstarget.trial.io`.
"""

from .analysis import Estimate, FitError, ancova, mixed_model, reduction_effect_sizes
from .blinding import BlindingAssessment, BlindingIndex, assess_blinding, bang_index, guess_counts, james_index
from .data import TrialTable, check_allocation, validate_trial_table
from .effect_sizes import EffectSize, cohens_d, hedges_correction, hedges_g, noncentrality_ci
from .impute import mice_ancova, mice_ols, rubin_pool
from .power import PowerResult, power_two_arm, sample_size
from .randomization import (
    Allocation,
    AllocationEntry,
    Reveal,
    commitment,
    hash_chain,
    make_allocation,
    reveal_next,
    stratum_labels,
    verify_allocation,
)
from .scale_endpoints import ScaleEndpoint, scale_endpoint
from .secondary import BinaryComparison, compare_proportions, response_and_remission
from .sets import AnalysisSets, analysis_sets
from .simulate import TrialDesign, simulate_trial
from .summary import TrialResult, analyze_trial
from .text import format_summary
from .longitudinal import Trajectory, VisitEffect, trajectory
from .visits import DEFAULT_ENDPOINT, DEFAULT_SCHEDULE, Visit, VisitSchedule, assign_visits, parse_visit

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
