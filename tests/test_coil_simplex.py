"""The optimiser's Nelder–Mead: the steps of scipy's, without importing scipy.optimize."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from tmstarget.coil.simplex import nelder_mead


def _rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def _bumpy(x):
    return float(np.sin(3 * x[0]) * np.cos(2 * x[1]) + 0.1 * np.sum(x**2) + 0.3 * np.sin(5 * x[-1]))


def _terraced(x):
    return float(np.round(np.sum((x - 0.3) ** 2), 2))  # plateaus: ties between vertices


@pytest.mark.parametrize("fun", [_rosenbrock, _bumpy, _terraced])
@pytest.mark.parametrize("maxfev", [6, 40, 150])
def test_same_steps_as_scipy(fun, maxfev, rng):
    for n in (2, 3):
        for _ in range(5):
            x0 = rng.normal(size=n)
            simplex = x0 + np.vstack([np.zeros(n), np.diag(rng.uniform(0.1, 2, n))])
            for xatol, fatol in ((0.2, 1e-5), (1e-4, 1e-4)):
                ref = minimize(
                    fun,
                    x0,
                    method="Nelder-Mead",
                    options={
                        "xatol": xatol,
                        "fatol": fatol,
                        "maxfev": maxfev,
                        "initial_simplex": simplex,
                    },
                )
                got = nelder_mead(fun, simplex, xatol, fatol, maxfev)
                assert got.nfev == ref.nfev <= maxfev
                assert np.array_equal(got.x, ref.x)
                assert got.fun == ref.fun


def test_finds_a_quadratic_minimum():
    calls = []

    def fun(x):
        calls.append(x)
        return float((x[0] - 1.5) ** 2 + 2 * (x[1] + 0.5) ** 2)

    res = nelder_mead(fun, [[0, 0], [1, 0], [0, 1]], xatol=1e-8, fatol=1e-12, maxfev=500)
    assert_allclose(res.x, [1.5, -0.5], atol=1e-6)
    assert res.fun < 1e-11
    assert res.nfev == len(calls) < 500
