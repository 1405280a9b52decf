"""The scan plan: how many minutes of single- or multi-echo data a reliable target needs.

Answered *before* a scan from a calibration table made on the calibrated simulator
(``benchmarks/multiecho.py``, shipped as ``tmstarget/data/scanplan_calibration.json``): for each
circuit, method and arm (``single``, ``multi``) it holds, per simulated session, the drift-aware 95%
radius of the verdict (``reliability_verdict.radius_mm`` of ``tmstarget target``) at the first
5, 10, 20 and 40 minutes of that session (one trajectory per session).

**From the simulator alone.** At each simulated length the ``p`` quantile of the sessions' radii
(``inverted_cdf``: the smallest radius that at least a share ``p`` of them reach) is compared with
:data:`RELIABLE_RADIUS_MM`; between two lengths the quantile is interpolated linearly in log radius
against log minutes (a power law between neighbouring lengths, as ``radius ~ 1/√minutes`` is
locally). The plan is the first length from which the quantile stays within the radius, and never
less than the single-run floor of the verdict (:data:`MIN_SINGLE_RUN_MINUTES`). When the quantile is
still above the radius at the longest simulated length the plan says "more than" that length; it
never extrapolates beyond the table.

**Updated from a pilot.** A pilot target JSON gives one radius ``r0`` after ``m0`` minutes in one
arm (multi-echo when it has a ``multi_echo`` block). Each simulated session of that arm has a radius
at ``m0`` (its trajectory interpolated as above; clamped to the table's lengths). The pilot is
placed in that distribution (its percentile is reported) and the ``k`` simulated sessions whose
radius at ``m0`` is closest to ``r0`` (in log radius; ``k`` = a quarter of the sessions, at least
5) stand for the participant: the plan for each arm follows *their* trajectories, in the arm of the
pilot and, through the same simulated participants and session numbers, in the other arm.
Assumption: a participant keeps their place among the simulated participants at longer scans and in
the other arm (what makes one session's radius large — motion, a weak or double-peaked circuit — is
a property of the person and persists), and the calibrated simulator's spread of radii is that of
real participants.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..targeting.uncertainty.summaries import (
    MIN_RESAMPLES,
    MIN_SINGLE_RUN_MINUTES,
    RELIABLE_RADIUS_MM,
)

#: Default probability of reaching :data:`RELIABLE_RADIUS_MM` (``plan-scan --probability``).
PROBABILITY = 0.8
#: The arms of the table and their names in words.
ARMS = {"single": "single-echo", "multi": "multi-echo"}
#: Circuits of the table: the sgACC seed, and a group circuit map (any ``--circuit PATH``).
CIRCUITS = ("sgacc", "map")
#: File name of the shipped table (package data).
CALIBRATION_FILE = "scanplan_calibration.json"
#: What the calibration file says it is.
CALIBRATION_KIND = "tmstarget scan-plan calibration"


@dataclass(frozen=True)
class ArmPlan:
    """One arm's answer.

    Attributes
    ----------
    minutes : float or None
        Whole minutes predicted to reach the radius with the plan's probability; None when the
        table's longest length does not.
    share_reached : dict
        Simulated length (min) -> share of the (neighbouring) sessions within the radius.
    quantile_radius_mm : dict
        Simulated length (min) -> the probability's quantile of their radii.
    n_sessions : int
        Simulated sessions behind the answer.
    model_minutes : float or None
        The model's own answer before the verdict's single-run floor
        (:data:`MIN_SINGLE_RUN_MINUTES`) is applied: ``minutes`` is the larger of the two. Below the
        floor, two runs of that total reach the radius as well (the floor is for one run).
    """

    minutes: float | None
    share_reached: dict[float, float]
    quantile_radius_mm: dict[float, float]
    n_sessions: int
    model_minutes: float | None = None

    def to_json(self) -> dict:
        """JSON-ready fields (lengths as strings)."""
        return {
            "minutes": self.minutes,
            "model_minutes": self.model_minutes,
            "reached_within_table": self.minutes is not None,
            "share_reached": {f"{m:g}": round(v, 3) for m, v in self.share_reached.items()},
            "quantile_radius_mm": {
                f"{m:g}": round(v, 2) for m, v in self.quantile_radius_mm.items()
            },
            "n_sessions": self.n_sessions,
        }


@dataclass(frozen=True)
class ScanPlan:
    """The scan plan of one circuit and method (see the module docstring)."""

    circuit: str
    method: str
    probability: float
    arms: dict[str, ArmPlan]
    longest_minutes: float
    provenance: dict
    pilot: dict | None = None
    threshold_mm: float = RELIABLE_RADIUS_MM
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """Return the ``plan-scan --json`` document."""
        return {
            "circuit": self.circuit,
            "method": self.method,
            "probability": self.probability,
            "threshold_mm": self.threshold_mm,
            "longest_simulated_minutes": self.longest_minutes,
            "arms": {a: p.to_json() for a, p in self.arms.items()},
            "pilot": self.pilot,
            "calibration": self.provenance,
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------- the table
def load_calibration(path: str | Path | None = None) -> dict:
    """Read a calibration table (default: the one shipped with tmstarget)."""
    source = (
        resources.files("tmstarget").joinpath("data", CALIBRATION_FILE) if path is None else path
    )
    try:
        doc = json.loads(Path(str(source)).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"scan-plan table {source}: not readable ({exc.__class__.__name__}) — reinstall "
            "tmstarget, or rebuild it with benchmarks/multiecho.py --calibration"
        ) from None
    if doc.get("kind") != CALIBRATION_KIND:
        raise InputError(f"{path}: not a scan-plan calibration table")
    return doc


def calibration_from_rows(rows: list[dict], command: str, **provenance) -> dict:
    """Build the calibration table from the benchmark's rows.

    Parameters
    ----------
    rows : list of dict
        ``benchmarks/multiecho.py`` rows: ``seed``, ``session``, ``arm``, ``circuit``, ``method``,
        ``minutes``, ``radius_mm``.
    command : str
        The command that produced them (recorded as provenance).
    **provenance
        More provenance fields (e.g. the code version's commit, the simulator's settings).
    """
    import datetime

    from .. import __version__

    minutes = sorted({float(r["minutes"]) for r in rows})
    groups: dict[tuple, dict] = {}
    for r in rows:
        key = (r["circuit"], r["method"], r["arm"])
        groups.setdefault(key, {}).setdefault(f"{r['seed']}-{r['session']}", {})[
            float(r["minutes"])
        ] = float(r["radius_mm"])
    entries = []
    for (circuit, method, arm), sessions in sorted(groups.items()):
        ids = sorted(
            (s for s, v in sessions.items() if len(v) == len(minutes)),
            key=lambda s: tuple(int(x) for x in s.split("-")),
        )
        entries.append(
            {
                "circuit": circuit,
                "method": method,
                "arm": arm,
                "sessions": ids,
                "radius_mm": [[sessions[s][m] for m in minutes] for s in ids],
            }
        )
    return {
        "kind": CALIBRATION_KIND,
        "provenance": {
            "command": command,
            "date": datetime.date.today().isoformat(),
            "participants": len({r["seed"] for r in rows}),
            "seeds": sorted({int(r["seed"]) for r in rows}),
            "tmstarget_version": __version__,
            **provenance,
        },
        "threshold_mm": RELIABLE_RADIUS_MM,
        "minutes": minutes,
        "entries": entries,
    }


def _entry(cal: dict, circuit: str, method: str, arm: str) -> tuple[list[str], np.ndarray]:
    for e in cal["entries"]:
        if (e["circuit"], e["method"], e["arm"]) == (circuit, method, arm):
            return list(e["sessions"]), np.asarray(e["radius_mm"], float)
    methods = sorted({e["method"] for e in cal["entries"]})
    raise InputError(
        f"the scan-plan table has no {ARMS.get(arm, arm)} sessions for circuit {circuit!r} and "
        f"method {method!r} — calibrated methods: {', '.join(methods)}"
    )


# -------------------------------------------------------------------------------- the math
def log_interp(minutes: np.ndarray, radii: np.ndarray, at: float) -> np.ndarray:
    """Radii at ``at`` minutes, linear in log radius against log minutes; clamped to the table.

    ``radii`` has the lengths on its last axis.
    """
    m = np.log(np.asarray(minutes, float))
    x = math.log(min(max(at, float(minutes[0])), float(minutes[-1])))
    j = int(np.clip(np.searchsorted(m, x), 1, len(m) - 1))
    t = (x - m[j - 1]) / (m[j] - m[j - 1])
    lr = np.log(np.maximum(np.asarray(radii, float), 1e-6))
    return np.exp(lr[..., j - 1] + t * (lr[..., j] - lr[..., j - 1]))


def minutes_needed(
    minutes,
    radii,
    probability: float,
    threshold_mm: float = RELIABLE_RADIUS_MM,
    floor_minutes: float = MIN_SINGLE_RUN_MINUTES,
) -> ArmPlan:
    """Minutes at which a share ``probability`` of the sessions reach ``threshold_mm``.

    Parameters
    ----------
    minutes : array, shape (L,)
        Simulated lengths, increasing.
    radii : array, shape (S, L)
        Each session's 95% radius at each length.
    probability : float
        In (0, 1).
    threshold_mm : float
    floor_minutes : float
        The verdict's single-run floor (default :data:`MIN_SINGLE_RUN_MINUTES`).

    Returns
    -------
    ArmPlan
        ``minutes`` rounded up to whole minutes and at least ``floor_minutes``
        (``model_minutes``: the same without the floor); None when the quantile at the longest
        length is above the threshold.
    """
    minutes = np.asarray(minutes, float)
    radii = np.asarray(radii, float)
    q = np.quantile(radii, probability, axis=0, method="inverted_cdf")
    share = (radii <= threshold_mm).mean(axis=0)
    ok = q <= threshold_mm
    plan = ArmPlan(
        None,
        {float(m): float(s) for m, s in zip(minutes, share)},
        {float(m): float(v) for m, v in zip(minutes, q)},
        int(radii.shape[0]),
    )
    if not ok[-1]:
        return plan
    j = len(ok) - 1
    while j > 0 and ok[j - 1]:
        j -= 1  # the first length from which every longer one is within the threshold
    if j == 0:
        crossing = float(minutes[0])
    else:
        lo, hi = math.log(q[j - 1]), math.log(max(q[j], 1e-6))
        t = (lo - math.log(threshold_mm)) / (lo - hi) if lo > hi else 1.0
        lm = math.log(minutes[j - 1]) + t * (math.log(minutes[j]) - math.log(minutes[j - 1]))
        crossing = min(math.exp(lm), float(minutes[j]))
    model = float(math.ceil(crossing - 1e-9))
    need = max(model, float(floor_minutes))
    return ArmPlan(need, plan.share_reached, plan.quantile_radius_mm, plan.n_sessions, model)


def neighbours(at_pilot: np.ndarray, radius_mm: float, k: int | None = None) -> np.ndarray:
    """Return the ``k`` sessions whose radius at the pilot's length is closest to the pilot's.

    Closeness in log radius; ties by index. ``k`` defaults to a quarter of the sessions, at least 5
    (all when fewer).
    """
    n = len(at_pilot)
    k = min(n, max(5, round(n / 4))) if k is None else min(n, k)
    d = np.abs(np.log(np.maximum(at_pilot, 1e-6)) - math.log(max(radius_mm, 1e-6)))
    return np.sort(np.argsort(d, kind="stable")[:k])


def read_pilot(path: str | Path) -> dict:
    """Read a pilot's circuit, method, arm, verdict radius and usable minutes from a target JSON.

    Raises :class:`InputError` (one line) for a file that is not a target JSON, has no finite
    verdict radius or minutes, or whose radius rests on too few bootstrap resamples.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"--pilot-json {path}: not readable as JSON ({exc.__class__.__name__}) — give the "
            "target JSON 'tmstarget target --bootstrap 200' wrote for the pilot scan"
        ) from None
    if not isinstance(doc, dict) or "target_mni" not in doc or "circuit" not in doc:
        raise InputError(
            f"--pilot-json {path}: not a target JSON (no target_mni/circuit) — give the target "
            "JSON 'tmstarget target' wrote for the pilot scan"
        )
    verdict = doc.get("reliability_verdict")
    radius = verdict.get("radius_mm") if isinstance(verdict, dict) else None
    used = verdict.get("minutes_used") if isinstance(verdict, dict) else None
    if not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in (radius, used)):
        raise InputError(
            f"--pilot-json {path}: no finite reliability verdict radius and minutes — rerun "
            "'tmstarget target' on the pilot with --bootstrap 200"
        )
    n_res = verdict.get("n_resamples")
    if isinstance(n_res, int) and n_res < MIN_RESAMPLES:
        raise InputError(
            f"--pilot-json {path}: its radius rests on {n_res} bootstrap resamples (fewer than "
            f"{MIN_RESAMPLES}) — rerun 'tmstarget target' on the pilot with --bootstrap 200"
        )
    circuit = "sgacc" if str(doc["circuit"]).lower() == "sgacc" else "map"
    return {
        "file": str(path),
        "circuit": circuit,
        "circuit_name": str(doc["circuit"]),
        "method": str(doc.get("method", "")),
        "arm": "multi" if isinstance(doc.get("multi_echo"), dict) else "single",
        "radius_mm": float(radius),
        "minutes_used": float(used),
    }


