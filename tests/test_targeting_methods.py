"""Every targeting method recovers a strong planted target on a small simulated case."""

from __future__ import annotations

import pytest

from tmstarget.exceptions import InputError
from tmstarget.simulate.evaluate import evaluate_participant
from tmstarget.simulate.model import SimulationParams
from tmstarget.targeting import METHODS


@pytest.fixture(scope="module")
def strong_case():
    params = SimulationParams(target_pct=2.5, tsnr=100.0, shift_mm=8.0)
    return evaluate_participant(11, params, minutes=(10.0,), n_sessions=1, methods=tuple(METHODS))


# voxel-wise methods land on the peak; clustering methods on a cluster's centroid (clusters are ~1
# cm wide)
# (shrinkage: a strong target gives a weight near 1, so the robust optimum pulled slightly towards
# the group site 8 mm away)
# (efield: the target is the cortical hotspot of the best coil placement, the |E|-weighted centre of
# ~2.5 cm of cortex:
# it lies where the field is strongest, on the crown under the coil, not on the planted voxel)
TOLERANCE_MM = {
    "robust": 3.0,
    "similarity": 4.0,
    "seedmap": 4.0,
    "cluster": 6.0,
    "hierarchical": 6.0,
    "shrinkage": 3.0,
    "efield": 8.0,
}


@pytest.mark.parametrize("method", list(METHODS))
def test_method_recovers_planted_target(strong_case, method):
    row = next(r for r in strong_case if r["method"] == method)
    assert row["error_mm"] <= TOLERANCE_MM[method], (
        f"{method}: {row['error_mm']:.1f} mm from the planted target"
    )


def test_unknown_method_is_an_input_error():
    from tmstarget.targeting import choose_target

    with pytest.raises(InputError, match="unknown method 'best'"):
        choose_target("best", None, None)


def test_registry_declares_each_method_once():
    """What a method is comes from its registry entry.

    The entry gives its input kinds, fast path, cost, post-step and --method choices.
    """
    from tmstarget.cli._common import method_choices
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.methods import INPUT_KINDS, check_method, get_method
    from tmstarget.targeting.uncertainty import default_resamples

    assert method_choices() == list(METHODS) and TargetingOptions().method == "robust" == next(
        iter(METHODS)
    )
    for name, m in METHODS.items():
        assert (
            get_method(name) is m and m.inputs == INPUT_KINDS
        )  # cluster too: every method on every input kind
        assert all(check_method(name, kind) is m for kind in INPUT_KINDS)
        assert default_resamples(name) == (50 if m.cost == "slow" else 200)
        assert not (m.needs_similarity and m.seed_score_fast_path)
    assert [n for n, m in METHODS.items() if m.cost == "slow"] == ["similarity", "hierarchical"]
    assert [n for n, m in METHODS.items() if m.seed_score_fast_path] == [
        "robust",
        "seedmap",
        "cluster",
        "shrinkage",
        "efield",
    ]
    assert [n for n, m in METHODS.items() if m.post_step is not None] == ["shrinkage"]
    assert [n for n, m in METHODS.items() if m.places_coil] == ["efield"]
    assert METHODS["efield"].keywords(
        TargetingOptions(method="efield", placement_error_mm=3.0)
    ) == {"error_mm": 3.0, "error_deg": 10.0}
    assert TargetingOptions(method="efield").parameters_json()["placement_error_deg"] == 10.0
    assert (
        "placement_error_mm" not in TargetingOptions().parameters_json()
    )  # only the methods that use it carry it
    with pytest.raises(
        InputError, match="unknown method 'best' — choose one of robust, similarity"
    ):
        check_method("best", "cifti")


def test_fingerprint_comes_from_the_options_and_matches_the_target_json():
    """The cohort runner's resume check reads the options (no dummy result).

    Its fields equal what a result writes.
    """
    import numpy as np

    from tmstarget.cohort import fingerprint
    from tmstarget.targeting import TargetingOptions, TargetResult

    options = TargetingOptions(
        method="shrinkage",
        global_signal=True,
        fwhm_mm=4.0,
        group_target=(-40.0, 40.0, 30.0),
        bootstrap=50,
    )
    result = TargetResult(
        target_mni=np.zeros(3),
        score=0.0,
        score_raw=0.0,
        circuit="sgacc",
        method="shrinkage",
        space="",
        runs=[],
        score_map=np.zeros(0),
        affine=np.eye(4),
        n_search_voxels=0,
        options=options,
    )
    doc = result.to_json("01", None)
    fp = fingerprint(options)
    assert fp == {
        "circuit": "sgacc",
        "method": "shrinkage",
        "parameters": doc["parameters"],
        "n_bootstrap": 50,
    }
    assert fp["parameters"]["confounds_strategy"].endswith("+gsr") and fp["parameters"][
        "group_target_mni"
    ] == [-40.0, 40.0, 30.0]
