"""ONNX export: the skl2onnx converters of NumpyMLPClassifier and NumpyMLPRegressor.

Every converted graph is run with onnxruntime and compared with ``predict``
and ``predict_proba``.
"""

import subprocess
import sys

import numpy as np
import pytest
from _helpers import classification, multilabel
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    make_regression,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._activations import HIDDEN_ACTIVATIONS
from sknumpynet._export import SKLEARN_HIDDEN_ACTIVATIONS

# The networks are trained for a few epochs only: the tests compare the
# converted graph with the fitted network, converged or not.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning"
)


def _classification(n_classes=3, labels=None):
    return classification(80, n_classes, labels=labels)


def _multilabel():
    return multilabel()


def _regression(n_targets=1):
    X, y = make_regression(
        n_samples=80, n_features=5, n_targets=n_targets, noise=0.1, random_state=0
    )
    return X, y / y.std(axis=0)


def _poisson():
    X, _ = _regression()
    return X, np.random.RandomState(0).poisson(np.exp(0.3 * X[:, 0]))


def test_importing_sknumpynet_does_not_import_skl2onnx():
    code = "import sys, sknumpynet; print('skl2onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _onnx_session(model, X, options=None, dtype=np.float32):
    pytest.importorskip("skl2onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from skl2onnx import to_onnx

    from sknumpynet import register_onnx_converters

    register_onnx_converters()
    onx = to_onnx(model, X[:1].astype(dtype), options=options)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return lambda X: session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})


# ---------------------------------------------------------------------------
# Pipelines: labels, zipmap, several outputs
# ---------------------------------------------------------------------------

ONNX_CLASSIFIERS = {
    "multiclass-int-zipmap": (_classification, {}, True),
    "binary-strings": (lambda: _classification(2, ["no", "yes"]), {}, False),
    "multiclass-strings-two-layers": (
        lambda: _classification(3, ["cat", "dog", "emu"]),
        {"hidden_layer_sizes": (6, 4), "activation": "tanh"},
        True,
    ),
    "multilabel": (_multilabel, {"activation": "relu"}, False),
    "sigmoid-alias-identity-hidden": (
        _classification,
        {"hidden_layer_sizes": (6, 4), "activation": "identity"},
        False,
    ),
}


