"""Invariants of rolling_ols checked with hypothesis on random panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quantreg
from references import lstsq_rolling, make_test_panel

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

panels = st.builds(
    make_test_panel,
    n_assets=st.integers(1, 4),
    n_dates=st.integers(8, 40),
    k=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    nan_frac=st.sampled_from([0.0, 0.1]),
)
options = st.fixed_dictionaries(
    {
        "window": st.integers(4, 9),
        "expanding": st.booleans(),
        "missing": st.sampled_from(["drop", "skip"]),
        "halflife": st.sampled_from([None, 3.0]),
        "residual": st.sampled_from(["in_sample", "out_of_sample"]),
    }
)


def fit(df: pd.DataFrame, opts: dict) -> pd.DataFrame:
    res = quantreg.rolling_ols(df, **opts)
    return pd.concat([res.params, res.resid, res.nobs], axis=1)


def same(a: pd.DataFrame, b: pd.DataFrame, atol: float = 1e-9) -> None:
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=atol, equal_nan=True)


@SETTINGS
@given(panels, options)
def test_matches_per_window_lstsq(df, opts):
    res = quantreg.rolling_ols(df, window=opts["window"], expanding=opts["expanding"], missing=opts["missing"], halflife=opts["halflife"])
    ref = lstsq_rolling(df, opts["window"], expanding=opts["expanding"], missing=opts["missing"], halflife=opts["halflife"])
    same(res.params, ref[res.param_names])


@SETTINGS
@given(panels, options, st.randoms(use_true_random=False))
def test_shuffled_rows_and_instrument_order_do_not_matter(df, opts, rnd):
    expected = fit(df, opts)
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    same(fit(shuffled, opts).loc[df.index], expected, atol=0)
    names = sorted(df.index.get_level_values("instrument").unique())
    mapping = dict(zip(names, reversed(names)))
    relabelled = df.rename(index=mapping, level="instrument")
    back = fit(relabelled, opts).rename(index={v: k for k, v in mapping.items()}, level="instrument")
    same(back.loc[df.index], expected, atol=0)


@SETTINGS
@given(panels, options)
def test_each_instrument_alone_gives_the_same_rows(df, opts):
    expected = fit(df, opts)
    for name, part in df.groupby(level="instrument"):
        same(fit(part, opts), expected.loc[part.index], atol=0)


@SETTINGS
@given(panels, options, st.floats(-1e3, 1e3))
def test_adding_a_constant_to_y_shifts_only_the_intercept(df, opts, c):
    res = quantreg.rolling_ols(df, **opts)
    shifted = quantreg.rolling_ols(df.assign(y=df["y"] + c), **opts)
    np.testing.assert_allclose(shifted.resid, res.resid, atol=1e-8, equal_nan=True)
    np.testing.assert_allclose(shifted.params["const"], res.params["const"] + c, rtol=1e-9, atol=1e-8, equal_nan=True)
    slopes = [n for n in res.param_names if n != "const"]
    np.testing.assert_allclose(shifted.params[slopes], res.params[slopes], rtol=1e-7, atol=1e-8, equal_nan=True)


@SETTINGS
@given(panels, options, st.data())
def test_causality_rows_after_t_never_change_the_value_at_t(df, opts, data):
    dates = df.index.get_level_values("datetime")
    cut = data.draw(st.sampled_from(sorted(dates.unique())))
    later = dates > cut
    changed = df.copy()
    changed.loc[later, "y"] = changed.loc[later, "y"] * 3.0 + 7.0
    changed.loc[later, changed.columns[0]] = -changed.loc[later, changed.columns[0]]
    before = ~later
    same(fit(changed, opts)[before], fit(df, opts)[before], atol=0)
