"""TabularPreprocessor: date, datetime and timedelta columns.

The expected features are computed by hand (calendar facts, seconds since
1970-01-01 UTC), and read back from the output by undoing the scaling
(``smooth_clip=None``: the output is ``factor * (x - center)``).
"""

import datetime

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sknumpynet import (
    TabularMLPClassifier,
    TabularMLPRegressor,
    TabularPreprocessor,
)

pd = pytest.importorskip("pandas")

DATE_FEATURES = ["year", "month", "day", "weekday", "total_seconds"]
PERIODIC = ["month_sin", "month_cos", "weekday_sin", "weekday_cos"]
HOUR_PERIODIC = ["hour_sin", "hour_cos"]


def unscaled(**params):
    """Scaling that can be undone: no clip, float64."""
    return TabularPreprocessor(smooth_clip=None, dtype=np.float64, **params)


def raw(prep, X):
    """The derived values before scaling, by name; NaN where a column is
    constant (its scaling cannot be undone) or the value was missing (it
    became the median)."""
    Z = prep.transform(X)
    factor = np.where(prep.factor_ == 0, np.nan, prep.factor_)
    values = np.where(prep.scaled_mask_, Z / factor + prep.center_, Z)
    return dict(zip(prep.get_feature_names_out(), values.T))


def test_pandas_datetimes_by_hand_with_nat():
    when = pd.to_datetime(
        ["2024-02-29 13:45", "1969-12-31 23:00", None, "2000-01-03 00:00"]
    )
    X = pd.DataFrame({"when": when})
    prep = unscaled().fit(X)
    assert prep.feature_kinds_.tolist() == ["datetime"]
    assert prep.categories_ == [None]
    names = ["year", "month", "day", "hour", "weekday", "total_seconds"]
    assert prep.datetime_features_[0].tolist() == names + PERIODIC + HOUR_PERIODIC
    assert prep.get_feature_names_out().tolist() == [
        f"when_{name}" for name in names + PERIODIC + HOUR_PERIODIC
    ] + ["when_missing"]
    got = raw(prep, X)
    rows = [0, 1, 3]
    assert_allclose(got["when_year"][rows], [2024, 1969, 2000])
    assert_allclose(got["when_month"][rows], [2, 12, 1])
    assert_allclose(got["when_day"][rows], [29, 31, 3])
    assert_allclose(got["when_hour"][rows], [13, 23, 0])
    # Thursday, Wednesday, Monday.
    assert_allclose(got["when_weekday"][rows], [3, 2, 0])
    seconds = [1709214300.0, -3600.0, 946857600.0]
    assert_allclose(got["when_total_seconds"][rows], seconds, rtol=0, atol=1e-6)
    assert_allclose(
        got["when_month_sin"][rows],
        np.sin(2 * np.pi * np.r_[2, 12, 1] / 12),
        atol=1e-12,
    )
    assert_allclose(
        got["when_weekday_cos"][rows],
        np.cos(2 * np.pi * np.r_[3, 2, 0] / 7),
        atol=1e-12,
    )
    assert_allclose(
        got["when_hour_sin"][rows],
        np.sin(2 * np.pi * np.r_[13, 23, 0] / 24),
        atol=1e-12,
    )
    # NaT: one indicator for the column; each feature at the median's place.
    assert_array_equal(got["when_missing"], [0, 0, 1, 0])
    Z = prep.transform(X)
    assert_array_equal(Z[2, prep.numeric_columns_], 0.0)
    assert prep.missing_indicator_mask_.tolist() == [True]


def test_dates_at_midnight_have_no_hour():
    X = pd.DataFrame(
        {"day": pd.to_datetime(["2024-01-01", "2024-03-15", "2023-07-04"])}
    )
    prep = TabularPreprocessor().fit(X)
    assert prep.datetime_features_[0].tolist() == DATE_FEATURES + PERIODIC
    # No NaT in fit: no indicator ("auto"), but "all" adds one.
    assert not prep.missing_indicator_mask_[0]
    every = TabularPreprocessor(missing_indicators="all").fit(X)
    assert every.get_feature_names_out()[-1] == "day_missing"
    # A time of day at transform is read, not refused; the hour is dropped.
    later = pd.DataFrame({"day": pd.to_datetime(["2024-01-01 18:00"])})
    assert prep.transform(later).shape == (1, len(DATE_FEATURES + PERIODIC))


def test_datetime_periodic_false_and_missing_indicators_none():
    X = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", None, "2023-07-04"])})
    prep = TabularPreprocessor(datetime_periodic=False, missing_indicators="none")
    names = prep.fit(X).get_feature_names_out().tolist()
    assert names == [f"d_{name}" for name in DATE_FEATURES]
    assert prep.numeric_columns_.all()


