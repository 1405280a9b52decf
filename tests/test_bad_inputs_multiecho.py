"""Bad multi-echo inputs (issue 27 part 5).

Echo counts and echo times are given to ``simulate``, echo-wise data to ``target``.

Each case is checked by :func:`bad_input_harness.check_refused`: exit 2, one stderr line, no
traceback, nothing written or changed. Echo times must be finite, positive, in ms, strictly
increasing, one per echo; one echo is not multi-echo data. ``target`` refuses a run that has only
echo-wise series (it needs fMRIPrep's combined series for the grid, confounds and mask), echo-wise
series in fMRIPrep's BOLD reference space (no ``space-``: tmstarget does not apply fMRIPrep's
transforms) unless ``--me-denoise none``, and an unknown ``--me-denoise``. ``--me-denoise`` on
single-echo data is not refused: it does nothing (``tests/test_cli_target_multiecho.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_harness import check_refused

SIM = ["simulate", "{o}/sim", "--volumes", "20", "--runs", "1"]

CASES: list[tuple[str, list[str], str]] = [
    ("echoes-one", [*SIM, "--echoes", "1"], "is not multi-echo data"),
    ("echoes-zero", [*SIM, "--echoes", "0"], "is not multi-echo data"),
    ("echoes-negative", [*SIM, "--echoes", "-3"], "is not multi-echo data"),
    ("echoes-too-many", [*SIM, "--echoes", "12"], "use 2-8"),
    ("echoes-text", [*SIM, "--echoes", "three"], "three"),
    ("one-echo-time", [*SIM, "--echo-times-ms", "30"], "at least 2"),
    (
        "one-echo-time-one-echo",
        [*SIM, "--echoes", "1", "--echo-times-ms", "30"],
        "is not multi-echo data",
    ),
    (
        "count-mismatch-fewer",
        [*SIM, "--echoes", "3", "--echo-times-ms", "14.5", "38.5"],
        "2 echo time(s) for 3 echoes",
    ),
    (
        "count-mismatch-more",
        [*SIM, "--echoes", "2", "--echo-times-ms", "14.5", "38.5", "62.5"],
        "3 echo time(s) for 2 echoes",
    ),
    (
        "out-of-order",
        [*SIM, "--echoes", "3", "--echo-times-ms", "38.5", "14.5", "62.5"],
        "out of order",
    ),
    ("out-of-order-last", [*SIM, "--echo-times-ms", "14.5", "62.5", "38.5"], "out of order"),
    (
        "duplicate",
        [*SIM, "--echoes", "3", "--echo-times-ms", "14.5", "14.5", "62.5"],
        "given twice",
    ),
    ("zero", [*SIM, "--echo-times-ms", "0", "30", "60"], "not positive"),
    ("negative", [*SIM, "--echo-times-ms", "-14.5", "30", "60"], "not positive"),
    ("nan", [*SIM, "--echo-times-ms", "14.5", "nan", "60"], "finite number"),
    ("inf", [*SIM, "--echo-times-ms", "14.5", "30", "inf"], "finite number"),
    ("seconds-not-ms", [*SIM, "--echo-times-ms", "0.0145", "0.0385", "0.0625"], "in ms"),
    (
        "microseconds",
        [*SIM, "--echo-times-ms", "14500", "38500", "62500"],
        "not a plausible BOLD echo time",
    ),
    ("echo-time-text", [*SIM, "--echo-times-ms", "14.5", "late"], "late"),
    (
        "target-echoes-only",
        ["target", "{echoes_only}", "{o}/t", "participant", "--participant-label", "01"],
        "only echo-wise BOLD",
    ),
    (
        "target-native-echoes",
        ["target", "{native}", "{o}/t", "participant", "--participant-label", "01"],
        "BOLD reference space (no space- entity)",
    ),
    (
        "target-native-echoes-optcom",
        ["target", "{native}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "pass --me-denoise none",
    ),
    (
        "target-me-denoise-unknown",
        ["target", "{native}", "{o}/t", "participant", "--me-denoise", "meica"],
        "invalid choice: 'meica'",
    ),
]


@pytest.fixture(scope="module")
def echoes_only(tmp_path_factory) -> Path:
    """Build a multi-echo dataset whose optimally combined series is missing.

    The echoes, confounds and mask are there.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    root = tmp_path_factory.mktemp("bad_me") / "fmriprep"
    simulate_dataset(
        root,
        n_runs=1,
        params=SimulationParams(n_volumes=20),
        seed=1,
        dtype="int16",
        multi_echo=MultiEchoParams(echo_times_ms=(15.0, 45.0)),
    )
    for f in (root / "sub-01" / "func").glob("sub-01_task-rest_space-*_desc-preproc_bold.*"):
        f.unlink()
    return root


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> Path:
    """Build a multi-echo dataset whose echo-wise series are in the BOLD reference space.

    As fMRIPrep writes them: no ``space-``/``res-`` entities; the combined series is in MNI.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    root = tmp_path_factory.mktemp("bad_me_native") / "fmriprep"
    simulate_dataset(
        root,
        n_runs=1,
        params=SimulationParams(n_volumes=20),
        seed=1,
        dtype="int16",
        multi_echo=MultiEchoParams(echo_times_ms=(15.0, 45.0)),
    )
    for f in (root / "sub-01" / "func").glob("sub-01_task-rest_echo-*"):
        f.rename(f.with_name(f.name.replace("_space-MNI152NLin6Asym_res-2", "")))
    return root


@pytest.mark.parametrize("argv, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_multiecho_input_is_refused(
    argv, fragment, echoes_only, native, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    check_refused(
        argv,
        fragment,
        {"o": out, "echoes_only": echoes_only, "native": native},
        [out, echoes_only.parent, native.parent],
        tmp_path,
        capsys,
        monkeypatch,
    )


def test_corpus_size():
    assert len(CASES) == 23
