"""Input defaults in one leaf module (no imports).

They are the confound strategies the library uses and ``--help`` shows.
"""

#: Named confound strategies: nilearn ``load_confounds`` keyword arguments for each.
STRATEGIES: dict[str, dict] = {
    "24p+wmcsf": {"strategy": ["motion", "wm_csf"], "motion": "full", "wm_csf": "basic"},
    "36p": {
        "strategy": ["motion", "wm_csf", "global_signal"],
        "motion": "full",
        "wm_csf": "full",
        "global_signal": "full",
    },
    "6p+wmcsf": {"strategy": ["motion", "wm_csf"], "motion": "basic", "wm_csf": "basic"},
    "24p": {"strategy": ["motion"], "motion": "full"},
    "none": {"strategy": []},
}

DEFAULT_STRATEGY = "24p+wmcsf"
