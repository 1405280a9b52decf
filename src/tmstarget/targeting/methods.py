"""The registry of targeting methods: what each method is, declared once, without heavy imports.

A method is one :class:`Method`: its selector (scores → target), the input kinds it supports,
whether a bootstrap resample may take the seed-score fast path, its cost class (which sets the
default number of resamples), an optional post-step (``shrinkage``'s pull towards the group target)
and a one-line summary with its reference. Every caller reads these properties — ``--method``
choices and help, the scores to compute, the resampling engine, the default resamples, the
post-step, the simulator and the benchmarks — instead of comparing method names. The selectors and
post-steps live in :mod:`tmstarget.targeting.selection` and :mod:`tmstarget.targeting.shrinkage` and
are imported on first call, so that ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ..exceptions import InputError

#: Input kinds: a voxel grid (NIfTI), fsaverage GIFTI pairs, CIFTI dense time series (cortex on
#: meshes + voxels).
INPUT_KINDS = ("volume", "surface", "cifti")
#: Cost classes: ``fast`` resamples take milliseconds; ``slow`` ones recompute circuit moments or
#: re-cluster.
COST_CLASSES = ("fast", "slow")


class _Lazy:
    """A function of a :mod:`tmstarget.targeting` module, imported on first call.

    Deferring the import keeps the registry import-free.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args, **kwargs):
        return getattr(importlib.import_module(self.module, __package__), self.name)(
            *args, **kwargs
        )

    def __repr__(self) -> str:
        return f"{self.module.lstrip('.')}.{self.name}"


@dataclass(frozen=True)
class Method:
    """One targeting method.

    Attributes
    ----------
    name : str
        The ``--method`` value.
    summary : str
        One line for ``--help`` and the docs.
    reference : str
        Where the method comes from.
    selector : callable
        ``selector(comp, scores, neighbourhood_mm) -> (Selection, raw score per search column)``.
    inputs : tuple of str
        Input kinds it supports (of :data:`INPUT_KINDS`).
    needs_similarity : bool
        It selects on the circuit similarity (the costlier score), so the scores must include it.
    seed_score_fast_path : bool
        Its target depends on the search columns only through their seed score, so a bootstrap
        resample may compute those scores alone
        (:func:`tmstarget.targeting.uncertainty.engine.resample_target`).
    cost : str
        ``fast`` or ``slow`` (:data:`COST_CLASSES`): slow methods get fewer default resamples.
    uses_neighbourhood : bool
        Its target depends on ``--neighbourhood-mm``.
    post_step : callable or None
        Run after the selection on the full data: ``post_step(comp, scores, operators, region,
        circuit_map, options, radius_mm) -> (Selection, JSON block)``; resamples use the selector
        alone (the uncertainty of the method's individual evidence).
    options : tuple of (str, str)
        Selector keywords taken from :class:`~tmstarget.targeting.result.TargetingOptions`:
        ``(keyword, option field)``.
    region_calibrated : bool
        Its drift-aware 95% region was checked against held-out sessions on the calibrated simulator
        (``benchmarks/verdict.py``). Without it a small radius gives no "reliable" verdict
        (:func:`~tmstarget.targeting.uncertainty.summaries.reliability_verdict`).
    places_coil : bool
        Its answer is a coil placement (:attr:`Selection.placement`): the target command writes it,
        ``coil`` uses it as it is, and the bootstrap states the uncertainty of the coil centre too.
    """

    name: str
    summary: str
    reference: str
    selector: Callable
    inputs: tuple[str, ...] = INPUT_KINDS
    needs_similarity: bool = False
    seed_score_fast_path: bool = False
    cost: str = "fast"
    uses_neighbourhood: bool = False
    post_step: Callable | None = None
    options: tuple[tuple[str, str], ...] = ()
    places_coil: bool = False
    region_calibrated: bool = False

    def __post_init__(self) -> None:
        if not set(self.inputs) <= set(INPUT_KINDS) or self.cost not in COST_CLASSES:
            raise ValueError(
                f"method {self.name}: inputs {self.inputs} "
                f"must be among {INPUT_KINDS}, cost one of "
                f"{COST_CLASSES}"
            )
        if self.needs_similarity and self.seed_score_fast_path:
            raise ValueError(
                f"method {self.name}: a method selecting on "
                "the similarity cannot take the seed-score "
                "fast path"
            )

    def select(self, comp, scores, neighbourhood_mm: float, options=None):
        """Run ``selector``: return the selection and the raw score per search column it used.

        ``options`` (a :class:`~tmstarget.targeting.result.TargetingOptions`, or a mapping of option
        fields) supplies the selector's :attr:`options`; None: the selector's defaults.
        """
        return self.selector(comp, scores, neighbourhood_mm, **self.keywords(options))

    def option_values(self, options=None) -> dict:
        """Return the method's option fields (of :attr:`options`) and their values in ``options``.

        ``options`` is an options object or a mapping of fields; unset fields are left out.
        """
        if options is None:
            return {}
        get = options.get if isinstance(options, dict) else (lambda k: getattr(options, k, None))
        return {field: get(field) for _, field in self.options if get(field) is not None}

    def keywords(self, options=None) -> dict:
        """Return the selector keywords read from ``options`` (see :meth:`option_values`)."""
        values = self.option_values(options)
        return {kw: values[field] for kw, field in self.options if field in values}

    def supports(self, kind: str) -> bool:
        """Whether the method runs on inputs of ``kind`` (of :data:`INPUT_KINDS`)."""
        return kind in self.inputs


