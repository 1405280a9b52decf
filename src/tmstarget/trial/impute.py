"""Multiple imputation by chained equations (MICE) as a sensitivity analysis for the continuous endpoint.

Every ITT participant is kept. Missing MADRS scores at any follow-up visit (dropouts, missed visits and
assessments outside their window) are imputed by statsmodels' ``MICEData`` — predictive mean matching from
a linear model on all other columns: the other visits, the arm and the strata (van Buuren 2018, Flexible
Imputation of Missing Data, 2nd ed., section 3.4). Each completed data set is analysed with the primary
ANCOVA (reduction at the endpoint on arm and baseline, plus strata), and the results are pooled by Rubin's
rules (Rubin 1987) with the Barnard & Rubin (1999, Biometrika 86:948-955) small-sample degrees of freedom::

    Q = mean(q_j)       U = mean(se_j^2)      B = var(q_j, ddof=1)      T = U + (1 + 1/m) B
    lambda = (1 + 1/m) B / T                  nu_old = (m - 1) / lambda^2
    nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)     df = nu_old nu_obs / (nu_old + nu_obs)

The random stream is ``numpy.random.default_rng(seed)``: the same table and seed give the same result.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ._design import _strata_dummies
from .analysis import Estimate
from .data import TrialTable

__all__ = ["Pooled", "mice_ancova", "rubin_pool"]


@dataclass(frozen=True)
class Pooled:
    """Rubin's rules applied to one parameter.

    Attributes
    ----------
    estimate, se, df : float
        Pooled estimate, ``sqrt(T)`` and Barnard-Rubin degrees of freedom.
    within, between : float
        ``U`` and ``B``.
    fmi : float
        ``lambda = (1 + 1/m) B / T``, the share of the variance due to missing data.
    m : int
        Imputations.
    """

    estimate: float
    se: float
    df: float
    within: float
    between: float
    fmi: float
    m: int


def rubin_pool(estimates: Sequence[float], variances: Sequence[float], df_complete: float) -> Pooled:
    """Pool per-imputation estimates and squared standard errors (Rubin 1987; Barnard & Rubin 1999).

    Parameters
    ----------
    estimates, variances : sequence of float
        One estimate and sampling variance per completed data set (at least 2).
    df_complete : float
        Degrees of freedom of the analysis had there been no missing data (``nu_com``).

    Returns
    -------
    Pooled
    """
    q, u = np.asarray(estimates, float), np.asarray(variances, float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise InputError(f"{m} imputation(s) — pool at least 2")
    within, between = float(u.mean()), float(q.var(ddof=1))
    total = within + (1 + 1 / m) * between
    lam = (1 + 1 / m) * between / total
    nu_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    df = nu_obs if lam == 0 else 1.0 / (lam**2 / (m - 1) + 1.0 / nu_obs)
    return Pooled(float(q.mean()), float(np.sqrt(total)), float(df), within, between, float(lam), m)


def _micedata(data: pd.DataFrame, seed: int) -> object:
    from statsmodels.imputation.mice import MICEData

    if "rng" in inspect.signature(MICEData).parameters:
        return MICEData(data, rng=np.random.default_rng(seed))
    raise InputError("multiple imputation needs statsmodels >= 0.15 (seeded MICEData) — upgrade statsmodels, or pass --imputations 0")


def imputation_frame(trial: TrialTable, participants: Sequence[str] | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per participant: ``v0`` (baseline) .. ``vK`` (visits), ``arm`` (1 = experimental), strata ``s*``.

    Returns the frame and the map from visit name to column name.
    """
    wide = trial.wide()
    if participants is not None:
        wide = wide.loc[wide.index.isin(set(participants))]
    names = {t: f"v{i}" for i, t in enumerate(trial.timepoints)}
    data = wide.rename(columns=names)
    info = trial.participants().loc[data.index]
    data["arm"] = (info["arm"] == trial.experimental).astype(float)
    strata = _strata_dummies(info, trial.strata)
    data = data.join(strata.set_axis([f"s{i}" for i in range(strata.shape[1])], axis=1))
    return data.reset_index(drop=True), names


def mice_ancova(trial: TrialTable, endpoint: str, n_imputations: int = 20, n_burnin: int = 10, seed: int = 0,
                confidence: float = 0.95, participants: Sequence[str] | None = None) -> tuple[Estimate, Pooled]:
    """ANCOVA of the reduction at ``endpoint`` after multiple imputation of missing visits.

    Parameters
    ----------
    trial : TrialTable
        Validated table.
    endpoint : str
        Endpoint visit.
    n_imputations : int
        Completed data sets (``m``, at least 2).
    n_burnin : int
        Chained-equation cycles before the first data set (then 4 cycles between data sets, statsmodels'
        default ``n_skip = 3``).
    seed : int
        Seed of the imputation's random stream.
    confidence : float
        Confidence level.
    participants : sequence of str, optional
        Analysis set (all participants by default, i.e. ITT).

    Returns
    -------
    (Estimate, Pooled)
        The pooled arm effect (method ``"mice_ancova"``, t interval on Barnard-Rubin df) and the pooling
        details.
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.imputation.mice import MICE

    if n_imputations < 2:
        raise InputError(f"--imputations {n_imputations} — give at least 2 (20 or more is usual)")
    data, names = imputation_frame(trial, participants)
    if endpoint not in names or endpoint == trial.baseline:
        raise InputError(f"endpoint {endpoint!r} is not a follow-up visit — choose one of: {', '.join(trial.timepoints[1:])}")
    base, end = names[trial.baseline], names[endpoint]
    observed = data.notna().sum()
    data = data.drop(columns=[c for c in data.columns if c not in (base, end) and observed[c] < 3])
    counts = data.loc[data[end].notna(), "arm"].value_counts()
    if min(counts.get(0.0, 0), counts.get(1.0, 0)) < 2:
        raise InputError(f"fewer than 2 participants per arm assessed at {endpoint!r} — nothing to impute from; collect more data")
    covariates = " + ".join(["arm", base, *[c for c in data.columns if c.startswith("s")]])
    formula = f"I({base} - {end}) ~ {covariates}"
    imp = _micedata(data, seed)
    mi = MICE(formula, sm.OLS, imp)
    if data.isna().any().any():
        imp.update_all(n_burnin)
        fits = [mi.next_sample() for _ in range(n_imputations)]
    else:
        fits = [sm.OLS.from_formula(formula, data).fit()] * n_imputations
    pooled = rubin_pool([f.params["arm"] for f in fits], [f.bse["arm"] ** 2 for f in fits], float(fits[0].df_resid))
    q = float(stats.t.ppf(0.5 + confidence / 2.0, pooled.df))
    p = float(2.0 * stats.t.sf(abs(pooled.estimate / pooled.se), pooled.df))
    est = Estimate("mice_ancova", endpoint, pooled.estimate, pooled.se, pooled.estimate - q * pooled.se,
                   pooled.estimate + q * pooled.se, p, len(data), int(data[end].notna().sum()), confidence, pooled.df)
    return est, pooled
