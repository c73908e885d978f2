"""Behaviour of NumpyMLPClassifier and NumpyMLPRegressor as estimators.

Most tests run on both classes through the ``est_data`` fixture, which gives
``(Estimator, X, y)`` on a small, scaled data set of the right kind.
"""

import copy
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from _helpers import (
    ESTIMATORS,
    SOLVERS,
    STOCHASTIC_SOLVERS,
    classification,
    continuous_output,
    data,
    regression,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.datasets import (
    load_digits,
    make_multilabel_classification,
)
from sklearn.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
)
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

import sknumpynet._network
from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

# Most tests cap max_iter far below convergence to stay fast; the warnings
# that this triggers are tested on their own below.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(params=ESTIMATORS, ids=["classifier", "regressor"])
def est_data(request):
    """(Estimator class, X, y) for multiclass classification or regression."""
    Estimator = request.param
    X, y = data(Estimator)
    return Estimator, X, y


def _partial_fit_kwargs(Estimator, y):
    # The classifier needs every class on its first partial_fit call.
    return {"classes": np.unique(y)} if Estimator is NumpyMLPClassifier else {}


def _weights(est):
    return [w.copy() for w in est.coefs_ + est.intercepts_]


def _assert_weights_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert_array_equal(a, b)


def _assert_weights_close(first, second, **tolerance):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert_allclose(a, b, **tolerance)


# ---------------------------------------------------------------------------
# Parameter validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "bogus"},
        {"solver": "x"},
        {"alpha": -1},
        {"weight_init": "zeros"},
        {"hidden_layer_sizes": 0},
        {"learning_rate": "fast"},
        {"learning_rate_init": 0.0},
        {"batch_size": 0},
        {"max_iter": 0},
        {"momentum": 1.5},
        {"validation_fraction": 1.0},
        {"beta_1": 1.0},
        {"fit_intercept": "yes"},
    ],
    ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()),
)
def test_invalid_parameter_raises_naming_it(est_data, params):
    Estimator, X, y = est_data
    (name,) = params
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize(
    "params", [{"out_activation": "softmax"}, {"loss": "log_loss"}]
)
def test_regressor_invalid_parameter_raises(params):
    X, y = regression()
    (name,) = params
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        NumpyMLPRegressor(**params).fit(X, y)


def test_invalid_parameter_error_is_value_error():
    # Users catching ValueError, as with scikit-learn, keep working.
    X, y = classification()
    with pytest.raises(ValueError, match="activation"):
        NumpyMLPClassifier(activation="bogus").fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (2.5,), (3, -1), (4, 0)])
def test_bad_hidden_layer_sizes_raise(est_data, sizes):
    Estimator, X, y = est_data
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Estimator(hidden_layer_sizes=sizes).fit(X, y)


def test_sigmoid_is_an_alias_of_logistic(est_data):
    Estimator, X, y = est_data
    params = {"hidden_layer_sizes": (6,), "max_iter": 20, "random_state": 0}
    sigmoid = Estimator(activation="sigmoid", **params).fit(X, y)
    logistic = Estimator(activation="logistic", **params).fit(X, y)
    _assert_weights_equal(_weights(sigmoid), _weights(logistic))
    assert_array_equal(continuous_output(sigmoid, X), continuous_output(logistic, X))
    # And it is not a no-op: another activation gives other weights.
    tanh = Estimator(activation="tanh", **params).fit(X, y)
    assert not np.allclose(tanh.coefs_[0], logistic.coefs_[0])


# ---------------------------------------------------------------------------
# Fitted attributes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_fitted_attributes_stochastic(est_data, solver):
    Estimator, X, y = est_data
    n_samples, n_features = X.shape
    # n_iter_no_change above max_iter: all 15 epochs run, whatever the loss.
    est = Estimator(
        hidden_layer_sizes=(7, 4),
        solver=solver,
        max_iter=15,
        n_iter_no_change=100,
        random_state=0,
    )
    assert not hasattr(est, "coefs_")
    est.fit(X, y)

    n_outputs = 3 if is_classifier(est) else 1
    units = [n_features, 7, 4, n_outputs]
    assert isinstance(est.coefs_, list) and isinstance(est.intercepts_, list)
    assert [c.shape for c in est.coefs_] == list(zip(units[:-1], units[1:]))
    assert [b.shape for b in est.intercepts_] == [(u,) for u in units[1:]]
    assert all(isinstance(w, np.ndarray) for w in est.coefs_ + est.intercepts_)
    assert est.n_layers_ == 4
    assert est.n_outputs_ == n_outputs
    assert est.n_features_in_ == n_features
    assert not hasattr(est, "feature_names_in_")

    assert isinstance(est.n_iter_, int) and est.n_iter_ == 15
    assert isinstance(est.t_, int) and est.t_ == 15 * n_samples
    assert isinstance(est.loss_curve_, list) and len(est.loss_curve_) == 15
    assert isinstance(est.loss_, float) and est.loss_ == est.loss_curve_[-1]
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None

    if is_classifier(est):
        assert est.out_activation_ == "softmax"
        assert_array_equal(est.classes_, [0, 1, 2])
    else:
        assert est.out_activation_ == "identity"
        assert not hasattr(est, "classes_")


