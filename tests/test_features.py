"""HiddenLayerFeatures: a fitted network's hidden layer as a transformer.

The features are the layer's activations, the given estimator is cloned
(never fitted in place), a prefit network is used as it is, a layer that
does not exist is refused, and the transformer works in a Pipeline and
passes scikit-learn's estimator checks.
"""

import numpy as np
import pytest
from _helpers import digits, parametrize_with_checks
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from sknumpynet import HiddenLayerFeatures, NumpyMLPClassifier, NumpyMLPRegressor

# The networks train for a few epochs only, and the checks fit with the
# default max_iter: not converging is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_hidden_layer_features_are_the_layer_activations():
    X, y = digits()
    network = NumpyMLPClassifier(
        hidden_layer_sizes=(12, 7),
        activation=["relu", "tanh"],
        max_iter=5,
        random_state=0,
    )
    features = HiddenLayerFeatures(network, layer=0).fit(X, y)
    W, b = features.estimator_.coefs_[0], features.estimator_.intercepts_[0]
    assert_allclose(features.transform(X), np.maximum(X @ W + b, 0))
    last = HiddenLayerFeatures(features.estimator_, layer=-1, prefit=True).fit(X)
    assert last.transform(X).shape == (len(X), 7)
    assert list(last.get_feature_names_out()) == [
        f"hiddenlayerfeatures{i}" for i in range(7)
    ]
    assert network.__dict__.keys() == NumpyMLPClassifier().__dict__.keys(), (
        "the given estimator must stay unfitted (it is cloned)"
    )


def test_hidden_layer_features_in_a_pipeline():
    X, y = digits(900)
    pipe = make_pipeline(
        HiddenLayerFeatures(
            NumpyMLPClassifier(
                hidden_layer_sizes=(32,),
                learning_rate_init=0.01,
                max_iter=40,
                random_state=0,
            )
        ),
        LogisticRegression(max_iter=2000),
    ).fit(X[:600], y[:600])
    assert pipe.score(X[600:], y[600:]) > 0.85


def test_hidden_layer_features_reject_a_missing_layer():
    X, y = digits(100)
    with pytest.raises(ValueError, match="layer=2 is out of range"):
        HiddenLayerFeatures(
            NumpyMLPClassifier(hidden_layer_sizes=(4, 3), max_iter=2), layer=2
        ).fit(X, y)


# The checks seed only a top-level random_state; the network inside needs its
# own for fit_transform and fit().transform to agree.
@parametrize_with_checks(
    [
        HiddenLayerFeatures(
            NumpyMLPRegressor(
                hidden_layer_sizes=(6,), learning_rate_init=0.01, random_state=0
            )
        )
    ]
)
def test_hidden_layer_features_pass_scikit_learn_checks(estimator, check):
    check(estimator)


def test_hidden_layer_features_refuse_other_estimators_before_training():
    """A scikit-learn MLP has no hidden layers to give: refused at once, before
    the (possibly long) training that used to end in an AttributeError."""
    fits = []

    class RecordingMLP(MLPClassifier):
        def fit(self, X, y):
            fits.append(len(X))
            return super().fit(X, y)

    X, y = digits(100)
    with pytest.raises(TypeError, match="sknumpynet network"):
        HiddenLayerFeatures(RecordingMLP(max_iter=5)).fit(X, y)
    assert fits == [], "the scikit-learn model was trained before the refusal"
