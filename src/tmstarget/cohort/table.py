"""The cohort table: one row per target of a circuit.

Each row gives the distance to the group's mean target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..io.derivatives import read_targets, write_table_outputs

#: Columns of the cohort table and their descriptions (written to the JSON sidecar).
GROUP_COLUMNS = {
    "participant_id": "participant label (sub-<l>)",
    "session": "session label, n/a without sessions",
    "space": "space of the BOLD data the target was computed in",
    "method": "targeting method",
    "x_mm": "target, MNI x (mm)",
    "y_mm": "target, MNI y (mm)",
    "z_mm": "target, MNI z (mm)",
    "score": "circuit score at the target (higher = better)",
    "n_volumes_used": "volumes kept after censoring",
    "n_volumes_censored": "volumes censored",
    "distance_to_group_mean_mm": "Euclidean distance from the target to the mean target "
    "of the table (mm)",
}


def group_rows(targets: list[dict]) -> tuple[list[dict], list[float]]:
    """Return the rows of the cohort table and the group mean target (MNI mm).

    The rows are sorted by participant and session.

    Parameters
    ----------
    targets : list of dict
        Target JSONs (the output contract).
    """
    if not targets:
        raise InputError("no targets to tabulate — run the participant level first")
    targets = sorted(targets, key=lambda d: (str(d["participant"]), str(d.get("session") or "")))
    xyz = np.array([d["target_mni"] for d in targets], float)
    mean = xyz.mean(axis=0)
    dist = np.linalg.norm(xyz - mean, axis=1)
    rows = [
        {
            "participant_id": f"sub-{d['participant']}",
            "session": d.get("session") or "n/a",
            "space": d.get("space", "n/a"),
            "method": d.get("method", "n/a"),
            "x_mm": p[0],
            "y_mm": p[1],
            "z_mm": p[2],
            "score": d.get("score"),
            "n_volumes_used": d.get("n_volumes_used"),
            "n_volumes_censored": d.get("n_volumes_censored"),
            "distance_to_group_mean_mm": round(float(r), 1),
        }
        for d, p, r in zip(targets, xyz.round(1).tolist(), dist)
    ]
    return rows, [round(float(v), 1) for v in mean]


def write_group_table(
    out_dir: Path | str, circuit: str, participants: list[str] | None = None
) -> tuple[Path, dict]:
    """Write the cohort table and its JSON sidecar, atomically.

    The table is ``OUT/group_desc-<circuit>_targets.tsv``.

    Returns
    -------
    path : Path
        The TSV.
    summary : dict
        ``{"table": path, "n_targets": n, "group_mean_mni": [x, y, z], "rows": [...]}``.
    """
    rows, mean = group_rows([doc for _, doc in read_targets(out_dir, circuit, participants)])
    cols = list(GROUP_COLUMNS)
    text = (
        "\t".join(cols)
        + "\n"
        + "".join(
            "\t".join("n/a" if r[c] is None else str(r[c]) for c in cols) + "\n" for r in rows
        )
    )
    path = Path(out_dir) / f"group_desc-{circuit}_targets.tsv"
    sidecar = {c: {"Description": d} for c, d in GROUP_COLUMNS.items()}
    sidecar["GroupMeanMNI"] = mean
    write_table_outputs(path, text, path.with_suffix(".json"), sidecar, sidecar_first=True)
    return path, {"table": str(path), "n_targets": len(rows), "group_mean_mni": mean, "rows": rows}
