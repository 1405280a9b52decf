"""Protocols defined on the command line (``tmstarget protocol --protocol custom ...``).

They are :class:`~tmstarget.protocol.protocols.Protocol` objects like the built-in ones, so every
derived number and every safety rule applies to them unchanged.
"""

from __future__ import annotations

from ..exceptions import InputError
from .protocols import Protocol

__all__ = ["custom_protocol"]


def custom_protocol(
    *,
    frequency_hz: float,
    train_duration_s: float,
    trains_per_session: int,
    intensity_pct_rmt: float,
    inter_train_interval_s: float | None = None,
    kind: str | None = None,
    pulses_per_burst: int | None = None,
    burst_frequency_hz: float | None = None,
    sessions_per_day: int = 1,
    treatment_days: int = 1,
    min_interval_min: float | None = None,
    interval_basis: str = "end_to_start",
    max_pct_rmt: float | None = None,
    target: str = "as planned by the clinic",
) -> Protocol:
    """A protocol given on the command line, validated and checked like the built-in ones.

    Parameters
    ----------
    frequency_hz : float
        Pulse rate in a train (rTMS) or inside a burst (theta burst, usually 50 Hz).
    train_duration_s : float
        On-time of one train, s.
    trains_per_session : int
        Trains in a session.
    intensity_pct_rmt : float
        Intensity, % of resting motor threshold.
    inter_train_interval_s : float, optional
        Pause between trains, s; required when there is more than one train.
    kind : {"rtms", "itbs", "ctbs"}, optional
        Default: theta burst when a burst pattern is given (``ctbs`` for one train, else ``itbs``), else rTMS.
    pulses_per_burst, burst_frequency_hz : optional
        The burst pattern of theta burst (e.g. 3 pulses, 5 Hz).
    sessions_per_day, treatment_days : int
        Course layout (default one session on one day).
    min_interval_min : float, optional
        Minimum interval between sessions on a day, measured per ``interval_basis``.
    interval_basis : {"end_to_start", "start_to_start"}
        How ``min_interval_min`` is measured.
    max_pct_rmt : float, optional
        Theta-burst intensity ceiling (tmstarget policy; default 120% of measured RMT).
    target : str
        Stimulation site, as text.

    Raises
    ------
    InputError
        For a missing pause, an unknown kind or numbers that do not make whole trains.
    """
    bursts = pulses_per_burst is not None or burst_frequency_hz is not None
    if kind is None:
        kind = ("ctbs" if trains_per_session == 1 else "itbs") if bursts else "rtms"
    tbs = kind in ("itbs", "ctbs")
    if tbs and (pulses_per_burst is None or burst_frequency_hz is None):
        raise InputError(
            "theta burst needs its burst pattern — give --pulses-per-burst (e.g. 3) and --burst-frequency-hz (e.g. 5)"
        )
    if not tbs and bursts:
        raise InputError("a burst pattern was given for conventional rTMS — drop it or use --kind itbs/ctbs")
    if sessions_per_day > 1 and min_interval_min is None:
        raise InputError(
            f"{sessions_per_day} sessions a day need the interval between them — add --min-interval-min MINUTES "
            "(and --interval-basis; default end-to-start, i.e. rest after a session)"
        )
    if inter_train_interval_s is None:
        if trains_per_session > 1:
            raise InputError(f"{trains_per_session} trains need the pause between them — add --iti-s SECONDS")
        inter_train_interval_s = 0.0
    return Protocol(
        key="custom",
        name=f"Custom {'theta burst' if tbs else f'{frequency_hz:g} Hz rTMS'} ({kind})",
        kind=kind,
        frequency_hz=float(frequency_hz),
        pulses_per_burst=int(pulses_per_burst) if tbs and pulses_per_burst is not None else 1,
        burst_frequency_hz=float(burst_frequency_hz) if tbs and burst_frequency_hz is not None else None,
        train_duration_s=float(train_duration_s),
        inter_train_interval_s=float(inter_train_interval_s),
        trains_per_session=int(trains_per_session),
        sessions_per_day=int(sessions_per_day),
        treatment_days=int(treatment_days),
        min_interval_min=min_interval_min,
        intensity_pct_rmt=float(intensity_pct_rmt),
        depth_corrected=False,
        consecutive_days=False,
        target=target,
        references=("custom protocol given on the command line: no published source; checked against the rules",),
        notes="Defined on the command line; every safety rule applies as to the built-in protocols.",
        interval_basis=interval_basis,
        max_pct_rmt=max_pct_rmt,
    )
