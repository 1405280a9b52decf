"""Defaults study: every targeting method and default on simulated participants.

The defaults studied are smoothing, the neighbourhood radius and global-signal regression (GSR).

For N simulated participants (seeds ``--first`` … ``--first + N − 1``), two sessions each (same
planted target, new noise and motion), scan lengths 5/10/20/40 minutes (the first minutes of the
same 40-minute session, so lengths are compared on the same noise), both circuits (``sgacc``: the
individual sgACC seed map; ``map``: the simulator's group circuit map, as ``tmstarget target
--circuit FILE``), every method of ``tmstarget target --method`` plus the pure **group** target (the
group map's optimum in the search region, ``robust`` selection, no individual data), this measures

- the error to the planted target and to the noise-free optimum (median, 90th percentile) and the
  between-session distance of the target and of the **coil centre** (the scalp point of the plan's
  placement: the method's own for ``efield``, else the default placement over the target;
  :mod:`study_truth`);
- the **stimulation regret** of each target: 1 − the true expected E-field-weighted score of its
  placement over the best any candidate placement reaches, on the participant's noise-free loading
  (:class:`study_truth.Stimulation`);
- the coverage of the drift-aware 95% region (``tmstarget target --bootstrap``): how often it
  contains the planted target, and the other session's target (``--bootstrap-minutes``,
  ``--n-bootstrap`` resamples, every method of ``--bootstrap-methods``), and for ``efield`` the coil
  centre's region the other session's coil centre;
- **individuality** (between-person spread of the targets over the within-person between-session
  distance) and the defaults decision of issue 25 (:mod:`study_rule`);
- optionally (``--sweep-minutes``, off by default since v2) a sweep of the defaults, one change at a
  time from today's defaults (``TargetingOptions``): smoothing FWHM (``--fwhm``), global-signal
  regression, and the neighbourhood radius (``--radii``) of the methods that use one
  (``--radius-methods``); the sweep runs ``--sweep-methods`` and the group target, today's defaults
  run every method.

Every analysis uses the array-level code of ``tmstarget target``
(:mod:`tmstarget.simulate.evaluate`); cleaning is done once per length and confound set and shared
by every smoothing, circuit, method and radius. Each participant's rows are written to
``--work``/rows (one file per participant, written atomically) as it finishes, so an interrupted run
resumes where it stopped when rerun with the same options. Summaries: ``study.csv`` (main table),
``coverage.csv``, ``sweep.csv``, ``study.md`` in ``--out``.

``--space fsaverage5`` runs the same plan on the surface (:mod:`study_surface`: the same
participants' sessions sampled onto fsaverage5, targeted as ``tmstarget target --space
fsaverage5``), in its own folder (default ``benchmarks/results/study/PRESET-v2-fsaverage5``); its
rows carry ``space``.

    # dry run
    python benchmarks/study.py --preset default --participants 2 --workers 1
    # the study v2 (about a day on 1 core)
    python benchmarks/study.py --preset calibrated --participants 50 --workers 1
    # tables from the rows done so far
    python benchmarks/study.py --preset calibrated --summarise-only
    # the fsaverage5 arm
    python benchmarks/study.py --space fsaverage5 --preset calibrated --participants 50
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from study_summaries import ellipsoid_columns, write_summaries  # noqa: E402
from study_truth import (  # noqa: E402,F401
    Stimulation,
    add_optimum_error,
    individual_optimum,
    noise_free_values,
    preset_params,
)

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Plan:
    """What is run on every participant (the checkpoint is only reused with the same plan)."""

    preset: str
    methods: tuple[str, ...]
    minutes: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0)
    circuits: tuple[str, ...] = ("sgacc", "map")
    sweep_minutes: tuple[float, ...] = ()
    fwhms: tuple[float, ...] = (0.0, 4.0, 6.0, 8.0)
    gsr: tuple[bool, ...] = (False, True)
    radii: tuple[float, ...] = (5.0, 10.0, 15.0)
    radius_methods: tuple[str, ...] = (
        "robust",
        "shrinkage",
    )  # the registry's methods with uses_neighbourhood (see main)
    sweep_methods: tuple[str, ...] = ("robust", "shrinkage")
    bootstrap_minutes: tuple[float, ...] = (10.0, 40.0)
    bootstrap_methods: tuple[str, ...] = ("robust",)  # main() passes every method of the registry
    n_bootstrap: int = 50
    space: str = "volume"  # or fsaverage5 (study_surface.py); plan.json records it when not volume

    def defaults(self) -> tuple[bool, float, float]:
        """Today's defaults (``TargetingOptions``): GSR, FWHM, neighbourhood radius."""
        from tmstarget.targeting import TargetingOptions

        d = TargetingOptions()
        return d.global_signal, d.fwhm_mm, d.neighbourhood_mm

    def all_minutes(self) -> list[float]:
        return sorted(set(self.minutes) | set(self.sweep_minutes) | set(self.bootstrap_minutes))

    def configs(self, minutes: float) -> list[tuple[bool, float]]:
        """Return the (GSR, FWHM) pairs run at this length.

        Today's defaults, and at a sweep length also one change at a time.
        """
        gsr, fwhm, _ = self.defaults()
        if minutes not in self.sweep_minutes:
            return [(gsr, fwhm)]
        return list(
            dict.fromkeys(
                [(gsr, fwhm)] + [(gsr, f) for f in self.fwhms] + [(g, fwhm) for g in self.gsr]
            )
        )

    def methods_for(self, config: tuple[bool, float]) -> tuple[str, ...]:
        """Every method at today's (GSR, FWHM); the swept methods otherwise."""
        return (
            self.methods
            if config == self.defaults()[:2]
            else tuple(m for m in self.methods if m in self.sweep_methods)
        )

    def radii_for(self, method: str, minutes: float, config: tuple[bool, float]) -> list[float]:
        """Return the neighbourhood radii run for a method.

        The default, plus the swept ones for radius methods at a sweep length and today's (GSR,
        FWHM).
        """
        default = self.defaults()[2]
        if (
            method in self.radius_methods
            and minutes in self.sweep_minutes
            and config == self.defaults()[:2]
        ):
            return sorted({default, *self.radii})
        return [default]

    def bootstrapped(self, minutes: float, config: tuple[bool, float]) -> bool:
        return minutes in self.bootstrap_minutes and config == self.defaults()[:2]


