"""Synthetic fMRIPrep-like datasets with planted individual targets (for demos, tests and benchmarks).

:mod:`.model` generates arrays (pure functions); :mod:`.dataset` writes them as fMRIPrep derivatives.
"""

from .dataset import simulate_dataset
from .model import SimulationParams, simulate_participant

__all__ = ["SimulationParams", "simulate_dataset", "simulate_participant"]
