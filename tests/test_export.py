"""Export to scikit-learn: to_sklearn gives an equivalent fitted MLP.

The ONNX export is tested in test_onnx.py.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

# The networks are trained for a few epochs only: the tests compare the export
# with the fitted network, converged or not.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:lbfgs failed to converge:sklearn.exceptions.ConvergenceWarning"
    ),
]


def _classification(n_classes=3, labels=None):
    X, y = make_classification(
        n_samples=80,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return X, (y if labels is None else np.asarray(labels, dtype=object)[y])


def _multilabel():
    X, y = make_multilabel_classification(
        n_samples=80, n_features=5, n_classes=3, random_state=0
    )
    return X / 5, y


def _regression(n_targets=1):
    X, y = make_regression(
        n_samples=80, n_features=5, n_targets=n_targets, noise=0.1, random_state=0
    )
    return StandardScaler().fit_transform(X), y / y.std(axis=0)


def _poisson():
    X, _ = _regression()
    return X, np.random.RandomState(0).poisson(np.exp(0.3 * X[:, 0]))


REPRESENTABLE = {
    "binary-strings": (
        NumpyMLPClassifier,
        {},
        lambda: _classification(2, ["no", "yes"]),
    ),
    "multiclass-sigmoid": (
        NumpyMLPClassifier,
        {"activation": "sigmoid", "solver": "sgd"},
        _classification,
    ),
    "multiclass-tanh-two-layers": (
        NumpyMLPClassifier,
        {"activation": "tanh", "hidden_layer_sizes": (6, 4)},
        _classification,
    ),
    "multilabel-relu": (NumpyMLPClassifier, {"activation": "relu"}, _multilabel),
    "classifier-lbfgs-identity": (
        NumpyMLPClassifier,
        {"activation": "identity", "solver": "lbfgs"},
        _classification,
    ),
    "classifier-early-stopping": (
        NumpyMLPClassifier,
        {"early_stopping": True, "max_iter": 20},
        _classification,
    ),
    "regressor": (NumpyMLPRegressor, {}, _regression),
    "regressor-multioutput-sgd": (
        NumpyMLPRegressor,
        {"solver": "sgd"},
        lambda: _regression(2),
    ),
    "regressor-no-intercept-he": (
        NumpyMLPRegressor,
        {"fit_intercept": False, "weight_init": "he"},
        _regression,
    ),
    "poisson": (NumpyMLPRegressor, {"loss": "poisson"}, _poisson),
}

# scikit-learn 1.7 added MLPRegressor(loss="poisson").
SKLEARN_HAS_POISSON = "loss" in MLPRegressor().get_params()


def _fit(name):
    Estimator, params, make_data = REPRESENTABLE[name]
    if name == "poisson" and not SKLEARN_HAS_POISSON:
        pytest.skip("scikit-learn < 1.7 has no poisson loss")
    X, y = make_data()
    params = {"hidden_layer_sizes": (6,), "max_iter": 10, "random_state": 0, **params}
    return Estimator(**params).fit(X, y), X, y


@pytest.mark.parametrize("name", REPRESENTABLE)
def test_to_sklearn_predicts_the_same(name):
    est, X, _ = _fit(name)
    exported = est.to_sklearn()
    assert type(exported) is (
        MLPClassifier if isinstance(est, NumpyMLPClassifier) else MLPRegressor
    )
    if isinstance(est, NumpyMLPClassifier):
        assert_array_equal(exported.predict(X), est.predict(X), strict=True)
        assert_allclose(
            exported.predict_proba(X), est.predict_proba(X), rtol=0, atol=1e-12
        )
    else:
        assert_allclose(exported.predict(X), est.predict(X), rtol=0, atol=1e-12)
    # Same hyper-parameters where scikit-learn has them; fitted attributes
    # copied, not shared.
    for key, value in exported.get_params().items():
        if key != "activation":
            assert value == est.get_params()[key], key
    assert exported.n_iter_ == est.n_iter_
    assert exported.loss_curve_ == est.loss_curve_
    assert exported.coefs_[0] is not est.coefs_[0]
    exported.coefs_[0][...] = 0.0
    assert np.abs(est.coefs_[0]).max() > 0


def test_sigmoid_alias_maps_to_logistic():
    est, _, _ = _fit("multiclass-sigmoid")
    assert est.to_sklearn().activation == "logistic"


def test_fit_intercept_false_exports_zero_intercepts():
    est, _, _ = _fit("regressor-no-intercept-he")
    exported = est.to_sklearn()
    assert all(not b.any() for b in exported.intercepts_)


def test_feature_names_and_string_labels_carry_over():
    X, y = _classification(3, ["cat", "dog", "emu"])
    X = pd.DataFrame(X, columns=list("abcde"))
    est = NumpyMLPClassifier((6,), max_iter=10, random_state=0).fit(X, y)
    exported = est.to_sklearn()
    assert_array_equal(exported.feature_names_in_, est.feature_names_in_)
    assert_array_equal(exported.classes_, est.classes_)
    assert_array_equal(exported.predict(X), est.predict(X), strict=True)


def test_float32_network_stays_float32():
    X, y = _classification()
    est = NumpyMLPClassifier((6,), max_iter=10, random_state=0).fit(X.astype("f4"), y)
    exported = est.to_sklearn()
    assert exported.coefs_[0].dtype == np.float32
    assert_allclose(
        exported.predict_proba(X.astype("f4")),
        est.predict_proba(X.astype("f4")),
        rtol=0,
        atol=1e-6,
    )


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [NumpyMLPClassifier, NumpyMLPRegressor])
def test_exported_estimator_continues_training_the_same(Estimator, solver):
    """With the optimizer state, partial_fit continues as ours does."""
    X, y = _classification() if Estimator is NumpyMLPClassifier else _regression()
    est = Estimator(
        hidden_layer_sizes=(6,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    kwargs = {"classes": np.unique(y)} if Estimator is NumpyMLPClassifier else {}
    for _ in range(3):
        est.partial_fit(X, y, **kwargs)
    exported = est.to_sklearn()
    fresh = est.to_sklearn(keep_training_state=False)
    assert not hasattr(fresh, "_optimizer")
    for _ in range(3):
        est.partial_fit(X, y)
        exported.partial_fit(X, y)
        fresh.partial_fit(X, y)
    for ours, theirs in zip(est.coefs_, exported.coefs_):
        assert_allclose(theirs, ours, rtol=0, atol=1e-10)
    # Without the optimizer state, scikit-learn restarts the optimizer.
    assert np.abs(fresh.coefs_[0] - est.coefs_[0]).max() > 1e-8


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: NumpyMLPRegressor(
                hidden_layer_sizes=(4,), out_activation="logistic", max_iter=5
            ),
            r"cannot be represented by scikit-learn's MLPRegressor: the 'logistic' "
            r"output layer \(out_activation='logistic'\)",
        ),
    ],
)
def test_not_representable(make, match):
    X, y = _regression()
    est = make().fit(X, (y - y.min()) / (y.max() - y.min()))
    with pytest.raises(ValueError, match=match):
        est.to_sklearn()


def test_unknown_hidden_activation_is_named(monkeypatch):
    est, _, _ = _fit("regressor")
    # An activation sknumpynet might add later, that scikit-learn lacks.
    monkeypatch.setattr(est, "activation", "softplus")
    with pytest.raises(ValueError, match="activation='softplus'"):
        est.to_sklearn()


def test_not_fitted():
    with pytest.raises(NotFittedError):
        NumpyMLPClassifier().to_sklearn()


class _WithExtraParameter(NumpyMLPClassifier):
    """A parameter scikit-learn lacks, as a later sknumpynet might add."""

    def __init__(self, hidden_layer_sizes=(6,), *, max_iter=10, extra=None):
        super().__init__(hidden_layer_sizes, max_iter=max_iter, random_state=0)
        self.extra = extra

    _parameter_constraints = {
        **NumpyMLPClassifier._parameter_constraints,
        "extra": [None, str],
    }


def test_unknown_parameters_are_dropped_with_a_warning():
    X, y = _classification()
    silent = _WithExtraParameter().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        silent.to_sklearn()  # the default value: nothing to say
    est = _WithExtraParameter(extra="on").fit(X, y)
    with pytest.warns(UserWarning, match=r"Parameters \['extra'\] have no counterpart"):
        exported = est.to_sklearn()
    assert_array_equal(exported.predict(X), est.predict(X))