def test_fitted_attributes_with_early_stopping(est_data):
    Estimator, X, y = est_data
    est = Estimator(early_stopping=True, max_iter=10, random_state=0).fit(X, y)
    assert est.best_loss_ is None
    assert isinstance(est.validation_scores_, list)
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert all(isinstance(score, float) for score in est.validation_scores_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    # Only the training part of the data counts as samples seen.
    n_train = X.shape[0] - int(np.ceil(0.1 * X.shape[0]))
    assert est.t_ == est.n_iter_ * n_train


def test_fitted_attributes_lbfgs(est_data):
    Estimator, X, y = est_data
    est = Estimator(solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    assert isinstance(est.loss_, float) and np.isfinite(est.loss_)
    assert isinstance(est.n_iter_, int) and 1 <= est.n_iter_ <= 30
    assert est.n_layers_ == 3
    assert len(est.coefs_) == len(est.intercepts_) == 2
    # One loss per accepted L-BFGS iteration, never increasing, ending at loss_.
    assert len(est.loss_curve_) == est.n_iter_
    assert np.all(np.diff(est.loss_curve_) <= 0)
    assert est.loss_curve_[-1] == pytest.approx(est.loss_, rel=1e-12)


def test_predict_before_fit_raises(est_data):
    Estimator, X, _ = est_data
    with pytest.raises(NotFittedError):
        Estimator().predict(X)


def _penalty(est, alpha, weight_sum):
    return 0.5 * alpha * sum((coef**2).sum() for coef in est.coefs_) / weight_sum


@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_loss_is_the_documented_objective(target, weighted):
    # loss_ of L-BFGS is the objective at the returned weights, so it can be
    # recomputed from the predictions: data term plus L2 penalty.
    if target == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=60, n_features=5, n_classes=3, random_state=0
        )
    elif target == "regression":
        X, y = regression(n_targets=2)
    else:
        X, y = classification(n_classes=2 if target == "binary" else 3)
    weight = np.random.default_rng(0).uniform(0.5, 2, X.shape[0])
    sample_weight = weight if weighted else None
    weight_sum = weight.sum() if weighted else X.shape[0]
    alpha = 0.1
    Estimator = NumpyMLPRegressor if target == "regression" else NumpyMLPClassifier
    est = Estimator(solver="lbfgs", alpha=alpha, max_iter=20, random_state=0)
    est.fit(X, y, sample_weight=sample_weight)

    if target == "regression":
        per_sample = 0.5 * ((y - est.predict(X)) ** 2).mean(axis=1)
    else:
        proba = est.predict_proba(X)
        if target == "multilabel":
            per_sample = -(y * np.log(proba) + (1 - y) * np.log(1 - proba)).sum(1)
        else:
            per_sample = -np.log(proba[np.arange(len(y)), y])
    data_term = np.average(per_sample, weights=sample_weight)
    expected = data_term + _penalty(est, alpha, weight_sum)
    assert est.loss_ == pytest.approx(expected, rel=1e-9)


def test_binary_classifier_has_one_logistic_output():
    X, y = classification(n_classes=2)
    est = NumpyMLPClassifier(max_iter=10).fit(X, y)
    assert est.out_activation_ == "logistic"
    assert est.n_outputs_ == 1
    assert est.coefs_[-1].shape[1] == 1


def test_feature_names_in_with_pandas(est_data):
    Estimator, X, y = est_data
    columns = [f"feature_{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    est = Estimator(max_iter=5, random_state=0).fit(frame, y)
    assert_array_equal(est.feature_names_in_, columns)
    # The same data as a frame or an array gives the same model.
    from_array = Estimator(max_iter=5, random_state=0).fit(X, y)
    assert_array_equal(continuous_output(est, frame), continuous_output(from_array, X))
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame.rename(columns={"feature_0": "other"}))


# ---------------------------------------------------------------------------
# partial_fit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_partial_fit_runs_one_epoch_per_call(est_data, solver):
    Estimator, X, y = est_data
    est = Estimator(solver=solver, random_state=0)
    kwargs = _partial_fit_kwargs(Estimator, y)
    previous = None
    for call in range(1, 4):
        est.partial_fit(X, y, **kwargs)
        assert est.n_iter_ == 1
        assert est.t_ == call * X.shape[0]
        assert len(est.loss_curve_) == call
        if previous is not None:
            assert not np.array_equal(est.coefs_[0], previous)
        previous = est.coefs_[0].copy()


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_partial_fit_calls_equal_fit_epochs(est_data, solver):
    # The optimizer state (momentum, Adam's moments) carries over between
    # calls, so k calls are k epochs of one fit.
    Estimator, X, y = est_data
    params = {"solver": solver, "shuffle": False, "random_state": 0}
    incremental = Estimator(**params)
    for _ in range(3):
        incremental.partial_fit(X, y, **_partial_fit_kwargs(Estimator, y))
    full = Estimator(max_iter=3, **params).fit(X, y)
    _assert_weights_close(_weights(incremental), _weights(full), rtol=1e-12)
    assert_allclose(incremental.loss_curve_, full.loss_curve_, rtol=1e-12)


def test_classifier_partial_fit_requires_classes():
    X, y = classification()
    est = NumpyMLPClassifier(solver="sgd")
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est.partial_fit(X, y, classes=[0, 1, 2])
    # Later calls may omit classes, but must not bring new ones.
    est.partial_fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y + 1)


