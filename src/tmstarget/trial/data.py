"""Validation of the long-format trial table (one row per participant and timepoint).

Columns
-------
``participant_id``
    participant label (required)
``arm``
    allocated arm, constant within a participant; exactly two arms (required)
``timepoint``
    assessment label, e.g. ``baseline``, ``week1``, ``month1`` (required)
``madrs_total``
    MADRS total score 0-60; empty or ``NA`` when the visit was missed (required)
``stratum*``
    stratification factors (optional; constant within a participant; adjusted for)
``guess*``
    blinding guesses: an arm name or ``dont_know`` (optional; the last one given counts)
``day``
    day of the assessment on the trial clock, e.g. days since randomization (optional; with it,
    follow-ups are assigned to visits by window, see :mod:`tmstarget.visits`)
``last_session_day``
    day of the participant's last treatment session on the same clock (required with ``day``)
``sessions_received``
    treatment sessions the participant received (optional; constant within a participant; used by
    the per-protocol rule)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .._utils.ids import participant_label
from ..exceptions import InputError
from ..visits import BASELINE, DEFAULT_SCHEDULE, IN_WINDOW, VisitSchedule, assign_visits

REQUIRED = ("participant_id", "arm", "timepoint", "madrs_total")
#: Cell values read as a missing MADRS score (a missed visit).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "none", "null", "."})
#: Guess values meaning "does not know" (compared case-insensitively).
DONT_KNOW = frozenset({"dont_know", "don't know", "dk", "unknown", "unsure"})
MADRS_MAX = 60


@dataclass(frozen=True)
class TrialTable:
    """A validated trial table.

    Attributes
    ----------
    frame : pandas.DataFrame
        Long table with ``madrs_total`` as float (NaN = missed visit) and ``timepoint`` as an
        ordered categorical; sorted by participant and timepoint.
    arms : tuple of str
        ``(experimental, control)``.
    timepoints : tuple of str
        Assessment order, baseline first.
    strata : tuple of str
        Stratification columns.
    guesses : tuple of str
        Blinding-guess columns.
    """

    frame: pd.DataFrame
    arms: tuple[str, str]
    timepoints: tuple[str, ...]
    strata: tuple[str, ...]
    guesses: tuple[str, ...]
    assessments: pd.DataFrame | None = None
    schedule: VisitSchedule | None = None

    @property
    def dated(self) -> bool:
        """True when visits were assigned by window from assessment days."""
        return self.assessments is not None

    def sessions_received(self) -> pd.Series | None:
        """Treatment sessions received per participant.

        ``None`` without a ``sessions_received`` column.
        """
        if "sessions_received" not in self.frame.columns:
            return None
        return self.frame.groupby("participant_id", sort=True)["sessions_received"].first()

    @property
    def baseline(self) -> str:
        """Label of the baseline timepoint."""
        return self.timepoints[0]

    @property
    def experimental(self) -> str:
        """Experimental arm (differences are experimental minus control)."""
        return self.arms[0]

    @property
    def control(self) -> str:
        """Control arm."""
        return self.arms[1]

    def participants(self) -> pd.DataFrame:
        """One row per participant: ``arm`` plus the stratification columns.

        The frame is indexed by participant.
        """
        return self.frame.groupby("participant_id", sort=True)[["arm", *self.strata]].first()

    def wide(self) -> pd.DataFrame:
        """MADRS scores with one row per participant and one column per timepoint.

        A missed visit is NaN.
        """
        table = self.frame.pivot(index="participant_id", columns="timepoint", values="madrs_total")
        return table.reindex(columns=list(self.timepoints)).rename_axis(columns=None)

    def reduction(self, timepoint: str) -> pd.DataFrame:
        """Participants assessed at ``timepoint``: ``arm, baseline, score, reduction`` (+ strata).

        ``reduction = baseline - score``: positive values are improvement.
        """
        if timepoint not in self.timepoints or timepoint == self.baseline:
            raise InputError(
                f"timepoint {timepoint!r} is not a follow-up "
                f"in the table — choose one of: {', '.join(self.timepoints[1:])}"
            )
        wide = self.wide()
        out = self.participants().join(
            wide[[self.baseline, timepoint]].set_axis(["baseline", "score"], axis=1)
        )
        out = out.dropna(subset=["score"])
        return out.assign(reduction=out["baseline"] - out["score"])


def arm_visit_summary(
    frame: pd.DataFrame, column: str, arms: Sequence[str], timepoints: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """``n``, ``mean`` and ``sd`` of ``column`` per arm and timepoint.

    ``n`` is 0 and the others NaN where nobody has a value. ``frame`` has one row per participant
    and timepoint with ``arm`` and ``timepoint`` columns.
    """
    stats = (
        frame.dropna(subset=[column])
        .groupby(["arm", "timepoint"], observed=True)[column]
        .agg(["count", "mean", "std"])
    )
    empty = {"n": 0, "mean": math.nan, "sd": math.nan}
    return {
        a: {
            t: {
                "n": int(stats.loc[(a, t), "count"]),
                "mean": float(stats.loc[(a, t), "mean"]),
                "sd": float(stats.loc[(a, t), "std"]),
            }
            if (a, t) in stats.index
            else dict(empty)
            for t in timepoints
        }
        for a in arms
    }


def _rows(frame: pd.DataFrame, mask: pd.Series, limit: int = 3) -> str:
    picked = frame.loc[mask, ["participant_id", "timepoint"]].head(limit)
    text = ", ".join(f"{p}/{t}" for p, t in picked.itertuples(index=False))
    extra = int(mask.sum()) - len(picked)
    return text + (f" and {extra} more" if extra > 0 else "")


def _text(values: pd.Series) -> pd.Series:
    """Cells as stripped strings, missing cells (None, NaN, NA) as empty strings."""
    return values.astype(object).where(values.notna(), "").map(str).str.strip()


def _scores(frame: pd.DataFrame) -> pd.Series:
    """``madrs_total`` as floats (NaN = missed visit).

    The rule is the same as the ``madrs`` reader's: whole numbers 0-60.
    """
    from ..outcomes.madrs import score_problem  # run time, as everywhere in trial

    raw = _text(frame["madrs_total"])
    missing = raw.str.lower().isin(MISSING_TOKENS)
    problems = raw.where(~missing).map(
        lambda v: None if not isinstance(v, str) else score_problem(v, MADRS_MAX)
    )
    bad = problems.notna()
    if bad.any():
        first = bad.idxmax()
        where = f"{frame.at[first, 'participant_id']}/{frame.at[first, 'timepoint']}"
        more = f" ({int(bad.sum())} such rows: {_rows(frame, bad)})" if bad.sum() > 1 else ""
        raise InputError(
            f"madrs_total {raw[first]!r} at {where} {problems[first]}{more} "
            "— MADRS totals are whole numbers "
            f"0-{MADRS_MAX}; correct the score, or leave empty / NA for a missed visit"
        )
    return pd.to_numeric(raw.where(~missing), errors="coerce").astype(float)


def _check_constant(frame: pd.DataFrame, column: str, what: str) -> None:
    counts = frame.groupby("participant_id")[column].nunique()
    if (counts > 1).any():
        who = ", ".join(counts.index[counts > 1][:3])
        raise InputError(
            f"participant(s) {who} have more than one {what} "
            f"— each participant has a single {what}; fix "
            "the rows"
        )


def _order_timepoints(
    observed: Sequence[str], baseline: str, timepoints: Sequence[str] | None
) -> tuple[str, ...]:
    if baseline not in observed:
        raise InputError(
            f"no {baseline!r} timepoint in the table (found: "
            f"{', '.join(observed)}) — add baseline rows or "
            "pass --baseline with its label"
        )
    if timepoints:
        unknown = [t for t in observed if t not in timepoints]
        if unknown or timepoints[0] != baseline:
            raise InputError(
                f"timepoint order {list(timepoints)} must start "
                f"with {baseline!r} and include {', '.join(unknown) or 'all labels'} "
                "— fix --timepoints"
            )
        return tuple(t for t in timepoints if t in observed)
    return (baseline, *[t for t in observed if t != baseline])


def validate_trial_table(
    table: pd.DataFrame,
    baseline: str = "baseline",
    timepoints: Sequence[str] | None = None,
    experimental: str | None = None,
    schedule: VisitSchedule | None = None,
) -> TrialTable:
    """Check a long-format trial table and return it in canonical form.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``participant_id, arm, timepoint, madrs_total`` and optional ``stratum*`` /
        ``guess*`` columns (see the module docstring). Not modified.
    baseline : str
        Label of the baseline timepoint.
    timepoints : sequence of str, optional
        Assessment order (baseline first); by default baseline, then order of first appearance.
    experimental : str, optional
        Experimental arm; by default the arm of the first row. The other arm is the control.
    schedule : VisitSchedule, optional
        Visit windows used when the table has a ``day`` column (default
        :data:`tmstarget.visits.DEFAULT_SCHEDULE`). Follow-ups outside every window, and extra
        assessments in one window, are listed in ``assessments`` and left out of ``frame``.

    Returns
    -------
    TrialTable

    Raises
    ------
    InputError
        Missing columns, empty ids or arms, non-numeric or out-of-range scores, duplicate
        timepoints, a participant in two arms, not exactly two arms, a missing baseline score, or
        guesses that name no arm.
    """
    if len(table) == 0:
        raise InputError("the trial table has no rows — give one row per participant and timepoint")
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise InputError(
            f"trial table lacks column(s) {', '.join(missing)} "
            f"— the header needs {', '.join(REQUIRED)}"
        )
    frame = table.copy()
    for column in ("participant_id", "arm", "timepoint"):
        frame[column] = _text(frame[column])
        empty = frame[column] == ""
        if empty.any():
            raise InputError(
                f"empty {column} in {int(empty.sum())} row(s) — fill in every {column}"
            )
    _check_participant_ids(frame)
    frame["madrs_total"] = _scores(frame)
    dup = frame.duplicated(["participant_id", "timepoint"], keep=False)
    if dup.any():
        raise InputError(
            f"duplicate timepoints for {_rows(frame, dup)} "
            "— keep one row per participant and timepoint"
        )
    _check_constant(frame, "arm", "arm")
    arms = list(dict.fromkeys(frame["arm"]))
    if len(arms) != 2:
        raise InputError(
            f"found {len(arms)} arm(s) ({', '.join(arms)}) "
            "— the analysis compares exactly two arms; check "
            "the arm column"
        )
    if experimental is not None:
        if experimental not in arms:
            raise InputError(
                f"experimental arm {experimental!r} is not "
                f"in the table (arms: {', '.join(arms)}; names "
                "are "
                "case-sensitive) — pass --experimental with one of them"
            )
        arms = [experimental, *[a for a in arms if a != experimental]]
    assessments = None
    if "sessions_received" in frame.columns:
        frame["sessions_received"] = _numbers(
            frame, "sessions_received", "a whole number of sessions, e.g. 50", whole=True
        )
        _check_constant(
            frame.dropna(subset=["sessions_received"]), "sessions_received", "sessions_received"
        )
    if schedule is not None and "day" not in frame.columns:
        raise InputError(
            "visit windows (--visit) need a 'day' and a 'last_session_day' "
            "column — add them, or drop --visit "
            "(without days, each assessment is taken at its timepoint label)"
        )
    if "day" in frame.columns:
        frame, assessments = _dated(frame, baseline, schedule or DEFAULT_SCHEDULE, timepoints)
        order = _order_timepoints(
            list(dict.fromkeys(frame["timepoint"])),
            baseline,
            [baseline, *(schedule or DEFAULT_SCHEDULE).names],
        )
    else:
        order = _order_timepoints(list(dict.fromkeys(frame["timepoint"])), baseline, timepoints)
    if len(order) < 2:
        raise InputError(f"only the {baseline!r} timepoint is present — add follow-up assessments")
    base = frame.loc[frame["timepoint"] == baseline].set_index("participant_id")["madrs_total"]
    lacking = sorted(set(frame["participant_id"]) - set(base.dropna().index))
    if lacking:
        raise InputError(
            "missing baseline MADRS for "
            f"{', '.join(lacking[:3])}{' and more' if len(lacking) > 3 else ''} "
            f"— every participant needs a {baseline!r} score"
        )
    strata = tuple(c for c in frame.columns if str(c).startswith("stratum"))
    guesses = tuple(c for c in frame.columns if str(c).startswith("guess"))
    for column in strata:
        _check_constant(frame, column, column)
    for column in guesses:
        given = _text(frame[column])
        bad = (given != "") & ~given.isin(arms) & ~given.str.lower().isin(DONT_KNOW)
        if bad.any():
            raise InputError(
                f"{column} has {given[bad].iloc[0]!r} at {_rows(frame, bad)} "
                f"— use an arm name ({', '.join(arms)}), dont_know, "
                "or leave empty"
            )
        frame[column] = given.where(~given.str.lower().isin(DONT_KNOW), "dont_know")
    frame["timepoint"] = pd.Categorical(frame["timepoint"], categories=list(order), ordered=True)
    frame = frame.sort_values(["participant_id", "timepoint"], kind="stable").reset_index(drop=True)
    return TrialTable(
        frame,
        (arms[0], arms[1]),
        order,
        strata,
        guesses,
        assessments,
        (schedule or DEFAULT_SCHEDULE) if assessments is not None else None,
    )


def _check_participant_ids(frame: pd.DataFrame) -> None:
    """Check that every id is a participant label, with one spelling per participant.

    Labels are as :func:`tmstarget._utils.ids.participant_label` reads them.
    """
    labels = {}
    for row, pid in enumerate(frame["participant_id"], start=2):
        label = participant_label(pid, f"participant_id at row {row}")
        first = labels.setdefault(label, pid)
        if first != pid:
            raise InputError(
                f"participant_id {first!r} and {pid!r} (row "
                f"{row}) name the same participant — write "
                "one spelling"
            )


def _numbers(frame: pd.DataFrame, column: str, expected: str, whole: bool = False) -> pd.Series:
    """Return a column as floats (empty / NA = NaN).

    Anything else that is not a finite number is an error.
    """
    raw = _text(frame[column])
    missing = raw.str.lower().isin(MISSING_TOKENS)
    values = pd.to_numeric(raw.where(~missing), errors="coerce")
    bad = (values.isna() & ~missing) | ~values.abs().lt(float("inf")) & ~missing
    if whole:
        bad |= values.notna() & (values % 1 != 0)
    if bad.any():
        raise InputError(
            f"{column} is not valid at {_rows(frame, bad)} "
            f"(e.g. {raw[bad].iloc[0]!r}) — give {expected}"
        )
    return values.astype(float)


def _dated(
    frame: pd.DataFrame, baseline: str, schedule: VisitSchedule, timepoints: Sequence[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assign dated assessments to visits.

    Return the analysis rows (visit as timepoint) and the full listing.
    """
    if timepoints:
        raise InputError(
            "--timepoints orders nominal labels, but this "
            "table has a 'day' column — visits come from "
            "--visit windows; drop --timepoints"
        )
    if "last_session_day" not in frame.columns:
        raise InputError(
            "the table has a 'day' column but no 'last_session_day' "
            "— add each participant's last treatment session "
            "day (same clock as 'day')"
        )
    frame["day"] = _numbers(
        frame, "day", "the assessment day as a number, e.g. days since randomization"
    )
    frame["last_session_day"] = _numbers(
        frame, "last_session_day", "the day of the last treatment session as a number"
    )
    _check_constant(
        frame.dropna(subset=["last_session_day"]), "last_session_day", "last_session_day"
    )
    frame["last_session_day"] = frame.groupby("participant_id")["last_session_day"].transform(
        "first"
    )
    follow = (frame["timepoint"] != baseline) & frame["madrs_total"].notna()
    for column, what in (
        ("day", "assessment day"),
        ("last_session_day", "last treatment session day"),
    ):
        lacking = follow & frame[column].isna()
        if lacking.any():
            raise InputError(
                f"no {what} for the scored follow-up(s) {_rows(frame, lacking)} "
                f"— fill in {column} for every scored follow-up"
            )
    assessments = assign_visits(frame, schedule, baseline, has_score=frame["madrs_total"].notna())
    keep = assessments["visit_status"].isin([BASELINE, IN_WINDOW])
    analysis = assessments.loc[keep].copy()
    analysis["timepoint"] = analysis["visit"].astype(str)
    for column in (c for c in frame.columns if str(c).startswith("guess")):
        # A guess made at an out-of-window visit still counts: keep each participant's last one (by
        # day).
        given = frame.assign(_g=_text(frame[column])).loc[lambda f: f["_g"] != ""]
        last = (
            given.sort_values(["participant_id", "day"], na_position="first", kind="stable")
            .groupby("participant_id")["_g"]
            .last()
        )
        at_base = analysis["timepoint"] == baseline
        analysis[column] = ""
        analysis.loc[at_base, column] = analysis.loc[at_base, "participant_id"].map(last).fillna("")
    listing = assessments.rename(columns={"timepoint": "nominal_timepoint"})
    columns = [
        "participant_id",
        "arm",
        "nominal_timepoint",
        "day",
        "last_session_day",
        "offset_days",
        "visit",
        "visit_status",
        "madrs_total",
    ]
    return analysis.drop(columns=["visit", "visit_status"]), listing[columns].reset_index(drop=True)


