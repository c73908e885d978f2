"""The RealMLP ingredients as NumpyMLP parameters: label smoothing, the
parametrization and feature scale, the "coslog4" schedule and per-group
learning rates. Defaults are scikit-learn's (tests/test_parity.py)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sknumpynet import (
    HiddenLayerFeatures,
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    load,
    save,
)
from sknumpynet._optimizers import coslog_schedule

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=3, alpha=0.0)
    clf = NumpyMLPClassifier(label_smoothing=0.2, random_state=0, **params)
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


# ---------------------------------------------------------------------------
# parametrization and feature_scale
# ---------------------------------------------------------------------------

NTK_SCALE = dict(
    parametrization="ntk", feature_scale=True, weight_init="normal", activation="tanh"
)


def _by_hand(est, X):
    """The forward pass written out from the stored weights."""
    a = X * est.feature_scale_ if hasattr(est, "feature_scale_") else X
    last = len(est.coefs_) - 1
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        factor = 1 / np.sqrt(W.shape[0]) if est.parametrization == "ntk" else 1.0
        a = a @ (W * factor) + b
        a = np.tanh(a) if i < last else a
    return a


@pytest.fixture
def regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_ntk_and_feature_scale_train_and_predict_with_effective_weights(
    regression, solver
):
    X, y = regression
    params = dict(hidden_layer_sizes=(6,), max_iter=30, learning_rate_init=0.01)
    reg = NumpyMLPRegressor(solver=solver, random_state=0, **params, **NTK_SCALE)
    with pytest.warns(Warning):
        reg.fit(X, y)
    assert reg.feature_scale_.shape == (3,)
    assert reg.feature_scale_.dtype == reg.coefs_[0].dtype
    assert not np.allclose(reg.feature_scale_, 1.0)  # it was trained
    np.testing.assert_allclose(reg.predict(X), _by_hand(reg, X).ravel(), rtol=1e-12)
    # The serving plan (second call) and a sparse input agree.
    np.testing.assert_allclose(reg.predict(X), _by_hand(reg, X).ravel(), rtol=1e-12)
    np.testing.assert_allclose(
        reg.predict(sp.csr_matrix(X)), _by_hand(reg, X).ravel(), rtol=1e-12
    )


def test_ntk_is_another_network_than_standard(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(6,), activation="tanh", random_state=0)
    std = NumpyMLPRegressor(max_iter=1, **params)
    ntk = NumpyMLPRegressor(max_iter=1, parametrization="ntk", **params)
    with pytest.warns(Warning):
        std.fit(X, y)
        ntk.fit(X, y)
    assert not hasattr(std, "feature_scale_") and not hasattr(ntk, "feature_scale_")
    assert std.loss_curve_ != ntk.loss_curve_
    np.testing.assert_allclose(ntk.predict(X), _by_hand(ntk, X).ravel(), rtol=1e-12)


def test_classifier_with_feature_scale_and_hidden_features(data):
    X, y = data
    clf = NumpyMLPClassifier(
        hidden_layer_sizes=(5,), max_iter=20, random_state=0, **NTK_SCALE
    )
    with pytest.warns(Warning):
        clf.fit(X, y)
    logits = _by_hand(clf, X)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-10)
    hidden = np.tanh((X * clf.feature_scale_) @ clf.coefs_[0] / 2 + clf.intercepts_[0])
    features = HiddenLayerFeatures(clf, prefit=True).fit(X, y).transform(X)
    # The same products in another order: round-off, also near zero.
    np.testing.assert_allclose(features, hidden, rtol=1e-12, atol=1e-14)


def test_warm_start_partial_fit_and_best_weights_keep_the_scale(regression):
    X, y = regression
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(4,), max_iter=3, warm_start=True, **NTK_SCALE
    )
    with pytest.warns(Warning):
        reg.fit(X, y)
    first = reg.feature_scale_.copy()
    with pytest.warns(Warning):
        reg.fit(X, y)
    assert not np.array_equal(reg.feature_scale_, first)  # trained on
    reg.partial_fit(X, y)
    np.testing.assert_allclose(reg.predict(X), _by_hand(reg, X).ravel(), rtol=1e-12)
    reg.restore_best_weights()
    assert reg.feature_scale_.shape == (3,)
    np.testing.assert_allclose(reg.predict(X), _by_hand(reg, X).ravel(), rtol=1e-12)
    with pytest.raises(ValueError, match="feature_scale"):
        reg.set_params(feature_scale=False).fit(X, y)
    # A refit without the scale drops feature_scale_.
    with pytest.warns(Warning):
        reg.set_params(warm_start=False).fit(X, y)
    assert not hasattr(reg, "feature_scale_")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"parametrization": "mup"}, "parametrization"),
        ({"feature_scale": "yes"}, "feature_scale"),
        ({"weight_init": "xavier"}, "weight_init"),
    ],
)
def test_bad_values_are_refused(regression, params, match):
    X, y = regression
    with pytest.raises(ValueError, match=match):
        NumpyMLPRegressor(**params).fit(X, y)


def test_to_sklearn_folds_the_factors_exactly(data, regression):
    X, y = data
    clf = NumpyMLPClassifier(
        hidden_layer_sizes=(5,), max_iter=20, label_smoothing=0.1, **NTK_SCALE
    )
    with pytest.warns(Warning):
        clf.fit(X, y)
    with pytest.warns(UserWarning, match="feature_scale.*label_smoothing"):
        sk = clf.to_sklearn()
    np.testing.assert_array_equal(sk.predict_proba(X), clf.predict_proba(X))
    assert not hasattr(sk, "_optimizer")  # no training state carried over
    assert sk.get_params()["activation"] == "tanh"


@pytest.mark.parametrize("feature_scale", [False, True])
def test_save_and_load_round_trip(regression, tmp_path, feature_scale):
    X, y = regression
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(4,),
        max_iter=3,
        parametrization="ntk",
        feature_scale=feature_scale,
    )
    with pytest.warns(Warning):
        reg.fit(X, y)
    again = load(save(reg, tmp_path / "model.npz"))
    assert again.get_params() == reg.get_params()
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    if feature_scale:
        np.testing.assert_array_equal(again.feature_scale_, reg.feature_scale_)
    else:
        assert not hasattr(again, "feature_scale_")


# ---------------------------------------------------------------------------
# learning_rate="coslog4"
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_coslog4_history_follows_the_schedule_to_zero(regression, solver):
    X, y = regression  # 80 rows, batches of 32: 3 a epoch
    schedule = dict(learning_rate="coslog4", learning_rate_init=0.05, max_iter=10)
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(4,), solver=solver, batch_size=32, random_state=0
    )
    reg.set_params(n_iter_no_change=100, **schedule).fit(X, y)
    assert reg.n_iter_ == 10
    rates = [entry["learning_rate"] for entry in reg.history_]
    expected = [0.05 * coslog_schedule(3 * (k + 1) / 30) for k in range(10)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12, atol=1e-15)
    assert rates[-1] == pytest.approx(0.0, abs=1e-15)
    assert max(rates) > 0.04  # the cycles peak at learning_rate_init
    constant = NumpyMLPRegressor(**{**reg.get_params(), "learning_rate": "constant"})
    assert constant.fit(X, y).loss_curve_ != reg.loss_curve_


def test_coslog4_restarts_at_every_warm_fit(regression):
    X, y = regression
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(4,),
        learning_rate="coslog4",
        batch_size=40,
        max_iter=4,
        n_iter_no_change=100,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    first = [entry["learning_rate"] for entry in reg.history_]
    reg.fit(X, y)
    second = [entry["learning_rate"] for entry in reg.history_[4:]]
    assert second == first


def test_coslog4_is_refused_by_partial_fit(regression):
    X, y = regression
    reg = NumpyMLPRegressor(learning_rate="coslog4")
    with pytest.raises(ValueError, match="learning_rate='coslog4'.*partial_fit"):
        reg.partial_fit(X, y)
    assert not hasattr(reg, "coefs_")  # the failed call left nothing behind


def test_unknown_learning_rate_is_refused(regression):
    X, y = regression
    with pytest.raises(ValueError, match="learning_rate"):
        NumpyMLPRegressor(learning_rate="flat_cos").fit(X, y)


def test_to_sklearn_gives_coslog4_models_a_constant_rate(regression):
    X, y = regression
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(4,), learning_rate="coslog4", max_iter=3, random_state=0
    ).fit(X, y)
    with pytest.warns(UserWarning, match="learning_rate"):
        sk = reg.to_sklearn()
    assert sk.learning_rate == "constant"
    assert not hasattr(sk, "_optimizer")
    np.testing.assert_allclose(sk.predict(X), reg.predict(X), rtol=1e-12)


# ---------------------------------------------------------------------------
# learning_rate_factors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_zero_factor_freezes_the_intercepts(regression, solver):
    X, y = regression
    params = dict(
        hidden_layer_sizes=(4,), solver=solver, max_iter=5, random_state=0, **NTK_SCALE
    )
    frozen = NumpyMLPRegressor(
        learning_rate_factors={"intercepts": 0.0, "feature_scale": 0.0}, **params
    ).fit(X, y)
    start = NumpyMLPRegressor(**params)  # the initial weights of the seed
    start._prepare_training(X, y, None)
    for now, then in zip(frozen.intercepts_, start.intercepts_):
        np.testing.assert_array_equal(now, then)
    np.testing.assert_array_equal(frozen.feature_scale_, 1.0)
    assert not np.array_equal(frozen.coefs_[0], start.coefs_[0])


def test_factors_scale_the_step_of_their_group(regression):
    X, y = regression
    params = dict(
        hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, max_iter=1, batch_size=80
    )
    params.update(random_state=0, shuffle=False)
    start = NumpyMLPRegressor(**params)
    start._prepare_training(X, y, None)
    plain = NumpyMLPRegressor(**params).fit(X, y)
    doubled = NumpyMLPRegressor(learning_rate_factors={"coefs": 2.0}, **params).fit(
        X, y
    )
    for p, d, s in zip(plain.coefs_, doubled.coefs_, start.coefs_):
        np.testing.assert_allclose(d - s, 2 * (p - s), rtol=1e-10, atol=1e-15)
    for p, d in zip(plain.intercepts_, doubled.intercepts_):
        np.testing.assert_array_equal(p, d)


def test_all_ones_is_the_default_update(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(4,), max_iter=4, random_state=0)
    plain = NumpyMLPRegressor(**params).fit(X, y)
    ones = {"coefs": 1.0, "intercepts": 1.0, "feature_scale": 1.0}
    same = NumpyMLPRegressor(learning_rate_factors=ones, **params).fit(X, y)
    assert same.loss_curve_ == plain.loss_curve_
    for a, b in zip(same.coefs_, plain.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "factors, match",
    [
        ([1.0], "learning_rate_factors"),
        ({"bias": 0.1}, r"unknown keys \['bias'\]"),
        ({"coefs": -1.0}, r"learning_rate_factors\['coefs'\]"),
        ({"intercepts": np.inf}, r"learning_rate_factors\['intercepts'\]"),
        ({"coefs": "1"}, r"learning_rate_factors\['coefs'\]"),
    ],
)
def test_bad_factors_are_refused(regression, factors, match):
    X, y = regression
    with pytest.raises(ValueError, match=match):
        NumpyMLPRegressor(learning_rate_factors=factors).fit(X, y)


def test_factors_round_trip_and_are_dropped_by_to_sklearn(data, tmp_path):
    X, y = data
    factors = {"coefs": 1.0, "intercepts": 0.1, "feature_scale": 6.0}
    clf = NumpyMLPClassifier(
        hidden_layer_sizes=(4,), max_iter=3, learning_rate_factors=factors
    ).fit(X, y)
    again = load(save(clf, tmp_path / "model.npz"))
    assert again.learning_rate_factors == factors
    with pytest.warns(UserWarning, match="learning_rate_factors"):
        sk = clf.to_sklearn()
    np.testing.assert_allclose(sk.predict_proba(X), clf.predict_proba(X), rtol=1e-12)
