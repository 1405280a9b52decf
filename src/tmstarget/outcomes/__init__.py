"""Clinical outcomes: MADRS validation, change from baseline, response and remission, trajectory plots.

Research use; not a medical device.

``madrs``  parse and validate item or total scores; change, % change, response (>= 50% reduction) and
           remission (total <= threshold, default 10)
``scales`` HAM-D-17, QIDS-SR-16, CGI-S, CGI-I and C-SSRS-style items: validation, totals, response, remission
``plot``   trajectory figure and mean change by visit as SVG text
"""

from .madrs import (
    DEFAULT_REMISSION_THRESHOLD,
    ITEM_MAX,
    N_ITEMS,
    SUICIDAL_ITEM_FLAG,
    TOTAL_MAX,
    MadrsAssessment,
    MadrsOutcome,
    ParticipantOutcomes,
    endpoint_summary,
    madrs_outcomes,
    parse_madrs_table,
)
from .plot import change_by_visit_svg, trajectory_svg
from .scales import SCALES, Scale, parse_scale_table, scale_outcomes

__all__ = [
    "DEFAULT_REMISSION_THRESHOLD",
    "ITEM_MAX",
    "N_ITEMS",
    "SCALES",
    "SUICIDAL_ITEM_FLAG",
    "Scale",
    "change_by_visit_svg",
    "parse_scale_table",
    "scale_outcomes",
    "TOTAL_MAX",
    "MadrsAssessment",
    "MadrsOutcome",
    "ParticipantOutcomes",
    "endpoint_summary",
    "madrs_outcomes",
    "parse_madrs_table",
    "trajectory_svg",
]
