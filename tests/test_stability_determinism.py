"""Numerical stability, divergence, determinism, concurrency and interruption.

* Extreme logits (+-1e4, +-1e300, and logits that overflow to +-inf) give
  finite probabilities that sum to one, without a RuntimeWarning; the losses
  stay finite at such predictions.
* A diverging fit stops with an error that names what to change, and a
  warm-started model is left exactly as it was.
* The same ``random_state`` gives bitwise-identical models: twice in a row,
  through pickle, and in ``cross_validate`` with ``n_jobs=1`` or ``2``.
* ``predict*`` from 8 threads at once equals serial calls, bit for bit.
* A KeyboardInterrupt leaves a usable model with the epochs done so far,
  bitwise equal to a fit that ran exactly that many epochs.
"""

import copy
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import (
    ESTIMATORS,
    SOLVERS,
    assert_same_weights,
    continuous_output,
    data,
    digits,
)
from numpy.testing import assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score, cross_validate

import sknumpynet._network
from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._activations import logistic_output, softmax
from sknumpynet._losses import binary_log_loss, log_loss
from sknumpynet._network import MLP

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("error::RuntimeWarning"),
]


def _data(Estimator, n_samples=80, n_features=5, seed=0):
    """_helpers.data with noisier regression targets."""
    return data(Estimator, n_samples, n_features=n_features, noise=0.5, seed=seed)


def _state(est):
    """Every fitted attribute (learned ``*_`` and private ``_*``), deep-copied.

    The wall-clock time of each epoch in ``history_`` is the one thing that
    legitimately differs between two identical fits; it is left out.
    """
    state = copy.deepcopy(
        {
            k: v
            for k, v in vars(est).items()
            if (k.endswith("_") or k.startswith("_")) and not k.startswith("__")
        }
    )
    for entry in state.get("history_", []):
        entry.pop("time")
    return state


