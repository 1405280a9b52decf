"""Writing a participant's derivatives (docs/outputs.md), each group of files all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ... import NOTICE, __version__
from ._atomic import (
    all_or_nothing,
    write_image_atomic,
    write_json_atomic,
    write_nifti_atomic,
    write_text_atomic,
)
from .maps import surface_score_images, volume_score_images
from .names import qc_paths, target_path


def write_dataset_description(out_dir: Path, source: Path | None = None) -> Path:
    """Write ``OUT/dataset_description.json`` if absent.

    It describes a BIDS derivative, ``GeneratedBy`` tmstarget.
    """
    path = Path(out_dir) / "dataset_description.json"
    desc: dict[str, Any] = {
        "Name": "tmstarget connectivity-guided TMS targets",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "tmstarget",
                "Version": __version__,
                "Description": f"fMRI-guided TMS targeting ({NOTICE})",
            }
        ],
    }
    if source is not None:
        desc["SourceDatasets"] = [{"URL": Path(source).resolve().as_uri()}]
    if path.exists():
        try:
            old = json.loads(path.read_text())
            if old.get("GeneratedBy") == desc["GeneratedBy"]:
                return path
        except (OSError, json.JSONDecodeError):
            pass
    return write_json_atomic(path, desc)


def write_target_outputs(
    result, out_dir: Path, participant: str, session: str | None, source: Path | None = None
) -> dict[str, Path]:
    """Write the derivatives of one participant.

    These are ``dataset_description.json``, the score map(s), the QC files and the target JSON.

    Files (``<p>`` = ``sub-<l>[_ses-<s>]``): the score map the target maximises (NaN outside the
    search region; ``<p>_desc-<circuit>_score.nii.gz`` for volumes, GIFTI/CIFTI for surfaces, as the
    result's geometry names them), ``<p>_desc-tsnr_map.nii.gz`` (temporal SNR, volumes),
    ``<p>_desc-motion_timeseries.tsv`` (framewise displacement and censoring per volume) and, last,
    ``<p>_desc-<circuit>_target.json``. Each is written atomically; if a later one fails, the ones
    this call created are removed, so a failed run leaves no partial target.

    Parameters
    ----------
    result : tmstarget.targeting.TargetResult
        Outcome of :func:`tmstarget.targeting.compute_target`.
    out_dir : Path
        Derivatives root.
    participant, session : str
        BIDS labels (without prefixes).
    source : Path, optional
        The input dataset, recorded in ``dataset_description.json``.

    Returns
    -------
    dict
        Paths written: ``"json"``, ``"score"`` (volumes) or ``"score_0"``, … (surfaces), ``"tsnr"``
        and ``"motion"``.
    """
    out_dir = Path(out_dir)
    surface = getattr(result.geometry, "kind", "volume") == "surface"
    write_dataset_description(out_dir, source)
    json_path = target_path(out_dir, participant, session, result.circuit, "target", ".json")
    qc = qc_paths(out_dir, participant, session)
    if surface:
        images = surface_score_images(
            result.score_map,
            result.geometry.grayordinates,
            result.circuit,
            out_dir,
            participant,
            session,
        )
    else:
        images = volume_score_images(
            result.score_map,
            result.affine,
            result.circuit,
            result.method,
            out_dir,
            participant,
            session,
        )
    tsnr = (
        not surface and result.tsnr_map is not None
    )  # surface tSNR is reported in the JSON's qc only
    with all_or_nothing([*images, *([qc["tsnr"]] if tsnr else []), qc["motion"], json_path]):
        for path, img in images.items():
            write_image_atomic(path, img)
        if tsnr:
            write_nifti_atomic(qc["tsnr"], result.tsnr_map, result.affine, "temporal SNR")
        write_text_atomic(qc["motion"], result.motion_table())
        write_json_atomic(json_path, result.to_json(participant, session))
    if surface:
        return {
            "json": json_path,
            "motion": qc["motion"],
            **{f"score_{i}": p for i, p in enumerate(images)},
        }
    return {
        "json": json_path,
        "score": next(iter(images)),
        "tsnr": qc["tsnr"],
        "motion": qc["motion"],
    }


def write_reliability_outputs(
    results: list[dict], out_dir: Path, source: Path | None = None
) -> list[Path]:
    """Write ``<p>_desc-<circuit>_reliability.json`` of each result, all or nothing.

    The files are at participant level.
    """
    write_dataset_description(out_dir, source)
    paths = [
        target_path(out_dir, r["participant"], r["session"], r["circuit"], "reliability")
        for r in results
    ]
    with all_or_nothing(paths):
        for path, res in zip(paths, results):
            write_json_atomic(path, res)
    return paths


def write_table_outputs(
    tsv: Path, text: str, sidecar: Path, doc: dict, sidecar_first: bool = False
) -> Path:
    """Write a TSV and its JSON (sidecar or summary), both or neither; return the TSV's path."""
    with all_or_nothing([tsv, sidecar]):
        if sidecar_first:
            write_json_atomic(sidecar, doc)
        write_text_atomic(tsv, text)
        if not sidecar_first:
            write_json_atomic(sidecar, doc)
    return Path(tsv)


def write_map_with_sidecar(
    path: Path, volume, affine, intent: str, sidecar: dict
) -> tuple[Path, Path]:
    """Write a float32 NIfTI map and its JSON sidecar (same name, ``.json``), both or neither."""
    path = Path(path)
    side = Path(str(path).removesuffix(".gz").removesuffix(".nii") + ".json")
    with all_or_nothing([path, side]):
        write_nifti_atomic(path, volume, affine, intent)
        write_json_atomic(side, sidecar)
    return path, side
