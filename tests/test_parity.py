"""Same hyper-parameters and seed as scikit-learn's MLP: same network.

The NumPy engine draws its random numbers in scikit-learn's order and performs
the same floating-point updates, so in float64 the stochastic solvers must
reproduce scikit-learn's loss curve and weights to round-off (1e-10 absolute)
and stop after the same number of epochs. The activation is always passed
explicitly, since the two packages' defaults differ. The parity is with
scikit-learn 1.7 and later (pyproject.toml's floor): sample_weight,
loss="poisson" and the weighted loss arithmetic arrived in its MLP in 1.7.
"""

import numpy as np
import pytest
from _helpers import SKLEARN_ACTIVATIONS, STOCHASTIC_SOLVERS, digits, regression
from numpy.testing import assert_allclose
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._network import MLP

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ATOL = 1e-10
TARGETS = ["binary", "multiclass", "multilabel", "regression", "multioutput"]


def _dataset(target):
    """(X, y, ours, theirs) for one kind of target."""
    if target in ("regression", "multioutput"):
        X, y = regression(
            150,
            1 if target == "regression" else 2,
            n_features=8,
            n_informative=6,
            noise=0.5,
            unit_target=True,
        )
        return X, y, NumpyMLPRegressor, MLPRegressor
    X, y = digits(150)
    if target == "binary":
        y = y % 2
    elif target == "multilabel":
        y = np.column_stack([y % 2, y > 4, np.isin(y, [0, 6, 8, 9])]).astype(int)
    return X, y, NumpyMLPClassifier, MLPClassifier


def _fit_pair(target, sample_weight=None, **params):
    """Ours and scikit-learn's, fitted alike on ``target``'s data set; asserted
    to be the same network (_assert_same_network)."""
    X, y, Ours, Theirs = _dataset(target)
    params = {"hidden_layer_sizes": (15,), "random_state": 0, **params}
    ours = Ours(**params).fit(X, y, sample_weight=sample_weight)
    theirs = Theirs(**params).fit(X, y, sample_weight=sample_weight)
    _assert_same_network(ours, theirs)
    return ours, theirs


def each_solver_and_target(test):
    """``test`` parametrized over each stochastic solver and every target."""
    test = pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)(test)
    return pytest.mark.parametrize("target", TARGETS)(test)


def _assert_same_network(ours, theirs):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.n_layers_ == theirs.n_layers_
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=ATOL)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=0, abs=ATOL)
    assert len(ours.coefs_) == len(theirs.coefs_)
    for mine, reference in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_
    ):
        assert mine.dtype == reference.dtype == np.float64
        assert_allclose(mine, reference, rtol=0, atol=ATOL)
    if theirs.validation_scores_ is None:
        assert ours.validation_scores_ is None
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=0, abs=ATOL)
    else:
        assert_allclose(
            ours.validation_scores_, theirs.validation_scores_, rtol=0, atol=ATOL
        )
        assert ours.best_validation_score_ == pytest.approx(
            theirs.best_validation_score_, rel=0, abs=ATOL
        )
        assert ours.best_loss_ is None


# How the stochastic solvers' fits end: after max_iter epochs, or by early
# stopping (n_iter_no_change=3 makes both stop and restore their best epoch).
STOCHASTIC_RUNS = {
    "max_iter": {"activation": "logistic", "learning_rate_init": 0.05, "max_iter": 15},
    "early_stopping": {
        "activation": "tanh",
        "learning_rate_init": 0.1,
        "max_iter": 40,
        "early_stopping": True,
        "validation_fraction": 0.3,
        "n_iter_no_change": 3,
    },
}


@pytest.mark.parametrize("run", list(STOCHASTIC_RUNS))
@pytest.mark.parametrize("shuffle", [True, False])
@each_solver_and_target
def test_stochastic_parity(solver, target, shuffle, run):
    params = STOCHASTIC_RUNS[run]
    ours, theirs = _fit_pair(target, solver=solver, shuffle=shuffle, **params)
    if run == "early_stopping":
        assert theirs.n_iter_ < 40  # stopped early, restored the best epoch


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize(
    "momentum, nesterovs_momentum", [(0.0, False), (0.9, False), (0.9, True)]
)
def test_sgd_variants_parity(learning_rate, momentum, nesterovs_momentum):
    # A large tol makes the no-improvement logic fire: "constant" and
    # "invscaling" stop early, "adaptive" divides its step by five.
    ours, theirs = _fit_pair(
        "multiclass",
        solver="sgd",
        activation="relu",
        learning_rate=learning_rate,
        learning_rate_init=0.1,
        power_t=0.3,
        momentum=momentum,
        nesterovs_momentum=nesterovs_momentum,
        tol=0.03,
        n_iter_no_change=2,
        max_iter=30,
    )
    if learning_rate == "adaptive":
        assert theirs._optimizer.learning_rate < 0.1  # the step was divided
    else:
        assert theirs.n_iter_ < 30  # stopped on the no-improvement rule


