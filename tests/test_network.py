"""Unit tests of sknumpynet._network: parameter layout, initialisation, the
forward pass, one epoch of mini-batch training, dtypes and independence from
scikit-learn; and the engine's options (NTK parametrization, feature scale,
zero output layer, label smoothing, per-group learning rates).

(The backward pass is checked against finite differences in
test_gradients.py.)
"""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import OUTPUT_LOSS_PAIRS, SKLEARN_ACTIVATIONS, pair_id, targets
from sklearn.neural_network import MLPRegressor

import sknumpynet._network as network_module
from sknumpynet._network import MLP, predict
from sknumpynet._optimizers import SGD, Adam, make_optimizer
from sknumpynet._parameters import (
    INIT_METHODS,
    REALMLP_TD_S_LR_FACTORS,
    WEIGHT_INITS,
    effective_coefs,
    layer_views,
    n_parameters,
    parameter_groups,
    weight_factors,
)

LAYER_UNITS = [4, 6, 3, 2]


def _network(
    layer_units=LAYER_UNITS,
    hidden="tanh",
    pair=("softmax", "log_loss"),
    dtype=np.float64,
    fit_intercept=True,
    seed=0,
):
    network = MLP(layer_units, hidden, *pair, dtype, fit_intercept=fit_intercept)
    network.initialize(np.random.RandomState(seed))
    return network


def _work_arrays(network, n_samples):
    """The activation and delta buffers of a training pass over ``n_samples``
    rows, as loss_and_gradient takes them (``activations[0]`` is the input)."""
    buffers = network._buffers(n_samples, n_samples)
    return [None, *buffers["activations"]], buffers["deltas"]


# ---------------------------------------------------------------------------
# Parameter layout
# ---------------------------------------------------------------------------


def test_parameter_layout_coefficients_then_intercepts():
    network = MLP(LAYER_UNITS, "logistic", "softmax", "log_loss", np.float64)
    shapes = list(zip(LAYER_UNITS[:-1], LAYER_UNITS[1:]))
    n_coefs = sum(a * b for a, b in shapes)
    assert network.n_coefs == n_coefs
    assert network.params.shape == (n_coefs + sum(LAYER_UNITS[1:]),)
    assert network.grad.shape == network.params.shape
    assert network.n_layers == len(LAYER_UNITS)
    assert [c.shape for c in network.coefs] == shapes
    assert [b.shape for b in network.intercepts] == [(n,) for n in LAYER_UNITS[1:]]

    # Fill the flat buffer with its own index: each view must then hold the
    # consecutive block scikit-learn's L-BFGS packing gives it.
    network.params[...] = np.arange(network.params.size)
    packed = np.concatenate(
        [c.ravel() for c in network.coefs] + [b.ravel() for b in network.intercepts]
    )
    np.testing.assert_array_equal(packed, np.arange(network.params.size))


def test_views_share_memory_with_the_flat_buffers():
    network = MLP(LAYER_UNITS, "logistic", "softmax", "log_loss", np.float64)
    for view in network.coefs + network.intercepts:
        assert np.shares_memory(view, network.params)
        assert view.base is not None
    for view in network._grad_coefs + network._grad_intercepts:
        assert np.shares_memory(view, network.grad)
    # Writing through a view writes the flat buffer, and vice versa.
    network.coefs[1][2, 1] = 5.0
    offset = LAYER_UNITS[0] * LAYER_UNITS[1] + 2 * LAYER_UNITS[2] + 1
    assert network.params[offset] == 5.0
    network.params[-1] = -3.0
    assert network.intercepts[-1][-1] == -3.0


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


