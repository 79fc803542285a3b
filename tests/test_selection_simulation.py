"""Tests of quantreg.selection.simulation: Fan & Li's (2001) simulation study.

References: every replication is re-fitted through the public API on regenerated data
(``tune``/``tune_gram``/``best_subset``, exact equality) and least squares comes from
``numpy.linalg.lstsq`` on the rows (1e-10); the qualitative claims of the paper (SCAD sparser
than LASSO, MRME well below ridge, oracle best) are checked on 60 replications with a fixed
seed, and in two seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantreg.exceptions import ParameterError
from quantreg.selection import (
    FAN_LI_A_VALUES,
    FAN_LI_BETA,
    FAN_LI_METHODS,
    SCAD,
    Garrote,
    Lasso,
    Ridge,
    best_subset,
    fan_li_covariance,
    fan_li_data,
    fan_li_study,
    gram_stats,
    model_error,
    simulate_fan_li,
    tune,
    tune_gram,
)

COLUMNS = ["MRME (%)", "correct zeros", "incorrect zeros"]


def test_table_layout_and_invariants():
    table, reps = simulate_fan_li(40, 3.0, n_reps=4, seed=0, return_replicates=True)
    assert list(table.index) == list(FAN_LI_METHODS) and list(table.columns) == COLUMNS
    assert table.attrs == {"n": 40, "sigma": 3.0, "n_reps": 4, "seed": 0, "criterion": "gcv"}
    assert table.loc["Oracle", "correct zeros"] == 5 and table.loc["Oracle", "incorrect zeros"] == 0
    assert table.loc["Ridge", "correct zeros"] == 0 and table.loc["Ridge", "incorrect zeros"] == 0
    assert len(reps) == 4 * len(FAN_LI_METHODS)
    # the table is the median / mean of the replications
    rme = reps.pivot(index="rep", columns="method", values="rme")
    np.testing.assert_allclose(table["MRME (%)"], 100 * rme.median()[list(FAN_LI_METHODS)])
    pd.testing.assert_frame_equal(table, simulate_fan_li(40, 3.0, n_reps=4, seed=0))  # reproducible


def test_replications_equal_the_public_api_on_regenerated_data():
    n, sigma, n_reps, seed = 40, 1.0, 3, 7
    _, reps = simulate_fan_li(n, sigma, n_reps=n_reps, seed=seed, return_replicates=True)
    rng = np.random.default_rng(seed)
    coef_cols = [f"coef_{j}" for j in range(1, 9)]
    for rep in range(n_reps):
        X, y = fan_li_data(n, sigma, rng)
        folds = np.array_split(rng.permutation(n), 5)
        got = reps[reps["rep"] == rep].set_index("method")[coef_cols]
        kw = {"fit_intercept": False, "tol": 1e-7}  # the study's settings
        cv_folds = [gram_stats(X[f], y[f]) for f in folds]
        expect = {  # path solutions at the chosen alpha (refit=False, as in the study)
            "SCAD (a tuned)": tune_gram(SCAD(**kw), gram_stats(X, y), a_values=FAN_LI_A_VALUES, refit=False).coef,
            "SCAD (a = 3.7)": tune(SCAD(a=3.7, **kw), X, y, refit=False).coef,
            "LASSO": tune(Lasso(**kw), X, y, refit=False).coef,
            "Ridge": tune(Ridge(fit_intercept=False), X, y).estimator.coef_,
            "Best subset": best_subset(X, y, fit_intercept=False).coef,
            "Garrote": tune_gram(Garrote(**kw), cv_folds, criterion="cv", refit=False).coef,
        }
        # SCAD refits to its path solution exactly; convex fits from zero agree to the tolerance
        scad = tune(SCAD(a=3.7, **kw), X, y).estimator.coef_
        np.testing.assert_array_equal(scad, expect["SCAD (a = 3.7)"])
        lasso = tune(Lasso(**kw), X, y).estimator.coef_
        np.testing.assert_allclose(lasso, expect["LASSO"], atol=1e-5)
        for method, coef in expect.items():
            np.testing.assert_allclose(got.loc[method].to_numpy(), coef, rtol=0, atol=1e-12, err_msg=method)
        oracle = np.zeros(8)
        oracle[[0, 1, 4]] = np.linalg.lstsq(X[:, [0, 1, 4]], y, rcond=None)[0]
        np.testing.assert_allclose(got.loc["Oracle"].to_numpy(), oracle, atol=1e-10)
        ols = np.linalg.lstsq(X, y, rcond=None)[0]
        row = reps[(reps["rep"] == rep) & (reps["method"] == "LASSO")].iloc[0]
        d_ols, d = ols - FAN_LI_BETA, got.loc["LASSO"].to_numpy() - FAN_LI_BETA
        assert row["rme"] == pytest.approx((d @ fan_li_covariance() @ d) / (d_ols @ fan_li_covariance() @ d_ols), rel=1e-9)


def test_model_error_is_the_expected_squared_prediction_error():
    # ME = E[(xᵀ(β̂ − β))²] for x ~ N(0, Σ): Monte Carlo with 400k draws, 4 standard errors
    rng = np.random.default_rng(0)
    coef = FAN_LI_BETA + np.array([0.3, -0.2, 0.1, 0.0, 0.5, 0.0, -0.1, 0.0])
    x, _ = fan_li_data(400_000, 1.0, rng)
    sq = (x @ (coef - FAN_LI_BETA)) ** 2
    assert model_error(coef) == pytest.approx(sq.mean(), abs=4 * sq.std() / np.sqrt(sq.size))


@pytest.mark.parametrize("seed", [0, 1])
def test_qualitative_claims_of_the_paper(seed):
    table = simulate_fan_li(40, 1.0, n_reps=60, seed=seed)
    scad, lasso, ridge = table.loc["SCAD (a = 3.7)"], table.loc["LASSO"], table.loc["Ridge"]
    assert scad["correct zeros"] > lasso["correct zeros"] + 0.5  # SCAD selects sparser models
    assert scad["MRME (%)"] < 0.75 * ridge["MRME (%)"]  # well below ridge
    assert table.loc["SCAD (a tuned)", "MRME (%)"] < 0.75 * ridge["MRME (%)"]
    assert table.loc["Oracle", "MRME (%)"] < table["MRME (%)"].drop("Oracle").min()
    assert (table["incorrect zeros"] == 0).all()  # σ = 1: no true variable is lost


def test_study_stacks_the_settings():
    study = fan_li_study([(40, 1.0), (60, 1.0)], n_reps=2, seed=3)
    assert list(study.columns.get_level_values("setting").unique()) == ["n = 40, σ = 1", "n = 60, σ = 1"]
    pd.testing.assert_frame_equal(study["n = 60, σ = 1"], simulate_fan_li(60, 1.0, n_reps=2, seed=3), check_names=False)


def test_bic_option_selects_sparser_models():
    gcv = simulate_fan_li(60, 1.0, n_reps=20, seed=2)
    bic = simulate_fan_li(60, 1.0, n_reps=20, seed=2, criterion="bic")
    assert bic.loc["LASSO", "correct zeros"] > gcv.loc["LASSO", "correct zeros"]


def test_bad_settings_are_rejected():
    with pytest.raises(ParameterError, match=r"The 'sigma' parameter of simulate_fan_li must be a float in the range \(0, inf\)\. Got 0 instead\."):
        simulate_fan_li(40, 0)
    with pytest.raises(ParameterError, match=r"The 'n' parameter of simulate_fan_li must be an int in the range \[10, inf\)\. Got 5 instead\."):
        simulate_fan_li(5, 1.0)
    with pytest.raises(ParameterError, match=r"The 'criterion' parameter of simulate_fan_li must be 'gcv' or 'bic'\. Got 'cv' instead\."):
        simulate_fan_li(40, 1.0, criterion="cv")
