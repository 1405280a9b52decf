"""The text report of a planned course (what ``tmstarget protocol`` prints without ``--json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["course_text"]


def course_text(result: dict[str, Any]) -> str:
    """Return the text ``tmstarget protocol`` prints for a :meth:`CoursePlan.to_dict` result."""
    proto = result["protocol"]
    d = proto["derived"]
    lines = [
        f"{proto['name']} ({proto['key']}): {d['pulses_per_session']} pulses/session "
        f"in {d['session_duration_s'] / 60:.1f} min, "
        f"{proto['sessions_per_day']} session(s)/day x {proto['treatment_days']} days = "
        f"{d['pulses_per_day']:,} pulses/day, {d['pulses_per_course']:,} pulses/course",
        f"  target: {proto['target']}; intensity {proto['intensity_pct_rmt']:g}% RMT"
        + (" (depth-adjusted)" if proto["depth_corrected"] else ""),
    ]
    lines += [f"  ref: {ref}" for ref in proto["references"]]
    if result["dose"]:
        dose = result["dose"]
        basis = "depth-adjusted MT" if dose["depth_corrected"] else "RMT"
        lines.append(
            f"dose: {dose['intensity_pct_rmt']:g}% of {basis} {dose['threshold_pct_mso']:g}% MSO = "
            f"{dose['prescribed_pct_mso']:g}% MSO -> setting {dose['setting_pct_mso']}% MSO"
            + (" (CAPPED at 100% MSO)" if dose["capped"] else "")
            + f" = {dose['pct_of_measured_rmt']:g}% of measured RMT"
        )
        src = dose.get("sources") or {}
        rmt = src.get("rmt") or {}
        if rmt.get("file"):
            lines.append(
                f"  RMT from {rmt['file']} (session {rmt.get('session') or 'n/a'}, "
                f"{rmt.get('method')})"
            )
        depth = src.get("target_depth") or {}
        if depth.get("from") == "coil plan":
            lines.append(
                f"  target depth {depth['depth_mm']:g} mm from the coil plan {depth['file']}"
            )
    for warning in result.get("warnings") or []:
        lines.append(f"WARNING: {warning}")
    if result["safety"]:
        safety = result["safety"]
        basis = (
            "the dose"
            if result["dose"]
            else f"the protocol's {safety['pct_of_measured_rmt']:g}% RMT (no --rmt)"
        )
        lines.append(
            f"safety checks at {basis}:" + (" FORCED (--force)" if safety["forced"] else "")
        )
        for check in safety["checks"]:
            mark = "ok  " if check["ok"] else ("OVER" if check["action"] == "refuse" else "note")
            sign = (
                (">" if check["strict"] else ">=")
                if check["bound"] == "min"
                else ("<" if check["strict"] else "<=")
            )
            lines.append(
                f"  {mark} {check['name']}: {check['value']:g} "
                f"{sign} {check['limit']:g} {check['unit']} "
                f"[{check['rule']}, {check['basis']}]"
            )
    if result["schedule"]:
        sched = result["schedule"]
        lines.append(
            f"schedule: {sched['n_sessions']} sessions, "
            f"{sched['interval_between_starts_min']:g} min "
            "between starts "
            f"({sched['gap_between_sessions_min']:g} min from "
            "the end of one session to the start of the next)"
            + (" FORCED (--force)" if sched["forced"] else "")
        )
        by_day: dict[int, list[str]] = {}
        for s in sched["sessions"]:
            by_day.setdefault(s["day"], []).append(s["start"])
        for day, starts in by_day.items():
            lines.append(f"  day {day} {starts[0][:10]}: " + " ".join(t[11:16] for t in starts))
        if sched["interrupted"]:
            lines.append(f"  note: course interrupted by {', '.join(sched['skipped_dates'])}")
    if result["screening"]:
        scr = result["screening"]
        lines.append(
            f"screening: {scr['status']}"
            + (f"; OVERRIDDEN: {scr['override']}" if scr["override"] else "")
            + "".join(f"; flag {f['item']}" for f in scr["flags"])
        )
    if result["course"]:
        lines.append("course: " + result["course"]["summary"])
        for dev in result["course"]["deviations"]:
            lines.append(f"  deviation{' (SAFETY)' if dev['safety'] else ''}: {dev['detail']}")
    for kind, path in result["outputs"].items():
        if path:
            lines.append(f"wrote {kind}: {path}")
    return "\n".join(lines)
