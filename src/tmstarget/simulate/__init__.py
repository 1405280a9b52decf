"""Synthetic fMRIPrep-like datasets with planted individual targets.

The datasets serve demos, tests and benchmarks.

:mod:`.model` generates arrays (pure functions); :mod:`.multiecho` turns the same runs into
multi-echo data; :mod:`.dataset` writes them as fMRIPrep derivatives.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(["simulate_dataset"], ".dataset"),
    **dict.fromkeys(["SimulationParams", "simulate_participant"], ".model"),
    **dict.fromkeys(
        ["CALIBRATED_MULTIECHO", "MultiEchoParams", "simulate_participant_multiecho"], ".multiecho"
    ),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "CALIBRATED_MULTIECHO",
    "MultiEchoParams",
    "SimulationParams",
    "simulate_dataset",
    "simulate_participant",
    "simulate_participant_multiecho",
]
