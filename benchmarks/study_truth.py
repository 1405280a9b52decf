"""The truth a defaults-study target is judged against, and its coil placement (:mod:`study`).

- :func:`noise_free_values`: the participant's noise-free loading over the search columns (what
  infinite data would give the seed score, up to scale): the signals that follow the target time
  course — the planted node and, in the calibrated simulator, the participant's deviation field —,
  redrawn from the participant's seed.
- :func:`individual_optimum`: the ``robust`` optimum of those values (the **noise-free optimum**).
- :class:`Stimulation`: the placement landscape of the search region and the true expected
  E-field-weighted score of every placement; :meth:`Stimulation.plan` gives a target's coil centre
  (the plan's placement: the method's own for ``efield``, else the default placement over the
  target) and its **stimulation regret** 1 − E_true(plan) / max over candidate placements of E_true.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def preset_params(name: str):
    """Return the simulator's parameters of a preset.

    ``default`` (``SimulationParams()``) or ``calibrated`` (``model.CALIBRATED``).
    """
    from tmstarget.simulate import model

    if name == "default":
        return model.SimulationParams()
    if not hasattr(model, "CALIBRATED"):
        raise SystemExit(
            "study.py: error: tmstarget.simulate.model has "
            "no CALIBRATED preset yet — use --preset default "
            "or merge the calibrated simulator"
        )
    return model.CALIBRATED


def _search_columns(anat, region) -> np.ndarray:
    """Return the indices (into the brain voxels, Fortran order) of the search region's voxels."""
    return np.flatnonzero(region.ravel(order="F")[np.flatnonzero(anat.brain.ravel(order="F"))])


def noise_free_values(seed: int, params, anat=None, region=None) -> tuple[np.ndarray, np.ndarray]:
    """Return the participant's noise-free loading over the search region's voxels.

    Also returns the voxels' coordinates (MNI mm). Redraws the participant's planted node and
    deviation field from its seed, in the order of :func:`study.run_participant` (the anatomy draws
    nothing).
    """
    from tmstarget.simulate.model import anatomy
    from tmstarget.targeting.regions import dlpfc_search_mask

    anat = anat if anat is not None else anatomy(params.fov)
    region = region if region is not None else dlpfc_search_mask(anat.brain, anat.affine)
    loading = noise_free_loading(seed, params, anat, region)
    idx = _search_columns(anat, region)
    return loading[idx].astype(float), anat.xyz[idx].astype(float)


def noise_free_loading(seed: int, params, anat, region) -> np.ndarray:
    """Return the participant's noise-free loading over every brain voxel (Fortran order).

    The planted node and deviation field are redrawn from the participant's seed, in the order of
    :func:`study.run_participant`; :func:`noise_free_values` keeps the search region's voxels, the
    surface arm (:mod:`study_surface`) samples it onto the mesh.
    """
    from tmstarget.simulate.evaluate import plant_target
    from tmstarget.simulate.model import deviation_field, network_maps

    rng = np.random.default_rng(seed)
    planted = plant_target(rng, anat, region, params)
    maps = network_maps(anat, planted, params.target_sigma_mm, deviation_field(rng, anat, params))
    return params.target_pct * maps["target"] + (
        params.deviation_pct * maps["deviation"] if "deviation" in maps else 0.0
    )


def individual_optimum(seed: int, params, anat=None, region=None) -> np.ndarray:
    """Return the participant's noise-free optimum (MNI mm).

    It is the ``robust`` optimum of :func:`noise_free_values`. With a deviation field this is where
    infinite data would put the target, and it can lie far from the planted node.
    """
    from tmstarget.targeting import select_target

    values, coords = noise_free_values(seed, params, anat, region)
    return select_target(coords, values, "robust").coord_mm


def add_optimum_error(rows: pd.DataFrame, preset: str) -> pd.DataFrame:
    """Add ``optimum_error_mm``, each target's distance to its participant's noise-free optimum.

    The optimum (:func:`individual_optimum`) is also given, as ``optimum_x/y/z``.
    """
    from tmstarget.simulate.model import anatomy
    from tmstarget.targeting.regions import dlpfc_search_mask

    params = preset_params(preset)
    anat = anatomy(params.fov)
    region = dlpfc_search_mask(anat.brain, anat.affine)
    optimum = {
        seed: individual_optimum(int(seed), params, anat, region) for seed in rows.seed.unique()
    }
    return with_optimum(rows, optimum)


