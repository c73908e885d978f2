"""The tabular estimators keep every promise of the package.

Each test here failed before both estimator families stood on one base
(``sknumpynet._base._NetworkEstimator``): a version stamp in pickles, hidden
features, the gradient check, errors that name our parameters and columns,
and one training contract (``TrainingConfig``) instead of a stand-in
estimator.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import sknumpynet._version
from sknumpynet import (
    HiddenLayerFeatures,
    InconsistentVersionWarning,
    NumpyMLPClassifier,
    TabularMLPClassifier,
    TabularMLPRegressor,
    _activations,
)
from sknumpynet._base import _NetworkEstimator
from sknumpynet._gradcheck import check_gradients
from sknumpynet._training import TrainingConfig

ESTIMATORS = [TabularMLPClassifier, TabularMLPRegressor]
SMALL = {"hidden_layer_sizes": (6,), "n_epochs": 3, "batch_size": 16}


def raw_frame(n_samples=60, seed=0):
    """A raw table (numbers with NaN, text with None) and both targets."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "size": rng.normal(size=n_samples),
            "rooms": rng.integers(1, 6, n_samples).astype(float),
            "color": rng.choice(["red", "blue", "green"], n_samples).astype(object),
        }
    )
    X.loc[::7, "size"] = np.nan
    X.loc[::5, "color"] = None
    y_class = np.where(X["rooms"] > 3, "big", "small")
    y_reg = 2.0 * X["rooms"].to_numpy() + rng.normal(size=n_samples)
    return X, y_class, y_reg


