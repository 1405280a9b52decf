"""Clinical outcomes: MADRS validation, change from baseline, response and remission.

The package also draws the MADRS trajectory plots.

Research use; not a medical device.

``madrs``  parse and validate item or total scores; change, % change, response (>= 50% reduction)
and
           remission (total <= threshold, default 10)
``scales`` HAM-D-17, QIDS-SR-16, CGI-S, CGI-I and C-SSRS-style items: validation, totals, response,
remission ``plot``   trajectory figure (with alt text) and mean change by visit as SVG text
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(
        [
            "DEFAULT_REMISSION_THRESHOLD",
            "ITEM_MAX",
            "MadrsAssessment",
            "MadrsOutcome",
            "N_ITEMS",
            "ParticipantOutcomes",
            "SUICIDAL_ITEM_FLAG",
            "TOTAL_MAX",
            "endpoint_summary",
            "madrs_outcomes",
            "parse_madrs_table",
        ],
        ".madrs",
    ),
    **dict.fromkeys(["change_by_visit_svg", "trajectory_figure", "trajectory_svg"], ".plot"),
    **dict.fromkeys(["SCALES", "Scale", "parse_scale_table", "scale_outcomes"], ".scales"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

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
    "trajectory_figure",
    "trajectory_svg",
]
