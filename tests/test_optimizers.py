"""Unit tests of sknumpynet._optimizers: one and two steps by hand.

Each update is recomputed in the test from the textbook formulas, and also
by scikit-learn's own ``SGDOptimizer`` / ``AdamOptimizer`` on the same
gradients; the package promises the same floating-point operations as
scikit-learn, so those must agree to the last bit.
"""

import math

import numpy as np
import pytest
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from sknumpynet._optimizers import (
    SGD,
    STEP_SCHEDULES,
    Adam,
    coslog_schedule,
    flat_cos_schedule,
    make_optimizer,
    required_state_names,
)

N_PARAMS = 11

SGD_VARIANTS = {
    "plain": dict(momentum=0.0, nesterov=False),
    "momentum": dict(momentum=0.9, nesterov=False),
    "nesterov": dict(momentum=0.9, nesterov=True),
    "nesterov-0.5": dict(momentum=0.5, nesterov=True),
}


def _params_and_grads(n_steps, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = rng.normal(size=N_PARAMS).astype(dtype)
    grads = [rng.normal(scale=2.0, size=N_PARAMS).astype(dtype) for _ in range(n_steps)]
    return params, grads


def _sklearn_steps(optimizer, params, grads):
    """Run scikit-learn's optimizer on a list holding the one flat buffer."""
    params = params.copy()
    for grad in grads:
        optimizer.update_params([params], [grad])
    return params


# ---------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------


def _sgd_by_hand(params, grads, learning_rate, momentum, nesterov):
    r"""v <- mu v - eta g; theta <- theta + (mu v - eta g if Nesterov else v)."""
    params = params.copy()
    velocity = np.zeros_like(params)
    for grad in grads:
        velocity = momentum * velocity - learning_rate * grad
        if nesterov:
            params += momentum * velocity - learning_rate * grad
        else:
            params += velocity
    return params, velocity


@pytest.mark.parametrize("n_steps", [1, 2, 3])
@pytest.mark.parametrize("variant", list(SGD_VARIANTS))
def test_sgd_steps_match_formula_and_scikit_learn(variant, n_steps):
    settings = SGD_VARIANTS[variant]
    params, grads = _params_and_grads(n_steps)
    learning_rate = 0.05
    optimizer = SGD(N_PARAMS, np.float64, learning_rate, **settings)
    ours = params.copy()
    for grad in grads:
        optimizer.step(ours, grad)

    by_hand, velocity = _sgd_by_hand(params, grads, learning_rate, **settings)
    np.testing.assert_allclose(ours, by_hand, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(optimizer.velocity, velocity, rtol=1e-15, atol=1e-15)

    sk_optimizer = SGDOptimizer([params.copy()], learning_rate, **settings)
    np.testing.assert_array_equal(ours, _sklearn_steps(sk_optimizer, params, grads))
    # The parameters actually moved.
    assert not np.allclose(ours, params)


def test_plain_sgd_first_step_is_minus_learning_rate_times_gradient():
    params, (grad,) = _params_and_grads(1)
    expected = params - 0.1 * grad
    for nesterov in (False, True):
        got = params.copy()
        SGD(N_PARAMS, np.float64, 0.1, momentum=0.0, nesterov=nesterov).step(got, grad)
        np.testing.assert_array_equal(got, expected)


def test_sgd_step_does_not_modify_the_gradient():
    params, (grad,) = _params_and_grads(1)
    grad_before = grad.copy()
    SGD(N_PARAMS, np.float64, 0.1).step(params, grad)
    np.testing.assert_array_equal(grad, grad_before)


def test_nesterov_and_classical_momentum_differ_from_the_second_step():
    # Both take mu*0 - eta*g first; Nesterov looks ahead one velocity after.
    params, grads = _params_and_grads(2)
    results = {}
    for nesterov in (False, True):
        p = params.copy()
        optimizer = SGD(N_PARAMS, np.float64, 0.1, momentum=0.9, nesterov=nesterov)
        optimizer.step(p, grads[0])
        results[nesterov, 1] = p.copy()
        optimizer.step(p, grads[1])
        results[nesterov, 2] = p.copy()
    assert not np.allclose(results[False, 1], results[True, 1])  # 1.9 vs 1 x eta g
    assert not np.allclose(results[False, 2], results[True, 2])


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------


def _adam_by_hand(
    params,
    grads,
    learning_rate_init,
    beta_1,
    beta_2,
    epsilon,
    multipliers=1.0,
    schedule=lambda t: 1.0,
):
    """Kingma & Ba, with the bias corrections folded into the step size;
    ``schedule(t)`` multiplies the rate of step t (from 1), ``multipliers``
    each parameter's step."""
    params = params.copy()
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    for t, grad in enumerate(grads, start=1):
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        learning_rate = (
            learning_rate_init
            * schedule(t)
            * math.sqrt(1 - beta_2**t)
            / (1 - beta_1**t)
        )
        params += -learning_rate * multipliers * m / (np.sqrt(v) + epsilon)
    return params, m, v, learning_rate


@pytest.mark.parametrize("n_steps", [1, 2, 5])
@pytest.mark.parametrize(
    "hyper",
    [
        dict(learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        dict(learning_rate_init=0.1, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    ],
    ids=["defaults", "custom"],
)
def test_adam_steps_match_formula_and_scikit_learn(hyper, n_steps):
    params, grads = _params_and_grads(n_steps, seed=1)
    optimizer = Adam(N_PARAMS, np.float64, **hyper)
    ours = params.copy()
    for grad in grads:
        optimizer.step(ours, grad)

    by_hand, m, v, learning_rate = _adam_by_hand(params, grads, **hyper)
    np.testing.assert_allclose(ours, by_hand, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(optimizer.first_moment, m, rtol=1e-15)
    np.testing.assert_allclose(optimizer.second_moment, v, rtol=1e-15)
    assert optimizer.t == n_steps
    assert optimizer.learning_rate == pytest.approx(learning_rate, rel=1e-15)

    sk_optimizer = AdamOptimizer([params.copy()], **hyper)
    np.testing.assert_array_equal(ours, _sklearn_steps(sk_optimizer, params, grads))
    assert optimizer.learning_rate == sk_optimizer.learning_rate
    assert not np.allclose(ours, params)


def test_adam_first_step_moves_each_parameter_by_about_the_learning_rate():
    # After one step the bias-corrected m / sqrt(v) is sign(g), so every
    # parameter moves by ~eta against its gradient, whatever the gradient's
    # scale: Adam's defining property. Exactly, with m = (1 - b1) g and
    # v = (1 - b2) g^2, the move is -eta g / (|g| + eps / sqrt(1 - b2)).
    params, (grad,) = _params_and_grads(1, seed=2)
    for scale in (1e-3, 1.0, 1e3):
        got = params.copy()
        Adam(N_PARAMS, np.float64, learning_rate_init=0.01).step(got, scale * grad)
        g = scale * grad
        expected = -0.01 * g / (np.abs(g) + 1e-8 / math.sqrt(1 - 0.999))
        np.testing.assert_allclose(got - params, expected, rtol=1e-12)
        np.testing.assert_allclose(got - params, -0.01 * np.sign(g), rtol=1e-2)


# ---------------------------------------------------------------------------
# Schedules and stopping
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_schedule(power_t):
    optimizer = SGD(N_PARAMS, np.float64, 0.2, "invscaling", power_t=power_t)
    sk_optimizer = SGDOptimizer(
        [np.zeros(N_PARAMS)], 0.2, "invscaling", power_t=power_t
    )
    for time_step in (10, 250, 4000):
        optimizer.iteration_ends(time_step)
        sk_optimizer.iteration_ends(time_step)
        assert optimizer.learning_rate == pytest.approx(
            0.2 / (time_step + 1) ** power_t, rel=1e-15
        )
        assert optimizer.learning_rate == sk_optimizer.learning_rate
    # And the step uses the decayed rate.
    params, (grad,) = _params_and_grads(1)
    got = params.copy()
    plain = SGD(N_PARAMS, np.float64, 0.2, "invscaling", momentum=0.0, nesterov=False)
    plain.iteration_ends(99)
    plain.step(got, grad)
    np.testing.assert_allclose(got, params - 0.2 / 100**0.5 * grad, rtol=1e-15)


@pytest.mark.parametrize("schedule", ["constant", "adaptive"])
def test_constant_and_adaptive_ignore_iteration_ends(schedule):
    optimizer = SGD(N_PARAMS, np.float64, 0.2, schedule)
    optimizer.iteration_ends(1000)
    assert optimizer.learning_rate == 0.2


def test_adaptive_schedule_divides_by_five_then_stops(capsys):
    optimizer = SGD(N_PARAMS, np.float64, 0.1, "adaptive")
    sk_optimizer = SGDOptimizer([np.zeros(N_PARAMS)], 0.1, "adaptive")
    n_reductions = 0
    while not optimizer.trigger_stopping("stalled.", verbose=False):
        n_reductions += 1
        assert optimizer.learning_rate == pytest.approx(0.1 / 5**n_reductions)
        assert not sk_optimizer.trigger_stopping("stalled.", verbose=False)
        assert optimizer.learning_rate == sk_optimizer.learning_rate
        assert n_reductions < 100
    assert sk_optimizer.trigger_stopping("stalled.", verbose=False)
    # It stops once the rate is at or below 1e-6, and not before.
    assert optimizer.learning_rate <= 1e-6 < optimizer.learning_rate * 5
    assert n_reductions == math.ceil(math.log(0.1 / 1e-6, 5))
    assert capsys.readouterr().out == ""


def test_adaptive_verbose_messages(capsys):
    optimizer = SGD(N_PARAMS, np.float64, 0.1, "adaptive")
    assert not optimizer.trigger_stopping("No progress.", verbose=True)
    assert "No progress. Setting learning rate to 0.020000" in capsys.readouterr().out
    optimizer.learning_rate = 1e-6
    assert optimizer.trigger_stopping("No progress.", verbose=True)
    assert "Learning rate too small. Stopping." in capsys.readouterr().out


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(N_PARAMS, np.float64, 0.1, "constant"),
        lambda: SGD(N_PARAMS, np.float64, 0.1, "invscaling"),
        lambda: Adam(N_PARAMS, np.float64, 0.1),
    ],
    ids=["sgd-constant", "sgd-invscaling", "adam"],
)
def test_non_adaptive_optimizers_stop_at_once(make, capsys):
    optimizer = make()
    assert optimizer.trigger_stopping("Stalled.", verbose=True)
    assert optimizer.learning_rate == 0.1
    assert capsys.readouterr().out.strip() == "Stalled. Stopping."


def test_adam_iteration_ends_is_a_no_op():
    params, grads = _params_and_grads(2)
    a, b = params.copy(), params.copy()
    first, second = Adam(N_PARAMS, np.float64), Adam(N_PARAMS, np.float64)
    first.step(a, grads[0])
    second.step(b, grads[0])
    second.iteration_ends(500)
    first.step(a, grads[1])
    second.step(b, grads[1])
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# State: get_state and resuming
# ---------------------------------------------------------------------------


def _make(kind, dtype=np.float64, state=None):
    if kind == "adam":
        return Adam(N_PARAMS, dtype, 0.01, state=state)
    return SGD(
        N_PARAMS,
        dtype,
        0.05,
        "invscaling",
        momentum=0.0 if kind == "plain" else 0.8,
        nesterov=kind == "nesterov",
        state=state,
    )


@pytest.mark.parametrize("kind", ["plain", "momentum", "nesterov", "adam"])
def test_resuming_from_state_gives_identical_steps(kind):
    params, grads = _params_and_grads(6, seed=3)
    uninterrupted = params.copy()
    optimizer = _make(kind)
    for grad in grads:
        optimizer.step(uninterrupted, grad)
        optimizer.iteration_ends(100)

    interrupted = params.copy()
    first = _make(kind)
    for grad in grads[:3]:
        first.step(interrupted, grad)
        first.iteration_ends(100)
    state = first.get_state()
    del first
    resumed = _make(kind, state=state)
    for grad in grads[3:]:
        resumed.step(interrupted, grad)
        resumed.iteration_ends(100)

    np.testing.assert_array_equal(interrupted, uninterrupted)
    for name, value in optimizer.get_state().items():
        np.testing.assert_array_equal(resumed.get_state()[name], value)


@pytest.mark.parametrize("kind", ["momentum", "adam"])
def test_state_is_plain_arrays_and_numbers(kind):
    params, (grad,) = _params_and_grads(1)
    optimizer = _make(kind)
    optimizer.step(params, grad)
    state = optimizer.get_state()
    expected = (
        {"first_moment", "second_moment", "t", "learning_rate", "base_learning_rate"}
        if kind == "adam"
        else {"velocity", "learning_rate"}
    )
    # The state names its solver, so that a state is never resumed by the
    # other optimizer.
    assert state.pop("solver") == ("adam" if kind == "adam" else "sgd")
    assert set(state) == expected
    for value in state.values():
        assert isinstance(value, (np.ndarray, int, float))
    # Resuming copies the arrays: the new optimizer never writes into the
    # state it was given.
    saved = {name: np.copy(value) for name, value in state.items()}
    resumed = _make(kind, state=state)
    resumed.step(params, grad)
    for name, value in saved.items():
        np.testing.assert_array_equal(state[name], value)


@pytest.mark.parametrize("kind", ["plain", "nesterov", "adam"])
def test_resumed_state_is_cast_to_the_requested_dtype(kind):
    optimizer = _make(kind, np.float64)
    params, (grad,) = _params_and_grads(1)
    optimizer.step(params, grad)
    resumed = _make(kind, np.float32, state=optimizer.get_state())
    for value in resumed.get_state().values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


# ---------------------------------------------------------------------------
# dtype
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["plain", "momentum", "nesterov", "adam"])
def test_float32_buffers_stay_float32(kind):
    params, grads = _params_and_grads(3, dtype=np.float32)
    buffer = params
    optimizer = _make(kind, np.float32)
    for grad in grads:
        optimizer.step(params, grad)
        optimizer.iteration_ends(50)
    assert params is buffer
    assert params.dtype == np.float32
    arrays = [v for v in vars(optimizer).values() if isinstance(v, np.ndarray)]
    assert arrays
    for array in arrays:
        assert array.dtype == np.float32
    # Close to the same steps in float64.
    params64, grads64 = _params_and_grads(3, dtype=np.float64)
    optimizer64 = _make(kind, np.float64)
    for grad in grads64:
        optimizer64.step(params64, grad)
        optimizer64.iteration_ends(50)
    np.testing.assert_allclose(params, params64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_adam_follows_the_learning_rate_schedules(schedule):
    """Adam's step size follows the same schedules as SGD's (not in
    scikit-learn, whose Adam ignores learning_rate)."""
    params, (grad,) = _params_and_grads(1)
    adam = Adam(params.size, params.dtype, 0.1, lr_schedule=schedule, power_t=0.5)
    sgd = SGD(params.size, params.dtype, 0.1, schedule, power_t=0.5)
    for optimizer in (adam, sgd):
        optimizer.iteration_ends(99)
        optimizer.trigger_stopping("stalled.", verbose=False)
    expected = 0.1 / 100**0.5 if schedule == "invscaling" else 0.1 / 5
    assert adam.base_learning_rate == pytest.approx(expected)
    assert sgd.learning_rate == pytest.approx(expected)
    # The bias-corrected step of the next update starts from the scheduled rate.
    adam.step(params.copy(), grad)
    corrected = expected * np.sqrt(1 - adam.beta_2) / (1 - adam.beta_1)
    assert adam.learning_rate == pytest.approx(corrected)


def test_adam_constant_schedule_stops_instead_of_dividing():
    adam = Adam(3, np.float64, 0.1)
    assert adam.trigger_stopping("stalled.", verbose=False) is True
    assert adam.base_learning_rate == 0.1


# ---------------------------------------------------------------------------
# Per-parameter learning-rate multipliers and the per-step schedule
# ---------------------------------------------------------------------------

# Three groups over the flat buffer, as MLP.lr_multipliers builds them.
MULTIPLIERS = np.array([1.0] * 6 + [0.1] * 3 + [6.0] * 2)
RECIPE_ADAM = dict(learning_rate_init=0.04, beta_1=0.9, beta_2=0.95, epsilon=1e-8)


def _with_multipliers(kind, dtype, multipliers, **hyperparameters):
    """make_optimizer's optimizer with a learning rate of 0.01."""
    return make_optimizer(
        kind,
        N_PARAMS,
        dtype,
        learning_rate_init=0.01,
        lr_multipliers=multipliers,
        **hyperparameters,
    )


def _coslog4_written_out(t):
    """pytabkit's CoslogFunc(4): 0.5 (1 - cos(2 pi log2(1 + 15 t)))."""
    return 0.5 * (1 - math.cos(2 * math.pi * math.log2(1 + 15 * t)))


def test_adam_one_step_with_group_multipliers_by_hand():
    # One step from zero moments: m = (1 - b1) g, v = (1 - b2) g^2, and the
    # step of parameter j is -eta sqrt(1 - b2) / (1 - b1) * m_j /
    # (sqrt(v_j) + eps) * r_j, written out here without the helper.
    params, (grad,) = _params_and_grads(1, seed=4)
    optimizer = Adam(N_PARAMS, np.float64, **RECIPE_ADAM, lr_multipliers=MULTIPLIERS)
    ours = params.copy()
    optimizer.step(ours, grad)
    m, v = 0.1 * grad, 0.05 * grad**2
    step_size = 0.04 * math.sqrt(1 - 0.95) / (1 - 0.9)
    expected = params - step_size * MULTIPLIERS * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(ours, expected, rtol=1e-15, atol=1e-15)
    # Adam's first step is ~eta * sign(g): here eta times each group's factor.
    np.testing.assert_allclose(np.abs(ours - params), 0.04 * MULTIPLIERS, rtol=1e-6)
    assert optimizer.learning_rate == pytest.approx(step_size, rel=1e-15)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_group_multipliers_over_several_steps(kind):
    params, grads = _params_and_grads(4, seed=5)
    ours = params.copy()
    if kind == "adam":
        optimizer = Adam(
            N_PARAMS, np.float64, **RECIPE_ADAM, lr_multipliers=MULTIPLIERS
        )
        by_hand = _adam_by_hand(params, grads, **RECIPE_ADAM, multipliers=MULTIPLIERS)[
            0
        ]
    else:
        optimizer = SGD(
            N_PARAMS, np.float64, 0.05, momentum=0.9, lr_multipliers=MULTIPLIERS
        )
        # Each parameter runs plain Nesterov SGD with its own rate 0.05 r_j.
        by_hand = _sgd_by_hand(params, grads, 0.05 * MULTIPLIERS, 0.9, True)[0]
    for grad in grads:
        optimizer.step(ours, grad)
    np.testing.assert_allclose(ours, by_hand, rtol=1e-14, atol=1e-15)
    # The multipliers are no state: the state is the one without them.
    assert set(optimizer.get_state()) - {"solver"} == set(optimizer.state_names)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_unit_multipliers_change_nothing(kind):
    params, grads = _params_and_grads(3, seed=6)
    results = []
    for multipliers in (None, np.ones(N_PARAMS)):
        p = params.copy()
        optimizer = _with_multipliers(kind, np.float64, multipliers)
        for grad in grads:
            optimizer.step(p, grad)
        results.append(p)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_multipliers_of_the_wrong_shape_are_refused(kind):
    with pytest.raises(ValueError, match=r"lr_multipliers has shape \(3,\)"):
        make_optimizer(
            kind,
            N_PARAMS,
            np.float64,
            learning_rate_init=0.1,
            lr_multipliers=np.ones(3),
        )


@pytest.mark.parametrize(
    "t",
    [0.0, 1 / 15, (2**0.5 - 1) / 15, 0.1, 3 / 15, 0.25, 0.5, 7 / 15, 0.8, 1.0],
)
def test_coslog4_schedule_against_pytabkits_formula(t):
    assert coslog_schedule(t) == pytest.approx(_coslog4_written_out(t), abs=1e-15)
    assert STEP_SCHEDULES["coslog4"](t) == coslog_schedule(t, n_cycles=4)


def test_coslog4_schedule_shape():
    # Zero at the start and at the end of each of the four cycles (t = 1/15,
    # 3/15, 7/15, 1), one at their middles (log2(1 + 15 t) = k + 1/2).
    for t in (0.0, 1 / 15, 3 / 15, 7 / 15, 1.0):
        assert coslog_schedule(t) == pytest.approx(0.0, abs=1e-15)
    for k in range(4):
        peak = (2 ** (k + 0.5) - 1) / 15
        assert coslog_schedule(peak) == pytest.approx(1.0, abs=1e-15)
    t = np.linspace(0, 1, 101)
    values = coslog_schedule(t)
    assert isinstance(values, np.ndarray) and values.shape == (101,)
    # atol: where the schedule is 0 (cos of a multiple of 2 pi), libm's cos
    # leaves ~1e-15 or ~1e-18 depending on the platform.
    np.testing.assert_allclose(
        values, [_coslog4_written_out(x) for x in t], rtol=1e-7, atol=1e-15
    )
    assert values.min() >= 0.0 and values.max() <= 1.0


def test_adam_coslog4_schedule_steps_by_hand():
    # Step t of T uses the schedule at the progress before it, (t - 1) / T:
    # the first step has rate 0 (only the moments move), as in pytabkit,
    # whose schedule is read at the start of each batch.
    total_steps = 6
    params, grads = _params_and_grads(total_steps, seed=7)
    optimizer = Adam(
        N_PARAMS,
        np.float64,
        **RECIPE_ADAM,
        lr_schedule="coslog4",
        total_steps=total_steps,
        lr_multipliers=MULTIPLIERS,
    )
    ours = params.copy()
    optimizer.step(ours, grads[0])
    np.testing.assert_array_equal(ours, params)
    assert optimizer.learning_rate == 0.0
    assert np.all(optimizer.first_moment != 0)
    for grad in grads[1:]:
        optimizer.step(ours, grad)

    def schedule(t):
        return _coslog4_written_out((t - 1) / total_steps)

    by_hand, m, v, learning_rate = _adam_by_hand(
        params, grads, **RECIPE_ADAM, multipliers=MULTIPLIERS, schedule=schedule
    )
    np.testing.assert_allclose(ours, by_hand, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(optimizer.first_moment, m, rtol=1e-15)
    assert optimizer.learning_rate == pytest.approx(learning_rate, rel=1e-14)
    # The schedule scales the step; the base rate stays what it was.
    assert optimizer.base_learning_rate == 0.04
    assert not np.allclose(ours, params)


def test_adam_schedule_resumes_from_the_state():
    # The progress is the step count t, which the state keeps: a resumed
    # optimizer continues the schedule where it was.
    params, grads = _params_and_grads(5, seed=8)
    settings = dict(**RECIPE_ADAM, lr_schedule="coslog4", total_steps=5)
    uninterrupted = params.copy()
    optimizer = Adam(N_PARAMS, np.float64, **settings)
    for grad in grads:
        optimizer.step(uninterrupted, grad)
    interrupted = params.copy()
    first = Adam(N_PARAMS, np.float64, **settings)
    for grad in grads[:2]:
        first.step(interrupted, grad)
    resumed = Adam(N_PARAMS, np.float64, **settings, state=first.get_state())
    for grad in grads[2:]:
        resumed.step(interrupted, grad)
    np.testing.assert_array_equal(interrupted, uninterrupted)
    # Past total_steps the schedule stays at its end, 0 (to libm's rounding
    # of cos(8 pi)).
    resumed.step(interrupted, grads[0])
    assert resumed.learning_rate == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("total_steps", [None, 0])
def test_step_schedule_needs_total_steps(total_steps):
    with pytest.raises(ValueError, match="give total_steps"):
        Adam(N_PARAMS, np.float64, lr_schedule="coslog4", total_steps=total_steps)


def test_sgd_follows_a_step_schedule():
    with pytest.raises(ValueError, match="give total_steps"):
        SGD(N_PARAMS, np.float64, 0.1, "coslog4")
    sgd = SGD(N_PARAMS, np.float64, 0.1, "coslog4", momentum=0.0, total_steps=15)
    params, grad = np.zeros(N_PARAMS), np.ones(N_PARAMS)
    for t in range(15):
        expected = 0.1 * coslog_schedule(t / 15)
        assert sgd.scheduled_learning_rate == expected
        before = params.copy()
        sgd.step(params, grad)
        assert sgd.learning_rate == expected
        np.testing.assert_allclose(before - params, expected, rtol=1e-12, atol=1e-17)
    assert sgd.scheduled_learning_rate == pytest.approx(0.0, abs=1e-15)


def test_a_step_schedule_stops_on_a_stall_like_constant():
    adam = Adam(3, np.float64, 0.1, lr_schedule="coslog4", total_steps=10)
    assert adam.trigger_stopping("stalled.", verbose=False) is True
    adam.iteration_ends(100)
    assert adam.base_learning_rate == 0.1


def test_make_optimizer_passes_the_new_options():
    adam = make_optimizer(
        "adam",
        N_PARAMS,
        np.float32,
        lr_multipliers=MULTIPLIERS,
        lr_schedule="coslog4",
        total_steps=8,
        beta_2=0.95,
    )
    assert adam.lr_multipliers.dtype == np.float32
    np.testing.assert_array_equal(adam.lr_multipliers, MULTIPLIERS.astype(np.float32))
    assert (adam.lr_schedule, adam.total_steps, adam.beta_2) == ("coslog4", 8, 0.95)
    # SGD takes the multipliers and has no total_steps to take.
    sgd = make_optimizer(
        "sgd",
        N_PARAMS,
        np.float64,
        learning_rate_init=0.1,
        lr_multipliers=MULTIPLIERS,
        total_steps=8,
    )
    np.testing.assert_array_equal(sgd.lr_multipliers, MULTIPLIERS)
    # What a saved state must hold is unchanged.
    assert required_state_names("adam") == {
        "first_moment",
        "second_moment",
        "t",
        "learning_rate",
    }
    assert required_state_names("sgd") == {"velocity", "learning_rate"}


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_float32_stays_float32_with_multipliers_and_schedule(kind):
    params, grads = _params_and_grads(3, dtype=np.float32, seed=9)
    extra = dict(lr_schedule="coslog4", total_steps=3) if kind == "adam" else {}
    optimizer = _with_multipliers(kind, np.float32, MULTIPLIERS, **extra)
    for grad in grads:
        optimizer.step(params, grad)
    assert params.dtype == np.float32
    for array in vars(optimizer).values():
        if isinstance(array, np.ndarray):
            assert array.dtype == np.float32


@pytest.mark.parametrize(
    "t, expected", [(0.0, 1.0), (0.3, 1.0), (0.5, 1.0), (0.75, 0.5), (1.0, 0.0)]
)
def test_flat_cos_schedule(t, expected):
    # pytabkit's "flat_cos": flat for the first half, then a half cosine to 0.
    assert flat_cos_schedule(t) == pytest.approx(expected, abs=1e-15)
    written_out = 1.0 if t < 0.5 else 0.5 * (1 + math.cos(math.pi * (2 * t - 1)))
    assert flat_cos_schedule(t) == pytest.approx(written_out, abs=1e-15)


def test_adam_decoupled_weight_decay_by_hand():
    # With a zero gradient Adam does not move: only the decay does, by
    # theta * (1 - wd * sigma(progress) * eta(progress) * d) before each step,
    # as pytabkit decays (its factors entering squared are in d).
    total_steps, weight_decay, learning_rate = 8, 0.02, 0.04
    decay = np.linspace(0.0, 36.0, N_PARAMS)
    optimizer = Adam(
        N_PARAMS,
        np.float64,
        learning_rate_init=learning_rate,
        lr_schedule="coslog4",
        total_steps=total_steps,
        weight_decay=weight_decay,
        wd_multipliers=decay,
        wd_schedule="flat_cos",
    )
    params = np.linspace(-1.0, 2.0, N_PARAMS)
    expected = params.copy()
    for t in range(1, total_steps + 1):
        optimizer.step(params, np.zeros(N_PARAMS))
        progress = (t - 1) / total_steps
        rate = (
            weight_decay
            * flat_cos_schedule(progress)
            * learning_rate
            * coslog_schedule(progress)
        )
        expected *= 1 - rate * decay
    np.testing.assert_allclose(params, expected, rtol=1e-14)
    assert params[0] == np.linspace(-1.0, 2.0, N_PARAMS)[0]  # d = 0: untouched
    assert not np.allclose(params[1:], np.linspace(-1.0, 2.0, N_PARAMS)[1:])


def test_adam_weight_decay_needs_a_known_schedule_and_the_total_steps():
    with pytest.raises(ValueError, match="wd_schedule"):
        Adam(N_PARAMS, np.float64, weight_decay=0.1, wd_schedule="cosine")
    with pytest.raises(ValueError, match="total_steps"):
        Adam(N_PARAMS, np.float64, weight_decay=0.1, wd_schedule="flat_cos")
    # Without decay nothing changes: the plain Adam step.
    plain, decayed = (Adam(N_PARAMS, np.float64, weight_decay=wd) for wd in (0.0, 0.5))
    grad = np.linspace(-1.0, 1.0, N_PARAMS)
    a, b = np.ones(N_PARAMS), np.ones(N_PARAMS)
    plain.step(a, grad)
    decayed.step(b, grad)
    np.testing.assert_allclose(b, a - 0.5 * 0.001 * 1.0, rtol=1e-12)
