"""Read fMRIPrep's echo-wise series (``--me-output-echos``) and combine them with tedana.

fMRIPrep writes, per multi-echo run,
``<prefix>_echo-<n>[_space-<s>][_res-<r>]_desc-preproc_bold.nii.gz`` with a JSON sidecar holding
``EchoTime`` (seconds, BIDS) and ``RepetitionTime``, beside the optimally combined
``<prefix>[_space-<s>]..._desc-preproc_bold.nii.gz``. :func:`find_echo_runs` groups the echo-wise
files of a participant by run, :func:`read_echo_run` checks that they form one acquisition (the echo
times of the sidecars, one per echo, increasing with the echo index; the same grid, number of
volumes and TR) and :func:`combine_echoes` fits T2* and combines the echoes with tedana
(``tedana.decay.fit_decay`` log-linear, ``tedana.combine.make_optcom`` T2* weights of Posse et al.
1999).

For ``tmstarget target`` (``--me-denoise``), :func:`echo_files_beside` finds the echoes of a run
found by :func:`tmstarget.io.bids.find_runs` and :func:`echo_series` makes the series targeted:
tedana's ME-ICA denoised series (:func:`tedana_denoise`, in a temporary folder) or tedana's optimal
combination (:func:`combine_echoes` with ``adaptive=True``, in memory).

Echoes in fMRIPrep's BOLD reference space (no ``space-``) are brought onto the combined series'
grid by :mod:`tmstarget.io.echo_resample` (fMRIPrep's transforms, one sparse interpolation matrix)
before :func:`echo_series` combines or denoises them.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import InputError

_ECHO_RE = re.compile(
    r"^(?P<before>sub-[a-zA-Z0-9]+.*?)_echo-(?P<echo>[0-9]+)(?P<after>(?:_[a-zA-Z0-9]+-[a-zA-Z0-9]+)*_desc-preproc_bold)\.nii(?:\.gz)?$"
)


@dataclass(frozen=True)
class EchoRun:
    """The echo-wise series of one multi-echo run, checked to belong together.

    Attributes
    ----------
    paths : tuple of Path
        Echo-wise BOLD images, first echo first.
    echo_times_ms : tuple of float
        Their echo times (ms), strictly increasing.
    t_r : float
        Repetition time (s), the same for every echo.
    n_volumes : int
    name : str
        The run's name with the echo entity removed (the combined series' filename).
    """

    paths: tuple[Path, ...]
    echo_times_ms: tuple[float, ...]
    t_r: float
    n_volumes: int
    name: str


def _sidecar(path: Path) -> Path:
    name = path.name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return path.with_name(name[: -len(ext)] + ".json")
    return path.with_suffix(".json")


def sidecar_path(path: Path) -> Path:
    """Return the JSON sidecar of an image (``x.nii.gz`` → ``x.json``)."""
    return _sidecar(Path(path))


def _read_sidecar(path: Path) -> dict:
    side = _sidecar(path)
    if not side.is_file():
        raise InputError(
            f"no JSON sidecar {side.name} for {path.name} "
            "— fMRIPrep writes one per echo with EchoTime; "
            "restore it"
        )
    try:
        doc = json.loads(side.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {side.name}: {exc} — restore fMRIPrep's sidecar") from None
    if not isinstance(doc, dict):
        raise InputError(f"{side.name} is not a JSON object — restore fMRIPrep's sidecar")
    return doc


def _echo_time_ms(doc: dict, path: Path) -> float:
    te = doc.get("EchoTime")
    if te is None:
        raise InputError(
            f"{_sidecar(path).name} has no EchoTime — multi-echo "
            "series need each echo's time (seconds, as in "
            "the BIDS sidecar)"
        )
    if isinstance(te, bool) or not isinstance(te, (int, float)) or not math.isfinite(te) or te <= 0:
        raise InputError(
            f"{_sidecar(path).name}: EchoTime {te!r} is not "
            "a positive number of seconds — fix the sidecar "
            "(e.g. 0.0145)"
        )
    if te >= 1:
        raise InputError(
            f"{_sidecar(path).name}: EchoTime {te:g} s is "
            "not a BOLD echo time — BIDS stores seconds (0.030, "
            "not 30)"
        )
    return float(te) * 1000.0


def read_echo_run(paths: list[Path] | tuple[Path, ...]) -> EchoRun:
    """Check that echo-wise files form one multi-echo run; return them in echo order.

    Each file is returned with its echo time.

    Raises
    ------
    InputError
        A single echo, a missing or repeated echo index, a missing, non-positive, repeated or
        out-of-order EchoTime, or echoes of different grids, lengths or TRs.
    """
    import nibabel as nib

    indexed = []
    for p in paths:
        m = _ECHO_RE.match(Path(p).name)
        if not m:
            raise InputError(
                f"{Path(p).name} is not an echo-wise series "
                "(…_echo-<n>_…_desc-preproc_bold.nii.gz) — "
                "pass fMRIPrep's --me-output-echos files"
            )
        indexed.append((int(m["echo"]), Path(p)))
    indexed.sort()
    idx = [i for i, _ in indexed]
    name = (
        _ECHO_RE.sub(lambda m: m["before"] + m["after"], indexed[0][1].name) + ".nii.gz"
        if indexed
        else ""
    )
    if len(indexed) < 2:
        raise InputError(
            f"{name or 'this run'} has {len(indexed)} echo-wise "
            "series; multi-echo data need at least 2 — pass "
            "the single-echo series instead"
        )
    if len(set(idx)) != len(idx):
        raise InputError(
            f"{name}: echo-{idx[[a == b for a, b in zip(idx, idx[1:])].index(True)]} "
            "appears twice — keep one file per echo"
        )
    if idx != list(range(1, len(idx) + 1)):
        missing = sorted(set(range(1, max(idx) + 1)) - set(idx))
        raise InputError(
            f"{name}: echo-{missing[0]} is missing (found "
            f"echo-{', echo-'.join(map(str, idx))}) — pass "
            "every echo of the run"
        )
    docs = [_read_sidecar(p) for _, p in indexed]
    tes = [_echo_time_ms(d, p) for d, (_, p) in zip(docs, indexed)]
    for (i, _), (j, _), a, b in zip(indexed, indexed[1:], tes, tes[1:]):
        if a == b:
            raise InputError(
                f"{name}: echo-{i} and echo-{j} have the same "
                f"EchoTime ({a / 1000:g} s) — each echo has "
                "its own; check the sidecars"
            )
        if b < a:
            raise InputError(
                f"{name}: echo-{j} ({b / 1000:g} s) is earlier "
                f"than echo-{i} ({a / 1000:g} s) — echo times "
                "out of order; "
                "the echo index must follow the echo time"
            )
    imgs = [nib.load(str(p)) for _, p in indexed]
    first = imgs[0]
    if len(first.shape) != 4:
        raise InputError(
            f"{indexed[0][1].name} is not a 4-D series — pass "
            "fMRIPrep's preprocessed echo-wise BOLD"
        )
    trs = []
    for (i, p), img, doc in zip(indexed, imgs, docs):
        if img.shape[:3] != first.shape[:3] or not np.allclose(img.affine, first.affine, atol=1e-3):
            raise InputError(
                f"{name}: echo-{i} is on another grid than "
                f"echo-1 ({img.shape[:3]} vs {first.shape[:3]}, "
                "or another affine) — "
                "use echoes from the same fMRIPrep run and space"
            )
        if len(img.shape) != 4 or img.shape[3] != first.shape[3]:
            raise InputError(
                f"{name}: echo-{i} has {img.shape[3] if len(img.shape) == 4 else 1} "
                f"volumes, echo-1 {first.shape[3]} — "
                "echoes of one run have the same length; use complete files"
            )
        tr = doc.get(
            "RepetitionTime", float(img.header.get_zooms()[3]) if len(img.shape) == 4 else None
        )
        if (
            not isinstance(tr, (int, float))
            or isinstance(tr, bool)
            or not math.isfinite(tr)
            or tr <= 0
        ):
            raise InputError(
                f"{_sidecar(p).name}: RepetitionTime {tr!r} "
                "is not a positive number of seconds — fix "
                "the sidecar"
            )
        trs.append(float(tr))
    if max(trs) - min(trs) > 1e-6:
        raise InputError(
            f"{name}: echoes have different repetition times "
            f"({', '.join(f'{t:g}' for t in trs)} s) — echoes "
            "of one run share the TR"
        )
    return EchoRun(tuple(p for _, p in indexed), tuple(tes), trs[0], int(first.shape[3]), name)


def find_echo_runs(func_dir: Path | str) -> list[EchoRun]:
    """Find every multi-echo run in an fMRIPrep ``func`` folder, sorted by name.

    Each run is checked by :func:`read_echo_run`.
    """
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(Path(func_dir).glob("*_echo-*_desc-preproc_bold.nii*")):
        m = _ECHO_RE.match(p.name)
        if m:
            groups[m["before"] + m["after"]].append(p)
    return [read_echo_run(paths) for _, paths in sorted(groups.items())]


def load_echoes(run: EchoRun, mask: np.ndarray) -> np.ndarray:
    """Load the echoes' series in the mask as a float32 array (E, V, T).

    V counts the voxels of ``mask``, in C order.
    """
    import nibabel as nib

    m = np.asarray(mask, bool)
    return np.stack([np.asarray(nib.load(str(p)).dataobj, dtype=np.float32)[m] for p in run.paths])


def combine_echoes(
    echoes: np.ndarray,
    echo_times_ms: tuple[float, ...] | list[float],
    adaptive: bool = False,
    *,
    chunk_voxels: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Tedana's T2* fit (log-linear) and T2*-weighted optimal combination.

    Tedana's functions are called on blocks of voxels (:mod:`tmstarget.io.echo_combine`); the
    result is that of the one-shot calls on the whole array, without tedana's copies of it.

    Parameters
    ----------
    echoes : ndarray, shape (E, V, T)
    echo_times_ms : sequence of float, length E
    adaptive : bool
        False: every echo in every voxel, T2* limited to 1–500 ms. True: the steps of tedana's
        ME-ICA workflow before its ICA, so that the result is its ``desc-optcom_bold``: the adaptive
        ("dropout") mask of the echoes with good signal, ``fit_decay`` over those echoes,
        ``modify_t2s_s0_maps`` (infinite T2* set to 500 ms, non-positive to 1 ms, tedana's floor)
        and ``make_optcom`` with the adaptive mask; voxels without a good echo are 0. ``tmstarget
        target --me-denoise optcom`` uses this.
    chunk_voxels : int, optional
        Voxels per block (default: 8 M values of data per block); the result does not depend on it.

    Returns
    -------
    combined : ndarray, shape (V, T), float32
    t2star_ms : ndarray, shape (V,)
        tedana's full T2* map (limited to 1–500 ms; with ``adaptive``, tedana's own limits and 0
        where no echo is good).
    """
    from .echo_combine import combine

    data = np.moveaxis(np.asarray(echoes, np.float32), 0, 1)  # (V, E, T), tedana's layout (a view)
    return combine(data, echo_times_ms, adaptive, chunk_voxels=chunk_voxels)


