"""Clinical outcomes: MADRS validation, change from baseline, response and remission, trajectory plots.

Research use; not a medical device.

``madrs``  parse and validate item or total scores; change, % change, response (>= 50% reduction) and
           remission (total <= threshold, default 10)
``plot``   trajectory figure as SVG text
"""

from .madrs import (
    DEFAULT_REMISSION_THRESHOLD,
    ITEM_MAX,
    N_ITEMS,
    TOTAL_MAX,
    MadrsAssessment,
    MadrsOutcome,
    ParticipantOutcomes,
    endpoint_summary,
    madrs_outcomes,
    parse_madrs_table,
)
from .plot import trajectory_svg

__all__ = [
    "DEFAULT_REMISSION_THRESHOLD",
    "ITEM_MAX",
    "N_ITEMS",
    "TOTAL_MAX",
    "MadrsAssessment",
    "MadrsOutcome",
    "ParticipantOutcomes",
    "endpoint_summary",
    "madrs_outcomes",
    "parse_madrs_table",
    "trajectory_svg",
]
