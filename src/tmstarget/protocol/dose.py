"""Stimulator output from the resting motor threshold, with coil-to-cortex depth correction.

The motor threshold (MT) is measured over the hand knob; the treatment target usually lies at a
different depth below the coil. Stokes et al. showed that MT rises linearly with coil-to-cortex
distance, so the threshold expected at the target is::

    adjusted MT = MT + k * (D_target - D_motor)        (% of maximum stimulator output, MSO)

with D the scalp-to-cortex distance in mm and k the gradient in % MSO per mm:

* k = 3.0  Stokes et al. 2005, J Neurophysiol 94:4520-4527 (abstract: "an additional 3% of TMS
  output")
* k = 2.8  Stokes et al. 2007, Clin Neurophysiol 118:1617-1625 (abstract: "an additional 2.8% of
  absolute stimulator output" per mm, same for 50 and 70 mm figure-eight coils and both hemispheres)
* k = 2.7  Stokes et al. 2013, J Neurophysiol 109:437-444 (abstract: "a general correction factor of
  2.7% stimulator output per millimeter" for standard figure-of-eight coils on biphasic stimulators)
  - default.

The prescribed output is ``intensity_pct_rmt / 100 * adjusted MT``; the stimulator setting is that
value rounded down to a whole % MSO (never above the prescription) and capped at 100% MSO.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

from ..exceptions import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_GRADIENT",
    "DEPTH_GRADIENTS",
    "Dose",
    "check_intensity",
    "compute_dose",
    "depth_adjusted_mt",
    "resolve_gradient",
]

#: Coil-to-cortex gradients of motor threshold, % MSO per mm, by source.
DEPTH_GRADIENTS: dict[str, float] = {"stokes2005": 3.0, "stokes2007": 2.8, "stokes2013": 2.7}
#: Default gradient (Stokes et al. 2013, figure-of-eight coil, biphasic pulses).
DEFAULT_GRADIENT = "stokes2013"

_MAX_DEPTH_MM = 60.0


def resolve_gradient(gradient: str | float) -> float:
    """Return the gradient in % MSO per mm for a source name (``stokes2013``) or a number.

    Raises
    ------
    InputError
        For an unknown name or a number outside (0, 10].
    """
    if isinstance(gradient, str):
        key = gradient.strip().lower()
        if key in DEPTH_GRADIENTS:
            return DEPTH_GRADIENTS[key]
        try:
            gradient = float(key)
        except ValueError:
            raise InputError(
                f"depth gradient {gradient!r} is unknown — "
                f"use one of {', '.join(DEPTH_GRADIENTS)} or a number in % MSO/mm"
            ) from None
    value = float(gradient)
    if not (math.isfinite(value) and 0 < value <= 10):
        raise InputError(
            f"depth gradient {value:g} % MSO/mm is implausible — published values are 2.7-3.0"
        )
    return value


def _check_pct(value: float, name: str, low: float, high: float, fix: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and low < value <= high):
        raise InputError(f"{name} = {value:g} is outside ({low:g}, {high:g}] — {fix}")
    return value


def check_intensity(intensity_pct_rmt: float) -> float:
    """Return the prescribed intensity (% of motor threshold), checked to lie in (0, 200].

    The check applies even when no RMT is given.

    Raises
    ------
    InputError
        For a value outside (0, 200] or not finite.
    """
    return _check_pct(
        intensity_pct_rmt,
        "intensity",
        0,
        200,
        "give --intensity-pct-rmt as % of motor threshold, e.g. 90 or 120",
    )


def _check_depth(value: float, name: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and 0 <= value <= _MAX_DEPTH_MM):
        raise InputError(
            f"{name} = {value:g} mm is outside 0-{_MAX_DEPTH_MM:g} mm — "
            "give the scalp-to-cortex distance in millimetres"
        )
    return value


def depth_adjusted_mt(
    rmt_pct_mso: float,
    target_depth_mm: float,
    motor_depth_mm: float,
    gradient: str | float = DEFAULT_GRADIENT,
) -> float:
    """Motor threshold expected at the target's depth (Stokes et al.).

    Parameters
    ----------
    rmt_pct_mso : float
        Resting motor threshold measured over the hand knob, % MSO.
    target_depth_mm, motor_depth_mm : float
        Scalp-to-cortex distance at the target and at the motor hotspot, mm.
    gradient : str or float
        ``"stokes2005"`` (3.0), ``"stokes2007"`` (2.8), ``"stokes2013"`` (2.7, default) or % MSO per
        mm.

    Returns
    -------
    float
        ``rmt + k * (target_depth - motor_depth)``, % MSO (lower than the RMT for a shallower
        target).
    """
    rmt = _check_pct(
        rmt_pct_mso,
        "resting motor threshold",
        0,
        100,
        "give --rmt in % of maximum stimulator output",
    )
    k = resolve_gradient(gradient)
    delta = _check_depth(target_depth_mm, "target depth") - _check_depth(
        motor_depth_mm, "motor depth"
    )
    adjusted = rmt + k * delta
    if adjusted <= 0:
        raise InputError(
            f"depth-adjusted MT = {adjusted:.1f}% MSO is not "
            f"positive — the target is {-delta:g} mm shallower "
            "than the motor cortex, check the two depths"
        )
    return adjusted


@dataclass(frozen=True)
class Dose:
    """Stimulator output for one participant.

    Attributes
    ----------
    rmt_pct_mso : float
        Measured resting motor threshold, % MSO.
    intensity_pct_rmt : float
        Prescribed intensity, % of the (adjusted) motor threshold.
    target_depth_mm, motor_depth_mm, gradient_pct_mso_per_mm : float or None
        Depth correction inputs (``None`` when not corrected).
    threshold_pct_mso : float
        Threshold the intensity refers to: the adjusted MT, or the RMT without correction.
    prescribed_pct_mso : float
        ``intensity_pct_rmt / 100 * threshold_pct_mso`` before the cap.
    setting_pct_mso : int
        Whole-number stimulator setting, rounded down (never above the prescription), capped at 100.
    capped : bool
        True when the prescription exceeded 100% MSO.
    pct_of_measured_rmt : float
        The setting as % of the measured RMT: what safety tables (built on motor-cortex MT) are
        checked against.
    """

    rmt_pct_mso: float
    intensity_pct_rmt: float
    target_depth_mm: float | None
    motor_depth_mm: float | None
    gradient_pct_mso_per_mm: float | None
    threshold_pct_mso: float
    prescribed_pct_mso: float
    setting_pct_mso: int
    capped: bool
    pct_of_measured_rmt: float

    @property
    def depth_corrected(self) -> bool:
        """Whether the threshold was adjusted for depth."""
        return self.gradient_pct_mso_per_mm is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, numbers rounded to 0.01."""
        out = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        out["depth_corrected"] = self.depth_corrected
        return out


