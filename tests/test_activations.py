"""Unit tests of sknumpynet._activations: forward rules, backward rules, lookups.

Every activation works in place on ``z`` and every backward rule expresses
``f'(z)`` through the output ``a = f(z)`` (or, where it is marked so, mish's,
through ``z``); these tests check both against direct formulas and finite
differences, and check that the numerically delicate ones (the sigmoids,
softmax, SELU, mish) survive extreme inputs without warnings.
"""

import contextlib
import warnings

import numpy as np
import pytest
from _helpers import HIDDEN_ACTIVATION_NAMES
from scipy.special import expit

from sknumpynet import _activations as act
from sknumpynet._activations import (
    CANONICAL_NAMES,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    takes_pre_activation,
)

DTYPES = [np.float64, np.float32]


def _formula(name, z):
    """The textbook definition of each hidden activation, written from scratch."""
    z = z.astype(np.float64)
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "elu":
        return np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1)
    if name == "softplus":
        return np.log(1 + np.exp(z))
    if name == "selu":
        # The constants of the SELU paper, eq. 14, to the digits it gives.
        scale, alpha = 1.0507009873554804934, 1.6732632423543772848
        return scale * np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1))
    if name == "mish":
        return z * np.tanh(np.log(1 + np.exp(z)))
    assert name == "identity"
    return z


def _moderate_z(dtype, seed=0):
    # Moderate inputs, so that the naive formulas above are themselves exact
    # enough to serve as references; relu's kink is avoided (|z| >= 0.1).
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.1, 8.0, size=(7, 5)) * rng.choice([-1.0, 1.0], size=(7, 5))
    return z.astype(dtype)


@contextlib.contextmanager
def _warnings_as_errors():
    """Any RuntimeWarning (overflow, invalid value, division by zero) fails.

    Underflow to zero is the correct, silent result of a saturating function
    (NumPy ignores it by default), so it stays ignored.
    """
    with warnings.catch_warnings(), np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("error")
        yield


def _extreme_inputs(dtype):
    """Huge inputs of both signs, including infinities and the dtype's max.

    1e308 exists only in float64; in float32 it would round to inf, which is
    included anyway, as is float32's own largest number.
    """
    big = [1e4, 1e30, np.finfo(dtype).max, np.inf]
    if dtype == np.float64:
        big.append(1e308)
    big = np.array(big, dtype=dtype)
    return np.concatenate([big, -big])


# ---------------------------------------------------------------------------
# Hidden activations: forward rules
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIDDEN_ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_hidden_forward_matches_formula(name, dtype):
    forward, _ = HIDDEN_ACTIVATIONS[name]
    z = _moderate_z(dtype)
    expected = _formula(name, z)
    out = forward(z.copy())
    assert out.dtype == dtype
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    # atol: the tanh form of the logistic is accurate in absolute terms only.
    atol = 4 * np.finfo(dtype).eps
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATION_NAMES)
def test_hidden_forward_works_in_place(name):
    # The engine relies on the activation overwriting its layer's buffer.
    forward, _ = HIDDEN_ACTIVATIONS[name]
    z = _moderate_z(np.float64)
    buffer = z.copy()
    out = forward(buffer)
    assert np.shares_memory(out, buffer)
    np.testing.assert_array_equal(buffer, out)
    if name != "identity":
        assert not np.array_equal(buffer, z)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_extreme_inputs_are_finite_and_warning_free(dtype):
    # exp(-z) overflows for z < -709 in float64 (z < -88 in float32); the
    # hidden logistic must not, and must saturate at exactly 0 and 1.
    z = _extreme_inputs(dtype)
    with _warnings_as_errors():
        a = act.logistic(z.copy())
    assert a.dtype == dtype
    assert np.all(np.isfinite(a))
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_array_equal(a[z > 0], 1.0)
    np.testing.assert_array_equal(a[z < 0], 0.0)


def test_sigmoid_is_an_alias_of_logistic():
    assert HIDDEN_ACTIVATIONS["sigmoid"] == HIDDEN_ACTIVATIONS["logistic"]
    assert CANONICAL_NAMES["sigmoid"] == "logistic"
    z = _moderate_z(np.float64)
    np.testing.assert_array_equal(
        HIDDEN_ACTIVATIONS["sigmoid"][0](z.copy()), act.logistic(z.copy())
    )