@pytest.mark.parametrize("name", ONNX_CLASSIFIERS)
def test_onnx_pipeline_classifier(name):
    make_data, params, zipmap = ONNX_CLASSIFIERS[name]
    X, y = make_data()
    X = X * 3 + 1  # the scaler in the pipeline has work to do
    params = {"hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0, **params}
    pipe = make_pipeline(StandardScaler(), NumpyMLPClassifier(**params)).fit(X, y)
    run = _onnx_session(pipe, X, options=None if zipmap else {"zipmap": False})
    labels, probabilities = run(X)
    if zipmap:
        # skl2onnx's default: a list of {label: probability} dictionaries.
        classes = list(pipe.classes_)
        probabilities = np.array([[row[c] for c in classes] for row in probabilities])
    assert_array_equal(labels, pipe.predict(X))
    assert_allclose(probabilities, pipe.predict_proba(X), rtol=0, atol=1e-5)


def test_onnx_double_precision_agrees_closely():
    X, y = _classification()
    pipe = make_pipeline(
        StandardScaler(), NumpyMLPClassifier((8,), max_iter=30, random_state=0)
    ).fit(X, y)
    run = _onnx_session(pipe, X, options={"zipmap": False}, dtype=np.float64)
    labels, probabilities = run(X)
    assert_array_equal(labels, pipe.predict(X))
    assert_allclose(probabilities, pipe.predict_proba(X), rtol=0, atol=1e-12)


ONNX_REGRESSORS = {
    "single-output": ({}, _regression),
    "multi-output": ({}, lambda: _regression(2)),
    "poisson": ({"loss": "poisson"}, _poisson),
    # Not representable in scikit-learn, but in ONNX.
    "logistic-output-no-intercept": (
        {"out_activation": "logistic", "fit_intercept": False},
        lambda: (_regression()[0], np.linspace(0, 1, 80)),
    ),
}


@pytest.mark.parametrize("name", ONNX_REGRESSORS)
def test_onnx_pipeline_regressor(name):
    params, make_data = ONNX_REGRESSORS[name]
    X, y = make_data()
    reg = NumpyMLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    pipe = make_pipeline(StandardScaler(), reg.set_params(**params)).fit(X, y)
    (predictions,) = _onnx_session(pipe, X)(X)
    expected = pipe.predict(X)
    assert predictions.shape == (X.shape[0], pipe[-1].n_outputs_)
    assert_allclose(predictions.reshape(expected.shape), expected, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# Every activation, one or one per hidden layer
# ---------------------------------------------------------------------------


def _unit_interval():
    X, y = _regression()
    return X, 1 / (1 + np.exp(-y))


TASKS = {
    "binary": (NumpyMLPClassifier, lambda: _classification(2)),
    "multiclass": (NumpyMLPClassifier, _classification),
    "regressor": (NumpyMLPRegressor, _regression),
    "regressor-unit-interval": (NumpyMLPRegressor, _unit_interval),
}


def _fitted(task, **params):
    Estimator, make_data = TASKS[task]
    X, y = make_data()
    params = {"hidden_layer_sizes": (6, 5), "max_iter": 30, "random_state": 0, **params}
    return Estimator(**params).fit(X, y), X


def _assert_onnx_agrees(est, X):
    """The graph's outputs equal predict (and predict_proba) to rounding.

    float32 inputs make a float32 graph: within 1e-5. float64 inputs make a
    float64 graph that computes what the network computes: within 1e-12.
    """
    classifier = isinstance(est, NumpyMLPClassifier)
    options = {"zipmap": False} if classifier else None
    for dtype, atol in ((np.float32, 1e-5), (np.float64, 1e-12)):
        outputs = _onnx_session(est, X, options=options, dtype=dtype)(X)
        if classifier:
            labels, probabilities = outputs
            assert_array_equal(labels, est.predict(X))
            assert_allclose(probabilities, est.predict_proba(X), rtol=0, atol=atol)
        else:
            (predictions,) = outputs
            expected = est.predict(X)
            assert_allclose(
                predictions.reshape(expected.shape), expected, rtol=0, atol=atol
            )


@pytest.mark.parametrize("task", ["binary", "multiclass", "regressor"])
@pytest.mark.parametrize("activation", sorted(HIDDEN_ACTIVATIONS))
def test_every_hidden_activation_converts(activation, task):
    est, X = _fitted(task, activation=activation)
    _assert_onnx_agrees(est, X)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regressor"])
@pytest.mark.parametrize(
    "activation",
    [["elu", "tanh", "leaky_relu"], ("softplus", "relu", "sigmoid")],
    ids=["list", "tuple"],
)
def test_per_layer_activations_convert(activation, task):
    """Each hidden layer is converted with its own activation."""
    est, X = _fitted(task, hidden_layer_sizes=(6, 5, 4), activation=activation)
    _assert_onnx_agrees(est, X)


# Networks to_sklearn refuses: every hidden activation scikit-learn lacks,
# activations that differ between hidden layers, an output layer scikit-learn
# cannot have.
REFUSED_BY_TO_SKLEARN = {
    **{
        activation: ("multiclass", {"activation": activation})
        for activation in sorted(
            set(HIDDEN_ACTIVATIONS) - {"sigmoid", *SKLEARN_HIDDEN_ACTIVATIONS}
        )
    },
    "mixed": ("binary", {"activation": ["relu", "tanh"]}),
    "logistic-output": ("regressor-unit-interval", {"out_activation": "logistic"}),
    "logistic-output-mixed-elu": (
        "regressor-unit-interval",
        {"out_activation": "logistic", "activation": ("elu", "identity")},
    ),
}


@pytest.mark.parametrize("name", REFUSED_BY_TO_SKLEARN)
def test_what_to_sklearn_refuses_converts_to_onnx(name):
    """to_sklearn's error recommends an ONNX export: it works and agrees."""
    task, params = REFUSED_BY_TO_SKLEARN[name]
    est, X = _fitted(task, **params)
    with pytest.raises(ValueError, match="export to ONNX instead"):
        est.to_sklearn()
    _assert_onnx_agrees(est, X)


def test_register_twice_is_harmless():
    pytest.importorskip("skl2onnx")
    from sknumpynet import register_onnx_converters

    assert register_onnx_converters() == register_onnx_converters()


@pytest.mark.parametrize("task", ["binary", "multiclass", "regressor"])
def test_ntk_and_feature_scale_convert_with_effective_weights(task):
    """The graph multiplies by the weights the forward pass applies."""
    est, X = _fitted(
        task,
        activation="selu",
        parametrization="ntk",
        feature_scale=True,
        weight_init="normal",
        learning_rate_init=0.01,
    )
    assert not np.allclose(est.feature_scale_, 1.0)
    _assert_onnx_agrees(est, X)
