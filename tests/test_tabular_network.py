"""The RealMLP-TD engine network: backward rules against finite differences,
initialisation, the shared-weight ensemble and its parameter groups."""

import numpy as np
import pytest

from sknumpynet._tabular_network import (
    GROUPS,
    REALMLP_TD_LR_FACTORS,
    REALMLP_TD_WD_FACTORS,
    TabularNetwork,
)

# (activation, output, loss, n_outputs, options)
CONFIGURATIONS = {
    "selu-softmax-everything": (
        "selu",
        "softmax",
        "log_loss",
        3,
        dict(label_smoothing=0.1, ple_columns=[2], ple_bins=[[-1.0, 0.0, 0.5, 2.0]]),
    ),
    "mish-regression-members": (
        "mish",
        "identity",
        "squared_error",
        2,
        dict(n_members=3),
    ),
    "selu-members-no-mix": (
        "selu",
        "softmax",
        "log_loss",
        2,
        dict(n_members=4, parametric_activation=False),
    ),
    "plain": (
        "relu",
        "identity",
        "squared_error",
        1,
        dict(feature_scale=False, parametric_activation=False),
    ),
}


def _data(rng, n=7):
    """Two numeric columns, one other column and one code column (4 codes)."""
    X = rng.standard_normal((n, 4))
    X[:, 3] = rng.randint(0, 4, size=n)
    return X


def _network(name, n_outputs=None, **extra):
    activation, output, loss, outputs, options = CONFIGURATIONS[name]
    code = {} if name == "plain" else dict(code_columns=[3], n_codes=[4])
    return TabularNetwork(
        4,
        [5, 6],
        n_outputs or outputs,
        activation,
        output,
        loss,
        np.float64,
        numeric_columns=[0, 1],
        category_dim=2,
        n_frequencies=extra.pop("n_frequencies", 4) if name != "plain" else 0,
        **code,
        **{**options, **extra},
    )


def _targets(rng, net, n):
    if net.output_activation == "softmax":
        return np.eye(net.layer_units[-1])[rng.randint(0, net.layer_units[-1], n)]
    return rng.standard_normal((n, net.layer_units[-1]))


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_gradient_matches_finite_differences(name):
    rng = np.random.RandomState(0)
    net = _network(name)
    X = _data(rng)
    net.initialize(rng, X)
    # Move every parameter off its initial value (mix 1, scale 1...).
    net.params += 0.1 * rng.standard_normal(net.params.size)
    y = _targets(rng, net, X.shape[0])
    net.loss_and_gradient(X, y, None, alpha=0.01)
    analytic = net.grad.copy()
    numeric = np.empty_like(analytic)
    step = 1e-6
    for j in range(net.params.size):
        saved = net.params[j]
        net.params[j] = saved + step
        up = net.loss_and_gradient(X, y, None, alpha=0.01)
        net.params[j] = saved - step
        down = net.loss_and_gradient(X, y, None, alpha=0.01)
        net.params[j] = saved
        numeric[j] = (up - down) / (2 * step)
    error = np.abs(analytic - numeric).max() / max(1.0, np.abs(numeric).max())
    assert error < 1e-6
    # Every group the network has is checked (its gradient is not all zero).
    for group, where in net.group_slices().items():
        assert np.abs(analytic[where]).max() > 0, group


def test_gradient_with_dropout_masks():
    rng = np.random.RandomState(1)
    net = _network("mish-regression-members", dropout=0.3)
    X = _data(rng)
    net.initialize(rng, X)
    y = _targets(rng, net, X.shape[0])
    masks = net._dropout_masks(np.random.default_rng(0), X.shape[0])
    assert masks[0].shape == (3 * X.shape[0], 5)
    net.loss_and_gradient(X, y, None, 0.0, masks=masks)
    analytic = net.grad.copy()
    j = net.group_slices()["coefs"].start + 3
    saved, step = net.params[j], 1e-6
    net.params[j] = saved + step
    up = net.loss_and_gradient(X, y, None, 0.0, masks=masks)
    net.params[j] = saved - step
    down = net.loss_and_gradient(X, y, None, 0.0, masks=masks)
    assert analytic[j] == pytest.approx((up - down) / (2 * step), rel=1e-6, abs=1e-9)


def test_a_backward_rule_made_wrong_is_caught():
    """The check above can fail: a 10 % wrong SELU derivative is seen."""
    rng = np.random.RandomState(0)
    net = _network("selu-softmax-everything")
    X = _data(rng)
    net.initialize(rng, X)
    right = net.hidden_backward
    net.hidden_backward = lambda a, delta: right(a, delta).__imul__(1.1)
    y = _targets(rng, net, X.shape[0])
    net.loss_and_gradient(X, y, None, 0.0)
    analytic = net.grad.copy()
    j = net.group_slices()["coefs"].start
    saved, step = net.params[j], 1e-6
    net.params[j] = saved + step
    up = net.loss_and_gradient(X, y, None, 0.0)
    net.params[j] = saved - step
    down = net.loss_and_gradient(X, y, None, 0.0)
    assert abs(analytic[j] - (up - down) / (2 * step)) > 1e-4 * abs(analytic[j])