def plan_scan(
    cal: dict,
    circuit: str = "sgacc",
    method: str | None = None,
    probability: float = PROBABILITY,
    pilot: dict | None = None,
) -> ScanPlan:
    """Minutes of single- and multi-echo data for a reliable target (see the module docstring).

    Parameters
    ----------
    cal : dict
        :func:`load_calibration`.
    circuit : {"sgacc", "map"}
    method : str, optional
        Default: the default targeting method.
    probability : float
        In (0, 1).
    pilot : dict, optional
        :func:`read_pilot` of a pilot target JSON of the same circuit and method.
    """
    from ..targeting.methods import DEFAULT_METHOD

    method = method or DEFAULT_METHOD
    if not (isinstance(probability, float | int) and 0.0 < probability < 1.0):
        raise InputError(f"--probability {probability}: must be between 0 and 1, e.g. 0.8")
    if circuit not in CIRCUITS:
        raise InputError(f"--circuit {circuit!r}: the scan plan knows sgacc and map")
    minutes = np.asarray(cal["minutes"], float)
    table = {arm: _entry(cal, circuit, method, arm) for arm in ARMS}
    notes: list[str] = []
    pilot_out = None
    rows = {arm: np.arange(len(ids)) for arm, (ids, _) in table.items()}
    if pilot is not None:
        if pilot["circuit"] != circuit or pilot["method"] != method:
            raise InputError(
                f"--pilot-json: the pilot was targeted with circuit {pilot['circuit_name']!r} and "
                f"method {pilot['method']!r}, the plan asks for {circuit!r} and {method!r} — pass "
                "the pilot's --circuit and --method, or a pilot of the asked ones"
            )
        ids, radii = table[pilot["arm"]]
        m0 = pilot["minutes_used"]
        if not minutes[0] <= m0 <= minutes[-1]:
            notes.append(
                f"the pilot's {m0:g} minutes are outside the simulated {minutes[0]:g}-"
                f"{minutes[-1]:g}; it is compared with the simulated sessions at "
                f"{min(max(m0, minutes[0]), minutes[-1]):g} minutes"
            )
        at = log_interp(minutes, radii, m0)
        near = neighbours(at, pilot["radius_mm"])
        chosen = {ids[i] for i in near}
        for arm, (arm_ids, _) in table.items():
            rows[arm] = np.array([i for i, s in enumerate(arm_ids) if s in chosen], int)
        pilot_out = {
            **pilot,
            "percentile": round(float(np.mean(at <= pilot["radius_mm"])) * 100, 1),
            "neighbours": len(near),
            "neighbour_sessions": sorted(chosen),
        }
    arms = {}
    for arm, (_, radii) in table.items():
        arms[arm] = minutes_needed(minutes, radii[rows[arm]], probability)
    return ScanPlan(
        circuit=circuit,
        method=method,
        probability=float(probability),
        arms=arms,
        longest_minutes=float(minutes[-1]),
        provenance=dict(cal.get("provenance", {})),
        pilot=pilot_out,
        notes=notes,
    )