def test_time_zones_are_converted_to_utc():
    paris = pd.to_datetime(["2024-01-01 00:30", "2024-06-01 12:00"]).tz_localize(
        "Europe/Paris"
    )
    utc = pd.to_datetime(["2023-12-31 23:30", "2024-06-01 10:00"])
    aware = unscaled().fit(pd.DataFrame({"t": paris}))
    naive = unscaled().fit(pd.DataFrame({"t": utc}))
    assert_array_equal(
        aware.transform(pd.DataFrame({"t": paris})),
        naive.transform(pd.DataFrame({"t": utc})),
    )
    got = raw(aware, pd.DataFrame({"t": paris}))
    assert_allclose(got["t_year"], [2023, 2024])
    assert_allclose(got["t_hour"], [23, 10])


def test_timedelta_column_is_its_seconds():
    X = pd.DataFrame({"wait": pd.to_timedelta(["1h", None, "2s", "1 day"])})
    prep = unscaled().fit(X)
    assert prep.feature_kinds_.tolist() == ["timedelta"]
    assert prep.get_feature_names_out().tolist() == ["wait_seconds", "wait_missing"]
    got = raw(prep, X)
    assert_allclose(got["wait_seconds"][[0, 2, 3]], [3600.0, 2.0, 86400.0])
    assert_array_equal(got["wait_missing"], [0, 1, 0, 0])
    assert prep.numeric_columns_.tolist() == [True, False]
    # Python timedeltas in an object column are timedeltas too.
    objects = pd.DataFrame({"wait": [datetime.timedelta(hours=1), None]}, dtype=object)
    assert_array_equal(prep.transform(objects)[0], prep.transform(X)[0])


def test_object_column_of_dates_is_a_datetime_column():
    dates = [datetime.date(2024, 2, 29), None, datetime.date(1999, 12, 31)]
    X = pd.DataFrame({"d": dates}, dtype=object)
    prep = unscaled().fit(X)
    assert prep.feature_kinds_.tolist() == ["datetime"]
    got = raw(prep, X)
    assert_allclose(got["d_year"][[0, 2]], [2024, 1999])
    assert_allclose(got["d_day"][[0, 2]], [29, 31])
    assert_allclose(got["d_weekday"][[0, 2]], [3, 4])
    # The same dates as datetime64 give the same output; aware datetimes
    # and np.datetime64 values in an object column are read too.
    same = pd.DataFrame({"d": pd.to_datetime(["2024-02-29", None, "1999-12-31"])})
    assert_array_equal(prep.transform(same), prep.transform(X))
    tz = datetime.timezone(datetime.timedelta(hours=2))
    others = pd.DataFrame(
        {"d": [datetime.datetime(2024, 2, 29, 2, tzinfo=tz), np.datetime64("NaT")]},
        dtype=object,
    )
    assert_array_equal(prep.transform(others), prep.transform(X)[:2])


def test_numpy_datetime_arrays():
    days = np.array([["2024-01-01"], ["2025-06-30"]], dtype="datetime64[D]")
    only = TabularPreprocessor().fit(days)
    assert only.feature_kinds_.tolist() == ["datetime"]
    n_out = len(DATE_FEATURES + PERIODIC)
    assert only.get_feature_names_out()[0] == "x0_year"
    # The same values as np.datetime64 objects, beside timedeltas.
    X = np.empty((2, 2), dtype=object)
    X[:, 0] = list(days[:, 0])
    X[:, 1] = [np.timedelta64(2, "h"), np.timedelta64("NaT")]
    prep = TabularPreprocessor().fit(X)
    assert prep.feature_kinds_.tolist() == ["datetime", "timedelta"]
    assert_array_equal(only.transform(days), prep.transform(X)[:, :n_out])
    waits = np.array([[1, 2], [3, 4]], dtype="timedelta64[s]")
    assert TabularPreprocessor().fit(waits).feature_kinds_.tolist() == ["timedelta"] * 2


def test_unseen_future_dates_transform():
    train = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=30, freq="30D")})
    prep = unscaled().fit(train)
    future = pd.DataFrame({"d": pd.to_datetime(["2031-05-17", "1990-01-01"])})
    got = raw(prep, future)
    assert_allclose(got["d_year"], [2031, 1990])
    assert_allclose(got["d_month"], [5, 1])
    # Clipped as any numeric value far from the fit's: finite, bounded.
    Z = TabularPreprocessor().fit(train).transform(future)
    assert np.isfinite(Z).all() and (np.abs(Z) < 3).all()


