"""What sknumpynet's estimators add to scikit-learn's MLP, each tested for effect.

class_weight, a validation set of one's own (with any scorer), early
stopping while streaming, best weights, history_, scikit-learn's callbacks,
per-layer and new activations, dropout, schedules for Adam, gradient
clipping; and every new parameter's default keeps scikit-learn's behaviour.

(The HiddenLayerFeatures transformer is tested in test_features.py, the
TrainingCurveDisplay in test_display.py.)
"""

import numpy as np
import pytest
import sklearn
from _helpers import (
    ESTIMATORS,
    SOLVERS,
    CountingCallback,
    assert_same_weights,
    digits,
    early_stopping_network,
    needs_callbacks,
    regression,
    split_digits,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import f1_score, get_scorer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._activations import HIDDEN_ACTIVATIONS
from sknumpynet._network import MLP

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _regression(n_samples=300):
    return regression(n_samples, n_features=8, noise=1.0, unit_target=True)


# ---------------------------------------------------------------------------
# class_weight
# ---------------------------------------------------------------------------

SMALL = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}


def test_class_weight_dict_equals_the_same_sample_weights():
    X, y = digits()
    weights = {label: 1.0 + label for label in range(10)}
    by_class = NumpyMLPClassifier(class_weight=weights, **SMALL).fit(X, y)
    by_sample = NumpyMLPClassifier(**SMALL).fit(
        X, y, sample_weight=np.array([weights[label] for label in y])
    )
    assert_same_weights(by_class, by_sample)
    assert by_class.loss_curve_ != NumpyMLPClassifier(**SMALL).fit(X, y).loss_curve_


def test_class_weight_balanced_multiplies_into_sample_weight():
    X, y = digits()
    y = np.where(y < 3, "few", "many")  # imbalanced, string labels
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    balanced = NumpyMLPClassifier(class_weight="balanced", **SMALL).fit(
        X, y, sample_weight=sample_weight
    )
    by_hand = NumpyMLPClassifier(**SMALL).fit(
        X, y, sample_weight=sample_weight * compute_sample_weight("balanced", y)
    )
    assert_same_weights(balanced, by_hand)


def test_class_weight_refusals_are_explained():
    X, y = digits()
    with pytest.raises(ValueError, match="partial_fit"):
        NumpyMLPClassifier(class_weight="balanced", **SMALL).partial_fit(
            X, y, classes=np.arange(10)
        )
    Y = np.column_stack([y % 2, y > 4])
    with pytest.raises(ValueError, match="multilabel"):
        NumpyMLPClassifier(class_weight={0: 1.0}, **SMALL).fit(X, Y)
    with pytest.raises(ValueError, match="class_weight"):
        NumpyMLPClassifier(class_weight="heavy", **SMALL).fit(X, y)
    # A dict is fine while streaming.
    est = NumpyMLPClassifier(class_weight={0: 5.0}, **SMALL)
    est.partial_fit(X, y, classes=np.arange(10))
    assert est.n_iter_ == 1


# ---------------------------------------------------------------------------
# A validation set of one's own; scoring
# ---------------------------------------------------------------------------


def test_user_validation_set_replaces_the_internal_split():
    X, y, X_val, y_val = split_digits()
    est = early_stopping_network(max_iter=60).fit(X, y, X_val=X_val, y_val=y_val)
    # Every training row was trained on: no validation_fraction held out.
    assert est.t_ == est.n_iter_ * len(X)
    assert len(est.validation_scores_) == est.n_iter_
    # The weights that come back are those of the best epoch, on X_val.
    assert est.score(X_val, y_val) == est.best_validation_score_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_validation_set_without_early_stopping_is_scored_and_remembered():
    X, y, X_val, y_val = split_digits()
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(16,), learning_rate_init=0.05, max_iter=30, random_state=0
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert len(est.validation_scores_) == est.n_iter_ == 30
    best = max(est.validation_scores_)
    # The last epoch need not be the best; restore_best_weights goes back.
    est.restore_best_weights()
    assert est.score(X_val, y_val) == best


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_scoring_loss_watches_the_validation_loss(Estimator):
    if Estimator is NumpyMLPClassifier:
        X, y, X_val, y_val = split_digits()
    else:
        X, y = _regression(400)
        X, y, X_val, y_val = X[:300], y[:300], X[300:], y[300:]
    est = early_stopping_network(Estimator, scoring="loss", max_iter=40)
    est.fit(X, y, X_val=X_val, y_val=y_val)
    val_losses = [entry["val_loss"] for entry in est.history_]
    assert_allclose(est.validation_scores_, -np.array(val_losses))
    # The restored weights are those of the lowest validation loss.
    assert est.best_validation_score_ == pytest.approx(-min(val_losses))