def test_data_initialisation_gives_unit_spread_and_kinks_in_the_data():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((500, 4)) * [1.0, 5.0, 0.1, 1.0]
    X[:, 3] = rng.randint(0, 4, size=500)
    net = _network("selu-softmax-everything")
    net.initialize(np.random.RandomState(1), X)
    embedded = net._scaled_input(net._embed(X)[0])[0]
    z = (embedded @ net.views["coef_0"]) * net.weight_factors[0]
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-10)
    # he+5: minus a convex combination of the units' values on the data, so
    # every kink (z + b = 0) lies within the data's range.
    z_b = z + net.views["intercept_0"]
    assert ((z_b.min(axis=0) <= 0) & (z_b.max(axis=0) >= 0)).all()
    # The ensemble's members start as random sign flips of the input.
    members = _network("selu-members-no-mix")
    members.initialize(np.random.RandomState(1), X)
    assert set(np.unique(members.views["member_scale"])) == {-1.0, 1.0}


def test_normal_initialisation_is_the_td_s_one():
    net = _network("selu-softmax-everything")
    net.initialize(np.random.RandomState(0), None, method="normal")
    assert not net.views["coef_2"].any() and not net.views["intercept_2"].any()
    assert net.views["coef_0"].std() > 0.5
    with pytest.raises(ValueError, match="method"):
        net.initialize(np.random.RandomState(0), None, method="xavier")


def test_members_predict_their_mean_and_train_on_their_mean_loss():
    rng = np.random.RandomState(0)
    net = _network("mish-regression-members")
    X = _data(rng)
    net.initialize(rng, X)
    outputs = net.member_outputs(X)
    assert outputs.shape == (3, X.shape[0], 2)
    # The members differ (their input signs and heads do).
    assert not np.allclose(outputs[0], outputs[1])
    np.testing.assert_allclose(net.predict(X), outputs.mean(axis=0))
    y = _targets(rng, net, X.shape[0])
    loss = net.loss_and_gradient(X, y, None, 0.0)
    per_member = [0.5 * ((o - y) ** 2).sum(axis=1).mean() for o in outputs]
    assert loss == pytest.approx(np.mean(per_member))


def test_learning_rate_groups():
    net = _network("selu-members-no-mix")
    multipliers = net.lr_multipliers(**REALMLP_TD_LR_FACTORS)
    slices = net.group_slices()
    assert set(slices) <= set(GROUPS)
    for group, where in slices.items():
        assert (multipliers[where] == REALMLP_TD_LR_FACTORS[group]).all()
    assert set(REALMLP_TD_WD_FACTORS) == set(GROUPS)
    with pytest.raises(ValueError, match="unknown parameter groups"):
        net.lr_multipliers(bias=1.0)


def test_codes_out_of_range_read_the_missing_row():
    rng = np.random.RandomState(0)
    net = _network("selu-softmax-everything")
    X = _data(rng, 3)
    net.initialize(rng, X)
    odd = X.copy()
    odd[:, 3] = [7, -1, 0]
    zero = X.copy()
    zero[:, 3] = 0
    np.testing.assert_array_equal(net.predict(odd), net.predict(zero))


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match="same length"):
        TabularNetwork(
            2, [3], 1, "selu", "identity", "squared_error", np.float64,
            code_columns=[1], n_codes=[],
        )  # fmt: skip
    with pytest.raises(ValueError, match="n_members"):
        TabularNetwork(
            2, [3], 1, "selu", "identity", "squared_error", np.float64, n_members=0
        )


def test_piecewise_linear_encoding_by_hand():
    net = TabularNetwork(
        2, [3], 1, "selu", "identity", "squared_error", np.float64,
        ple_columns=[1], ple_bins=[[0.0, 1.0, 3.0]],
    )  # fmt: skip
    X = np.array([[9.0, -1.0], [9.0, 0.5], [9.0, 2.0], [9.0, 5.0]])
    # The first component is not clipped below, the last not above.
    expected = [[-1.0, 0.0], [0.5, 0.0], [1.0, 0.5], [1.0, 2.0]]
    np.testing.assert_array_equal(net.piecewise_linear(X), expected)
    # It enters the first layer beside the columns themselves.
    assert net.layer_units[0] == 2 + 2


@pytest.mark.parametrize("bins", [[[1.0]], [[0.0, 0.0]], [[0.0, np.nan]], [[2.0, 1.0]]])
def test_bad_bins_are_refused(bins):
    with pytest.raises(ValueError, match="strictly increasing"):
        TabularNetwork(
            2, [3], 1, "selu", "identity", "squared_error", np.float64,
            ple_columns=[0], ple_bins=bins,
        )  # fmt: skip