def test_column_not_datetime_at_transform_is_named():
    X = pd.DataFrame({"a": [1.0, 2.0], "when": pd.to_datetime(["2024-01-01", None])})
    prep = TabularPreprocessor().fit(X)
    with pytest.raises(ValueError, match="Column 'when' was datetime in fit but holds"):
        prep.transform(pd.DataFrame({"a": [1.0], "when": [3.5]}))
    strings = pd.DataFrame({"a": [1.0], "when": ["tomorrow"]})
    with pytest.raises(
        ValueError, match="Column 'when' was datetime in fit.*'tomorrow'"
    ):
        prep.transform(strings)
    # A numeric column given datetimes names the column too.
    swapped = pd.DataFrame({"a": pd.to_datetime(["2024-01-01"]), "when": [None]})
    with pytest.raises(ValueError, match="Column 'a' was numeric in fit"):
        prep.transform(swapped)


def test_datetimes_can_be_forced_categorical():
    X = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"])})
    prep = TabularPreprocessor(categorical_features=["d"]).fit(X)
    assert prep.feature_kinds_.tolist() == ["categorical"]
    assert len(prep.categories_[0]) == 2


def test_polars_date_datetime_and_duration():
    pl = pytest.importorskip("polars")
    when = [datetime.datetime(2024, 2, 29, 13, 45), None, datetime.datetime(2000, 1, 3)]
    frame = pl.DataFrame(
        {
            "when": when,
            "day": [datetime.date(2024, 2, 29), datetime.date(2001, 5, 6), None],
            "wait": [datetime.timedelta(seconds=5), None, datetime.timedelta(hours=1)],
            "zoned": pl.Series(when).dt.replace_time_zone("UTC"),
        }
    )
    prep = unscaled().fit(frame)
    assert prep.feature_kinds_.tolist() == [
        "datetime",
        "datetime",
        "timedelta",
        "datetime",
    ]
    same = unscaled().fit(frame.to_pandas())
    assert_array_equal(prep.get_feature_names_out(), same.get_feature_names_out())
    assert_allclose(
        prep.transform(frame), same.transform(frame.to_pandas()), rtol=1e-12
    )
    got = raw(prep, frame)
    assert_allclose(got["day_year"][:2], [2024, 2001])
    assert_allclose(got["wait_seconds"][[0, 2]], [5.0, 3600.0])
    assert_array_equal(got["zoned_missing"], [0, 1, 0])


def test_numeric_columns_mask_with_every_kind():
    X = pd.DataFrame(
        {
            "x": [1.0, None, 3.0, 4.0],
            "d": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01"]),
            "flag": [True, False, True, True],
            "color": ["r", "g", "b", "r"],
        }
    )
    prep = TabularPreprocessor(datetime_periodic=False).fit(X)
    names = prep.get_feature_names_out().tolist()
    numeric = [n for n, m in zip(names, prep.numeric_columns_) if m]
    assert numeric == ["x"] + [f"d_{name}" for name in DATE_FEATURES]
    assert prep.scaled_mask_[prep.numeric_columns_].all()
    assert len(prep.code_columns_) == 0 and len(prep.n_codes_) == 0


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_tabular_estimators_fit_a_frame_with_dates(Estimator):
    rng = np.random.default_rng(0)
    n = 60
    when = pd.Series(pd.date_range("2023-01-01", periods=n, freq="5D"))
    when[3] = pd.NaT
    X = pd.DataFrame({"when": when, "x": rng.normal(size=n)})
    y = (X["x"] > 0).astype(int) if Estimator is TabularMLPClassifier else X["x"]
    model = Estimator(hidden_layer_sizes=(8,), n_epochs=2, random_state=0).fit(X, y)
    assert model.predict(X).shape == (n,)
    assert model.preprocessor_.feature_kinds_.tolist() == ["datetime", "numeric"]


def test_all_nat_datetime_column_gives_zeros_and_an_indicator():
    X = pd.DataFrame({"d": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")})
    prep = TabularPreprocessor().fit(X)
    assert prep.datetime_features_[0].tolist() == DATE_FEATURES + PERIODIC
    Z = prep.transform(X)
    assert_array_equal(Z[:, :-1], 0.0)
    assert prep.get_feature_names_out()[-1] == "d_missing"


def test_unsupported_temporal_dtypes_name_the_column():
    pl = pytest.importorskip("polars")
    times = pl.DataFrame({"at": [datetime.time(10, 30), datetime.time(12, 0)]})
    with pytest.raises(TypeError, match="Column 'at' has dtype Time"):
        TabularPreprocessor().fit(times)