def _glorot_by_hand(layer_units, seed, factor):
    """Draw U(-b, b) in scikit-learn's order: per layer, coef then intercept."""
    random_state = np.random.RandomState(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return coefs, intercepts


@pytest.mark.parametrize("factor", [6.0, 2.0])
@pytest.mark.parametrize("seed", [0, 42])
def test_glorot_draws_match_the_same_random_state_by_hand(seed, factor):
    network = MLP(LAYER_UNITS, "logistic", "softmax", "log_loss", np.float64)
    random_state = np.random.RandomState(seed)
    network.initialize(random_state, "glorot", glorot_factor=factor)
    coefs, intercepts = _glorot_by_hand(LAYER_UNITS, seed, factor)
    for got, expected in zip(network.coefs + network.intercepts, coefs + intercepts):
        np.testing.assert_array_equal(got, expected)
    # Within the Glorot bound.
    for coef, intercept in zip(network.coefs, network.intercepts):
        bound = np.sqrt(factor / sum(coef.shape))
        assert np.abs(coef).max() <= bound
        assert np.abs(intercept).max() <= bound
    # The generator is left exactly where scikit-learn's draws leave it (the
    # next draw of a later consumer, e.g. shuffling, is the same).
    reference = np.random.RandomState(seed)
    for fan_in, fan_out in zip(LAYER_UNITS[:-1], LAYER_UNITS[1:]):
        reference.uniform(size=(fan_in, fan_out))
        reference.uniform(size=fan_out)
    assert random_state.uniform() == reference.uniform()


@pytest.mark.parametrize("activation, factor", [("logistic", 2.0), ("tanh", 6.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glorot_draws_match_scikit_learn(activation, factor, dtype):
    # scikit-learn's own per-layer initialiser, called in _initialize's order.
    sk = MLPRegressor(activation=activation)
    sk._random_state = np.random.RandomState(3)
    expected = [
        sk._init_coef(fan_in, fan_out, dtype)
        for fan_in, fan_out in zip(LAYER_UNITS[:-1], LAYER_UNITS[1:])
    ]
    network = MLP(LAYER_UNITS, activation, "identity", "squared_error", dtype)
    network.initialize(np.random.RandomState(3), glorot_factor=factor)
    for i, (coef, intercept) in enumerate(expected):
        assert network.coefs[i].dtype == coef.dtype
        np.testing.assert_array_equal(network.coefs[i], coef)
        np.testing.assert_array_equal(network.intercepts[i], intercept)


def test_uniform_init_is_the_seed_articles_rand():
    layer_units = [30, 40, 20]
    network = MLP(layer_units, "logistic", "logistic", "squared_error", np.float64)
    network.initialize(np.random.RandomState(0), "uniform")
    assert network.params.min() >= 0.0
    assert network.params.max() < 1.0
    # U[0, 1): mean 1/2, variance 1/12 (2000+ draws).
    assert network.params.mean() == pytest.approx(0.5, abs=0.03)
    assert network.params.var() == pytest.approx(1 / 12, rel=0.1)
    random_state = np.random.RandomState(0)
    for coef, intercept in zip(network.coefs, network.intercepts):
        np.testing.assert_array_equal(coef, random_state.uniform(0, 1, coef.shape))
        np.testing.assert_array_equal(
            intercept, random_state.uniform(0, 1, intercept.shape)
        )


def test_he_init_statistics_and_zero_intercepts():
    layer_units = [200, 300, 150]
    network = MLP(layer_units, "relu", "identity", "squared_error", np.float64)
    network.initialize(np.random.RandomState(0), "he")
    for coef, intercept in zip(network.coefs, network.intercepts):
        fan_in = coef.shape[0]
        std = np.sqrt(2.0 / fan_in)
        # Tens of thousands of draws: the sample moments are within a few %.
        assert coef.std() == pytest.approx(std, rel=0.03)
        assert abs(coef.mean()) < 0.03 * std
        np.testing.assert_array_equal(intercept, 0.0)
    random_state = np.random.RandomState(0)
    for coef in network.coefs:
        expected = random_state.normal(0.0, np.sqrt(2.0 / coef.shape[0]), coef.shape)
        np.testing.assert_array_equal(coef, expected)


def test_unknown_init_raises():
    network = MLP(LAYER_UNITS, "tanh", "softmax", "log_loss", np.float64)
    with pytest.raises(ValueError, match="weight_init"):
        network.initialize(np.random.RandomState(0), "xavier")
    assert "xavier" not in WEIGHT_INITS


@pytest.mark.parametrize("method", WEIGHT_INITS)
def test_no_intercepts_keeps_the_same_coefficients(method):
    # The intercepts are drawn and discarded, so a seed gives the same
    # weights with or without intercepts.
    with_b = _network(fit_intercept=True)
    with_b.initialize(np.random.RandomState(5), method)
    without_b = _network(fit_intercept=False)
    without_b.initialize(np.random.RandomState(5), method)
    for a, b in zip(with_b.coefs, without_b.coefs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(without_b.params[without_b.n_coefs :], 0.0)


def test_same_seed_same_network_different_seed_different_network():
    a, b, c = _network(seed=1), _network(seed=1), _network(seed=2)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.allclose(a.params, c.params)


# ---------------------------------------------------------------------------
# set_weights
# ---------------------------------------------------------------------------


def test_set_weights_copies_and_casts():
    source = _network(seed=7)
    target = MLP(LAYER_UNITS, "tanh", "softmax", "log_loss", np.float32)
    target.set_weights(source.coefs, source.intercepts)
    assert target.params.dtype == np.float32
    np.testing.assert_array_equal(target.params, source.params.astype(np.float32))
    # A copy, not an alias.
    source.params[...] = 0.0
    assert np.abs(target.params).max() > 0


@pytest.mark.parametrize("which", ["coef", "intercept"])
def test_set_weights_shape_error(which):
    network = _network()
    coefs = [c.copy() for c in network.coefs]
    intercepts = [b.copy() for b in network.intercepts]
    if which == "coef":
        coefs[1] = coefs[1].T
    else:
        intercepts[0] = intercepts[0][:-1]
    with pytest.raises(ValueError, match="shape"):
        network.set_weights(coefs, intercepts)


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------


def _by_hand(name, z):
    if name == "logistic":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if name == "exp":
        return np.exp(z)
    return z


def _forward_by_hand(network, hidden, output, X, n_layers=None):
    a = X
    n_layers = len(network.coefs) if n_layers is None else n_layers
    for i in range(n_layers):
        z = a @ network.coefs[i] + network.intercepts[i]
        a = _by_hand(output if i == len(network.coefs) - 1 else hidden, z)
    return a


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
@pytest.mark.parametrize("hidden", SKLEARN_ACTIVATIONS)
def test_predict_equals_a_forward_pass_by_hand(hidden, pair):
    network = _network(hidden=hidden, pair=pair, seed=1)
    X = np.random.default_rng(0).normal(size=(9, LAYER_UNITS[0]))
    X_before = X.copy()
    got = network.predict(X)
    expected = _forward_by_hand(network, hidden, pair[0], X)
    assert got.shape == (9, LAYER_UNITS[-1])
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(X, X_before)
    # The training forward pass computes the same output.
    activations, _ = _work_arrays(network, 9)
    network.forward(X, activations)
    np.testing.assert_allclose(activations[-1], got, rtol=1e-14, atol=1e-16)
    # Sparse input: the same output.
    np.testing.assert_allclose(
        network.predict(sp.csr_matrix(X)), got, rtol=1e-13, atol=1e-15
    )


@pytest.mark.parametrize("n_layers", [1, 2])
def test_predict_stops_at_a_hidden_layer(n_layers):
    network = _network(hidden="relu", seed=2)
    X = np.random.default_rng(1).normal(size=(5, LAYER_UNITS[0]))
    got = predict(
        X,
        network.coefs,
        network.intercepts,
        network.hidden_forwards,
        network.output_forward,
        n_layers=n_layers,
    )
    assert got.shape == (5, LAYER_UNITS[n_layers])
    expected = _forward_by_hand(network, "relu", "softmax", X, n_layers)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


# ---------------------------------------------------------------------------
# One epoch of training
# ---------------------------------------------------------------------------


def _training_problem(pair=("softmax", "log_loss"), dtype=np.float64, n=23, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, LAYER_UNITS[0])).astype(dtype)
    y = targets(pair, n, LAYER_UNITS[-1], rng)
    if y.dtype != bool:
        y = y.astype(dtype)
    sample_weight = rng.uniform(0.5, 2.0, n).astype(dtype)
    return X, y, sample_weight


def _optimizer(kind, network):
    if kind == "adam":
        return Adam(network.params.size, network.dtype, 0.01)
    return SGD(network.params.size, network.dtype, 0.1, momentum=0.9)


@pytest.mark.parametrize("optimizer_kind", ["sgd", "adam"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_rows_none_equals_all_rows_in_order(optimizer_kind, weighted, sparse):
    # Slicing (rows=None) and gathering by index (rows=arange) are two paths
    # to the same batches: the trained parameters must be identical.
    X, y, sample_weight = _training_problem()
    if sparse:
        X = sp.csr_matrix(X)
    sample_weight = sample_weight if weighted else None
    results = []
    for rows in (None, np.arange(X.shape[0])):
        network = _network(seed=3)
        optimizer = _optimizer(optimizer_kind, network)
        loss = network.train_epoch(
            X, y, sample_weight, optimizer, batch_size=5, alpha=0.01, rows=rows
        )
        results.append((loss, network.params.copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert not np.array_equal(results[0][1], _network(seed=3).params)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_shuffled_rows_equal_training_on_the_permuted_data(weighted):
    X, y, sample_weight = _training_problem(n=17)
    rows = np.random.default_rng(4).permutation(17)
    a, b = _network(seed=4), _network(seed=4)
    wa = sample_weight if weighted else None
    wb = sample_weight[rows] if weighted else None
    loss_a = a.train_epoch(X, y, wa, _optimizer("sgd", a), 4, 0.0, rows=rows)
    loss_b = b.train_epoch(X[rows], y[rows], wb, _optimizer("sgd", b), 4, 0.0)
    assert loss_a == loss_b
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize("batch_size, n", [(5, 23), (4, 8), (10, 3), (1, 3)])
def test_epoch_equals_manual_batches_including_a_short_last_one(batch_size, n):
    # train_epoch = for each consecutive batch: loss_and_gradient, one step;
    # the returned loss is the batch-size-weighted mean of the batch losses.
    X, y, sample_weight = _training_problem(n=n)
    network = _network(seed=5)
    loss = network.train_epoch(
        X, y, sample_weight, _optimizer("sgd", network), batch_size, alpha=0.1
    )

    manual = _network(seed=5)
    optimizer = _optimizer("sgd", manual)
    batch_losses, sizes = [], []
    for start in range(0, n, batch_size):
        batch = slice(start, min(start + batch_size, n))
        batch_losses.append(
            manual.loss_and_gradient(X[batch], y[batch], sample_weight[batch], 0.1)
        )
        sizes.append(X[batch].shape[0])
        optimizer.step(manual.params, manual.grad)
    assert sizes[-1] == n - batch_size * (len(sizes) - 1)
    np.testing.assert_allclose(network.params, manual.params, rtol=1e-14, atol=1e-15)
    assert loss == pytest.approx(np.average(batch_losses, weights=sizes), rel=1e-13)
    assert np.all(np.isfinite(network.params))


def test_epoch_subset_of_rows_trains_on_those_rows_only():
    # Early stopping trains on a subset: the other rows must not matter.
    X, y, _ = _training_problem(n=20)
    rows = np.arange(0, 20, 2)
    a, b = _network(seed=6), _network(seed=6)
    X_changed = X.copy()
    X_changed[1::2] = 1e3  # rows never used
    a.train_epoch(X, y, None, _optimizer("adam", a), 3, 0.0, rows=rows)
    b.train_epoch(X_changed, y, None, _optimizer("adam", b), 3, 0.0, rows=rows)
    np.testing.assert_array_equal(a.params, b.params)


def test_epoch_decreases_the_loss_on_an_easy_problem():
    # Not a timing test: just that the steps go downhill.
    X, y, _ = _training_problem(n=40)
    network = _network(seed=7)
    optimizer = _optimizer("adam", network)
    first = network.train_epoch(X, y, None, optimizer, 8, 0.0)
    for _ in range(30):
        last = network.train_epoch(X, y, None, optimizer, 8, 0.0)
    assert last < first


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
@pytest.mark.parametrize("optimizer_kind", ["sgd", "adam"])
def test_float32_stays_float32(pair, optimizer_kind):
    X, y, sample_weight = _training_problem(pair, dtype=np.float32)
    network = _network(pair=pair, dtype=np.float32, seed=8)
    assert network.params.dtype == np.float32
    assert network.grad.dtype == np.float32
    for view in network.coefs + network.intercepts:
        assert view.dtype == np.float32

    loss = network.loss_and_gradient(X, y, sample_weight, 0.1)
    assert np.isfinite(loss)
    assert network.grad.dtype == np.float32
    activations, deltas = _work_arrays(network, X.shape[0])
    for buffer in activations[1:] + deltas:
        assert buffer.dtype == np.float32
    assert network.predict(X).dtype == np.float32

    params = network.params
    optimizer = _optimizer(optimizer_kind, network)
    network.train_epoch(
        X, y, sample_weight, optimizer, 6, 0.1, rows=np.arange(X.shape[0])
    )
    assert network.params is params
    assert network.params.dtype == np.float32
    assert np.all(np.isfinite(network.params))

    # And float32 computes what float64 computes, to float32 precision.
    network64 = _network(pair=pair, dtype=np.float64, seed=8)
    X64 = X.astype(np.float64)
    network32 = _network(pair=pair, dtype=np.float32, seed=8)
    np.testing.assert_allclose(
        network32.predict(X), network64.predict(X64), rtol=1e-4, atol=1e-6
    )


# ---------------------------------------------------------------------------
# Independence from scikit-learn
# ---------------------------------------------------------------------------

#: The NumPy core: the engine and what it is made of.
CORE_MODULES = (
    "_activations",
    "_losses",
    "_parameters",
    "_minibatch",
    "_network",
    "_optimizers",
)


def test_importing_the_engine_does_not_import_scikit_learn():
    # Importing the submodule runs the package's __init__, which imports the
    # estimators (and hence scikit-learn); so block the package __init__ by
    # loading the core modules straight from their files.
    package_dir = Path(network_module.__file__).parent
    code = f"""
import importlib.util, sys, types
package = types.ModuleType("sknumpynet")
package.__path__ = [{str(package_dir)!r}]
sys.modules["sknumpynet"] = package
for name in {CORE_MODULES!r}:
    importlib.import_module("sknumpynet." + name)
print(sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_sources_import_only_numpy_and_the_package(module):
    path = Path(network_module.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." if node.level else node.module.split(".")[0])
    # NumPy, the package itself and the standard library; nothing else (in
    # particular not scikit-learn or SciPy).
    third_party = imported - {"numpy", "."} - set(sys.stdlib_module_names)
    assert not third_party, third_party


# ---------------------------------------------------------------------------
# The engine's options: layout with a feature scale
# ---------------------------------------------------------------------------

N_SCALE_PARAMS = n_parameters(LAYER_UNITS) + LAYER_UNITS[0]


def _tanh_network(**options):
    """An uninitialised tanh network with a softmax output and ``options``."""
    return MLP(LAYER_UNITS, "tanh", "softmax", "log_loss", np.float64, **options)


def _options_network(dtype=np.float64, seed=0, **options):
    """An NTK network with a feature scale, drawn as the recipe draws it."""
    settings = dict(parametrization="ntk", feature_scale=True) | options
    zero_output = settings.pop("zero_output", False)
    network = MLP(LAYER_UNITS, "selu", "softmax", "log_loss", dtype, **settings)
    network.initialize(np.random.RandomState(seed), "normal", zero_output=zero_output)
    return network


def test_without_a_feature_scale_the_layout_is_unchanged():
    # The default layout is scikit-learn's: coefficients, then intercepts.
    n_coefs = sum(a * b for a, b in zip(LAYER_UNITS[:-1], LAYER_UNITS[1:]))
    n_params = n_coefs + sum(LAYER_UNITS[1:])
    assert parameter_groups(LAYER_UNITS) == {
        "coefs": slice(0, n_coefs),
        "intercepts": slice(n_coefs, n_params),
    }
    assert n_parameters(LAYER_UNITS) == n_params
    assert len(layer_views(np.zeros(n_params), LAYER_UNITS)) == 2
    # A buffer with room for a scale does not fit a network without one.
    with pytest.raises(ValueError, match="does not fit layers"):
        layer_views(np.zeros(N_SCALE_PARAMS), LAYER_UNITS)


def test_feature_scale_is_laid_out_after_the_intercepts():
    n_params = n_parameters(LAYER_UNITS)
    groups = parameter_groups(LAYER_UNITS, feature_scale=True)
    assert list(groups) == ["coefs", "intercepts", "feature_scale"]
    assert groups["feature_scale"] == slice(n_params, N_SCALE_PARAMS)
    assert n_parameters(LAYER_UNITS, feature_scale=True) == N_SCALE_PARAMS
    flat = np.arange(N_SCALE_PARAMS, dtype=float)
    coefs, intercepts, scale = layer_views(flat, LAYER_UNITS, feature_scale=True)
    # Everything before the scale is the layout without it.
    plain_coefs, plain_intercepts = layer_views(flat[:n_params], LAYER_UNITS)
    for view, plain in zip(coefs + intercepts, plain_coefs + plain_intercepts):
        np.testing.assert_array_equal(view, plain)
    np.testing.assert_array_equal(scale, np.arange(n_params, N_SCALE_PARAMS))
    assert np.shares_memory(scale, flat)
    with pytest.raises(ValueError, match="with a feature scale"):
        layer_views(flat[:-1], LAYER_UNITS, feature_scale=True)

    network = _tanh_network(feature_scale=True)
    assert network.params.size == N_SCALE_PARAMS
    assert np.shares_memory(network.scale, network.params)
    assert np.shares_memory(network._grad_scale, network.grad)
    network.params[-LAYER_UNITS[0] :] = 7.0
    np.testing.assert_array_equal(network.scale, 7.0)
    assert _tanh_network().scale is None


def test_lr_multipliers_follow_the_groups():
    network = _options_network()
    multipliers = network.lr_multipliers(**REALMLP_TD_S_LR_FACTORS)
    assert multipliers.shape == network.params.shape
    n_coefs, n_params = network.n_coefs, n_parameters(LAYER_UNITS)
    np.testing.assert_array_equal(multipliers[:n_coefs], 1.0)
    np.testing.assert_array_equal(multipliers[n_coefs:n_params], 0.1)
    np.testing.assert_array_equal(multipliers[n_params:], 6.0)
    # pytabkit's RealMLP-TD-S factors: scale 6, biases 0.1, weights 1.
    assert REALMLP_TD_S_LR_FACTORS == {
        "coefs": 1.0,
        "intercepts": 0.1,
        "feature_scale": 6.0,
    }
    # Without a scale, its factor has nothing to apply to.
    plain = _network().lr_multipliers(coefs=2.0, intercepts=0.5, feature_scale=6.0)
    assert plain.size == n_params
    assert set(np.unique(plain)) == {0.5, 2.0}
    assert _network(dtype=np.float32).lr_multipliers().dtype == np.float32


# ---------------------------------------------------------------------------
# The engine's options: initialisation
# ---------------------------------------------------------------------------


def test_normal_init_draws_standard_normals_in_order():
    network = _options_network(seed=3)
    random_state = np.random.RandomState(3)
    for coef, intercept in zip(network.coefs, network.intercepts):
        np.testing.assert_array_equal(coef, random_state.standard_normal(coef.shape))
        np.testing.assert_array_equal(
            intercept, random_state.standard_normal(intercept.shape)
        )
    np.testing.assert_array_equal(network.scale, 1.0)
    # "normal" is the engine's; the estimators do not offer it (yet).
    assert "normal" in INIT_METHODS and "normal" not in WEIGHT_INITS


def test_zero_output_zeroes_only_the_output_layer():
    drawn = _options_network(seed=4)
    zeroed = _options_network(seed=4, zero_output=True)
    np.testing.assert_array_equal(zeroed.coefs[-1], 0.0)
    np.testing.assert_array_equal(zeroed.intercepts[-1], 0.0)
    for a, b in zip(
        drawn.coefs[:-1] + drawn.intercepts[:-1],
        zeroed.coefs[:-1] + zeroed.intercepts[:-1],
    ):
        np.testing.assert_array_equal(a, b)
    assert np.abs(drawn.coefs[-1]).max() > 0
    # The network starts as a uniform softmax.
    X = np.random.default_rng(0).normal(size=(5, LAYER_UNITS[0]))
    np.testing.assert_allclose(zeroed.predict(X), 1 / LAYER_UNITS[-1], rtol=1e-15)


def test_no_intercepts_keeps_the_feature_scale():
    network = _options_network(fit_intercept=False)
    for intercept in network.intercepts:
        np.testing.assert_array_equal(intercept, 0.0)
    np.testing.assert_array_equal(network.scale, 1.0)


def test_set_weights_with_a_feature_scale():
    source = _options_network(seed=5)
    source.scale[...] = [0.5, 1.5, 2.0, 3.0]
    target = MLP(
        LAYER_UNITS,
        "selu",
        "softmax",
        "log_loss",
        np.float32,
        parametrization="ntk",
        feature_scale=True,
    )
    target.set_weights(source.coefs, source.intercepts, source.scale)
    np.testing.assert_array_equal(target.params, source.params.astype(np.float32))
    with pytest.raises(ValueError, match="no feature scale"):
        _network().set_weights(source.coefs, source.intercepts, source.scale)
    with pytest.raises(ValueError, match="shape"):
        target.set_weights(source.coefs, source.intercepts, source.scale[:2])


# ---------------------------------------------------------------------------
# The engine's options: the forward pass
# ---------------------------------------------------------------------------


def test_weight_factors():
    assert weight_factors(LAYER_UNITS) == [1.0, 1.0, 1.0]
    # Every layer of weights, the first and the output layer's included.
    np.testing.assert_allclose(
        weight_factors(LAYER_UNITS, "ntk"), [1 / 2, 1 / np.sqrt(6), 1 / np.sqrt(3)]
    )
    with pytest.raises(ValueError, match="Unknown parametrization 'mup'"):
        weight_factors(LAYER_UNITS, "mup")
    with pytest.raises(ValueError, match="Unknown parametrization"):
        _tanh_network(parametrization="NTK")


def test_effective_coefs_of_the_standard_network_are_its_weights():
    # Not copies: the default network computes exactly what it always did.
    network = _network()
    for effective, coef in zip(network.effective_coefs(), network.coefs):
        assert effective is coef
    assert not network._reparametrized
    assert all(buffer is None for buffer in network._effective_buffers)


def test_effective_coefs_by_hand():
    network = _options_network(seed=6)
    network.scale[...] = [0.5, 1.5, 2.0, 3.0]
    effective = network.effective_coefs()
    fan_ins = LAYER_UNITS[:-1]
    np.testing.assert_allclose(
        effective[0],
        network.scale[:, None] * network.coefs[0] / np.sqrt(fan_ins[0]),
        rtol=1e-15,
    )
    for i in (1, 2):
        np.testing.assert_allclose(
            effective[i], network.coefs[i] / np.sqrt(fan_ins[i]), rtol=1e-15
        )
    # Written into the network's buffers, reused from call to call.
    again = network.effective_coefs()
    assert all(a is b for a, b in zip(effective, again))
    # The module function, without buffers, computes the same.
    fresh = effective_coefs(network.coefs, network.weight_factors, network.scale)
    for a, b in zip(fresh, effective):
        np.testing.assert_array_equal(a, b)
        assert a is not b


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_predict_with_options_equals_a_forward_pass_by_hand(sparse):
    # a0 = X * s, z = a W / sqrt(fan_in) + b, selu hidden, softmax output.
    network = _options_network(seed=7)
    network.scale[...] = [0.5, 1.5, 2.0, 3.0]
    X = np.random.default_rng(1).normal(size=(9, LAYER_UNITS[0]))
    a = X * network.scale
    for i, (W, b) in enumerate(zip(network.coefs, network.intercepts)):
        z = a @ W / np.sqrt(W.shape[0]) + b
        if i < len(network.coefs) - 1:
            a = 1.0507009873554805 * np.where(
                z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0))
            )
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    got = network.predict(sp.csr_matrix(X) if sparse else X)
    np.testing.assert_allclose(got, a, rtol=1e-13, atol=1e-16)
    # The training forward pass computes the same output.
    activations, _ = _work_arrays(network, 9)
    network.forward(X, activations)
    np.testing.assert_allclose(activations[-1], a, rtol=1e-13, atol=1e-16)


def test_pre_activations_are_kept_only_for_mish_layers():
    network = MLP(
        [4, 5, 6, 7, 2], ["tanh", "mish", "selu"], "softmax", "log_loss", np.float64
    )
    buffers = network._buffers(8, 8)
    kept = buffers["pre_activations"]  # one per hidden layer
    assert len(kept) == 3 and kept[0] is None and kept[2] is None
    assert kept[1].shape == (8, 6)
    assert buffers["targets"] is None
    # The shorter last batch uses the leading rows of the same buffers.
    short = network._buffers(8, 3)
    assert short["pre_activations"][1].shape == (3, 6)
    assert np.shares_memory(short["pre_activations"][1], kept[1])
    # After a forward pass the kept buffer holds z, the activation f(z).
    X = np.random.default_rng(2).normal(size=(8, 4))
    network.loss_and_gradient(X, np.eye(2, dtype=bool)[[0, 1] * 4], None, 0.0)
    a1 = np.tanh(X @ network.coefs[0] + network.intercepts[0])
    z2 = a1 @ network.coefs[1] + network.intercepts[1]
    np.testing.assert_allclose(kept[1], z2, rtol=1e-13)
    np.testing.assert_allclose(
        buffers["activations"][1], z2 * np.tanh(np.log1p(np.exp(z2))), rtol=1e-13
    )


# ---------------------------------------------------------------------------
# The engine's options: label smoothing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("epsilon", [-0.1, 1.0, 1.5])
def test_label_smoothing_must_be_a_probability_below_one(epsilon):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        _tanh_network(label_smoothing=epsilon)


@pytest.mark.parametrize(
    "pair",
    [("identity", "squared_error"), ("exp", "poisson"), ("logistic", "squared_error")],
    ids=pair_id,
)
def test_label_smoothing_needs_a_log_loss(pair):
    with pytest.raises(ValueError, match="label_smoothing needs a log-loss"):
        MLP(LAYER_UNITS, "tanh", *pair, np.float64, label_smoothing=0.1)
    # Zero is no smoothing, valid for every loss.
    assert MLP(LAYER_UNITS, "tanh", *pair, np.float64).label_smoothing == 0.0


def test_label_smoothing_keeps_a_buffer_of_smoothed_targets():
    network = _options_network(label_smoothing=0.3)
    X, y, _ = _training_problem(n=6)
    network.loss_and_gradient(X, y, None, 0.0)
    targets_buffer = network._buffers(6, 6)["targets"]
    # (1 - 0.3) y + 0.3 / 2 with K = 2 classes: 0.85 and 0.15.
    np.testing.assert_allclose(targets_buffer, np.where(y, 0.85, 0.15), rtol=1e-15)
    assert y.dtype == bool  # the caller's targets are not touched


# ---------------------------------------------------------------------------
# The engine's options: float32 and training with the recipe's optimizer
# ---------------------------------------------------------------------------


def _recipe_optimizer(network, total_steps):
    return make_optimizer(
        "adam",
        network.params.size,
        network.dtype,
        learning_rate_init=0.04,
        beta_1=0.9,
        beta_2=0.95,
        lr_schedule="coslog4",
        total_steps=total_steps,
        lr_multipliers=network.lr_multipliers(**REALMLP_TD_S_LR_FACTORS),
    )


@pytest.mark.parametrize("hidden", ["selu", "mish"])
def test_float32_stays_float32_with_every_option(hidden):
    X, y, sample_weight = _training_problem(dtype=np.float32)
    network = MLP(
        LAYER_UNITS,
        hidden,
        "softmax",
        "log_loss",
        np.float32,
        label_smoothing=0.1,
        parametrization="ntk",
        feature_scale=True,
        dropout=0.2,
    )
    network.initialize(np.random.RandomState(8), "normal", zero_output=True)
    assert network.params.dtype == network.grad.dtype == np.float32
    assert network.scale.dtype == np.float32
    params = network.params
    optimizer = _recipe_optimizer(network, total_steps=20)
    for _ in range(4):
        network.train_epoch(
            X,
            y,
            sample_weight,
            optimizer,
            6,
            0.1,
            rows=np.arange(X.shape[0]),
            dropout_rng=np.random.default_rng(0),
        )
    assert network.params is params and params.dtype == np.float32
    assert np.all(np.isfinite(params))
    buffers = network._buffers(6, 6)
    arrays = [*buffers["activations"], *buffers["deltas"], buffers["targets"]]
    arrays += [b for b in buffers["pre_activations"] if b is not None]
    arrays += [b for b in network._effective_buffers if b is not None]
    assert all(array.dtype == np.float32 for array in arrays)
    assert network.predict(X).dtype == np.float32
    # The scale and every layer moved.
    assert not np.all(network.scale == 1.0)
    assert np.abs(network.coefs[-1]).max() > 0


def test_the_recipe_trains_down_an_easy_problem():
    # Not a timing test: the NTK network with scale, zero output, label
    # smoothing, and Adam with group rates and coslog4 goes downhill.
    X, _, _ = _training_problem(n=40)
    y = np.eye(2, dtype=bool)[(X[:, 0] + X[:, 1] > 0).astype(int)]
    network = _options_network(seed=9, label_smoothing=0.1, zero_output=True)
    n_epochs, batch_size = 30, 8
    optimizer = _recipe_optimizer(network, total_steps=n_epochs * 5)
    first = network.train_epoch(X, y, None, optimizer, batch_size, 0.0)
    for _ in range(n_epochs - 1):
        last = network.train_epoch(X, y, None, optimizer, batch_size, 0.0)
    assert optimizer.t == n_epochs * 5
    # From log 2 (a uniform softmax) to well below; label smoothing keeps
    # the loss above the entropy of (0.95, 0.05), about 0.2.
    assert first == pytest.approx(np.log(2), rel=0.05)
    assert 0.19 < last < 0.5 * first
