"""Export to scikit-learn: to_sklearn gives an equivalent fitted MLP.

The ONNX export is tested in test_onnx.py.
"""

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers import classification, multilabel
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    make_blobs,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
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
    return classification(80, n_classes, labels=labels)


def _multilabel():
    X, y = multilabel()
    return X / 5, y


def _regression(n_targets=1):
    X, y = make_regression(
        n_samples=80, n_features=5, n_targets=n_targets, noise=0.1, random_state=0
    )
    return StandardScaler().fit_transform(X), y / y.std(axis=0)


def _separable():
    """Two well-separated classes: a validation accuracy of 1.0 is soon reached."""
    return make_blobs(
        n_samples=80, centers=[[-2.0] * 5, [2.0] * 5], cluster_std=0.5, random_state=0
    )


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
    "multiclass-relu-per-layer-list": (
        NumpyMLPClassifier,
        {"activation": ["relu", "relu"], "hidden_layer_sizes": (6, 4)},
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


@pytest.mark.parametrize(
    "solver, schedule",
    [("sgd", "constant"), ("sgd", "invscaling"), ("adam", "constant")],
)
@pytest.mark.parametrize("Estimator", [NumpyMLPClassifier, NumpyMLPRegressor])
def test_exported_estimator_continues_training_the_same(Estimator, solver, schedule):
    """With the optimizer state (moments or velocities, step count, current
    learning rate), partial_fit continues as ours does."""
    X, y = _classification() if Estimator is NumpyMLPClassifier else _regression()
    est = Estimator(
        hidden_layer_sizes=(6, 4),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.01,
        random_state=0,
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
    for ours, theirs in zip(
        est.coefs_ + est.intercepts_, exported.coefs_ + exported.intercepts_
    ):
        assert_allclose(theirs, ours, rtol=0, atol=1e-10)
    # Without the optimizer state, scikit-learn restarts the optimizer.
    assert np.abs(fresh.coefs_[0] - est.coefs_[0]).max() > 1e-8


def _assert_same_layers(theirs, ours):
    """Equal lists of per-layer arrays: same length, shapes, dtypes, values."""
    assert len(theirs) == len(ours)
    for their_layer, our_layer in zip(theirs, ours):
        assert_array_equal(their_layer, our_layer, strict=True)


@pytest.mark.parametrize("validation", ["early_stopping", "X_val"])
def test_best_weights_are_exported_layer_by_layer(validation):
    """scikit-learn's best weights are those restore_best_weights() gives us."""
    X, y = _classification()
    est = NumpyMLPClassifier(
        (6, 4), learning_rate_init=0.05, max_iter=30, random_state=0
    )
    if validation == "early_stopping":
        est.set_params(early_stopping=True).fit(X, y)
    else:
        est.fit(X[:60], y[:60], X_val=X[60:], y_val=y[60:])
    exported = est.to_sklearn()
    best = copy.deepcopy(est).restore_best_weights()
    if validation == "X_val":
        # The last epoch is not the best: the best weights are not coefs_.
        assert not np.array_equal(best.coefs_[0], est.coefs_[0])
    _assert_same_layers(exported._best_coefs, best.coefs_)
    _assert_same_layers(exported._best_intercepts, best.intercepts_)
    # Copies, not views of our buffer.
    assert not np.shares_memory(exported._best_coefs[0], est._best_params)


def test_warm_start_of_the_export_falls_back_to_our_best_weights():
    """A warm-start fit that never improves ends with the exported best weights.

    With ``early_stopping=True``, scikit-learn's ``fit`` ends by restoring
    ``_best_coefs`` and ``_best_intercepts``, which only a validation score
    above ``best_validation_score_`` replaces. Our model has already reached
    a perfect validation accuracy (1.0), which no later epoch can exceed,
    whatever validation split scikit-learn draws (it need not be ours) and
    however the weights move. So the outcome is deterministic: the export's
    warm-start fit ends with the best weights it was given, our own
    warm-start fit with ours, and both must be the weights of
    ``restore_best_weights()``, layer by layer. Exporting the best weights
    wrongly (swapped coefficients and intercepts, a shifted split of the
    flat buffer, the current weights instead) cannot pass.
    """
    X, y = _separable()
    est = NumpyMLPClassifier(
        (6, 4), learning_rate_init=0.01, early_stopping=True, random_state=0
    ).fit(X, y)
    assert est.best_validation_score_ == 1.0
    best = copy.deepcopy(est).restore_best_weights()
    exported = est.to_sklearn()
    n_epochs_before = len(exported.loss_curve_)

    # Five epochs that cannot stop early, then the fall-back.
    more = {"warm_start": True, "max_iter": 5, "n_iter_no_change": 100}
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        exported.set_params(**more).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        est.set_params(**more).fit(X, y)

    # One batch per epoch: each epoch's loss is that of the weights it starts
    # from, so the weights did move before the fall-back.
    new_losses = exported.loss_curve_[n_epochs_before:]
    assert len(new_losses) == 5 and len(set(new_losses)) == 5
    assert max(exported.validation_scores_[-5:]) <= 1.0
    _assert_same_layers(exported.coefs_, best.coefs_)
    _assert_same_layers(exported.intercepts_, best.intercepts_)
    _assert_same_layers(exported.coefs_, est.coefs_)
    _assert_same_layers(exported.intercepts_, est.intercepts_)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_export_without_training_state_trains_further(early_stopping):
    """keep_training_state=False exports a model scikit-learn can train further.

    scikit-learn's training reads private state its own initialisation sets:
    the count of epochs without improvement and the best weights of early
    stopping. Here no epoch counts as an improvement (tol is huge) and, on
    separable data already classified perfectly, no validation score beats
    the best: both are read, and training stops after n_iter_no_change + 1
    epochs, with early stopping falling back to the exported weights.
    """
    X, y = _separable()
    est = NumpyMLPClassifier(
        (6,), early_stopping=early_stopping, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    fresh = est.to_sklearn(keep_training_state=False)
    assert not hasattr(fresh, "_optimizer")
    fresh.set_params(warm_start=True, tol=1e3, n_iter_no_change=2, max_iter=50)
    fresh.fit(X, y)
    assert fresh.n_iter_ == 3
    if early_stopping:
        assert est.best_validation_score_ == 1.0
        _assert_same_layers(fresh.coefs_, est.coefs_)
        _assert_same_layers(fresh.intercepts_, est.intercepts_)


@pytest.mark.parametrize(
    "activation, expected",
    [
        (["relu", "relu"], "relu"),
        (("tanh", "tanh", "tanh"), "tanh"),
        (["sigmoid", "logistic"], "logistic"),  # an alias is the same function
    ],
)
def test_one_activation_per_layer_exports_as_that_activation(activation, expected):
    """Per-layer activations that are all one of scikit-learn's are exported."""
    X, y = _classification()
    sizes = (6,) * len(activation)
    est = NumpyMLPClassifier(
        sizes, activation=activation, max_iter=10, random_state=0
    ).fit(X, y)
    exported = est.to_sklearn()
    assert exported.activation == expected
    assert_allclose(exported.predict_proba(X), est.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "softplus", []])
def test_network_without_hidden_layer_exports_whatever_its_activation(activation):
    """Without a hidden layer the activation is never applied."""
    X, y = _classification()
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(), activation=activation, max_iter=10, random_state=0
    ).fit(X, y)
    exported = est.to_sklearn()
    assert exported.activation == ("tanh" if activation == "tanh" else "relu")
    assert_allclose(exported.predict_proba(X), est.predict_proba(X), rtol=0, atol=1e-12)


NOT_REPRESENTABLE = {
    "logistic-output": (
        {"out_activation": "logistic"},
        [r"the 'logistic' output layer \(out_activation='logistic'\)"],
    ),
    "activation-scikit-learn-lacks": (
        {"activation": "softplus"},
        [r"activation='softplus': scikit-learn's MLP lacks softplus"],
    ),
    "mixed-activations": (
        {"activation": ["relu", "tanh"]},
        [
            r"activation=\['relu', 'tanh'\] differs between the hidden layers "
            r"\(relu, tanh\)"
        ],
    ),
    "all-at-once": (
        {"activation": ("elu", "relu", "leaky_relu"), "out_activation": "logistic"},
        [
            r"scikit-learn's MLP lacks elu, leaky_relu \(",
            r"differs between the hidden layers \(elu, relu, leaky_relu\)",
            r"the 'logistic' output layer",
        ],
    ),
}


@pytest.mark.parametrize("name", NOT_REPRESENTABLE)
def test_not_representable_names_each_obstacle(name):
    params, obstacles = NOT_REPRESENTABLE[name]
    activation = params.get("activation")
    n_hidden = len(activation) if isinstance(activation, list | tuple) else 1
    X, y = _regression()
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(4,) * n_hidden, max_iter=5, random_state=0, **params
    )
    est.fit(X, (y - y.min()) / (y.max() - y.min()))
    with pytest.raises(ValueError) as error:
        est.to_sklearn()
    message = str(error.value)
    assert message.startswith(
        "This NumpyMLPRegressor cannot be represented by scikit-learn's MLPRegressor"
    )
    assert message.endswith("Predict with sknumpynet, or export to ONNX instead.")
    for obstacle in obstacles:
        assert re.search(obstacle, message), (obstacle, message)
    assert message.count(";") == len(obstacles) - 1


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