def test_the_case_list_covers_every_activation_of_the_registry():
    # The finite-difference and formula tests run over _helpers' list: a new
    # activation in the registry must be in it.
    assert set(HIDDEN_ACTIVATION_NAMES) == set(CANONICAL_NAMES.values())


@pytest.mark.parametrize("name", HIDDEN_ACTIVATION_NAMES)
def test_canonical_names_are_identity_on_canonical_names(name):
    assert CANONICAL_NAMES[name] == name
    assert set(CANONICAL_NAMES) == set(HIDDEN_ACTIVATIONS)


# ---------------------------------------------------------------------------
# Hidden activations: backward rules
# ---------------------------------------------------------------------------


def _central_difference(forward, z, h):
    """Fourth-order central difference of an in-place forward rule at ``z``."""

    def f(x):
        return forward(x.copy())

    return (-f(z + 2 * h) + 8 * f(z + h) - 8 * f(z - h) + f(z - 2 * h)) / (12 * h)


def _backward_input(backward, z, a):
    """What the engine passes a backward rule: ``z`` where it is marked so."""
    return z if takes_pre_activation(backward) else a


@pytest.mark.parametrize("name", HIDDEN_ACTIVATION_NAMES)
def test_hidden_backward_matches_finite_difference(name):
    # backward(a, delta) must turn delta into delta * f'(z), computing f'
    # from the output a alone (from z for a rule marked so).
    forward, backward = HIDDEN_ACTIVATIONS[name]
    z = _moderate_z(np.float64)
    # Keep logistic/tanh where f' is not vanishingly small (relative check).
    z = np.clip(z, -4, 4)
    a = forward(z.copy())
    delta = np.random.default_rng(1).normal(size=z.shape)
    expected = delta * _central_difference(forward, z, 1e-3)
    stored = _backward_input(backward, z, a)
    stored_before = stored.copy()
    got = backward(stored, delta.copy())
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    # The stored activation (or z) is read, never written.
    np.testing.assert_array_equal(stored, stored_before)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATION_NAMES)
def test_hidden_backward_works_in_place(name):
    forward, backward = HIDDEN_ACTIVATIONS[name]
    z = _moderate_z(np.float64)
    a = forward(z.copy())
    delta = np.ones_like(z)
    out = backward(_backward_input(backward, z, a), delta)
    assert np.shares_memory(out, delta)


def test_only_mish_reads_the_pre_activation():
    marked = {
        name
        for name, (_, backward) in HIDDEN_ACTIVATIONS.items()
        if takes_pre_activation(backward)
    }
    assert marked == {"mish"}


