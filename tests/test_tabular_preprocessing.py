"""TabularPreprocessor: RealMLP-TD-S preprocessing of raw tabular data.

The expected values are computed by hand from the recipe (median, quartiles,
half range, smooth clip), not by calling the transformer's own helpers.
"""

import sys

import joblib
import numpy as np
import pytest
from _helpers import parametrize_with_checks
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sknumpynet import TabularPreprocessor
from sknumpynet._tabular_preprocessing import _missing_mask

pd = pytest.importorskip("pandas")


def clip3(z):
    """The smooth clip of the recipe, bound 3."""
    z = np.asarray(z, dtype=np.float64)
    return z / np.sqrt(1 + (z / 3) ** 2)


def plain(**params):
    """The encoding without scaling of the encoded columns, in float64."""
    return TabularPreprocessor(scale_encoded=False, dtype=np.float64, **params)


def mixed_frame(n_samples=80, seed=0):
    """A frame of every kind, missing values in each, and a target."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n_samples)
    age[rng.random(n_samples) < 0.1] = np.nan
    color = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    color[rng.random(n_samples) < 0.1] = None
    member = pd.array(rng.random(n_samples) < 0.5, dtype="boolean")
    member[rng.random(n_samples) < 0.1] = pd.NA
    visits = pd.array(rng.integers(0, 10, n_samples), dtype="Int64")
    visits[rng.random(n_samples) < 0.1] = pd.NA
    X = pd.DataFrame(
        {
            "age": age,
            "color": pd.Categorical(color),
            "member": member,
            "visits": visits,
            "city": pd.array(rng.choice(["a", "b", "c", "d"], n_samples), "string"),
        }
    )
    score = (
        np.nan_to_num(age - 40) / 12
        + (color == "red")
        + 0.3 * np.asarray(member.fillna(False), dtype=float)
    )
    return X, score


# ---------------------------------------------------------------------------
# scikit-learn's checks
# ---------------------------------------------------------------------------


@parametrize_with_checks(
    [
        TabularPreprocessor(),
        TabularPreprocessor(
            missing_indicators="all",
            scale_encoded=False,
            smooth_clip=None,
            dtype=np.float64,
        ),
    ]
)
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------
# Numeric columns: robust scaling and smooth clip, by hand
# ---------------------------------------------------------------------------


def test_median_iqr_scaling_and_smooth_clip_by_hand():
    # Median 3, quartiles 2 and 4: z = (x - 3) / 2.
    X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    prep = TabularPreprocessor(dtype=np.float64).fit(X)
    assert prep.center_[0] == 3.0
    assert prep.factor_[0] == 1 / (2 + 1e-30)
    expected = [-3 / np.sqrt(10), -3 / np.sqrt(37), 0.0, 3 / np.sqrt(37)]
    expected.append(48.5 / np.sqrt(1 + (48.5 / 3) ** 2))
    assert_allclose(prep.transform(X).ravel(), expected, rtol=1e-12)
    # Values beyond the data stay inside (-3, 3).
    out = prep.transform(np.array([[1e12], [-1e12]])).ravel()
    assert_allclose(out, [3.0, -3.0], rtol=1e-9)
    assert np.all(np.abs(out) <= 3.0)


def test_zero_iqr_falls_back_to_half_the_range():
    # Quartiles both 0; half the range is 5: z = x / 5.
    X = np.array([[0.0]] * 7 + [[10.0]])
    prep = TabularPreprocessor(dtype=np.float64).fit(X)
    assert prep.center_[0] == 0.0
    assert prep.factor_[0] == 1 / (5 + 1e-30)
    assert_allclose(
        prep.transform([[10.0], [-5.0]]).ravel(),
        [6 / np.sqrt(13), -1 / np.sqrt(1 + 1 / 9)],
    )


def test_constant_column_gives_zeros_even_for_new_values():
    prep = TabularPreprocessor().fit(np.full((4, 1), 5.0))
    assert prep.factor_[0] == 0.0
    assert_array_equal(prep.transform([[5.0], [7.0], [-1e6], [np.nan]]), 0.0)


def test_smooth_clip_bound_and_no_clip():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    z = (100.0 - 3) / 2
    wide = TabularPreprocessor(smooth_clip=10.0, dtype=np.float64).fit(X)
    assert_allclose(wide.transform([[100.0]])[0, 0], z / np.sqrt(1 + (z / 10) ** 2))
    unclipped = TabularPreprocessor(smooth_clip=None, dtype=np.float64).fit(X)
    assert_allclose(unclipped.transform(X).ravel(), [-1.0, -0.5, 0.0, 0.5, z])


def test_missing_numeric_becomes_the_median_with_an_indicator():
    # Observed 1, 3, 5: median 3, quartiles 2 and 4.
    X = np.array([[1.0], [np.nan], [3.0], [5.0]])
    encoded = plain().fit(X)
    assert_array_equal(encoded.missing_indicator_mask_, [True])
    assert_array_equal(encoded.get_feature_names_out(), ["x0", "x0_missing"])
    assert_allclose(
        encoded.transform(X),
        [[-3 / np.sqrt(10), 0], [0, 1], [0, 0], [3 / np.sqrt(10), 0]],
    )
    # The recipe scales the indicator too: median 0, quartiles 0 and 0.25,
    # so 1 becomes 4, clipped to 4 / sqrt(1 + 16/9) = 2.4.
    scaled = TabularPreprocessor(dtype=np.float64).fit_transform(X)
    assert_allclose(scaled[:, 1], [0, 2.4, 0, 0])


def test_missing_indicator_options():
    X = np.array([[1.0, 1.0], [np.nan, 2.0], [3.0, 3.0]])
    names = {
        option: list(plain(missing_indicators=option).fit(X).get_feature_names_out())
        for option in ("auto", "all", "none")
    }
    assert names["auto"] == ["x0", "x0_missing", "x1"]
    assert names["all"] == ["x0", "x0_missing", "x1", "x1_missing"]
    assert names["none"] == ["x0", "x1"]
    # "auto": a column complete in fit gets no indicator; NaN at transform
    # is still the median.
    out = plain().fit(X).transform([[np.nan, np.nan]])
    assert_array_equal(out, [[0.0, 1.0, 0.0]])


def test_all_missing_numeric_column_is_allowed_and_gives_zeros():
    X = np.array([[np.nan, 1.0], [np.nan, 2.0], [np.nan, 4.0]])
    prep = TabularPreprocessor(missing_indicators="none").fit(X)
    assert prep.factor_[0] == 0.0
    out = prep.transform([[7.0, 2.0], [np.nan, 1.0]])
    assert_array_equal(out[:, 0], 0.0)
    assert np.all(np.isfinite(out))


def test_huge_values_stay_finite_and_exact():
    # Sorted -1e308, 0, 5e307, 1e308: median 2.5e307, quartiles -2.5e307 and
    # 6.25e307, whose difference 8.75e307 must not overflow.
    X = np.array([[1e308], [-1e308], [0.0], [5e307]])
    prep = TabularPreprocessor(smooth_clip=None, dtype=np.float64).fit(X)
    assert_allclose(prep.center_, [2.5e307])
    assert_allclose(prep.factor_, [1 / 8.75e307])
    assert_allclose(prep.transform(X).ravel(), np.array([7.5, -12.5, -2.5, 2.5]) / 8.75)
    clipped = TabularPreprocessor().fit_transform(X)
    assert np.all(np.isfinite(clipped))
    # A float32 output without a clip saturates instead of overflowing.
    wide = TabularPreprocessor(smooth_clip=None).fit(np.array([[0.0], [1.0], [2.0]]))
    out = wide.transform([[1e300], [-1e300]])
    assert out.dtype == np.float32
    assert_array_equal(
        out.ravel(), [np.finfo(np.float32).max, -np.finfo(np.float32).max]
    )


# ---------------------------------------------------------------------------
# Categorical and boolean columns
# ---------------------------------------------------------------------------


def test_binary_column_is_one_plus_minus_one_column_missing_zero():
    X = pd.DataFrame({"sex": ["female", "male", None, "male"]})
    prep = plain().fit(X)
    assert_array_equal(prep.categories_[0], ["female", "male"])
    assert_array_equal(prep.get_feature_names_out(), ["sex"])
    assert_array_equal(prep.transform(X).ravel(), [1, -1, 0, -1])
    assert_array_equal(prep.transform(pd.DataFrame({"sex": ["other"]})), [[0.0]])


def test_one_hot_with_missing_and_unseen_categories_as_zeros():
    X = pd.DataFrame({"color": ["red", "blue", "green", None, "red"]})
    prep = plain().fit(X)
    assert_array_equal(
        prep.get_feature_names_out(), ["color_blue", "color_green", "color_red"]
    )
    new = pd.DataFrame({"color": ["green", "purple", None, np.nan, pd.NA]})
    assert_array_equal(
        prep.transform(new),
        [[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
    )


def test_encoded_columns_are_scaled_as_in_the_recipe():
    X = pd.DataFrame({"sex": ["a", "a", "b", None]})
    # +1, +1, -1, 0: median 0.5, quartiles -0.25 and 1, factor 1 / 1.25.
    prep = TabularPreprocessor(dtype=np.float64).fit(X)
    assert prep.center_[0] == 0.5
    assert_allclose(prep.factor_[0], 0.8)
    assert_allclose(prep.transform(X).ravel(), clip3([0.4, 0.4, -1.2, -0.4]))
    # A one-hot column that is 1 in 1 of 8 rows: quartiles 0, half range 0.5.
    colors = pd.DataFrame({"color": ["red"] + ["blue"] * 4 + ["green"] * 3})
    out = TabularPreprocessor(dtype=np.float64).fit_transform(colors)
    assert_allclose(out[0, 2], 6 / np.sqrt(13))
    assert_array_equal(out[1:, 2], 0.0)


def test_boolean_columns_put_true_first():
    X = pd.DataFrame(
        {
            "flag": [True, False, True],
            "nullable": pd.array([False, pd.NA, True], dtype="boolean"),
        }
    )
    prep = plain().fit(X)
    assert list(prep.feature_kinds_) == ["boolean", "boolean"]
    assert_array_equal(prep.categories_[0], ["True", "False"])
    assert_array_equal(prep.transform(X), [[1, -1], [-1, 0], [1, 1]])


def test_single_category_column_is_one_indicator():
    X = pd.DataFrame({"only": ["x", None, "x"]})
    prep = plain().fit(X)
    assert_array_equal(prep.get_feature_names_out(), ["only_x"])
    assert_array_equal(prep.transform(X).ravel(), [1, 0, 1])


def test_categorical_column_all_missing_in_fit_gives_no_column():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": pd.array([None] * 3, "string")})
    prep = plain().fit(X)
    assert_array_equal(prep.get_feature_names_out(), ["a"])
    assert prep.transform(pd.DataFrame({"a": [1.0], "b": ["new"]})).shape == (1, 1)


def test_categories_are_sorted_numbers_numerically():
    X = pd.DataFrame({"code": pd.Categorical([10, 2, 1, 2])})
    prep = plain().fit(X)
    assert_array_equal(prep.categories_[0], ["1", "2", "10"])
    assert_array_equal(prep.transform(X), [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0]])


def test_mixed_type_object_column_uses_string_forms():
    X = pd.DataFrame({"mixed": [1, "a", None, 2.5, {"k": 1}, "a"]}, dtype=object)
    prep = plain().fit(X)
    assert prep.feature_kinds_[0] == "categorical"
    assert_array_equal(prep.categories_[0], ["1", "2.5", "a", "{'k': 1}"])
    out = prep.transform(X)
    assert_array_equal(out.sum(axis=1), [1, 1, 0, 1, 1, 1])
    assert_array_equal(out[:, 2], [0, 1, 0, 0, 0, 1])


def test_max_categories_keeps_the_most_frequent():
    X = pd.DataFrame({"c": ["a", "b", "c", "c", "d", "c", "b", "e"]})
    prep = plain(max_categories=2).fit(X)
    # c (3 times) and b (2 times), in sorted order: a binary column.
    assert_array_equal(prep.categories_[0], ["b", "c"])
    assert_array_equal(prep.transform(X).ravel(), [0, 1, -1, -1, 0, -1, 1, 0])
    assert plain(max_categories=3).fit(X).get_feature_names_out().tolist() == [
        "c_a",
        "c_b",
        "c_c",
    ]


def test_categorical_features_by_name_and_position():
    X = pd.DataFrame({"zip": [75001, 13001, 75001], "n": [1.0, 2.0, 3.0]})
    by_name = plain(categorical_features=["zip"]).fit(X)
    by_position = plain(categorical_features=[0]).fit(X)
    for prep in (by_name, by_position):
        assert list(prep.feature_kinds_) == ["categorical", "numeric"]
        assert_array_equal(prep.categories_[0], ["13001", "75001"])
        assert_array_equal(prep.transform(X)[:, 0], [-1, 1, -1])
    codes = np.array([[3, 0.5], [1, 0.1], [3, 0.2]])
    prep = plain(categorical_features=[0]).fit(codes)
    assert_array_equal(prep.get_feature_names_out(), ["x0", "x1"])
    assert_array_equal(prep.categories_[0], ["1.0", "3.0"])


# ---------------------------------------------------------------------------
# Input containers and dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("with_pandas", [True, False], ids=["pandas", "no-pandas"])
def test_missing_values_are_found_with_or_without_pandas(with_pandas, monkeypatch):
    if not with_pandas:
        # ``from pandas import isna`` then fails: the value-by-value path.
        monkeypatch.setitem(sys.modules, "pandas", None)
    values = np.array(
        [None, np.nan, float("nan"), np.float32("nan"), pd.NA, pd.NaT, "a", 0, ""],
        dtype=object,
    )
    expected = [True] * 6 + [False] * 3
    assert_array_equal(_missing_mask(values), expected)
    X = np.array([["a"], [None], [np.nan], ["b"], ["a"]], dtype=object)
    assert_array_equal(_missing_mask(X[:, 0]), [False, True, True, False, False])
    # scikit-learn < 1.9 itself breaks on a None in sys.modules["pandas"], so
    # the transformer runs with pandas back (the masks above are the same).
    monkeypatch.undo()
    assert_array_equal(plain().fit(X).transform(X).ravel(), [1, 0, 0, -1, 1])


def test_pandas_dtypes_and_missing_values():
    X = pd.DataFrame(
        {
            "i": pd.array([1, None, 3, 5], dtype="Int64"),
            "f": pd.array([1.0, 3.0, None, 5.0], dtype="Float64"),
            "b": pd.array([True, None, False, True], dtype="boolean"),
            "s": pd.array(["x", pd.NA, "y", "z"], dtype="string"),
            "c": pd.Categorical(["u", "v", None, "v"]),
            "o": pd.Series([1, 3.0, None, 5], dtype=object),
        }
    )
    prep = plain().fit(X)
    assert list(prep.feature_kinds_) == [
        "numeric",
        "numeric",
        "boolean",
        "categorical",
        "categorical",
        "numeric",
    ]
    assert list(prep.get_feature_names_out()) == [
        "i",
        "i_missing",
        "f",
        "f_missing",
        "b",
        "s_x",
        "s_y",
        "s_z",
        "c",
        "o",
        "o_missing",
    ]
    a = 3 / np.sqrt(10)  # (1 - 3) / 2 and (5 - 3) / 2, clipped
    assert_allclose(
        prep.transform(X),
        [
            [-a, 0, -a, 0, 1, 1, 0, 0, 1, -a, 0],
            [0, 1, 0, 0, 0, 0, 0, 0, -1, 0, 0],
            [0, 0, 0, 1, -1, 0, 1, 0, 0, 0, 1],
            [a, 0, a, 0, 1, 0, 0, 1, -1, a, 0],
        ],
    )
    assert_array_equal(prep.feature_names_in_, X.columns)


def test_polars_frame_gives_the_pandas_result():
    pl = pytest.importorskip("polars")
    data = {
        "age": [22.0, None, 35.0, 41.0],
        "color": ["red", "blue", None, "red"],
        "member": [True, None, False, True],
        "n": [1, 2, None, 4],
    }
    X_pl = pl.DataFrame(data).with_columns(pl.col("color").cast(pl.Categorical))
    X_pd = pd.DataFrame(
        {
            "age": data["age"],
            "color": pd.Categorical(data["color"]),
            "member": pd.array(data["member"], dtype="boolean"),
            "n": pd.array(data["n"], dtype="Int64"),
        }
    )
    prep = TabularPreprocessor().fit(X_pl)
    assert list(prep.feature_kinds_) == ["numeric", "categorical", "boolean", "numeric"]
    assert_array_equal(prep.feature_names_in_, ["age", "color", "member", "n"])
    assert_array_equal(prep.transform(X_pl), TabularPreprocessor().fit_transform(X_pd))
    # Unseen categories at transform.
    new = pl.DataFrame(
        {"age": [30.0], "color": ["green"], "member": [None], "n": [3]},
        schema_overrides={"member": pl.Boolean},
    )
    plain_prep = plain().fit(X_pl)
    assert_array_equal(plain_prep.transform(new)[0, 2:4], [0, 0])
    out = prep.set_output(transform="polars").transform(X_pl)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == list(prep.get_feature_names_out())


def test_numeric_array_has_numeric_columns_only():
    X = np.array([[1, 10], [2, 20], [3, 10]], dtype=np.int64)
    prep = plain().fit(X)
    assert list(prep.feature_kinds_) == ["numeric", "numeric"]
    assert not hasattr(prep, "feature_names_in_")
    assert_array_equal(prep.get_feature_names_out(), ["x0", "x1"])


def test_object_array_kinds_are_inferred_per_column():
    X = np.array(
        [[1, "a", True, 2.0], [2.5, "b", False, "x"], [None, None, None, 3]],
        dtype=object,
    )
    prep = plain().fit(X)
    assert list(prep.feature_kinds_) == [
        "numeric",
        "categorical",
        "boolean",
        "categorical",
    ]
    assert list(prep.get_feature_names_out()) == [
        "x0",
        "x0_missing",
        "x1",
        "x2",
        "x3_2.0",
        "x3_3",
        "x3_x",
    ]
    a = 3 / np.sqrt(10)  # median 1.75, quartiles 1.375 and 2.125: z = +-1
    assert_allclose(
        prep.transform(X),
        [[-a, 0, 1, 1, 1, 0, 0], [a, 0, -1, -1, 0, 0, 1], [0, 1, 0, 0, 0, 1, 0]],
    )


def test_string_array_and_mixed_lists():
    strings = np.array([["a", "x"], ["b", "x"], ["a", "y"]])
    prep = plain().fit(strings)
    assert list(prep.feature_kinds_) == ["categorical", "categorical"]
    assert_array_equal(prep.transform(strings), [[1, 1], [-1, 1], [1, -1]])
    # A list mixing numbers and strings keeps its numbers numeric.
    rows = [[1.0, "a"], [2.0, "b"], [3.0, "a"]]
    prep = plain().fit(rows)
    assert list(prep.feature_kinds_) == ["numeric", "categorical"]
    assert_allclose(prep.transform(rows)[:, 0], [-3 / np.sqrt(10), 0, 3 / np.sqrt(10)])


def test_numeric_column_accepts_numbers_of_another_dtype_at_transform():
    prep = plain().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    as_objects = pd.DataFrame({"a": pd.Series([1, None, 3], dtype=object)})
    as_nullable = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64")})
    assert_array_equal(prep.transform(as_objects), prep.transform(as_nullable))


# ---------------------------------------------------------------------------
# Output: dtype, names, set_output, determinism
# ---------------------------------------------------------------------------


def test_output_is_float32_by_default_and_float64_on_request():
    X, _ = mixed_frame()
    assert TabularPreprocessor().fit_transform(X).dtype == np.float32
    for dtype in (np.float64, "float64"):
        out = TabularPreprocessor(dtype=dtype).fit_transform(X)
        assert out.dtype == np.float64
    assert TabularPreprocessor(dtype="float32").fit_transform(X).dtype == np.float32


def test_output_is_finite_dense_and_bounded():
    X, _ = mixed_frame()
    out = TabularPreprocessor().fit_transform(X)
    assert isinstance(out, np.ndarray)
    assert np.all(np.isfinite(out))
    assert np.all(np.abs(out) < 3.0)


def test_get_feature_names_out_and_input_features():
    X, _ = mixed_frame()
    prep = TabularPreprocessor().fit(X)
    names = prep.get_feature_names_out()
    assert names.dtype == object
    assert list(names) == [
        "age",
        "age_missing",
        "color_blue",
        "color_green",
        "color_red",
        "member",
        "visits",
        "visits_missing",
        "city_a",
        "city_b",
        "city_c",
        "city_d",
    ]
    assert len(names) == prep.transform(X).shape[1]
    assert_array_equal(prep.get_feature_names_out(list(X.columns)), names)
    with pytest.raises(ValueError, match="input_features is not equal"):
        prep.get_feature_names_out(["a", "b", "c", "d", "e"])
    renamed = TabularPreprocessor().fit(X.to_numpy())
    assert renamed.get_feature_names_out(["p", "q", "r", "s", "t"])[0] == "p"


def test_set_output_pandas():
    X, _ = mixed_frame()
    prep = TabularPreprocessor().set_output(transform="pandas").fit(X)
    out = prep.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(prep.get_feature_names_out())
    assert_array_equal(out.index, X.index)
    assert_array_equal(
        out.to_numpy(), TabularPreprocessor().fit(X).transform(X), strict=False
    )
    assert (out.dtypes == np.float32).all()


def test_fit_transform_equals_fit_then_transform_and_is_deterministic():
    X, _ = mixed_frame()
    first = TabularPreprocessor().fit_transform(X)
    assert_array_equal(first, TabularPreprocessor().fit(X).transform(X), strict=True)
    assert_array_equal(first, TabularPreprocessor().fit_transform(X), strict=True)
    # The row order of the training data changes nothing.
    order = np.random.default_rng(1).permutation(len(X))
    shuffled = TabularPreprocessor().fit(X.iloc[order])
    assert_array_equal(shuffled.transform(X), first)
    for a, b in zip(shuffled.categories_, TabularPreprocessor().fit(X).categories_):
        assert (a is None and b is None) or list(a) == list(b)


# ---------------------------------------------------------------------------
# scikit-learn integration
# ---------------------------------------------------------------------------


def test_clone_keeps_parameters_and_drops_the_fit():
    prep = TabularPreprocessor(max_categories=3, missing_indicators="all").fit(
        np.ones((3, 1))
    )
    copy = clone(prep)
    assert copy.get_params() == prep.get_params()
    assert not hasattr(copy, "center_")


def test_pipeline_grid_search_and_cross_val_score():
    X, score = mixed_frame(120)
    y = (score > np.median(score)).astype(int)
    pipe = make_pipeline(TabularPreprocessor(), LogisticRegression(max_iter=1000))
    grid = GridSearchCV(
        pipe,
        {
            "tabularpreprocessor__scale_encoded": [True, False],
            "tabularpreprocessor__missing_indicators": ["auto", "none"],
        },
        cv=3,
    ).fit(X, y)
    assert grid.best_score_ > 0.8
    assert len(grid.cv_results_["params"]) == 4
    scores = cross_val_score(
        make_pipeline(TabularPreprocessor(), Ridge()),
        X,
        score,
        cv=KFold(4, shuffle=True, random_state=0),
    )
    assert scores.shape == (4,)
    assert scores.mean() > 0.5


def test_joblib_round_trip(tmp_path):
    X, _ = mixed_frame()
    prep = TabularPreprocessor().fit(X)
    path = tmp_path / "prep.joblib"
    joblib.dump(prep, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.transform(X), prep.transform(X), strict=True)
    assert_array_equal(loaded.get_feature_names_out(), prep.get_feature_names_out())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_column_count_mismatch_at_transform():
    prep = TabularPreprocessor().fit(np.ones((3, 2)))
    with pytest.raises(
        ValueError, match="X has 3 features, but TabularPreprocessor is expecting 2"
    ):
        prep.transform(np.ones((2, 3)))


def test_frame_with_renamed_or_reordered_columns():
    prep = TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
    with pytest.raises(ValueError, match="(?s)unseen at fit time:\n- c"):
        prep.transform(pd.DataFrame({"a": [1.0], "c": [1.0]}))
    with pytest.raises(ValueError, match="must be in the same order"):
        prep.transform(pd.DataFrame({"b": [1.0], "a": [1.0]}))


@pytest.mark.parametrize(
    "X",
    [np.zeros((3, 0)), pd.DataFrame(index=range(3))],
    ids=["array", "frame"],
)
def test_no_columns(X):
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(3, 0\)\)"):
        TabularPreprocessor().fit(X)


@pytest.mark.parametrize(
    "X",
    [np.zeros((0, 2)), pd.DataFrame({"a": [], "b": []})],
    ids=["array", "frame"],
)
def test_no_rows(X):
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        TabularPreprocessor().fit(X)


@pytest.mark.parametrize(
    "y",
    [np.array([0, 1, 1]), pd.Series(["a", "b", "a"]), [1.0, 2.0, 3.0]],
    ids=["array", "series", "list"],
)
def test_target_passed_as_X(y):
    with pytest.raises(ValueError, match="target y passed where X should be"):
        TabularPreprocessor().fit(y)
    prep = TabularPreprocessor().fit(np.ones((2, 1)))
    with pytest.raises(ValueError, match="1-D"):
        prep.transform(y)


def test_infinity_is_refused_in_fit_and_transform():
    with pytest.raises(ValueError, match="Column 'a' holds infinite values"):
        TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, np.inf]}))
    with pytest.raises(ValueError, match="Column 0 holds infinite values"):
        TabularPreprocessor().fit(np.array([[1.0], [-np.inf]]))
    prep = TabularPreprocessor().fit(np.array([[1.0], [2.0]]))
    with pytest.raises(ValueError, match="infinite values"):
        prep.transform(np.array([[np.inf]]))


def test_strings_in_a_numeric_column_at_transform():
    prep = TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="Column 'a' was numeric in fit but holds"):
        prep.transform(pd.DataFrame({"a": ["x"]}, dtype=object))
    with pytest.raises(ValueError, match="Column 'a' was numeric in fit but holds"):
        prep.transform(pd.DataFrame({"a": pd.array(["x"], dtype="string")}))


def test_unsupported_dtypes():
    # Datetimes are encoded (test_tabular_datetimes.py); periods are not.
    periods = pd.DataFrame({"when": pd.period_range("2024-01", periods=2, freq="M")})
    with pytest.raises(TypeError, match="Column 'when' has dtype period"):
        TabularPreprocessor().fit(periods)
    with pytest.raises(ValueError, match="Complex data not supported"):
        TabularPreprocessor().fit(pd.DataFrame({"z": [1 + 1j, 2j]}))
    with pytest.raises(ValueError, match="Complex data not supported"):
        TabularPreprocessor().fit(np.array([[1 + 1j], [2j]]))
    with pytest.raises(TypeError, match="[Ss]parse"):
        TabularPreprocessor().fit(sparse.csr_matrix(np.eye(3)))


def test_categorical_features_errors():
    X = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(ValueError, match="names the column 'c', which X does not"):
        TabularPreprocessor(categorical_features=["c"]).fit(X)
    with pytest.raises(ValueError, match="holds the position 2, but X has 2"):
        TabularPreprocessor(categorical_features=[2]).fit(X)
    with pytest.raises(ValueError, match="must hold column names"):
        TabularPreprocessor(categorical_features=[1.5]).fit(X)
    with pytest.raises(ValueError, match="names the column 'a'"):
        TabularPreprocessor(categorical_features=["a"]).fit(X.to_numpy())


@pytest.mark.parametrize(
    "params",
    [
        {"missing_indicators": True},
        {"max_categories": 0},
        {"smooth_clip": 0.0},
        {"dtype": np.int32},
        {"scale_encoded": "yes"},
        {"categorical_features": "a"},
        {"max_one_hot": -1},
        {"max_one_hot": 2.5},
        {"datetime_periodic": "yes"},
    ],
)
def test_invalid_parameters(params):
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        TabularPreprocessor(**params).fit(np.ones((2, 1)))


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        TabularPreprocessor().transform(np.ones((2, 1)))
    with pytest.raises(NotFittedError):
        TabularPreprocessor().get_feature_names_out()


def test_polars_names_are_remembered_and_checked_on_every_scikit_learn():
    """scikit-learn < 1.9 cannot read polars 2 column names; the transformer
    remembers and checks them itself, so the behaviour is the same."""
    pl = pytest.importorskip("polars")
    X = pl.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "color": ["a", "b", "a", None]})
    prep = plain().fit(X)
    assert list(prep.feature_names_in_) == ["size", "color"]
    with pytest.raises(ValueError, match="feature names should match"):
        prep.transform(X.select(["color", "size"]))
    renamed = X.rename({"size": "length"})
    with pytest.raises(ValueError, match="feature names should match"):
        prep.transform(renamed)
