"""The RealMLP ingredients as NumpyMLP parameters: label smoothing, the
parametrization and feature scale, the "coslog4" schedule and per-group
learning rates. Defaults are scikit-learn's (tests/test_parity.py)."""

import numpy as np
import pytest

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y


def _smoothed_log_loss(proba, y, classes, epsilon):
    """The log-loss against (1 - eps) y + eps / K, by hand."""
    if len(classes) == 2:  # one logistic output: K = 2 over [1 - p, p]
        target = (y == classes[1]).astype(float)
        target = (1 - epsilon) * target + epsilon / 2
        p = proba[:, 1]
        return -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    onehot = (y[:, None] == classes[None, :]).astype(float)
    target = (1 - epsilon) * onehot + epsilon / len(classes)
    return -np.mean((target * np.log(proba)).sum(axis=1))


@pytest.mark.parametrize("binary", [False, True])
def test_label_smoothing_is_the_loss_of_the_smoothed_targets(data, binary):
    X, y = data
    if binary:
        y = (y > 0).astype(int)
    clf = NumpyMLPClassifier(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        max_iter=3,
        alpha=0.0,
        label_smoothing=0.2,
        random_state=0,
    )
    with pytest.warns(Warning):  # lbfgs stops before converging
        clf.fit(X, y)
    expected = _smoothed_log_loss(clf.predict_proba(X), y, clf.classes_, 0.2)
    np.testing.assert_allclose(clf.loss_, expected, rtol=1e-10)
    unsmoothed = _smoothed_log_loss(clf.predict_proba(X), y, clf.classes_, 0.0)
    assert abs(clf.loss_ - unsmoothed) > 1e-3


def test_label_smoothing_changes_training_and_zero_is_the_default(data):
    X, y = data
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        plain = NumpyMLPClassifier(**params).fit(X, y)
        zero = NumpyMLPClassifier(label_smoothing=0.0, **params).fit(X, y)
        smooth = NumpyMLPClassifier(label_smoothing=0.3, **params).fit(X, y)
    assert plain.loss_curve_ == zero.loss_curve_
    assert smooth.loss_curve_ != plain.loss_curve_


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, "0.1"])
def test_label_smoothing_out_of_range_is_refused(data, value):
    X, y = data
    with pytest.raises(ValueError, match="label_smoothing"):
        NumpyMLPClassifier(label_smoothing=value).fit(X, y)


def test_the_regressor_has_no_label_smoothing():
    assert "label_smoothing" not in NumpyMLPRegressor().get_params()