def test_any_scorer_can_judge_the_validation_set():
    X, y, X_val, y_val = split_digits()
    est = early_stopping_network(scoring="f1_macro", max_iter=40)
    est.fit(X, y, X_val=X_val, y_val=y_val)
    assert est.best_validation_score_ == pytest.approx(
        f1_score(y_val, est.predict(X_val), average="macro")
    )

    def balanced(estimator, X, y):
        return get_scorer("balanced_accuracy")(estimator, X, y)

    est.set_params(scoring=balanced).fit(X, y, X_val=X_val, y_val=y_val)
    assert est.best_validation_score_ == pytest.approx(balanced(est, X_val, y_val))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X_val": "X"}, "X_val and y_val must be given together"),
        ({"y_val": "y"}, "X_val and y_val must be given together"),
        ({"sample_weight_val": "w"}, "sample_weight_val"),
        ({"X_val": "X_wide", "y_val": "y"}, "features"),
        ({"X_val": "X", "y_val": "y_unknown"}, "y_val has classes"),
        ({"X_val": "X", "y_val": "y_short"}, "samples"),
    ],
)
def test_bad_validation_sets_are_explained(kwargs, message):
    X, y = digits(200)
    values = {
        "X": X,
        "y": y,
        "w": np.ones(len(y)),
        "X_wide": np.hstack([X, X]),
        "y_unknown": y + 100,
        "y_short": y[:-1],
    }
    est = NumpyMLPClassifier(**SMALL)
    with pytest.raises(ValueError, match=message):
        est.fit(X, y, **{key: values[name] for key, name in kwargs.items()})


def test_validation_set_is_routed_and_transformed_in_a_pipeline():
    X, y, X_val, y_val = split_digits()
    X, X_val = X * 16, X_val * 16  # unscaled: the scaler must see X_val too
    params = {
        "hidden_layer_sizes": (16,),
        "learning_rate_init": 0.01,
        "early_stopping": True,
        "max_iter": 20,
        "random_state": 0,
    }
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "mlp",
                    NumpyMLPClassifier(**params).set_fit_request(
                        X_val=True, y_val=True
                    ),
                ),
            ],
            transform_input=["X_val"],
        ).fit(X, y, X_val=X_val, y_val=y_val)
    scaler = StandardScaler().fit(X)
    by_hand = NumpyMLPClassifier(**params).fit(
        scaler.transform(X), y, X_val=scaler.transform(X_val), y_val=y_val
    )
    assert pipe[-1].validation_scores_ == by_hand.validation_scores_
    assert_same_weights(pipe[-1], by_hand)


# ---------------------------------------------------------------------------
# Early stopping while streaming
# ---------------------------------------------------------------------------


def test_partial_fit_with_validation_tells_when_to_stop():
    X, y, X_val, y_val = split_digits()
    est = early_stopping_network(learning_rate_init=0.05, n_iter_no_change=3)
    classes = np.unique(y)
    for calls in range(1, 200):
        chunk = slice((calls * 150) % 750, (calls * 150) % 750 + 150)
        est.partial_fit(X[chunk], y[chunk], classes=classes, X_val=X_val, y_val=y_val)
        if est.should_stop_:
            break
    assert est.should_stop_, "no stop signal in 200 calls"
    assert len(est.validation_scores_) == calls
    # The best weights came back with the signal.
    assert est.score(X_val, y_val) == est.best_validation_score_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_partial_fit_early_stopping_needs_a_validation_set():
    X, y = digits(200)
    est = NumpyMLPClassifier(early_stopping=True, **SMALL)
    with pytest.raises(ValueError, match="X_val"):
        est.partial_fit(X, y, classes=np.arange(10))