def test_classifier_partial_fit_knows_unseen_classes():
    X, y = classification()
    est = NumpyMLPClassifier(solver="sgd", random_state=0)
    est.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert_array_equal(est.classes_, [0, 1, 2])
    assert est.predict_proba(X).shape == (X.shape[0], 3)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_only_for_stochastic_solvers(Estimator):
    assert not hasattr(Estimator(solver="lbfgs"), "partial_fit")
    assert hasattr(Estimator(solver="sgd"), "partial_fit")
    assert hasattr(Estimator(solver="adam"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit") as error:
        Estimator(solver="lbfgs").partial_fit
    assert "lbfgs is not stochastic" in str(error.value.__cause__)


def test_partial_fit_rejects_early_stopping(est_data):
    Estimator, X, y = est_data
    est = Estimator(solver="sgd", early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        est.partial_fit(X, y, **_partial_fit_kwargs(Estimator, y))


# ---------------------------------------------------------------------------
# warm_start
# ---------------------------------------------------------------------------


def test_warm_start_continues_from_previous_weights(est_data):
    Estimator, X, y = est_data
    params = {
        "solver": "sgd",
        "momentum": 0.0,
        "learning_rate_init": 0.05,
        "random_state": 0,
    }
    est = Estimator(warm_start=True, max_iter=30, **params).fit(X, y)
    before = _weights(est)
    est.set_params(max_iter=1).fit(X, y)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 31

    # One more epoch from the previous weights: as one partial_fit call on a
    # cold-started model trained the same way (no momentum, so the fresh
    # optimizer of the second fit makes no difference).
    reference = Estimator(max_iter=30, **params).fit(X, y)
    _assert_weights_equal(_weights(reference), before)
    reference.partial_fit(X, y)
    _assert_weights_close(_weights(est), _weights(reference), rtol=1e-12)

    # It moved a little, much less than a cold start's first epoch.
    cold = Estimator(max_iter=1, **params).fit(X, y)
    step = max(np.abs(a - b).max() for a, b in zip(_weights(est), before))
    assert 0 < step < 0.1 * max(np.abs(w).max() for w in before)
    assert est.loss_curve_[0] == cold.loss_curve_[0]
    assert est.loss_curve_[-1] < cold.loss_curve_[0]


def test_warm_start_lbfgs_continues(est_data):
    Estimator, X, y = est_data
    est = Estimator(solver="lbfgs", warm_start=True, max_iter=20, random_state=0)
    est.fit(X, y)
    previous_loss = est.loss_
    est.set_params(max_iter=1).fit(X, y)
    cold = Estimator(solver="lbfgs", max_iter=1, random_state=0).fit(X, y)
    # One more L-BFGS iteration never increases the objective.
    assert est.loss_ <= previous_loss < cold.loss_


def test_warm_start_rejects_new_classes():
    X, y = classification()
    est = NumpyMLPClassifier(warm_start=True, max_iter=5).fit(X, y)
    before = _weights(est)
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X[y != 2], y[y != 2])
    _assert_weights_equal(_weights(est), before)
    assert_array_equal(est.classes_, [0, 1, 2])


def test_no_warm_start_restarts(est_data):
    Estimator, X, y = est_data
    est = Estimator(max_iter=10, random_state=0).fit(X, y)
    first = _weights(est)
    est.fit(X, y)
    _assert_weights_equal(_weights(est), first)
    assert len(est.loss_curve_) == 10


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_changing_architecture_when_continuing_raises(est_data, method):
    Estimator, X, y = est_data
    est = Estimator(
        hidden_layer_sizes=(5,), warm_start=True, max_iter=5, random_state=0
    ).fit(X, y)
    before = _weights(est)
    output = continuous_output(est, X)
    est.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        getattr(est, method)(X, y)
    # The fitted model is intact.
    _assert_weights_equal(_weights(est), before)
    assert est.n_iter_ == 5
    assert_array_equal(continuous_output(est, X), output)


# ---------------------------------------------------------------------------
# dtypes and sparse input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(est_data, solver, dtype):
    Estimator, X, y = est_data
    X = X.astype(dtype)
    est = Estimator(solver=solver, max_iter=5, random_state=0).fit(X, y)
    assert all(w.dtype == dtype for w in est.coefs_ + est.intercepts_)
    assert np.isfinite(est.loss_)
    if is_classifier(est):
        assert est.predict_proba(X).dtype == dtype
        assert est.predict_log_proba(X).dtype == dtype
    else:
        assert est.predict(X).dtype == dtype
    # Input of the other precision is predicted in the model's precision.
    other = np.float64 if dtype == np.float32 else np.float32
    assert continuous_output(est, X.astype(other)).dtype == dtype


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_fit_close_to_float64(est_data, solver):
    Estimator, X, y = est_data
    params = {"solver": solver, "max_iter": 5, "random_state": 0}
    est64 = Estimator(**params).fit(X, y)
    est32 = Estimator(**params).fit(X.astype(np.float32), y)
    assert_allclose(continuous_output(est32, X), continuous_output(est64, X), atol=1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_sparse_input_gives_dense_result(est_data, solver, sparse_format):
    Estimator, X, y = est_data
    X = X.copy()
    X[np.abs(X) < 0.5] = 0.0  # make the sparse matrix actually sparse
    X_sparse = sp.csr_matrix(X) if sparse_format == "csr" else sp.csc_matrix(X)
    params = {"solver": solver, "max_iter": 20, "random_state": 0}
    dense = Estimator(**params).fit(X, y)
    sparse = Estimator(**params).fit(X_sparse, y)
    _assert_weights_close(_weights(sparse), _weights(dense), rtol=1e-9, atol=1e-12)
    assert_allclose(
        continuous_output(sparse, X_sparse), continuous_output(dense, X), rtol=1e-9
    )
    if is_classifier(dense):
        assert_array_equal(sparse.predict(X_sparse), dense.predict(X))


# ---------------------------------------------------------------------------
# Targets: string labels, multilabel, multi-output
# ---------------------------------------------------------------------------


def test_string_labels():
    X, y = classification()
    names = np.array(["cat", "dog", "fish"])
    est = NumpyMLPClassifier(solver="lbfgs", random_state=0).fit(X, names[y])
    assert_array_equal(est.classes_, names)
    prediction = est.predict(X)
    assert prediction.dtype == names.dtype
    assert set(prediction) <= set(names)
    assert est.score(X, names[y]) > 0.8
    # Same model as with integer labels, decoded.
    integer = NumpyMLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
    assert_array_equal(prediction, names[integer.predict(X)])


@pytest.mark.parametrize("solver", SOLVERS)
def test_multilabel_classification(solver):
    X, Y = make_multilabel_classification(
        n_samples=60, n_features=5, n_classes=3, random_state=0
    )
    est = NumpyMLPClassifier(solver=solver, max_iter=50, random_state=0).fit(X, Y)
    assert est.out_activation_ == "logistic"
    assert est.n_outputs_ == 3
    assert_array_equal(est.classes_, [0, 1, 2])
    prediction = est.predict(X)
    assert prediction.shape == Y.shape
    assert set(np.unique(prediction)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == Y.shape
    assert ((proba >= 0) & (proba <= 1)).all()
    # Independent outputs: the rows need not sum to one.
    assert not np.allclose(proba.sum(axis=1), 1)
    assert_array_equal(prediction, (proba > 0.5).astype(int))


def test_classifier_multilabel_tag():
    assert get_tags(NumpyMLPClassifier()).classifier_tags.multi_label


@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_output_regression(solver):
    X, Y = regression(n_targets=2)
    est = NumpyMLPRegressor(solver=solver, max_iter=50, random_state=0).fit(X, Y)
    assert est.n_outputs_ == 2
    assert est.predict(X).shape == Y.shape
    assert est.score(X, Y) > 0


def test_regressor_tags():
    tags = get_tags(NumpyMLPRegressor())
    assert tags.target_tags.multi_output
    assert tags.target_tags.single_output
    assert tags.input_tags.sparse


def test_column_vector_target_warns_and_predicts_1d(est_data):
    Estimator, X, y = est_data
    with pytest.warns(DataConversionWarning):
        est = Estimator(max_iter=5).fit(X, y.reshape(-1, 1))
    assert est.predict(X).shape == (X.shape[0],)


# ---------------------------------------------------------------------------
# sample_weight
# ---------------------------------------------------------------------------


def _full_batch_params(solver, n_samples):
    """Deterministic full-batch training, where weighting is exact."""
    if solver == "lbfgs":
        return {"solver": "lbfgs", "max_iter": 30, "random_state": 0}
    return {
        "solver": solver,
        "batch_size": n_samples,
        "shuffle": False,
        "max_iter": 30,
        "random_state": 0,
    }


# The unweighted fit has fewer samples than its full-batch batch_size.
@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_zero_sample_weight_equals_removing_samples(est_data, solver):
    Estimator, X, y = est_data
    params = _full_batch_params(solver, X.shape[0])
    weight = np.ones(X.shape[0])
    weight[::4] = 0.0
    kept = weight > 0
    weighted = Estimator(**params).fit(X, y, sample_weight=weight)
    removed = Estimator(**params).fit(X[kept], y[kept])
    _assert_weights_close(_weights(weighted), _weights(removed), rtol=1e-7, atol=1e-9)
    # And the weights matter: uniform weights give another model.
    unweighted = Estimator(**params).fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], weighted.coefs_[0])


@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_integer_sample_weight_equals_repetition(est_data, solver):
    Estimator, X, y = est_data
    weight = np.random.default_rng(0).integers(0, 4, X.shape[0])
    params = _full_batch_params(solver, weight.sum())
    weighted = Estimator(**params).fit(X, y, sample_weight=weight)
    repeated = Estimator(**params).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight, axis=0)
    )
    _assert_weights_close(_weights(weighted), _weights(repeated), rtol=1e-7, atol=1e-9)


