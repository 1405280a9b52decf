"""Nelder–Mead simplex minimisation, the refinement step of the coil optimiser.

The method of Nelder & Mead (1965) with the standard coefficients and rules of Lagarias et al.
(1998): reflection 1, expansion 2, contraction ½ (outside and inside), shrink ½ towards the best
vertex; vertices ordered by value (``numpy.argsort``) after every step. It stops when all vertices
lie within ``xatol`` of the best in every coordinate and all values within ``fatol`` of the best,
or when the next step would need more than ``maxfev`` evaluations (the step is then abandoned
where it stands).

This is the algorithm ``scipy.optimize.minimize(method="Nelder-Mead")`` runs with the default
(non-adaptive) coefficients, written out here because importing ``scipy.optimize`` costs a
noticeable part of a ``tmstarget coil`` run; the tests check that both take the same steps.

References
----------
Nelder JA, Mead R (1965). A simplex method for function minimization. Comput J 7:308–313.
Lagarias JC, Reeds JA, Wright MH, Wright PE (1998). Convergence properties of the Nelder–Mead
simplex method in low dimensions. SIAM J Optim 9:112–147.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["SimplexResult", "nelder_mead"]

#: Reflection, expansion, contraction and shrink coefficients.
REFLECT, EXPAND, CONTRACT, SHRINK = 1.0, 2.0, 0.5, 0.5


@dataclass(frozen=True)
class SimplexResult:
    """Best vertex ``x``, its value ``fun`` and the number of evaluations ``nfev``."""

    x: np.ndarray
    fun: float
    nfev: int


class _Budget(Exception):
    """Raised instead of an evaluation beyond the budget."""


def nelder_mead(
    fun: Callable[[np.ndarray], float],
    simplex: np.ndarray,
    xatol: float = 1e-4,
    fatol: float = 1e-4,
    maxfev: int = 1000,
) -> SimplexResult:
    """Minimise ``fun`` from an initial simplex.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` for ``x`` of shape (N,); it receives a copy.
    simplex : array_like, shape (N + 1, N)
        Initial vertices.
    xatol, fatol : float
        Stop when every vertex is within ``xatol`` of the best (each coordinate) and every value
        within ``fatol`` of the best.
    maxfev : int
        Largest number of evaluations.

    Returns
    -------
    SimplexResult
    """
    sim = np.array(simplex, dtype=float)
    n = sim.shape[1]
    values = np.full(n + 1, np.inf)
    calls = 0

    def f(x: np.ndarray) -> float:
        nonlocal calls
        if calls >= maxfev:
            raise _Budget
        calls += 1
        return float(fun(np.copy(x)))

    def ordered() -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(values)
        return np.take(sim, order, 0), np.take(values, order, 0)

    try:
        for k in range(n + 1):
            values[k] = f(sim[k])
    except _Budget:
        pass
    sim, values = ordered()
    while calls < maxfev:
        try:
            if (
                np.max(np.abs(sim[1:] - sim[0])) <= xatol
                and np.max(np.abs(values[0] - values[1:])) <= fatol
            ):
                break
            centroid = np.add.reduce(sim[:-1], 0) / n
            worst = sim[-1]
            xr = (1 + REFLECT) * centroid - REFLECT * worst
            fr = f(xr)
            shrink = False
            if fr < values[0]:
                xe = (1 + REFLECT * EXPAND) * centroid - REFLECT * EXPAND * worst
                fe = f(xe)
                sim[-1], values[-1] = (xe, fe) if fe < fr else (xr, fr)
            elif fr < values[-2]:
                sim[-1], values[-1] = xr, fr
            elif fr < values[-1]:  # outside contraction
                xc = (1 + CONTRACT * REFLECT) * centroid - CONTRACT * REFLECT * worst
                fc = f(xc)
                if fc <= fr:
                    sim[-1], values[-1] = xc, fc
                else:
                    shrink = True
            else:  # inside contraction
                xcc = (1 - CONTRACT) * centroid + CONTRACT * worst
                fcc = f(xcc)
                if fcc < values[-1]:
                    sim[-1], values[-1] = xcc, fcc
                else:
                    shrink = True
            if shrink:
                for j in range(1, n + 1):
                    sim[j] = sim[0] + SHRINK * (sim[j] - sim[0])
                    values[j] = f(sim[j])
        except _Budget:
            pass
        finally:
            sim, values = ordered()
    return SimplexResult(sim[0].copy(), float(np.min(values)), calls)
