"""The text summary ``tmstarget coil`` prints (without ``--json``).

:func:`coil_files_text` renders :meth:`tmstarget.export.workflow.CoilFiles.to_dict`: the target,
placement, field, optimisation, T1w mapping and the files written, one line each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["coil_files_text"]


def _fmt(v: Iterable[float]) -> str:
    return "(" + ", ".join(f"{x:.1f}" for x in v) + ")"


def coil_files_text(result: dict[str, Any]) -> str:
    """Return the text summary of a coil plan and its exports.

    Parameters
    ----------
    result : dict
        What ``tmstarget coil --json`` prints
        (:meth:`~tmstarget.export.workflow.CoilFiles.to_dict`).

    Returns
    -------
    str
        Lines joined by newlines, without a final newline.
    """
    pl, ef, opt = result["placement"], result["efield"], result["optimization"]
    lines = [
        f"coil plan for target {_fmt(result['target_mni'])} "
        f"mm {result['space']} — {result['coil']['name']} "
        f"on the {result['head_model']}",
        f"  placement: {result['placement_source']}",
        f"  scalp entry {_fmt(pl['scalp_entry_mm'])}, coil "
        f"centre {_fmt(pl['coil_centre_mm'])}, normal into "
        f"head {_fmt(pl['coil_normal_into_head'])}",
        f"  {pl['handle_description']}, direction {_fmt(pl['handle_direction'])}; "
        f"scalp-cortex {pl['scalp_cortex_distance_mm']:.1f} "
        f"mm, coil-cortex {pl['coil_cortex_distance_mm']:.1f} "
        "mm",
        f"  E-field at {ef['didt_a_per_us']:g} A/us: {ef['e_target_v_per_m']:.3f} "
        f"V/m at the target ({ef['target_pct_of_max']:.0f}% "
        "of the "
        f"cortical maximum {ef['e_max_cortex_v_per_m']:.3f} "
        f"V/m at {_fmt(ef['max_location_mm'])}, {ef['max_to_target_mm']:.1f} "
        "mm away); "
        f"S1/2 {ef['half_max_area_cm2']:.1f} cm2, V1/2 {ef['half_max_volume_cm3']:.1f} "
        f"cm3, d1/2 {ef['half_value_depth_mm']:.1f} mm",
    ]
    if opt:
        lines.append(
            f"  optimised ({result['circuit_map']}): circuit score, E-field weighted "
            f"{opt['score']:.4f} vs default placement {opt['default_score']:.4f}; "
            f"entry moved {opt['shift_mm']:.1f} mm, handle turned {opt['rotation_deg']:.0f} deg; "
            f"{opt['n_evaluations']} placements in {opt['time_s']:.2f} s"
        )
    if result["native"]:
        nat = result["native"]
        lines.append(
            f"  T1w: target {_fmt(nat['target_t1w_mm'])}, "
            f"coil centre {_fmt(nat['coil_centre_t1w_mm'])}, "
            f"round trip {nat['round_trip_mm']['target']:.3f} "
            f"mm ({nat['round_trip_mm']['inverse']} inverse); "
            f"{nat['handle_description']} on the T1w axes"
        )
    for kind, info in result["exports"].items():
        lines.append(
            f"  wrote {kind}: {info['path']} (read back: {info['round_trip_mm']:.4f} "
            f"mm, {info['round_trip_deg']:.4f} deg)"
        )
    return "\n".join(lines)