@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
def test_partial_fit_sample_weight(est_data):
    Estimator, X, y = est_data
    params = _full_batch_params("sgd", X.shape[0])
    kwargs = _partial_fit_kwargs(Estimator, y)
    weight = np.ones(X.shape[0])
    weight[1::3] = 0.0
    kept = weight > 0
    weighted, removed = Estimator(**params), Estimator(**params)
    for _ in range(2):
        weighted.partial_fit(X, y, sample_weight=weight, **kwargs)
        removed.partial_fit(X[kept], y[kept], **kwargs)
    _assert_weights_close(_weights(weighted), _weights(removed), rtol=1e-9)


def test_score_sample_weight(est_data):
    Estimator, X, y = est_data
    est = Estimator(max_iter=20, random_state=0).fit(X, y)
    weight = np.random.default_rng(0).integers(0, 4, X.shape[0])
    assert est.score(X, y, sample_weight=weight) == pytest.approx(
        est.score(np.repeat(X, weight, axis=0), np.repeat(y, weight, axis=0))
    )


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_negative_sample_weight_raises(est_data, method):
    Estimator, X, y = est_data
    weight = np.ones(X.shape[0])
    weight[3] = -1.0
    est = Estimator(solver="sgd")
    kwargs = _partial_fit_kwargs(Estimator, y) if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="[Nn]egative"):
        getattr(est, method)(X, y, sample_weight=weight, **kwargs)