@pytest.mark.parametrize("activation", SKLEARN_ACTIVATIONS)
@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
@pytest.mark.parametrize("target", ["multiclass", "regression"])
def test_activation_parity(activation, solver, target):
    ours, theirs = _fit_pair(
        target,
        solver=solver,
        activation=activation,
        learning_rate_init=0.01,
        alpha=1e-2,
        max_iter=10,
    )


@pytest.mark.parametrize(
    "hidden_layer_sizes", [(), 9, [6, 5, 4], np.array([7])], ids=repr
)
def test_hidden_layer_sizes_forms_parity(hidden_layer_sizes):
    # No hidden layer, a bare int, a list and an array mean the same as there.
    ours, theirs = _fit_pair(
        "multiclass",
        solver="adam",
        activation="relu",
        hidden_layer_sizes=hidden_layer_sizes,
        learning_rate_init=0.01,
        max_iter=10,
    )


@each_solver_and_target
def test_two_hidden_layers_short_last_batch_parity(solver, target):
    # 150 samples in batches of 37: four full batches and one of 2.
    ours, theirs = _fit_pair(
        target,
        solver=solver,
        activation="tanh",
        hidden_layer_sizes=(12, 7),
        batch_size=37,
        learning_rate_init=0.01,
        max_iter=10,
    )


@pytest.mark.parametrize("shuffle", [True, False])
@each_solver_and_target
def test_partial_fit_parity(solver, target, shuffle):
    X, y, Ours, Theirs = _dataset(target)
    params = {
        "hidden_layer_sizes": (15,),
        "activation": "logistic",
        "solver": solver,
        "shuffle": shuffle,
        # invscaling depends on t_ across calls. scikit-learn's Adam ignores
        # learning_rate, sknumpynet's follows it (test_adam_schedules_differ).
        "learning_rate": "invscaling" if solver == "sgd" else "constant",
        "learning_rate_init": 0.05,
        "batch_size": 32,
        "random_state": 0,
    }
    ours, theirs = Ours(**params), Theirs(**params)
    kwargs = {}
    if Ours is NumpyMLPClassifier:
        # Multilabel targets need classes= on the first call too.
        kwargs["classes"] = np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)
    for rows in [slice(0, 60), slice(60, 150), slice(0, 150), slice(30, 100)]:
        ours.partial_fit(X[rows], y[rows], **kwargs)
        theirs.partial_fit(X[rows], y[rows], **kwargs)
        _assert_same_network(ours, theirs)


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_random_state_instance_parity(solver):
    # A RandomState instance is consumed across calls; both draw in the same
    # order, so repeated partial_fit calls keep shuffling alike.
    X, y, Ours, Theirs = _dataset("multiclass")
    params = {"hidden_layer_sizes": (15,), "activation": "logistic", "solver": solver}
    ours = Ours(random_state=np.random.RandomState(3), **params)
    theirs = Theirs(random_state=np.random.RandomState(3), **params)
    for _ in range(3):
        ours.partial_fit(X, y, classes=np.unique(y))
        theirs.partial_fit(X, y, classes=np.unique(y))
    _assert_same_network(ours, theirs)


@pytest.mark.parametrize("target", ["multiclass", "regression"])
@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_warm_start_parity(solver, target):
    X, y, Ours, Theirs = _dataset(target)
    params = {
        "hidden_layer_sizes": (15,),
        "activation": "tanh",
        "solver": solver,
        "warm_start": True,
        "learning_rate_init": 0.01,
        "max_iter": 5,
        "random_state": 0,
    }
    ours, theirs = Ours(**params), Theirs(**params)
    for max_iter in [5, 3, 4]:
        ours.set_params(max_iter=max_iter).fit(X, y)
        theirs.set_params(max_iter=max_iter).fit(X, y)
        _assert_same_network(ours, theirs)


@pytest.mark.parametrize("early_stopping", [False, True])
@each_solver_and_target
def test_sample_weight_parity(solver, target, early_stopping):
    weight = np.random.default_rng(0).uniform(0, 3, 150)
    weight[::7] = 0.0
    ours, theirs = _fit_pair(
        target,
        sample_weight=weight,
        solver=solver,
        activation="logistic",
        early_stopping=early_stopping,
        validation_fraction=0.2,
        batch_size=40,
        learning_rate_init=0.05,
        max_iter=15,
    )


def _poisson_data(n_targets=1):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 5))
    rate = np.exp(0.4 * X[:, :n_targets] - 0.3 * X[:, [-1]])
    y = rng.poisson(rate).astype(float)
    return X, y.ravel() if n_targets == 1 else y