def tedana_version() -> str:
    """Return the installed tedana's version (recorded with every combination)."""
    import tedana

    return str(tedana.__version__)


@dataclass(frozen=True)
class TedanaResult:
    """What tedana's ME-ICA workflow produced for one run.

    Attributes
    ----------
    denoised, optcom : Path
        tedana's ``desc-denoised_bold`` (rejected components removed) and ``desc-optcom_bold``.
    n_components, components_rejected : int
        ICA components, and those tedana's decision tree rejected.
    tedana_version : str
    """

    denoised: Path
    optcom: Path
    n_components: int
    components_rejected: int
    tedana_version: str


def tedana_denoise(
    run: EchoRun, mask: Path | str, out_dir: Path | str, seed: int = 42
) -> TedanaResult:
    """Run tedana's ME-ICA workflow (``tedana.workflows.tedana_workflow``) on one checked run.

    Echo times are passed in seconds (tedana's preferred unit); the ICA is FastICA with
    ``fixed_seed=seed`` so that the same input gives the same classification. ``out_dir`` receives
    tedana's files (a work folder: the caller writes its own outputs atomically from them).
    """
    import pandas as pd
    from tedana.workflows import tedana_workflow

    out = Path(out_dir)
    tedana_workflow(
        [str(p) for p in run.paths],
        [t / 1000.0 for t in run.echo_times_ms],
        out_dir=str(out),
        mask=str(mask),
        ica_method="fastica",
        fixed_seed=seed,
        no_reports=True,
        overwrite=True,
        quiet=True,
    )
    metrics = pd.read_csv(out / "desc-tedana_metrics.tsv", sep="\t")
    return TedanaResult(
        out / "desc-denoised_bold.nii.gz",
        out / "desc-optcom_bold.nii.gz",
        int(len(metrics)),
        int((metrics["classification"] == "rejected").sum()),
        tedana_version(),
    )