@pytest.mark.parametrize("method", ["fit", "partial_fit", "sample_weight_val"])
@pytest.mark.parametrize(
    "defect, message",
    [
        ("all zero", "is zero for every sample: at least one sample must have"),
        ("negative", r"has negative values \(the smallest is -0.5\)"),
    ],
    ids=["all_zero", "negative"],
)
def test_sample_weight_is_checked_the_same_on_every_scikit_learn(
    est_data, method, defect, message
):
    # scikit-learn refuses all-zero weights only from 1.9 on (1.7 and 1.8
    # would fit on them) and words its negative-weight error its own way:
    # the estimators check both themselves, with these words on every version.
    Estimator, X, y = est_data
    weight = np.zeros(X.shape[0]) if defect == "all zero" else np.ones(X.shape[0])
    if defect == "negative":
        weight[3] = -0.5
    est = Estimator(solver="sgd", max_iter=5, random_state=0)
    if method == "sample_weight_val":
        name, fit = "sample_weight_val", est.fit
        kwargs = {"X_val": X, "y_val": y, "sample_weight_val": weight}
    else:
        name, fit = "sample_weight", getattr(est, method)
        kwargs = {"sample_weight": weight}
        if method == "partial_fit":
            kwargs.update(_partial_fit_kwargs(Estimator, y))
    with pytest.raises(ValueError, match=f"^{name} {message}"):
        fit(X, y, **kwargs)
    assert not hasattr(est, "coefs_")


