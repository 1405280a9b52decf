"""Treatment protocols: published parameters, session schedules, dose and safety, session logs.

Research use; not a medical device.

``protocols``   protocols as data with references; pulses and durations derived
``schedule``    session times within clinic hours; iCalendar export
``dose``        %RMT intensity with Stokes depth correction, capped at 100% MSO
``safety``      published safety limits (Rossi et al. 2009/2021); refusals unless forced
``sessionlog``  planned vs delivered sessions, missed sessions, adverse events, course summary
``files``       atomic writes of the outputs above
"""

from .dose import DEFAULT_GRADIENT, DEPTH_GRADIENTS, Dose, compute_dose, depth_adjusted_mt, resolve_gradient
from .files import check_writable, write_atomic
from .protocols import PROTOCOLS, Protocol, get_protocol
from .safety import SINGLE_TRAIN_LIMITS_S, TBS_ENVELOPE, SafetyCheck, SafetyReport, check_safety
from .schedule import (
    ClinicHours,
    Schedule,
    Session,
    parse_clinic_days,
    parse_clinic_hours,
    plan_schedule,
    schedule_to_ics,
)
from .sessionlog import (
    LOG_COLUMNS,
    STATUSES,
    CourseSummary,
    SessionRecord,
    format_session_log,
    parse_session_log,
    planned_records,
    summarize_course,
)

__all__ = [
    "DEFAULT_GRADIENT",
    "DEPTH_GRADIENTS",
    "LOG_COLUMNS",
    "PROTOCOLS",
    "SINGLE_TRAIN_LIMITS_S",
    "STATUSES",
    "TBS_ENVELOPE",
    "ClinicHours",
    "CourseSummary",
    "Dose",
    "Protocol",
    "SafetyCheck",
    "SafetyReport",
    "Schedule",
    "Session",
    "SessionRecord",
    "check_safety",
    "check_writable",
    "compute_dose",
    "depth_adjusted_mt",
    "format_session_log",
    "get_protocol",
    "parse_clinic_days",
    "parse_clinic_hours",
    "parse_session_log",
    "plan_schedule",
    "planned_records",
    "resolve_gradient",
    "schedule_to_ics",
    "summarize_course",
    "write_atomic",
]
