"""Design-matrix helpers shared by the ANCOVA, the mixed model and the imputation model (private)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InputError


def _strata_dummies(frame: pd.DataFrame, strata: tuple[str, ...]) -> pd.DataFrame:
    if not strata:
        return pd.DataFrame(index=frame.index)
    dummies = pd.get_dummies(frame[list(strata)].astype(str), drop_first=True, dtype=float)
    return dummies.loc[:, dummies.std(ddof=0) > 0]


def _check_rank(exog: pd.DataFrame, what: str) -> None:
    if np.linalg.matrix_rank(exog.to_numpy(dtype=float)) < exog.shape[1]:
        raise InputError(
            f"the {what} design is not estimable (an arm lacks observations at a timepoint, or a stratum column is confounded "
            "with arm or time) — check the table, or drop or merge stratum columns"
        )