def check_allocation(trial: TrialTable, allocated: pd.DataFrame) -> list[str]:
    """Cross-check participants against the randomization record.

    Parameters
    ----------
    trial : TrialTable
        The validated table.
    allocated : pandas.DataFrame
        ``participant_id`` and ``arm`` of every randomized participant (e.g. the reveal log).

    Returns
    -------
    list of str
        Randomized participants with no rows in the table (reported as lost before any assessment).

    Raises
    ------
    InputError
        If the table has a participant who was never randomized, or one whose arm differs from the
        record.
    """
    ids = list(_text(allocated["participant_id"]))
    labels = [
        participant_label(pid, f"allocation record row {row}: participant_id")
        for row, pid in enumerate(ids, start=2)
    ]
    record = pd.Series(_text(allocated["arm"]).to_numpy(), index=labels)
    if record.index.duplicated().any():
        twice = record.index[record.index.duplicated()][0]
        raise InputError(
            f"participant {twice} is listed more than once "
            "in the allocation record (01 and sub-01 are "
            "one "
            "participant) — keep one allocation per participant"
        )
    present = trial.participants()["arm"]
    table_ids = {
        participant_label(p): p for p in present.index
    }  # 01 and sub-01 name the same participant
    recorded_arms, table_arms = set(record), set(trial.arms)
    folded = {a.casefold() for a in table_arms}
    if not recorded_arms & table_arms or any(
        a not in table_arms and a.casefold() in folded for a in recorded_arms
    ):
        strange = sorted(recorded_arms - table_arms)
        raise InputError(
            f"the allocation record names arm(s) {', '.join(strange)} "
            f"but the table's arms are {', '.join(trial.arms)} "
            "— "
            "use the same arm names in both files (names are case-sensitive)"
        )
    unknown = sorted(p for label, p in table_ids.items() if label not in record.index)
    if unknown:
        raise InputError(
            "unknown participant(s) "
            f"{', '.join(unknown[:3])}{' and more' if len(unknown) > 3 else ''} "
            "are not in the allocation "
            f"record ({len(record)} participants, e.g. {', '.join(ids[:2])}) "
            "— fix the ids or pass the right --allocation"
        )
    differ = [p for label, p in table_ids.items() if record[label] != present[p]]
    if differ:
        p = differ[0]
        raise InputError(
            f"participant {p} is in arm {present[p]!r} in "
            f"the table but {record[participant_label(p)]!r} "
            "in the "
            "allocation record — correct the arm"
        )
    return sorted(ids[i] for i, label in enumerate(labels) if label not in table_ids)