def compute_dose(
    rmt_pct_mso: float,
    intensity_pct_rmt: float,
    *,
    target_depth_mm: float | None = None,
    motor_depth_mm: float | None = None,
    gradient: str | float = DEFAULT_GRADIENT,
) -> Dose:
    """Stimulator setting from the RMT, the prescribed %RMT and (optionally) the two depths.

    Parameters
    ----------
    rmt_pct_mso : float
        Measured resting motor threshold, % MSO, in (0, 100].
    intensity_pct_rmt : float
        Prescribed intensity, % of motor threshold, in (0, 200] (e.g. 90 for SAINT, 120 for 10 Hz
        rTMS).
    target_depth_mm, motor_depth_mm : float, optional
        Scalp-to-cortex distances, mm; give both for depth correction, or neither.
    gradient : str or float
        Depth gradient source or value, see :func:`depth_adjusted_mt`.

    Returns
    -------
    Dose
        The prescription, the whole-number setting capped at 100% MSO, and the setting as % of
        measured RMT.

    Raises
    ------
    InputError
        For out-of-range values or only one of the two depths.
    """
    rmt = _check_pct(
        rmt_pct_mso,
        "resting motor threshold",
        0,
        100,
        "give --rmt in % of maximum stimulator output",
    )
    pct = check_intensity(intensity_pct_rmt)
    if (target_depth_mm is None) != (motor_depth_mm is None):
        raise InputError(
            "depth correction needs both depths — give --target-depth-mm "
            "and --motor-depth-mm, or neither"
        )
    k: float | None = None
    threshold = rmt
    if target_depth_mm is not None and motor_depth_mm is not None:
        k = resolve_gradient(gradient)
        threshold = depth_adjusted_mt(rmt, target_depth_mm, motor_depth_mm, k)
    prescribed = pct / 100.0 * threshold
    capped = prescribed > 100.0
    setting = 100 if capped else int(math.floor(prescribed + 1e-9))
    if capped:
        logger.warning(
            "prescribed %.1f%% MSO exceeds the stimulator's maximum; capped at 100%% MSO "
            "(%.0f%% of the prescribed dose)",
            prescribed,
            100.0 * 100.0 / prescribed,
        )
    return Dose(
        rmt_pct_mso=rmt,
        intensity_pct_rmt=pct,
        target_depth_mm=None if target_depth_mm is None else float(target_depth_mm),
        motor_depth_mm=None if motor_depth_mm is None else float(motor_depth_mm),
        gradient_pct_mso_per_mm=k,
        threshold_pct_mso=threshold,
        prescribed_pct_mso=prescribed,
        setting_pct_mso=setting,
        capped=capped,
        pct_of_measured_rmt=100.0 * setting / rmt,
    )
