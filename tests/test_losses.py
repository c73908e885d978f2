"""Unit tests of sknumpynet._losses: loss values and output-layer deltas.

Loss values are checked against scikit-learn's own MLP loss functions (the
package promises loss curves that agree with scikit-learn's), and each output
delta against a finite difference of the *summed* loss ``n * loss`` with
respect to the output layer's pre-activation ``z`` -- the quantity the
backward pass needs. Label smoothing: the smoothed targets by hand, and the
log-losses' delta on them against finite differences too.
"""

import numpy as np
import pytest
from _helpers import OUTPUT_LOSS_PAIRS, output_cases, pair_id, targets
from sklearn.neural_network import _base as sk_base

from sknumpynet._activations import OUTPUT_ACTIVATIONS
from sknumpynet._losses import (
    LOSSES,
    binary_log_loss,
    canonical_delta,
    label_smoothing_classes,
    log_loss,
    logistic_squared_error_delta,
    poisson_deviance,
    smooth_labels,
    squared_error,
)
from sknumpynet._network import MLP

N_SAMPLES = 8


def _targets(pair, n_outputs, rng, n_samples=N_SAMPLES):
    return targets(pair, n_samples, n_outputs, rng, poisson_high=4, zero_counts_every=3)


def _z(n_outputs, rng, n_samples=N_SAMPLES):
    return rng.normal(scale=1.5, size=(n_samples, n_outputs))


def _output(pair, z):
    """Output activation of ``z``, leaving ``z`` untouched."""
    return OUTPUT_ACTIVATIONS[pair[0]](z.copy())


# ---------------------------------------------------------------------------
# Loss values against scikit-learn
# ---------------------------------------------------------------------------


def _sklearn_loss(pair, y, y_pred, sample_weight):
    output_activation, loss = pair
    if loss == "squared_error":
        # scikit-learn averages the squared error over outputs; the engine sums
        # it, like every other loss, so that the delta is its gradient.
        return sk_base.squared_loss(y, y_pred, sample_weight) * y.shape[1]
    if loss == "poisson":
        return sk_base.poisson_loss(y, y_pred, sample_weight)
    if output_activation == "logistic":
        return sk_base.binary_log_loss(y, y_pred, sample_weight)
    return sk_base.log_loss(y, y_pred, sample_weight)


@pytest.mark.parametrize("pair, n_outputs", output_cases())
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_matches_scikit_learn(pair, n_outputs, weighted):
    rng = np.random.default_rng(0)
    y = _targets(pair, n_outputs, rng)
    y_pred = _output(pair, _z(n_outputs, rng))
    sample_weight = rng.uniform(0.2, 3.0, N_SAMPLES) if weighted else None
    if weighted:
        sample_weight[1] = 0.0  # a zero weight must simply drop the sample
    y_before, pred_before = y.copy(), y_pred.copy()

    loss_function, _ = LOSSES[pair]
    got = loss_function(y, y_pred, sample_weight)
    expected = _sklearn_loss(pair, y, y_pred, sample_weight)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12)
    # Neither the targets nor the predictions are modified.
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(y_pred, pred_before)


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_integer_weights_equal_repeated_samples(pair):
    # A weighted average: weight 2 is the same as the row appearing twice.
    rng = np.random.default_rng(3)
    n_outputs = 3
    y = _targets(pair, n_outputs, rng)
    y_pred = _output(pair, _z(n_outputs, rng))
    weights = rng.integers(1, 4, N_SAMPLES)
    loss_function, _ = LOSSES[pair]
    repeated = np.repeat(np.arange(N_SAMPLES), weights)
    assert loss_function(y, y_pred, weights.astype(float)) == pytest.approx(
        loss_function(y[repeated], y_pred[repeated]), rel=1e-12
    )


def test_squared_error_direct_formula():
    # Half the mean squared error over samples, summed over outputs.
    rng = np.random.default_rng(1)
    y, y_pred = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    expected = 0.5 * np.sum((y - y_pred) ** 2) / 6
    assert squared_error(y, y_pred) == pytest.approx(expected, rel=1e-14)


