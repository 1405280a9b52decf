"""Names of the derivatives (BIDS entities) and the rules that relate them (see docs/outputs.md)."""

from __future__ import annotations

from pathlib import Path

from ...exceptions import InputError

#: Suffix of a target JSON: ``<p>_desc-<circuit>_target.json``.
TARGET_SUFFIX = "_target.json"


def check_label(value: str, what: str) -> str:
    """Return a BIDS label without its prefix; refuse path separators (a label is a folder name)."""
    label = str(value).strip()
    prefix = {"participant": "sub-", "session": "ses-"}.get(what, "")
    label = label.removeprefix(prefix) if prefix else label
    if not label or label in {".", ".."} or any(c in label for c in "/\\\0"):
        raise InputError(
            f"{what} label {value!r} is not a usable label "
            f"— pass the label without '{prefix or 'desc-'}', "
            "e.g. 01"
        )
    return label


def entities(participant: str, session: str | None) -> str:
    """BIDS filename prefix ``sub-<l>[_ses-<s>]``."""
    return f"sub-{participant}" + (f"_ses-{session}" if session else "")


def participant_dir(out_dir: Path, participant: str, session: str | None) -> Path:
    """Output folder ``OUT/sub-<l>[/ses-<s>]``."""
    d = Path(out_dir) / f"sub-{participant}"
    return d / f"ses-{session}" if session else d


def target_path(
    out_dir: Path,
    participant: str,
    session: str | None,
    circuit: str,
    suffix: str = "target",
    ext: str = ".json",
) -> Path:
    """Path ``OUT/sub-<l>/[ses-<s>/]sub-<l>[_ses-<s>]_desc-<circuit>_<suffix><ext>``."""
    return (
        participant_dir(out_dir, participant, session)
        / f"{entities(participant, session)}_desc-{circuit}_{suffix}{ext}"
    )


#: The circuit-independent QC files of a participant, ``<p>`` = ``sub-<l>[_ses-<s>]``.
QC_NAMES = {"tsnr": "{p}_desc-tsnr_map.nii.gz", "motion": "{p}_desc-motion_timeseries.tsv"}


def qc_paths(out_dir: Path, participant: str, session: str | None) -> dict[str, Path]:
    """Paths of the QC files of a participant.

    The files are those of :data:`QC_NAMES`: the ``tsnr`` map and the ``motion`` table.
    """
    folder, stem = participant_dir(out_dir, participant, session), entities(participant, session)
    return {k: folder / v.format(p=stem) for k, v in QC_NAMES.items()}


def sibling(target_json: Path | str, suffix: str) -> Path | None:
    """Return the file beside a target JSON with the same entities and another suffix.

    ``<p>_desc-<circuit>_target.json`` → ``<p>_desc-<circuit>_<suffix>`` (e.g. ``score.nii.gz``,
    ``reliability.json``). Return None for other names.
    """
    target_json = Path(target_json)
    if not target_json.name.endswith(TARGET_SUFFIX):
        return None
    return target_json.with_name(target_json.name[: -len(TARGET_SUFFIX)] + "_" + suffix)


def score_path(target_json: Path | str) -> Path | None:
    """Return the volumetric score map of a target JSON (``..._score.nii.gz`` beside it).

    Return None for other names.
    """
    return sibling(target_json, "score.nii.gz")


def qc_path(target_json: Path | str, target: dict, what: str) -> Path:
    """QC file ``what`` beside a target JSON whose contents are ``target``.

    ``what`` is a key of :data:`QC_NAMES`.
    """
    stem = entities(str(target["participant"]), target.get("session"))
    return Path(target_json).with_name(QC_NAMES[what].format(p=stem))


def circuit_of(target_json: Path | str) -> str:
    """Return the circuit label of a target JSON's name (``..._desc-<circuit>_target.json``)."""
    return Path(target_json).name.rsplit("_desc-", 1)[1].removesuffix(TARGET_SUFFIX)


def target_files(out_dir: Path | str, circuit: str | None = None) -> list[Path]:
    """Every ``sub-*/[ses-*/]sub-*_desc-<circuit>_target.json`` under a derivatives folder, sorted.

    All circuits are included when ``circuit`` is None.
    """
    return sorted(Path(out_dir).glob(f"sub-*/**/sub-*_desc-{circuit or '*'}{TARGET_SUFFIX}"))