@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_poisson_parity(solver, n_targets):
    X, y = _poisson_data(n_targets)
    params = {
        "loss": "poisson",
        "hidden_layer_sizes": (10,),
        "activation": "tanh",
        "solver": solver,
        "learning_rate_init": 0.01,
        "max_iter": 15,
        "random_state": 0,
    }
    ours = NumpyMLPRegressor(**params).fit(X, y)
    theirs = MLPRegressor(**params).fit(X, y)
    assert ours.out_activation_ == "exp"
    _assert_same_network(ours, theirs)


# Several regression outputs are left out on purpose: scikit-learn's L-BFGS
# minimises the output-averaged squared error with the gradient of the summed
# one (scikit-learn issue 8349); sknumpynet minimises the summed one, which the
# gradient belongs to. test_lbfgs_multioutput_minimises_its_own_objective below.
@pytest.mark.parametrize("target", [t for t in TARGETS if t != "multioutput"])
def test_lbfgs_parity(target):
    # L-BFGS-B's path is sensitive to round-off, so only the objective it
    # reaches is compared, on a small, well-conditioned problem.
    X, y, Ours, Theirs = _dataset(target)
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "tanh",
        "solver": "lbfgs",
        "alpha": 1e-2,
        "max_iter": 50,
        "random_state": 0,
    }
    ours = Ours(**params).fit(X, y)
    theirs = Theirs(**params).fit(X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    assert abs(ours.n_iter_ - theirs.n_iter_) <= 2
    # The starting point is the same network: compare a one-step fit exactly.
    ours = Ours(**{**params, "max_iter": 1}).fit(X, y)
    theirs = Theirs(**{**params, "max_iter": 1}).fit(X, y)
    for mine, reference in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_
    ):
        assert_allclose(mine, reference, rtol=0, atol=ATOL)


def test_lbfgs_multioutput_minimises_its_own_objective():
    """With several outputs, L-BFGS minimises the summed squared error plus the
    penalty, the objective its gradient belongs to, at least as well as
    scikit-learn's L-BFGS (whose line search sees the averaged loss)."""
    X, y, _, _ = _dataset("multioutput")
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "tanh",
        "solver": "lbfgs",
        "alpha": 1e-2,
        "max_iter": 1000,
        "tol": 1e-8,  # the losses are ~1e-4: the default tol would stop early
        "random_state": 0,
    }
    ours = NumpyMLPRegressor(**params).fit(X, y)
    theirs = MLPRegressor(**params).fit(X, y)

    def summed_objective(estimator):
        network = MLP(
            [X.shape[1], 8, y.shape[1]], "tanh", "identity", "squared_error", np.float64
        )
        network.set_weights(estimator.coefs_, estimator.intercepts_)
        loss = network.loss_and_gradient(X, y, None, params["alpha"])
        return loss, np.abs(network.grad).max()

    our_loss, our_grad_norm = summed_objective(ours)
    their_loss, _ = summed_objective(theirs)
    assert our_loss <= their_loss * (1 + 1e-9)
    assert our_grad_norm < 1e-4
    # loss_ is still reported as scikit-learn reports it: averaged over outputs.
    residual = y - ours.predict(X)
    penalty = 0.5 * params["alpha"] * sum((c**2).sum() for c in ours.coefs_)
    expected = 0.5 * np.mean(residual**2) + penalty / len(X)
    assert ours.loss_ == pytest.approx(expected, rel=1e-10)


def test_adam_schedules_differ_from_scikit_learn_on_purpose():
    """scikit-learn's Adam ignores learning_rate; sknumpynet's Adam follows
    the schedule (with the default "constant" both agree, as tested above)."""
    X, y, _, _ = _dataset("multiclass")
    params = {
        "hidden_layer_sizes": (15,),
        "activation": "tanh",
        "solver": "adam",
        "learning_rate": "invscaling",
        "learning_rate_init": 0.05,
        "max_iter": 3,
        "random_state": 0,
    }
    ours = NumpyMLPClassifier(**params).fit(X, y)
    theirs = MLPClassifier(**params).fit(X, y)
    constant = NumpyMLPClassifier(**{**params, "learning_rate": "constant"})
    constant.fit(X, y)
    assert_allclose(constant.loss_curve_, theirs.loss_curve_, rtol=0, atol=ATOL)
    assert ours.loss_curve_[0] == pytest.approx(theirs.loss_curve_[0], abs=ATOL)
    assert abs(ours.loss_curve_[-1] - theirs.loss_curve_[-1]) > 1e-6
    # The scheduled rate after the last epoch: learning_rate_init / (t + 1)^0.5.
    expected = 0.05 / (ours.t_ + 1) ** 0.5
    assert ours.history_[-1]["learning_rate"] == pytest.approx(
        0.05 / (ours.t_ - len(X) + 1) ** 0.5
    )
    assert ours._optimizer_state["base_learning_rate"] == pytest.approx(expected)