def plan_text(plan: ScanPlan) -> str:
    """Return the plan in plain words (a few lines)."""
    p, last = plan.probability, plan.longest_minutes
    head = (
        f"Scan plan for circuit {plan.circuit}, method {plan.method}: usable minutes (kept "
        f"volumes x TR) of resting-state data for a 95% region radius <= {plan.threshold_mm:g} mm "
        f"in {p:.0%} of participants"
    )
    if plan.pilot:
        pi = plan.pilot
        head += (
            f", updated from the pilot ({ARMS[pi['arm']]}, {pi['minutes_used']:g} min, radius "
            f"{pi['radius_mm']:.1f} mm: percentile {pi['percentile']:g} of the simulated sessions; "
            f"following the {pi['neighbours']} closest)"
        )
    lines = [head + ":"]
    for arm, a in plan.arms.items():
        shares = ", ".join(f"{v:.0%} at {m:g}" for m, v in a.share_reached.items())
        if a.minutes is None:
            what = (
                f"more than {last:g} minutes (not reached by {p:.0%} of simulated participants "
                f"at {last:g} min)"
            )
        else:
            what = f"about {a.minutes:g} minutes"
            if a.model_minutes is not None and a.model_minutes < a.minutes:
                what += (
                    f" in one run (the simulator alone: {a.model_minutes:g}; one run shorter "
                    f"than {a.minutes:g} minutes never says 'reliable', tmstarget policy; the "
                    "floor does not apply to two or more runs)"
                )
        lines.append(f"  {ARMS[arm]}: {what}; within {plan.threshold_mm:g} mm: {shares} min")
    prov = plan.provenance
    seeds = prov.get("seeds")
    seed_text = f" (seeds {', '.join(map(str, seeds))})" if seeds else ""
    lines.append(
        f"From the calibrated simulator ({prov.get('participants', '?')} participants"
        f"{seed_text} x 2 sessions, multi-echo combined by T2* (optcom); tmstarget "
        f"{prov.get('tmstarget_version', '?')}, {prov.get('date', '?')}: "
        f"{prov.get('command', '?')}). A simulation, not a guarantee for a real scanner."
    )
    lines.extend(f"Note: {n}" for n in plan.notes)
    return "\n".join(lines)
