"""Design-matrix helpers (private).

They are shared by the ANCOVA, the mixed model and the imputation model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import InputError


def _strata_dummies(frame: pd.DataFrame, strata: tuple[str, ...]) -> pd.DataFrame:
    if not strata:
        return pd.DataFrame(index=frame.index)
    dummies = pd.get_dummies(frame[list(strata)].astype(str), drop_first=True, dtype=float)
    return dummies.loc[:, dummies.std(ddof=0) > 0]


def _full_rank(exog: pd.DataFrame) -> bool:
    return bool(np.linalg.matrix_rank(exog.to_numpy(dtype=float)) == exog.shape[1])


def _check_rank(
    exog: pd.DataFrame,
    what: str,
    causes: Mapping[str, Sequence[str]] | None = None,
    frame: pd.DataFrame | None = None,
    strata: Sequence[str] = (),
) -> None:
    """Refuse a design without full column rank, naming the cause.

    ``causes`` maps a description (what makes the design not estimable, and the fix) to the columns
    it adds; each stratum column of ``strata`` (dummies made from ``frame``) is tried too. The first
    cause whose columns, once dropped, leave a full-rank design is named in the message.
    """
    if _full_rank(exog):
        return
    tried = dict(causes or {})
    for column in strata if frame is not None else ():
        cols = list(
            pd.get_dummies(frame[[column]].astype(str), drop_first=True, dtype=float).columns
        )
        tried[
            f"stratum column {column!r} is confounded with "
            "arm or visit (its levels follow from them) — "
            f"drop or merge the {column} column"
        ] = cols
    for description, cols in tried.items():
        rest = exog.drop(columns=[c for c in cols if c in exog.columns])
        if rest.shape[1] < exog.shape[1] and _full_rank(rest):
            raise InputError(f"the {what} design is not estimable: {description}")
    raise InputError(
        f"the {what} design is not estimable (an arm lacks "
        "observations at a visit, or a stratum column is "
        "confounded "
        "with arm or time) — check the table, or drop or merge stratum columns"
    )
