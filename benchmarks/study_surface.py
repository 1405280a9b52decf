"""The fsaverage5 arm of the defaults study (``python benchmarks/study.py --space fsaverage5``).

Each participant is the volumetric participant of the same seed seen on the surface: the same
planted node (a voxel of the volumetric search region, :func:`~tmstarget.simulate.evaluate.
plant_target`), the same deviation field and the same random stream, so that each 40-minute session
is the volumetric session's BOLD, sampled onto fsaverage5 between the white and pial surfaces by
:func:`tmstarget.simulate.surface.simulate_surface_runs` (fMRIPrep's ``vol_to_surf``, as
``benchmarks/calibrate.py`` simulates its participants). Confounds come from the volume.

Targeting is the array-level path of ``tmstarget target --space fsaverage5``: the session's
vertices with NaN (no cortex sampled) set to 0, cleaned by the same operator as volumes
(:func:`~tmstarget.simulate.evaluate.clean_session`), each block smoothed on the mesh
(``SurfaceGeometry.smooth``), the components built by
:func:`~tmstarget.targeting.prepare.components_from` (medial wall and constant vertices left out),
the default left-DLPFC surface search region (``dlpfc_search_region``) and the simulator's group map
sampled on the vertices as ``--circuit FILE`` samples it. Every method then goes through the same
``score_and_select`` as the volumetric arm (:func:`study._score_config`); methods whose registry
entry does not support ``surface`` inputs are left out (:func:`surface_methods`).

The truth: the participant's noise-free loading (:func:`study_truth.noise_free_loading`) sampled
onto the mesh with the same sampling matrices as the BOLD; the **noise-free optimum** is its
``robust`` optimum over the search vertices, and the stimulation regret uses the placement landscape
of the search vertices weighted by their areas (:class:`study_truth.Stimulation` with the surface
components' geometry).
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import pandas as pd

SPACE = "fsaverage5"


def surface_methods(methods, kind: str = "surface") -> tuple[list[str], list[str]]:
    """Split ``methods`` into those the registry runs on ``kind`` inputs and those it does not."""
    from tmstarget.targeting import METHODS

    # an unknown name is kept: parse_args refuses it with the list of methods
    ok = [m for m in methods if m not in METHODS or METHODS[m].supports(kind)]
    return ok, [m for m in methods if m not in ok]


@lru_cache(maxsize=1)
def context(space: str = SPACE) -> SimpleNamespace:
    """Geometry, search region and circuit maps of the template, shared by every participant."""
    import calibrate  # benchmarks/calibrate.py: the simulator's group map on the vertices

    from tmstarget.surface.geometry import template_grayordinates
    from tmstarget.surface.mesh import load_template
    from tmstarget.targeting.geometry import SurfaceGeometry
    from tmstarget.targeting.surface_maps import check_region, dlpfc_search_region

    grays = template_grayordinates(space)
    geometry = SurfaceGeometry(grays, load_template(space))
    region = dlpfc_search_region(grays)
    check_region(region)
    cmaps = {
        "sgacc": None,
        "map": calibrate.simulated_group_map(SimpleNamespace(geometry=geometry)),
    }
    return SimpleNamespace(space=space, geometry=geometry, region=region, cmaps=cmaps)


def sample_to_mesh(values: np.ndarray, anat, fov: str, space: str = SPACE) -> np.ndarray:
    """Sample per-brain-voxel values onto the template's columns as the simulated BOLD is sampled.

    NaN where no cortex is sampled.
    """
    from tmstarget.simulate.surface import _samplers  # the BOLD's own sampling matrices

    full = np.zeros(int(np.prod(anat.shape)))
    full[np.flatnonzero(anat.brain.ravel(order="F"))] = values
    out = []
    for matrix, empty in _samplers(fov, space):
        v = np.asarray(matrix @ full, float)
        v[empty] = np.nan
        out.append(v)
    return np.concatenate(out)


def noise_free_values(seed: int, params, anat, region_vol, ctx) -> tuple[np.ndarray, np.ndarray]:
    """Return the noise-free loading at the surface search columns, and their MNI mm."""
    from study_truth import noise_free_loading

    loading = noise_free_loading(seed, params, anat, region_vol)
    on_mesh = sample_to_mesh(loading, anat, params.fov, ctx.space)
    cols = np.flatnonzero(ctx.region)
    return on_mesh[cols], ctx.geometry.coords(cols).astype(float)


def add_optimum_error(rows: pd.DataFrame, preset: str) -> pd.DataFrame:
    """Add ``optimum_error_mm`` and ``optimum_x/y/z``: the noise-free optimum on the mesh."""
    from study_truth import preset_params, with_optimum

    from tmstarget.simulate.model import anatomy
    from tmstarget.targeting import select_target
    from tmstarget.targeting.regions import dlpfc_search_mask

    params = preset_params(preset)
    anat = anatomy(params.fov)
    region_vol = dlpfc_search_mask(anat.brain, anat.affine)
    ctx = context()
    optimum = {}
    for seed in rows.seed.unique():
        values, coords = noise_free_values(int(seed), params, anat, region_vol, ctx)
        ok = np.isfinite(values)
        optimum[seed] = select_target(coords[ok], values[ok], "robust").coord_mm
    return with_optimum(rows, optimum)


def _components(x: np.ndarray, op, block: np.ndarray, fwhm_mm: float, ctx):
    """Build the components ``tmstarget target --space fsaverage5`` builds from one cleaned run."""
    from tmstarget.targeting.prepare import Prepared, _variable, components_from

    moments = np.stack(
        [x.sum(axis=0, dtype=np.float64), np.einsum("tv,tv->v", x, x, dtype=np.float64)]
    )[None]
    geometry = ctx.geometry
    smoothed = geometry.smooth(block, fwhm_mm) if fwhm_mm and fwhm_mm > 0 else block
    prepared = Prepared(
        [smoothed],
        [op],
        [],
        np.ones((geometry.n, 1, 1), bool),
        None,
        ctx.region,
        None,
        None,
        _variable(moments, [x.shape[0]]),
        geometry,
    )
    return components_from(prepared)


def run_participant(seed: int, plan) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Run both sessions of one participant on fsaverage5 under every condition of ``plan``.

    As :func:`study.run_participant`; the rows carry ``space``.
    """
    from study import pair_sessions, session_rows
    from study_truth import preset_params
    from threadpoolctl import threadpool_limits

    from tmstarget.simulate.evaluate import Session, plant_target
    from tmstarget.simulate.model import anatomy, deviation_field
    from tmstarget.simulate.surface import simulate_surface_runs
    from tmstarget.targeting.regions import dlpfc_search_mask

    params = preset_params(plan.preset)
    timings = dict.fromkeys(
        ["simulate", "clean", "smooth", "scores", "stimulation", "select", "bootstrap"], 0.0
    )
    rows, sessions = [], []
    with threadpool_limits(1):
        ctx = context(plan.space)
        rng = np.random.default_rng(seed)
        anat = anatomy(params.fov)
        region_vol = dlpfc_search_mask(anat.brain, anat.affine)
        planted = plant_target(rng, anat, region_vol, params)  # the volumetric participant's node
        n_total = int(round(max(plan.all_minutes()) * 60 / params.t_r))
        deviation = deviation_field(rng, anat, params)
        truth = noise_free_values(seed, params, anat, region_vol, ctx)
        for session in (1, 2):
            t0 = time.perf_counter()
            x, table = simulate_surface_runs(
                rng, planted, replace(params, n_volumes=n_total), 1, ctx.space, deviation=deviation
            )[0]
            x[:, ~np.isfinite(x).all(axis=0)] = 0.0  # as SurfaceSource: NaN columns constant
            data = Session(x=x, confounds=table, t_r=params.t_r)
            timings["simulate"] += time.perf_counter() - t0
            r, regions = session_rows(
                data,
                lambda n, op, block, fwhm, x=x: _components(x[:n], op, block, fwhm, ctx),
                plan,
                {"seed": seed, "session": session, "t_r": params.t_r, "truth": truth},
                (ctx.region, ctx.cmaps, planted),
                timings,
                label=f"[{ctx.space}] ",
            )
            rows += r
            sessions.append(regions)
            del data, x
    boot = pair_sessions(seed, sessions)
    return (
        pd.DataFrame(rows).assign(space=ctx.space),
        boot.assign(space=ctx.space) if len(boot) else boot,
        timings,
    )
