"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

#: Read-only third-party test data beside the repository (absent in a user's fresh clone).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _private_data_cache(tmp_path_factory):
    """Cache derived data (placement landscapes) in a folder of the test session.

    The user's cache is never used.
    """
    import os

    old = os.environ.get("TMSTARGET_DATA")
    os.environ["TMSTARGET_DATA"] = str(tmp_path_factory.mktemp("tmstarget_data"))
    yield
    if old is None:
        os.environ.pop("TMSTARGET_DATA", None)
    else:
        os.environ["TMSTARGET_DATA"] = old


@pytest.fixture
def rng() -> np.random.Generator:
    """Return a seeded random generator (never use numpy's global RNG in tests)."""
    return np.random.default_rng(20261125)


@pytest.fixture
def shared_data() -> Path:
    """Path to ``../shared/data``; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sim_dataset(tmp_path_factory):
    """One simulated participant, 2 runs x 150 volumes (TR 2 s), written once per test session.

    Returns ``(fmriprep_dir, planted_target_mni)``.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset

    root = tmp_path_factory.mktemp("sim") / "fmriprep"
    truth = simulate_dataset(
        root,
        n_participants=1,
        n_runs=2,
        params=SimulationParams(n_volumes=150, t_r=2.0),
        seed=1,
        dtype="int16",
    )
    return root, np.array(truth["participants"]["01"]["target_mni"])


@pytest.fixture(scope="session")
def boldref_dataset(tmp_path_factory) -> Path:
    """Simulate a multi-echo participant in fMRIPrep's layout (echoes in BOLD reference space).

    One run × 60 volumes, 3 echoes, seed 2; with the coreg and T1w → template transforms.

    Read-only: tests that break it copy it first.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    root = tmp_path_factory.mktemp("boldref") / "fmriprep"
    simulate_dataset(
        root,
        n_runs=1,
        params=SimulationParams(n_volumes=60),
        seed=2,
        dtype="int16",
        multi_echo=MultiEchoParams(),
        echo_space="boldref",
    )
    return root


@pytest.fixture
def cli_json(capsys):
    """Run ``tmstarget ARGV --quiet --json``; assert it exits 0; return the JSON it printed."""
    import json

    from tmstarget.cli.main import main

    def run(argv: list[str]) -> dict:
        capsys.readouterr()
        code = main([*argv, "--quiet", "--json"])
        cap = capsys.readouterr()
        assert code == 0, cap.err
        return json.loads(cap.out)

    return run