def test_metadata_routing_sends_sample_weight(est_data):
    Estimator, X, y = est_data
    X = X * 3 + 1  # something for the scaler to do
    weight = np.random.default_rng(0).uniform(0, 3, X.shape[0])
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):

        def make_model():
            est = Estimator(solver="lbfgs", max_iter=30, random_state=0)
            # Scoring is weighted too (unrouted metadata would be an error).
            est.set_fit_request(sample_weight=True).set_score_request(
                sample_weight=True
            )
            scaler = StandardScaler().set_fit_request(sample_weight=False)
            # Pipeline.score takes sample_weight itself: before scikit-learn
            # 1.8 the pipeline must request it too, or cross_validate raises
            # UnsetMetadataPassedError (from 1.8 on the request is implied).
            return make_pipeline(scaler, est).set_score_request(sample_weight=True)

        routed = cross_validate(
            make_model(),
            X,
            y,
            cv=cv,
            params={"sample_weight": weight},
            return_estimator=True,
            error_score="raise",
        )
        plain = cross_validate(
            make_model(), X, y, cv=cv, return_estimator=True, error_score="raise"
        )

    # The weights reached the network: the first fold equals a direct fit.
    train, test = next(cv.split(X))
    scaler = StandardScaler().fit(X[train])
    direct = Estimator(solver="lbfgs", max_iter=30, random_state=0)
    direct.fit(scaler.transform(X[train]), y[train], sample_weight=weight[train])
    fold_model = routed["estimator"][0][-1]
    _assert_weights_close(_weights(fold_model), _weights(direct), rtol=1e-10)
    assert not np.allclose(fold_model.coefs_[0], plain["estimator"][0][-1].coefs_[0])
    assert not np.allclose(routed["test_score"], plain["test_score"])
    assert not sklearn.get_config()["enable_metadata_routing"]


