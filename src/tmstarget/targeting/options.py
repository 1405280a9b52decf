"""Building and checking :class:`~tmstarget.targeting.TargetingOptions` before any data are read.

:func:`targeting_options` is what ``tmstarget target`` runs on its options: a bad circuit map,
search mask, group target or placement error fails in a second, with a one-line
:class:`~tmstarget.exceptions.InputError`, rather than after the BOLD data have been cleaned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..exceptions import InputError
from .defaults import CIRCUIT, NEIGHBOURHOOD_MM
from .methods import DEFAULT_METHOD, METHODS, get_method


def check_map_inputs(circuit: str | None, search_mask: Path | str | None) -> None:
    """Check a circuit map file and a search mask file before any BOLD data is read.

    A bad file thus fails in a second.

    Parameters
    ----------
    circuit : str or None
        ``sgacc``, ``convergent`` (nothing to check) or the path of a group map in MNI space.
    search_mask : Path or None
        NIfTI (or GIFTI) mask of the search region.

    Raises
    ------
    InputError
        If the circuit map cannot be read, or the search mask is missing or unreadable.
    """
    from ..io.derivatives import load_map
    from .circuits import read_circuit_map, resolve_circuit

    if circuit not in (None, "sgacc", "convergent"):
        read_circuit_map(resolve_circuit(circuit).path)
    if search_mask is not None:
        if not Path(search_mask).is_file():
            raise InputError(
                f"--search-mask {search_mask} not found — pass a NIfTI mask on the BOLD grid"
            )
        load_map(search_mask, "search mask")


def placement_error_keywords(
    method: str,
    placement_error_mm: float | None = None,
    placement_error_deg: float | None = None,
) -> dict:
    """Return the ``TargetingOptions`` keywords of the coil placement error.

    Parameters
    ----------
    method : str
        Targeting method; only a method that places the coil (``efield``) uses the placement error.
    placement_error_mm, placement_error_deg : float, optional
        Position error (radius on the scalp) and handle rotation error; ``None``: not given.

    Returns
    -------
    dict
        The values given, keyed by their ``TargetingOptions`` field.

    Raises
    ------
    InputError
        If a value other than the default is given with a method that does not use it.
    """
    from ..coil.defaults import PLACEMENT_ERROR_DEG, PLACEMENT_ERROR_MM

    defaults = {
        "placement_error_mm": PLACEMENT_ERROR_MM,
        "placement_error_deg": PLACEMENT_ERROR_DEG,
    }
    values = {"placement_error_mm": placement_error_mm, "placement_error_deg": placement_error_deg}
    given = {k: v for k, v in values.items() if v is not None}
    if any(v != defaults[k] for k, v in given.items()) and not get_method(method).places_coil:
        raise InputError(
            "--placement-error-* is used only by --method "
            f"efield, not '{method}' — add --method efield "
            "or leave it out"
        )
    return given


def _bootstrap(method: str, n_boot: int | None) -> int:
    """Return the number of resamples of the confidence radius (``None``: the method's default)."""
    import importlib.util

    if importlib.util.find_spec("tmstarget.targeting.uncertainty") is None:
        raise InputError(
            "the confidence radius needs tmstarget.targeting.uncertainty, "
            "which this installation lacks — pass --bootstrap "
            "0 or update tmstarget"
        )
    from .uncertainty import default_resamples

    return default_resamples(method) if n_boot is None else n_boot


def _group_target(
    method: str, point: Sequence[float], search_mask: Path | str | None
) -> tuple[float, ...]:
    """Check a group target (the prior of a method's post-step) and return it as a tuple."""
    if METHODS[method].post_step is None:  # the group target is the prior of a post-step
        users = [name for name, m in METHODS.items() if m.post_step is not None]
        raise InputError(
            f"--group-target is used only by --method {' or '.join(users)}, "
            f"not '{method}' — add --method {users[0]} "
            "or leave it out"
        )
    if search_mask is None:
        from .shrinkage import check_group_target_default

        check_group_target_default(point)
    return tuple(point)


def targeting_options(
    circuit: str = CIRCUIT,
    *,
    circuit_label: str | None = None,
    method: str = DEFAULT_METHOD,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    t_r: float | None = None,
    search_mask: Path | str | None = None,
    bootstrap: int | None = None,
    group_target: Sequence[float] | None = None,
    placement_error_mm: float | None = None,
    placement_error_deg: float | None = None,
    **cleaning,
):
    """Check the parameters of a targeting run and return its ``TargetingOptions``.

    The circuit map and search mask files are read (headers and values, not the BOLD data); the
    checks run in this order: map files, confidence radius, group target, placement error.

    Parameters
    ----------
    circuit : str
        ``sgacc``, ``convergent`` or the path of a group map in MNI space.
    circuit_label : str, optional
        Label in output names (default: from the circuit).
    method : str
        Targeting method (:data:`~tmstarget.targeting.methods.METHODS`).
    neighbourhood_mm : float
        Neighbourhood of the ``robust`` score.
    t_r : float, optional
        Repetition time (s); default from the JSON sidecar or file header.
    search_mask : Path, optional
        Mask of the search region; resolved to an absolute path.
    bootstrap : int, optional
        Block-bootstrap resamples of the confidence radius; ``None``: the method's default
        (:func:`~tmstarget.targeting.uncertainty.default_resamples`), 0: off.
    group_target : (x, y, z), optional
        Prior of a post-step method (``shrinkage``), MNI mm.
    placement_error_mm, placement_error_deg : float, optional
        Coil placement error of ``efield``.
    **cleaning
        Other ``TargetingOptions`` fields (the cleaning: ``confounds_strategy``, ``global_signal``,
        ``fd_threshold_mm``, ``dvars_threshold``, ``high_pass_hz``, ``low_pass_hz``, ``fwhm_mm``,
        ``min_volumes``).

    Returns
    -------
    TargetingOptions

    Raises
    ------
    InputError
        With a one-line reason naming the option to fix.
    """
    from .result import TargetingOptions

    extra = dict(cleaning)
    check_map_inputs(circuit, search_mask)
    if bootstrap is None or bootstrap > 0:
        extra["bootstrap"] = _bootstrap(method, bootstrap)
    if group_target is not None:
        extra["group_target"] = _group_target(method, group_target, search_mask)
    return TargetingOptions(
        circuit=circuit,
        circuit_label=circuit_label,
        method=method,
        neighbourhood_mm=neighbourhood_mm,
        t_r=t_r,
        **placement_error_keywords(method, placement_error_mm, placement_error_deg),
        search_mask=Path(search_mask).resolve() if search_mask else None,
        **extra,
    )
