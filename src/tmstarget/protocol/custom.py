"""Protocols defined on the command line (``tmstarget protocol --protocol custom ...``).

They are :class:`~tmstarget.protocol.protocols.Protocol` objects like the built-in ones, so every
derived number and every safety rule applies to them unchanged.
"""

from __future__ import annotations

import math

from ..exceptions import InputError
from .protocols import Protocol

__all__ = [
    "CUSTOM_OPTIONS",
    "CUSTOM_RANGES",
    "check_options",
    "custom_protocol",
    "resolve_protocol",
]

#: The range each number of a custom protocol must lie in: parameter -> (option, low, high, low
#: inclusive, whole number, unit). These are plausibility ranges of the input (a stimulator, a
#: clock, a course), wider than the safety rules, which still apply inside them (and can only be
#: overridden with --force); they keep every derived number (pulses, durations, intervals) finite.
CUSTOM_RANGES: dict[str, tuple[str, float, float, bool, bool, str]] = {
    "frequency_hz": ("--frequency-hz", 0.0, 1000.0, False, False, "Hz"),
    "train_duration_s": ("--train-s", 0.0, 3600.0, False, False, "s"),
    "trains_per_session": ("--trains", 1, 10_000, True, True, "trains"),
    "intensity_pct_rmt": ("--intensity-pct-rmt", 0.0, 200.0, False, False, "% RMT"),
    "inter_train_interval_s": ("--iti-s", 0.0, 3600.0, True, False, "s"),
    "pulses_per_burst": ("--pulses-per-burst", 1, 10, True, True, "pulses"),
    "burst_frequency_hz": ("--burst-frequency-hz", 0.0, 100.0, False, False, "Hz"),
    "sessions_per_day": ("--sessions-per-day", 1, 48, True, True, "sessions"),
    "treatment_days": ("--days", 1, 365, True, True, "days"),
    "min_interval_min": ("--min-interval-min", 0.0, 1440.0, False, False, "min"),
    "max_pct_rmt": ("--max-pct-rmt", 0.0, 200.0, False, False, "% of measured RMT"),
}


def _check_range(name: str, value: float | int | None) -> None:
    """Refuse a number outside :data:`CUSTOM_RANGES`.

    A number that is not finite, or not whole where a count is needed, is refused too.
    """
    if value is None:
        return
    option, low, high, inclusive, whole, unit = CUSTOM_RANGES[name]
    shown = f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}"
    need = (
        f"a whole number from {low:g} to {high:g}"
        if whole
        else (f"a number {'>=' if inclusive else '>'} {low:g} and <= {high:g}")
    )
    number = float(value)
    is_whole = isinstance(value, int) or (math.isfinite(number) and number.is_integer())
    inside = (
        math.isfinite(number) and (low <= number if inclusive else low < number) and number <= high
    )
    if not inside or (whole and not is_whole):
        raise InputError(
            f"custom protocol: {shown} is outside tmstarget's "
            f"input range (not a safety limit) — give {need} "
            f"({unit})"
        )


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
    """Build a protocol given on the command line, validated and checked like the built-in ones.

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
        Default: theta burst when a burst pattern is given (``ctbs`` for one train, else ``itbs``),
        else rTMS.
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
        For a number outside its range (:data:`CUSTOM_RANGES`; never NaN or infinite), a missing or
        zero pause between trains, an unknown kind or numbers that do not make whole trains.
    """
    numbers = {
        "frequency_hz": frequency_hz,
        "train_duration_s": train_duration_s,
        "trains_per_session": trains_per_session,
        "intensity_pct_rmt": intensity_pct_rmt,
        "inter_train_interval_s": inter_train_interval_s,
        "pulses_per_burst": pulses_per_burst,
        "burst_frequency_hz": burst_frequency_hz,
        "sessions_per_day": sessions_per_day,
        "treatment_days": treatment_days,
        "min_interval_min": min_interval_min,
        "max_pct_rmt": max_pct_rmt,
    }
    for name, value in numbers.items():
        _check_range(name, value)
    bursts = pulses_per_burst is not None or burst_frequency_hz is not None
    if kind is None:
        kind = ("ctbs" if trains_per_session == 1 else "itbs") if bursts else "rtms"
    tbs = kind in ("itbs", "ctbs")
    if tbs and (pulses_per_burst is None or burst_frequency_hz is None):
        raise InputError(
            "theta burst needs its burst pattern — give --pulses-per-burst "
            "(e.g. 3) and --burst-frequency-hz (e.g. 5)"
        )
    if not tbs and bursts:
        raise InputError(
            "a burst pattern was given for conventional rTMS — drop it or use --kind itbs/ctbs"
        )
    if sessions_per_day > 1 and min_interval_min is None:
        raise InputError(
            f"{sessions_per_day} sessions a day need the interval "
            "between them — add --min-interval-min MINUTES "
            "(and --interval-basis; default end-to-start, i.e. rest after a session)"
        )
    if inter_train_interval_s is None:
        if trains_per_session > 1:
            raise InputError(
                f"{trains_per_session} trains need the pause between them — add --iti-s SECONDS"
            )
        inter_train_interval_s = 0.0
    elif trains_per_session > 1 and inter_train_interval_s == 0:
        raise InputError(
            f"--iti-s 0 joins the {trains_per_session} trains into one train of "
            f"{trains_per_session * train_duration_s:g} s, "
            "which the train-duration rules would not see "
            "— give the "
            "pause between trains (> 0 s), or describe one train (--trains 1 --train-s SECONDS)"
        )
    return Protocol(
        key="custom",
        name=f"Custom {'theta burst' if tbs else f'{frequency_hz:g} Hz rTMS'} ({kind})",
        kind=kind,
        frequency_hz=float(frequency_hz),
        pulses_per_burst=int(pulses_per_burst) if tbs and pulses_per_burst is not None else 1,
        burst_frequency_hz=float(burst_frequency_hz)
        if tbs and burst_frequency_hz is not None
        else None,
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
        references=(
            "custom protocol given on the command line: no "
            "published source; checked against the rules",
        ),
        notes="Defined on the command line; every safety rule "
        "applies as to the built-in protocols.",
        interval_basis=interval_basis,
        max_pct_rmt=max_pct_rmt,
    )


