"""HTML reports: one self-contained file per participant's target, and one for the cohort.

``participant``  :func:`write_participant_report` — target and score map, scalp-rule alternatives,
                 confidence region, motion and tSNR, coil placement, dose and schedule, MADRS,
                 provenance
``cohort``       :func:`write_cohort_report` — all targets on one glass brain, table, reliability
                 figures
``brain``        nilearn figures (score map slices and glass brain, tSNR, cohort targets) as PNG
                 data URIs
``plots``        matplotlib figures (FD trace, distances, radii, scan-length curve) as SVG data URIs
``data``         finding and reading what ``tmstarget target`` wrote (the reports never recompute a
                 target)
``sections``     report sections from other domains (scalp rules, coil, protocol, MADRS,
                 reliability)
``html``         packaged jinja2 templates, autoescaped

Figures and rendering are pure functions from data to text; only the two ``write_*`` functions
write, atomically, after everything else succeeded. Reports embed every image, load nothing from the
network, carry no scripts and show the notice: research use; not a medical device.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(["COHORT_REPORT", "cohort_report_html", "write_cohort_report"], ".cohort"),
    **dict.fromkeys(
        ["EXTRAS", "participant_report_html", "write_participant_report"], ".participant"
    ),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "COHORT_REPORT",
    "EXTRAS",
    "cohort_report_html",
    "participant_report_html",
    "write_cohort_report",
    "write_participant_report",
]