# ---------------------------------------------------------------- echoes of a run, for targeting
_TAIL_RE = re.compile(r"_(?:space|hemi)-")


def echo_files_beside(bold: Path | str) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """FMRIPrep's echo-wise series of the run whose combined (or surface) series is ``bold``.

    They are in the same folder, with the same entities before ``space-`` (or ``hemi-``).

    Returns
    -------
    same_grid : tuple of Path
        Echo-wise series named as ``bold`` with an ``echo-<n>`` entity (same space and
        resolution), sorted by name.
    reference : tuple of Path
        Echo-wise series without ``space-``: fMRIPrep's BOLD reference space (native).
    """
    bold = Path(bold)
    m = _TAIL_RE.search(bold.name)
    if m is None:
        return (), ()
    prefix, tail = bold.name[: m.start()], bold.name[m.start() :]
    same, reference = [], []
    for p in sorted(bold.parent.glob(f"{prefix}_echo-*_desc-preproc_bold.nii*")):
        rest = p.name[len(prefix) :]
        echo = re.match(r"_echo-[0-9]+", rest)
        if echo is None or not _ECHO_RE.match(p.name):
            continue
        after = rest[echo.end() :]
        if after == tail:
            same.append(p)
        elif "_space-" not in after:
            reference.append(p)
    return tuple(same), tuple(reference)


