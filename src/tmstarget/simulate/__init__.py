"""Synthetic fMRIPrep-like datasets with planted individual targets (for demos, tests and benchmarks).

:mod:`.model` generates arrays (pure functions); :mod:`.multiecho` turns the same runs into multi-echo data;
:mod:`.dataset` writes them as fMRIPrep derivatives.
"""

from .dataset import simulate_dataset
from .model import SimulationParams, simulate_participant
from .multiecho import CALIBRATED_MULTIECHO, MultiEchoParams, simulate_participant_multiecho

__all__ = ["CALIBRATED_MULTIECHO", "MultiEchoParams", "SimulationParams", "simulate_dataset", "simulate_participant",
           "simulate_participant_multiecho"]