def _select(name: str) -> _Lazy:
    return _Lazy(".selection", name)


#: Every method of ``tmstarget target --method``, in the order of ``--help``; the first is the
#: default.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "robust",
            "seed score averaged over a 6 mm neighbourhood, refined centre (default)",
            "tmstarget (benchmarks/accuracy.py)",
            _select("robust_selection"),
            seed_score_fast_path=True,
            uses_neighbourhood=True,
            region_calibrated=True,
        ),
        Method(
            "similarity",
            "circuit similarity, single best voxel (the trial's map method)",
            "Cash et al. 2021 Hum Brain Mapp",
            _select("similarity_selection"),
            needs_similarity=True,
            cost="slow",
        ),
        Method(
            "seedmap",
            "seed-map peak: most anticorrelated with sgACC (Fox 2012) / weighted seed (Fox 2013)",
            "Fox et al. 2012 Biol Psychiatry; Fox et al. 2013 NeuroImage",
            _select("seedmap_selection"),
            seed_score_fast_path=True,
        ),
        Method(
            "cluster",
            "centre of gravity of the largest connected patch "
            "of the seed map's top 10% (contarg 'cluster')",
            "contarg 'cluster'; Neuroinformatics 2022 (doi 10.1007/s12021-022-09585-4)",
            _select("cluster_selection"),
            seed_score_fast_path=True,
        ),
        Method(
            "hierarchical",
            "SNT/SAINT-style hierarchical clustering of DLPFC time courses",
            "Cole et al. 2020 Am J Psychiatry",
            _select("hierarchical_selection"),
            cost="slow",
        ),
        Method(
            "shrinkage",
            "robust score pulled towards the group target "
            "by its split-half noise (empirical Bayes)",
            "Efron & Morris 1973/1975 JASA (positive-part James-Stein)",
            _select("robust_selection"),
            seed_score_fast_path=True,
            uses_neighbourhood=True,
            post_step=_Lazy(".shrinkage", "shrinkage_step"),
            region_calibrated=True,
        ),
        Method(
            "efield",
            "coil placement maximising the E-field-weighted "
            "seed score averaged over placement error (5 "
            "mm, ±10°)",
            "Lynch et al. (TANS, E-field-weighted placement "
            "averaged over error); tmstarget.coil.landscape",
            _select("efield_selection"),
            seed_score_fast_path=True,
            options=(("error_mm", "placement_error_mm"), ("error_deg", "placement_error_deg")),
            places_coil=True,
        ),
    )
}

#: The default method (``TargetingOptions.method``).
DEFAULT_METHOD = next(iter(METHODS))


def get_method(method: str | Method) -> Method:
    """Return the registry entry of ``method`` (a name or a :class:`Method`).

    An unknown name is an :class:`InputError`.
    """
    if isinstance(method, Method):
        return method
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown method '{method}' — choose one of {', '.join(METHODS)}"
        ) from None


def methods_for(kind: str) -> tuple[str, ...]:
    """Names of the methods supporting input ``kind``."""
    return tuple(name for name, m in METHODS.items() if m.supports(kind))


def check_method(method: str, kind: str = "volume") -> Method:
    """Return the method, refusing an unknown one or one that does not support input ``kind``.

    A refusal is an :class:`InputError` with a one-line message.
    """
    m = get_method(method)
    if not m.supports(kind):
        raise InputError(
            f"method '{m.name}' is not available on {kind} "
            f"inputs — choose one of {', '.join(methods_for(kind))}"
        )
    return m
