"""One target's coil plan and neuronavigation files: the workflow of ``tmstarget coil``.

:func:`plan_coil_files` reads the target (a point or the JSON ``tmstarget target`` wrote), places
the coil on the template head (:func:`tmstarget.coil.plan_coil`; optimised over a circuit map when
asked, or the placement a coil-scale target already chose), maps it to the participant's T1w space
when given fMRIPrep's transforms (:func:`tmstarget.export.native.native_pose`) and writes the
requested files (:func:`tmstarget.export.write_export_set`, all or none, each read back). Every
check runs before any file is written; a refusal is one :class:`~tmstarget.exceptions.InputError`
line (the command line's ``tmstarget coil: error: ...``).

It lives in :mod:`tmstarget.export`, not :mod:`tmstarget.coil`, because it needs the exporters and
the circuit maps, which themselves import :mod:`tmstarget.coil`.

Examples
--------
>>> from tmstarget.export.workflow import plan_coil_files
>>> run = plan_coil_files([-40.0, 42.0, 30.0], csv="target.csv")  # doctest: +SKIP
>>> run.to_dict()["placement"]["handle_description"]  # doctest: +SKIP
'handle 45° posterior-lateral (pointing backwards and to the left)'
>>> run.exports["csv"]["path"]  # doctest: +SKIP
'target.csv'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..coil.defaults import DEFAULT_COIL, DEFAULT_HANDLE_ANGLE_DEG
from ..exceptions import InputError
from .defaults import DEFAULT_VERSION

__all__ = ["CoilFiles", "plan_coil_files"]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class CoilFiles:
    """Everything :func:`plan_coil_files` computed, and the files it wrote.

    Attributes
    ----------
    target : dict
        The target as read (``target_mni``, ``space``, ``participant``, ``session``, ``circuit``;
        from a target JSON also the rest of that JSON).
    plan : tmstarget.coil.CoilPlan
        Coil, placement (template space), its field summary and the optimisation details.
    placement_source : str
        Where the placement comes from: ``"default over the target"``, ``"optimised"`` or
        ``"target JSON (--method ...)"``.
    circuit_map : str or None
        The circuit map the optimisation weighted (file name and grey-matter voxel count).
    pose : ndarray, shape (4, 4)
        The exported coil pose (tmstarget axes, mm) in ``pose_space``.
    pose_space : str
        The target's template space, or ``"T1w"`` with transforms.
    native : dict or None
        What the mapping to T1w space did (:func:`tmstarget.export.native.native_pose`).
    name : str
        Marker / target name written into the files.
    exports : dict
        Per written format: ``path``, ``round_trip_mm``, ``round_trip_deg`` (Brainsight also its
        coordinate system).
    """

    target: dict
    plan: Any
    placement_source: str
    circuit_map: str | None
    pose: Any
    pose_space: str
    native: dict | None
    name: str
    exports: dict

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: what ``tmstarget coil --json`` prints.

        Notice and version are not included.
        """
        return {
            "participant": self.target.get("participant"),
            "session": self.target.get("session"),
            "circuit": self.target.get("circuit"),
            "space": self.target["space"],
            "target_mni": [round(float(v), 1) for v in self.target["target_mni"]],
            "head_model": "template head (MNI152)",
            "circuit_map": self.circuit_map,
            "placement_source": self.placement_source,
            **self.plan.to_json(),
            "native": self.native,
            "exports": self.exports,
        }