def test_reported_loss_averages_squared_error_over_outputs():
    """The engine reports scikit-learn's output-averaged squared error, while
    the loss it returns (and differentiates) is summed over outputs."""
    rng = np.random.default_rng(2)
    net = MLP([3, 4, 2], "tanh", "identity", "squared_error", np.float64)
    net.initialize(np.random.RandomState(0))
    X, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    loss = net.loss_and_gradient(X, y, None, alpha=0.0)
    y_pred = net.predict(X)
    assert loss == pytest.approx(0.5 * np.sum((y - y_pred) ** 2) / 7, rel=1e-13)
    assert net.reported_loss == pytest.approx(
        sk_base.squared_loss(y, y_pred), rel=1e-13
    )


def test_poisson_deviance_zero_counts_and_perfect_fit():
    # 0 log 0 = 0: a zero count costs exactly its prediction; a perfect fit
    # costs nothing.
    y = np.array([[0.0], [0.0]])
    y_pred = np.array([[0.5], [2.0]])
    assert poisson_deviance(y, y_pred) == pytest.approx(1.25, rel=1e-15)
    counts = np.array([[0.5, 3.0], [1.0, 7.0]])
    assert poisson_deviance(counts, counts.copy()) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_losses_are_finite_for_certain_mistakes(dtype):
    # A probability of exactly 0 for what happened is clipped to eps, as in
    # scikit-learn, instead of giving an infinite loss.
    y = np.array([[True, False], [False, True]])
    y_prob = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    got = log_loss(y, y_prob)
    assert np.isfinite(got)
    assert got == pytest.approx(-np.log(np.finfo(dtype).eps), rel=1e-6)
    assert got == pytest.approx(sk_base.log_loss(y, y_prob), rel=1e-6)

    yb = np.array([[True], [False]])
    pb = np.array([[0.0], [1.0]], dtype=dtype)
    got = binary_log_loss(yb, pb)
    assert np.isfinite(got)
    assert got == pytest.approx(sk_base.binary_log_loss(yb, pb), rel=1e-6)


def test_binary_log_loss_single_output_equals_two_class_log_loss():
    # One logistic output p is the two-class softmax [1 - p, p].
    rng = np.random.default_rng(2)
    y = rng.random((N_SAMPLES, 1)) < 0.5
    p = rng.uniform(0.05, 0.95, (N_SAMPLES, 1))
    two_class = np.hstack([1 - p, p])
    indicator = np.hstack([~y, y])
    assert binary_log_loss(y, p) == pytest.approx(
        log_loss(indicator, two_class), rel=1e-13
    )


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_float32_losses_stay_close_to_float64(pair):
    rng = np.random.default_rng(4)
    y = _targets(pair, 3, rng)
    z = _z(3, rng)
    loss_function, _ = LOSSES[pair]
    loss64 = loss_function(y, _output(pair, z))
    y32 = y if y.dtype == bool else y.astype(np.float32)
    loss32 = loss_function(y32, _output(pair, z.astype(np.float32)))
    assert np.isfinite(loss32)
    assert loss32 == pytest.approx(loss64, rel=1e-5)


# ---------------------------------------------------------------------------
# Output deltas against finite differences
# ---------------------------------------------------------------------------


def _summed_loss_gradient(pair, y, z, h=1e-4, sample_weight=None):
    """d(sum_i w_i * loss_i)/dz by a fourth-order central difference.

    ``loss`` averages over samples, so ``sum(w) * loss`` is the weighted
    *sum* over samples whose gradient the delta must be.
    """
    loss_function, _ = LOSSES[pair]
    total = N_SAMPLES if sample_weight is None else sample_weight.sum()

    def summed(z_):
        return total * loss_function(y, _output(pair, z_), sample_weight)

    grad = np.empty_like(z)
    for index in np.ndindex(z.shape):
        values = []
        for step in (2, 1, -1, -2):
            shifted = z.copy()
            shifted[index] += step * h
            values.append(summed(shifted))
        grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (
            12 * h
        )
    return grad


