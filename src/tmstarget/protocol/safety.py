"""Safety checks: a protocol and a dose against every rule in :mod:`tmstarget.protocol.rules`.

Rossi et al. 2021 (Clin Neurophysiol 132:269-306), the current IFCN consensus, keeps "still valid
the 2009 recommendations regarding ... the utilization of reference thresholds of stimulation". The
reference thresholds for conventional rTMS are therefore the single-train limits tabulated in Rossi
et al. 2009 from Wassermann 1998, with the inter-train interval finding of Chen et al. 1997. No
consensus table exists for theta burst: tmstarget checks it against the SAINT/SNT envelope and
against an intensity ceiling that is a tool policy (set by the protocol), and says so in every
check.

Intensities are compared as the stimulator setting in % of the *measured* motor threshold, because
the tables were built from motor-cortex thresholds; a depth-corrected dose is therefore checked
conservatively.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import Any

from ..exceptions import SafetyError
from .protocols import Protocol
from .rules import (
    ITI_RULE,
    RULES,
    SINGLE_TRAIN_LIMITS_S,
    TBS_DEFAULT_MAX_PCT_RMT,
    TBS_ENVELOPE,
    SafetyRule,
    table_source,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BASIS_WORDS",
    "SafetyCheck",
    "SafetyReport",
    "ceiling_check",
    "check_gap",
    "check_safety",
    "raised_limit_problem",
    "safety_problem",
]

#: How each basis reads in a refusal: a published limit, or a tool policy (said wherever one
#: applies).
BASIS_WORDS = {
    "consensus": "a published consensus limit",
    "published protocol": "the envelope of published protocols",
    "tmstarget policy": "a tmstarget policy, not a published limit",
}

_RTMS_MAX_PULSES_PER_SESSION = 3000.0  # O'Reardon et al. 2007, FDA-cleared 10 Hz protocol
_RTMS_MAX_SESSIONS_PER_DAY = 1.0


@dataclass(frozen=True)
class SafetyCheck:
    """One rule applied to one requested value.

    ``bound`` is ``"max"`` (value must not exceed the limit) or ``"min"`` (value must reach it);
    ``strict`` makes the limit itself fail (e.g. pauses of 1 s *or less* are unsafe).
    """

    name: str
    value: float
    limit: float
    unit: str
    source: str
    rule: str = ""
    basis: str = "consensus"
    bound: str = "max"
    strict: bool = False
    action: str = "refuse"
    option: str = ""

    @classmethod
    def of(
        cls, rule: SafetyRule, name: str, value: float, limit: float, unit: str, **kw: Any
    ) -> SafetyCheck:
        """Build a check of ``rule``, copying its basis, source and action.

        ``source`` may be overridden.
        """
        source = kw.pop("source", rule.source)
        return cls(
            name,
            float(value),
            float(limit),
            unit,
            source,
            rule.key,
            rule.basis,
            action=rule.action,
            **kw,
        )

    @property
    def ok(self) -> bool:
        """True when the value respects the limit."""
        eps = 1e-9
        if self.bound == "min":
            return self.value > self.limit + eps if self.strict else self.value >= self.limit - eps
        return self.value < self.limit - eps if self.strict else self.value <= self.limit + eps

    def describe(self) -> str:
        """One-line statement of the comparison, the rule and its source."""
        if self.ok:
            relation = "within"
        elif self.bound == "min":
            relation = "at or below" if self.strict else "below"
        else:
            relation = "at or above" if self.strict else "exceeds"
        given = f" (set by {self.option})" if self.option else ""
        return (
            f"{self.name}{given} {self.value:g} {self.unit} "
            f"{relation} the limit of {self.limit:g} {self.unit} "
            f"[rule {self.rule}, {self.basis}: {self.source}]"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "rule": self.rule,
            "value": round(self.value, 3),
            "limit": self.limit,
            "bound": self.bound,
            "strict": self.strict,
            "unit": self.unit,
            "ok": self.ok,
            "action": self.action,
            "basis": self.basis,
            "source": self.source,
        }


@dataclass(frozen=True)
class SafetyReport:
    """All checks for one protocol and dose.

    ``force`` records that ``--force`` was given; ``forced`` that it overrode at least one refusal.
    """

    protocol: str
    pct_of_measured_rmt: float
    checks: tuple[SafetyCheck, ...]
    force: bool = False

    @property
    def refusals(self) -> tuple[SafetyCheck, ...]:
        """Failed checks that refuse the dose."""
        return tuple(c for c in self.checks if not c.ok and c.action == "refuse")

    @property
    def warnings(self) -> tuple[SafetyCheck, ...]:
        """Failed checks that only warn."""
        return tuple(c for c in self.checks if not c.ok and c.action != "refuse")

    @property
    def violations(self) -> tuple[SafetyCheck, ...]:
        """Every failed check."""
        return tuple(c for c in self.checks if not c.ok)

    @property
    def ok(self) -> bool:
        """True when no check refuses the dose."""
        return not self.refusals

    @property
    def forced(self) -> bool:
        """True when a refusal was overridden with ``--force``."""
        return self.force and not self.ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "protocol": self.protocol,
            "pct_of_measured_rmt": round(self.pct_of_measured_rmt, 2),
            "ok": self.ok,
            "force": self.force,
            "forced": self.forced,
            "refusals": [c.rule for c in self.refusals],
            "warnings": [c.rule for c in self.warnings],
            "checks": [c.to_dict() for c in self.checks],
        }


def _next_at_or_above(values: list[float], x: float) -> int:
    return bisect_left(values, x - 1e-9)


def _rtms_checks(protocol: Protocol, pct: float) -> list[SafetyCheck]:
    """Check rTMS against the single-train table, the inter-train interval and the session envelope.

    The single-train table is read conservatively (next higher row and column).
    """
    freqs = sorted(SINGLE_TRAIN_LIMITS_S)
    i = _next_at_or_above(freqs, protocol.frequency_hz)
    checks: list[SafetyCheck] = []
    if i == len(freqs):
        checks.append(
            SafetyCheck.of(
                RULES["rtms.frequency"], "frequency", protocol.frequency_hz, freqs[-1], "Hz"
            )
        )
    cols = sorted(SINGLE_TRAIN_LIMITS_S[freqs[0]])
    j = _next_at_or_above(cols, pct)
    if j == len(cols):
        checks.append(
            SafetyCheck.of(RULES["rtms.intensity"], "intensity", pct, cols[-1], "% of measured RMT")
        )
    if i < len(freqs) and j < len(cols):
        limit = SINGLE_TRAIN_LIMITS_S[freqs[i]][cols[j]]
        source = table_source(freqs[i], cols[j])
        checks.append(
            SafetyCheck.of(
                RULES["rtms.train_duration"],
                "train duration",
                protocol.train_duration_s,
                limit,
                "s",
                source=source,
            )
        )
    if (
        protocol.trains_per_session > 1
        and protocol.frequency_hz > ITI_RULE["applies_above_hz"]
        and (pct > ITI_RULE["applies_above_pct_mt"])
    ):
        iti = protocol.inter_train_interval_s
        checks.append(
            SafetyCheck.of(
                RULES["rtms.inter_train_interval"],
                "inter-train interval",
                iti,
                ITI_RULE["unsafe_at_or_below_s"],
                "s",
                bound="min",
                strict=True,
            )
        )
        checks.append(
            SafetyCheck.of(
                RULES["rtms.inter_train_interval_tested"],
                "inter-train interval (tested)",
                iti,
                ITI_RULE["tested_safe_s"],
                "s",
                bound="min",
            )
        )
    checks.append(
        SafetyCheck.of(
            RULES["rtms.pulses_per_session"],
            "pulses per session",
            protocol.pulses_per_session,
            _RTMS_MAX_PULSES_PER_SESSION,
            "pulses",
        )
    )
    checks.append(
        SafetyCheck.of(
            RULES["rtms.sessions_per_day"],
            "sessions per day",
            protocol.sessions_per_day,
            _RTMS_MAX_SESSIONS_PER_DAY,
            "sessions",
        )
    )
    return checks


def check_gap(protocol: Protocol, gap_min: float | None) -> SafetyCheck | None:
    """Check the SAINT/SNT spacing rule for theta burst given several times a day.

    Return None when the rule does not apply.

    Parameters
    ----------
    protocol : Protocol
        The protocol (theta burst with more than one session a day is checked).
    gap_min : float or None
        Minutes from the end of one session to the start of the next; None = the protocol's own
        minimum.
    """
    if not protocol.is_tbs or protocol.sessions_per_day < 2:
        return None
    if gap_min is None:
        gap_min = protocol.min_gap_min
    limit, unit = TBS_ENVELOPE["tbs.session_gap"]
    return SafetyCheck.of(
        RULES["tbs.session_gap"], "gap between sessions", gap_min, limit, unit, bound="min"
    )


def ceiling_check(protocol: Protocol) -> SafetyCheck | None:
    """Check the protocol's own theta-burst intensity ceiling against the tmstarget policy.

    Return None when the ceiling is not raised.

    A ceiling above :data:`~tmstarget.protocol.rules.TBS_DEFAULT_MAX_PCT_RMT` (``--max-pct-rmt``)
    opens a gate: it is a refusal of its own, so raising the ceiling needs ``--force`` and is then
    recorded as forced, whatever intensity is given under it. A lower ceiling only makes the check
    stricter.
    """
    if (
        not protocol.is_tbs
        or protocol.max_pct_rmt is None
        or protocol.max_pct_rmt <= TBS_DEFAULT_MAX_PCT_RMT
    ):
        return None
    return SafetyCheck.of(
        RULES["tbs.intensity"],
        "theta-burst intensity ceiling",
        protocol.max_pct_rmt,
        TBS_DEFAULT_MAX_PCT_RMT,
        "% of measured RMT",
    )


def _tbs_checks(protocol: Protocol, pct: float) -> list[SafetyCheck]:
    ceiling = protocol.max_pct_rmt if protocol.max_pct_rmt is not None else TBS_DEFAULT_MAX_PCT_RMT
    rule = RULES["tbs.intensity"]
    source = (
        rule.source
        if protocol.max_pct_rmt is None
        else f"set to {ceiling:g}% by the protocol; {rule.source}"
    )
    checks = [SafetyCheck.of(rule, "intensity", pct, ceiling, "% of measured RMT", source=source)]
    raised = ceiling_check(protocol)
    if raised is not None:
        checks.append(raised)
    checks.append(
        SafetyCheck.of(
            RULES["tbs.pattern"], "pulses per burst", protocol.pulses_per_burst, 3, "pulses"
        )
    )
    checks.append(
        SafetyCheck.of(
            RULES["tbs.pattern"], "intra-burst frequency", protocol.frequency_hz, 50, "Hz"
        )
    )
    checks.append(
        SafetyCheck.of(
            RULES["tbs.pattern"], "burst frequency", protocol.burst_frequency_hz or 0.0, 5, "Hz"
        )
    )
    values = {
        "tbs.pulses_per_session": ("pulses per session", protocol.pulses_per_session),
        "tbs.pulses_per_day": ("pulses per day", protocol.pulses_per_day),
        "tbs.sessions_per_day": ("sessions per day", protocol.sessions_per_day),
    }
    for key, (name, value) in values.items():
        limit, unit = TBS_ENVELOPE[key]
        checks.append(SafetyCheck.of(RULES[key], name, value, limit, unit))
    return checks


def safety_problem(what: str, checks: tuple[SafetyCheck, ...] | list[SafetyCheck]) -> str:
    """Return the refusal message for failed checks.

    It gives each rule, value, limit and source, and how to proceed.
    """
    reasons = "; ".join(c.describe() for c in checks)
    return (
        f"{what} refused: {reasons} — change the dose or "
        "protocol so every rule holds (check RMT and depths), "
        "or add --force to override (recorded as forced "
        "in every output; research use, your responsibility)"
    )


def raised_limit_problem(option: str, check: SafetyCheck, fix: str) -> str:
    """Return the refusal of an option that moves a safety limit.

    It names the option, the limit, its basis and source, and the fix.

    Parameters
    ----------
    option : str
        The option as typed, e.g. ``--max-pct-rmt 250``.
    check : SafetyCheck
        The failed check of the limit the option moves (its value is the option's).
    fix : str
        How to stay within the limit, e.g. ``use --max-pct-rmt 120 or less``.
    """
    bound = "above" if check.bound == "max" else "below"
    return (
        f"{option} moves the {check.name} {bound} {check.limit:g} "
        f"{check.unit}, {BASIS_WORDS[check.basis]} "
        f"[rule {check.rule}: {check.source}] — {fix}, or add --force to override it "
        "(recorded as forced in every output; research use, your responsibility)"
    )


def check_safety(
    protocol: Protocol,
    pct_of_measured_rmt: float,
    *,
    gap_min: float | None = None,
    force: bool = False,
    options: dict[str, str] | None = None,
) -> SafetyReport:
    """Check a protocol at a given intensity against every rule that applies to it.

    Parameters
    ----------
    protocol : Protocol
        The protocol to deliver (its trains, sessions per day, minimum gap and intensity ceiling).
    pct_of_measured_rmt : float
        Stimulator setting as % of the measured resting motor threshold (see
        :attr:`Dose.pct_of_measured_rmt`).
    gap_min : float, optional
        Planned minutes from the end of one session to the start of the next (default: the
        protocol's).
    force : bool
        Return the report with its refusals instead of raising (the override is logged and
        recorded).
    options : dict, optional
        Check name -> the option(s) that set its value (e.g. ``{"sessions per day":
        "--sessions-per-day"}``), named
        in refusals so the user knows which option to change or --force.

    Returns
    -------
    SafetyReport
        Every check with its rule, limit, basis and source.

    Raises
    ------
    SafetyError
        When a ``refuse`` rule fails and ``force`` is False; the message names each rule, limit and
        source.
    """
    pct = float(pct_of_measured_rmt)
    checks = _tbs_checks(protocol, pct) if protocol.is_tbs else _rtms_checks(protocol, pct)
    gap = check_gap(protocol, gap_min)
    if gap is not None:
        checks.append(gap)
    if options:
        checks = [replace(c, option=options[c.name]) if c.name in options else c for c in checks]
    report = SafetyReport(protocol.key, pct, tuple(checks), force=bool(force))
    if report.refusals:
        if not force:
            raise SafetyError(
                safety_problem(f"{protocol.key} at {pct:.0f}% of measured RMT", report.refusals)
            )
        logger.warning(
            "safety limit overridden with --force: %s",
            "; ".join(c.describe() for c in report.refusals),
        )
    for check in report.warnings:
        logger.warning("safety note: %s", check.describe())
    return report
