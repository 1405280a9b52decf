"""Treatment protocols: published parameters, session schedules, dose and safety, session logs.

Research use; not a medical device.

``protocols``   protocols as data with references; pulses and durations derived
``custom``      protocols given on the command line, checked like the built-in ones
``schedule``    session times within clinic hours; iCalendar export
``dose``        %RMT intensity with Stokes depth correction, capped at 100% MSO
``rules``       every safety rule as data: limit, basis (consensus / published protocol / tmstarget
                policy), source
``safety``      checks of a protocol and dose against the rules; refusals unless forced
``sessionlog``  the session-log TSV: planned vs delivered sessions, coil, target, structured adverse
                events
``course``      course summary and deviations of a delivered log from the plan and the safety rules
``screening``   safety screening form (after Rossi et al. 2011) with physician-review flags; the
                scheduling gate
``threshold``   resting motor threshold from MEP trials: relative frequency and ML-PEST
``hunt``        the threshold session: per-session estimates of a trials file, the interactive
                ML-PEST hunt
``plan``        :func:`plan_course`, the whole course workflow (``tmstarget protocol``) as one call
``text``        the course's text report
``plots``       figures with alt text: MEP against intensity (``mt --plot``), session timeline
``files``       atomic writes of the outputs above
``scanplan``    the scan plan (``tmstarget plan-scan``): minutes of single- vs multi-echo data for a
                reliable target, from the calibrated simulator or a pilot scan
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(
        ["TRIAL_COLUMNS", "hunt_threshold", "threshold_report", "threshold_summaries"], ".hunt"
    ),
    **dict.fromkeys(
        ["CourseSummary", "Deviation", "check_course_log", "summarize_course"], ".course"
    ),
    **dict.fromkeys(
        ["CUSTOM_OPTIONS", "CUSTOM_RANGES", "check_options", "custom_protocol", "resolve_protocol"],
        ".custom",
    ),
    **dict.fromkeys(
        [
            "DEFAULT_GRADIENT",
            "DEPTH_GRADIENTS",
            "Dose",
            "check_intensity",
            "compute_dose",
            "depth_adjusted_mt",
            "resolve_gradient",
        ],
        ".dose",
    ),
    **dict.fromkeys(["write_atomic"], ".files"),
    **dict.fromkeys(["CoursePlan", "plan_course"], ".plan"),
    **dict.fromkeys(["course_text"], ".text"),
    **dict.fromkeys(["mep_curve_figure", "session_timeline_figure"], ".plots"),
    **dict.fromkeys(["INTERVAL_BASES", "PROTOCOLS", "Protocol", "get_protocol"], ".protocols"),
    **dict.fromkeys(["RULES", "SINGLE_TRAIN_LIMITS_S", "SafetyRule", "TBS_ENVELOPE"], ".rules"),
    **dict.fromkeys(
        ["SafetyCheck", "SafetyReport", "ceiling_check", "check_gap", "check_safety"], ".safety"
    ),
    **dict.fromkeys(
        [
            "ClinicHours",
            "Schedule",
            "Session",
            "parse_clinic_days",
            "parse_clinic_hours",
            "plan_schedule",
            "schedule_to_ics",
            "session_interval",
        ],
        ".schedule",
    ),
    **dict.fromkeys(
        [
            "SCREENING_ITEMS",
            "ScreeningResult",
            "check_screening",
            "parse_screening",
            "screening_template",
        ],
        ".screening",
    ),
    **dict.fromkeys(
        [
            "AE_ACTIONS",
            "AE_RELATEDNESS",
            "AE_SEVERITIES",
            "AdverseEvent",
            "LOG_COLUMNS",
            "STATUSES",
            "SessionRecord",
            "format_session_log",
            "is_seizure",
            "parse_session_log",
            "planned_records",
        ],
        ".sessionlog",
    ),
    **dict.fromkeys(
        [
            "PestResult",
            "RelativeFrequencyResult",
            "Trials",
            "parse_trials",
            "pest_threshold",
            "relative_frequency_threshold",
        ],
        ".threshold",
    ),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "AE_ACTIONS",
    "AE_RELATEDNESS",
    "AE_SEVERITIES",
    "AdverseEvent",
    "CUSTOM_OPTIONS",
    "TRIAL_COLUMNS",
    "hunt_threshold",
    "threshold_report",
    "threshold_summaries",
    "CUSTOM_RANGES",
    "CoursePlan",
    "ClinicHours",
    "CourseSummary",
    "DEFAULT_GRADIENT",
    "DEPTH_GRADIENTS",
    "Deviation",
    "Dose",
    "INTERVAL_BASES",
    "LOG_COLUMNS",
    "PROTOCOLS",
    "PestResult",
    "Protocol",
    "RULES",
    "RelativeFrequencyResult",
    "SCREENING_ITEMS",
    "SINGLE_TRAIN_LIMITS_S",
    "STATUSES",
    "SafetyCheck",
    "SafetyReport",
    "SafetyRule",
    "Schedule",
    "ScreeningResult",
    "Session",
    "SessionRecord",
    "TBS_ENVELOPE",
    "Trials",
    "ceiling_check",
    "check_course_log",
    "check_gap",
    "check_intensity",
    "check_safety",
    "check_screening",
    "check_options",
    "course_text",
    "plan_course",
    "resolve_protocol",
    "compute_dose",
    "custom_protocol",
    "depth_adjusted_mt",
    "format_session_log",
    "get_protocol",
    "is_seizure",
    "mep_curve_figure",
    "parse_clinic_days",
    "parse_clinic_hours",
    "parse_screening",
    "parse_session_log",
    "parse_trials",
    "pest_threshold",
    "plan_schedule",
    "planned_records",
    "relative_frequency_threshold",
    "resolve_gradient",
    "schedule_to_ics",
    "screening_template",
    "session_interval",
    "session_timeline_figure",
    "summarize_course",
    "write_atomic",
]