@pytest.mark.parametrize("pair, n_outputs", output_cases())
def test_output_delta_is_gradient_of_summed_loss(pair, n_outputs):
    # Fails if the delta and the loss disagree, e.g. by a factor or a sign.
    rng = np.random.default_rng(5)
    y = _targets(pair, n_outputs, rng)
    z = _z(n_outputs, rng)
    if pair[0] == "logistic":
        # Keep probabilities inside [eps, 1 - eps], where the loss is not
        # clipped and the delta is exact.
        z = np.clip(z, -5, 5)
    _, delta_function = LOSSES[pair]
    y_pred = _output(pair, z)
    out = np.empty_like(z)
    delta = delta_function(y, y_pred, out=out)
    assert delta is out
    expected = _summed_loss_gradient(pair, y, z)
    ratio = np.median(delta / expected)
    np.testing.assert_allclose(
        delta,
        expected,
        rtol=1e-7,
        atol=1e-9,
        err_msg=f"delta / finite difference ~ {ratio:.6g} ({n_outputs} outputs)",
    )


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_weighted_delta_is_gradient_of_weighted_sum(pair):
    # The network multiplies the delta by each sample's weight; that must be
    # the gradient of the weighted sum sum_i w_i loss_i.
    rng = np.random.default_rng(6)
    n_outputs = 2 if pair[0] == "softmax" else 1
    y = _targets(pair, n_outputs, rng)
    z = np.clip(_z(n_outputs, rng), -5, 5)
    sample_weight = rng.uniform(0.0, 3.0, N_SAMPLES)
    _, delta_function = LOSSES[pair]
    delta = delta_function(y, _output(pair, z), out=np.empty_like(z))
    expected = _summed_loss_gradient(pair, y, z, sample_weight=sample_weight)
    np.testing.assert_allclose(
        delta * sample_weight[:, np.newaxis], expected, rtol=1e-7, atol=1e-9
    )


def test_canonical_delta_is_prediction_minus_target():
    y = np.array([[True, False], [False, True]])
    y_pred = np.array([[0.75, 0.25], [0.5, 0.5]])
    y_before = y.copy()
    out = canonical_delta(y, y_pred, out=np.empty_like(y_pred))
    np.testing.assert_array_equal(out, y_pred - y.astype(float))
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_squared_error_delta_formula(dtype):
    # The seed article's pair keeps the sigmoid's derivative.
    rng = np.random.default_rng(7)
    y = rng.random((5, 2)).astype(dtype)
    y_pred = rng.uniform(0.01, 0.99, (5, 2)).astype(dtype)
    out = logistic_squared_error_delta(y, y_pred, out=np.empty_like(y_pred))
    assert out.dtype == dtype
    expected = (y_pred - y) * y_pred * (1 - y_pred)
    np.testing.assert_allclose(out, expected, rtol=4 * np.finfo(dtype).eps)


def test_losses_table_pairs():
    # The five pairs the estimators can ask for, each with its own delta.
    assert set(LOSSES) == {
        ("softmax", "log_loss"),
        ("logistic", "log_loss"),
        ("identity", "squared_error"),
        ("exp", "poisson"),
        ("logistic", "squared_error"),
    }
    assert LOSSES[("logistic", "log_loss")][0] is binary_log_loss
    assert LOSSES[("softmax", "log_loss")][0] is log_loss
    assert LOSSES[("logistic", "squared_error")][1] is logistic_squared_error_delta


# ---------------------------------------------------------------------------
# Label smoothing
# ---------------------------------------------------------------------------