def with_optimum(rows: pd.DataFrame, optimum: dict) -> pd.DataFrame:
    """Add each row's noise-free optimum (``optimum_x/y/z``) and its distance to it."""
    xyz, opt = rows[["x", "y", "z"]].to_numpy(float), np.array([optimum[s] for s in rows.seed])
    return rows.assign(
        optimum_error_mm=np.linalg.norm(xyz - opt, axis=1),
        optimum_x=opt[:, 0],
        optimum_y=opt[:, 1],
        optimum_z=opt[:, 2],
    )


class Stimulation:
    """One participant's placement landscape over the search columns.

    It also holds the true expected score of every placement.
    """

    def __init__(self, comp, scores, values: np.ndarray, value_coords: np.ndarray) -> None:
        from tmstarget.coil.landscape import landscape_for

        coords = np.asarray(scores.coords, float)
        pos = {tuple(np.round(c, 3)): i for i, c in enumerate(np.asarray(value_coords, float))}
        order = np.array(
            [pos[tuple(np.round(c, 3))] for c in coords]
        )  # the valid search columns, in the scores' order
        self.land = landscape_for(coords, comp.geometry.areas(scores.search_idx))
        self.expected = self.land.scores(np.asarray(values, float)[order])
        self.best = float(np.where(self.land.inner, self.expected, -np.inf).max())

    def plan(self, target_mm, selection=None) -> dict:
        """Return the plan's coil centre, handle rotation and stimulation regret for a target.

        The coil centre is the scalp point of the plan's placement.
        """
        from tmstarget.targeting.uncertainty.stimulation import plan_placement_index

        if (
            selection is not None
            and selection.placement is not None
            and selection.placement["landscape"] is not self.land
        ):
            raise RuntimeError(
                "the method's placement lies on another landscape "
                "than the study's (search columns or placement "
                "error differ)"
            )
        i = plan_placement_index(self.land, np.asarray(target_mm, float), selection)
        centre = self.land.scalp_mm[i]
        share = float(self.expected[i]) / self.best if self.best > 0 else float("nan")
        return {
            "coil_x": centre[0],
            "coil_y": centre[1],
            "coil_z": centre[2],
            "coil_psi_deg": float(self.land.params[i, 2]),
            "placement_index": int(i),
            "regret": 1.0 - share,
        }


def infinite_data_reference(seeds, preset: str) -> pd.DataFrame:
    """Compute what infinite data would give, per participant.

    The ``robust`` target is the noise-free optimum (its regret is that of the default placement
    over it) and ``efield`` takes the best placement of the noise-free loading (regret 0; its
    target, the search column nearest that placement's hotspot, lies
    ``efield_target_to_optimum_mm`` from the optimum). The floor of each method's error to the
    optimum and regret, for reading the tables.
    """
    from tmstarget.coil.landscape import landscape_for
    from tmstarget.simulate.model import anatomy
    from tmstarget.targeting.regions import dlpfc_search_mask
    from tmstarget.targeting.uncertainty.stimulation import plan_placement_index

    params = preset_params(preset)
    anat = anatomy(params.fov)
    region = dlpfc_search_mask(anat.brain, anat.affine)
    out = []
    for seed in seeds:
        values, coords = noise_free_values(int(seed), params, anat, region)
        opt = individual_optimum(int(seed), params, anat, region)
        land = landscape_for(coords, np.ones(len(coords)))
        expected = land.scores(values)
        best, top = land.best(values)
        plan = plan_placement_index(land, opt)
        col = coords[np.argmin(np.linalg.norm(coords - land.hotspots_mm[best], axis=1))]
        out.append(
            {
                "seed": int(seed),
                "robust_regret": 1.0 - float(expected[plan]) / top,
                "efield_target_to_optimum_mm": float(np.linalg.norm(col - opt)),
                "coil_centres_apart_mm": float(
                    np.linalg.norm(land.scalp_mm[best] - land.scalp_mm[plan])
                ),
            }
        )
    return pd.DataFrame(out)
