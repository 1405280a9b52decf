"""Multiple imputation by chained equations (MICE) as a sensitivity analysis.

The analysis is of the continuous endpoint, and every ITT participant is kept. Missing MADRS scores
at any follow-up visit (dropouts, missed visits and assessments outside their window) are imputed by
statsmodels' ``MICEData`` — predictive mean matching (5 donors, as in R mice) from a linear model on
all other columns: the other visits, the arm and the strata (van Buuren 2018, Flexible Imputation of
Missing Data, 2nd ed., section 3.4). Each completed data set is analysed with the primary ANCOVA
(reduction at the endpoint on arm and baseline, plus strata), and the results are pooled by Rubin's
rules (Rubin 1987) with the Barnard & Rubin (1999, Biometrika 86:948-955) small-sample degrees of
freedom::

    Q = mean(q_j)       U = mean(se_j^2)      B = var(q_j, ddof=1)      T = U + (1 + 1/m) B
    lambda = (1 + 1/m) B / T                  nu_old = (m - 1) / lambda^2
    nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)
    df = nu_old nu_obs / (nu_old + nu_obs)

The random stream is ``numpy.random.default_rng(seed)``: the same table and seed give the same
result.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ._design import _strata_dummies
from .analysis import Estimate
from .data import TrialTable
from .lmm import FitError

__all__ = ["DONORS", "Pooled", "mice_ancova", "mice_ols", "rubin_pool"]


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

    @property
    def total(self) -> float:
        """``T = U + (1 + 1/m) B``, the total variance (van Buuren 2018, eq. 2.20)."""
        return self.se**2

    @property
    def riv(self) -> float:
        """``r = (1 + 1/m) B / U``, the relative increase in variance due to nonresponse.

        Van Buuren (2018), eq. 2.25.
        """
        return (1 + 1 / self.m) * self.between / self.within if self.within > 0 else float("inf")

    @property
    def gamma(self) -> float:
        """Fraction of missing information, adjusted for finite ``m``.

        ``(r + 2/(df + 3)) / (1 + r)``: Rubin's (1987, eq. 3.1.10) fraction, adjusted as in van
        Buuren (2018, eq. 2.26) and R mice's ``fmi``. ``fmi`` above is ``lambda``, which is what
        statsmodels' ``MICEResults.frac_miss_info`` reports.
        """
        r = self.riv
        return (r + 2 / (self.df + 3)) / (1 + r)


def rubin_pool(
    estimates: Sequence[float], variances: Sequence[float], df_complete: float
) -> Pooled:
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


DONORS = 5
"""Donors per missing value in predictive mean matching: R mice's default, which van Buuren (2018,
section 3.4.3) finds works well in most cases (statsmodels' default of 20 is most of the observed
values in a 40-participant trial, which pulls imputations towards the marginal distribution)."""


def _micedata(data: pd.DataFrame, seed: int, donors: int = DONORS) -> object:
    from statsmodels.imputation.mice import MICEData

    if "rng" in inspect.signature(MICEData).parameters:
        return MICEData(data, k_pmm=donors, rng=np.random.default_rng(seed))
    raise InputError(
        "multiple imputation needs statsmodels >= 0.15 "
        "(seeded MICEData) — upgrade statsmodels, or pass "
        "--imputations 0"
    )


def mice_ols(
    data: pd.DataFrame,
    formula: str,
    n_imputations: int = 20,
    n_burnin: int = 10,
    seed: int = 0,
    donors: int = DONORS,
) -> dict[str, Pooled]:
    """Impute ``data`` by chained equations and pool the OLS fits of ``formula``.

    The OLS ``formula`` is fitted to each completed data set, and every coefficient is pooled.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric columns with names usable in a formula; every column is imputed from all the others
        by predictive mean matching (statsmodels ``MICEData``, Gaussian perturbation of the
        imputation model's coefficients).
    formula : str
        Analysis model, e.g. ``"y ~ x1 + x2"``.
    n_imputations : int
        Completed data sets (``m``, at least 2).
    n_burnin : int
        Chained-equation cycles before the first data set (then 4 cycles between data sets,
        statsmodels' default ``n_skip = 3``).
    seed : int
        Seed of the imputation's random stream.
    donors : int
        Candidate donors per missing value.

    Returns
    -------
    dict of str to Pooled
        Rubin's rules per coefficient, keyed by the formula's term names, with Barnard-Rubin df on
        the complete-data residual df (``n - p``).
    """
    import statsmodels.api as sm
    from statsmodels.imputation.mice import MICE

    if n_imputations < 2:
        raise InputError(f"--imputations {n_imputations} — give at least 2 (20 or more is usual)")
    if data.isna().any().any():
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # statsmodels re-enables its own warnings at import; a failure is raised below
            try:
                imp = _micedata(data, seed, donors)
                mi = MICE(formula, sm.OLS, imp)
                imp.update_all(n_burnin)
                fits = [mi.next_sample() for _ in range(n_imputations)]
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
                raise FitError(
                    "the imputation models could not be fitted "
                    f"({exc}) — too few observed values to impute "
                    "from; "
                    "rely on the complete-case and mixed-model analyses, or pass --imputations 0"
                ) from None
    else:
        fits = [sm.OLS.from_formula(formula, data).fit()] * n_imputations
    df_complete = float(fits[0].df_resid)
    return {
        name: rubin_pool(
            [f.params[name] for f in fits], [f.bse[name] ** 2 for f in fits], df_complete
        )
        for name in fits[0].params.index
    }


def imputation_frame(
    trial: TrialTable, participants: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per participant: ``v0`` (baseline) ..

    ``vK`` (visits), ``arm`` (1 = experimental), strata ``s*``.

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


def mice_ancova(
    trial: TrialTable,
    endpoint: str,
    n_imputations: int = 20,
    n_burnin: int = 10,
    seed: int = 0,
    confidence: float = 0.95,
    participants: Sequence[str] | None = None,
    donors: int = DONORS,
) -> tuple[Estimate, Pooled]:
    """ANCOVA of the reduction at ``endpoint`` after multiple imputation of missing visits.

    Parameters
    ----------
    trial : TrialTable
        Validated table.
    endpoint : str
        Endpoint visit.
    n_imputations, n_burnin, seed, donors
        As in :func:`mice_ols`.
    confidence : float
        Confidence level.
    participants : sequence of str, optional
        Analysis set (all participants by default, i.e. ITT).

    Returns
    -------
    (Estimate, Pooled)
        The pooled arm effect (method ``"mice_ancova"``, t interval on Barnard-Rubin df) and the
        pooling details.
    """
    from scipy import stats

    data, names = imputation_frame(trial, participants)
    if endpoint not in names or endpoint == trial.baseline:
        raise InputError(
            f"endpoint {endpoint!r} is not a follow-up visit "
            f"— choose one of: {', '.join(trial.timepoints[1:])}"
        )
    base, end = names[trial.baseline], names[endpoint]
    observed = data.notna().sum()
    data = data.drop(columns=[c for c in data.columns if c not in (base, end) and observed[c] < 3])
    counts = data.loc[data[end].notna(), "arm"].value_counts()
    if min(counts.get(0.0, 0), counts.get(1.0, 0)) < 2:
        raise InputError(
            "fewer than 2 participants per arm assessed at "
            f"{endpoint!r} — nothing to impute from; collect "
            "more data"
        )
    covariates = " + ".join(["arm", base, *[c for c in data.columns if c.startswith("s")]])
    pooled = mice_ols(
        data, f"I({base} - {end}) ~ {covariates}", n_imputations, n_burnin, seed, donors
    )["arm"]
    q = float(stats.t.ppf(0.5 + confidence / 2.0, pooled.df))
    p = float(2.0 * stats.t.sf(abs(pooled.estimate / pooled.se), pooled.df))
    est = Estimate(
        "mice_ancova",
        endpoint,
        pooled.estimate,
        pooled.se,
        pooled.estimate - q * pooled.se,
        pooled.estimate + q * pooled.se,
        p,
        len(data),
        int(data[end].notna().sum()),
        confidence,
        pooled.df,
    )
    return est, pooled