def fitted(Estimator, **params):
    X, y_class, y_reg = raw_frame()
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    model = Estimator(random_state=0, **{**SMALL, **params}).fit(X, y)
    return model, X, y


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_both_families_stand_on_one_base(Estimator):
    assert issubclass(Estimator, _NetworkEstimator)
    assert issubclass(NumpyMLPClassifier, _NetworkEstimator)
    # The training loop reads an explicit configuration built from the
    # recipe, the learning rate under the tabular estimators' own name.
    config = Estimator(learning_rate=0.5, n_epochs=7)._training_config()
    assert isinstance(config, TrainingConfig)
    assert (config.solver, config.learning_rate, config.max_epochs) == ("adam", 0.5, 7)
    assert config.learning_rate_name == "learning_rate"
    assert config.restore_best and config.latest_of_ties


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_pickle_is_stamped_with_the_version(Estimator, monkeypatch):
    model, X, _ = fitted(Estimator)
    payload = pickle.dumps(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = pickle.loads(payload)  # the same version: no warning
    assert_array_equal(same.predict(X), model.predict(X))
    monkeypatch.setattr(sknumpynet._version, "__version__", "0.0.0-other")
    with pytest.warns(InconsistentVersionWarning, match=Estimator.__name__):
        pickle.loads(payload)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_hidden_layer_features_of_the_preprocessed_input(Estimator):
    # Pinned to TD-S, whose first layer reads the preprocessed columns alone
    # (test_tabular_td checks the full RealMLP-TD's, the members' mean).
    model, X, y = fitted(Estimator, hidden_layer_sizes=(6, 4), recipe="td-s")
    features = HiddenLayerFeatures(model, layer=0, prefit=True).fit(X, y)
    hidden = features.transform(X)
    assert hidden.shape == (len(X), 6) and np.isfinite(hidden).all()
    # The first hidden layer of the preprocessed input, by hand.
    Z = model.preprocessor_.transform(X).astype(np.float64)
    W = model.coefs_[0] * model.feature_scale_[:, None] / np.sqrt(Z.shape[1])
    pre = Z @ W + model.intercepts_[0]
    by_hand = model.activation or model._default_activation
    assert by_hand in ("selu", "mish")
    if by_hand == "selu":
        alpha, scale = 1.6732632423543772, 1.0507009873554805
        expected = scale * np.where(pre > 0, pre, alpha * np.expm1(np.minimum(pre, 0)))
    else:
        expected = pre * np.tanh(np.logaddexp(0, pre))
    assert_allclose(hidden, expected, rtol=1e-4, atol=1e-5)


def test_hidden_layer_features_in_a_pipeline_on_a_raw_frame():
    X, y, _ = raw_frame(80)
    pipe = make_pipeline(
        HiddenLayerFeatures(TabularMLPClassifier(random_state=0, **SMALL)),
        LogisticRegression(),
    )
    assert pipe.fit(X, y).predict(X).shape == (80,)
    assert pipe[0].get_feature_names_out().tolist()[:2] == [
        "hiddenlayerfeatures0",
        "hiddenlayerfeatures1",
    ]


@pytest.mark.parametrize("recipe", ["td-s", "td"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("is_fitted", [False, True], ids=["unfitted", "fitted"])
def test_gradient_check(Estimator, is_fitted, recipe):
    X, y_class, y_reg = raw_frame(30)
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    model = Estimator(
        hidden_layer_sizes=(4,), n_epochs=2, batch_size=8, random_state=0, recipe=recipe
    )
    if is_fitted:
        model.fit(X, y)
    # A step of 1e-5, not the default 1e-4: unfitted, seed 0 puts a row's
    # pre-activation 1.03e-4 from 0, where SELU's slope jumps from
    # lambda * alpha to lambda, and the default stencil (up to 2 steps)
    # would straddle that kink.
    error, details = check_gradients(model, X, y, return_details=True, epsilon=1e-5)
    assert error < 1e-6, details.worst_parameter
    model.fit(X, y)
    if recipe == "td":
        # Every parameter of the full RealMLP-TD's network (test_tabular_td
        # names them one by one).
        assert details.gradient.size == model._parameter_buffer.size
        return
    # TD-S's layout: every weight, intercept and the feature scale.
    n_inputs = model.preprocessor_.transform(X).shape[1]
    n_outputs = 2 if Estimator is TabularMLPClassifier else 1
    expected = n_inputs * 4 + 4 * n_outputs + 4 + n_outputs + n_inputs
    assert details.gradient.size == expected


def test_gradient_check_catches_a_wrong_backward_rule(monkeypatch):
    # Fitted: TD-S's zero output layer would hide the hidden layers'
    # backward rules at the initial weights.
    model, X, y = fitted(TabularMLPClassifier)
    assert check_gradients(model, X, y) < 1e-6

    forward, backward = _activations.HIDDEN_ACTIVATIONS["selu"]

    def wrong_backward(a, delta):  # a derivative 10 % too large
        backward(a, delta)
        delta *= 1.1
        return delta

    monkeypatch.setitem(
        _activations.HIDDEN_ACTIVATIONS, "selu", (forward, wrong_backward)
    )
    assert check_gradients(model, X, y) > 1e-3


def test_gradient_check_of_a_fitted_classifier_refuses_unseen_classes():
    model, X, y = fitted(TabularMLPClassifier)
    with pytest.raises(ValueError, match="classes not seen in fit"):
        check_gradients(model, X, np.where(y == "big", "huge", y))


def test_a_one_row_fit_names_validation_fraction():
    X = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ValueError, match="validation_fraction=0.2 of 1 samples"):
        TabularMLPRegressor(**SMALL).fit(X, [1.0])


def test_a_column_of_lists_is_named():
    X = pd.DataFrame({"a": [[1, 2], [3]] * 5, "b": np.arange(10.0)})
    with pytest.raises(ValueError, match="Column 'a' holds a value of type list"):
        TabularMLPRegressor(**SMALL).fit(X, np.arange(10.0))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_is_refused_by_name(Estimator):
    X, y_class, y_reg = raw_frame(30)
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    with pytest.raises(ValueError, match="takes no sample_weight"):
        check_gradients(Estimator(**SMALL), X, y, sample_weight=np.ones(30))