def _bootstrap_row(
    comp, scores, op, region, cmap, t_r, method, radius_mm, n, seed, planted, coil_centre
) -> tuple[dict, dict]:
    """Drift-aware 95% region of one target and whether it holds the planted target.

    The region is that of ``tmstarget target --bootstrap n``. The row also gives the stimulation
    share the region states and, for a placement method, its coil centre's 95% radius
    (``coil_centre``: the plan's coil centre, kept in the region for the other session's test).
    """
    from tmstarget.simulate.model import GROUP_TARGET_MNI
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.uncertainty import bootstrap_confidence, region_contains

    prepared = SimpleNamespace(
        operators=[op], region=region, circuit_map=cmap, infos=[SimpleNamespace(t_r=t_r)]
    )
    options = TargetingOptions(
        method=method,
        neighbourhood_mm=radius_mm,
        group_target=None if cmap is not None else GROUP_TARGET_MNI,
    )
    t0 = time.perf_counter()
    conf = bootstrap_confidence(prepared, options, n, seed, components=comp, scores=scores)
    reg = {
        **conf["confidence_ellipsoid"],
        "radius_mm": conf["confidence_radius_mm"],
    }  # the region as written to the JSON
    in_sphere, in_ellipsoid = region_contains(reg, planted)
    verdict = conf["reliability_verdict"]
    share = verdict.get("stimulation") or {}
    coil = conf.get("coil_centre") or {}
    reg["coil_centre"] = np.asarray(coil_centre, float)
    reg["coil_radius_mm"] = coil.get("radius_mm")
    return {
        "radius_95_mm": conf["confidence_radius_mm"],
        "bootstrap_radius_mm": conf["drift"]["bootstrap_radius_mm"],
        "split_radius_mm": conf["drift"]["radius_mm"],
        "reliable": bool(verdict.get("reliable", False)),
        "share_kept": share.get("share_kept"),
        "coil_radius_95_mm": coil.get("radius_mm"),
        "planted_in_sphere": in_sphere,
        "planted_in_ellipsoid": in_ellipsoid,
        "bootstrap_s": time.perf_counter() - t0,
        **ellipsoid_columns(reg),
    }, reg


