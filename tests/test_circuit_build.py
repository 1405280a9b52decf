"""`tmstarget circuit build`: site maps and the improvement map against slow references.

A planted circuit is recovered too.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from tmstarget.circuit_build import MapAverager, improvement_map, site_seed_maps, sites_from_table
from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.targeting import Components
from tmstarget.targeting.cleaning import normalize_columns

AFFINE = np.array([[2.0, 0, 0, -6], [0, 2.0, 0, -8], [0, 0, 2.0, -9], [0, 0, 0, 1]])


def _components(rng, shape=(7, 8, 9), t=60):
    brain = np.zeros(shape, bool)
    brain[1:-1, 1:-1, 1:-1] = True
    x = rng.standard_normal((t, int(brain.sum()))).cumsum(axis=0)  # smooth-ish, correlated in time
    x -= x.mean(axis=0)
    w, valid = normalize_columns(x.copy())
    return Components(w=w, valid=valid, brain=brain, affine=AFFINE), x


def test_site_maps_match_explicit_correlations(rng):
    comp, x = _components(rng)
    sites = np.array(
        [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [500.0, 0.0, 0.0]]
    )  # the last is outside the grid
    maps = site_seed_maps(comp, sites, radius_mm=3.0)
    xyz = comp.coords(np.arange(x.shape[1]))
    for s in range(2):
        members = np.linalg.norm(xyz - sites[s], axis=1) <= 3.0
        seed = (x[:, members] / np.linalg.norm(x[:, members], axis=0)).mean(axis=1)
        expected = np.array([np.corrcoef(seed, x[:, v])[0, 1] for v in range(x.shape[1])])
        np.testing.assert_allclose(np.tanh(maps[s]), expected, atol=1e-5)
    assert np.isnan(maps[2]).all()


def test_improvement_map_matches_loop_and_averager_handles_coverage(rng):
    maps = rng.standard_normal((12, 50))
    improvement = rng.standard_normal(12)
    maps[3, 7] = np.nan  # one site misses voxel 7
    got = improvement_map(maps, improvement)
    for v in range(50):
        ok = np.isfinite(maps[:, v])
        assert got[v] == pytest.approx(np.corrcoef(maps[ok, v], improvement[ok])[0, 1], abs=1e-12)
    avg = MapAverager(2, (2, 2, 1))
    avg.add(np.array([0, 1, 2]), np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]]))
    avg.add(np.array([0, 1]), np.array([[3.0, 4.0], [6.0, 8.0]]))
    mean = avg.mean()
    np.testing.assert_allclose(
        mean[0], [2.0, 3.0, 3.0, np.nan]
    )  # voxel 2 is covered by half of the maps: kept
    np.testing.assert_allclose(
        mean[1], [5.0, 8.0, 6.0, np.nan]
    )  # a NaN value counts as no coverage
    avg.add(np.array([0]), np.array([[0.0], [0.0]]))
    assert np.isnan(avg.mean()[0, 2])  # now 1 of 3 maps: below half


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            pd.DataFrame(
                {"participant": ["01"] * 6, "x": [1.0] * 6, "y": [1.0] * 6, "z": [1.0] * 6}
            ),
            "no 'improvement' column",
        ),
        (
            pd.DataFrame(
                {
                    "participant": ["01"] * 3,
                    "x": [1.0] * 3,
                    "y": [1.0] * 3,
                    "z": [1.0] * 3,
                    "improvement": [1, 2, 3],
                }
            ),
            "has 3 site",
        ),
        (
            pd.DataFrame(
                {
                    "participant": ["01"] * 6,
                    "x": [1.0] * 6,
                    "y": [1.0] * 6,
                    "z": [1.0] * 6,
                    "improvement": [5] * 6,
                }
            ),
            "every improvement is 5",
        ),
        (
            pd.DataFrame(
                {
                    "participant": ["01"] * 6,
                    "x": [1.0, None, 1, 1, 1, 1],
                    "y": [1.0] * 6,
                    "z": [1.0] * 6,
                    "improvement": range(6),
                }
            ),
            "row 3 has a missing",
        ),
    ],
)
def test_bad_sites_tables(table, message):
    with pytest.raises(InputError, match=message):
        sites_from_table(table)


def test_builder_recovers_planted_circuit(sim_dataset, tmp_path, capsys):
    """Improvement is planted as Weigand et al. (2018) found it.

    The more a site is anticorrelated with the sgACC, the better (plus noise); the planted circuit
    is then the sgACC anticorrelation map. Given only sites, outcomes and rest data, the builder
    must give back a map like it.
    """
    from tmstarget.io.bids import find_runs
    from tmstarget.io.derivatives import write_nifti_atomic
    from tmstarget.targeting import TargetingOptions, finalize_components
    from tmstarget.targeting.circuits import SGACC_MNI, resolve_circuit, sphere_mask
    from tmstarget.targeting.prepare import prepare
    from tmstarget.targeting.regions import dlpfc_search_mask

    src, _ = sim_dataset
    prep = prepare(find_runs(src, "01"), TargetingOptions(), resolve_circuit("sgacc"))
    comp = finalize_components(prep.blocks, prep.brain, prep.affine)
    sgacc = comp.columns(sphere_mask(comp.affine, comp.brain.shape, SGACC_MNI, 10.0))
    seed = comp.w[:, sgacc].mean(axis=1)
    planted = np.full(prep.brain.size, np.nan, np.float32)
    planted[comp.flat] = -(seed / np.linalg.norm(seed)) @ comp.w
    write_nifti_atomic(
        tmp_path / "planted.nii.gz", planted.reshape(prep.brain.shape, order="F"), prep.affine
    )
    rng = np.random.default_rng(11)
    region = dlpfc_search_mask(prep.brain, prep.affine)
    xyz = np.argwhere(region) @ prep.affine[:3, :3].T + prep.affine[:3, 3]
    sites = xyz[
        rng.choice(len(xyz), 40, replace=False)
    ]  # treated sites scatter over the left DLPFC
    anti = -np.tanh(site_seed_maps(comp, sites)[:, sgacc]).mean(axis=1)
    improvement = 50 + 100 * (anti + 0.3 * anti.std() * rng.standard_normal(40))
    table = pd.DataFrame(
        {
            "participant": [f"t{i:02d}" for i in range(40)],
            "x": sites[:, 0],
            "y": sites[:, 1],
            "z": sites[:, 2],
            "improvement": improvement.round(2),
        }
    )
    table.to_csv(tmp_path / "sites.tsv", sep="\t", index=False)
    out = tmp_path / "built_map.nii.gz"
    code = main(
        [
            "circuit",
            "build",
            str(tmp_path / "sites.tsv"),
            str(src),
            str(out),
            "--reference",
            str(tmp_path / "planted.nii.gz"),
            "--json",
            "--quiet",
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    summary = json.loads(cap.out)
    built = nib.load(out)
    r = summary["spatial_correlation_with_reference"]
    assert r > 0.35
    assert summary["n_sites"] == 40 and summary["participants"] == ["01"]
    sidecar = json.loads((tmp_path / "built_map.json").read_text())
    assert sidecar["connectome"] == "normative" and len(sidecar["Sources"]["sites"]["sha256"]) == 64
    assert built.shape == prep.brain.shape and np.isnan(built.get_fdata()[~prep.brain]).all()
    # usable as --circuit
    code = main(
        [
            "target",
            str(src),
            str(tmp_path / "targets"),
            "participant",
            "--circuit",
            str(out),
            "--bootstrap",
            "0",
            "--json",
            "--quiet",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["circuit"] == "built"
    with capsys.disabled():
        print(
            f"\nplanted-circuit recovery over {summary['n_sites']} "
            "sites, one connectome participant: spatial r "
            f"= {r:.3f}"
        )


def test_individual_mode_needs_rest_data_of_every_site(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    pd.DataFrame(
        {
            "participant": ["01", "01", "02", "02", "03"],
            "x": [-40.0] * 5,
            "y": [40.0] * 5,
            "z": [30.0] * 5,
            "improvement": [1, 2, 3, 4, 5],
        }
    ).to_csv(tmp_path / "s.tsv", sep="\t", index=False)
    code = main(
        [
            "circuit",
            "build",
            str(tmp_path / "s.tsv"),
            str(src),
            str(tmp_path / "m.nii.gz"),
            "--connectome",
            "individual",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "participant(s) 02, 03 have no rest data" in err[0]
    assert not (tmp_path / "m.nii.gz").exists()


def test_a_site_outside_the_brain_is_refused_before_any_work(
    sim_dataset, tmp_path, capsys, monkeypatch
):
    import tmstarget.circuit_build as cb

    src, _ = sim_dataset
    xs = [
        -40.0,
        -42.0,
        -38.0,
        -44.0,
        -36.0,
        -120.0,
    ]  # the last one: 30 mm lateral of the left scalp
    pd.DataFrame(
        {
            "participant": [f"t{i}" for i in range(6)],
            "x": xs,
            "y": [40.0] * 6,
            "z": [30.0] * 6,
            "improvement": [1, 2, 3, 4, 5, 6],
        }
    ).to_csv(tmp_path / "s.tsv", sep="\t", index=False)
    monkeypatch.setattr(
        cb,
        "participant_site_maps",
        lambda *a: pytest.fail("rest data were read before the sites were checked"),
    )
    code = main(["circuit", "build", str(tmp_path / "s.tsv"), str(src), str(tmp_path / "m.nii.gz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 2
        and len(err) == 1
        and "1 site(s) lie outside the brain: row 7 (sub-t5 at [-120.0, 40.0, 30.0]" in err[0]
    )
    assert not (tmp_path / "m.nii.gz").exists()
