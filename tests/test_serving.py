"""Prediction at serving speed: the fast path gives what the full path gives.

After a fitted model's first prediction, ``predict``, ``predict_proba`` and
``predict_log_proba`` take input that cheap checks prove valid straight to
the forward pass (``sknumpynet._serving``); the tabular estimators keep
their effective weights and take the preprocessed matrix straight to the
network. These tests hold the fast path to
the full one: bitwise the same outputs on every input kind the full path
accepts, the same errors and warnings on everything else, the same answers
after the model changes, under ``assume_finite`` and from many threads.
No timing here: speed is measured in ``benchmarks/bench_predict.py``.
"""

import copy
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _helpers import classification, regression
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import sknumpynet._base
import sknumpynet._tabular
import sknumpynet._tabular_preprocessing
from sknumpynet import (
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from sknumpynet._serving import current_plan

pytestmark = pytest.mark.filterwarnings(
    "ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning"
)

METHODS = {
    NumpyMLPClassifier: ["predict", "predict_proba", "predict_log_proba"],
    NumpyMLPRegressor: ["predict"],
    TabularMLPClassifier: ["predict", "predict_proba"],
    TabularMLPRegressor: ["predict"],
}


def _fitted(kind, frame=False, dtype=np.float64):
    """A fitted model of ``kind`` and its training X."""
    if kind == "regressor":
        X, y = regression(60, n_targets=1)
        est = NumpyMLPRegressor(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    elif kind == "regressor-2-outputs":
        X, y = regression(60, n_targets=2)
        est = NumpyMLPRegressor(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    else:
        n_classes = 2 if kind.startswith("binary") else 3
        labels = ["no", "yes", "maybe"][:n_classes] if "strings" in kind else None
        X, y = classification(60, n_classes, labels=labels)
        if kind == "multilabel":
            y = np.column_stack([y == 0, y == 1]).astype(int)
        est = NumpyMLPClassifier(
            hidden_layer_sizes=(7, 5), activation="relu", max_iter=5, random_state=0
        )
    X = X.astype(dtype)
    if frame:
        X = pd.DataFrame(X, columns=[f"feature {i}" for i in range(X.shape[1])])
    return est.fit(X, y), X


KINDS = [
    "binary",
    "binary-strings",
    "multiclass",
    "multiclass-strings",
    "multilabel",
    "regressor",
    "regressor-2-outputs",
]


def _without_plan(est):
    """A copy of ``est`` that has never predicted: the full path answers."""
    fresh = copy.deepcopy(est)
    assert current_plan(fresh) is None
    return fresh


def _count_calls(monkeypatch, module, name, calls):
    """Count the calls of ``module.name`` into ``calls`` (a list)."""
    function = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(name)
        return function(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def _count_full_validations(monkeypatch):
    return _count_calls(monkeypatch, sknumpynet._estimators, "validate_X", [])


def _assert_identical(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=False)


def _array_inputs(X):
    """The input kinds a model fitted on an ndarray accepts, by name."""
    return {
        "float64": X[:9].astype(np.float64),
        "float32": X[:9].astype(np.float32),
        "fortran": np.asfortranarray(X[:9]),
        "strided": X[:18:2],
        "one row": X[:1],
        "int": np.round(X[:9]).astype(np.int64),
        "list": X[:9].tolist(),
        "csr": sp.csr_matrix(X[:9]),
        "csc": sp.csc_matrix(X[:9]),
    }


def _compare_paths(est, inputs_by_name, fast_names, monkeypatch):
    """Each method on each input: the warm estimator equals a fresh copy, and
    skips scikit-learn's validation exactly for ``fast_names`` (multilabel
    labels are still decoded by the LabelBinarizer, from the fast output)."""
    validations = _count_full_validations(monkeypatch)
    for name, inputs in inputs_by_name.items():
        for method in METHODS[type(est)]:
            full = getattr(_without_plan(est), method)(inputs)
            before = len(validations)
            fast = getattr(est, method)(inputs)
            _assert_identical(fast, full)
            expected_fast = name in fast_names
            took_fast = len(validations) == before
            assert took_fast == expected_fast, (name, method)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_path_equals_full_path_on_every_array_input(kind, dtype, monkeypatch):
    est, X = _fitted(kind, dtype=dtype)
    est.predict(X[:2])  # the first prediction makes the plan
    assert current_plan(est) is not None
    fast = {"float64", "float32", "fortran", "strided", "one row"}
    _compare_paths(est, _array_inputs(X), fast, monkeypatch)


@pytest.mark.parametrize("kind", ["binary-strings", "multiclass", "regressor"])
def test_fast_path_equals_full_path_on_frames(kind, monkeypatch):
    est, X = _fitted(kind, frame=True)
    est.predict(X.iloc[:2])
    frames = {
        "float64": X.iloc[:9],
        "float32": X.iloc[:9].astype(np.float32),
        "one row": X.iloc[[3]],
        "int": X.iloc[:9].round().astype(np.int64),
        "mixed float and int": X.iloc[:9].astype({X.columns[0]: np.int64}),
        "nullable": X.iloc[:9].astype("Float64"),
        "bool": X.iloc[:9] > 0,
    }
    fast = {"float64", "float32", "one row", "int", "mixed float and int"}
    _compare_paths(est, frames, fast, monkeypatch)


def _outcome(call):
    """(exception type, message) or the warnings' (category, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:  # noqa: BLE001 -- compared below
            return type(error), str(error), None
    return None, [(w.category, str(w.message)) for w in caught], result


BAD_ARRAYS = {
    "too few features": lambda X: X[:3, :-1],
    "too many features": lambda X: np.hstack([X[:3], X[:3]]),
    "nan": lambda X: np.where(np.arange(X[:3].size).reshape(3, -1) == 4, np.nan, X[:3]),
    "inf": lambda X: np.where(np.arange(X[:3].size).reshape(3, -1) == 4, np.inf, X[:3]),
    "no rows": lambda X: X[:0],
    "one dimension": lambda X: X[0],
    "strings": lambda X: X[:3].astype(str),
    "complex": lambda X: X[:3].astype(complex),
    "huge for float32": lambda X: X[:3] * 1e300,
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", list(BAD_ARRAYS))
def test_fast_path_gives_the_full_paths_errors(bad, dtype):
    est, X = _fitted("multiclass", dtype=dtype)
    est.predict(X[:2])
    inputs = BAD_ARRAYS[bad](X.astype(np.float64))
    for method in METHODS[type(est)]:
        full = _outcome(lambda: getattr(_without_plan(est), method)(inputs))
        fast = _outcome(lambda: getattr(est, method)(inputs))
        assert fast[:2] == full[:2]
        if full[2] is not None:
            _assert_identical(fast[2], full[2])


def test_frames_with_other_names_get_the_full_paths_warnings_and_errors():
    est, X = _fitted("multiclass", frame=True)
    est.predict(X.iloc[:2])
    renamed = X.iloc[:3].rename(columns={X.columns[0]: "another"})
    reordered = X.iloc[:3][list(X.columns[::-1])]
    unnamed = X.iloc[:3].to_numpy()  # warns: fitted with feature names
    numbered = X.iloc[:3].set_axis(range(X.shape[1]), axis=1)
    for inputs in [renamed, reordered, unnamed, numbered]:
        full = _outcome(lambda: _without_plan(est).predict(inputs))
        fast = _outcome(lambda: est.predict(inputs))
        assert fast[:2] == full[:2]
    assert full[0] is None and "feature names" in str(full[1])  # the warning


def test_unnamed_model_warns_about_named_frames_as_the_full_path_does():
    est, X = _fitted("regressor")
    est.predict(X[:2])
    frame = pd.DataFrame(X[:3], columns=[f"f{i}" for i in range(X.shape[1])])
    full = _outcome(lambda: _without_plan(est).predict(frame))
    fast = _outcome(lambda: est.predict(frame))
    assert fast[:2] == full[:2] and full[1], "expected the feature-name warning"
    _assert_identical(fast[2], full[2])


@pytest.mark.parametrize("change", ["partial_fit", "warm_start", "best", "coefs"])
def test_a_changed_model_retires_its_plan(change):
    est, X = _fitted("multiclass")
    est.set_params(warm_start=True, solver="sgd")
    _, y = classification(60, 3)
    before = est.predict_proba(X[:9])
    plan = current_plan(est)
    if change == "partial_fit":
        est.partial_fit(X, y)
    elif change == "warm_start":
        est.fit(X, y)
    elif change == "best":
        est.restore_best_weights()
    else:
        est.coefs_ = [c * 2 for c in est.coefs_]
    assert current_plan(est) is None
    after = est.predict_proba(X[:9])
    _assert_identical(after, _without_plan(est).predict_proba(X[:9]))
    assert current_plan(est) is not plan
    if change != "best":
        assert not np.array_equal(after, before)


@pytest.mark.parametrize("parametrization", ["standard", "ntk"])
def test_a_replaced_weight_matrix_retires_the_plan(parametrization):
    # With the NTK factors the plan's weights are copies, so the list being
    # the same object is not enough: each matrix is watched too.
    X, y = classification(60, 3)
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(8,),
        parametrization=parametrization,
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    before = est.predict_proba(X[:9])
    assert current_plan(est) is not None
    est.coefs_[0] = est.coefs_[0] * 2
    assert current_plan(est) is None
    after = est.predict_proba(X[:9])
    _assert_identical(after, _without_plan(est).predict_proba(X[:9]))
    assert not np.array_equal(after, before)


def test_changed_parameters_retire_the_plan():
    est, X = _fitted("multiclass")
    est.predict(X[:2])
    est.set_params(activation="tanh")
    assert current_plan(est) is None
    _assert_identical(est.predict_proba(X[:5]), _without_plan(est).predict_proba(X[:5]))


def test_unfitted_estimators_are_refused_as_before():
    fitted, X = _fitted("binary")
    fitted.predict(X[:2])
    for est in [NumpyMLPClassifier(), clone(fitted)]:
        for method in METHODS[NumpyMLPClassifier]:
            with pytest.raises(NotFittedError):
                getattr(est, method)(X[:2])


def test_assume_finite_is_honoured_as_scikit_learn_honours_it():
    # One infinite feature of a logistic network gives a finite output: with
    # assume_finite=True scikit-learn skips the finiteness check, so both
    # paths predict; otherwise both refuse the input.
    X, y = classification(60, 3)
    est = NumpyMLPClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    est.fit(X, y).predict(X[:2])
    bad = X[:3].copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.predict(bad)
    with config_context(assume_finite=True):
        fast = est.predict_proba(bad)
        full = _without_plan(est).predict_proba(bad)
    _assert_identical(fast, full)
    assert np.isfinite(fast).all()


def test_eight_threads_share_a_plan():
    est, X = _fitted("multiclass-strings")
    rows = [X[i : i + 1 + i % 7] for i in range(48)]
    expected = [_without_plan(est).predict_proba(r) for r in rows]
    expected_labels = [_without_plan(est).predict(r) for r in rows]
    # The plan is made by whichever thread predicts first.
    with ThreadPoolExecutor(max_workers=8) as pool:
        probas = list(pool.map(est.predict_proba, rows))
        labels = list(pool.map(est.predict, rows))
    for got, want in zip(probas + labels, expected + expected_labels):
        _assert_identical(got, want)


def test_score_is_scikit_learns_own_method():
    """``score`` stays the mixins' method (fast through ``predict``): dask-ml
    and other libraries recognise it to choose lazy or parallel metrics."""
    from sklearn.base import ClassifierMixin, RegressorMixin

    assert NumpyMLPClassifier.score is ClassifierMixin.score
    assert NumpyMLPRegressor.score is RegressorMixin.score


# ---------------------------------------------------------------------------
# The tabular estimators
# ---------------------------------------------------------------------------

TABULAR = [TabularMLPClassifier, TabularMLPRegressor]


def _raw_table(n_samples=80, seed=0):
    """A raw frame of every column kind, missing values in each, and targets."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n_samples)
    age[rng.random(n_samples) < 0.15] = np.nan
    color = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    color[rng.random(n_samples) < 0.1] = None
    X = pd.DataFrame(
        {
            "age": age,
            "color": color,
            "member": rng.random(n_samples) < 0.5,
            "premium": pd.array(rng.random(n_samples) < 0.3, dtype="boolean"),
            "visits": pd.array(rng.integers(0, 10, n_samples), dtype="Int64"),
            "city": pd.Categorical(rng.choice(["a", "b", "c", "d"], n_samples)),
            "size": rng.choice(["S", "M"], n_samples),
        }
    )
    X.loc[rng.random(n_samples) < 0.1, "premium"] = pd.NA
    signal = np.nan_to_num(age - 40) / 12 + (color == "red") - X["member"]
    return X, np.where(signal > 0, "high", "low"), 10.0 * signal.to_numpy()


def _tabular_fitted(Estimator, X=None, **params):
    table, y_class, y_reg = _raw_table()
    X = table if X is None else X
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    params = {
        "hidden_layer_sizes": (16, 8),
        "n_epochs": 8,
        "validation_fraction": 0.0,
        "random_state": 0,
        **params,
    }
    return Estimator(**params).fit(X, y), X


def _count_tabular_slow_steps(monkeypatch):
    """Calls of what the fast path skips: scikit-learn's validation of the
    raw table and of the preprocessed matrix, and the effective weights."""
    calls = []
    _count_calls(monkeypatch, sknumpynet._tabular, "check_array", calls)
    _count_calls(monkeypatch, sknumpynet._base, "check_is_fitted", calls)
    _count_calls(monkeypatch, sknumpynet._serving, "effective_weights", calls)
    _count_calls(monkeypatch, sknumpynet._tabular_preprocessing, "validate_data", calls)
    return calls


def _tabular_inputs(X):
    """Frames a tabular model fitted on ``X`` takes: NaN, None, pd.NA,
    unseen categories and strings, other row counts."""
    unseen = X.iloc[:6].copy()
    unseen["color"] = ["purple", None, "red", "red", np.nan, "green"]
    unseen["city"] = pd.Categorical(["z", "a", None, "b", "c", "y"])
    unseen["size"] = ["XL", "S", "M", None, "S", "M"]
    unseen["age"] = [np.nan, 1e6, -1e6, 30.0, 0.0, np.nan]
    return {
        "training rows": X,
        "one row": X.iloc[[3]],
        "unseen values": unseen,
        "all missing": X.iloc[:3].assign(age=np.nan, color=None, premium=pd.NA),
        "strings as objects": X.iloc[:5].astype({"size": object}),
    }


@pytest.mark.parametrize(
    "recipe", [{"recipe": "td-s"}, {"recipe": "td", "n_members": 2}]
)
@pytest.mark.parametrize("Estimator", TABULAR)
def test_tabular_fast_path_equals_full_path(Estimator, recipe, monkeypatch):
    est, X = _tabular_fitted(Estimator, **recipe)
    est.predict(X.iloc[:2])  # the first prediction makes the plan
    assert current_plan(est) is not None
    calls = _count_tabular_slow_steps(monkeypatch)
    for name, inputs in _tabular_inputs(X).items():
        for method in METHODS[Estimator]:
            full = getattr(_without_plan(est), method)(inputs)
            assert calls, "the full path validates"
            calls.clear()
            fast = getattr(est, method)(inputs)
            _assert_identical(fast, full)
            assert calls == [], (name, method)


@pytest.mark.parametrize("recipe", ["td-s", "td"])
@pytest.mark.parametrize("Estimator", TABULAR)
def test_tabular_fast_path_on_arrays_and_float64(Estimator, recipe, monkeypatch):
    X = np.random.default_rng(0).normal(size=(80, 4))
    X[::7, 1] = np.nan
    est, _ = _tabular_fitted(Estimator, X, dtype="float64", recipe=recipe)
    est.predict(X[:2])
    calls = _count_tabular_slow_steps(monkeypatch)
    # What shows that the spies see the full path: TD-S's plain MLP computes
    # its effective weights there; the full RealMLP-TD's network does not.
    full_path_step = "effective_weights" if recipe == "td-s" else "check_is_fitted"
    for inputs in [X, X[:1], np.asfortranarray(X[:9]), X[:18:2]]:
        for method in METHODS[Estimator]:
            full = getattr(_without_plan(est), method)(inputs)
            assert full_path_step in calls
            calls.clear()
            fast = getattr(est, method)(inputs)
            _assert_identical(fast, full)
            # An array is validated by the preprocessor (check_array), which
            # sees no feature names; the estimator's own steps are skipped.
            assert "effective_weights" not in calls and "check_is_fitted" not in calls


def test_tabular_fast_path_on_polars_frames(monkeypatch):
    pl = pytest.importorskip("polars")
    X, y, _ = _raw_table()
    frame = pl.DataFrame(
        {
            "age": X["age"].to_numpy(),
            "color": [None if pd.isna(v) else v for v in X["color"]],
            "member": X["member"].to_numpy(),
        },
        schema={"age": pl.Float64, "color": pl.String, "member": pl.Boolean},
    )
    est, _ = _tabular_fitted(TabularMLPClassifier, frame)
    est.predict(frame[:2])
    calls = _count_tabular_slow_steps(monkeypatch)
    for inputs in [frame, frame[3:4]]:
        for method in METHODS[TabularMLPClassifier]:
            full = getattr(_without_plan(est), method)(inputs)
            calls.clear()
            _assert_identical(getattr(est, method)(inputs), full)
            assert calls == []


def test_frames_with_the_fitted_columns_skip_only_checks_that_would_pass(
    monkeypatch,
):
    """The preprocessor's shortcut for a frame with exactly the fitted
    columns changes nothing: the same output with scikit-learn's checks."""
    est, X = _tabular_fitted(TabularMLPClassifier)
    prep = est.preprocessor_
    shortcut = {name: prep.transform(Xi) for name, Xi in _tabular_inputs(X).items()}
    monkeypatch.setattr(
        sknumpynet._tabular_preprocessing, "_has_fitted_names", lambda *a: False
    )
    calls = _count_calls(
        monkeypatch, sknumpynet._tabular_preprocessing, "validate_data", []
    )
    for name, inputs in _tabular_inputs(X).items():
        _assert_identical(prep.transform(inputs), shortcut[name])
    assert calls


def _changed(est, X, y, change):
    if change == "refit":
        est.set_params(random_state=1).fit(X, y)
    elif change == "coefs_":
        est.coefs_ = [c * 2 for c in est.coefs_]
    elif change == "one matrix":
        est.coefs_[0] = est.coefs_[0] * 2
    elif change == "feature_scale_":
        est.feature_scale_ = est.feature_scale_ * 2
    elif change == "intercepts_":
        est.intercepts_ = [b + 1 for b in est.intercepts_]
    elif change == "activation":
        est.set_params(activation="relu")
    else:
        est.set_params(dtype="float64")


@pytest.mark.parametrize(
    "change",
    [
        "refit",
        "coefs_",
        "one matrix",
        "feature_scale_",
        "intercepts_",
        "activation",
        "dtype",
    ],
)
@pytest.mark.parametrize("recipe", ["td-s", "td"])
def test_a_changed_tabular_model_retires_its_plan(change, recipe):
    est, X = _tabular_fitted(TabularMLPRegressor, recipe=recipe)
    _, _, y = _raw_table()
    before = est.predict(X)
    plan = current_plan(est)
    _changed(est, X, y, change)
    assert current_plan(est) is None
    after = est.predict(X)
    _assert_identical(after, _without_plan(est).predict(X))
    assert current_plan(est) not in (None, plan)
    if change == "dtype" and recipe == "td":
        # The full RealMLP-TD predicts in float64 whatever its dtype: the
        # new plan computes the same numbers.
        np.testing.assert_array_equal(after, before)
    else:
        assert not np.array_equal(after, before)


def _bad_tables(X):
    return {
        "renamed": X.iloc[:3].rename(columns={"age": "AGE"}),
        "reordered": X.iloc[:3][list(X.columns[::-1])],
        "one column less": X.iloc[:3, :-1],
        "no rows": X.iloc[:0],
        "no names": X.iloc[:3].to_numpy(),
        "infinity": X.iloc[:3].assign(age=np.inf),
        "words where numbers were": X.iloc[:3].assign(age=["a", "b", "c"]),
        "one dimension": X.iloc[0],
    }


@pytest.mark.parametrize("Estimator", TABULAR)
@pytest.mark.parametrize("bad", list(_bad_tables(_raw_table()[0])))
def test_tabular_fast_path_gives_the_full_paths_errors(Estimator, bad):
    est, X = _tabular_fitted(Estimator)
    est.predict(X.iloc[:2])
    inputs = _bad_tables(X)[bad]
    for method in METHODS[Estimator]:
        full = _outcome(lambda: getattr(_without_plan(est), method)(inputs))
        fast = _outcome(lambda: getattr(est, method)(inputs))
        assert fast[:2] == full[:2]
        assert full[0] is ValueError or full[1], "expected an error or a warning"


@pytest.mark.parametrize("recipe", ["td-s", "td"])
def test_tabular_non_finite_output_is_the_same_clear_error(recipe):
    from sklearn.preprocessing import FunctionTransformer

    X = np.random.default_rng(0).normal(size=(80, 3))
    est, _ = _tabular_fitted(
        TabularMLPRegressor,
        X,
        preprocessor=FunctionTransformer(),
        n_epochs=20,
        recipe=recipe,
    )
    est.predict(X[:2])
    huge = np.full((2, 3), 3e38)
    with_nan = X[:2].copy()
    with_nan[0, 0] = np.nan
    for inputs in [huge, with_nan]:
        full = _outcome(lambda: _without_plan(est).predict(inputs))
        fast = _outcome(lambda: est.predict(inputs))
        assert fast[:2] == full[:2]
        # TD-S computes in float32, which overflows on the huge values; the
        # full RealMLP-TD computes in float64, where their output is finite.
        assert full[0] is ValueError or (recipe == "td" and inputs is huge)
    if recipe == "td-s":
        assert "output is not finite" in _outcome(lambda: est.predict(huge))[1]
    else:
        assert np.isfinite(est.predict(huge)).all()


def test_unfitted_tabular_estimators_are_refused_as_before():
    fitted, X = _tabular_fitted(TabularMLPClassifier)
    fitted.predict(X.iloc[:2])
    for est in [TabularMLPClassifier(), clone(fitted)]:
        for method in METHODS[TabularMLPClassifier]:
            with pytest.raises(NotFittedError):
                getattr(est, method)(X.iloc[:2])


def test_a_one_unit_output_layer_is_computed_in_float64():
    # float32 matrix-vector products round differently with the number of
    # rows, so a row's prediction would change in its last bits with the
    # rows predicted beside it (scikit-learn's subset-invariance check
    # failed on it, by 1.8e-7 against a tolerance of 1.7e-7). The one-unit
    # output layer of a float32 network is computed in float64 from the
    # float32 hidden layers. Pinned to TD-S, whose plan this is; the full
    # RealMLP-TD computes in float64 throughout (test_tabular_td checks its
    # predictions do not depend on the rows beside them).
    from sknumpynet import TabularMLPRegressor
    from sknumpynet._serving import current_plan

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    y = X @ rng.normal(size=6) + rng.normal(size=60)
    reg = TabularMLPRegressor(
        hidden_layer_sizes=(32, 32), n_epochs=5, random_state=0, recipe="td-s"
    ).fit(X, y)
    prediction = reg.predict(X)
    plan = current_plan(reg)
    Z = reg.preprocessor_.transform(X)
    hidden = plan.forward(Z, n_layers=len(plan.coefs) - 1)
    assert hidden.dtype == np.float32
    output = hidden.astype(np.float64) @ plan.coefs[-1].astype(np.float64)
    output += plan.intercepts[-1]
    expected = output.ravel() * reg.target_scale_ + reg.target_mean_
    np.testing.assert_array_equal(prediction, expected)