# ---------------------------------------------------------------------------
# Early stopping, convergence, divergence, interruption
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_early_stopping_restores_best_epoch(est_data, solver):
    Estimator = est_data[0]
    X, y = data(Estimator, n_samples=100)
    params = {
        "solver": solver,
        "early_stopping": True,
        "validation_fraction": 0.2,
        "n_iter_no_change": 3,
        "learning_rate_init": 0.05,
        "random_state": 0,
    }
    est = Estimator(max_iter=200, **params).fit(X, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ < 200  # stopped early
    assert est.best_validation_score_ == max(scores)
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < est.n_iter_

    # The same draws up to the best epoch, then stop: its weights are those
    # the early-stopped fit returned, not those of its last epoch.
    until_best = Estimator(max_iter=best_epoch, **params).fit(X, y)
    assert until_best.validation_scores_ == scores[:best_epoch]
    _assert_weights_equal(_weights(est), _weights(until_best))


def test_early_stopping_validation_set_too_small():
    X, y = regression(n_samples=10)
    est = NumpyMLPRegressor(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="The validation set is too small"):
        est.fit(X, y)
    # Multilabel targets are not stratified, so they reach the same check.
    X, Y = make_multilabel_classification(n_samples=10, n_classes=3, random_state=0)
    est = NumpyMLPClassifier(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="The validation set is too small"):
        est.fit(X, Y)


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_convergence_warning_stochastic(est_data, solver):
    Estimator, X, y = est_data
    message = re.escape("Maximum iterations (3) reached")
    with pytest.warns(ConvergenceWarning, match=message):
        Estimator(solver=solver, max_iter=3).fit(X, y)


def test_convergence_warning_lbfgs(est_data):
    Estimator, X, y = est_data
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        est = Estimator(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert est.n_iter_ == 3


def test_no_convergence_warning_when_training_stops_early(est_data):
    Estimator, X, y = est_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # A huge tol: no epoch counts as progress, training stops early.
        est = Estimator(tol=1e3, n_iter_no_change=2, max_iter=100).fit(X, y)
    assert est.n_iter_ < 100


def test_batch_size_larger_than_data_is_clipped(est_data):
    Estimator, X, y = est_data
    params = {"solver": "sgd", "shuffle": False, "max_iter": 3, "random_state": 0}
    with pytest.warns(UserWarning, match="batch_size"):
        big = Estimator(batch_size=10 * X.shape[0], **params).fit(X, y)
    full = Estimator(batch_size=X.shape[0], **params).fit(X, y)
    _assert_weights_equal(_weights(big), _weights(full))


# An absurd step on unscaled, large-valued data: the weights overflow.
DIVERGENT = {
    "solver": "sgd",
    "activation": "relu",
    "hidden_layer_sizes": (5,),
    "learning_rate_init": 1e10,
    "max_iter": 20,
    "random_state": 0,
}


def test_divergence_raises_clear_error(est_data):
    Estimator, X, y = est_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(**DIVERGENT)
        with pytest.raises(ValueError, match="training diverged") as error:
            est.fit(X * 1e6, y)
    assert "learning_rate_init" in str(error.value)
    # A failed first fit leaves the estimator unfitted.
    assert not hasattr(est, "coefs_")


def test_divergence_keeps_warm_start_model(est_data):
    Estimator, X, y = est_data
    est = Estimator(**{**DIVERGENT, "learning_rate_init": 0.01, "warm_start": True})
    est.fit(X, y)
    before, n_iter, loss_curve = _weights(est), est.n_iter_, list(est.loss_curve_)
    est.set_params(learning_rate_init=1e10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="training diverged"):
            est.fit(X * 1e6, y)
    _assert_weights_equal(_weights(est), before)
    assert est.n_iter_ == n_iter
    assert est.loss_curve_ == loss_curve


def test_failed_refit_keeps_previous_model(est_data):
    # A failed cold fit on other data leaves the previous model whole: its
    # weights, its input width and its predictions.
    Estimator, X, y = est_data
    est = Estimator(**{**DIVERGENT, "learning_rate_init": 0.01}).fit(X, y)
    before, output = _weights(est), continuous_output(est, X)
    X_wide = np.hstack([X, X[:, :2]]) * 1e6
    with pytest.raises(ValueError, match="training diverged"):
        est.set_params(learning_rate_init=1e10).fit(X_wide, y)
    assert est.n_features_in_ == X.shape[1]
    _assert_weights_equal(_weights(est), before)
    assert_array_equal(continuous_output(est, X), output)


def test_divergence_keeps_partial_fit_model(est_data):
    Estimator, X, y = est_data
    est = Estimator(**DIVERGENT)
    kwargs = _partial_fit_kwargs(Estimator, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before = t = None
        for _ in range(20):
            if hasattr(est, "coefs_"):
                before, t = _weights(est), est.t_
            try:
                est.partial_fit(X * 1e6, y, **kwargs)
            except ValueError as error:
                assert "training diverged" in str(error)
                break
        else:
            pytest.fail("partial_fit never diverged")
    assert before is not None, "diverged on the first call: nothing to keep"
    _assert_weights_equal(_weights(est), before)
    assert est.t_ == t


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_keyboard_interrupt_keeps_usable_model(est_data, solver, monkeypatch):
    Estimator, X, y = est_data
    train_epoch = sknumpynet._network.MLP.train_epoch
    calls = []

    def interrupted_on_third_call(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return train_epoch(self, *args, **kwargs)

    monkeypatch.setattr(
        sknumpynet._network.MLP, "train_epoch", interrupted_on_third_call
    )
    est = Estimator(solver=solver, max_iter=10, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    assert len(calls) == 3
    assert est.n_iter_ == 2
    assert len(est.loss_curve_) == 2
    prediction = est.predict(X)
    assert prediction.shape == y.shape
    assert np.isfinite(continuous_output(est, X)).all()


def test_keyboard_interrupt_lbfgs(est_data, monkeypatch):
    Estimator, X, y = est_data
    loss_and_gradient = sknumpynet._network.MLP.loss_and_gradient
    calls = []

    def interrupted_on_tenth_call(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return loss_and_gradient(self, *args, **kwargs)

    monkeypatch.setattr(
        sknumpynet._network.MLP, "loss_and_gradient", interrupted_on_tenth_call
    )
    est = Estimator(solver="lbfgs", max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    assert 1 <= est.n_iter_ < 10
    assert len(est.loss_curve_) == est.n_iter_
    assert np.isfinite(est.loss_)
    assert np.isfinite(continuous_output(est, X)).all()


# ---------------------------------------------------------------------------
# fit_intercept and weight_init (not in scikit-learn)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_intercept_false_keeps_intercepts_zero(est_data, solver):
    Estimator, X, y = est_data
    est = Estimator(
        hidden_layer_sizes=(6, 4),
        fit_intercept=False,
        solver=solver,
        max_iter=20,
        random_state=0,
    ).fit(X, y)
    for intercept in est.intercepts_:
        assert_array_equal(intercept, 0.0)
    assert any(np.abs(coef).max() > 0 for coef in est.coefs_)
    with_intercept = Estimator(
        hidden_layer_sizes=(6, 4), solver=solver, max_iter=20, random_state=0
    ).fit(X, y)
    assert not np.allclose(
        continuous_output(est, X), continuous_output(with_intercept, X)
    )


def _nearly_initial(Estimator, X, y, **params):
    """A model one epoch of a negligible step away from its initial weights."""
    return Estimator(
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-12,
        max_iter=1,
        random_state=0,
        **params,
    ).fit(X, y)


def test_weight_init_uniform_in_unit_interval(est_data):
    Estimator, X, y = est_data
    est = _nearly_initial(
        Estimator, X, y, weight_init="uniform", hidden_layer_sizes=(20,)
    )
    values = np.concatenate([w.ravel() for w in _weights(est)])
    assert (values >= -1e-9).all() and (values < 1 + 1e-9).all()
    assert values.min() < 0.1 and values.max() > 0.9  # spread over [0, 1)
    glorot = _nearly_initial(Estimator, X, y, hidden_layer_sizes=(20,))
    assert (glorot.coefs_[0] < 0).any()


def test_weight_init_he(est_data):
    Estimator, X, y = est_data
    est = _nearly_initial(Estimator, X, y, weight_init="he", hidden_layer_sizes=(400,))
    for coef, intercept in zip(est.coefs_, est.intercepts_):
        fan_in = coef.shape[0]
        assert abs(coef.mean()) < 0.2 * np.sqrt(2 / fan_in)
        assert coef.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.15)
        assert_allclose(intercept, 0.0, atol=1e-9)
    # Not the same draws as the default scheme.
    glorot = _nearly_initial(Estimator, X, y, hidden_layer_sizes=(400,))
    assert not np.allclose(glorot.coefs_[0], est.coefs_[0])


# ---------------------------------------------------------------------------
# Regressor output activation and Poisson loss
# ---------------------------------------------------------------------------


def test_regressor_logistic_output():
    X, y = regression()
    y01 = (y - y.min()) / (y.max() - y.min())
    est = NumpyMLPRegressor(
        out_activation="logistic", solver="lbfgs", max_iter=100, random_state=0
    ).fit(X, y01)
    assert est.out_activation_ == "logistic"
    prediction = est.predict(X * 10)  # far outside the data, still in [0, 1]
    assert ((prediction >= 0) & (prediction <= 1)).all()
    assert est.score(X, y01) > 0.5
    with pytest.raises(ValueError, match="out_activation='logistic'"):
        NumpyMLPRegressor(out_activation="logistic").fit(X, y)


def _poisson_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(float)
    return X, y


@pytest.mark.parametrize("solver", SOLVERS)
def test_poisson_loss(solver):
    X, y = _poisson_data()
    est = NumpyMLPRegressor(
        loss="poisson", solver=solver, max_iter=50, random_state=0
    ).fit(X, y)
    assert est.out_activation_ == "exp"
    assert (est.predict(X * 5) > 0).all()


def test_poisson_rejects_negative_targets_and_logistic_output():
    X, y = _poisson_data()
    with pytest.raises(ValueError, match="negative"):
        NumpyMLPRegressor(loss="poisson").fit(X, y - 1)
    with pytest.raises(ValueError, match="poisson"):
        NumpyMLPRegressor(loss="poisson", out_activation="logistic").fit(X, y / 10)


# ---------------------------------------------------------------------------
# Classifier probabilities
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_and_log_proba(n_classes):
    X, y = classification(n_classes=n_classes)
    est = NumpyMLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(est.predict_log_proba(X), np.log(proba))
    assert_array_equal(est.predict(X), est.classes_[np.argmax(proba, axis=1)])


# ---------------------------------------------------------------------------
# clone, pickle, verbose
# ---------------------------------------------------------------------------


def test_clone_gives_same_model(est_data):
    Estimator, X, y = est_data
    est = Estimator(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    est.fit(X, y)
    twin = clone(est)
    assert not hasattr(twin, "coefs_")
    assert twin.get_params() == est.get_params()
    assert_array_equal(continuous_output(twin.fit(X, y), X), continuous_output(est, X))


@pytest.mark.parametrize("solver", SOLVERS)
def test_pickle_round_trip(est_data, solver):
    Estimator, X, y = est_data
    est = Estimator(solver=solver, max_iter=10, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(continuous_output(restored, X), continuous_output(est, X))
    assert_array_equal(restored.predict(X), est.predict(X))
    if solver != "lbfgs":
        # The optimizer state travels too: training resumes identically.
        copied = copy.deepcopy(est)
        copied.partial_fit(X, y)
        restored.partial_fit(X, y)
        _assert_weights_equal(_weights(restored), _weights(copied))


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_progress(est_data, solver, capsys):
    Estimator, X, y = est_data
    Estimator(solver=solver, max_iter=3, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out
    Estimator(solver=solver, max_iter=3).fit(X, y)
    assert "Iteration" not in capsys.readouterr().out
    if solver != "lbfgs":
        Estimator(solver=solver, max_iter=3, early_stopping=True, verbose=1).fit(X, y)
        assert "Validation score: " in capsys.readouterr().out


@pytest.mark.parametrize(
    "model_dtype, batch_dtype", [(np.float64, np.float32), (np.float32, np.float64)]
)
def test_later_batches_follow_the_precision_of_the_first_fit(model_dtype, batch_dtype):
    """partial_fit / warm_start keep the dtype chosen by the first fit."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    est = NumpyMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    est.partial_fit(X.astype(model_dtype), y, classes=np.unique(y))
    est.partial_fit(X.astype(batch_dtype), y)
    assert all(c.dtype == model_dtype for c in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X.astype(batch_dtype)).dtype == model_dtype
