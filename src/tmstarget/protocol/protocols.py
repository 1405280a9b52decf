"""Stimulation protocols as data, with their references; every derived number is computed.

A :class:`Protocol` holds only what a paper states (pattern, train timing, trains per session,
sessions per day, treatment days, intensity); pulses per train/session/day/course and the session
duration are properties computed from those, so a typo cannot make them disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..exceptions import InputError

__all__ = ["INTERVAL_BASES", "PROTOCOLS", "Protocol", "get_protocol"]

_KINDS = ("itbs", "ctbs", "rtms")
#: How an interval between two sessions on one day is measured.
INTERVAL_BASES = ("end_to_start", "start_to_start")


def _whole(value: float, what: str, key: str) -> int:
    """Return ``value`` as an int, or raise if the protocol's numbers do not give a whole count."""
    nearest = round(value)
    if nearest < 1 or not math.isclose(value, nearest, rel_tol=0.0, abs_tol=1e-9):
        raise InputError(
            f"protocol {key!r}: {what} = {value:g} is not a whole positive number — "
            "make the train duration a multiple of the burst (TBS) or pulse (rTMS) period"
        )
    return int(nearest)


@dataclass(frozen=True)
class Protocol:
    """One stimulation protocol as published.

    Parameters
    ----------
    key : str
        Short name used on the command line (``saint``, ``itbs``, ...).
    name : str
        Human-readable name.
    kind : {"itbs", "ctbs", "rtms"}
        Theta-burst (intermittent or continuous) or conventional repetitive TMS.
    frequency_hz : float
        Pulse rate inside a burst (TBS, 50 Hz) or inside a train (rTMS).
    pulses_per_burst : int
        3 for theta burst, 1 for conventional rTMS.
    burst_frequency_hz : float or None
        Bursts per second for TBS (5 Hz, theta); ``None`` for rTMS.
    train_duration_s : float
        Stimulation on-time of one train, s.
    inter_train_interval_s : float
        Pause between trains, s (0 for one continuous train).
    trains_per_session, sessions_per_day, treatment_days : int
        Counts as published.
    min_interval_min : float or None
        Minimum time between two sessions on the same day, minutes, measured as ``interval_basis``
        says.
    intensity_pct_rmt : float
        Intensity as % of resting motor threshold.
    depth_corrected : bool
        Whether the published intensity is relative to the depth-adjusted motor threshold.
    consecutive_days : bool
        Whether the treatment days were consecutive in the trial.
    target : str
        Stimulation site.
    references : tuple of str
        Where the numbers come from.
    notes : str
        Caveats (e.g. which numbers are a configuration rather than one trial's protocol).
    interval_basis : {"end_to_start", "start_to_start"}
        Whether ``min_interval_min`` runs from the end of one session (a rest) or from its start.
    max_pct_rmt : float or None
        Theta-burst intensity ceiling in % of measured RMT, a tmstarget policy (None = the default,
        120%; see :data:`tmstarget.protocol.rules.RULES`).
    """

    key: str
    name: str
    kind: str
    frequency_hz: float
    pulses_per_burst: int
    burst_frequency_hz: float | None
    train_duration_s: float
    inter_train_interval_s: float
    trains_per_session: int
    sessions_per_day: int
    treatment_days: int
    min_interval_min: float | None
    intensity_pct_rmt: float
    depth_corrected: bool
    consecutive_days: bool
    target: str
    references: tuple[str, ...]
    notes: str = ""
    interval_basis: str = "end_to_start"
    max_pct_rmt: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InputError(
                f"protocol {self.key!r}: kind {self.kind!r} "
                f"is unknown — use one of {', '.join(_KINDS)}"
            )
        positive = {
            "frequency_hz": self.frequency_hz,
            "train_duration_s": self.train_duration_s,
            "trains_per_session": self.trains_per_session,
            "sessions_per_day": self.sessions_per_day,
            "treatment_days": self.treatment_days,
            "intensity_pct_rmt": self.intensity_pct_rmt,
        }
        for field, value in positive.items():
            if not value > 0:
                raise InputError(
                    f"protocol {self.key!r}: {field} = {value} "
                    "must be > 0 — fix the protocol definition"
                )
        if self.interval_basis not in INTERVAL_BASES:
            raise InputError(
                f"protocol {self.key!r}: interval basis {self.interval_basis!r} is unknown — "
                f"use one of {', '.join(INTERVAL_BASES)}"
            )
        for field, value in (
            ("min_interval_min", self.min_interval_min),
            ("max_pct_rmt", self.max_pct_rmt),
        ):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(
                    f"protocol {self.key!r}: {field} = {value} "
                    "must be > 0 — fix the protocol definition"
                )
        if self.inter_train_interval_s < 0:
            raise InputError(
                f"protocol {self.key!r}: inter_train_interval_s "
                "must be >= 0 — fix the protocol definition"
            )
        if self.is_tbs:
            if not self.burst_frequency_hz or self.burst_frequency_hz <= 0:
                raise InputError(
                    f"protocol {self.key!r}: theta burst needs burst_frequency_hz > 0 — e.g. 5 Hz"
                )
            burst_span_s = (self.pulses_per_burst - 1) / self.frequency_hz
            if burst_span_s >= 1.0 / self.burst_frequency_hz:
                raise InputError(
                    f"protocol {self.key!r}: bursts overlap — "
                    "lower pulses_per_burst or raise frequency_hz"
                )
        elif self.pulses_per_burst != 1:
            raise InputError(
                f"protocol {self.key!r}: conventional rTMS "
                "has 1 pulse per burst — set pulses_per_burst=1"
            )
        self.pulses_per_train  # noqa: B018 - validates that the counts are whole

    @property
    def is_tbs(self) -> bool:
        """True for theta-burst protocols."""
        return self.kind in ("itbs", "ctbs")

    @property
    def bursts_per_train(self) -> int:
        """Bursts in one train (TBS), or pulses in one train (rTMS).

        In rTMS each pulse is its own burst.
        """
        rate = self.burst_frequency_hz if self.is_tbs else self.frequency_hz
        return _whole(self.train_duration_s * rate, "bursts per train", self.key)

    @property
    def pulses_per_train(self) -> int:
        """Pulses in one train."""
        return self.bursts_per_train * self.pulses_per_burst

    @property
    def pulses_per_session(self) -> int:
        """Pulses in one session."""
        return self.trains_per_session * self.pulses_per_train

    @property
    def session_duration_s(self) -> float:
        """Train on-times plus the pauses between them, s (no pause after the last train)."""
        n = self.trains_per_session
        return n * self.train_duration_s + (n - 1) * self.inter_train_interval_s

    @property
    def min_gap_min(self) -> float:
        """Minimum rest from the end of one session to the start of the next on one day, minutes."""
        if self.min_interval_min is None:
            return 0.0
        if self.interval_basis == "end_to_start":
            return float(self.min_interval_min)
        return max(0.0, self.min_interval_min - self.session_duration_s / 60.0)

    @property
    def min_start_to_start_min(self) -> float:
        """Minimum time in minutes between the starts of two sessions on one day.

        It is never shorter than a session.
        """
        duration_min = self.session_duration_s / 60.0
        if self.min_interval_min is None:
            return duration_min
        if self.interval_basis == "end_to_start":
            return duration_min + self.min_interval_min
        return max(duration_min, float(self.min_interval_min))

    @property
    def sessions_per_course(self) -> int:
        """Sessions in the whole course."""
        return self.sessions_per_day * self.treatment_days

    @property
    def pulses_per_day(self) -> int:
        """Pulses on one treatment day."""
        return self.sessions_per_day * self.pulses_per_session

    @property
    def pulses_per_course(self) -> int:
        """Pulses in the whole course."""
        return self.treatment_days * self.pulses_per_day

    def to_dict(self) -> dict[str, Any]:
        """Stated and derived numbers as a JSON-ready dict."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "frequency_hz": self.frequency_hz,
            "pulses_per_burst": self.pulses_per_burst,
            "burst_frequency_hz": self.burst_frequency_hz,
            "train_duration_s": self.train_duration_s,
            "inter_train_interval_s": self.inter_train_interval_s,
            "trains_per_session": self.trains_per_session,
            "sessions_per_day": self.sessions_per_day,
            "treatment_days": self.treatment_days,
            "min_interval_min": self.min_interval_min,
            "interval_basis": self.interval_basis,
            "max_pct_rmt": self.max_pct_rmt,
            "intensity_pct_rmt": self.intensity_pct_rmt,
            "depth_corrected": self.depth_corrected,
            "consecutive_days": self.consecutive_days,
            "target": self.target,
            "derived": {
                "bursts_per_train": self.bursts_per_train,
                "pulses_per_train": self.pulses_per_train,
                "pulses_per_session": self.pulses_per_session,
                "session_duration_s": self.session_duration_s,
                "min_gap_min": round(self.min_gap_min, 3),
                "min_start_to_start_min": round(self.min_start_to_start_min, 3),
                "sessions_per_course": self.sessions_per_course,
                "pulses_per_day": self.pulses_per_day,
                "pulses_per_course": self.pulses_per_course,
            },
            "references": list(self.references),
            "notes": self.notes,
        }


_HUANG_2005 = (
    "Huang YZ et al. Theta burst stimulation of the human motor cortex. Neuron 2005;45:201-206. "
    "doi:10.1016/j.neuron.2004.12.033"
)
_COLE_2020 = (
    "Cole EJ et al. Stanford Accelerated Intelligent "
    "Neuromodulation Therapy for treatment-resistant "
    "depression. "
    "Am J Psychiatry 2020;177:716-726. doi:10.1176/appi.ajp.2019.19070720"
)
_COLE_2022 = (
    "Cole EJ et al. Stanford Neuromodulation Therapy "
    "(SNT): a double-blind randomized controlled trial. "
    "Am J Psychiatry 2022;179:132-141. doi:10.1176/appi.ajp.2021.20101429"
)
_BLUMBERGER_2018 = (
    "Blumberger DM et al. Effectiveness of theta burst "
    "versus high-frequency repetitive transcranial magnetic "
    "stimulation in patients with depression (THREE-D). "
    "Lancet 2018;391:1683-1692. doi:10.1016/S0140-6736(18)30295-2"
)
_OREARDON_2007 = (
    "O'Reardon JP et al. Efficacy and safety of transcranial "
    "magnetic stimulation in the acute treatment of major "
    "depression: a multisite randomized controlled trial. Biol Psychiatry 2007;62:1208-1216. "
    "doi:10.1016/j.biopsych.2007.01.018"
)
_FITZGERALD_2009 = (
    "Fitzgerald PB et al. A randomized trial of the anti-depressant "
    "effects of low- and high-frequency transcranial "
    "magnetic stimulation in treatment-resistant depression. "
    "Depress Anxiety 2009;26:229-234. doi:10.1002/da.20454"
)

#: Theta burst: bursts of 3 pulses at 50 Hz repeated at 5 Hz (Huang et al. 2005).
_THETA_BURST: dict[str, Any] = {
    "frequency_hz": 50.0,
    "pulses_per_burst": 3,
    "burst_frequency_hz": 5.0,
}
#: Intermittent theta burst: 2 s trains every 10 s.
_ITBS: dict[str, Any] = {
    "kind": "itbs",
    **_THETA_BURST,
    "train_duration_s": 2.0,
    "inter_train_interval_s": 8.0,
}
#: Conventional rTMS: single pulses.
_RTMS: dict[str, Any] = {"kind": "rtms", "pulses_per_burst": 1, "burst_frequency_hz": None}
#: One session a day on clinic days, intensity relative to the measured RMT.
_DAILY: dict[str, Any] = {
    "sessions_per_day": 1,
    "min_interval_min": None,
    "depth_corrected": False,
    "consecutive_days": False,
}

#: Built-in protocols, by key.
PROTOCOLS: dict[str, Protocol] = {
    p.key: p
    for p in (
        Protocol(
            key="saint",
            name="SAINT/SNT accelerated iTBS",
            **_ITBS,
            trains_per_session=60,
            sessions_per_day=10,
            treatment_days=5,
            min_interval_min=50.0,
            intensity_pct_rmt=90.0,
            depth_corrected=True,
            consecutive_days=True,
            target="left DLPFC, individual fcMRI target most anticorrelated with the sgACC",
            references=(_COLE_2020, _COLE_2022, _HUANG_2005),
            notes="1800 pulses a session, 10 sessions a day with "
            "a 50-minute intersession interval (read as 50 "
            "min "
            "of rest from the end of one session to the start "
            "of the next, i.e. sessions hourly), 5 consecutive "
            "days, 90% RMT adjusted for cortical depth.",
            interval_basis="end_to_start",
        ),
        Protocol(
            key="itbs",
            name="Standard iTBS (THREE-D)",
            **_ITBS,
            **_DAILY,
            trains_per_session=20,
            treatment_days=30,
            intensity_pct_rmt=120.0,
            target="left DLPFC",
            references=(_BLUMBERGER_2018, _HUANG_2005),
            notes="600 pulses at 120% RMT, once a day on weekdays; "
            "THREE-D gave 20-30 sessions (30 here).",
        ),
        Protocol(
            key="rtms10",
            name="10 Hz rTMS",
            **_RTMS,
            **_DAILY,
            frequency_hz=10.0,
            train_duration_s=4.0,
            inter_train_interval_s=26.0,
            trains_per_session=75,
            treatment_days=30,
            intensity_pct_rmt=120.0,
            target="left DLPFC",
            references=(_OREARDON_2007, _BLUMBERGER_2018),
            notes="3000 pulses in 4 s trains with 26 s pauses at "
            "120% RMT, once a day on weekdays for 6 weeks.",
        ),
        Protocol(
            key="rtms1",
            name="1 Hz right DLPFC rTMS",
            **_RTMS,
            **_DAILY,
            frequency_hz=1.0,
            train_duration_s=180.0,
            inter_train_interval_s=30.0,
            trains_per_session=4,
            treatment_days=15,
            intensity_pct_rmt=110.0,
            target="right DLPFC",
            references=(_FITZGERALD_2009,),
            notes="Four 180 s trains with 30 s pauses at 110% RMT on weekdays for 3 weeks "
            "(the trial allowed a 4th week).",
        ),
        Protocol(
            key="ctbs",
            name="Continuous theta burst (cTBS600)",
            kind="ctbs",
            **_THETA_BURST,
            **_DAILY,
            train_duration_s=40.0,
            inter_train_interval_s=0.0,
            trains_per_session=1,
            treatment_days=20,
            intensity_pct_rmt=80.0,
            target="right DLPFC",
            references=(_HUANG_2005,),
            notes="Pattern from Huang 2005 (40 s, 600 pulses). "
            "Huang dosed at 80% of ACTIVE motor threshold; "
            "tmstarget doses against resting MT, so check "
            "the intensity, and the 20-day course is a placeholder: "
            "set both to your trial's protocol.",
        ),
    )
}


def get_protocol(key: str) -> Protocol:
    """Return the built-in protocol named ``key``.

    Raises
    ------
    InputError
        If no protocol has that name.
    """
    try:
        return PROTOCOLS[key.strip().lower()]
    except KeyError:
        raise InputError(f"unknown protocol {key!r} — use one of {', '.join(PROTOCOLS)}") from None