LOG_LOSS_PAIRS = [("softmax", "log_loss"), ("logistic", "log_loss")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smooth_labels_by_hand(dtype):
    # (1 - eps) y + eps / K, with eps = 0.2 and K = 4: 0.85 and 0.05.
    y = np.array([[True, False, False, False], [False, False, True, False]])
    y_before = y.copy()
    out = np.empty(y.shape, dtype=dtype)
    got = smooth_labels(y, 0.2, 4, out)
    assert got is out
    assert got.dtype == dtype
    expected = np.array([[0.85, 0.05, 0.05, 0.05], [0.05, 0.05, 0.85, 0.05]])
    np.testing.assert_allclose(got, expected, rtol=2 * np.finfo(dtype).eps)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(y, y_before)
    # Binary (K = 2): 1 -> 0.9, 0 -> 0.1 with eps = 0.2.
    binary = smooth_labels(np.array([[1.0], [0.0]]), 0.2, 2, np.empty((2, 1)))
    np.testing.assert_allclose(binary, [[0.9], [0.1]], rtol=1e-15)


def test_smooth_labels_with_zero_epsilon_are_the_targets():
    y = np.array([[True, False], [False, True]])
    out = smooth_labels(y, 0.0, 2, np.empty((2, 2)))
    np.testing.assert_array_equal(out, y.astype(float))


def test_label_smoothing_classes():
    assert label_smoothing_classes(("softmax", "log_loss"), 5) == 5
    # Each logistic unit is a two-class question, binary or multilabel.
    assert label_smoothing_classes(("logistic", "log_loss"), 1) == 2
    assert label_smoothing_classes(("logistic", "log_loss"), 3) == 2
    for pair in set(OUTPUT_LOSS_PAIRS) - set(LOG_LOSS_PAIRS):
        with pytest.raises(ValueError, match="label_smoothing needs a log-loss"):
            label_smoothing_classes(pair, 2)


def _smoothed(pair, y, epsilon):
    n_classes = label_smoothing_classes(pair, y.shape[1])
    return smooth_labels(y, epsilon, n_classes, np.empty(y.shape))


@pytest.mark.parametrize("pair", LOG_LOSS_PAIRS, ids=pair_id)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_smoothed_loss_is_the_cross_entropy_against_the_smoothed_targets(
    pair, weighted
):
    rng = np.random.default_rng(8)
    y = _targets(pair, 3, rng)
    y_pred = _output(pair, np.clip(_z(3, rng), -5, 5))
    sample_weight = rng.uniform(0.5, 2.0, N_SAMPLES) if weighted else None
    w = np.ones(N_SAMPLES) if sample_weight is None else sample_weight
    y_smooth = _smoothed(pair, y, 0.1)
    # Written out: -sum_k y~ log p (+ (1 - y~) log(1 - p) for logistic units).
    terms = y_smooth * np.log(y_pred)
    if pair[0] == "logistic":
        terms += (1 - y_smooth) * np.log(1 - y_pred)
    expected = -np.sum(w[:, None] * terms) / w.sum()
    loss_function, _ = LOSSES[pair]
    assert loss_function(y_smooth, y_pred, sample_weight) == pytest.approx(
        expected, rel=1e-13
    )
    # Smoothing changes the loss (the test compares different numbers).
    assert loss_function(y, y_pred, sample_weight) != pytest.approx(expected)


@pytest.mark.parametrize("epsilon", [0.1, 0.5])
@pytest.mark.parametrize("pair", LOG_LOSS_PAIRS, ids=pair_id)
def test_delta_on_smoothed_targets_is_gradient_of_summed_loss(pair, epsilon):
    # The delta y_pred - y~ is the gradient of the loss of the smoothed
    # targets: for softmax because each smoothed row still sums to 1.
    rng = np.random.default_rng(9)
    y = _targets(pair, 3, rng)
    z = np.clip(_z(3, rng), -5, 5)
    y_smooth = _smoothed(pair, y, epsilon)
    _, delta_function = LOSSES[pair]
    delta = delta_function(y_smooth, _output(pair, z), out=np.empty_like(z))
    expected = _summed_loss_gradient(pair, y_smooth, z)
    np.testing.assert_allclose(delta, expected, rtol=1e-7, atol=1e-9)
    # ... and not that of the hard targets.
    assert not np.allclose(delta, _summed_loss_gradient(pair, y, z), atol=1e-3)