def _select(
    method, comp, scores, radius, base, region, cmap, planted, stim
) -> tuple[np.ndarray, dict, dict | None]:
    """Select one method's target as ``tmstarget target`` does, with its coil centre and regret.

    The target is chosen by ``score_and_select``, through the simulator's ``select_method``; the
    stimulation regret comes from ``stim`` (:class:`study_truth.Stimulation`). With a post-step
    (``shrinkage``) also its weight, whether its split-half 95% sphere holds the planted target, and
    its block.
    """
    from tmstarget.simulate.evaluate import select_method

    choice = select_method(method, comp, scores, base["op"], region, cmap, radius)
    block = choice.post
    more = stim.plan(choice.selection.coord_mm, choice.selection)
    if block is None:
        return choice.selection.coord_mm, more, None
    individual = np.asarray(block["individual_target_mni"], float)
    return (
        choice.selection.coord_mm,
        {
            **more,
            "weight": block["weight"],
            "split_half_radius_95_mm": block["uncertainty_radius_mm"],
            "planted_in_split_half_sphere": bool(
                np.linalg.norm(individual - planted) <= block["uncertainty_radius_mm"]
            ),
        },
        block,
    )


def _score_config(comp, region, cmaps, plan, minutes, config, base, planted, timings):
    """Score every circuit, method and radius on one session's components.

    Return the rows and (for bootstrap) the regions.
    """
    from tmstarget.simulate.evaluate import shrinkage_and_group, target_row
    from tmstarget.targeting import compute_scores, get_method

    rows, regions = [], {}
    default_radius = plan.defaults()[2]
    for circuit in plan.circuits:
        t0 = time.perf_counter()
        methods = plan.methods_for(config)
        scores = compute_scores(
            comp, region, cmaps[circuit], any(get_method(m).needs_similarity for m in methods)
        )
        timings["scores"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        stim = Stimulation(comp, scores, *base["truth"])
        timings["stimulation"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        extra = {"circuit": circuit, "gsr": config[0], "fwhm_mm": config[1]}
        prior, coil = None, {}
        for method in methods:
            for radius in plan.radii_for(method, minutes, config):
                coord, more, block = _select(
                    method, comp, scores, radius, base, region, cmaps[circuit], planted, stim
                )
                prior = block if block is not None and radius == default_radius else prior
                coil[method] = (
                    [more["coil_x"], more["coil_y"], more["coil_z"]]
                    if radius == default_radius
                    else coil.get(method)
                )
                rows.append(
                    {
                        **target_row(
                            base["seed"], base["session"], minutes, method, coord, planted
                        ),
                        **extra,
                        "neighbourhood_mm": radius,
                        **more,
                    }
                )
        prior = (
            prior
            or shrinkage_and_group(
                comp, scores, base["op"], region, cmaps[circuit], default_radius
            )[1]
        )
        group = prior["group_target_mni"]  # the pure group target: the shrinkage prior's optimum
        rows.append(
            {
                **target_row(base["seed"], base["session"], minutes, "group", group, planted),
                **extra,
                "neighbourhood_mm": default_radius,
                **stim.plan(group),
            }
        )
        timings["select"] += time.perf_counter() - t0
        if plan.bootstrapped(minutes, config):
            t0 = time.perf_counter()
            for method in (m for m in plan.bootstrap_methods if m in plan.methods):
                boot, reg = _bootstrap_row(
                    comp,
                    scores,
                    base["op"],
                    region,
                    cmaps[circuit],
                    base["t_r"],
                    method,
                    default_radius,
                    plan.n_bootstrap,
                    1000 * base["seed"] + base["session"],
                    planted,
                    coil[method],
                )
                regions[(circuit, minutes, method)] = (boot, reg)
                _log(
                    f"participant {base['seed']} session {base['session']} "
                    f"{minutes:g} min {circuit}: bootstrap {method} "
                    f"{boot['bootstrap_s']:.0f} s"
                )
            timings["bootstrap"] += time.perf_counter() - t0
    return rows, regions


def _log(text: str) -> None:
    """Progress inside a participant (stderr; the per-participant line goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def session_rows(
    data, components, plan: Plan, base: dict, where: tuple, timings: dict, label: str = ""
) -> tuple[list[dict], dict]:
    """Clean, smooth and score one simulated session at every length and setting of ``plan``.

    ``components(n_volumes, operator, block, fwhm_mm)`` builds the components of a cleaned block
    (volumes and surfaces differ only there); ``base`` holds ``seed``, ``session``, ``t_r`` and
    ``truth``; ``where`` is ``(search region, circuit maps, planted target)``. Returns the target
    rows of the plan's lengths and the bootstrap regions by (circuit, minutes, method).
    """
    from tmstarget.simulate.evaluate import clean_session

    region, cmaps, planted = where
    rows, regions = [], {}
    for minutes in plan.all_minutes():
        n = int(round(minutes * 60 / base["t_r"]))
        for gsr in sorted({g for g, _ in plan.configs(minutes)}):
            t0 = time.perf_counter()
            op, block = clean_session(data, minutes, gsr)
            timings["clean"] += time.perf_counter() - t0
            for config in [c for c in plan.configs(minutes) if c[0] == gsr]:
                t0 = time.perf_counter()
                comp = components(n, op, block, config[1])
                timings["smooth"] += time.perf_counter() - t0
                r, reg = _score_config(
                    comp, region, cmaps, plan, minutes, config, {**base, "op": op}, planted,
                    timings,
                )  # fmt: skip
                rows += [r_ for r_ in r if minutes in plan.minutes or minutes in plan.sweep_minutes]
                regions.update(reg)
                _log(
                    f"{label}participant {base['seed']} session {base['session']} {minutes:g} min "
                    "done; " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items())
                )
    return rows, regions


def run_participant(seed: int, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Run both sessions of one participant under every condition of ``plan``.

    Return the target rows, the bootstrap rows and the timings (s).
    """
    from threadpoolctl import threadpool_limits

    from tmstarget.simulate.evaluate import (
        group_map_on_grid,
        plant_target,
        simulate_session,
    )
    from tmstarget.simulate.model import anatomy, deviation_field
    from tmstarget.targeting import finalize_components
    from tmstarget.targeting.regions import dlpfc_search_mask

    params = preset_params(plan.preset)
    timings = dict.fromkeys(
        ["simulate", "clean", "smooth", "scores", "stimulation", "select", "bootstrap"], 0.0
    )
    rows, sessions = [], []
    with threadpool_limits(1):  # one process per core instead of threaded BLAS
        rng = np.random.default_rng(seed)
        anat = anatomy(params.fov)
        region = dlpfc_search_mask(anat.brain, anat.affine)
        planted = plant_target(rng, anat, region, params)
        cmaps = {"sgacc": None, "map": group_map_on_grid(anat)}
        n_total = int(round(max(plan.all_minutes()) * 60 / params.t_r))
        deviation = deviation_field(
            rng, anat, params
        )  # the participant's own, the same in both sessions (None by default)
        truth = noise_free_values(
            seed, params, anat, region
        )  # its own generator: the draws above are not disturbed
        for session in (1, 2):
            t0 = time.perf_counter()
            data = simulate_session(rng, anat, planted, params, n_total, deviation)
            timings["simulate"] += time.perf_counter() - t0
            r, regions = session_rows(
                data,
                lambda n, op, block, fwhm: finalize_components(
                    [block], anat.brain, anat.affine, fwhm
                ),
                plan,
                {"seed": seed, "session": session, "t_r": params.t_r, "truth": truth},
                (region, cmaps, planted),
                timings,
            )
            rows += r
            sessions.append(regions)
            del data
    return pd.DataFrame(rows), pair_sessions(seed, sessions), timings


def pair_sessions(seed: int, sessions: list[dict]) -> pd.DataFrame:
    """Return the bootstrap rows of both sessions, each region tested on the other session's target.

    ``sessions``: per session, the regions of :func:`_score_config` by (circuit, minutes, method).
    """
    from tmstarget.targeting.uncertainty import region_contains

    boot = []
    for session, regions in enumerate(sessions, 1):
        other = sessions[2 - session]
        for key, (b, reg) in regions.items():
            other_target = other[key][1]["centre_mni"] if key in other else None
            inside = (
                region_contains(reg, other_target) if other_target is not None else (None, None)
            )
            coil_in = None
            if key in other and reg.get("coil_radius_mm") is not None:
                coil_in = bool(
                    np.linalg.norm(other[key][1]["coil_centre"] - reg["coil_centre"])
                    <= reg["coil_radius_mm"] + 1e-6
                )
            boot.append(
                {
                    "seed": seed,
                    "session": session,
                    "circuit": key[0],
                    "minutes": key[1],
                    "method": key[2],
                    **b,
                    "other_session_in_sphere": inside[0],
                    "other_session_in_ellipsoid": inside[1],
                    "other_coil_in_coil_sphere": coil_in,
                }
            )
    return pd.DataFrame(boot)


def _job(args) -> tuple[int, pd.DataFrame, pd.DataFrame, dict, float]:
    seed, plan = args
    t0 = time.perf_counter()
    if plan.space == "volume":
        rows, boot, timings = run_participant(seed, plan)
    else:
        import study_surface

        rows, boot, timings = study_surface.run_participant(seed, plan)
    return seed, rows, boot, timings, time.perf_counter() - t0


# ----------------------------------------------------------------------------------------------
# driver
def _with_space(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows written before the surface arm are volumetric."""
    return frame if "space" in frame else frame.assign(space="volume")


def _load_done(work: Path) -> tuple[list[pd.DataFrame], list[pd.DataFrame], set[int]]:
    rows, boot, done = [], [], set()
    for f in sorted((work / "rows").glob("seed-*.csv")):
        seed = int(f.stem.split("-")[1])
        rows.append(_with_space(pd.read_csv(f)))
        b = work / "boot" / f.name
        if b.exists() and b.stat().st_size > 1:
            boot.append(_with_space(pd.read_csv(b)))
        done.add(seed)
    return rows, boot, done


def _check_plan(work: Path, plan: Plan) -> None:
    from tmstarget.io.derivatives import write_json_atomic

    path = work / "plan.json"
    want = json.loads(json.dumps(asdict(plan)))
    if want["space"] == "volume":
        del want["space"]  # the volumetric plan.json as before the surface arm
    if path.exists() and json.loads(path.read_text()) != want:
        raise SystemExit(
            f"study.py: error: {work} holds rows of another "
            f"plan ({path}) — use another --work or delete "
            "it"
        )
    write_json_atomic(path, want)


def parse_args(argv=None) -> argparse.Namespace:
    from tmstarget.targeting import METHODS

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--preset",
        choices=["calibrated", "default"],
        default="calibrated",
        help="simulator parameters",
    )
    p.add_argument(
        "--space",
        choices=["volume", "fsaverage5"],
        default="volume",
        help="volumes, or the fsaverage5 arm (study_surface.py: the same participants sampled "
        "onto the mesh, targeted as `tmstarget target --space fsaverage5`)",
    )
    p.add_argument("--participants", type=int, default=50)
    p.add_argument("--first", type=int, default=0, help="first participant seed")
    p.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        help="default: every method of tmstarget target",
    )
    p.add_argument(
        "--minutes",
        type=float,
        nargs="+",
        default=[5.0, 10.0, 20.0, 40.0],
        help="scan lengths (the first minutes of a session as long as the longest)",
    )
    p.add_argument("--circuits", nargs="+", choices=["sgacc", "map"], default=["sgacc", "map"])
    p.add_argument(
        "--sweep-minutes",
        type=float,
        nargs="*",
        default=[],
        help="lengths of the FWHM/GSR/radius sweep (default none; v1 swept at 10)",
    )
    p.add_argument("--fwhm", type=float, nargs="+", default=[0.0, 4.0, 6.0, 8.0])
    p.add_argument(
        "--radii",
        type=float,
        nargs="+",
        default=[5.0, 10.0, 15.0],
        help="neighbourhood radii swept (today's default is added)",
    )
    p.add_argument(
        "--radius-methods",
        nargs="+",
        default=[name for name, m in METHODS.items() if m.uses_neighbourhood],
        help="methods whose neighbourhood radius is swept (default: those using one)",
    )
    p.add_argument(
        "--sweep-methods",
        nargs="+",
        default=["robust", "shrinkage"],
        help="methods run at the swept FWHM and GSR (every method runs at today's)",
    )
    p.add_argument("--bootstrap-minutes", type=float, nargs="*", default=[10.0, 40.0])
    p.add_argument(
        "--bootstrap-methods",
        nargs="+",
        default=None,
        help="default: every method of cost class 'fast' in "
        "the registry (the slow ones — similarity, hierarchical "
        "— cost minutes "
        "per 50 resamples; shrinkage resamples as robust: "
        "its bootstrap is that of its individual evidence)",
    )
    p.add_argument("--n-bootstrap", type=int, default=50)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="summaries (default benchmarks/results/study/PRESET-v2)",
    )
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="per-participant rows, the checkpoint (default OUT/checkpoint)",
    )
    p.add_argument(
        "--summarise-only",
        action="store_true",
        help="write the summaries from the rows done so far",
    )
    args = p.parse_args(argv)
    if args.space != "volume":
        from study_surface import surface_methods

        args.methods, skipped = surface_methods(args.methods)
        if skipped:
            print(f"study: not run on {args.space} (registry): {', '.join(skipped)}")
    if args.bootstrap_methods is None:
        args.bootstrap_methods = [m for m in args.methods if METHODS[m].cost == "fast"]
    unknown = sorted((set(args.methods) | set(args.bootstrap_methods)) - set(METHODS))
    if unknown:
        p.error(f"unknown method(s) {', '.join(unknown)} — choose from {', '.join(METHODS)}")
    suffix = "" if args.space == "volume" else f"-{args.space}"
    args.out = args.out or HERE / "results" / "study" / f"{args.preset}-v2{suffix}"
    args.work = args.work or args.out / "checkpoint"
    return args


def main(argv=None) -> None:
    from tmstarget.io.derivatives import write_text_atomic

    args = parse_args(argv)
    plan = Plan(
        preset=args.preset,
        methods=tuple(args.methods),
        minutes=tuple(args.minutes),
        circuits=tuple(args.circuits),
        sweep_minutes=tuple(args.sweep_minutes),
        fwhms=tuple(args.fwhm),
        radii=tuple(args.radii),
        radius_methods=tuple(args.radius_methods),
        sweep_methods=tuple(args.sweep_methods),
        bootstrap_minutes=tuple(args.bootstrap_minutes),
        bootstrap_methods=tuple(args.bootstrap_methods),
        n_bootstrap=args.n_bootstrap,
        space=args.space,
    )
    preset_params(plan.preset)  # fail early without the preset
    _check_plan(args.work, plan)
    rows, boot, done = _load_done(args.work)
    todo = [s for s in range(args.first, args.first + args.participants) if s not in done]
    print(
        f"study: preset {plan.preset}, {args.participants} "
        f"participants ({len(todo)} to run, {len(done)} "
        f"done), methods {', '.join(plan.methods)}, "
        f"{args.workers} worker(s); rows in {args.work}",
        flush=True,
    )
    t0 = time.perf_counter()
    if todo and not args.summarise_only:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            futures = [pool.submit(_job, (s, plan)) for s in todo]
            for i, fut in enumerate(as_completed(futures), 1):
                seed, r, b, timings, wall = fut.result()
                write_text_atomic(
                    args.work / "boot" / f"seed-{seed:04d}.csv",
                    b.to_csv(index=False, float_format="%.3f") if len(b) else "\n",
                )
                write_text_atomic(
                    args.work / "rows" / f"seed-{seed:04d}.csv",
                    r.to_csv(index=False, float_format="%.3f"),
                )
                rows.append(r)
                boot.append(b)
                parts = ", ".join(f"{k} {v:.0f}" for k, v in timings.items())
                print(
                    f"[{time.strftime('%H:%M:%S')}] participant "
                    f"{seed} done in {wall:.0f} s ({parts}); "
                    f"{i}/{len(todo)} "
                    f"({time.perf_counter() - t0:.0f} s elapsed)",
                    flush=True,
                )
    if not rows:
        raise SystemExit("study.py: error: no participant done yet — nothing to summarise")
    if plan.space == "volume":
        all_rows = add_optimum_error(pd.concat(rows, ignore_index=True), plan.preset)
    else:
        import study_surface

        all_rows = study_surface.add_optimum_error(pd.concat(rows, ignore_index=True), plan.preset)
    all_boot = (
        pd.concat([b for b in boot if len(b)], ignore_index=True)
        if any(len(b) for b in boot)
        else pd.DataFrame()
    )
    n = all_rows.seed.nunique()
    ONLY = "--summarise-only"
    header = [
        f"# Defaults study ({plan.preset} simulator"
        + ("" if plan.space == "volume" else f", {plan.space}")
        + ")",
        "",
        "`python benchmarks/study.py "
        f"{' '.join(a for a in (sys.argv[1:] if argv is None else argv) if a != ONLY)}` "
        "— "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, "
        f"{n} participants (seeds {all_rows.seed.min()}–{all_rows.seed.max()}) "
        "× 2 sessions; today's defaults: GSR "
        f"{'on' if plan.defaults()[0] else 'off'}, FWHM "
        f"{plan.defaults()[1]:g} mm, neighbourhood {plan.defaults()[2]:g} "
        "mm; "
        f"bootstrap: {plan.n_bootstrap} resamples at "
        f"{', '.join(f'{m:g}' for m in plan.bootstrap_minutes)} "
        "min.",
        "",
    ]
    print(write_summaries(all_rows, all_boot, plan, args.out, header))
    print(f"{n} participants summarised in {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