def test_partial_fit_without_early_stopping_never_restores():
    X, y, X_val, y_val = split_digits()
    est = NumpyMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=np.unique(y), X_val=X_val, y_val=y_val)
        assert est.should_stop_ is False
        before = [c.copy() for c in est.coefs_]
    est.partial_fit(X, y)  # streaming without validation data is fine too
    assert len(est.validation_scores_) == 3
    assert any((a != b).any() for a, b in zip(before, est.coefs_))


# ---------------------------------------------------------------------------
# Best weights without validation data; history_
# ---------------------------------------------------------------------------


def test_best_weights_without_validation_are_those_of_the_lowest_loss():
    X, y = digits()
    params = {
        "hidden_layer_sizes": (8,),
        "solver": "sgd",
        "learning_rate_init": 5.0,  # large: the loss goes up and down
        "n_iter_no_change": 100,
        "max_iter": 25,
        "random_state": 0,
    }
    est = NumpyMLPClassifier(**params).fit(X, y)
    best_epoch = int(np.argmin(est.loss_curve_)) + 1
    assert best_epoch < est.n_iter_, "the last epoch should not be the best here"
    # The best weights are those at the end of the epoch with the lowest
    # loss (the loss scikit-learn records is averaged over that epoch).
    reference = NumpyMLPClassifier(**{**params, "max_iter": best_epoch}).fit(X, y)
    assert_same_weights(est.restore_best_weights(), reference)


@pytest.mark.parametrize("solver", SOLVERS)
def test_history_records_every_epoch(solver):
    X, y, X_val, y_val = split_digits()
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(8,),
        solver=solver,
        learning_rate="invscaling" if solver == "sgd" else "constant",
        learning_rate_init=0.5 if solver == "sgd" else 0.01,
        max_iter=6,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    history = est.history_
    assert len(history) == est.n_iter_ == len(est.loss_curve_)
    assert [entry["epoch"] for entry in history] == list(range(1, est.n_iter_ + 1))
    assert_allclose([entry["loss"] for entry in history], est.loss_curve_)
    assert [entry["val_score"] for entry in history] == est.validation_scores_
    assert all(entry["val_loss"] > 0 and entry["time"] > 0 for entry in history)
    if solver == "lbfgs":
        assert all(entry["learning_rate"] is None for entry in history)
    elif solver == "sgd":
        # The rate used in epoch k: 0.5 / (t + 1) ** 0.5 with t samples seen.
        expected = [0.5] + [0.5 / (k * len(X) + 1) ** 0.5 for k in range(1, 6)]
        assert_allclose([entry["learning_rate"] for entry in history], expected)
    # A warm start continues the history.
    n_before = len(history)
    est.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert len(est.history_) == n_before + est.n_iter_
    assert "val_loss" not in est.history_[-1]


# ---------------------------------------------------------------------------
# scikit-learn's callbacks and verbose
# ---------------------------------------------------------------------------


@needs_callbacks
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_callbacks_see_one_task_per_epoch_and_can_stop(solver):
    X, y = digits(300)
    counter = CountingCallback()
    est = NumpyMLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=7)
    est.set_callbacks(counter).fit(X, y)
    assert counter.setups == counter.teardowns == 1
    assert counter.ends.count("epoch") >= est.n_iter_
    assert counter.ends[-1] == counter.begins[0] == "fit"

    stopper = CountingCallback(stop_at=3)
    est = NumpyMLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=50)
    est.set_callbacks(stopper).fit(X, y)
    assert est.n_iter_ == 3


@needs_callbacks
def test_scoring_monitor_and_progress_bar_follow_the_epochs():
    from sklearn.callback import ProgressBar, ScoringMonitor

    X, y = digits(300)
    monitor = ScoringMonitor(scoring="accuracy")
    callbacks = [monitor]
    try:
        callbacks.append(ProgressBar())
    except ImportError:  # ProgressBar needs rich
        pass
    est = NumpyMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    est.set_callbacks(*callbacks).fit(X, y)
    scores = [row["accuracy"] for row in monitor.get_logs().data if "accuracy" in row]
    assert len(scores) >= est.n_iter_
    assert scores[-1] == pytest.approx(est.score(X, y))


