"""What a targeting run takes and gives.

It takes :class:`TargetingOptions` and gives a :class:`TargetResult`, with a :class:`RunInfo` per
run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..coil.geometry import PLACEMENT_ERROR_DEG, PLACEMENT_ERROR_MM
from ..io.confounds import DEFAULT_STRATEGY
from .defaults import (
    CIRCUIT,
    FD_THRESHOLD_MM,
    FWHM_MM,
    HIGH_PASS_HZ,
    LOW_PASS_HZ,
    ME_DENOISE,
    MIN_VOLUMES,
    NEIGHBOURHOOD_MM,
)
from .geometry import SurfaceGeometry, VolumeGeometry
from .methods import DEFAULT_METHOD, get_method


@dataclass(frozen=True)
class TargetingOptions:
    """Parameters of a targeting run.

    The defaults follow the trial's pipeline; see ``tmstarget target --help``.
    """

    circuit: str = CIRCUIT
    circuit_label: str | None = None
    method: str = DEFAULT_METHOD
    confounds_strategy: str = DEFAULT_STRATEGY
    global_signal: bool = False
    fd_threshold_mm: float | None = FD_THRESHOLD_MM
    dvars_threshold: float | None = None
    high_pass_hz: float | None = HIGH_PASS_HZ
    low_pass_hz: float | None = LOW_PASS_HZ
    fwhm_mm: float = FWHM_MM
    min_volumes: int = MIN_VOLUMES
    neighbourhood_mm: float = NEIGHBOURHOOD_MM
    exclude_local_mm: float = 10.0
    t_r: float | None = None
    search_mask: Path | None = None
    bootstrap: int = 0
    bootstrap_seed: int = 0
    group_target: tuple[float, float, float] | None = None
    placement_error_mm: float = PLACEMENT_ERROR_MM
    placement_error_deg: float = PLACEMENT_ERROR_DEG
    me_denoise: str = ME_DENOISE

    def parameters_json(self) -> dict:
        """Return the ``parameters`` block of the target JSON.

        With ``method`` and the circuit, it identifies a run's settings (the cohort runner's resume
        check compares these, :func:`tmstarget.cohort.fingerprint`).
        """
        return {
            "confounds_strategy": self.confounds_strategy + ("+gsr" if self.global_signal else ""),
            "fd_threshold_mm": self.fd_threshold_mm,
            "dvars_threshold": self.dvars_threshold,
            "band_pass_hz": [self.high_pass_hz, self.low_pass_hz],
            "fwhm_mm": self.fwhm_mm,
            "neighbourhood_mm": self.neighbourhood_mm,
            "exclude_local_mm": self.exclude_local_mm,
            "search_mask": "default-left-dlpfc"
            if self.search_mask is None
            else Path(self.search_mask).name,
            **(
                {"group_target_mni": [float(v) for v in self.group_target]}
                if self.group_target is not None
                else {}
            ),
            **get_method(self.method).option_values(self),
        }


@dataclass
class RunInfo:
    """What was used of one run (``fd_mm`` and ``censored`` have one entry per volume)."""

    name: str
    n_volumes: int
    n_censored: int
    t_r: float
    dof: int
    mean_fd_mm: float
    fd_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    censored: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


@dataclass
class TargetResult:
    """Outcome of :func:`compute_target`."""

    target_mni: np.ndarray
    score: float
    score_raw: float
    circuit: str
    method: str
    space: str
    runs: list[RunInfo]
    score_map: np.ndarray
    affine: np.ndarray
    n_search_voxels: int
    tsnr_map: np.ndarray | None = None
    confidence: dict | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    options: TargetingOptions = field(default_factory=TargetingOptions)
    geometry: VolumeGeometry | SurfaceGeometry | None = None
    column: int | None = None
    shrinkage: dict | None = None
    coil_placement: dict | None = None
    multi_echo: dict | None = None

    @property
    def n_volumes_used(self) -> int:
        """Volumes kept after censoring, over all runs."""
        return sum(r.n_volumes - r.n_censored for r in self.runs)

    @property
    def n_volumes_censored(self) -> int:
        """Volumes censored, over all runs."""
        return sum(r.n_censored for r in self.runs)

    def qc(self) -> dict:
        """Quality summary: motion and temporal SNR (in the search region and the whole brain)."""
        fd = np.concatenate([r.fd_mm for r in self.runs]) if self.runs else np.zeros(0)
        out = {
            "mean_fd_mm": round(float(fd.mean()), 3) if fd.size else None,
            "max_fd_mm": round(float(fd.max()), 3) if fd.size else None,
            "percent_censored": round(
                100.0
                * self.n_volumes_censored
                / max(1, self.n_volumes_used + self.n_volumes_censored),
                1,
            ),
        }
        if self.tsnr_map is not None:
            region = np.isfinite(self.score_map) & np.isfinite(self.tsnr_map)
            brain = np.isfinite(self.tsnr_map)
            out["median_tsnr_brain"] = (
                round(float(np.median(self.tsnr_map[brain])), 1) if brain.any() else None
            )
            out["median_tsnr_search_region"] = (
                round(float(np.median(self.tsnr_map[region])), 1) if region.any() else None
            )
        return out

    def motion_table(self) -> str:
        """Per-volume framewise displacement and censoring, as TSV text."""
        lines = ["run\tvolume\tframewise_displacement\tcensored"]
        for r in self.runs:
            lines += [
                f"{r.name}\t{t}\t{fd:.4f}\t{int(c)}"
                for t, (fd, c) in enumerate(zip(r.fd_mm, r.censored))
            ]
        return "\n".join(lines) + "\n"

    def to_json(self, participant: str, session: str | None) -> dict:
        """Return the target JSON object (fields in docs/outputs.md)."""
        o = self.options
        return {
            "participant": participant,
            "session": session,
            "space": self.space,
            "circuit": self.circuit,
            "method": self.method,
            "target_mni": [round(float(v), 1) for v in self.target_mni],
            "score": round(self.score, 4),
            "score_voxel": round(self.score_raw, 4),
            **(
                {
                    "confidence_radius_mm": self.confidence["confidence_radius_mm"],
                    "n_bootstrap": o.bootstrap,
                }
                if self.confidence
                else {}
            ),
            **(
                {"reliability_verdict": self.confidence["reliability_verdict"]}
                if self.confidence and "reliability_verdict" in self.confidence
                else {}
            ),
            **(
                {"confidence_drift": self.confidence["drift"]}
                if self.confidence and "drift" in self.confidence
                else {}
            ),
            **(
                {
                    "confidence_region": {
                        "ellipsoid": self.confidence["confidence_ellipsoid"],
                        "bootstrap_targets_mni": self.confidence["bootstrap"]["targets_mni"],
                    }
                }
                if self.confidence and "confidence_ellipsoid" in self.confidence
                else {}
            ),
            "n_volumes_used": self.n_volumes_used,
            "n_volumes_censored": self.n_volumes_censored,
            "runs": [r.name for r in self.runs],
            "run_details": [
                {
                    "name": r.name,
                    "n_volumes": r.n_volumes,
                    "n_censored": r.n_censored,
                    "t_r_s": r.t_r,
                    "dof": r.dof,
                    "mean_fd_mm": round(r.mean_fd_mm, 3),
                }
                for r in self.runs
            ],
            "n_search_voxels": self.n_search_voxels,
            "qc": self.qc(),
            "parameters": o.parameters_json(),
            "inputs": self.inputs,
            "tmstarget_version": __version__,
            **self._surface_json(),
            **({"multi_echo": self.multi_echo} if self.multi_echo is not None else {}),
            **({"shrinkage": self.shrinkage} if self.shrinkage else {}),
            **({"coil_placement": self.coil_placement} if self.coil_placement else {}),
        }

    def _surface_json(self) -> dict:
        """Return where on the mesh a surface target is (``target_grayordinate``, ``mesh``).

        The block is empty for volumes.
        """
        if not isinstance(self.geometry, SurfaceGeometry):
            return {}
        g, c = self.geometry.grayordinates, self.column
        return {
            "target_grayordinate": {
                "hemi": str(g.hemi[c]) or None,
                "vertex": int(g.vertex[c]) if g.vertex[c] >= 0 else None,
                "column": c,
            },
            "mesh": g.mesh,
        }