#: The numbers of a custom protocol, by option name (``--frequency-hz`` is ``frequency_hz``), as
#: :func:`resolve_protocol` takes them.
CUSTOM_OPTIONS = (
    "frequency_hz",
    "train_s",
    "iti_s",
    "trains",
    "kind",
    "pulses_per_burst",
    "burst_frequency_hz",
)

#: Safety check name -> the custom-protocol option(s) that set its value (named in refusals).
_CUSTOM_CHECK_OPTIONS = {
    "frequency": "--frequency-hz",
    "intra-burst frequency": "--frequency-hz",
    "burst frequency": "--burst-frequency-hz",
    "pulses per burst": "--pulses-per-burst",
    "train duration": "--train-s",
    "inter-train interval": "--iti-s",
    "inter-train interval (tested)": "--iti-s",
    "pulses per session": "--trains, --train-s",
    "sessions per day": "--sessions-per-day",
    "pulses per day": "--sessions-per-day, --trains, --train-s",
    "gap between sessions": "--min-interval-min",
}


def _option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def resolve_protocol(
    key: str,
    custom: dict | None = None,
    *,
    sessions_per_day: int = 1,
    days: int = 1,
    intensity_pct_rmt: float | None = None,
    min_interval_min: float | None = None,
    interval_basis: str | None = None,
    max_pct_rmt: float | None = None,
    force: bool = False,
) -> Protocol:
    """Return the built-in protocol ``key``, or the custom one built from ``custom``.

    ``max_pct_rmt`` is applied to either.

    Parameters
    ----------
    key : str
        A key of :data:`~tmstarget.protocol.PROTOCOLS`, or ``"custom"``.
    custom : dict, optional
        With ``"custom"``: numbers by option name (:data:`CUSTOM_OPTIONS`); ``frequency_hz``,
        ``train_s``, ``trains`` and ``intensity_pct_rmt`` are required. Refused with a built-in
        protocol.
    sessions_per_day, days : int
        Custom protocol layout (other values than 1 are refused with a built-in protocol).
    intensity_pct_rmt, min_interval_min, interval_basis
        Custom protocol's intensity and rest between sessions (``interval_basis`` default
        ``"end-to-start"``).
    max_pct_rmt : float, optional
        Theta-burst ceiling (% of measured RMT); refused for conventional rTMS, and above 120 unless
        ``force``.
    force : bool
        Accept a raised ceiling (it then fails the safety report, so the course is recorded as
        forced).

    Returns
    -------
    Protocol

    Raises
    ------
    InputError, SafetyError
    """
    import dataclasses

    from ..exceptions import SafetyError
    from .protocols import get_protocol
    from .rules import TBS_DEFAULT_MAX_PCT_RMT
    from .safety import ceiling_check, raised_limit_problem

    custom = {k: v for k, v in (custom or {}).items() if v is not None}
    unknown = sorted(set(custom) - set(CUSTOM_OPTIONS))
    if unknown:
        raise InputError(
            f"unknown custom-protocol numbers {', '.join(unknown)} "
            f"— use {', '.join(CUSTOM_OPTIONS)}"
        )
    given = [_option(o) for o in CUSTOM_OPTIONS if o in custom]
    layout = [
        _option(o) for o, v in (("sessions_per_day", sessions_per_day), ("days", days)) if v != 1
    ]
    if key != "custom":
        if given or layout:
            raise InputError(
                f"{', '.join(given + layout)} only apply to --protocol custom — drop them or use it"
            )
        protocol = get_protocol(key)
    else:
        need = {
            "--frequency-hz": custom.get("frequency_hz"),
            "--train-s": custom.get("train_s"),
            "--trains": custom.get("trains"),
            "--intensity-pct-rmt": intensity_pct_rmt,
        }
        missing = [k for k, v in need.items() if v is None]
        if missing:
            raise InputError(
                f"--protocol custom needs {', '.join(missing)} — give every number of the protocol"
            )
        protocol = custom_protocol(
            frequency_hz=custom["frequency_hz"],
            train_duration_s=custom["train_s"],
            trains_per_session=custom["trains"],
            intensity_pct_rmt=intensity_pct_rmt,
            inter_train_interval_s=custom.get("iti_s"),
            kind=custom.get("kind"),
            pulses_per_burst=custom.get("pulses_per_burst"),
            burst_frequency_hz=custom.get("burst_frequency_hz"),
            sessions_per_day=sessions_per_day,
            treatment_days=days,
            min_interval_min=min_interval_min,
            interval_basis=(interval_basis or "end-to-start").replace("-", "_"),
        )
    if max_pct_rmt is not None:
        if not protocol.is_tbs:
            raise InputError(
                "--max-pct-rmt sets the theta-burst policy "
                "ceiling — conventional rTMS is limited by "
                "the "
                "consensus single-train table; drop --max-pct-rmt"
            )
        protocol = dataclasses.replace(protocol, max_pct_rmt=max_pct_rmt)
    # an option that moves a safety limit is a gate of its own: refused without force, naming the
    # option; with force it goes on to the safety report as a failed check, so the course is
    # recorded as forced
    check = ceiling_check(protocol)
    if check is not None and not force:
        raise SafetyError(
            raised_limit_problem(
                f"--max-pct-rmt {max_pct_rmt:g}",
                check,
                f"use --max-pct-rmt {TBS_DEFAULT_MAX_PCT_RMT:g} or less",
            )
        )
    return protocol


def check_options(
    custom: bool,
    *,
    min_interval_min: float | None = None,
    interval_basis: str | None = None,
    rmt: float | None = None,
    intensity_pct_rmt: float | None = None,
    target_depth_mm: float | None = None,
    max_pct_rmt: float | None = None,
) -> dict[str, str]:
    """Return which options set the value of each safety check.

    Only options that were given are named, plus a custom protocol's own.

    The result is :func:`~tmstarget.protocol.check_safety`'s ``options``: a refusal names the option
    to change.
    """
    options = dict(_CUSTOM_CHECK_OPTIONS) if custom else {}
    if min_interval_min is not None or interval_basis is not None:
        options["gap between sessions"] = "--min-interval-min, --interval-basis"
    given = [
        o for o, v in (("--rmt", rmt), ("--intensity-pct-rmt", intensity_pct_rmt)) if v is not None
    ]
    if target_depth_mm is not None:
        given.append("depth correction")
    if given:
        options["intensity"] = ", ".join(given)
    if max_pct_rmt is not None:
        options["theta-burst intensity ceiling"] = "--max-pct-rmt"
    return options