def test_verbose_prints_what_scikit_learn_prints(capsys):
    from sklearn.neural_network import MLPClassifier

    X, y = digits(300)
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "tanh",
        "solver": "sgd",
        "learning_rate_init": 0.1,
        "early_stopping": True,
        "max_iter": 15,
        "n_iter_no_change": 2,
        "verbose": True,
        "random_state": 0,
    }
    NumpyMLPClassifier(**params).fit(X, y)
    ours = capsys.readouterr().out
    MLPClassifier(**params).fit(X, y)
    theirs = capsys.readouterr().out
    assert "Validation score" in ours
    assert ours == theirs


# ---------------------------------------------------------------------------
# Activations per layer, new activations
# ---------------------------------------------------------------------------


def test_one_activation_per_hidden_layer():
    X, y = digits()
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(10, 6, 4),
        activation=["relu", "softplus", "elu"],
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    a = X
    for W, b, name in zip(est.coefs_, est.intercepts_, ["relu", "softplus", "elu"]):
        a = HIDDEN_ACTIVATIONS[name][0](a @ W + b)
    logits = a @ est.coefs_[-1] + est.intercepts_[-1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(est.predict_proba(X), expected, rtol=1e-12)
    # A uniform list is the same network as the single name.
    same = NumpyMLPClassifier(
        hidden_layer_sizes=(10, 6, 4),
        activation=["tanh"] * 3,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    single = NumpyMLPClassifier(
        hidden_layer_sizes=(10, 6, 4), activation="tanh", max_iter=3, random_state=0
    ).fit(X, y)
    assert_same_weights(same, single)


def test_glorot_bound_follows_each_layers_activation():
    X, y = digits(100)
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(10, 6),
        activation=["logistic", "relu"],
        max_iter=1,
        learning_rate_init=1e-12,
        random_state=0,
    ).fit(X, y)
    bounds = [np.abs(c).max() for c in est.coefs_]
    assert bounds[0] <= np.sqrt(2 / (64 + 10))  # logistic units: factor 2
    assert bounds[0] > np.sqrt(2 / (64 + 10)) * 0.9
    assert bounds[1] > np.sqrt(2 / (10 + 6))  # relu units: factor 6


@pytest.mark.parametrize(
    "activation, message",
    [(["relu"], "2 hidden layers"), (["relu", "swish"], "swish"), ([1, 2], "1")],
)
def test_bad_activation_lists_are_explained(activation, message):
    X, y = digits(100)
    with pytest.raises(ValueError, match=message):
        NumpyMLPClassifier(hidden_layer_sizes=(4, 4), activation=activation).fit(X, y)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "softplus"])
def test_new_activations_learn(activation):
    X, y = digits()
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(32,),
        activation=activation,
        learning_rate_init=0.01,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    assert est.score(X, y) > 0.9


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------


def test_dropout_is_reproducible_and_only_at_training():
    X, y = digits()
    params = {"hidden_layer_sizes": (32, 16), "dropout": [0.5, 0.2], "max_iter": 5}
    a = NumpyMLPClassifier(**params, random_state=0).fit(X, y)
    b = NumpyMLPClassifier(**params, random_state=0).fit(X, y)
    assert_same_weights(a, b)
    c = NumpyMLPClassifier(**params, random_state=1).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    without = NumpyMLPClassifier(**{**params, "dropout": 0.0}, random_state=0)
    assert without.fit(X, y).loss_curve_ != a.loss_curve_
    # Prediction uses the whole network, deterministically.
    assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_dropout_masks_drop_the_right_share_and_keep_the_expectation():
    network = MLP(
        [4, 2000, 3, 2], "relu", "softmax", "log_loss", np.float64, dropout=[0.3, 0.0]
    )
    masks = network._dropout_masks(np.random.default_rng(0), 500)
    assert masks[1] is None
    dropped = np.mean(masks[0] == 0)
    assert dropped == pytest.approx(0.3, abs=0.01)
    assert masks[0].mean() == pytest.approx(1.0, abs=0.01)
    assert set(np.unique(masks[0])) == {0.0, 1 / 0.7}


