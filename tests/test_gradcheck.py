"""The public gradient check, sknumpynet.check_gradients.

Backpropagation must agree with finite differences (relative error below
1e-7, see the definition in the function's docstring) for both estimators,
every hidden activation, every output layer and loss, with an L2 penalty,
sample weights and without intercepts; and the check must catch gradients
that are wrong, even slightly.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

import sknumpynet._activations
import sknumpynet._losses
from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._activations import CANONICAL_NAMES
from sknumpynet._gradcheck import check_gradients
from sknumpynet._network import MLP

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TOLERANCE = 1e-7
# Every hidden activation ("sigmoid" is an alias of "logistic").
HIDDEN = sorted(set(CANONICAL_NAMES.values()))
N_SAMPLES, N_FEATURES = 30, 4
# Every output layer and loss the estimators use.
TASKS = [
    "binary",
    "multiclass",
    "multilabel",
    "regression",
    "regression-2-outputs",
    "poisson",
    "regression-logistic-output",
]
# (alpha, sample weights, fit_intercept)
VARIANTS = {
    "plain": (0.0, False, True),
    "alpha": (0.7, False, True),
    "weights": (0.0, True, True),
    "no-intercept": (0.3, True, False),
}


def _task(task, seed=0, n_samples=N_SAMPLES):
    """(estimator class, extra parameters, X, y) for a task."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, N_FEATURES))
    if task == "binary":
        return NumpyMLPClassifier, {}, X, rng.randint(0, 2, n_samples)
    if task == "multiclass":
        return NumpyMLPClassifier, {}, X, rng.choice(["a", "b", "c"], n_samples)
    if task == "multilabel":
        return NumpyMLPClassifier, {}, X, rng.randint(0, 2, (n_samples, 3))
    if task == "regression":
        return NumpyMLPRegressor, {}, X, rng.normal(size=n_samples)
    if task == "regression-2-outputs":
        return NumpyMLPRegressor, {}, X, rng.normal(size=(n_samples, 2))
    if task == "poisson":
        y = rng.poisson(2.0, n_samples).astype(float)
        return NumpyMLPRegressor, {"loss": "poisson"}, X, y
    assert task == "regression-logistic-output"
    y = rng.uniform(size=n_samples)
    return NumpyMLPRegressor, {"out_activation": "logistic"}, X, y


def _expected_out_activation(task):
    return {
        "binary": "logistic",
        "multiclass": "softmax",
        "multilabel": "logistic",
        "regression": "identity",
        "regression-2-outputs": "identity",
        "poisson": "exp",
        "regression-logistic-output": "logistic",
    }[task]