@pytest.mark.parametrize("name", ["selu", "mish"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_selu_and_mish_extreme_inputs_are_warning_free(name, dtype):
    # Huge inputs of both signs, infinities included: no warning, no NaN;
    # the limits are mish(-inf) = 0, f'(-inf) = 0 for both, f(+inf) = inf.
    forward, backward = HIDDEN_ACTIVATIONS[name]
    z = np.concatenate([_extreme_inputs(dtype), np.array([0.0, -0.0], dtype)])
    with _warnings_as_errors():
        a = forward(z.copy())
        slope = backward(_backward_input(backward, z, a), np.ones_like(a))
    assert a.dtype == dtype and slope.dtype == dtype
    assert not np.isnan(a).any() and not np.isnan(slope).any()
    negative = z < -100
    if name == "mish":
        np.testing.assert_array_equal(a[negative], 0.0)
        np.testing.assert_array_equal(slope[z > 100], 1.0)
    else:
        np.testing.assert_allclose(a[negative], -act.SELU_SCALE * act.SELU_ALPHA)
        np.testing.assert_allclose(slope[z > 0], act.SELU_SCALE)
    np.testing.assert_array_equal(slope[negative], 0.0)
    assert a[z == np.inf] == np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_selu_and_mish_at_zero(dtype):
    # f(0) = 0; SELU's slope jumps from lambda alpha (z <= 0) to lambda;
    # mish'(0) = tanh(log 2) = 0.6.
    z = np.zeros(2, dtype)
    a = act.selu(z.copy())
    np.testing.assert_array_equal(a, 0.0)
    slope = act.selu_backward(a, np.ones_like(a))
    np.testing.assert_allclose(slope, act.SELU_SCALE * act.SELU_ALPHA, rtol=1e-7)
    np.testing.assert_array_equal(act.mish(z.copy()), 0.0)
    np.testing.assert_allclose(act.mish_backward(z, np.ones_like(z)), 0.6, rtol=1e-7)


def test_mish_keeps_its_relative_precision_in_the_negative_tail():
    # For z << 0, mish(z) ~ z e^z and mish'(z) ~ (1 + z) e^z, tiny numbers
    # whose digits must survive. The reference is the closed form with
    # w = e^z: tanh(softplus(z)) = w (w + 2) / (w^2 + 2 w + 2), sigma = w / (1 + w),
    # free of cancellation for z < -1.
    z = np.array([-20.0, -30.0, -60.0, -200.0])
    w = np.exp(z)
    gate = w * (w + 2) / (w**2 + 2 * w + 2)
    np.testing.assert_allclose(act.mish(z.copy()), z * gate, rtol=1e-13)
    slope = gate + z * (1 - gate**2) * w / (1 + w)
    np.testing.assert_allclose(act.mish_backward(z, np.ones_like(z)), slope, rtol=1e-13)


# ---------------------------------------------------------------------------
# Subnormal numbers: the exp-based rules flush them to 0 (slow arithmetic on
# some CPUs), changing nothing else.
# ---------------------------------------------------------------------------


def _subnormals(a):
    """The entries of ``a`` that are subnormal in its dtype."""
    return a[(np.abs(a) < np.finfo(a.dtype).tiny) & (a != 0)]


def _no_underflow():
    """Every floating-point exception raises, underflow included: a result
    that is subnormal (or rounds to 0 from below tiny) anywhere on the way,
    intermediates too, fails the test."""
    return np.errstate(all="raise")


def _tail_inputs(dtype):
    """A dense sweep of the negative tail around where exp(z) leaves the
    normal range, plus ordinary and extreme inputs."""
    low = -np.log(np.finfo(dtype).smallest_subnormal) + 5
    return np.concatenate(
        [np.linspace(-low, 40.0, 200_001), _moderate_z(dtype).ravel()]
    ).astype(dtype)


# Where exp(z) stays above 2 tiny, and the output there: exp(z) < 2 tiny
# for softplus, |z| exp(z) for mish (|z| at most 86.7 or 707.8).
_FLUSH_BOUND = {
    (np.float32, "softplus"): 2.4e-38,
    (np.float32, "mish"): 2.1e-36,
    (np.float64, "softplus"): 4.5e-308,
    (np.float64, "mish"): 3.2e-305,
}


def _reference(name, z):
    """softplus or mish in float64 (logaddexp is accurate in the tail)."""
    z = z.astype(np.float64)
    gate = np.logaddexp(0.0, z)
    return gate if name == "softplus" else z * np.tanh(gate)


@pytest.mark.parametrize("name", ["softplus", "mish"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_and_mish_make_no_subnormal_numbers(name, dtype):
    forward, backward = HIDDEN_ACTIVATIONS[name]
    z = _tail_inputs(dtype)
    with _no_underflow():
        a = forward(z.copy())
        slope = backward(_backward_input(backward, z, a), np.ones_like(a))
    assert _subnormals(a).size == 0
    assert _subnormals(slope).size == 0
    # Flushed exactly where exp(z) would fall below 2 tiny, by less than the
    # bound; the rest keeps its relative precision (float32's reference is
    # the float64 result).
    floor = np.log(2 * np.finfo(dtype).tiny)
    flushed = z < floor * (1 + 1e-6)
    kept = z > floor * (1 - 1e-6)
    reference = _reference(name, z)
    np.testing.assert_array_equal(a[z < floor * 1.01], 0.0)
    np.testing.assert_array_equal(slope[z < floor * 1.01], 0.0)
    assert np.all(np.abs(reference[flushed]) < _FLUSH_BOUND[(dtype, name)])
    assert np.all(a[kept] != 0)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(a[kept], reference[kept], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mish_backward_keeps_its_digits_where_t_squared_is_tiny(dtype):
    # Where t = tanh(softplus(z)) ~ e^z has a subnormal square (z from about
    # -52 to -44 in float32, -372 to -354 in float64), 1 - t^2 is exactly 1:
    # t * t must not be formed (no underflow), and the slope keeps its digits
    # (closed form of test_mish_keeps_its_relative_precision_in_the_negative_tail).
    info = np.finfo(dtype)
    low, high = np.log(info.smallest_subnormal) / 2, np.log(info.tiny) / 2
    z = np.linspace(low - 5, high + 5, 4001).astype(dtype)
    w = np.exp(z.astype(np.float64))
    gate = w * (w + 2) / (w**2 + 2 * w + 2)
    expected = gate + z * (1 - gate**2) * w / (1 + w)
    with _no_underflow():
        got = act.mish_backward(z, np.ones_like(z))
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)
    assert _subnormals(got).size == 0


def test_selu_keeps_standardised_inputs_standardised():
    # The property the SELU constants are chosen for: N(0, 1) in, zero mean
    # and unit variance out.
    z = np.random.default_rng(3).standard_normal(2_000_000)
    a = act.selu(z)
    assert abs(a.mean()) < 3e-3
    assert a.var() == pytest.approx(1.0, abs=3e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_zeroes_exactly_the_inactive_units(dtype):
    z = np.array([[-2.0, -0.0, 0.0, 1e-30, 3.0]], dtype=dtype)
    a = act.relu(z.copy())
    delta = np.full_like(z, 7.0)
    out = act.relu_backward(a, delta)
    np.testing.assert_array_equal(out, np.where(z > 0, 7.0, 0.0).astype(dtype))
    assert out.dtype == dtype


@pytest.mark.parametrize("name", ["logistic", "tanh"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_backward_is_zero_not_nan(name, dtype):
    # At saturation a is exactly 0 or +-1, so f'(a) is exactly 0: no NaN.
    forward, backward = HIDDEN_ACTIVATIONS[name]
    z = _extreme_inputs(dtype)
    with _warnings_as_errors():
        a = forward(z.copy())
        out = backward(a, np.ones_like(a))
    np.testing.assert_array_equal(out, 0.0)


# ---------------------------------------------------------------------------
# Output activations
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_formula_and_rows_sum_to_one(dtype):
    z = _moderate_z(dtype)
    expected = np.exp(z.astype(np.float64))
    expected /= expected.sum(axis=1, keepdims=True)
    buffer = z.copy()
    out = act.softmax(buffer)
    assert np.shares_memory(out, buffer)
    assert out.dtype == dtype
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, expected, rtol=rtol)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)


def test_softmax_is_invariant_to_a_shift_of_each_row():
    z = _moderate_z(np.float64)
    shift = np.array([-500.0, -3.0, 0.0, 2.0, 40.0, 300.0, 700.0])[:, np.newaxis]
    np.testing.assert_allclose(
        act.softmax(z + shift), act.softmax(z.copy()), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_huge_logits_stay_finite_without_warnings(dtype):
    # exp(1e4) overflows; the row-max shift must prevent it.
    big = np.finfo(dtype).max
    z = np.array(
        [
            [1e4, -1e4, 0.0],
            [1e4, 1e4, 1e4 - 1.0],
            [big, big / 2, 0.0],
            [-big, -big / 2, -1e4],
        ],
        dtype=dtype,
    )
    with _warnings_as_errors():
        out = act.softmax(z.copy())
    assert np.all(np.isfinite(out))
    assert np.all((out >= 0) & (out <= 1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    # The largest logit of each row takes (at least) the largest probability.
    np.testing.assert_array_equal(out.argmax(axis=1), z.argmax(axis=1))
    # Two equal maxima share the mass equally.
    assert out[1, 0] == out[1, 1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_opposite_extreme_logits_stay_finite(dtype):
    # max - (-max) overflows to -inf in the shift; exp(-inf) = 0 is still the
    # right probability, so the output must stay finite and normalised.
    big = np.finfo(dtype).max
    z = np.array([[big, -big, 0.0], [-big, big, big]], dtype=dtype)
    with np.errstate(over="ignore"):
        out = act.softmax(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(out[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(out[1], [0.0, 0.5, 0.5])


@pytest.mark.parametrize("n_classes", [2, 3, 10, 1000])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_makes_no_subnormal_probabilities(dtype, n_classes):
    # Logits spread over the whole range where exp(z - max) leaves the normal
    # numbers: the probabilities that would be subnormal are exactly 0, and
    # every other one is unchanged (compared with the unflushed formula).
    rng = np.random.default_rng(n_classes)
    spread = -np.log(np.finfo(dtype).smallest_subnormal) + 20
    z = rng.uniform(-spread, 0.0, size=(500, n_classes))
    z[:, 0] = 0.0
    z += rng.normal(scale=100.0, size=(500, 1))
    z = z.astype(dtype)
    with np.errstate(under="ignore"):
        shifted = z - z.max(axis=1, keepdims=True)
        formula = np.exp(shifted)
        formula /= formula.sum(axis=1, keepdims=True)
    with _no_underflow():
        out = act.softmax(z.copy())
    assert _subnormals(out).size == 0
    kept = out != 0
    np.testing.assert_array_equal(out[kept], formula[kept])
    # Flushed: what would have been below 2 K tiny, nothing larger.
    tiny = np.finfo(dtype).tiny
    assert np.all(formula[~kept] < 2 * n_classes * tiny)
    assert np.all(out[formula >= 2 * n_classes * tiny] != 0)
    assert np.count_nonzero(_subnormals(formula)) > 0  # the case is exercised


def _accurate_sigmoid(z):
    """sigma(z) in float64 with full relative precision in both tails.

    scipy's expit is accurate except that it flushes to 0 below z ~ -709.8
    (it forms exp(-z)); there sigma(z) = e^z / (1 + e^z) equals e^z to far
    below one ulp, and np.exp reaches the subnormal range correctly.
    """
    z = np.asarray(z, dtype=np.float64)
    return np.where(z < -40, np.exp(z), expit(z))


def _ulp_distance(got, reference):
    reference = reference.astype(got.dtype)
    return np.abs(got.astype(np.float64) - reference) / np.spacing(reference)


@pytest.mark.parametrize(
    "dtype, low, high",
    # The whole range where sigma(z) is a non-zero number below 1.
    [(np.float64, -745.0, 37.0), (np.float32, -103.0, 17.0)],
)
def test_logistic_output_is_accurate_to_a_few_ulps_in_both_tails(dtype, low, high):
    # The log-loss takes log(sigma(z)): tiny probabilities must keep their
    # relative precision, down to the subnormal range.
    z = np.concatenate([np.linspace(low, high, 5001), -np.logspace(-8, 1, 200)])
    z = z.astype(dtype)
    with _warnings_as_errors():
        out = act.logistic_output(z.copy())
    assert out.dtype == dtype
    reference = _accurate_sigmoid(z)
    assert _ulp_distance(out, reference).max() <= 4
    # The upper tail, seen through 1 - sigma(z) = sigma(-z), is as accurate.
    upper = np.linspace(0.0, 30.0, 1001).astype(dtype)
    np.testing.assert_allclose(
        act.logistic_output(upper.copy()),
        _accurate_sigmoid(upper),
        rtol=4 * np.finfo(dtype).eps,
        atol=0,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_output_extreme_inputs(dtype):
    z = _extreme_inputs(dtype)
    buffer = z.copy()
    with _warnings_as_errors():
        out = act.logistic_output(buffer)
    assert np.shares_memory(out, buffer)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[z > 0], 1.0)
    np.testing.assert_array_equal(out[z < 0], 0.0)


def test_logistic_output_agrees_with_hidden_logistic_in_the_bulk():
    # Two implementations of the same function: equal to a few eps where
    # neither tail matters.
    z = np.linspace(-15, 15, 2001)
    np.testing.assert_allclose(
        act.logistic_output(z.copy()), act.logistic(z.copy()), rtol=0, atol=4e-16
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_matches_numpy_in_place(dtype):
    z = _moderate_z(dtype)
    buffer = z.copy()
    out = act.exp(buffer)
    assert np.shares_memory(out, buffer)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, np.exp(z))


def test_identity_returns_its_input_untouched():
    z = _moderate_z(np.float64)
    assert act.identity(z) is z
    delta = np.ones_like(z)
    assert act.identity_backward(z, delta) is delta
    np.testing.assert_array_equal(delta, 1.0)


def test_output_activation_lookup():
    # One source of truth: the names scikit-learn's out_activation_ uses.
    assert set(OUTPUT_ACTIVATIONS) == {"identity", "logistic", "softmax", "exp"}
    assert OUTPUT_ACTIVATIONS["logistic"] is act.logistic_output
    assert OUTPUT_ACTIVATIONS["softmax"] is act.softmax
    assert OUTPUT_ACTIVATIONS["exp"] is act.exp
    assert OUTPUT_ACTIVATIONS["identity"] is act.identity