def test_gradient_with_fixed_dropout_masks_matches_finite_differences():
    rng = np.random.default_rng(0)
    network = MLP(
        [5, 6, 4, 3], "tanh", "softmax", "log_loss", np.float64, dropout=[0.5, 0.25]
    )
    network.initialize(np.random.RandomState(0))
    X = rng.normal(size=(7, 5))
    y = np.eye(3, dtype=bool)[rng.integers(0, 3, 7)]
    masks = network._dropout_masks(rng, 7)
    network.loss_and_gradient(X, y, None, 1e-3, masks=masks)
    grad = network.grad.copy()
    step = 1e-6
    numeric = np.empty_like(grad)
    for j in range(grad.size):
        original = network.params[j]
        network.params[j] = original + step
        up = network.loss_and_gradient(X, y, None, 1e-3, masks=masks)
        network.params[j] = original - step
        down = network.loss_and_gradient(X, y, None, 1e-3, masks=masks)
        network.params[j] = original
        numeric[j] = (up - down) / (2 * step)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_bad_dropout_is_explained():
    X, y = digits(100)
    with pytest.raises(ValueError, match="dropout"):
        NumpyMLPClassifier(hidden_layer_sizes=(4,), dropout=[0.1, 0.2]).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        NumpyMLPClassifier(dropout=1.0).fit(X, y)


# ---------------------------------------------------------------------------
# Learning-rate schedules for Adam; gradient clipping
# ---------------------------------------------------------------------------


def test_adam_adaptive_schedule_divides_instead_of_stopping():
    X, y = digits()
    params = {
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.05,
        "n_iter_no_change": 2,
        "tol": 1e-2,
        "max_iter": 60,
        "random_state": 0,
    }
    constant = NumpyMLPClassifier(**params).fit(X, y)
    adaptive = NumpyMLPClassifier(**params, learning_rate="adaptive").fit(X, y)
    assert adaptive.n_iter_ > constant.n_iter_
    rates = [entry["learning_rate"] for entry in adaptive.history_]
    assert rates[0] == 0.05 and min(rates) == pytest.approx(
        0.05 / 5 ** round(np.log(0.05 / min(rates)) / np.log(5))
    )
    assert min(rates) < 0.05


def test_gradient_clipping_bounds_each_step():
    X, y = _regression()
    params = {
        "hidden_layer_sizes": (16,),
        "solver": "sgd",
        "momentum": 0.0,
        "learning_rate_init": 0.1,
        "batch_size": 50,
        "max_iter": 1,
        "shuffle": False,
        "random_state": 0,
    }
    start = NumpyMLPRegressor(**{**params, "learning_rate_init": 1e-300}).fit(X, y)
    clipped = NumpyMLPRegressor(**params, max_grad_norm=1e-3).fit(X, y)
    free = NumpyMLPRegressor(**params).fit(X, y)

    def moved(est):
        flat = np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])
        origin = np.concatenate([a.ravel() for a in start.coefs_ + start.intercepts_])
        return np.linalg.norm(flat - origin)

    n_steps = len(X) // 50
    assert moved(clipped) <= n_steps * 0.1 * 1e-3 * (1 + 1e-6)
    assert moved(free) > 10 * moved(clipped)


def test_clip_gradient_rescales_to_the_norm():
    network = MLP([3, 4, 1], "tanh", "identity", "squared_error", np.float64)
    network.grad[...] = np.arange(network.grad.size, dtype=float)
    network._clip_gradient(2.0)
    assert np.linalg.norm(network.grad) == pytest.approx(2.0)
    network._clip_gradient(5.0)  # already within: unchanged
    assert np.linalg.norm(network.grad) == pytest.approx(2.0)


# ---------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------


def test_features_leave_defaults_unchanged():
    """Every new parameter's default keeps scikit-learn's behaviour."""
    from sklearn.neural_network import MLPClassifier

    X, y = digits()
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "logistic",
        "max_iter": 5,
        "random_state": 0,
    }
    ours = NumpyMLPClassifier(**params).fit(X, y)
    theirs = MLPClassifier(**params).fit(X, y)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=1e-12)
    for mine, reference in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(mine, reference, rtol=0, atol=1e-12)
