"""Cohort stability of targets: within-person versus between-person distances."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...exceptions import InputError

#: The one name of the cohort's stability ratio, wherever it is shown (``reliability group``, the
#: cohort report): :func:`between_within_ratio`, between over within, so > 1 = targets are
#: closer to the same person's other sessions than to other people's.
RATIO_LABEL = "between/within-person distance ratio (medians)"


def between_within_ratio(within_mm: Sequence[float], between_mm: Sequence[float]) -> float | None:
    """Return the stability ratio: median between-person over median within-person distance.

    After Cash et al. 2021 (HBM; they report up to 6.85). Higher = more individual targets.

    Parameters
    ----------
    within_mm : sequence of float
        Per participant with >= 2 sessions, the mean distance between its sessions' targets.
    between_mm : sequence of float
        For the same participants, the mean distance from their targets to every other
        participant's.

    Returns
    -------
    float or None
        Rounded to 2 decimals; None when either list is empty or the median within distance is 0.
    """
    if len(within_mm) == 0 or len(between_mm) == 0:
        return None
    within, between = float(np.median(within_mm)), float(np.median(between_mm))
    return round(between / within, 2) if within > 0 else None


def cohort_stability(
    targets: Sequence[tuple[str, str | None, Sequence[float]]],
) -> tuple[list[dict], dict]:
    """Compare within-person (between sessions) and between-person target distances.

    After Cash et al. 2021, HBM.

    Parameters
    ----------
    targets : sequence of (participant, session, target_mni)
        One entry per participant and session.

    Returns
    -------
    rows : list of dict
        Per participant: ``n_sessions``, ``within_mm`` (mean distance between its sessions' targets;
        None with one session), ``between_mm`` (mean distance from its targets to every other
        participant's).
    summary : dict
        Medians over participants with ≥ 2 sessions, ``ratio_between_within`` (median between /
        median within; Cash et al. report up to 6.85) and the fraction of participants closer to
        themselves.
    """
    people: dict[str, list[np.ndarray]] = {}
    for participant, _, xyz in targets:
        people.setdefault(participant, []).append(np.asarray(xyz, float))
    if len(people) < 2:
        raise InputError(
            f"found targets of {len(people)} participant(s), "
            "need >= 2 — run 'tmstarget target' on more participants"
        )
    if not any(len(p) > 1 for p in people.values()):
        raise InputError(
            "no participant has targets from >= 2 sessions "
            "— run 'tmstarget target' per session (ses-* "
            "folders)"
        )
    rows = []
    for label, pts in sorted(people.items()):
        own = np.array(pts)
        others = np.array([q for other, qs in people.items() if other != label for q in qs])
        pair = np.linalg.norm(own[:, None] - own[None], axis=2)[np.triu_indices(len(own), 1)]
        within = float(pair.mean()) if pair.size else None
        between = float(np.linalg.norm(own[:, None] - others[None], axis=2).mean())
        rows.append(
            {
                "participant": label,
                "n_sessions": len(own),
                "within_mm": within,
                "between_mm": between,
            }
        )
    rep = [r for r in rows if r["within_mm"] is not None]
    within, between = (
        float(np.median([r["within_mm"] for r in rep])),
        float(np.median([r["between_mm"] for r in rep])),
    )
    summary = {
        "n_participants": len(rows),
        "n_with_repeat_sessions": len(rep),
        "median_within_mm": round(within, 2),
        "median_between_mm": round(between, 2),
        "ratio_between_within": between_within_ratio(
            [r["within_mm"] for r in rep], [r["between_mm"] for r in rep]
        ),
        "fraction_closer_to_self": round(
            float(np.mean([r["within_mm"] < r["between_mm"] for r in rep])), 3
        ),
    }
    return rows, summary


def stability_table(rows: list[dict]) -> str:
    """Format the per-participant rows of :func:`cohort_stability` as TSV text.

    Values are ``n/a`` without repeat sessions.
    """
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    lines = ["participant_id\tn_sessions\twithin_person_mm\tbetween_person_mm"]
    lines += [
        f"{r['participant']}\t{r['n_sessions']}\t{fmt(r['within_mm'])}\t{fmt(r['between_mm'])}"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