def _estimator(task, activation="tanh", seed=0, **params):
    Estimator, extra, X, y = _task(task, seed=seed)
    est = Estimator(
        hidden_layer_sizes=(5, 3),
        activation=activation,
        random_state=seed,
        **extra,
        **params,
    )
    return est, X, y


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", HIDDEN)
def test_backpropagation_matches_finite_differences(activation, task, variant):
    alpha, weighted, fit_intercept = VARIANTS[variant]
    est, X, y = _estimator(
        task, activation, alpha=alpha, fit_intercept=fit_intercept, seed=1
    )
    sample_weight = None
    if weighted:
        sample_weight = np.random.RandomState(2).uniform(0, 3, N_SAMPLES)
        sample_weight[3] = 0.0
    error, details = check_gradients(est, X, y, sample_weight, return_details=True)
    assert error < TOLERANCE, (
        f"relative error {error:.3g} at {details.worst_parameter}: "
        f"backprop {details.gradient[np.argmax(details.relative_error)]}, "
        "finite difference "
        f"{details.finite_difference[np.argmax(details.relative_error)]}"
    )
    assert error == details.relative_error.max()
    # Comparing zeros with zeros would prove nothing.
    assert np.abs(details.gradient).max() > 1e-3
    assert np.isfinite(details.loss) and details.loss > 0
    # Every parameter was checked: all of them, or the coefficients only
    # when the intercepts are not parameters.
    n_outputs = 1 if np.ndim(y) == 1 else y.shape[1]
    if task == "multiclass":
        n_outputs = 3
    n_coefs = N_FEATURES * 5 + 5 * 3 + 3 * n_outputs
    n_params = n_coefs + 5 + 3 + n_outputs
    assert_array_equal(
        details.indices, np.arange(n_params if fit_intercept else n_coefs)
    )
    # The estimator was only read: it is still unfitted.
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("task", TASKS)
def test_check_uses_the_network_fit_builds(task):
    # The loss at the initial weights is the first loss sgd reports before
    # its first step (full batch, no shuffling, a negligible step): the
    # check saw the same layers, output, loss, encoding and initial weights.
    est, X, y = _estimator(task, "logistic", alpha=0.2)
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE
    fitted = est.set_params(
        solver="sgd",
        batch_size=N_SAMPLES,
        shuffle=False,
        max_iter=1,
        learning_rate_init=1e-300,
    ).fit(X, y)
    assert fitted.out_activation_ == _expected_out_activation(task)
    reported = fitted.loss_curve_[0]
    if task == "regression-2-outputs":
        # scikit-learn reports the squared error averaged over outputs; the
        # check differentiates the summed loss that training minimises.
        penalty = 0.5 * 0.2 * sum((W**2).sum() for W in fitted.coefs_) / N_SAMPLES
        reported = 2 * (reported - penalty) + penalty
    assert details.loss == pytest.approx(reported, rel=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("task", ["multiclass", "multilabel", "poisson"])
def test_check_at_fitted_weights(task, solver):
    est, X, y = _estimator(task, "relu", alpha=0.1, solver=solver, max_iter=30)
    est.fit(X, y)
    before = [w.copy() for w in est.coefs_ + est.intercepts_]
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE
    # The fitted estimator is untouched.
    for w, b in zip(est.coefs_ + est.intercepts_, before):
        assert_array_equal(w, b)
    if solver == "lbfgs":
        # At the fitted weights the loss is the one the fit reported, and
        # the gradient is small (L-BFGS stopped near a stationary point).
        assert details.loss == pytest.approx(est.loss_, rel=1e-10)
    else:
        # Training lowered the loss from the initial weights' one.
        initial = check_gradients(clone(est), X, y, return_details=True)[1]
        assert details.loss < initial.loss


def test_fitted_classifier_uses_its_label_encoding():
    # Other data with the fitted classes is encoded with the fitted columns;
    # data a warm-started fit would refuse is refused.
    est, X, y = _estimator("multiclass", "tanh", solver="lbfgs", max_iter=20)
    est.fit(X, y)
    X_other, y_other = X[::-1] * 0.5, y[::-1]
    error, details = check_gradients(est, X_other, y_other, return_details=True)
    assert error < TOLERANCE
    assert details.gradient.size == N_FEATURES * 5 + 5 * 3 + 3 * 3 + 8 + 3
    keep = y != "c"
    with pytest.raises(ValueError, match="classes"):
        check_gradients(est, X[keep], y[keep])
    with pytest.raises(ValueError, match="classes"):
        check_gradients(est, X, np.where(keep, y, "z"))
    with pytest.raises(ValueError, match="features"):
        check_gradients(est, X[:, :2], y)


@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_float32_estimator_is_checked_in_float64(fitted):
    est, X, y = _estimator("multiclass", "logistic", solver="lbfgs", max_iter=5)
    X32 = X.astype(np.float32)
    if fitted:
        est.fit(X32, y)
        assert est.coefs_[0].dtype == np.float32
    error, details = check_gradients(est, X32, y, return_details=True)
    assert error < TOLERANCE
    assert details.gradient.dtype == np.float64
    assert details.finite_difference.dtype == np.float64


@pytest.mark.parametrize("container", ["csr", "csc", "pandas", "list"])
def test_other_input_containers_give_the_dense_result(container):
    est, X, y = _estimator("binary", "relu", alpha=0.1)
    X[np.abs(X) < 0.5] = 0.0
    _, dense = check_gradients(est, X, y, return_details=True)
    if container == "pandas":
        X_other = pd.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    elif container == "list":
        X_other = X.tolist()
    else:
        X_other = getattr(sp, f"{container}_matrix")(X)
    error, other = check_gradients(est, X_other, y, return_details=True)
    assert error < TOLERANCE
    assert_allclose(other.gradient, dense.gradient, rtol=1e-12, atol=1e-15)
    assert other.loss == pytest.approx(dense.loss, rel=1e-13)


def test_max_params_checks_a_reproducible_random_subset():
    est, X, y = _estimator("multiclass", "tanh")
    _, full = check_gradients(est, X, y, return_details=True)
    error, first = check_gradients(
        est, X, y, max_params=7, random_state=3, return_details=True
    )
    _, again = check_gradients(
        est, X, y, max_params=7, random_state=3, return_details=True
    )
    _, other = check_gradients(
        est, X, y, max_params=7, random_state=4, return_details=True
    )
    assert error < TOLERANCE
    assert first.indices.size == 7
    assert np.all(np.diff(first.indices) > 0)  # sorted, no repeats
    assert_array_equal(first.indices, again.indices)
    assert not np.array_equal(first.indices, other.indices)
    # The subset's numbers are those of the full check at the same positions.
    assert_array_equal(first.gradient, full.gradient[first.indices])
    assert_allclose(
        first.finite_difference, full.finite_difference[first.indices], rtol=1e-14
    )
    # max_params at or above the count means all of them.
    _, everything = check_gradients(est, X, y, max_params=10**6, return_details=True)
    assert_array_equal(everything.indices, full.indices)


@pytest.mark.parametrize(
    "activation", [["tanh", "relu"], ("elu", "softplus"), ["leaky_relu", "logistic"]]
)
def test_per_layer_activations(activation):
    est, X, y = _estimator("multiclass", activation=list(activation), alpha=0.2)
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE
    assert np.abs(details.gradient).max() > 1e-3
    # Not the same network as one activation everywhere.
    _, single = check_gradients(
        est.set_params(activation=activation[0]), X, y, return_details=True
    )
    assert details.loss != single.loss


@pytest.mark.parametrize("task", ["multiclass", "regression", "poisson"])
def test_dropout_masks_are_part_of_the_checked_gradient(task):
    # With dropout the check fixes one draw of the masks: the gradient of
    # that (thinned) network matches its finite differences.
    est, X, y = _estimator(task, "tanh", dropout=[0.5, 0.3])
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE
    _, without = check_gradients(est.set_params(dropout=0.0), X, y, return_details=True)
    assert details.loss != without.loss  # the masks were applied
    # The masks come from random_state: the same draw each time.
    _, again = check_gradients(
        est.set_params(dropout=[0.5, 0.3]), X, y, return_details=True
    )
    assert_array_equal(again.gradient, details.gradient)


def test_class_weight_is_folded_into_the_loss():
    est, X, y = _estimator("multiclass", "relu", alpha=0.1)
    _, plain = check_gradients(est, X, y, return_details=True)
    error, weighted = check_gradients(
        est.set_params(class_weight="balanced"), X, y, return_details=True
    )
    assert error < TOLERANCE
    assert weighted.loss != plain.loss
    # Balanced class weights equal the same per-sample weights.
    classes, counts = np.unique(y, return_counts=True)
    per_sample = (len(y) / (len(classes) * counts))[np.searchsorted(classes, y)]
    _, by_sample = check_gradients(
        est.set_params(class_weight=None), X, y, per_sample, return_details=True
    )
    assert by_sample.loss == pytest.approx(weighted.loss, rel=1e-13)


def test_worst_parameter_is_named():
    est, X, y = _estimator("regression", "tanh")
    _, details = check_gradients(est, X, y, return_details=True)
    name = details.worst_parameter
    assert name.startswith(("coefs_[", "intercepts_["))


# ---------------------------------------------------------------------------
# The check catches wrong gradients
# ---------------------------------------------------------------------------


def _wrong_tanh_backward(a, delta):
    # The derivative of tanh is 1 - a**2; this forgets the square.
    delta *= 1 - a
    return delta


def test_wrong_hidden_derivative_is_detected(monkeypatch):
    est, X, y = _estimator("multiclass", "tanh")
    assert check_gradients(est, X, y) < TOLERANCE
    tanh_forward, _ = sknumpynet._activations.HIDDEN_ACTIVATIONS["tanh"]
    monkeypatch.setitem(
        sknumpynet._activations.HIDDEN_ACTIVATIONS,
        "tanh",
        (tanh_forward, _wrong_tanh_backward),
    )
    error, details = check_gradients(est, X, y, return_details=True)
    assert error > 1e-2
    # Only the layers below a tanh layer are wrong; the last layer is fine.
    assert details.worst_parameter.startswith(
        ("coefs_[0]", "coefs_[1]", "intercepts_[0]", "intercepts_[1]")
    )


def test_slightly_wrong_output_delta_is_detected(monkeypatch):
    # An output delta 1% too large: a wrong factor somewhere in a loss.
    est, X, y = _estimator("binary", "logistic")
    loss, delta = sknumpynet._losses.LOSSES[("logistic", "log_loss")]

    def delta_one_percent_off(y, y_pred, out):
        delta(y, y_pred, out)
        out *= 1.01
        return out

    monkeypatch.setitem(
        sknumpynet._losses.LOSSES,
        ("logistic", "log_loss"),
        (loss, delta_one_percent_off),
    )
    assert check_gradients(est, X, y) > 1e-3


def test_gradient_off_by_one_part_in_a_hundred_thousand_is_detected(monkeypatch):
    est, X, y = _estimator("regression", "relu", alpha=0.3)
    assert check_gradients(est, X, y) < TOLERANCE
    loss_and_gradient = MLP.loss_and_gradient

    def scaled(self, *args, **kwargs):
        loss = loss_and_gradient(self, *args, **kwargs)
        self.grad *= 1 + 1e-5
        return loss

    monkeypatch.setattr(MLP, "loss_and_gradient", scaled)
    error = check_gradients(est, X, y)
    # A uniform relative error e shows up as about e / 2.
    assert 1e-6 < error < 1e-4


def test_missing_penalty_gradient_is_detected(monkeypatch):
    est, X, y = _estimator("multiclass", "identity", alpha=1.0)
    loss_and_gradient = MLP.loss_and_gradient

    def without_penalty_gradient(self, X, y, sample_weight, alpha, **kwargs):
        # The loss with the penalty, the gradient without it.
        loss = loss_and_gradient(self, X, y, sample_weight, alpha, **kwargs)
        loss_and_gradient(self, X, y, sample_weight, 0.0, **kwargs)
        return loss

    monkeypatch.setattr(MLP, "loss_and_gradient", without_penalty_gradient)
    assert check_gradients(est, X, y) > 1e-2


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_rejects_other_estimators():
    _, X, y = _estimator("binary")
    with pytest.raises(TypeError, match="sknumpynet estimator"):
        check_gradients(MLPClassifier(), X, y)


@pytest.mark.parametrize("epsilon", [0.0, -1e-4])
def test_rejects_non_positive_step(epsilon):
    est, X, y = _estimator("binary")
    with pytest.raises(ValueError, match="epsilon"):
        check_gradients(est, X, y, epsilon=epsilon)


def test_invalid_parameters_and_data_raise_as_fit_does():
    est, X, y = _estimator("binary", activation="tanh")
    with pytest.raises(InvalidParameterError, match="activation"):
        check_gradients(est.set_params(activation="bogus"), X, y)
    est.set_params(activation="tanh")
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_gradients(est, X_nan, y)
    with pytest.raises(ValueError, match="(?i)negative"):
        check_gradients(est, X, y, sample_weight=-np.ones(N_SAMPLES))


def test_fit_still_works_after_checks():
    # The check clones; the estimator trains afterwards as usual.
    est, X, y = _estimator("multiclass", "relu", solver="lbfgs", max_iter=50)
    check_gradients(est, X, y)
    reference = est.__class__(**est.get_params()).fit(X, y)
    est.fit(X, y)
    for a, b in itertools.zip_longest(est.coefs_, reference.coefs_):
        assert_array_equal(a, b)


def test_check_is_silent_and_deterministic():
    # No warning of any kind (it never trains), and the same numbers twice.
    est, X, y = _estimator("poisson", "relu", alpha=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = check_gradients(est, X, y, return_details=True)[1]
        second = check_gradients(est, X, y, return_details=True)[1]
    assert_array_equal(first.gradient, second.gradient)
    assert_array_equal(first.finite_difference, second.finite_difference)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_label_smoothing_is_part_of_the_checked_gradient(task):
    est, X, y = _estimator(task, "selu", alpha=0.2, label_smoothing=0.2)
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE
    assert np.abs(details.gradient).max() > 1e-3
    _, plain = check_gradients(
        est.set_params(label_smoothing=0.0), X, y, return_details=True
    )
    assert details.loss != plain.loss


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task", ["multiclass", "regression", "poisson"])
@pytest.mark.parametrize("parametrization", ["standard", "ntk"])
def test_ntk_and_feature_scale_gradients(parametrization, task, fit_intercept):
    est, X, y = _estimator(
        task,
        "mish",
        alpha=0.3,
        parametrization=parametrization,
        feature_scale=True,
        fit_intercept=fit_intercept,
        weight_init="normal" if parametrization == "ntk" else "glorot",
    )
    error, details = check_gradients(est, X, y, return_details=True)
    assert error < TOLERANCE, details.worst_parameter
    # The feature scale (the last N_FEATURES parameters) was checked, and
    # its gradient is not zero.
    n_params = details.indices.max() + 1
    scale = details.indices >= n_params - N_FEATURES
    assert scale.sum() == N_FEATURES
    assert np.abs(details.gradient[scale]).min() > 0
    # Without intercepts, they alone are left out.
    n_intercepts = 5 + 3 + (3 if task == "multiclass" else 1)
    assert details.indices.size == n_params - (0 if fit_intercept else n_intercepts)


def test_feature_scale_parameters_are_named():
    network_size = N_FEATURES * 5 + 5 * 3 + 3 + 5 + 3 + 1
    from sknumpynet._gradcheck import _parameter_name

    class Net:
        layer_units = [N_FEATURES, 5, 3, 1]
        params = np.zeros(network_size + N_FEATURES)
        scale = np.ones(N_FEATURES)

    assert _parameter_name(Net, network_size + 2) == "feature_scale_[2]"
    assert _parameter_name(Net, 0) == "coefs_[0][0, 0]"


def test_wrong_feature_scale_gradient_is_detected(monkeypatch):
    est, X, y = _estimator("regression", "tanh", feature_scale=True)
    original = MLP._chain_to_stored_weights

    def wrong(self):
        original(self)
        if self._grad_scale is not None:
            self._grad_scale *= 1.001

    monkeypatch.setattr(MLP, "_chain_to_stored_weights", wrong)
    error, details = check_gradients(est, X, y, return_details=True)
    assert error > 1e-4
    assert details.worst_parameter.startswith("feature_scale_[")
