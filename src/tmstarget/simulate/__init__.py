"""Synthetic fMRIPrep-like datasets with planted individual targets (for demos, tests and benchmarks).

:mod:`.model` generates arrays (pure functions); :mod:`.dataset` writes them as fMRIPrep derivatives.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays fast).
_EXPORTS = {
    **dict.fromkeys(["simulate_dataset"], ".dataset"),
    **dict.fromkeys(["SimulationParams", "simulate_participant"], ".model"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = ["SimulationParams", "simulate_dataset", "simulate_participant"]