def _assert_identical(a, b, path="state"):
    """Bitwise equality of nested dicts / lists / arrays / numbers."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _assert_identical(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, path
        assert_array_equal(a, b, err_msg=path, strict=True)
    elif isinstance(a, float | np.floating):
        assert a == b or (np.isnan(a) and np.isnan(b)), f"{path}: {a} != {b}"
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        # Fitted helpers such as the label binarizer.
        assert type(a) is type(b), path
        _assert_identical(vars(a), vars(b), f"{path}.__dict__")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# ---------------------------------------------------------------------------
# Extreme logits
# ---------------------------------------------------------------------------


def _logit_model(y, n_hidden=1, **params):
    """A fitted classifier whose weights are then set to give chosen logits.

    Identity hidden units: with ``coefs_[0]`` the first unit vector and zero
    hidden intercepts every hidden unit equals the first feature ``x0``;
    the logits are then ``x0 * coefs_[1].sum(axis=0)``.
    """
    X = np.random.RandomState(0).normal(size=(len(y), 3))
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(n_hidden,),
        activation="identity",
        max_iter=2,
        random_state=0,
        **params,
    ).fit(X, y)
    est.coefs_[0][...] = 0.0
    est.coefs_[0][0, :] = 1.0
    est.intercepts_[0][...] = 0.0
    est.intercepts_[1][...] = 0.0
    return est


def _rows(x0):
    """Input rows whose first feature is ``x0`` (the others do not matter)."""
    X = np.zeros((len(x0), 3))
    X[:, 0] = x0
    X[:, 1] = 7.0
    return X


@pytest.mark.parametrize("scale", [1e4, 1e300])
def test_softmax_probabilities_at_extreme_logits(scale):
    est = _logit_model(np.arange(30) % 3)
    est.coefs_[1][...] = [[scale, 0.0, -scale]]
    X = _rows([1.0, -1.0, 0.5, 0.0])
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    assert_array_equal(proba[0], [1.0, 0.0, 0.0])
    assert_array_equal(proba[1], [0.0, 0.0, 1.0])
    assert_array_equal(proba[3], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    assert_array_equal(est.predict(X[:2]), [0, 2])
    log_proba = est.predict_log_proba(X)
    assert not np.isnan(log_proba).any()
    assert log_proba[0, 0] == 0.0


def test_softmax_with_a_logit_that_overflows_to_inf():
    # Finite weights, finite input, but the logit of class 0 overflows to
    # +inf (two hidden units of 1e308 each): its probability is exactly 1.
    est = _logit_model(np.arange(30) % 3, n_hidden=2)
    est.coefs_[1][...] = [[1e308, 0.0, -1.0], [1e308, 0.0, -1.0]]
    proba = est.predict_proba(_rows([1.0, -1.0]))
    assert np.isfinite(proba).all(), proba
    assert_array_equal(proba[0], [1.0, 0.0, 0.0])
    # Logits (-inf, 0, 2) in the second row: class 0 is impossible.
    e = np.exp(2.0)
    np.testing.assert_allclose(proba[1], [0.0, 1 / (1 + e), e / (1 + e)], rtol=1e-15)


@pytest.mark.parametrize("scale", [1e4, 1e300, 1e308])
@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_logistic_probabilities_at_extreme_logits(kind, scale):
    # With two hidden units of weight 1e308 the logits overflow to +-inf.
    if kind == "binary":
        y = np.arange(30) % 2
    else:
        y = np.c_[np.arange(30) % 2, np.arange(30) % 3 == 0]
    est = _logit_model(y, n_hidden=2)
    n_outputs = est.coefs_[1].shape[1]
    est.coefs_[1][...] = scale * np.where(np.arange(n_outputs) % 2, -1.0, 1.0)
    X = _rows([1.0, -1.0, 0.0])
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    if kind == "binary":
        assert_array_equal(proba, [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
        assert_array_equal(est.predict(X[:2]), [1, 0])
    else:
        assert_array_equal(proba[:2], [[1.0, 0.0], [0.0, 1.0]])
        assert_array_equal(est.predict(X[:2]), [[1, 0], [0, 1]])
    assert not np.isnan(est.predict_log_proba(X)).any()


@pytest.mark.parametrize("scale", [1e4, 1e300])
def test_regressor_logistic_output_at_extreme_logits(scale):
    X = np.random.RandomState(0).normal(size=(20, 3))
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(1,),
        activation="identity",
        out_activation="logistic",
        max_iter=2,
        random_state=0,
    ).fit(X, np.linspace(0, 1, 20))
    est.coefs_[0][...] = [[1.0], [0.0], [0.0]]
    est.intercepts_[0][...] = 0.0
    est.intercepts_[1][...] = 0.0
    est.coefs_[1][...] = scale
    assert_array_equal(est.predict(_rows([1.0, -1.0, 0.0])), [1.0, 0.0, 0.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("z", [1e4, 1e30, 1e300, np.inf])
def test_output_activations_and_log_losses_stay_finite(z, dtype):
    if np.isfinite(z) and z > float(np.finfo(dtype).max):
        pytest.skip("not representable")
    logits = np.array([[z, 0.0, -z], [-z, z, 0.0], [0.0, -z, z]], dtype=dtype)
    y = np.eye(3, dtype=bool)[[2, 0, 1]]  # every prediction confidently wrong
    prob = softmax(logits.copy())
    assert np.isfinite(prob).all()
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-6)
    loss = log_loss(y, prob)
    assert np.isfinite(loss) and loss > 10
    assert log_loss(np.eye(3, dtype=bool), prob) < 1e-6  # confidently right

    prob = logistic_output(logits.copy())
    assert np.isfinite(prob).all()
    assert ((prob >= 0) & (prob <= 1)).all()
    loss = binary_log_loss(y, prob)
    assert np.isfinite(loss) and loss > 10


@pytest.mark.parametrize(
    "out_activation, loss", [("softmax", "log_loss"), ("logistic", "log_loss")]
)
@pytest.mark.parametrize("scale", [1e4, 1e100])
def test_engine_loss_and_gradient_finite_at_extreme_logits(out_activation, loss, scale):
    # The training path: a confidently wrong network has a large, finite loss
    # and a finite gradient, without any floating-point warning.
    network = MLP([3, 2, 3], "logistic", out_activation, loss, np.float64)
    network.initialize(np.random.RandomState(0))
    network.coefs[1][...] = [[scale, -scale, 0.0], [scale, -scale, 0.0]]
    X = np.random.RandomState(1).normal(size=(10, 3))
    y = np.zeros((10, 3), dtype=bool)
    y[:, 1] = True
    value = network.loss_and_gradient(X, y, None, alpha=1e-4)
    assert np.isfinite(value) and value > 10
    assert np.isfinite(network.grad).all()


@pytest.mark.parametrize(
    "dtype, scale",
    [(np.float32, 1e3), (np.float32, 1e20), (np.float32, 1e35), (np.float64, 1e160)],
)
def test_gradient_clipping_of_huge_gradients(dtype, scale):
    # max_grad_norm rescales the gradient to that norm, in the same
    # direction, however large it is: the gradients of a diverging fit are
    # the ones clipping exists for. (||g||^2 overflows from ||g|| ~ 1.8e19 in
    # float32 and ~ 1.3e154 in float64.)
    network = MLP([3, 4, 2], "tanh", "identity", "squared_error", dtype)
    direction = np.linspace(-1.0, 1.0, network.grad.size) + 0.01
    network.grad[...] = direction * scale
    network._clip_gradient(1.0)
    clipped = network.grad.astype(np.float64)
    assert np.isfinite(clipped).all()
    assert np.linalg.norm(clipped) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(
        clipped, direction / np.linalg.norm(direction), rtol=1e-4, atol=1e-7
    )


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------

# On standardized data, any activation: the weights overflow within an epoch.
ABSURD = {"solver": "sgd", "batch_size": 10, "learning_rate_init": 1e100}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_absurd_learning_rate_raises_naming_it(Estimator):
    X, y = _data(Estimator)
    est = Estimator(hidden_layer_sizes=(8,), max_iter=50, random_state=0, **ABSURD)
    with pytest.raises(ValueError) as error:
        est.fit(X, y)
    message = str(error.value)
    assert "diverged" in message
    assert "learning_rate_init=1e+100 is too large" in message
    assert "StandardScaler" in message
    assert not hasattr(est, "coefs_")


def test_divergence_to_a_huge_finite_loss_is_detected():
    """The default regressor (logistic units, adam) with learning_rate_init=1e10
    climbs to a finite training loss of 2.6e19 (0.53 at the first epoch), R^2 =
    -1.3e16: a loss 1e8 times its best is divergence, though finite."""
    X, y = _data(NumpyMLPRegressor)
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(8,), learning_rate_init=1e10, max_iter=30, random_state=0
    )
    with pytest.raises(ValueError, match="learning_rate_init") as error:
        est.fit(X, y)
    # The message names the rule that fired: the loss grew, the weights are
    # finite.
    assert "The training loss grew to" in str(error.value)
    assert "non-finite" not in str(error.value)


def _fake_epoch_losses(monkeypatch, losses):
    """Make every epoch report the next of ``losses`` (and train nothing)."""
    losses = iter(losses)
    monkeypatch.setattr(
        sknumpynet._network.MLP, "train_epoch", lambda *args, **kw: next(losses)
    )


def test_divergence_by_growth_names_the_growth_rule(monkeypatch):
    X, y = _data(NumpyMLPRegressor)
    _fake_epoch_losses(monkeypatch, [2.0, 3e8])
    est = NumpyMLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
    with pytest.raises(ValueError) as error:
        est.fit(X, y)
    message = str(error.value)
    assert "The training loss grew to 300000000.0 at epoch 2" in message
    assert "1e+08 times the lowest loss so far (2.0" in message
    assert "non-finite" not in message


def test_divergence_to_infinity_names_the_non_finite_loss(monkeypatch):
    X, y = _data(NumpyMLPRegressor)
    _fake_epoch_losses(monkeypatch, [2.0, np.inf])
    est = NumpyMLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
    with pytest.raises(ValueError) as error:
        est.fit(X, y)
    message = str(error.value)
    assert "non-finite parameter weights (the training loss was inf at epoch 2)" in (
        message
    )
    assert "grew to" not in message


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_divergence_leaves_the_model_exactly_as_it_was(Estimator, method):
    X, y = _data(Estimator)
    est = Estimator(
        hidden_layer_sizes=(8,),
        activation="relu",  # unbounded units, so that huge data diverges too
        max_iter=5,
        random_state=0,
        **{**ABSURD, "learning_rate_init": 0.01},
    )
    twin = clone(est)
    for model in (est, twin):
        if method == "warm_start":
            model.set_params(warm_start=True).fit(X, y)
        else:
            kwargs = {"classes": np.unique(y)} if is_classifier(est) else {}
            model.partial_fit(X, y, **kwargs)
    state, output = _state(est), continuous_output(est, X)

    if method == "warm_start":
        est.set_params(learning_rate_init=1e100)
        with pytest.raises(ValueError, match=r"learning_rate_init=1e\+100"):
            est.fit(X, y)
    else:
        # partial_fit resumes the optimizer's step size (as scikit-learn
        # does), so a new learning_rate_init would not apply: huge data.
        with pytest.raises(ValueError, match="diverged.*StandardScaler"):
            est.partial_fit(X * 1e200, y)
    _assert_identical(_state(est), state)
    assert_array_equal(continuous_output(est, X), output, strict=True)

    # And it trains on exactly as a model that never saw the failed call.
    est.set_params(learning_rate_init=0.01)
    for model in (est, twin):
        getattr(model, "fit" if method == "warm_start" else "partial_fit")(X, y)
    _assert_identical(_state(est), _state(twin))


def test_lbfgs_divergence_raises_the_clear_error():
    # Targets so large that the squared error overflows: the clear error,
    # not a RuntimeWarning from the loss on the way.
    X, y = _data(NumpyMLPRegressor)
    est = NumpyMLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y * 1e200)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_diverging_fit_with_early_stopping_gives_the_clear_error(Estimator):
    # The validation score of a network whose weights exploded overflows;
    # that must surface as the divergence error, not as RuntimeWarnings from
    # the scoring.
    X, y = _data(Estimator)
    est = Estimator(
        hidden_layer_sizes=(4,),
        solver="sgd",
        activation="identity",
        early_stopping=True,
        learning_rate_init=1e50,
        max_iter=5,
        random_state=0,
    )
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y)


def test_poisson_fit_whose_last_step_overflows():
    # One sgd step on a count of a million moves the output intercept to
    # 1900, and exp(1900) is inf. The loss checked was computed before the
    # step, so the fit "succeeded" and predicts inf on its own training data.
    est = NumpyMLPRegressor(
        loss="poisson",
        solver="sgd",
        hidden_layer_sizes=(1,),
        max_iter=1,
        random_state=0,
    )
    try:
        est.fit([[0.0]], [1e6])
    except ValueError as error:
        assert "diverged" in str(error)
    else:
        assert np.isfinite(est.predict([[0.0]])).all(), est.predict([[0.0]])


@pytest.mark.parametrize("scale", [1e10, 1e100])
@pytest.mark.parametrize("solver", SOLVERS)
def test_poisson_overflow_is_reported_without_runtime_warning(solver, scale):
    # exp overflows for large targets on unscaled data: either a finite model
    # or the clear divergence error, and no RuntimeWarning on the way.
    X, y = _data(NumpyMLPRegressor)
    y = np.abs(y) * scale
    est = NumpyMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(4,),
        solver=solver,
        max_iter=20,
        random_state=0,
    )
    try:
        est.fit(X, y)
    except ValueError as error:
        assert "diverged" in str(error)
    else:
        assert np.isfinite(est.predict(X)).all()


# ---------------------------------------------------------------------------
# Extreme input: a clear error, and nothing printed on the way
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float16_infinities_give_only_a_clear_error(Estimator):
    """float16 X holding +inf and -inf: scikit-learn's finiteness check sums
    to NaN (a RuntimeWarning) on its way to the ValueError."""
    X, y = _data(Estimator)
    bad = X.astype(np.float16)
    bad[0, 0], bad[1, 1] = np.inf, -np.inf
    est = Estimator(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning on the way fails
        with pytest.raises(ValueError, match="infinity"):
            est.fit(bad, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        with pytest.raises(ValueError, match="infinity"):
            est.predict(bad)


def _fitted_digits_regressor(activation, dtype):
    X, y = digits(200)
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(20,),
        activation=activation,
        solver="lbfgs",
        max_iter=20,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 iterations
        return est.fit(X.astype(dtype), y)


@pytest.mark.parametrize("activation", ["relu", "identity", "logistic"])
def test_input_beyond_a_float32_model_gives_only_a_clear_error(activation):
    """1e300 does not fit the float32 a float32 model computes in: casting it
    warned of an overflow and predicted from infinities."""
    est = _fitted_digits_regressor(activation, np.float32)
    X, _ = digits(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="beyond the range of float32"):
            est.predict(X * 1e300)
        with pytest.raises(ValueError, match="beyond the range of float32"):
            est.predict(sp.csr_matrix(X * 1e300))


@pytest.mark.parametrize("activation", ["relu", "identity", "logistic"])
def test_huge_input_gives_finite_output_or_only_a_clear_error(activation):
    """Values near the float64 limit, of both signs: the finiteness check's sum
    overflowed to NaN (a RuntimeWarning); the network may overflow too, which
    must be an error that says so, never a NaN prediction."""
    est = _fitted_digits_regressor(activation, np.float64)
    huge = np.full((3, 64), 1e308)
    huge[1] *= -1
    huge[2, ::2] *= -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            output = est.predict(huge)
        except ValueError as error:
            assert "too large for this network" in str(error)
            assert "StandardScaler" in str(error)
        else:
            assert np.isfinite(output).all()


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


def _configured(Estimator, solver, **params):
    params = {"hidden_layer_sizes": (7, 4), "max_iter": 15, **params}
    return Estimator(solver=solver, random_state=3, **params)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_seed_gives_bitwise_identical_fits(Estimator, solver):
    X, y = _data(Estimator)
    weights = np.random.RandomState(1).uniform(0.5, 2, len(y))
    extra = {} if solver == "lbfgs" else {"early_stopping": True}
    first = _configured(Estimator, solver, **extra).fit(X, y, sample_weight=weights)
    second = _configured(Estimator, solver, **extra).fit(X, y, sample_weight=weights)
    _assert_identical(_state(first), _state(second))
    assert_array_equal(
        continuous_output(first, X), continuous_output(second, X), strict=True
    )
    # Not vacuous: another seed gives other weights.
    other = _configured(Estimator, solver, **extra).set_params(random_state=4)
    other.fit(X, y, sample_weight=weights)
    assert not np.array_equal(other.coefs_[0], first.coefs_[0])
    # Refitting the same object starts over and gives the same model again.
    first.fit(X, y, sample_weight=weights)
    _assert_identical(_state(first), _state(second))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_round_trip_is_bitwise(Estimator, solver):
    X, y = _data(Estimator)
    X32 = X.astype(np.float32)
    reference = _configured(Estimator, solver).fit(X32, y)
    # A pickled unfitted estimator fits to the same model ...
    unpickled = pickle.loads(pickle.dumps(_configured(Estimator, solver)))
    _assert_identical(_state(unpickled.fit(X32, y)), _state(reference))
    # ... a pickled fitted one keeps every bit and predicts the same ...
    restored = pickle.loads(pickle.dumps(reference))
    _assert_identical(_state(restored), _state(reference))
    assert restored.coefs_[0].dtype == np.float32
    assert_array_equal(
        continuous_output(restored, X32), continuous_output(reference, X32), strict=True
    )
    # ... and continues training exactly as the original does.
    if solver == "lbfgs":
        restored.set_params(warm_start=True, max_iter=5).fit(X32, y)
        reference.set_params(warm_start=True, max_iter=5).fit(X32, y)
    else:
        restored.partial_fit(X32, y)
        reference.partial_fit(X32, y)
    _assert_identical(_state(restored), _state(reference))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_cross_validation_is_identical_with_one_or_two_jobs(Estimator):
    X, y = _data(Estimator, n_samples=120)
    est = Estimator(hidden_layer_sizes=(10,), max_iter=20, random_state=0)
    cv = KFold(4, shuffle=True, random_state=0)
    scores_1 = cross_val_score(est, X, y, cv=cv, n_jobs=1)
    scores_2 = cross_val_score(est, X, y, cv=cv, n_jobs=2)
    assert_array_equal(scores_1, scores_2, strict=True)
    assert len(set(scores_1.tolist())) > 1  # the folds differ

    serial = cross_validate(est, X, y, cv=cv, n_jobs=1, return_estimator=True)
    parallel = cross_validate(est, X, y, cv=cv, n_jobs=2, return_estimator=True)
    assert_array_equal(serial["test_score"], scores_1, strict=True)
    assert_array_equal(parallel["test_score"], scores_1, strict=True)
    for a, b in zip(serial["estimator"], parallel["estimator"]):
        assert_same_weights(a, b, strict=True)
        assert a.loss_curve_ == b.loss_curve_


# ---------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [
        (NumpyMLPClassifier, "predict"),
        (NumpyMLPClassifier, "predict_proba"),
        (NumpyMLPClassifier, "predict_log_proba"),
        (NumpyMLPRegressor, "predict"),
    ],
)
@pytest.mark.parametrize("input_kind", ["float64", "float32", "csr"])
def test_predict_from_eight_threads_equals_serial(Estimator, method, input_kind):
    X, y = _data(Estimator, n_samples=600, n_features=20)
    est = Estimator(hidden_layer_sizes=(64, 32), max_iter=3, random_state=0).fit(X, y)
    if input_kind == "float32":
        X = X.astype(np.float32)
    elif input_kind == "csr":
        X = X.copy()
        X[np.abs(X) < 0.7] = 0.0
        X = sp.csr_matrix(X)
    # Chunks of different sizes, each predicted many times from 8 threads.
    bounds = [(0, 600), (0, 1), (5, 305), (100, 117), (300, 600), (17, 450)]
    tasks = [bounds[i % len(bounds)] for i in range(96)]
    weights = copy.deepcopy(est.coefs_ + est.intercepts_)
    predict = getattr(est, method)
    serial = {b: predict(X[b[0] : b[1]]) for b in bounds}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: predict(X[b[0] : b[1]]), tasks))
    for b, result in zip(tasks, results):
        assert_array_equal(result, serial[b], strict=True)
    # Predicting did not touch the weights.
    for a, b in zip(est.coefs_ + est.intercepts_, weights):
        assert_array_equal(a, b, strict=True)


# ---------------------------------------------------------------------------
# KeyboardInterrupt
# ---------------------------------------------------------------------------


def _interrupt_on_call(monkeypatch, name, k):
    """Make MLP.<name> raise KeyboardInterrupt on its k-th call (only)."""
    original = getattr(MLP, name)
    calls = []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == k:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MLP, name, interrupted)
    return calls


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupted_stochastic_fit_keeps_the_epochs_done(
    Estimator, solver, k, early_stopping, monkeypatch
):
    X, y = _data(Estimator)
    params = {"early_stopping": early_stopping, "n_iter_no_change": 100}
    with monkeypatch.context() as patch:
        calls = _interrupt_on_call(patch, "train_epoch", k)
        est = _configured(Estimator, solver, **params)
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            est.fit(X, y)
    assert len(calls) == k
    assert est.n_iter_ == k - 1
    assert len(est.loss_curve_) == k - 1
    assert est.t_ == (k - 1) * (
        len(y) - (int(np.ceil(0.1 * len(y))) if early_stopping else 0)
    )
    output = continuous_output(est, X)
    assert np.isfinite(output).all()
    assert est.predict(X).shape == y.shape
    if k > 1:
        # Exactly the model of a fit that ran the k - 1 epochs.
        shorter = _configured(Estimator, solver, **params).set_params(max_iter=k - 1)
        shorter.fit(X, y)
        assert_same_weights(est, shorter, strict=True)
        assert est.loss_curve_ == shorter.loss_curve_
    # Still usable for more training.
    est.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert est.n_iter_ == 2


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupt_inside_an_epoch_keeps_a_usable_model(Estimator, monkeypatch):
    # Interrupted in the middle of the third epoch's mini-batches.
    X, y = _data(Estimator)
    n_batches = int(np.ceil(len(y) / 16))
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, "loss_and_gradient", 2 * n_batches + 2)
        est = _configured(Estimator, "adam", batch_size=16)
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            est.fit(X, y)
    assert est.n_iter_ == 2 == len(est.loss_curve_)
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    assert np.isfinite(continuous_output(est, X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupted_partial_fit_keeps_the_model(Estimator, monkeypatch):
    X, y = _data(Estimator)
    est = _configured(Estimator, "sgd")
    kwargs = {"classes": np.unique(y)} if is_classifier(est) else {}
    est.partial_fit(X, y, **kwargs)
    before = _state(est)
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, "train_epoch", 1)
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            est.partial_fit(X, y)
    # Nothing changed but the count of epochs run by the last call.
    _assert_identical(_state(est), {**before, "n_iter_": 0})
    assert np.isfinite(continuous_output(est, X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupted_lbfgs_keeps_the_iterations_done(Estimator, monkeypatch):
    X, y = _data(Estimator)
    with monkeypatch.context() as patch:
        calls = _interrupt_on_call(patch, "loss_and_gradient", 12)
        est = _configured(Estimator, "lbfgs", max_iter=100)
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            est.fit(X, y)
    assert len(calls) >= 12
    n_iter = est.n_iter_
    assert 1 <= n_iter < 12
    assert len(est.loss_curve_) == n_iter
    assert np.isfinite(est.loss_)
    # Exactly the model of a fit limited to the iterations done.
    shorter = _configured(Estimator, "lbfgs", max_iter=n_iter).fit(X, y)
    assert shorter.n_iter_ == n_iter
    assert_same_weights(est, shorter, strict=True)
    assert est.loss_curve_ == shorter.loss_curve_
    assert est.loss_ == shorter.loss_
    assert np.isfinite(continuous_output(est, X)).all()


def test_warnings_module_is_clean_after_interrupt(monkeypatch):
    # The interrupt warning is a UserWarning, nothing else leaks.
    X, y = _data(NumpyMLPClassifier)
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, "train_epoch", 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _configured(NumpyMLPClassifier, "adam").fit(X, y)
    messages = [(w.category, str(w.message)) for w in caught]
    assert messages == [(UserWarning, "Training interrupted by user.")]