def plan_coil_files(
    target: Sequence[float] | None = None,
    *,
    target_json: PathLike | None = None,
    space: str = "MNI152NLin6Asym",
    coil: str = DEFAULT_COIL,
    handle_angle: float = DEFAULT_HANDLE_ANGLE_DEG,
    scalp_offset_mm: float = 0.0,
    didt: float = 1.0,
    optimize: bool = False,
    circuit: str | None = None,
    search_radius_mm: float = 25.0,
    xfm: Sequence[PathLike] | None = None,
    t1w: PathLike | None = None,
    localite: PathLike | None = None,
    localite_space: str = "RAS",
    brainsight: PathLike | None = None,
    brainsight_coords: str | None = None,
    brainsight_version: int = DEFAULT_VERSION,
    brainsight_image: PathLike | None = None,
    csv: PathLike | None = None,
    poses_json: PathLike | None = None,
    name: str | None = None,
) -> CoilFiles:
    """Plan the coil for one target, map it to T1w space if asked, and write the exports.

    Parameters
    ----------
    target : sequence of 3 float, optional
        Target x, y, z (mm) in ``space``; or pass ``target_json`` (exactly one of the two).
    target_json : path-like, optional
        Target JSON written by ``tmstarget target`` (its score map, beside it, is the default
        circuit; a coil-scale target's ``coil_placement`` is used as it is).
    space : {"MNI152NLin6Asym", "MNI152NLin2009cAsym"}
        Space of ``target``.
    coil : str
        Coil model, a key of :data:`tmstarget.coil.PRESETS`.
    handle_angle : float
        Handle angle from the posterior midline direction, degrees (+ = lateral).
    scalp_offset_mm : float
        Gap between scalp and coil (hair, cap).
    didt : float
        Coil current slope for the reported fields (A/µs).
    optimize : bool
        Optimise position and handle rotation for the E-field-weighted circuit score.
    circuit : str, optional
        With ``optimize``: ``"score"`` / ``"sgacc"`` (the target's score map, the default),
        ``"convergent"`` or a group map path (positive = stimulate).
    search_radius_mm : float
        Largest shift of the scalp entry point during optimisation.
    xfm : sequence of path-like, optional
        fMRIPrep T1w ↔ template transform file(s); the exports are then in T1w world coordinates.
    t1w : path-like, optional
        Participant T1w with scalp (needs ``xfm``): the coil is moved onto that head's surface.
    localite, brainsight, csv, poses_json : path-like, optional
        Files to write (None = not this format).
    localite_space : {"RAS", "LPS"}
        Localite world axes.
    brainsight_coords : str, optional
        Brainsight coordinate system; default: the one ``brainsight_image`` offers.
    brainsight_version : {12, 14}
        Brainsight file version.
    brainsight_image : path-like, optional
        The NIfTI loaded into the Brainsight project (default: ``t1w`` when ``xfm`` is given).
    name : str, optional
        Marker / target name (default ``sub-<label>_<circuit>``, or ``"target"``).

    Returns
    -------
    CoilFiles
        The plan, the exported pose, the native mapping and the files written;
        :meth:`CoilFiles.to_dict` is the command's JSON.

    Raises
    ------
    InputError
        With the command's one-line messages: a missing target JSON or score map, an empty circuit
        map, options that contradict each other or a placement the target already chose, unreadable
        images or transforms, a pose outside the Brainsight image. Nothing is written then.
    """
    from .._utils.progress import spinner
    from ..coil import get_coil, plan_coil
    from ..io.paths import check_output_file
    from .inputs import (
        BRAINSIGHT_IMAGE,
        brainsight_system,
        chosen_placement,
        circuit_voxels,
        load_image,
        native_mapping,
        read_coil_target,
    )
    from .sets import write_export_set

    if (target is None) == (target_json is None):
        raise InputError("pass either a target point or a target JSON (exactly one)")
    if t1w is not None and not xfm:
        raise InputError(
            "--t1w needs the transforms — add --xfm with fMRIPrep's from-T1w_to-<template> file"
        )
    for path in (localite, brainsight, csv, poses_json):
        if path is not None:
            check_output_file(path, "file")
    target_json = Path(target_json) if target_json is not None else None
    tgt = read_coil_target(target, target_json, space)
    space = tgt["space"]
    try:
        from ..headmodel import load_template_head
    except ImportError:
        raise InputError(
            "the template head model (tmstarget.headmodel) "
            "is not available in this installation — update "
            "tmstarget"
        ) from None
    bs_image = brainsight_image or (t1w if xfm else None)
    system = (
        brainsight_system(bs_image, brainsight_version, brainsight_coords, "T1w" if xfm else space)
        if brainsight is not None
        else None
    )
    head = load_template_head()
    if space != getattr(head, "space", space):
        logger.warning(
            "target is in %s, the template head in %s (a few mm apart)", space, head.space
        )
    points = values = circuit_desc = None
    if optimize and "coil_placement" in tgt:
        raise InputError(
            f"the target's method ({tgt.get('method')}) "
            "already chose the coil placement — drop --optimize, "
            "or target with another --method to optimise here"
        )
    if optimize:
        points, values, circuit_desc = circuit_voxels(circuit, target_json)
    elif circuit:
        raise InputError("--circuit only weights the optimisation — add --optimize")
    chosen = chosen_placement(tgt, target_json, handle_angle, scalp_offset_mm)
    with spinner("optimising the coil placement" if optimize else "planning the coil"):
        plan = plan_coil(
            head,
            tgt["target_mni"],
            get_coil(coil),
            handle_angle,
            scalp_offset_mm,
            didt,
            points,
            values,
            search_radius_mm,
            placement=chosen,
        )
    pose, out_space, native = plan.placement.matrix, space, None
    if xfm:
        pose, native = native_mapping(xfm, t1w, plan, space)
        out_space = "T1w"
    label = tgt.get("participant")
    name = name or (f"sub-{label}_{tgt.get('circuit') or 'target'}" if label else "target")
    exports = write_export_set(
        pose,
        name,
        out_space,
        localite=localite,
        localite_space=localite_space,
        brainsight=brainsight,
        brainsight_system=system,
        brainsight_image=load_image(bs_image, *BRAINSIGHT_IMAGE)
        if brainsight is not None and system["image"] is not None
        else None,
        csv=csv,
        poses_json=poses_json,
    )
    source = (
        f"target JSON (--method {tgt.get('method')})"
        if chosen is not None
        else ("optimised" if optimize else "default over the target")
    )
    return CoilFiles(tgt, plan, source, circuit_desc, pose, out_space, native, name, exports)