@dataclass
class EchoSeries:
    """The series targeted for one multi-echo run, and how it was made.

    Attributes
    ----------
    data : ndarray, shape (T, V), float32
        The series at the voxels of the mask it was made in (Fortran order), or None before
        :func:`echo_series` made it.
    method : {"tedana", "optcom"}
    n_components, components_rejected : int or None
        tedana's ICA components and those it rejected (``tedana`` only).
    """

    data: np.ndarray
    method: str
    n_components: int | None = None
    components_rejected: int | None = None


def _stream_all(path: Path, mask: np.ndarray) -> np.ndarray:
    """(T, V) float32 of a 4-D image at the mask's voxels (Fortran order), 32 volumes a time."""
    from .images import load_image, stream_masked_volumes

    img = load_image(path, "BOLD")
    return np.concatenate([x for _, x in stream_masked_volumes(img, mask, Path(path).name)])


def _read_echoes(run: EchoRun, mask: np.ndarray, resampler=None) -> np.ndarray:
    """(V, E, T) float32 of a run's echoes at the mask's voxels, filled as the echoes are streamed.

    One array, tedana's layout, and one 32-volume chunk of an echo at a time besides it.
    """
    from .images import load_image, stream_masked_volumes

    n_vox = int(np.count_nonzero(mask))
    data = np.empty((n_vox, len(run.paths), run.n_volumes), np.float32)
    for e, path in enumerate(run.paths):
        if resampler is not None:
            chunks = resampler.chunks(path)
        else:
            chunks = stream_masked_volumes(load_image(path, "BOLD"), mask, Path(path).name)
        filled = 0
        for t0, x in chunks:
            data[:, e, t0 : t0 + len(x)] = x.T
            filled = t0 + len(x)
        if filled != run.n_volumes:
            raise InputError(
                f"{Path(path).name} has {filled} volumes, the run {run.n_volumes} — use the "
                "complete echo-wise series of one fMRIPrep run"
            )
    return data


def echo_series(
    run: EchoRun, mask: np.ndarray, affine, method: str, seed: int, resampler=None
) -> EchoSeries:
    """Make the series of one multi-echo run at the voxels of ``mask``, with tedana.

    ``tedana``: tedana's ME-ICA workflow (:func:`tedana_denoise`, FastICA seeded with ``seed``) in
    a temporary folder removed before returning; the result is its ``desc-denoised_bold``.
    ``optcom``: tedana's ``desc-optcom_bold`` (:func:`combine_echoes` with ``adaptive=True``), in
    memory: the echoes are streamed into one float32 (V, E, T) array, combined by blocks of voxels
    (:func:`tmstarget.io.echo_combine.combine`) into the (T, V) series returned.
    ``mask`` is a boolean volume on the echoes' grid (``affine``); tedana gets it as its mask, so
    that both give the same voxels. With ``resampler`` (a
    :class:`tmstarget.io.echo_resample.BoldrefResampler`), the echoes are on another grid and are
    brought onto ``mask``'s as they are read; tedana then gets them as files on the mask's bounding
    box, written in the temporary folder.
    """
    import tempfile

    import nibabel as nib

    mask = np.asarray(mask, bool)
    if method == "optcom":
        from .echo_combine import combine

        echoes = _read_echoes(run, mask, resampler)  # (V, E, T)
        series = np.empty((run.n_volumes, echoes.shape[0]), np.float32)  # (T, V)
        combine(echoes, run.echo_times_ms, adaptive=True, out=series.T)
        return EchoSeries(series, "optcom")
    if method != "tedana":
        raise ValueError(f"unknown multi-echo method {method!r}")
    with tempfile.TemporaryDirectory(prefix="tmstarget-tedana-") as work:
        if resampler is not None:
            from dataclasses import replace

            from .echo_resample import write_masked_series

            paths = tuple(Path(work) / f"echo-{e}_bold.nii" for e in range(1, len(run.paths) + 1))
            for src, dst in zip(run.paths, paths):
                box, box_affine = write_masked_series(
                    dst, resampler.chunks(src), mask, affine, run.n_volumes, run.t_r
                )
            run, mask, affine = replace(run, paths=paths), box, box_affine
        mask_path = Path(work) / "mask.nii.gz"
        nib.save(nib.Nifti1Image(mask.astype(np.uint8), affine), str(mask_path))
        result = tedana_denoise(run, mask_path, Path(work) / "tedana", seed=seed)
        data = _stream_all(result.denoised, mask)
    return EchoSeries(data, "tedana", result.n_components, result.components_rejected)
