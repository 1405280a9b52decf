"""Published safety limits, checked before a dose is accepted.

Rossi et al. 2021 (Clin Neurophysiol 132:269-306), the current IFCN consensus, updates only the
emerging issues and leaves "still valid the 2009 recommendations regarding ... the utilization of
reference thresholds of stimulation". The reference thresholds for conventional rTMS are therefore the
single-train limits tabulated in Rossi et al. 2009 (Clin Neurophysiol 120:2008-2039) from Wassermann
1998 (Electroencephalogr Clin Neurophysiol 108:1-16). No consensus table exists for theta burst; for
TBS tmstarget refuses doses outside the envelope delivered in published depression trials, and says so.

Intensities are compared as the stimulator setting in % of the *measured* motor threshold, because
the tables were built from motor-cortex thresholds; a depth-corrected dose is therefore checked
conservatively.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from ..exceptions import SafetyError
from .protocols import Protocol

logger = logging.getLogger(__name__)

__all__ = ["SINGLE_TRAIN_LIMITS_S", "SafetyCheck", "SafetyReport", "TBS_ENVELOPE", "check_safety"]

_ROSSI_TABLE = "Rossi et al. 2009 single-train table (from Wassermann 1998), kept valid by Rossi et al. 2021"

#: Maximum safe duration (s) of a single rTMS train by frequency (Hz) and intensity (% MT); values
#: printed as ">x" in the table (no adverse effect at the longest duration tested) are used as x.
SINGLE_TRAIN_LIMITS_S: dict[float, dict[float, float]] = {
    1.0: {90: 1800.0, 100: 1800.0, 110: 1800.0, 120: 360.0, 130: 50.0},
    5.0: {90: 10.0, 100: 10.0, 110: 10.0, 120: 10.0, 130: 10.0},
    10.0: {90: 5.0, 100: 5.0, 110: 5.0, 120: 4.2, 130: 2.9},
    20.0: {90: 2.05, 100: 1.6, 110: 1.0, 120: 0.55, 130: 0.35},
    25.0: {90: 1.28, 100: 0.84, 110: 0.4, 120: 0.24, 130: 0.2},
}

#: Theta-burst envelope of published depression trials: (limit, unit, source).
TBS_ENVELOPE: dict[str, tuple[float, str, str]] = {
    "intensity_pct_rmt": (
        120.0,
        "% of measured RMT",
        "highest TBS intensity in large depression trials (Blumberger et al. 2018, THREE-D, 120% RMT); "
        "no consensus TBS table exists (Rossi et al. 2021)",
    ),
    "pulses_per_session": (1800.0, "pulses", "SAINT/SNT session (Cole et al. 2020, 2022)"),
    "pulses_per_day": (18000.0, "pulses", "SAINT/SNT day: 10 x 1800 pulses (Cole et al. 2020, 2022)"),
}


@dataclass(frozen=True)
class SafetyCheck:
    """One limit compared with the requested value."""

    name: str
    value: float
    limit: float
    unit: str
    source: str

    @property
    def ok(self) -> bool:
        """True when the value does not exceed the limit."""
        return self.value <= self.limit + 1e-9

    def describe(self) -> str:
        """One-line statement of the comparison and its source."""
        relation = "within" if self.ok else "exceeds"
        return (
            f"{self.name} {self.value:g} {self.unit} {relation} the limit of {self.limit:g} {self.unit} ({self.source})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "limit": self.limit,
            "unit": self.unit,
            "ok": self.ok,
            "source": self.source,
        }


@dataclass(frozen=True)
class SafetyReport:
    """All checks for one protocol and dose; ``forced`` when violations were overridden."""

    protocol: str
    checks: tuple[SafetyCheck, ...]
    forced: bool

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def violations(self) -> tuple[SafetyCheck, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "protocol": self.protocol,
            "ok": self.ok,
            "forced": self.forced,
            "checks": [c.to_dict() for c in self.checks],
        }


def _table_checks(protocol: Protocol, pct_rmt: float) -> list[SafetyCheck]:
    """Single-train duration limit for conventional rTMS (conservative: next higher row and column)."""
    freqs = sorted(SINGLE_TRAIN_LIMITS_S)
    i = bisect_left(freqs, protocol.frequency_hz - 1e-9)
    if i == len(freqs):
        return [
            SafetyCheck("frequency", protocol.frequency_hz, freqs[-1], "Hz", _ROSSI_TABLE + "; no limits above 25 Hz")
        ]
    row = SINGLE_TRAIN_LIMITS_S[freqs[i]]
    cols = sorted(row)
    j = bisect_left(cols, pct_rmt - 1e-9)
    if j == len(cols):
        return [
            SafetyCheck("intensity", pct_rmt, cols[-1], "% of measured RMT", _ROSSI_TABLE + "; no limits above 130% MT")
        ]
    limit = row[cols[j]]
    source = f"{_ROSSI_TABLE}, row {freqs[i]:g} Hz, column {cols[j]:g}% MT"
    return [SafetyCheck("train duration", protocol.train_duration_s, limit, "s", source)]


def _tbs_checks(protocol: Protocol, pct_rmt: float, sessions_per_day: int) -> list[SafetyCheck]:
    values = {
        "intensity_pct_rmt": pct_rmt,
        "pulses_per_session": float(protocol.pulses_per_session),
        "pulses_per_day": float(protocol.pulses_per_session * sessions_per_day),
    }
    return [
        SafetyCheck(name.replace("_pct_rmt", "").replace("_", " "), values[name], limit, unit, source)
        for name, (limit, unit, source) in TBS_ENVELOPE.items()
    ]


def check_safety(
    protocol: Protocol, pct_of_measured_rmt: float, *, sessions_per_day: int | None = None, force: bool = False
) -> SafetyReport:
    """Check a protocol at a given intensity against the published limits.

    Parameters
    ----------
    protocol : Protocol
        The protocol to deliver.
    pct_of_measured_rmt : float
        Stimulator setting as % of the measured resting motor threshold (see :attr:`Dose.pct_of_measured_rmt`).
    sessions_per_day : int, optional
        Sessions a day if different from the protocol's.
    force : bool
        Return the report with its violations instead of raising (the override is logged).

    Returns
    -------
    SafetyReport
        Every check with its limit and source.

    Raises
    ------
    SafetyError
        When a limit is exceeded and ``force`` is False; the message names each limit and its source.
    """
    per_day = protocol.sessions_per_day if sessions_per_day is None else int(sessions_per_day)
    if protocol.is_tbs:
        checks = _tbs_checks(protocol, pct_of_measured_rmt, per_day)
    else:
        checks = _table_checks(protocol, pct_of_measured_rmt)
    report = SafetyReport(
        protocol=protocol.key, checks=tuple(checks), forced=bool(force) and not all(c.ok for c in checks)
    )
    if not report.ok:
        reasons = "; ".join(c.describe() for c in report.violations)
        if not force:
            raise SafetyError(
                f"{protocol.key} at {pct_of_measured_rmt:.0f}% of measured RMT refused: {reasons} — "
                "lower the intensity or check RMT and depths; --force overrides (research use, your responsibility)"
            )
        logger.warning("safety limit overridden with --force: %s", reasons)
    return report
